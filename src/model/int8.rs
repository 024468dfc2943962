//! The integer-only INT8 model, as ONNX QLinearConv / QLinearMatMul or TFLite run it:
//!
//! ```text
//! input:   q_x = saturate(round_half_even(x / s_x) + z_x)                  (QuantizeLinear)
//! conv:    acc = Σ q_x·q_w + (b_q − z_x·Σ q_w)        int8 × int8 → int32, int32 bias
//!          b_q = round_half_even(b / (s_x·s_w[m]))     bias scale s_x·s_w[m], zero point 0
//!          q_y = clamp(rint(float32(acc)·M[m]) + z_y, lo, hi),  M[m] = float32(s_x·s_w[m]) / s_y
//!          fused ReLU: lo = max(qmin, z_y), with z_y calibrated on the post-ReLU range
//! maxpool: max over int8, no requantization (input and output share (s, z))
//! linear:  as conv; the int8 logits are dequantized: (q − z)·s            (DequantizeLinear)
//! ```
//!
//! Weights are symmetric (z_w = 0, narrow range ±(2^(b−1)−1)), per output channel or per
//! tensor; activations use the calibrated range of each tensor on the calibration set.
//!
//! The *simulated* path is the course module's: weights quantized then dequantized back to
//! float on every call, float conv, float activations. It is here to be compared, not used.

use super::fp32::{self, forward_image, plan, Fp32Scratch, Step, Weights};
use super::{Layer, Model};
use crate::kernels::int8::{self as k8, Requant};
use crate::kernels::{round_up, ConvShape, Scratch};
use crate::quant::calibrate::{range_from_histogram, Method, SymHistogram};
use crate::quant::linear::{dequantize_value, quantize_value};
use crate::quant::params::compute_scale_zp;
use crate::quant::{Dtype, Grid, Scheme};
use crate::{bail, Result};

/// Histograms of every tensor the int8 model quantizes, collected by running the float model
/// on calibration images. Point 0 is the input; point i is the output of the i-th conv/linear
/// step (after its fused ReLU).
#[derive(Debug, Clone)]
pub struct Calibration {
    pub points: Vec<SymHistogram>,
    pub images: usize,
}

pub fn calibrate(model: &Model, x: &[f32], n: usize) -> Result<Calibration> {
    let steps = plan(model)?;
    let weights = fp32::model_weights(model);
    let inp = model.input_len();
    fp32::check_batch(x, n, inp)?;
    let npoints = 1 + steps.iter().filter(|s| s.is_point()).count();
    let mut points = vec![SymHistogram::default(); npoints];
    let mut sc = Fp32Scratch::default();
    let mut overflow = None;
    for i in 0..n {
        let img = &x[i * inp..][..inp];
        points[0].observe(img);
        forward_image(&steps, &weights, img, &mut sc, &mut |p, act| {
            if overflow.is_none() && act.iter().any(|v| !v.is_finite()) {
                overflow = Some(p);
            }
            points[p].observe(act)
        });
        if let Some(p) = overflow {
            // Point p is the output of the p-th conv/linear step.
            let layer = steps
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
    Ok(Calibration { points, images: n })
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
        }
    }
}

