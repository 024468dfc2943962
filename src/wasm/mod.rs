//! The JS boundary: the only module that knows about wasm-bindgen. Every export converts JS values
//! into core types (with errors that name the argument), calls `api`/`quant`, and converts back.
//! No export unwraps: a Rust error becomes a JS `Error` whose message is its `Display` text.

use crate::api::{self, QuantOptions};
use crate::quant::calibrate::Method;
use crate::quant::linear::{dequantize_linear, quantize_linear, OpLayout};
use crate::quant::{Dtype, QuantParams, Scheme};
use crate::{bail, Error, Result};

mod convert;
mod kernels;
mod lab;
mod model;
// Exports the page never calls (the ONNX ops): see docs/size.md.
#[cfg(feature = "full")]
mod ops;
mod timing;
mod train;

use convert::*;
#[cfg(feature = "full")]
use js_sys::Object;
use js_sys::{Float32Array, Int32Array, Int8Array, Uint8Array};
pub use kernels::*;
pub use lab::*;
pub use model::*;
#[cfg(feature = "full")]
pub use ops::*;
pub use train::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The crate version, for the page footer and bug reports.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// ONNX QuantizeLinear. `scale` of length 1 means per tensor, otherwise per axis
/// (`options.axis`, default 1, with `options.shape`).
#[wasm_bindgen(js_name = quantizeLinear)]
pub fn quantize_linear_js(
    x: JsValue,
    scale: JsValue,
    zero_point: JsValue,
    options: JsValue,
) -> std::result::Result<JsValue, JsError> {
    let x = f32s(&x, "x")?;
    let o = Opts::new(&options, &["dtype", "axis", "shape", "blockSize"])?;
    let dtype = Dtype::parse(
        &o.str("dtype")?.unwrap_or_else(|| "int8".into()),
        "options.dtype",
    )?;
    let params = QuantParams {
        scale: f32s(&scale, "scale")?,
        zero_point: i32s(&zero_point, "zeroPoint")?,
        axis: None,
    };
    let shape = o.shape()?;
    let q = quantize_linear(&x, params, dtype, op_layout(&o, shape.as_deref())?)?;
    Ok(match dtype {
        Dtype::Uint8 => {
            Uint8Array::from(&q.iter().map(|&v| v as u8).collect::<Vec<_>>()[..]).into()
        }
        _ => Int8Array::from(&q.iter().map(|&v| v as i8).collect::<Vec<_>>()[..]).into(),
    })
}

/// ONNX DynamicQuantizeLinear: `{ y: Uint8Array, scale, zeroPoint }`, the parameters computed
/// from `x` itself at run time (as onnxruntime 1.32 does).
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = dynamicQuantizeLinear)]
pub fn dynamic_quantize_linear_js(x: JsValue) -> std::result::Result<Object, JsError> {
    let x = f32s(&x, "x")?;
    let (y, scale, z) = crate::quant::linear::dynamic_quantize_linear(&x)?;
    let out = Object::new();
    set(&out, "y", &Uint8Array::from(&y[..]).into())?;
    set(&out, "scale", &scale.into())?;
    set(&out, "zeroPoint", &(z as u32).into())?;
    Ok(out)
}

/// `f` on every value of the numbers `x`, as a Float32Array.
#[cfg(feature = "full")]
fn map_f32s(x: &JsValue, f: fn(f32) -> f32) -> std::result::Result<Float32Array, JsError> {
    let y: Vec<f32> = f32s(x, "x")?.into_iter().map(f).collect();
    Ok(Float32Array::from(&y[..]))
}

/// `x` rounded to the nearest float16, as ONNX Cast float32 -> FLOAT16 -> float32 computes it
/// (ties to even, overflow to infinity, float16 subnormals): a Float32Array.
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = roundToFloat16)]
pub fn round_to_float16_js(x: JsValue) -> std::result::Result<Float32Array, JsError> {
    map_f32s(&x, crate::quant::float::round_to_f16)
}

/// `x` rounded to the nearest bfloat16 (ties to even), as ONNX Cast float32 -> BFLOAT16 ->
/// float32 computes it: a Float32Array.
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = roundToBfloat16)]
pub fn round_to_bfloat16_js(x: JsValue) -> std::result::Result<Float32Array, JsError> {
    map_f32s(&x, crate::quant::float::round_to_bf16)
}

