//! What the page chose: bits, granularity, calibration method, rounding, techniques, format.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub struct QuantConfig {
    pub weight_bits: u32,
    pub act_bits: u32,
    pub per_channel: bool,
    pub method: Method,
    /// Scheme of the activations (weights are always symmetric).
    pub act_scheme: Scheme,
    /// Per-layer `(weight_bits, act_bits)` overrides by layer index, for mixed precision.
    pub layer_bits: Vec<(usize, u32, u32)>,
    /// Layers (by index) whose weights the *simulated* path keeps in float (for per-layer
    /// sensitivity: quantize one layer, keep the rest). The true int8 model quantizes every layer.
    pub skip: Vec<usize>,
    /// Group-wise weights: one scale per `group` consecutive inputs of each output channel (ONNX
    /// blocked quantization along axis 1 of the `[M, C·k·k]` weights). Overrides `per_channel`.
    pub group_size: Option<usize>,
    pub rounding: Rounding,
    /// Cross-layer equalization before quantizing (the model is recalibrated after it).
    pub equalize: bool,
    /// Bias correction of the mean output shift weight rounding causes.
    pub bias_correction: bool,
    /// Dynamic quantization: each activation's parameters from the tensor itself, per image, at
    /// run time (DynamicQuantizeLinear's rule), instead of from calibration.
    pub dynamic: bool,
    /// A float format instead of integers: weights and activations rounded to float16 or
    /// bfloat16 (ONNX Cast), arithmetic in float32 (WebAssembly has no float16 arithmetic).
    pub format: Option<FloatFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatFormat {
    F16,
    Bf16,
}

impl FloatFormat {
    pub fn round(self) -> fn(f32) -> f32 {
        match self {
            FloatFormat::F16 => crate::quant::float::round_to_f16,
            FloatFormat::Bf16 => crate::quant::float::round_to_bf16,
        }
    }
    /// Rounds every value of `v` to the format, in place: one loop per format with the rounding
    /// inlined, so it vectorizes (a call through `round()` per value does not).
    pub fn round_all(self, v: &mut [f32]) {
        use crate::quant::float::{round_to_bf16, round_to_f16};
        match self {
            FloatFormat::F16 => v.iter_mut().for_each(|x| *x = round_to_f16(*x)),
            FloatFormat::Bf16 => v.iter_mut().for_each(|x| *x = round_to_bf16(*x)),
        }
    }
}

/// How weights are rounded onto their grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    Nearest,
    /// GPTQ's error-compensating rounding, from each layer's calibration inputs.
    Gptq,
}

/// How a quantized model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployed {
    /// Integer-only: int8 × int8 → int32, requantized between layers.
    Integer,
    /// The QDQ graph in float, as onnxruntime's CPU provider runs one it cannot fuse into integer
    /// kernels: weights through (blocked) DequantizeLinear into float convs, each activation
    /// through QuantizeLinear → DequantizeLinear (or DynamicQuantizeLinear). Group-wise scales
    /// and dynamic activations run this way: no integer conv takes one scale per group, and
    /// dynamic parameters are only known at run time.
    Qdq,
}

impl Default for QuantConfig {
    fn default() -> Self {
        QuantConfig {
            weight_bits: 8,
            act_bits: 8,
            per_channel: true,
            method: Method::MinMax,
            act_scheme: Scheme::Asymmetric,
            layer_bits: vec![],
            skip: vec![],
            group_size: None,
            rounding: Rounding::Nearest,
            equalize: false,
            bias_correction: false,
            dynamic: false,
            format: None,
        }
    }
}

impl QuantConfig {
    pub fn deployed(&self) -> Deployed {
        if self.group_size.is_some() || self.dynamic || self.format.is_some() {
            Deployed::Qdq
        } else {
            Deployed::Integer
        }
    }

    pub fn bits_for(&self, layer: usize) -> (u32, u32) {
        self.layer_bits
            .iter()
            .find(|(l, _, _)| *l == layer)
            .map_or((self.weight_bits, self.act_bits), |&(_, w, a)| (w, a))
    }
}
