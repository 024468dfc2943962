//! What quantizing one tensor does to it: error statistics, sizes and histograms.

use super::layout::Layout;
use super::linear::{dequantize_value, quantize_value};
use super::{Grid, QuantParams};
use serde::Serialize;

/// Equal-width histogram over `[lo, hi]`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Histogram {
    pub lo: f32,
    pub hi: f32,
    pub counts: Vec<u32>,
}

impl Histogram {
    pub fn new(lo: f32, hi: f32, bins: usize) -> Self {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        };
        Histogram {
            lo,
            hi,
            counts: vec![0; bins.max(1)],
        }
    }

    #[inline]
    pub fn add(&mut self, v: f32) {
        let n = self.counts.len();
        let t = (v - self.lo) / (self.hi - self.lo) * n as f32;
        let i = if t.is_nan() || t < 0.0 {
            0
        } else {
            (t as usize).min(n - 1)
        };
        self.counts[i] += 1;
    }

    pub fn bin_width(&self) -> f32 {
        (self.hi - self.lo) / self.counts.len() as f32
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub count: usize,
    pub data_min: f32,
    pub data_max: f32,
    pub qmin: i32,
    pub qmax: i32,
    pub bits: u32,
    pub scale: Vec<f32>,
    pub zero_point: Vec<i32>,
    pub axis: Option<usize>,
    /// Blocked parameters: the block length along `axis`.
    pub block_size: Option<usize>,
    /// Real values of `qmin` and `qmax` for the channel shown (`channel`): beyond them values clip.
    pub clip_low: f32,
    pub clip_high: f32,
    pub channel: usize,
    /// Mean squared error `mean((x - x̂)²)`, split into values inside the grid (rounding) and
    /// values beyond it (clipping): `mse = rounding_mse + clipping_mse`.
    pub mse: f64,
    pub rounding_mse: f64,
    pub clipping_mse: f64,
    pub max_abs_error: f32,
    /// `10·log10(Σx² / Σ(x − x̂)²)`; infinite when the error is 0.
    pub sqnr_db: f64,
    /// Fraction of values whose `round(x/s) + z` fell outside `[qmin, qmax]`.
    pub clipped_fraction: f64,
    /// Share of values quantized to the zero point: they come back as exactly 0 ("pruned").
    pub zero_fraction: f64,
    /// Per-channel SQNR when per-axis (empty otherwise).
    pub channel_sqnr_db: Vec<f64>,
    pub bytes_float: usize,
    /// int8 storage: one byte a value, plus 4-byte scales and 1-byte zero points.
    pub bytes_int8: usize,
    /// The same with values packed at `bits` bits.
    pub bytes_packed: usize,
    pub value_histogram: Histogram,
    pub error_histogram: Histogram,
    /// Real values of the grid points `(q − z)·s` of the channel shown, `qmin..=qmax`.
    pub grid: Vec<f32>,
}

/// Analyses `x` quantized with `params` on `grid`, with histograms of `bins` bins; the grid and
/// clip bounds reported are those of `channel` (ignored when per-tensor).
pub fn analyze(
    x: &[f32],
    params: &QuantParams,
    layout: &Layout,
    grid: &Grid,
    bins: usize,
    channel: usize,
) -> Analysis {
    analyze_given(x, None, params, layout, grid, bins, channel)
}

/// As [`analyze`], with the integers `q` (one per value of `x`) given instead of rounded to
/// nearest here: a quantizer that rounds otherwise (GPTQ) is measured on what it chose. A value
/// still counts as clipped when `x / s` lies beyond the grid, whatever integer it was given.
pub fn analyze_given(
    x: &[f32],
    q: Option<&[i32]>,
    params: &QuantParams,
    layout: &Layout,
    grid: &Grid,
    bins: usize,
    channel: usize,
) -> Analysis {
    debug_assert!(
        q.is_none_or(|q| q.len() == x.len()),
        "one integer per value"
    );
    let (qmin, qmax) = grid.qrange();
    let nch = params.scale.len();
    let channel = if nch > 1 { channel.min(nch - 1) } else { 0 };
    let chan = (nch > 1).then(|| layout.param_index());
    let mut chan = chan.iter().flat_map(|a| a.iter().copied());

    let (mut sum_x2, mut sum_round, mut sum_clip) = (0f64, 0f64, 0f64);
    let mut ch_x2 = vec![0f64; nch];
    let mut ch_e2 = vec![0f64; nch];
    let (mut clipped, mut zeros, mut max_err) = (0usize, 0usize, 0f32);
    let (mut dmin, mut dmax) = (f32::INFINITY, f32::NEG_INFINITY);
    let mut errors = Vec::with_capacity(x.len());
    for (i, &v) in x.iter().enumerate() {
        let c = chan.next().unwrap_or(0);
        let (s, z) = (params.scale[c], params.zero_point[c]);
        let r = (v / s).round_ties_even() + z as f32;
        let q = match q {
            Some(q) => q[i],
            None => quantize_value(v, s, z, qmin, qmax),
        };
        zeros += usize::from(q == z);
        let e = v - dequantize_value(q, s, z);
        let e2 = (e as f64) * (e as f64);
        if r < qmin as f32 || r > qmax as f32 {
            clipped += 1;
            sum_clip += e2;
        } else {
            sum_round += e2;
        }
        sum_x2 += (v as f64) * (v as f64);
        ch_x2[c] += (v as f64) * (v as f64);
        ch_e2[c] += e2;
        max_err = max_err.max(e.abs());
        dmin = dmin.min(v);
        dmax = dmax.max(v);
        errors.push(e);
    }
    let n = x.len();
    if n == 0 {
        (dmin, dmax) = (0.0, 0.0);
    }
    let sqnr = |x2: f64, e2: f64| {
        if e2 == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (x2 / e2).log10()
        }
    };
    let nf = n.max(1) as f64;

    let (s, z) = (params.scale[channel], params.zero_point[channel]);
    let clip_low = dequantize_value(qmin, s, z);
    let clip_high = dequantize_value(qmax, s, z);
    let mut value_histogram = Histogram::new(dmin.min(clip_low), dmax.max(clip_high), bins);
    x.iter().for_each(|&v| value_histogram.add(v));
    let e_lim = max_err.max(s / 2.0);
    let mut error_histogram = Histogram::new(-e_lim, e_lim, bins);
    errors.iter().for_each(|&e| error_histogram.add(e));

    let params_bytes = nch * 4 + nch;
    Analysis {
        count: n,
        data_min: dmin,
        data_max: dmax,
        qmin,
        qmax,
        bits: grid.bits,
        scale: params.scale.clone(),
        zero_point: params.zero_point.clone(),
        axis: params.axis,
        block_size: layout.block_size(),
        clip_low,
        clip_high,
        channel,
        mse: (sum_round + sum_clip) / nf,
        rounding_mse: sum_round / nf,
        clipping_mse: sum_clip / nf,
        max_abs_error: max_err,
        sqnr_db: sqnr(sum_x2, sum_round + sum_clip),
        clipped_fraction: clipped as f64 / nf,
        zero_fraction: zeros as f64 / nf,
        channel_sqnr_db: if nch > 1 {
            ch_x2
                .iter()
                .zip(&ch_e2)
                .map(|(&a, &b)| sqnr(a, b))
                .collect()
        } else {
            vec![]
        },
        bytes_float: 4 * n,
        bytes_int8: n + params_bytes,
        bytes_packed: (n * grid.bits as usize).div_ceil(8) + params_bytes,
        value_histogram,
        error_histogram,
        grid: (qmin..=qmax).map(|q| dequantize_value(q, s, z)).collect(),
    }
}
