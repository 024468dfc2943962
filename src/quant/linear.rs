//! QuantizeLinear and DequantizeLinear (ONNX opset 21), per tensor, per axis and blocked.

use super::layout::{Layout, Spec};
use super::{Dtype, QuantParams};
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

/// Quantizes `x` into `out` with parameters laid out by `layout` (per tensor, per axis or
/// blocked), saturating to `[qmin, qmax]`.
pub fn quantize_into(
    x: &[f32],
    params: &QuantParams,
    layout: &Layout,
    (qmin, qmax): (i32, i32),
    out: &mut [i32],
) {
    debug_assert_eq!(x.len(), out.len());
    layout.map(x, &params.scale, &params.zero_point, out, |v, s, z| {
        quantize_value(v, s, z, qmin, qmax)
    });
}

/// Dequantizes `q` into `out` with parameters laid out by `layout`.
pub fn dequantize_into(q: &[i32], params: &QuantParams, layout: &Layout, out: &mut [f32]) {
    debug_assert_eq!(q.len(), out.len());
    layout.map(q, &params.scale, &params.zero_point, out, dequantize_value);
}

/// The ops' options: ONNX's shape, axis (default 1) and block size, checked against the data and
/// the number of scales.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpLayout<'a> {
    pub shape: Option<&'a [usize]>,
    pub axis: Option<i64>,
    pub block_size: Option<usize>,
}

impl<'a> OpLayout<'a> {
    /// Per tensor or per axis, as opset 13 has it.
    pub fn axis(shape: Option<&'a [usize]>, axis: Option<i64>) -> Self {
        OpLayout {
            shape,
            axis,
            block_size: None,
        }
    }
}

fn resolve(params: &mut QuantParams, o: OpLayout, len: usize) -> Result<Layout> {
    let layout = Layout::resolve(
        len,
        Spec {
            shape: o.shape,
            axis: o.axis,
            block_size: o.block_size,
            params: Some(params.scale.len()),
            default_axis: Some(1),
            prefix: "",
        },
    )?;
    params.axis = layout.axis_index();
    Ok(layout)
}

/// ONNX QuantizeLinear: saturates to the full range of `dtype`.
pub fn quantize_linear(
    x: &[f32],
    mut params: QuantParams,
    dtype: Dtype,
    o: OpLayout,
) -> Result<Vec<i32>> {
    params.validate(dtype)?;
    // ±inf saturate as ONNX says; NaN has no integer, and a silent 0 would hide it.
    if let Some(i) = x.iter().position(|v| v.is_nan()) {
        crate::bail!(
            "x",
            "element {i} is NaN: QuantizeLinear has no integer for it"
        );
    }
    let layout = resolve(&mut params, o, x.len())?;
    let mut out = vec![0; x.len()];
    quantize_into(x, &params, &layout, dtype.range(), &mut out);
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
    let (scale, z) = dynamic_params(x, 255);
    let y = x
        .iter()
        .map(|&v| quantize_value(v, scale, z, 0, 255) as u8)
        .collect();
    Ok((y, scale, z as u8))
}

/// DynamicQuantizeLinear's parameters on a `[0, qmax]` grid (qmax = 255 is the op's), in float32:
/// `s = (max(0, max x) − min(0, min x)) / qmax` (1 for an all-zero x), `z = round_half_even(clamp(−min / s, 0, qmax))`.
pub fn dynamic_params(x: &[f32], qmax: i32) -> (f32, i32) {
    let lo = x.iter().fold(0.0f32, |m, &v| m.min(v));
    let hi = x.iter().fold(0.0f32, |m, &v| m.max(v));
    let scale = if hi == lo {
        1.0
    } else {
        (hi - lo) / qmax as f32
    };
    let z = (0.0 - lo / scale).clamp(0.0, qmax as f32).round_ties_even() as i32;
    (scale, z)
}

/// ONNX DequantizeLinear. Values outside `dtype`'s range are an error.
pub fn dequantize_linear(
    q: &[i32],
    mut params: QuantParams,
    dtype: Dtype,
    o: OpLayout,
) -> Result<Vec<f32>> {
    params.validate(dtype)?;
    if dtype == Dtype::Int32 && params.zero_point.iter().any(|&z| z != 0) {
        crate::bail!(
            "zeroPoint",
            "must be 0 for int32 input (ONNX DequantizeLinear)"
        );
    }
    let layout = resolve(&mut params, o, q.len())?;
    let mut out = vec![0.0; q.len()];
    dequantize_into(q, &params, &layout, &mut out);
    Ok(out)
}
