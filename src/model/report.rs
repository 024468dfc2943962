//! What quantization did to each layer: sizes, weight error statistics and histograms, and the
//! calibrated activation ranges with their rounding and clipping error.

use super::int8::{ActParams, Calibration, QModel};
use super::Model;
use crate::quant::analysis::{analyze, Analysis};
use crate::quant::layout::Layout;
use crate::quant::{Dtype, Grid, QuantParams, Scheme};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActReport {
    pub scale: f32,
    pub zero_point: i32,
    pub qmin: i32,
    pub qmax: i32,
    /// The clip range calibration chose, and the observed range.
    pub clip_low: f32,
    pub clip_high: f32,
    pub data_min: f32,
    pub data_max: f32,
    /// Mean squared error of the calibration data under `(s, z)`, split in two.
    pub rounding_mse: f64,
    pub clipping_mse: f64,
    /// Histogram of the calibration data over `[hist_low, hist_high]`.
    pub hist_low: f32,
    pub hist_high: f32,
    pub histogram: Vec<u32>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerReport {
    pub index: usize,
    pub name: String,
    pub kind: &'static str,
    pub weight_shape: Vec<usize>,
    pub params: usize,
    pub macs: usize,
    pub weight_bits: u32,
    pub act_bits: u32,
    pub per_channel: bool,
    pub relu: bool,
    /// float32 weights and biases.
    pub bytes_fp32: usize,
    /// int8 weights + float32 scales + int8 zero points + int32 biases (no float copy).
    pub bytes_int8: usize,
    /// The same with the weights packed at `weight_bits` bits.
    pub bytes_packed: usize,
    /// Group-wise weights: inputs per group (the weight analysis is then per group).
    pub group_size: Option<usize>,
    /// SQNR of the weights the model runs (`w_q` dequantized, so GPTQ's rounding included)
    /// against the float weights; `weight` analyses round-to-nearest on the same scales.
    pub deployed_weight_sqnr_db: f64,
    pub weight: Analysis,
    pub input: ActReport,
    pub output: ActReport,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelReport {
    pub layers: Vec<LayerReport>,
    pub bytes_fp32: usize,
    pub bytes_int8: usize,
    pub bytes_packed: usize,
    pub compression: f64,
    pub params: usize,
    pub macs: usize,
    pub calibration_images: usize,
}

fn act_report(p: &ActParams, cal: &Calibration, point: usize, bins: usize) -> ActReport {
    let h = &cal.points[point];
    let (dmin, dmax) = h.min_max();
    let (rounding_mse, clipping_mse) = h.error_split(p.scale, p.zero_point, p.qmin, p.qmax);
    let (lo, hi) = (dmin.min(p.range.0), dmax.max(p.range.1));
    ActReport {
        scale: p.scale,
        zero_point: p.zero_point,
        qmin: p.qmin,
        qmax: p.qmax,
        clip_low: p.range.0,
        clip_high: p.range.1,
        data_min: dmin,
        data_max: dmax,
        rounding_mse,
        clipping_mse,
        hist_low: lo,
        hist_high: hi,
        histogram: h.rebin(lo, hi, bins),
    }
}

/// The report of `q`, quantized from `model` with calibration `cal`; histograms have `bins`
/// bins and the weight grid shown is that of output channel `channel`.
pub fn report(
    model: &Model,
    q: &QModel,
    cal: &Calibration,
    bins: usize,
    channel: usize,
) -> ModelReport {
    // An equalized model was quantized from its equalized weights and calibration.
    let (model, cal) = match q.config.equalize.then(|| cal.equalized(model)) {
        Some(Ok(e)) => (&e.model, &e.calibration),
        _ => (model, cal),
    };
    let mut layers = Vec::new();
    for (i, l) in q.layers().enumerate() {
        let layer = &model.layers[l.layer];
        let (w, shape) = match layer {
            super::Layer::Conv2d(c) => (&c.weight, vec![c.m, c.c, c.k, c.k]),
            super::Layer::Linear(f) => (&f.weight, vec![f.n_out, f.n_in]),
            _ => continue,
        };
        let m = l.shape.m;
        let grid = Grid {
            dtype: Dtype::Int8,
            bits: l.weight_bits,
            scheme: Scheme::Symmetric,
        };
        let k = w.len() / l.shape.m;
        let (params, layout) = if let Some(g) = l.scales.group {
            (
                QuantParams {
                    scale: l.scales.scale.clone(),
                    zero_point: vec![0; l.scales.scale.len()],
                    axis: Some(1),
                },
                Layout::blocked(&[l.shape.m, k], 1, g),
            )
        } else if l.per_channel {
            (
                QuantParams {
                    scale: l.w_scale.clone(),
                    zero_point: vec![0; m],
                    axis: Some(0),
                },
                Layout::axis(&[m, w.len() / m], 0),
            )
        } else {
            (
                QuantParams::per_tensor(l.w_scale[0], 0),
                Layout::tensor(w.len()),
            )
        };
        let nscales = match l.scales.group {
            Some(_) => l.scales.scale.len(),
            None if l.per_channel => m,
            None => 1,
        };
        let (sx, se) = w
            .iter()
            .zip(&l.w_dq)
            .fold((0f64, 0f64), |(a, b), (&x, &d)| {
                (a + (x as f64).powi(2), b + ((x - d) as f64).powi(2))
            });
        let deployed_weight_sqnr_db = if se == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (sx / se).log10()
        };
        layers.push(LayerReport {
            index: l.layer,
            name: l.name.clone(),
            kind: layer.kind(),
            weight_shape: shape,
            params: layer.params(),
            macs: l.shape.m * l.shape.p() * l.shape.taps(),
            weight_bits: l.weight_bits,
            act_bits: l.act_bits,
            per_channel: l.per_channel,
            relu: l.relu,
            bytes_fp32: 4 * layer.params(),
            bytes_int8: w.len() + nscales * 5 + 4 * m,
            bytes_packed: match q.config.format {
                // float16 / bfloat16: two bytes per weight and bias, no scales.
                Some(_) => 2 * layer.params(),
                None => (w.len() * l.weight_bits as usize).div_ceil(8) + nscales * 5 + 4 * m,
            },
            group_size: l.scales.group,
            deployed_weight_sqnr_db,
            weight: analyze(w, &params, &layout, &grid, bins, channel),
            input: act_report(&l.x, cal, i, bins),
            output: act_report(&l.y, cal, i + 1, bins),
        });
    }
    let bytes_fp32: usize = layers.iter().map(|l| l.bytes_fp32).sum();
    let bytes_int8: usize = layers.iter().map(|l| l.bytes_int8).sum();
    let bytes_packed: usize = layers.iter().map(|l| l.bytes_packed).sum();
    ModelReport {
        bytes_fp32,
        bytes_int8,
        bytes_packed,
        compression: bytes_fp32 as f64 / bytes_int8.max(1) as f64,
        params: model.params(),
        macs: model.macs(),
        calibration_images: cal.images,
        layers,
    }
}