impl QuantConfig {
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
    fn new(h: &SymHistogram, method: Method, grid: &Grid) -> Result<Self> {
        let range = range_from_histogram(h, method, grid);
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
    /// `[m, taps]` int8 weights and their per-channel scales (repeated when per tensor).
    pub w_q: Vec<i8>,
    pub w_scale: Vec<f32>,
    pub per_channel: bool,
    pub bias_q: Vec<i32>,
    pub x: ActParams,
    pub y: ActParams,
    // Ready for the kernels:
    w_packed: Vec<i16>,
    bias_folded: Vec<i32>,
    rq: Requant,
}

#[derive(Debug, Clone)]
pub enum QStep {
    Layer(Box<QLayer>),
    Relu { len: usize, zero_point: i32 },
    MaxPool { c: usize, h: usize, w: usize },
    Flatten,
}

#[derive(Debug, Clone)]
pub struct QModel {
    pub config: QuantConfig,
    pub input: ActParams,
    pub output: ActParams,
    pub steps: Vec<QStep>,
    pub input_len: usize,
    pub output_len: usize,
    fp32_steps: Vec<Step>,
    fp32_bias: Vec<Vec<f32>>,
    /// Float weights of the layers in `config.skip`, for the simulated path.
    fp32_skipped: Vec<Vec<f32>>,
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
    let (qmin, qmax) = grid.qrange();
    let per = w.len() / m;
    let range = |v: &[f32]| {
        v.iter()
            .fold((0f32, 0f32), |(lo, hi), &x| (lo.min(x), hi.max(x)))
    };
    let scales: Vec<f32> = if per_channel {
        (0..m)
            .map(|r| range(&w[r * per..][..per]))
            .map(|(lo, hi)| compute_scale_zp(lo, hi, qmin, qmax, true).map(|p| p.0))
            .collect::<Result<_>>()?
    } else {
        let (lo, hi) = range(w);
        vec![compute_scale_zp(lo, hi, qmin, qmax, true)?.0; m]
    };
    let q = w
        .iter()
        .enumerate()
        .map(|(i, &v)| quantize_value(v, scales[i / per], 0, qmin, qmax) as i8)
        .collect();
    Ok((q, scales))
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
    let steps = plan(model)?;
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
    let input = ActParams::new(&cal.points[0], config.method, &act_grid(config.act_bits)?)?;
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
                    false,
                    &c.weight,
                    &c.bias,
                    cur,
                    &cal.points[point],
                    config,
                )?;
                cur = q.y;
                QStep::Layer(Box::new(q))
            }
            Step::Linear {
                layer,
                relu,
                n_in,
                n_out,
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
                };
                let q = quant_layer(
                    layer,
                    &l.name,
                    relu,
                    shape,
                    true,
                    &l.weight,
                    &l.bias,
                    cur,
                    &cal.points[point],
                    config,
                )?;
                cur = q.y;
                QStep::Layer(Box::new(q))
            }
            Step::Relu { len } => QStep::Relu {
                len,
                zero_point: cur.zero_point,
            },
            Step::MaxPool { c, h, w } => QStep::MaxPool { c, h, w },
            Step::Flatten => QStep::Flatten,
        });
    }
    Ok(QModel {
        config: config.clone(),
        input,
        output: cur,
        steps: qsteps,
        input_len: model.input_len(),
        output_len: model.output_len(),
        fp32_steps: steps,
        fp32_bias,
        fp32_skipped,
    })
}

#[allow(clippy::too_many_arguments)]
fn quant_layer(
    layer: usize,
    name: &str,
    relu: bool,
    shape: ConvShape,
    is_linear: bool,
    w: &[f32],
    b: &[f32],
    x: ActParams,
    hist: &SymHistogram,
    config: &QuantConfig,
) -> Result<QLayer> {
    let (wbits, abits) = config.bits_for(layer);
    let (w_q, w_scale) = quantize_weights(w, shape.m, wbits, config.per_channel)?;
    let y = ActParams::new(
        hist,
        config.method,
        &Grid::new(Dtype::Int8, abits, config.act_scheme)?,
    )?;
    let bias_q = quantize_bias(b, x.scale, &w_scale);
    let taps = shape.taps();
    let bias_folded = k8::fold_bias(&bias_q, &w_q, shape.m, taps, x.zero_point);
    let w_packed = if is_linear {
        k8::pack_linear(&w_q, shape.m, taps)
    } else {
        k8::pack_weights(&w_q, shape.m, taps)
    };
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
    Ok(QLayer {
        layer,
        name: name.to_string(),
        relu,
        weight_bits: wbits,
        act_bits: abits,
        shape,
        is_linear,
        w_q,
        w_scale,
        per_channel: config.per_channel,
        bias_q,
        x,
        y,
        w_packed,
        bias_folded,
        rq,
    })
}

/// Buffers of an int8 forward pass.
#[derive(Default, Debug)]
pub struct QScratch {
    a: Vec<i8>,
    b: Vec<i8>,
    acc: Vec<i32>,
    kernels: Scratch,
    fp32: Fp32Scratch,
    dequantized: Vec<Vec<f32>>,
}

