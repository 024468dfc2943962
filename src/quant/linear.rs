//! QuantizeLinear and DequantizeLinear (ONNX opset 13+), per tensor and per axis.

use super::{AxisLayout, Dtype, QuantParams};
use crate::Result;

/// `q = saturate(round_half_to_even(x / s) + z)`, saturating to `[qmin, qmax]`.
///
/// The division is float32 (`x * (1/s)` is not bit-exact), rounding happens before `z` is added,
/// and the clamp happens in float before the integer cast so that `x / s = ±inf` (or anything
/// beyond i32) saturates instead of wrapping. NaN maps to `z` (ONNX leaves it unspecified).
#[inline]
pub fn quantize_value(x: f32, scale: f32, zero_point: i32, qmin: i32, qmax: i32) -> i32 {
    let r = (x / scale).round_ties_even();
    let lo = (qmin - zero_point) as f32;
    let hi = (qmax - zero_point) as f32;
    // Saturate in float: ±inf and huge quotients clamp before the cast. NaN would otherwise
    // become `lo` (f32::max ignores NaN), so send it to the zero point explicitly.
    let r = if r.is_nan() { 0.0 } else { r.max(lo).min(hi) };
    r as i32 + zero_point
}

/// `x̂ = (q − z)·s` in float32, the subtraction in int32 first (as onnxruntime does).
#[inline]
pub fn dequantize_value(q: i32, scale: f32, zero_point: i32) -> f32 {
    (q.wrapping_sub(zero_point)) as f32 * scale
}

/// Quantizes `x` with per-tensor or per-axis parameters into `out`, saturating to `[qmin, qmax]`.
/// `layout` is required when `params` has more than one scale.
pub fn quantize_into(
    x: &[f32],
    params: &QuantParams,
    layout: Option<AxisLayout>,
    (qmin, qmax): (i32, i32),
    out: &mut [i32],
) {
    debug_assert_eq!(x.len(), out.len());
    match layout {
        Some(l) if params.scale.len() > 1 || params.axis.is_some() => {
            for (r, (xs, os)) in x
                .chunks(l.inner.max(1))
                .zip(out.chunks_mut(l.inner.max(1)))
                .enumerate()
            {
                let c = r % l.channels;
                let (s, z) = (params.scale[c], params.zero_point[c]);
                for (o, &v) in os.iter_mut().zip(xs) {
                    *o = quantize_value(v, s, z, qmin, qmax);
                }
            }
        }
        _ => {
            let (s, z) = (params.scale[0], params.zero_point[0]);
            for (o, &v) in out.iter_mut().zip(x) {
                *o = quantize_value(v, s, z, qmin, qmax);
            }
        }
    }
}

/// Dequantizes `q` into `out` with per-tensor or per-axis parameters.
pub fn dequantize_into(
    q: &[i32],
    params: &QuantParams,
    layout: Option<AxisLayout>,
    out: &mut [f32],
) {
    debug_assert_eq!(q.len(), out.len());
    match layout {
        Some(l) if params.scale.len() > 1 || params.axis.is_some() => {
            for (r, (qs, os)) in q
                .chunks(l.inner.max(1))
                .zip(out.chunks_mut(l.inner.max(1)))
                .enumerate()
            {
                let c = r % l.channels;
                let (s, z) = (params.scale[c], params.zero_point[c]);
                for (o, &v) in os.iter_mut().zip(qs) {
                    *o = dequantize_value(v, s, z);
                }
            }
        }
        _ => {
            let (s, z) = (params.scale[0], params.zero_point[0]);
            for (o, &v) in out.iter_mut().zip(q) {
                *o = dequantize_value(v, s, z);
            }
        }
    }
}