/// ONNX DequantizeLinear. The dtype follows the array type: Int8Array, Uint8Array or Int32Array.
#[wasm_bindgen(js_name = dequantizeLinear)]
pub fn dequantize_linear_js(
    q: JsValue,
    scale: JsValue,
    zero_point: JsValue,
    options: JsValue,
) -> std::result::Result<Float32Array, JsError> {
    let (q, dtype): (Vec<i32>, Dtype) = if let Some(a) = q.dyn_ref::<Int8Array>() {
        (a.to_vec().into_iter().map(i32::from).collect(), Dtype::Int8)
    } else if let Some(a) = q.dyn_ref::<Uint8Array>() {
        (
            a.to_vec().into_iter().map(i32::from).collect(),
            Dtype::Uint8,
        )
    } else if let Some(a) = q.dyn_ref::<Int32Array>() {
        (a.to_vec(), Dtype::Int32)
    } else {
        return Err(Error::new("q", "must be an Int8Array, a Uint8Array or an Int32Array").into());
    };
    let o = Opts::new(&options, &["axis", "shape", "dtype", "blockSize"])?;
    if let Some(name) = o.str("dtype")? {
        if name != dtype.name() {
            bail_js(
                "options.dtype",
                format!("is \"{name}\" but q is an array of {}", dtype.name()),
            )?;
        }
    }
    let params = QuantParams {
        scale: f32s(&scale, "scale")?,
        zero_point: i32s(&zero_point, "zeroPoint")?,
        axis: None,
    };
    let shape = o.shape()?;
    let x = dequantize_linear(&q, params, dtype, op_layout(&o, shape.as_deref())?)?;
    Ok(Float32Array::from(&x[..]))
}

/// `shape`, `axis` and `blockSize` of an op's options (ONNX opset 21).
fn op_layout<'a>(o: &Opts, shape: Option<&'a [usize]>) -> Result<OpLayout<'a>> {
    Ok(OpLayout {
        shape,
        axis: o.i64("axis")?,
        block_size: o.u32("blockSize")?.map(|b| b as usize),
    })
}

const QUANT_KEYS: [&str; 8] = [
    "scheme",
    "dtype",
    "bits",
    "method",
    "percentile",
    "shape",
    "axis",
    "blockSize",
];

fn quant_options(o: &Opts) -> Result<QuantOptions> {
    let Some(scheme) = o.str("scheme")? else {
        bail!(
            "options.scheme",
            "is required: \"symmetric\" or \"asymmetric\""
        )
    };
    let Some(dtype) = o.str("dtype")? else {
        bail!("options.dtype", "is required: \"int8\" or \"uint8\"")
    };
    let scheme = Scheme::parse(&scheme, "options.scheme")?;
    let dtype = Dtype::parse(&dtype, "options.dtype")?;
    let bits = o.u32("bits")?.unwrap_or(8);
    let method = Method::parse(
        &o.str("method")?.unwrap_or_else(|| "minmax".into()),
        o.f64("percentile")?,
    )?;
    let mut q = QuantOptions::new(dtype, bits, scheme, method)
        .map_err(|e| Error::new(format!("options.{}", e.subject), e.message))?;
    q.shape = o.shape()?;
    q.axis = o.i64("axis")?;
    q.block_size = o.u32("blockSize")?.map(|b| b as usize);
    Ok(q)
}

/// Calibrates `x` and returns `{ scale: Float32Array, zeroPoint: Int32Array, axis }`.
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = chooseQuantParams)]
pub fn choose_quant_params_js(
    x: JsValue,
    options: JsValue,
) -> std::result::Result<Object, JsError> {
    let x = f32s(&x, "x")?;
    let o = Opts::new(&options, &QUANT_KEYS)?;
    let (p, layout) = api::choose_quant_params(&x, &quant_options(&o)?)?;
    let out = Object::new();
    set(&out, "scale", &Float32Array::from(&p.scale[..]))?;
    set(&out, "zeroPoint", &Int32Array::from(&p.zero_point[..]))?;
    set(
        &out,
        "axis",
        &p.axis.map_or(JsValue::NULL, |a| JsValue::from(a as u32)),
    )?;
    let shape: Vec<u32> = layout.param_shape().iter().map(|&d| d as u32).collect();
    set(&out, "shape", &js_sys::Uint32Array::from(&shape[..]))?;
    set(
        &out,
        "blockSize",
        &layout
            .block_size()
            .map_or(JsValue::NULL, |b| JsValue::from(b as u32)),
    )?;
    Ok(out)
}

/// Statistics and histograms of `x` quantized with calibrated (or given) parameters.
#[wasm_bindgen(js_name = analyzeQuantization)]
pub fn analyze_quantization_js(
    x: JsValue,
    options: JsValue,
) -> std::result::Result<JsValue, JsError> {
    let x = f32s(&x, "x")?;
    let keys: Vec<&str> = QUANT_KEYS
        .iter()
        .copied()
        .chain(["bins", "channel", "scale", "zeroPoint"])
        .collect();
    let o = Opts::new(&options, &keys)?;
    let opts = quant_options(&o)?;
    let params = match (o.get("scale")?, o.get("zeroPoint")?) {
        (None, None) => None,
        (Some(s), Some(z)) => Some(QuantParams {
            scale: f32s(&s, "options.scale")?,
            zero_point: i32s(&z, "options.zeroPoint")?,
            axis: None,
        }),
        _ => bail_js(
            "options.scale",
            "and options.zeroPoint must be given together".into(),
        )?,
    };
    let bins = o.u32("bins")?.unwrap_or(64) as usize;
    let channel = o.u32("channel")?.unwrap_or(0) as usize;
    let a = api::analyze_quantization(&x, &opts, params, bins, channel)?;
    Ok(serde_wasm_bindgen::to_value(&a)?)
}
