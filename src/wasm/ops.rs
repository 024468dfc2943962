//! The ONNX integer ops, `qlinearConv` and `qlinearMatMul`, for checking against onnxruntime.

use super::convert::*;
use super::model::JsResult;
use crate::quant::Dtype;
use crate::{Error, Result};
use js_sys::{Array, Int32Array, Object};
use wasm_bindgen::prelude::*;

fn qlinear_result(out: crate::api::QLinearOutput, dtype: Dtype) -> Result<Object> {
    let o = Object::new();
    set(&o, "y", &typed(&out.y, dtype))?;
    set(&o, "acc", &Int32Array::from(&out.acc[..]))?;
    set(
        &o,
        "shape",
        &out.shape
            .iter()
            .map(|&d| JsValue::from(d as u32))
            .collect::<Array>(),
    )?;
    Ok(o)
}

/// ONNX QLinearConv (NCHW, group 1, stride 1): inputs in ONNX order; `options.xShape`,
/// `options.wShape`, `options.strides` and `options.pads`: ONNX's `[top, left, bottom, right]`, or one number for
/// every side (default 0). Returns `{ y, acc, shape }`, with `acc` the
/// exact int32 accumulators before requantization.
#[wasm_bindgen(js_name = qlinearConv)]
#[allow(clippy::too_many_arguments)]
pub fn qlinear_conv_js(
    x: JsValue,
    x_scale: JsValue,
    x_zero_point: JsValue,
    w: JsValue,
    w_scale: JsValue,
    w_zero_point: JsValue,
    y_scale: JsValue,
    y_zero_point: JsValue,
    bias: JsValue,
    options: JsValue,
) -> JsResult<Object> {
    let (xv, x_dtype) = int_array(&x, "x")?;
    let (wv, w_dtype) = int_array(&w, "w")?;
    if w_dtype != Dtype::Int8 {
        return Err(Error::new("w", "must be an Int8Array (int8 weights)").into());
    }
    let o = Opts::new(&options, &["xShape", "wShape", "pads", "strides"])?;
    let (xs, ws) = (o.required_dims("xShape")?, o.required_dims("wShape")?);
    let b = if bias.is_undefined() || bias.is_null() {
        None
    } else {
        Some(i32s(&bias, "bias")?)
    };
    let (w_scale, w_zp) = (
        f32s(&w_scale, "wScale")?,
        i32s(&w_zero_point, "wZeroPoint")?,
    );
    let out = crate::api::qlinear_conv(&crate::api::QLinearConvArgs {
        x: &xv,
        x_shape: &xs,
        x_dtype,
        x_scale: one_f32(&x_scale, "xScale")?,
        x_zero_point: one_i32(&x_zero_point, "xZeroPoint")?,
        w: &wv,
        w_shape: &ws,
        w_scale: &w_scale,
        w_zero_point: &w_zp,
        y_scale: one_f32(&y_scale, "yScale")?,
        y_zero_point: one_i32(&y_zero_point, "yZeroPoint")?,
        bias: b.as_deref(),
        pads: pads(&o)?,
        stride: stride(&o)?,
    })?;
    Ok(qlinear_result(out, x_dtype)?)
}

/// `options.strides`: one number or ONNX's `[along H, along W]`, equal (default 1).
fn stride(o: &Opts) -> Result<usize> {
    match o.get("strides")? {
        None => Ok(1),
        Some(v) if v.as_f64().is_some() => Ok(o.u32("strides")?.unwrap_or(1) as usize),
        Some(_) => match o.required_dims("strides")?[..] {
            [a, b] if a == b => Ok(a),
            ref d => Err(Error::new(
                "options.strides",
                format!("must be one number or two equal ones [s, s], found {d:?}"),
            )),
        },
    }
}

/// `options.pads`: one number, or ONNX's four `[top, left, bottom, right]`.
fn pads(o: &Opts) -> Result<[usize; 4]> {
    match o.get("pads")? {
        None => Ok([0; 4]),
        Some(v) if v.as_f64().is_some() => Ok([o.u32("pads")?.unwrap_or(0) as usize; 4]),
        Some(_) => {
            let d = o.required_dims("pads")?;
            <[usize; 4]>::try_from(&d[..]).map_err(|_| {
                Error::new(
                    "options.pads",
                    format!(
                        "must be one number or four [top, left, bottom, right], found {} values",
                        d.len()
                    ),
                )
            })
        }
    }
}

/// ONNX QLinearMatMul: `a [..., N, K]` (int8 or uint8) times `b [..., K, M]` (int8, per tensor or per
/// column); `options.aShape`, `options.bShape`. Returns `{ y, acc, shape }`.
#[wasm_bindgen(js_name = qlinearMatMul)]
#[allow(clippy::too_many_arguments)]
pub fn qlinear_matmul_js(
    a: JsValue,
    a_scale: JsValue,
    a_zero_point: JsValue,
    b: JsValue,
    b_scale: JsValue,
    b_zero_point: JsValue,
    y_scale: JsValue,
    y_zero_point: JsValue,
    options: JsValue,
) -> JsResult<Object> {
    let (av, a_dtype) = int_array(&a, "a")?;
    let (bv, b_dtype) = int_array(&b, "b")?;
    if b_dtype != Dtype::Int8 {
        return Err(Error::new("b", "must be an Int8Array (int8 weights)").into());
    }
    let o = Opts::new(&options, &["aShape", "bShape"])?;
    let (as_, bs) = (o.required_dims("aShape")?, o.required_dims("bShape")?);
    let (b_scale, b_zp) = (
        f32s(&b_scale, "bScale")?,
        i32s(&b_zero_point, "bZeroPoint")?,
    );
    let out = crate::api::qlinear_matmul(&crate::api::QLinearMatMulArgs {
        a: &av,
        a_shape: &as_,
        a_dtype,
        a_scale: one_f32(&a_scale, "aScale")?,
        a_zero_point: one_i32(&a_zero_point, "aZeroPoint")?,
        b: &bv,
        b_shape: &bs,
        b_scale: &b_scale,
        b_zero_point: &b_zp,
        y_scale: one_f32(&y_scale, "yScale")?,
        y_zero_point: one_i32(&y_zero_point, "yZeroPoint")?,
    })?;
    Ok(qlinear_result(out, a_dtype)?)
}
