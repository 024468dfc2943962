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

/// Histograms of every tensor the int8 model quantizes, collected by running the float model
/// on calibration images. Point 0 is the input; point i is the output of the i-th conv/linear
/// step (after its fused ReLU).
#[derive(Debug, Clone)]
pub struct Calibration {
    pub points: Vec<SymHistogram>,
    pub images: usize,
    /// The calibration images themselves: the techniques beyond round-to-nearest look at each
    /// layer's input (GPTQ, bias correction) or recalibrate an equalized model.
    x: Vec<f32>,
    stats: OnceLock<Vec<Option<LayerStats>>>,
    equalized: OnceLock<Box<Equalized>>,
    /// Clip ranges by point that replace the observer's (quantization-aware training's, as
    /// PyTorch's `convert` takes the fake-quantizers' state).
    pub ranges: Option<Vec<(f32, f32)>>,
}

/// The model after cross-layer equalization, calibrated on the same images.
#[derive(Debug, Clone)]
pub struct Equalized {
    pub model: Model,
    pub calibration: Calibration,
    pub pairs: Vec<EqualizedPair>,
}

impl Calibration {
    /// The calibration images (preprocessed, `images × input_len`).
    pub fn images_data(&self) -> &[f32] {
        &self.x
    }

    /// This calibration with every point's clip range fixed to `ranges` (point 0 the input).
    pub fn with_ranges(mut self, ranges: Vec<(f32, f32)>) -> Result<Calibration> {
        self.set_ranges(Some(ranges))?;
        Ok(self)
    }

    /// Fixes every point's clip range (`None`: back to the observer's). On an error nothing changes.
    pub fn set_ranges(&mut self, ranges: Option<Vec<(f32, f32)>>) -> Result<()> {
        if let Some(ranges) = &ranges {
            if ranges.len() != self.points.len() {
                bail!(
                    "ranges",
                    "has {} ranges for {} quantized tensors",
                    ranges.len(),
                    self.points.len()
                );
            }
            if let Some(i) = ranges
                .iter()
                .position(|r| !(r.0.is_finite() && r.1.is_finite() && r.0 <= r.1))
            {
                bail!(
                    "ranges",
                    "range {i} is {:?}; it must be finite with min <= max",
                    ranges[i]
                );
            }
        }
        self.ranges = ranges;
        Ok(())
    }

    /// The `(s, z)` of point `p` on `grid`: the fixed range when there is one, else the
    /// observer's on the histogram.
    pub fn act_params(&self, p: usize, method: Method, grid: &Grid) -> Result<ActParams> {
        match &self.ranges {
            Some(r) => ActParams::from_range(r[p], grid),
            None => ActParams::new(&self.points[p], method, grid),
        }
    }
    /// Per-layer input statistics of `model` on the calibration images (computed once).
    pub fn stats(&self, model: &Model) -> Result<&[Option<LayerStats>]> {
        if self.stats.get().is_none() {
            let st = ptq::layer_stats(model, &self.x, self.images)?;
            let _ = self.stats.set(st);
        }
        Ok(self.stats.get().expect("just set"))
    }

    /// `model` equalized and recalibrated (computed once).
    pub fn equalized(&self, model: &Model) -> Result<&Equalized> {
        if self.equalized.get().is_none() {
            let (m, pairs) = ptq::equalize(model)?;
            let calibration = calibrate(&m, &self.x, self.images)?;
            let _ = self.equalized.set(Box::new(Equalized {
                model: m,
                calibration,
                pairs,
            }));
        }
        Ok(self.equalized.get().expect("just set"))
    }
}

