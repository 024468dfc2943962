//! The integer-only INT8 model, as ONNX QLinearConv / QLinearMatMul or TFLite run it:
//!
//! ```text
//! input:   q_x = saturate(round_half_even(x / s_x) + z_x)                  (QuantizeLinear)
//! conv:    acc = Σ q_x·q_w + (b_q − z_x·Σ q_w)        int8 × int8 → int32, int32 bias
//!          b_q = round_half_even(b / (s_x·s_w[m]))     bias scale s_x·s_w[m], zero point 0
//!          q_y = clamp(rint(float32(acc)·M[m]) + z_y, lo, hi),  M[m] = float32(s_x·s_w[m]) / s_y
//!          fused ReLU: lo = max(qmin, z_y), with z_y calibrated on the post-ReLU range
//! maxpool: max over int8, no requantization (input and output share (s, z))
//! avgpool: onnxruntime's QLinearAveragePool / QLinearGlobalAveragePool with the output sharing
//!          the input's (s, z) (TFLite's rule): a window covering the image sums integers,
//!          q_y = clamp(rint(float32(Σ q − z·N)·s/(s·N)) + z); any other window sums s(q − z) in
//!          float32 and quantizes the mean, q_y = clamp(nearbyintf(mean/s + z))
//! linear:  as conv; the int8 logits are dequantized: (q − z)·s            (DequantizeLinear)
//! ```
//!
//! Weights are symmetric (z_w = 0, narrow range ±(2^(b−1)−1)), per output channel or per
//! tensor; activations use the calibrated range of each tensor on the calibration set.
//!
//! The *simulated* path is the course module's: weights quantized then dequantized back to
//! float on every call, float conv, float activations. It is here to be compared, not used.

//!
//! Submodules: `calibration` (the histograms and activation parameters the quantizer reads),
//! `config` (what the page chose), `quantize` (float model -> `QModel`), `exec` (the integer
//! executor) and `qdq` (the QDQ graph and the simulated path, both in float).

mod calibration;
mod config;
mod exec;
mod qdq;
mod quantize;

pub use calibration::{calibrate, ActParams, Calibration, Equalized};
pub use config::{Deployed, FloatFormat, QuantConfig, Rounding};
pub use exec::QScratch;
use quantize::fake_quant;
pub use quantize::{
    dynamic_fake_quant, quantize_bias, quantize_model, quantize_weights, weight_grid,
};

use super::fp32::{self, lap, plan, Fp32Scratch, Net, Step, Weights, CHUNK};
use super::ptq::{self, EqualizedPair, LayerStats, WeightScales};
use super::{Layer, Model, Shape};
use crate::kernels::int8::{self as k8, PackedI8, Requant};
use crate::kernels::{self, table, AvgQuant, AvgShape, ConvPlan, ConvShape, Int8Kernel};
use crate::quant::calibrate::{range_from_histogram, Method, SymHistogram};
use crate::quant::linear::{dequantize_value, quantize_value};
use crate::quant::params::compute_scale_zp;
use crate::quant::{Dtype, Grid, Scheme};
use crate::{bail, Result};
use std::sync::OnceLock;

/// A quantized conv or linear layer.
#[derive(Debug, Clone)]
pub struct QLayer {
    pub layer: usize,
    pub name: String,
    pub relu: bool,
    pub weight_bits: u32,
    pub act_bits: u32,
    /// Conv geometry (for linear: c = n_in, m = n_out, 1×1 on a 1×1 input).
    pub shape: ConvShape,
    pub is_linear: bool,
    /// `[m, taps]` int8 weights (PyTorch order) and their per-channel scales (repeated when
    /// per tensor).
    pub w_q: Vec<i8>,
    pub w_scale: Vec<f32>,
    pub per_channel: bool,
    /// The weights' scales as quantized (per tensor, per channel or per group).
    pub scales: WeightScales,
    /// `w_q` dequantized, `[m, taps]` (PyTorch order): what the QDQ and simulated paths run.
    pub w_dq: Vec<f32>,
    /// The float bias (after bias correction, when on).
    pub bias_f: Vec<f32>,
    pub bias_q: Vec<i32>,
    pub x: ActParams,
    pub y: ActParams,
    rq: Requant,
    /// Linear: the NCHW shape flattened into the input (its weights absorb the reordering).
    from: Option<Shape>,
    // Ready for the kernels:
    plan: Option<ConvPlan>,
    rows: Vec<u32>,
    packed: PackedI8,
}

impl QLayer {
    fn pack(&self, kernel: Int8Kernel) -> PackedI8 {
        pack_layer(
            kernel,
            &self.w_q,
            &self.bias_q,
            self.plan.as_ref(),
            self.shape,
            self.from,
            self.x.zero_point,
            &self.rq,
        )
    }
}

/// A layer's weights packed for `kernel`: a conv for its plan, a linear layer (`plan` None)
/// with the NCHW shape `from` flattened into its input.
#[allow(clippy::too_many_arguments)]
fn pack_layer(
    kernel: Int8Kernel,
    w_q: &[i8],
    bias_q: &[i32],
    plan: Option<&ConvPlan>,
    shape: ConvShape,
    from: Option<Shape>,
    zx: i32,
    rq: &Requant,
) -> PackedI8 {
    match plan {
        Some(plan) => PackedI8::conv(kernel, w_q, bias_q, plan, zx, rq),
        None => PackedI8::linear(kernel, w_q, bias_q, shape.m, shape.c, from, zx, rq),
    }
}

#[derive(Debug, Clone)]
pub enum QStep {
    Layer(Box<QLayer>),
    /// On the uint8 offset values: `u = max(u, z + 128)`.
    Relu {
        len: usize,
        zero_point: i32,
    },
    MaxPool {
        c: usize,
        h: usize,
        w: usize,
        k: usize,
        stride: usize,
    },
    AvgPool {
        shape: AvgShape,
        quant: AvgQuant,
    },
    Flatten {
        transpose: Option<Shape>,
    },
}

#[derive(Debug, Clone)]
pub struct QModel {
    pub config: QuantConfig,
    pub input: ActParams,
    pub output: ActParams,
    pub steps: Vec<QStep>,
    pub input_shape: Shape,
    pub input_len: usize,
    pub output_len: usize,
    /// The int8 GEMM entry the layers are packed for.
    kernel: Int8Kernel,
    /// Index of the first linear step: steps before it run per image, from it on per chunk.
    split: usize,
    fp32_steps: Vec<Step>,
    fp32_bias: Vec<Vec<f32>>,
    /// Float weights of the layers in `config.skip`, for the simulated path.
    fp32_skipped: Vec<Vec<f32>>,
    /// The QDQ graph's float net (dequantized weights), when the model is deployed that way.
    qdq: Option<Net>,
    /// What cross-layer equalization did, when it ran.
    pub equalized: Vec<EqualizedPair>,
}

impl QModel {
    pub fn layers(&self) -> impl Iterator<Item = &QLayer> {
        self.steps.iter().filter_map(|s| {
            if let QStep::Layer(l) = s {
                Some(&**l)
            } else {
                None
            }
        })
    }
}