impl QModel {
    /// One image through the integer pipeline; returns the int8 outputs.
    pub fn forward_image_q<'s>(&self, x: &[f32], sc: &'s mut QScratch) -> &'s [i8] {
        let QScratch {
            a, b, acc, kernels, ..
        } = sc;
        let i = self.input;
        a.clear();
        a.extend(
            x.iter()
                .map(|&v| quantize_value(v, i.scale, i.zero_point, i.qmin, i.qmax) as i8),
        );
        let mut len = x.len();
        for step in &self.steps {
            match step {
                QStep::Layer(l) => {
                    let s = &l.shape;
                    len = s.m * s.p();
                    if b.len() < len {
                        b.resize(len, 0);
                    }
                    if l.is_linear {
                        let x16 = kernels.col_i16(round_up(s.c, 8));
                        if acc.len() < s.m {
                            acc.resize(s.m, 0);
                        }
                        k8::linear(
                            s.c,
                            s.m,
                            &a[..s.c],
                            &l.w_packed,
                            &l.bias_folded,
                            &l.rq,
                            x16,
                            &mut acc[..s.m],
                            &mut b[..len],
                        );
                    } else {
                        let col = kernels.col_i16(s.tap_pairs() * 2 * s.pp());
                        k8::conv2d(
                            s,
                            &a[..s.c * s.h * s.w],
                            l.x.zero_point as i8,
                            &l.w_packed,
                            &l.bias_folded,
                            &l.rq,
                            col,
                            &mut b[..len],
                        );
                    }
                    std::mem::swap(a, b);
                }
                QStep::Relu { len: n, zero_point } => {
                    let z = *zero_point as i8;
                    a[..*n].iter_mut().for_each(|v| *v = (*v).max(z));
                }
                QStep::MaxPool { c, h, w } => {
                    len = c * (h / 2) * (w / 2);
                    if b.len() < len {
                        b.resize(len, 0);
                    }
                    k8::maxpool2(*c, *h, *w, &a[..c * h * w], &mut b[..len]);
                    std::mem::swap(a, b);
                }
                QStep::Flatten => {}
            }
        }
        &a[..len]
    }

    /// True INT8 forward of a batch; the int8 outputs dequantized to float.
    pub fn forward(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        fp32::check_batch(x, n, self.input_len)?;
        let mut out = vec![0.0; n * self.output_len];
        let mut sc = QScratch::default();
        self.forward_into(x, n, &mut sc, &mut out);
        Ok(out)
    }

    /// As `forward`, with caller-held buffers (the benchmark's inner loop).
    pub fn forward_into(&self, x: &[f32], n: usize, sc: &mut QScratch, out: &mut [f32]) {
        let o = self.output;
        for i in 0..n {
            let q = self.forward_image_q(&x[i * self.input_len..][..self.input_len], sc);
            for (d, &v) in out[i * self.output_len..][..self.output_len]
                .iter_mut()
                .zip(q)
            {
                *d = dequantize_value(v as i32, o.scale, o.zero_point);
            }
        }
    }

    /// The int8 outputs themselves (for bit-exact comparisons).
    pub fn forward_int8(&self, x: &[f32], n: usize) -> Result<Vec<i8>> {
        fp32::check_batch(x, n, self.input_len)?;
        let mut sc = QScratch::default();
        let mut out = Vec::with_capacity(n * self.output_len);
        for i in 0..n {
            out.extend_from_slice(
                self.forward_image_q(&x[i * self.input_len..][..self.input_len], &mut sc),
            );
        }
        Ok(out)
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
                d.extend(
                    l.w_q
                        .iter()
                        .enumerate()
                        .map(|(i, &q)| dequantize_value(q as i32, l.w_scale[i / per], 0)),
                );
            }
        }
        let weights: Weights = (0..nl)
            .map(|i| (&sc.dequantized[i][..], &self.fp32_bias[i][..]))
            .collect();
        for i in 0..n {
            let y = forward_image(
                &self.fp32_steps,
                &weights,
                &x[i * self.input_len..][..self.input_len],
                &mut sc.fp32,
                &mut |_, _| {},
            );
            out[i * self.output_len..][..self.output_len].copy_from_slice(y);
        }
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