pub fn calibrate(model: &Model, x: &[f32], n: usize) -> Result<Calibration> {
    let net = Net::new(model)?;
    let inp = net.input_len;
    fp32::check_batch(x, n, inp)?;
    let npoints = 1 + net.steps.iter().filter(|s| s.is_point()).count();
    let mut points = vec![SymHistogram::default(); npoints];
    let mut sc = Fp32Scratch::default();
    let mut out = vec![0.0; net.output_len];
    let mut overflow = None;
    for i in 0..n {
        let img = &x[i * inp..][..inp];
        points[0].observe(img);
        net.run(
            table::fp32(),
            img,
            1,
            &mut sc,
            &mut out,
            &mut |p, act| {
                if overflow.is_none() && act.iter().any(|v| !v.is_finite()) {
                    overflow = Some(p);
                }
                points[p].observe(act)
            },
            None,
        );
        if let Some(p) = overflow {
            // Point p is the output of the p-th conv/linear step.
            let layer = net
                .steps
                .iter()
                .filter_map(|s| match s {
                    Step::Conv { layer, .. } | Step::Linear { layer, .. } => Some(*layer),
                    _ => None,
                })
                .nth(p - 1)
                .unwrap_or(0);
            bail!(
                format!("layer {layer} ({})", model.layers[layer].name()),
                "overflows float32 on calibration image {i} (its outputs reach ±inf or NaN); the weights are too large to quantize"
            );
        }
    }
    Ok(Calibration {
        points,
        images: n,
        x: x[..n * inp].to_vec(),
        stats: OnceLock::new(),
        equalized: OnceLock::new(),
        ranges: None,
    })
}

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

/// `(s, z)` of one activation tensor and its grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActParams {
    pub scale: f32,
    pub zero_point: i32,
    pub qmin: i32,
    pub qmax: i32,
    /// The calibrated clip range the parameters came from.
    pub range: (f32, f32),
}

impl ActParams {
    pub fn new(h: &SymHistogram, method: Method, grid: &Grid) -> Result<Self> {
        ActParams::from_range(range_from_histogram(h, method, grid), grid)
    }

    pub fn from_range(range: (f32, f32), grid: &Grid) -> Result<Self> {
        let (qmin, qmax) = grid.qrange();
        let (scale, zero_point) = compute_scale_zp(range.0, range.1, qmin, qmax, grid.symmetric())?;
        Ok(ActParams {
            scale,
            zero_point,
            qmin,
            qmax,
            range,
        })
    }
}

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
/// Symmetric weight quantization: `s[m] = max|w[m, ·]| / qmax` (ORT's compute_scale_zp with a
/// symmetric narrow grid), `z = 0`, `q = clamp(round_half_even(w / s[m]), −qmax, qmax)`.
pub fn quantize_weights(
    w: &[f32],
    m: usize,
    bits: u32,
    per_channel: bool,
) -> Result<(Vec<i8>, Vec<f32>)> {
    let grid = Grid::new(Dtype::Int8, bits, Scheme::Symmetric)?;
    let qmax = grid.qrange().1;
    let scales = WeightScales::minmax(w, m, qmax, per_channel, None)?;
    Ok((scales.round(w, qmax), scales.scale))
}

/// `b_q[m] = round_half_even(b[m] / float32(s_x·s_w[m]))` in float64, saturated to int32 (ORT).
pub fn quantize_bias(b: &[f32], sx: f32, sw: &[f32]) -> Vec<i32> {
    b.iter()
        .zip(sw)
        .map(|(&b, &s)| {
            ((b as f64) / ((sx * s) as f64))
                .round_ties_even()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32
        })
        .collect()
}

pub fn quantize_model(model: &Model, cal: &Calibration, config: &QuantConfig) -> Result<QModel> {
    if let Some(g) = config.group_size {
        if g == 0 {
            bail!("config.groupSize", "must be at least 1, found 0");
        }
    }
    if config.equalize {
        let e = cal.equalized(model)?;
        let mut q = quantize_plain(&e.model, &e.calibration, config)?;
        q.equalized = e.pairs.clone();
        return Ok(q);
    }
    quantize_plain(model, cal, config)
}

