//! Affine quantization, `r = s·(q − z)`, as ONNX QuantizeLinear / DequantizeLinear define it.
//!
//! * [`layout`]: how parameters line up with a tensor (per tensor, per axis, blocked), with ndarray.
//! * [`linear`]: quantize and dequantize.
//! * [`params`]: choosing `(s, z)` from a real range exactly as ONNX Runtime's `compute_scale_zp`.
//! * [`calibrate`]: observers that consume batches and pick the range (min-max, percentile, MSE, entropy).
//! * [`analysis`]: error statistics and histograms of one tensor under given parameters.

pub mod analysis;
pub mod calibrate;
pub mod float;
pub mod layout;
pub mod linear;
pub mod params;

use crate::{bail, Result};

/// Storage type of quantized values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    Int8,
    Uint8,
    /// Only for dequantizing int32 biases and accumulators.
    Int32,
}

impl Dtype {
    pub fn parse(name: &str, subject: &str) -> Result<Dtype> {
        match name {
            "int8" => Ok(Dtype::Int8),
            "uint8" => Ok(Dtype::Uint8),
            _ => bail!(
                subject,
                "unknown dtype '{name}', expected \"int8\" or \"uint8\""
            ),
        }
    }

    /// The full range of the storage type: what QuantizeLinear saturates to.
    pub fn range(self) -> (i32, i32) {
        match self {
            Dtype::Int8 => (-128, 127),
            Dtype::Uint8 => (0, 255),
            Dtype::Int32 => (i32::MIN, i32::MAX),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dtype::Int8 => "int8",
            Dtype::Uint8 => "uint8",
            Dtype::Int32 => "int32",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `z` fixed at the middle of the grid (0 for int8), range `[-max|r|, max|r|]`.
    Symmetric,
    /// `z` chosen so that `[rmin, rmax]` (widened to include 0) fills the grid.
    Asymmetric,
}

impl Scheme {
    pub fn parse(name: &str, subject: &str) -> Result<Scheme> {
        match name {
            "symmetric" => Ok(Scheme::Symmetric),
            "asymmetric" => Ok(Scheme::Asymmetric),
            _ => bail!(
                subject,
                "unknown scheme '{name}', expected \"symmetric\" or \"asymmetric\""
            ),
        }
    }
}

/// A quantization grid: storage type, bit width and scheme. It fixes `[qmin, qmax]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub dtype: Dtype,
    pub bits: u32,
    pub scheme: Scheme,
}

impl Grid {
    pub fn new(dtype: Dtype, bits: u32, scheme: Scheme) -> Result<Grid> {
        if !(2..=8).contains(&bits) {
            bail!("bits", "must be an integer from 2 to 8, found {bits}");
        }
        if dtype == Dtype::Int32 {
            bail!(
                "dtype",
                "int32 is not a grid for quantizing, only for biases"
            );
        }
        Ok(Grid {
            dtype,
            bits,
            scheme,
        })
    }

    pub fn int8_symmetric() -> Grid {
        Grid {
            dtype: Dtype::Int8,
            bits: 8,
            scheme: Scheme::Symmetric,
        }
    }

    /// `[qmin, qmax]` for `b` bits:
    /// signed symmetric `[-(2^(b-1) - 1), 2^(b-1) - 1]` (narrow, as TFLite and ORT for weights),
    /// signed asymmetric `[-2^(b-1), 2^(b-1) - 1]`, unsigned `[0, 2^b - 1]`.
    pub fn qrange(&self) -> (i32, i32) {
        let b = self.bits as i32;
        match (self.dtype, self.scheme) {
            (Dtype::Uint8, _) => (0, (1 << b) - 1),
            (_, Scheme::Symmetric) => (-((1 << (b - 1)) - 1), (1 << (b - 1)) - 1),
            (_, Scheme::Asymmetric) => (-(1 << (b - 1)), (1 << (b - 1)) - 1),
        }
    }

    pub fn symmetric(&self) -> bool {
        self.scheme == Scheme::Symmetric
    }

    /// Number of grid points, `qmax - qmin + 1`.
    pub fn levels(&self) -> u32 {
        let (lo, hi) = self.qrange();
        (hi - lo + 1) as u32
    }
}

/// Quantization parameters of one tensor: one `(scale, zero_point)` per tensor, or one per slice
/// along `axis`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantParams {
    pub scale: Vec<f32>,
    pub zero_point: Vec<i32>,
    /// `None` for per-tensor parameters.
    pub axis: Option<usize>,
}

impl QuantParams {
    pub fn per_tensor(scale: f32, zero_point: i32) -> Self {
        QuantParams {
            scale: vec![scale],
            zero_point: vec![zero_point],
            axis: None,
        }
    }

    /// Checks every scale is finite and > 0, every zero point lies in `dtype`'s range and the
    /// lengths agree.
    pub fn validate(&self, dtype: Dtype) -> Result<()> {
        if self.scale.is_empty() {
            bail!(
                "scale",
                "is empty; give one scale per tensor or one per channel"
            );
        }
        if self.scale.len() != self.zero_point.len() {
            bail!(
                "zeroPoint",
                "has {} elements but scale has {}; they must match",
                self.zero_point.len(),
                self.scale.len()
            );
        }
        for (i, &s) in self.scale.iter().enumerate() {
            if !(s.is_finite() && s > 0.0) {
                bail!("scale", "must be finite and > 0, found {s} at index {i}");
            }
        }
        let (lo, hi) = dtype.range();
        for (i, &z) in self.zero_point.iter().enumerate() {
            if z < lo || z > hi {
                bail!(
                    "zeroPoint",
                    "{z} at index {i} is outside the {} range [{lo}, {hi}]",
                    dtype.name()
                );
            }
        }
        Ok(())
    }
}

pub fn checked_numel(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| crate::Error::new("shape", format!("{shape:?} has too many elements")))
}

/// Rejects NaN and ±inf in user data, naming the first offender.
pub fn check_finite(data: &[f32], subject: &str) -> Result<()> {
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        bail!(
            subject,
            "contains {} at index {i}; only finite values can be quantized",
            data[i]
        );
    }
    Ok(())
}