/// Resolves how `params` apply to a tensor of `len` values: per tensor when there is one scale
/// and no shape was given, per axis otherwise (ONNX: default axis 1).
pub fn resolve_layout(
    params: &mut QuantParams,
    shape: Option<&[usize]>,
    axis: Option<i64>,
    len: usize,
) -> Result<Option<AxisLayout>> {
    if params.scale.len() == 1 && axis.is_none() {
        if let Some(shape) = shape {
            let n = super::checked_numel(shape)?;
            if n != len {
                crate::bail!(
                    "shape",
                    "{shape:?} holds {n} elements but the data has {len}"
                );
            }
        }
        params.axis = None;
        return Ok(None);
    }
    let shape_owned;
    let shape = match shape {
        Some(s) => s,
        None => {
            if let Some(a) = axis.filter(|&a| a != 0 && a != -1) {
                crate::bail!(
                    "shape",
                    "is required for per-axis parameters along axis {a}"
                );
            }
            // A flat tensor: per-element parameters along its only axis.
            shape_owned = [len];
            &shape_owned[..]
        }
    };
    let (a, layout) = AxisLayout::new(shape, axis.unwrap_or(1), len)?;
    if params.scale.len() != layout.channels {
        crate::bail!(
            "scale",
            "has {} elements but axis {a} of shape {shape:?} has {} channels",
            params.scale.len(),
            layout.channels
        );
    }
    params.axis = Some(a);
    Ok(Some(layout))
}

/// ONNX QuantizeLinear: saturates to the full range of `dtype`.
pub fn quantize_linear(
    x: &[f32],
    mut params: QuantParams,
    dtype: Dtype,
    shape: Option<&[usize]>,
    axis: Option<i64>,
) -> Result<Vec<i32>> {
    params.validate(dtype)?;
    // ±inf saturate as ONNX says; NaN has no integer, and a silent 0 would hide it.
    if let Some(i) = x.iter().position(|v| v.is_nan()) {
        crate::bail!(
            "x",
            "element {i} is NaN: QuantizeLinear has no integer for it"
        );
    }
    let layout = resolve_layout(&mut params, shape, axis, x.len())?;
    let mut out = vec![0; x.len()];
    quantize_into(x, &params, layout, dtype.range(), &mut out);
    Ok(out)
}

/// ONNX DynamicQuantizeLinear (uint8 output), computed as onnxruntime 1.32 does, in float32:
///
/// ```text
/// lo = min(0, min x),  hi = max(0, max x)         the range contains 0
/// s  = (hi - lo) / 255,  or 1 when hi == lo      (an all-zero input)
/// z  = round_half_even(clamp(0 - lo / s, 0, 255))
/// y  = saturate(round_half_even(x / s) + z)      QuantizeLinear with (s, z)
/// ```
/// Returns `(y, s, z)`. A NaN or an infinity in `x` is an error naming its index.
pub fn dynamic_quantize_linear(x: &[f32]) -> Result<(Vec<u8>, f32, u8)> {
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        crate::bail!(
            "x",
            "element {i} is {}: DynamicQuantizeLinear needs finite values",
            x[i]
        );
    }
    let lo = x.iter().fold(0.0f32, |m, &v| m.min(v));
    let hi = x.iter().fold(0.0f32, |m, &v| m.max(v));
    let scale = if hi == lo { 1.0 } else { (hi - lo) / 255.0 };
    let z = (0.0 - lo / scale).clamp(0.0, 255.0).round_ties_even() as i32;
    let y = x
        .iter()
        .map(|&v| quantize_value(v, scale, z, 0, 255) as u8)
        .collect();
    Ok((y, scale, z as u8))
}

/// ONNX DequantizeLinear. Values outside `dtype`'s range are an error.
pub fn dequantize_linear(
    q: &[i32],
    mut params: QuantParams,
    dtype: Dtype,
    shape: Option<&[usize]>,
    axis: Option<i64>,
) -> Result<Vec<f32>> {
    params.validate(dtype)?;
    if dtype == Dtype::Int32 && params.zero_point.iter().any(|&z| z != 0) {
        crate::bail!(
            "zeroPoint",
            "must be 0 for int32 input (ONNX DequantizeLinear)"
        );
    }
    let layout = resolve_layout(&mut params, shape, axis, q.len())?;
    let mut out = vec![0.0; q.len()];
    dequantize_into(q, &params, layout, &mut out);
    Ok(out)
}
