//! Choosing `(scale, zero_point)` from a real range, as ONNX Runtime 1.32's
//! `onnxruntime.quantization.quant_utils.compute_scale_zp` does (goldens:
//! `tests/golden/scale_zp_132.json`, from onnxruntime 1.32 itself).

use super::{Grid, QuantParams};
use crate::{bail, Result};

/// ONNX Runtime's `compute_scale_zp`:
///
/// ```text
/// rmin' = min(rmin, 0),  rmax' = max(rmax, 0)              zero must be exact
/// symmetric:  rmax' = max(|rmin'|, |rmax'|),  rmin' = -rmax'
/// s = (float64(rmax') - float64(rmin')) / (qmax - qmin)      float64: a finite range cannot overflow
/// s < FLT_MIN            -> (s, z) = (1, 0)                  degenerate (all-zero) range, s in float64
/// symmetric              -> z = round_half_even((qmax + qmin) / 2)    0 for int8, 128 for uint8
/// asymmetric             -> z = round_half_even(qmin - rmin' / s)     in float64
/// s is then cast to float32.
/// ```
pub fn compute_scale_zp(
    rmin: f32,
    rmax: f32,
    qmin: i32,
    qmax: i32,
    symmetric: bool,
) -> Result<(f32, i32)> {
    if !(rmin.is_finite() && rmax.is_finite()) {
        bail!("range", "[{rmin}, {rmax}] is not finite");
    }
    if rmin > rmax {
        bail!("range", "rmin {rmin} is greater than rmax {rmax}");
    }
    let (mut lo, mut hi) = (rmin.min(0.0), rmax.max(0.0));
    if symmetric {
        let a = lo.abs().max(hi.abs());
        lo = -a;
        hi = a;
    }
    // onnxruntime 1.31 subtracted in float32, which overflows for [-3e38, 3e38] and rounds the
    // width once more than 1.32 does (scales one ulp apart).
    let dr = hi as f64 - lo as f64;
    let dq = qmax as f64 - qmin as f64;
    let scale = dr / dq;
    if scale < f32::MIN_POSITIVE as f64 {
        return Ok((1.0, 0));
    }
    let zp = if symmetric {
        ((qmax + qmin) as f64 / 2.0).round_ties_even()
    } else {
        (qmin as f64 - lo as f64 / scale).round_ties_even()
    };
    // The range contains 0, so z lies in [qmin, qmax] up to rounding; clamp for safety.
    let zp = (zp as i32).clamp(qmin, qmax);
    Ok((scale as f32, zp))
}

/// Per-tensor parameters for `grid` from a range.
pub fn params_for_range(grid: &Grid, rmin: f32, rmax: f32) -> Result<QuantParams> {
    let (qmin, qmax) = grid.qrange();
    let (s, z) = compute_scale_zp(rmin, rmax, qmin, qmax, grid.symmetric())?;
    Ok(QuantParams::per_tensor(s, z))
}

/// Per-channel parameters for `grid` from one range per channel.
pub fn params_for_ranges(
    grid: &Grid,
    ranges: &[(f32, f32)],
    axis: Option<usize>,
) -> Result<QuantParams> {
    let (qmin, qmax) = grid.qrange();
    let mut scale = Vec::with_capacity(ranges.len());
    let mut zero_point = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        let (s, z) = compute_scale_zp(lo, hi, qmin, qmax, grid.symmetric())?;
        scale.push(s);
        zero_point.push(z);
    }
    Ok(QuantParams {
        scale,
        zero_point,
        axis,
    })
}