fn quantize_plain(model: &Model, cal: &Calibration, config: &QuantConfig) -> Result<QModel> {
    let steps = plan(model)?;
    // A float format rounds the float weights themselves: no GPTQ, no bias correction.
    let stats = if config.format.is_none()
        && (config.rounding == Rounding::Gptq || config.bias_correction)
    {
        Some(cal.stats(model)?)
    } else {
        None
    };
    if cal.points.len() != 1 + steps.iter().filter(|s| s.is_point()).count() {
        bail!("calibration", "belongs to a different model");
    }
    for &(l, w, a) in &config.layer_bits {
        if l >= model.layers.len()
            || !matches!(model.layers[l], Layer::Conv2d(_) | Layer::Linear(_))
        {
            bail!(
                "config.layerBits",
                "names layer {l}, which is not a conv or linear layer"
            );
        }
        Grid::new(Dtype::Int8, w, Scheme::Symmetric)
            .map_err(|e| crate::Error::new("config.layerBits", format!("weight {}", e)))?;
        Grid::new(Dtype::Int8, a, Scheme::Asymmetric)
            .map_err(|e| crate::Error::new("config.layerBits", format!("activation {}", e)))?;
    }
    let act_grid = |bits| Grid::new(Dtype::Int8, bits, config.act_scheme);
    let input = cal.act_params(0, config.method, &act_grid(config.act_bits)?)?;
    let mut cur = input;
    let mut point = 0;
    let mut qsteps = Vec::with_capacity(steps.len());
    let mut fp32_bias = vec![vec![]; model.layers.len()];
    let mut fp32_skipped = vec![vec![]; model.layers.len()];
    for &l in &config.skip {
        match model.layers.get(l) {
            Some(Layer::Conv2d(c)) => fp32_skipped[l] = c.weight.clone(),
            Some(Layer::Linear(f)) => fp32_skipped[l] = f.weight.clone(),
            _ => bail!(
                "config.skip",
                "names layer {l}, which is not a conv or linear layer"
            ),
        }
    }
    for step in &steps {
        qsteps.push(match *step {
            Step::Conv { layer, relu, shape } => {
                let Layer::Conv2d(c) = &model.layers[layer] else {
                    unreachable!("plan gives conv steps for conv layers")
                };
                point += 1;
                fp32_bias[layer] = c.bias.clone();
                let q = quant_layer(
                    layer,
                    &c.name,
                    relu,
                    shape,
                    None,
                    &c.weight,
                    &c.bias,
                    cur,
                    (cal, point),
                    config,
                    stats.and_then(|s| s[layer].as_ref()),
                )?;
                cur = q.y;
                QStep::Layer(Box::new(q))
            }
            Step::Linear {
                layer,
                relu,
                n_in,
                n_out,
                from,
            } => {
                let Layer::Linear(l) = &model.layers[layer] else {
                    unreachable!("plan gives linear steps for linear layers")
                };
                point += 1;
                fp32_bias[layer] = l.bias.clone();
                let shape = ConvShape {
                    c: n_in,
                    h: 1,
                    w: 1,
                    m: n_out,
                    k: 1,
                    pad: 0,
                    stride: 1,
                };
                let q = quant_layer(
                    layer,
                    &l.name,
                    relu,
                    shape,
                    Some(from),
                    &l.weight,
                    &l.bias,
                    cur,
                    (cal, point),
                    config,
                    stats.and_then(|s| s[layer].as_ref()),
                )?;
                cur = q.y;
                QStep::Layer(Box::new(q))
            }
            Step::Relu { len } => QStep::Relu {
                len,
                zero_point: cur.zero_point,
            },
            Step::MaxPool { c, h, w, k, stride } => QStep::MaxPool { c, h, w, k, stride },
            Step::AvgPool(shape) => QStep::AvgPool {
                shape,
                quant: AvgQuant {
                    x_scale: cur.scale,
                    x_zero_point: cur.zero_point,
                    y_scale: cur.scale,
                    y_zero_point: cur.zero_point,
                    qmin: cur.qmin,
                    qmax: cur.qmax,
                },
            },
            Step::Flatten { transpose } => QStep::Flatten { transpose },
        });
    }
    let split = qsteps
        .iter()
        .position(|s| matches!(s, QStep::Layer(l) if l.is_linear))
        .unwrap_or(qsteps.len());
    let qdq = (config.deployed() == Deployed::Qdq).then(|| qdq_net(&qsteps, &steps, model));
    Ok(QModel {
        qdq,
        equalized: vec![],
        config: config.clone(),
        input,
        output: cur,
        steps: qsteps,
        input_shape: model.input,
        kernel: table::int8(),
        split,
        input_len: model.input_len(),
        output_len: model.output_len(),
        fp32_steps: steps,
        fp32_bias,
        fp32_skipped,
    })
}

/// The QDQ graph's float net: every quantized layer's dequantized weights and float bias.
fn qdq_net(qsteps: &[QStep], steps: &[Step], model: &Model) -> Net {
    let mut weights: Weights = vec![(&[][..], &[][..]); model.layers.len()];
    for s in qsteps {
        if let QStep::Layer(l) = s {
            weights[l.layer] = (&l.w_dq[..], &l.bias_f[..]);
        }
    }
    Net::build(steps.to_vec(), &weights, model.input, model.output_len())
}

/// QuantizeLinear → DequantizeLinear in place: `v ← (q(v) − z)·s`.
fn fake_quant(v: &mut [f32], scale: f32, zero_point: i32, qmin: i32, qmax: i32) {
    for x in v {
        *x = dequantize_value(
            quantize_value(*x, scale, zero_point, qmin, qmax),
            scale,
            zero_point,
        );
    }
}

/// DynamicQuantizeLinear's rule on a `[0, 2^b − 1]` grid (b = 8: onnxruntime's exactly), then back
/// to float.
pub fn dynamic_fake_quant(v: &mut [f32], bits: u32) {
    let qmax = (1i32 << bits) - 1;
    let (s, z) = crate::quant::linear::dynamic_params(v, qmax);
    fake_quant(v, s, z, 0, qmax);
}

/// The integer model's grid for layer `layer`'s weights `w` (`rows` output channels): min-max
/// symmetric scales per tensor, channel or group as `config` says, and `qmax` of its narrow range.
/// Post-training quantization and QAT's fake quantization both take it from here.
pub fn weight_grid(
    w: &[f32],
    rows: usize,
    layer: usize,
    config: &QuantConfig,
) -> Result<(WeightScales, i32)> {
    let qmax = Grid::new(Dtype::Int8, config.bits_for(layer).0, Scheme::Symmetric)?
        .qrange()
        .1;
    let scales = WeightScales::minmax(w, rows, qmax, config.per_channel, config.group_size)?;
    Ok((scales, qmax))
}

#[allow(clippy::too_many_arguments)]
fn quant_layer(
    layer: usize,
    name: &str,
    relu: bool,
    shape: ConvShape,
    linear: Option<Option<Shape>>,
    w: &[f32],
    b: &[f32],
    x: ActParams,
    (cal, point): (&Calibration, usize),
    config: &QuantConfig,
    stats: Option<&LayerStats>,
) -> Result<QLayer> {
    let (wbits, abits) = config.bits_for(layer);
    let (scales, qmax) = weight_grid(w, shape.m, layer, config)?;
    let w_q = match (config.rounding, stats) {
        (Rounding::Gptq, Some(st)) => ptq::gptq(w, st, &scales, qmax),
        _ => scales.round(w, qmax),
    };
    let mut w_dq = scales.dequantize(&w_q);
    let mut bias_f = match (config.bias_correction, stats) {
        (true, Some(st)) => ptq::corrected_bias(b, w, &w_dq, st),
        _ => b.to_vec(),
    };
    if let Some(f) = config.format {
        // A float format: the weights and bias the net runs are the format's, not the grid's.
        w_dq = w.iter().map(|&v| f.round()(v)).collect();
        bias_f = b.iter().map(|&v| f.round()(v)).collect();
    }
    let b = &bias_f[..];
    // The integer path needs one scale per output channel; group-wise layers run as QDQ, and
    // their integer packing (below) uses each row's largest group scale only to stay well-formed.
    let w_scale: Vec<f32> = match config.group_size {
        None => scales.scale.clone(),
        Some(_) => scales
            .scale
            .chunks(scales.scale.len() / shape.m)
            .map(|r| r.iter().fold(0f32, |a, &v| a.max(v)))
            .collect(),
    };
    let y = cal.act_params(
        point,
        config.method,
        &Grid::new(Dtype::Int8, abits, config.act_scheme)?,
    )?;
    let bias_q = quantize_bias(b, x.scale, &w_scale);
    let multiplier = w_scale
        .iter()
        .map(|&sw| crate::kernels::reference::multiplier(x.scale, sw, y.scale))
        .collect();
    let lo = if relu {
        y.qmin.max(y.zero_point)
    } else {
        y.qmin
    };
    let rq = Requant {
        multiplier,
        zero_point: y.zero_point,
        lo,
        hi: y.qmax,
    };
    let plan = if linear.is_none() {
        Some(k8::conv_plan(shape))
    } else {
        None
    };
    let from = linear.flatten();
    let packed = pack_layer(
        table::int8(),
        &w_q,
        &bias_q,
        plan.as_ref(),
        shape,
        from,
        x.zero_point,
        &rq,
    );
    Ok(QLayer {
        layer,
        name: name.to_string(),
        relu,
        weight_bits: wbits,
        act_bits: abits,
        shape,
        is_linear: linear.is_some(),
        w_q,
        w_scale,
        per_channel: config.per_channel,
        scales,
        w_dq,
        bias_f,
        bias_q,
        x,
        y,
        rq,
        from,
        plan,
        rows: if linear.is_some() {
            kernels::rows(CHUNK, shape.c)
        } else {
            vec![]
        },
        packed,
    })
}

/// Buffers of an int8 forward pass, kept across calls (the timing loop holds one).
#[derive(Default, Debug)]
pub struct QScratch {
    a: Vec<u8>,
    b: Vec<u8>,
    stage: Vec<u8>,
    wide: Vec<i16>,
    rows_a: Vec<u8>,
    rows_b: Vec<u8>,
    q_out: Vec<i8>,
    fp32: Fp32Scratch,
    dequantized: Vec<Vec<f32>>,
    /// Per-step times of a timed run: quantize input, one per step, dequantize output.
    pub step_ms: Vec<f64>,
}

impl QModel {
    /// The int8 GEMM entry the layers are packed for.
    pub fn kernel(&self) -> Int8Kernel {
        self.kernel
    }

    /// Packs every layer for `kernel` (the table entries differ in weight layout).
    pub fn repack(&mut self, kernel: Int8Kernel) {
        if kernel == self.kernel {
            return;
        }
        for s in &mut self.steps {
            if let QStep::Layer(l) = s {
                l.packed = l.pack(kernel);
            }
        }
        self.kernel = kernel;
    }

    /// Runs `op` on the image in `sc.a` (`len` values); leaves the result in `sc.a`.
    fn image_step(step: &QStep, len: usize, sc: &mut QScratch) -> usize {
        let QScratch {
            a, b, stage, wide, ..
        } = sc;
        match step {
            QStep::Layer(l) => {
                let w = &l.packed;
                let s = &l.shape;
                match &l.plan {
                    Some(plan) => {
                        let n = s.m * s.p();
                        let st = kernels::grow(stage, plan.input_buffer_len());
                        let o = kernels::grow(b, n);
                        k8::conv2d(plan, &a[..s.input_len()], l.x.zero_point, w, st, wide, o);
                        std::mem::swap(a, b);
                        n
                    }
                    None => {
                        // A linear layer on one row: pad the row to whole groups of 4.
                        let kc = k8::stride(s.c);
                        let a = kernels::grow(a, kc);
                        let o = kernels::grow(b, s.m);
                        k8::igemm(1, 1, kc, a, &l.rows[..1], w, wide, o);
                        std::mem::swap(&mut sc.a, &mut sc.b);
                        s.m
                    }
                }
            }
            QStep::Relu { len: n, zero_point } => {
                let z = (*zero_point + 128) as u8;
                a[..*n].iter_mut().for_each(|v| *v = (*v).max(z));
                *n
            }
            &QStep::MaxPool { c, h, w, k, stride } => {
                let n = c * kernels::pool_out(h, k, stride) * kernels::pool_out(w, k, stride);
                let o = kernels::grow(b, n);
                k8::maxpool(c, h, w, k, stride, &a[..c * h * w], o);
                std::mem::swap(a, b);
                n
            }
            QStep::AvgPool { shape, quant } => {
                let n = shape.output_len();
                let o = kernels::grow(b, n);
                kernels::avgpool_nhwc_i8(shape, quant, &a[..shape.input_len()], o);
                std::mem::swap(a, b);
                n
            }
            QStep::Flatten { transpose } => {
                if let Some([c, h, w]) = *transpose {
                    let o = kernels::grow(b, len);
                    kernels::nhwc_to_nchw(&a[..len], c, h, w, o);
                    std::mem::swap(a, b);
                }
                len
            }
        }
    }

    /// `n` images through the integer pipeline into `sc.q_out` (`n × outputs` int8 values).
    /// With a clock, leaves this call's time of each stage in `sc.step_ms` (quantize input, every step,
    /// dequantize output).
    pub fn run(&self, x: &[f32], n: usize, sc: &mut QScratch, clock: Option<&dyn Fn() -> f64>) {
        sc.step_ms.clear();
        sc.step_ms.resize(self.steps.len() + 2, 0.0);
        let i = self.input;
        let [c, h, w] = self.input_shape;
        let outp = self.output_len;
        kernels::grow(&mut sc.q_out, n * outp);
        let mut start = 0;
        while start < n {
            let nb = CHUNK.min(n - start);
            // (1) per image, up to the first linear layer.
            let mut row_len = 0;
            for img in 0..nb {
                let mut t = clock.map(|c| c());
                let xi = &x[(start + img) * self.input_len..][..self.input_len];
                let tmp = kernels::grow(&mut sc.b, self.input_len);
                k8::quantize_u8(xi, i.scale, i.zero_point, i.qmin, i.qmax, tmp);
                let a = kernels::grow(&mut sc.a, self.input_len);
                if c == 1 {
                    a.copy_from_slice(tmp);
                } else {
                    kernels::nchw_to_nhwc(tmp, c, h, w, a);
                }
                lap(clock, &mut t, &mut sc.step_ms[0]);
                let mut len = self.input_len;
                for (k, step) in self.steps[..self.split].iter().enumerate() {
                    len = Self::image_step(step, len, sc);
                    lap(clock, &mut t, &mut sc.step_ms[k + 1]);
                }
                row_len = len;
                // Rows are contiguous; 4 bytes of slack let the last row be read in groups of 4.
                let rows = kernels::grow(&mut sc.rows_a, nb * len + 4);
                rows[img * len..][..len].copy_from_slice(&sc.a[..len]);
            }
            // (2) the rest per chunk: linear layers as one GEMM over the chunk's images.
            let mut len = row_len;
            for (k, step) in self.steps.iter().enumerate().skip(self.split) {
                let mut t = clock.map(|c| c());
                match step {
                    QStep::Layer(l) if l.is_linear => {
                        let w = &l.packed;
                        let (n_in, n_out) = (l.shape.c, l.shape.m);
                        let kc = k8::stride(n_in);
                        let o = kernels::grow(&mut sc.rows_b, nb * n_out + 4);
                        k8::igemm(
                            nb,
                            1,
                            kc,
                            &sc.rows_a[..(nb - 1) * n_in + kc],
                            &l.rows,
                            w,
                            &mut sc.wide,
                            o,
                        );
                        std::mem::swap(&mut sc.rows_a, &mut sc.rows_b);
                        len = n_out;
                    }
                    QStep::Relu { len: l, zero_point } => {
                        let z = (*zero_point + 128) as u8;
                        sc.rows_a[..nb * l]
                            .iter_mut()
                            .for_each(|v| *v = (*v).max(z));
                    }
                    _ => {
                        // Any other step after a linear layer: one row at a time.
                        let mut next = vec![];
                        for r in 0..nb {
                            let row = sc.rows_a[r * len..][..len].to_vec();
                            kernels::grow(&mut sc.a, len).copy_from_slice(&row);
                            let l = Self::image_step(step, len, sc);
                            next.extend_from_slice(&sc.a[..l]);
                        }
                        len = next.len() / nb;
                        next.extend_from_slice(&[0; 4]);
                        sc.rows_a = next;
                    }
                }
                lap(clock, &mut t, &mut sc.step_ms[k + 1]);
            }
            for (d, &u) in sc.q_out[start * outp..][..nb * outp]
                .iter_mut()
                .zip(&sc.rows_a[..nb * len])
            {
                *d = (u ^ 0x80) as i8;
            }
            start += nb;
        }
    }

    /// True INT8 forward of a batch; the int8 outputs dequantized to float.
    pub fn forward(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        fp32::check_batch(x, n, self.input_len)?;
        let mut out = vec![0.0; n * self.output_len];
        let mut sc = QScratch::default();
        self.forward_into(x, n, &mut sc, &mut out);
        Ok(out)
    }

    /// As `forward`, with caller-held buffers (the timing loop).
    pub fn forward_into(&self, x: &[f32], n: usize, sc: &mut QScratch, out: &mut [f32]) {
        self.forward_timed(x, n, sc, out, None);
    }

    /// As `forward_into`; a clock leaves the time of each stage in `sc.step_ms`.
    pub fn forward_timed(
        &self,
        x: &[f32],
        n: usize,
        sc: &mut QScratch,
        out: &mut [f32],
        clock: Option<&dyn Fn() -> f64>,
    ) {
        if self.qdq.is_some() {
            // The QDQ graph has no integer stages to time (model::timing times it whole).
            self.forward_qdq_into(x, n, sc, out);
            return;
        }
        self.run(x, n, sc, clock);
        let t = clock.map(|c| c());
        let o = self.output;
        for (d, &q) in out[..n * self.output_len].iter_mut().zip(&sc.q_out) {
            *d = dequantize_value(q as i32, o.scale, o.zero_point);
        }
        if let (Some(c), Some(t0)) = (clock, t) {
            let last = sc.step_ms.len() - 1;
            sc.step_ms[last] += c() - t0;
        }
    }

    /// The int8 outputs themselves (for bit-exact comparisons).
    pub fn forward_int8(&self, x: &[f32], n: usize) -> Result<Vec<i8>> {
        fp32::check_batch(x, n, self.input_len)?;
        let mut sc = QScratch::default();
        if self.qdq.is_some() {
            let mut out = vec![0.0; n * self.output_len];
            self.forward_qdq_into(x, n, &mut sc, &mut out);
            let o = self.output;
            return Ok(out
                .iter()
                .map(|&v| quantize_value(v, o.scale, o.zero_point, o.qmin, o.qmax) as i8)
                .collect());
        }
        self.run(x, n, &mut sc, None);
        sc.q_out.truncate(n * self.output_len);
        Ok(sc.q_out)
    }

    /// Names of the timed stages of `run`: the input, every step, the output.
    pub fn step_labels(&self) -> Vec<String> {
        let mut v = vec!["quantize input".to_string()];
        for s in &self.steps {
            v.push(match s {
                QStep::Layer(l) => l.name.clone(),
                QStep::Relu { .. } => "relu".into(),
                QStep::MaxPool { .. } => "maxpool".into(),
                QStep::AvgPool { shape, .. } if shape.is_global() => "global avgpool".into(),
                QStep::AvgPool { .. } => "avgpool".into(),
                QStep::Flatten { .. } => "flatten".into(),
            });
        }
        v.push("dequantize output".into());
        v
    }

    /// The int8 entry each step of `step_labels` ran: a layer's packed kernel (the entry in use,
    /// or `dot16` where `usdot7` cannot hold its weights), None for the others.
    pub fn step_kernels(&self) -> Vec<Option<&'static str>> {
        let mut v = vec![None];
        v.extend(self.steps.iter().map(|s| match s {
            QStep::Layer(l) => Some(crate::kernels::Entry::entry(l.packed.kernel)),
            _ => None,
        }));
        v.push(None);
        v
    }

    /// The course module's simulated path: dequantize every weight back to float (each call),
    /// then run the float model. Activations stay float.
    pub fn forward_simulated(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        fp32::check_batch(x, n, self.input_len)?;
        let mut out = vec![0.0; n * self.output_len];
        let mut sc = QScratch::default();
        self.forward_simulated_into(x, n, &mut sc, &mut out);
        Ok(out)
    }

    pub fn forward_simulated_into(&self, x: &[f32], n: usize, sc: &mut QScratch, out: &mut [f32]) {
        let nl = self.fp32_bias.len();
        sc.dequantized.resize(nl, vec![]);
        for step in &self.steps {
            if let QStep::Layer(l) = step {
                let per = l.shape.taps();
                let d = &mut sc.dequantized[l.layer];
                d.clear();
                if self.config.skip.contains(&l.layer) {
                    d.extend_from_slice(&self.fp32_skipped[l.layer]);
                    continue;
                }
                // Dequantized on every call, as the course module does.
                d.extend(
                    l.w_q.iter().enumerate().map(|(i, &q)| {
                        dequantize_value(q as i32, l.scales.at(i / per, i % per), 0)
                    }),
                );
            }
        }
        // A quantized layer runs its (bias-corrected) float bias; a layer kept in float its own.
        let mut bias: Vec<&[f32]> = self.fp32_bias.iter().map(|b| &b[..]).collect();
        for l in self
            .layers()
            .filter(|l| !self.config.skip.contains(&l.layer))
        {
            bias[l.layer] = &l.bias_f;
        }
        let weights: Weights = (0..nl).map(|i| (&sc.dequantized[i][..], bias[i])).collect();
        // Packing the dequantized weights is part of the path's cost, as in the course module.
        let net = Net::build(
            self.fp32_steps.clone(),
            &weights,
            self.input_shape,
            self.output_len,
        );
        net.forward(x, n, &mut sc.fp32, out);
    }

    /// How this model runs: integer-only, or as a QDQ graph (group-wise, dynamic).
    pub fn deployed(&self) -> Deployed {
        self.config.deployed()
    }

    /// The QDQ graph in float: weights dequantized (any granularity), every activation through
    /// QuantizeLinear → DequantizeLinear with its calibrated parameters, or, dynamic, with
    /// parameters from the tensor itself per image (the logits then stay float, as MatMulInteger's
    /// float output does).
    pub fn forward_qdq_into(&self, x: &[f32], n: usize, sc: &mut QScratch, out: &mut [f32]) {
        let net = self
            .qdq
            .as_ref()
            .expect("a QDQ-deployed model holds its float net");
        let inp = self.input_len;
        let mut xin = x[..n * inp].to_vec();
        let dynamic = self.config.dynamic;
        let format = self.config.format;
        let i = self.input;
        for img in xin.chunks_mut(inp) {
            if let Some(f) = format {
                f.round_all(img);
            } else if dynamic {
                dynamic_fake_quant(img, self.config.act_bits);
            } else {
                fake_quant(img, i.scale, i.zero_point, i.qmin, i.qmax);
            }
        }
        let layers: Vec<&QLayer> = self.layers().collect();
        let last = layers.len();
        net.run(
            table::fp32(),
            &xin,
            n,
            &mut sc.fp32,
            out,
            &mut |p, act| {
                let l = layers[p - 1];
                if let Some(f) = format {
                    f.round_all(act);
                } else if dynamic {
                    if p < last {
                        // One image's tensor, or one row per image after the first linear layer.
                        let per = if l.is_linear { l.shape.m } else { act.len() };
                        act.chunks_mut(per)
                            .for_each(|r| dynamic_fake_quant(r, l.act_bits));
                    }
                } else {
                    let y = l.y;
                    fake_quant(act, y.scale, y.zero_point, y.qmin, y.qmax);
                }
            },
            None,
        );
    }

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
