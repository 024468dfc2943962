//! Calibration observers: they consume a stream of batches of one tensor and then pick the real
//! range `[rmin, rmax]` that [`super::params::compute_scale_zp`] turns into `(s, z)`.
//!
//! | method     | range                                                      | as in                          |
//! |------------|------------------------------------------------------------|--------------------------------|
//! | MinMax     | global min and max of everything seen                      | ORT MinMax, PyTorch MinMaxObserver |
//! | Percentile | the p-th percentile of `|x|` (symmetric) or the two tails `(100-p)/2` (asymmetric) | ORT Percentile |
//! | Mse        | the clip range, among 200 shrinkings of min-max, with the least squared quantization error | PyTorch HistogramObserver's idea |
//! | Entropy    | the `|x|` threshold minimising KL(P‖Q) between the clipped and the quantized histogram | TensorRT, ORT Entropy |
//!
//! All but MinMax keep a [`SymHistogram`] whose range grows as batches arrive, so the result does
//! not depend on how the data is split into batches beyond bin resolution.

use super::layout::{Granularity, Layout};
use super::linear::{dequantize_value, quantize_value};
use super::params::compute_scale_zp;
use super::Grid;
use crate::{bail, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    MinMax,
    /// Percentile in (0, 100], e.g. 99.99.
    Percentile(f64),
    Mse,
    Entropy,
}

impl Method {
    pub fn parse(name: &str, percentile: Option<f64>) -> Result<Method> {
        Ok(match name {
            "minmax" => Method::MinMax,
            "percentile" => {
                let p = percentile.unwrap_or(99.99);
                if !(p > 0.0 && p <= 100.0) {
                    bail!("options.percentile", "must be in (0, 100], found {p}");
                }
                Method::Percentile(p)
            }
            "mse" => Method::Mse,
            "entropy" => Method::Entropy,
            _ => bail!(
                "options.method",
                "unknown method '{name}', expected \"minmax\", \"percentile\", \"mse\" or \"entropy\""
            ),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Method::MinMax => "minmax",
            Method::Percentile(_) => "percentile",
            Method::Mse => "mse",
            Method::Entropy => "entropy",
        }
    }
}

/// An observer of one tensor (or one channel of it).
pub trait Observer {
    /// Feeds one batch; values must be finite (checked at the API boundary).
    fn observe(&mut self, batch: &[f32]);
    /// The clip range for `grid`, inside the observed `[min, max]`. `(0, 0)` before any data.
    fn range(&self, grid: &Grid) -> (f32, f32);
}

pub fn observer(method: Method) -> Box<dyn Observer + Send> {
    match method {
        Method::MinMax => Box::new(MinMax::default()),
        _ => Box::new(Histogram {
            method,
            hist: SymHistogram::default(),
        }),
    }
}

/// Running global min and max.
#[derive(Debug, Clone, Default)]
pub struct MinMax {
    seen: bool,
    min: f32,
    max: f32,
}

impl Observer for MinMax {
    fn observe(&mut self, batch: &[f32]) {
        for &v in batch {
            if !self.seen {
                (self.min, self.max, self.seen) = (v, v, true);
            }
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
    }
    fn range(&self, _: &Grid) -> (f32, f32) {
        if self.seen {
            (self.min, self.max)
        } else {
            (0.0, 0.0)
        }
    }
}

/// Histogram over `[-limit, limit)` with `2 * HALF_BINS` equal bins. When a value beyond `limit`
/// arrives the range doubles and pairs of bins merge; old bin edges stay edges, so no count moves
/// to a wrong place.
#[derive(Debug, Clone, Default)]
pub struct SymHistogram {
    limit: f32,
    counts: Vec<u64>,
    /// Zeros seen while the range was still empty (`limit == 0`).
    pending_zeros: u64,
    /// Values exactly 0 (also counted in their bin). They are exact under every grid, so the
    /// entropy method leaves them out (post-ReLU tensors are often half zeros).
    zeros: u64,
    total: u64,
    min: f32,
    max: f32,
}

pub const HALF_BINS: usize = 1024;

impl SymHistogram {
    /// Adds a batch. Non-finite values are not counted (the API rejects them before they get
    /// here; the model's calibration reports an overflowing layer as an error).
    pub fn observe(&mut self, batch: &[f32]) {
        let Some(&first) = batch.first() else { return };
        // One pass for the range, |x|max, the zeros and finiteness (calibration observes every
        // activation of every image: this loop is most of the lab's start-up).
        let (mut lo, mut hi) = if self.total == 0 {
            (first, first)
        } else {
            (self.min, self.max)
        };
        let (mut amax, mut zeros, mut finite) = (0.0f32, 0usize, true);
        for &v in batch {
            finite &= v.is_finite();
            lo = lo.min(v);
            hi = hi.max(v);
            amax = amax.max(v.abs());
            zeros += usize::from(v == 0.0);
        }
        if !finite {
            let finite: Vec<f32> = batch.iter().copied().filter(|v| v.is_finite()).collect();
            return self.observe(&finite);
        }
        (self.min, self.max) = (lo, hi);
        self.zeros += zeros as u64;
        self.total += batch.len() as u64;
        if amax == 0.0 && self.limit == 0.0 {
            self.pending_zeros += batch.len() as u64;
            return;
        }
        if self.limit == 0.0 {
            // Slightly above amax so the largest value falls inside the last bin.
            self.limit = amax * (1.0 + 1.0 / HALF_BINS as f32);
            self.counts = vec![0; 2 * HALF_BINS];
            self.counts[HALF_BINS] += self.pending_zeros;
            self.pending_zeros = 0;
        }
        // Finite amax: doubling a finite limit reaches past it before overflowing to inf.
        while amax >= self.limit && self.limit.is_finite() {
            self.double();
        }
        let inv_w = HALF_BINS as f32 / self.limit;
        let last = 2 * HALF_BINS - 1;
        for &v in batch {
            let i = ((v + self.limit) * inv_w) as usize; // floor, v + limit >= 0
            self.counts[i.min(last)] += 1;
        }
    }

    fn double(&mut self) {
        let mut merged = vec![0; 2 * HALF_BINS];
        for (j, &c) in self.counts.iter().enumerate() {
            merged[HALF_BINS / 2 + j / 2] += c;
        }
        self.counts = merged;
        self.limit *= 2.0;
    }

    pub fn width(&self) -> f32 {
        self.limit / HALF_BINS as f32
    }

    /// Bin centres and counts of the non-empty bins.
    pub fn nonempty(&self) -> impl Iterator<Item = (f32, u64)> + '_ {
        let w = self.width();
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(move |(i, &c)| (-self.limit + (i as f32 + 0.5) * w, c))
    }

    /// Histogram of `|x|`: bin k covers `[k·w, (k+1)·w)`.
    pub fn abs_counts(&self) -> Vec<u64> {
        (0..HALF_BINS)
            .map(|k| self.counts[HALF_BINS + k] + self.counts[HALF_BINS - 1 - k])
            .collect()
    }

    pub fn min_max(&self) -> (f32, f32) {
        (self.min, self.max)
    }

    fn is_empty(&self) -> bool {
        self.limit == 0.0
    }

    /// Smallest value v (a bin edge) with at least `q` of the mass at or below v.
    fn quantile_upper(&self, q: f64) -> f32 {
        let target = q * self.total as f64;
        let mut cum = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            cum += c;
            if cum as f64 >= target {
                return -self.limit + (i + 1) as f32 * self.width();
            }
        }
        self.limit
    }

    /// Largest bin edge v with at most `q` of the mass below v.
    fn quantile_lower(&self, q: f64) -> f32 {
        let target = q * self.total as f64;
        let mut cum = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if (cum + c) as f64 > target {
                return -self.limit + i as f32 * self.width();
            }
            cum += c;
        }
        self.limit
    }
}

/// Percentile, MSE and entropy: a histogram of everything seen, the range chosen from it by
/// [`range_from_histogram`].
pub struct Histogram {
    method: Method,
    hist: SymHistogram,
}

impl Observer for Histogram {
    fn observe(&mut self, batch: &[f32]) {
        self.hist.observe(batch)
    }
    fn range(&self, grid: &Grid) -> (f32, f32) {
        range_from_histogram(&self.hist, self.method, grid)
    }
}

/// Clips a symmetric threshold `t` to the data: `[max(min, -t), min(max, t)]`.
fn clip_to_data((min, max): (f32, f32), t: f32) -> (f32, f32) {
    (min.max(-t), max.min(t))
}

/// The p-th percentile of `|x|` (symmetric grid), or the two tails `(100 − p)/2` (asymmetric).
fn percentile_range(h: &SymHistogram, p: f64, grid: &Grid) -> (f32, f32) {
    if h.is_empty() {
        return (0.0, 0.0);
    }
    let (min, max) = h.min_max();
    if grid.symmetric() {
        // p-th percentile of |x|.
        let abs = h.abs_counts();
        let target = p / 100.0 * h.total as f64;
        let mut cum = 0u64;
        let mut t = h.limit;
        for (k, &c) in abs.iter().enumerate() {
            cum += c;
            if cum as f64 >= target {
                t = (k + 1) as f32 * h.width();
                break;
            }
        }
        clip_to_data((min, max), t)
    } else {
        let cut = (100.0 - p) / 200.0;
        let lo = h.quantile_lower(cut).max(min);
        let hi = h.quantile_upper(1.0 - cut).min(max);
        (lo.min(hi), hi)
    }
}

/// Sum of squared quantization errors of the histogram's mass under the grid fitted to `range`.
fn histogram_sq_error(h: &SymHistogram, grid: &Grid, (lo, hi): (f32, f32)) -> f64 {
    let (qmin, qmax) = grid.qrange();
    let Ok((s, z)) = compute_scale_zp(lo, hi, qmin, qmax, grid.symmetric()) else {
        return f64::INFINITY;
    };
    h.nonempty()
        .map(|(c, n)| {
            let e = (c - dequantize_value(quantize_value(c, s, z, qmin, qmax), s, z)) as f64;
            e * e * n as f64
        })
        .sum()
}

pub const MSE_CANDIDATES: usize = 200;

/// The shrinking of min-max, among `MSE_CANDIDATES`, with the least squared error.
fn mse_range(h: &SymHistogram, grid: &Grid) -> (f32, f32) {
    if h.is_empty() {
        return (0.0, 0.0);
    }
    let (min, max) = h.min_max();
    let amax = min.abs().max(max.abs());
    // Candidates shrink min-max by alpha = i / N; for a symmetric grid only amax matters.
    let candidate = |i: usize| {
        let alpha = i as f32 / MSE_CANDIDATES as f32;
        if grid.symmetric() {
            clip_to_data((min, max), amax * alpha)
        } else {
            (min * alpha, max * alpha)
        }
    };
    let mut best = (f64::INFINITY, (min, max));
    for i in (1..=MSE_CANDIDATES).rev() {
        let r = candidate(i);
        let e = histogram_sq_error(h, grid, r);
        if e < best.0 {
            best = (e, r);
        }
    }
    best.1
}

/// The `|x|` threshold minimising KL(P‖Q) (TensorRT's method).
fn entropy_range(h: &SymHistogram, grid: &Grid) -> (f32, f32) {
    if h.is_empty() {
        return (0.0, 0.0);
    }
    let (min, max) = h.min_max();
    let mut abs = h.abs_counts();
    abs[0] -= h.zeros;
    let amax = min.abs().max(max.abs());
    // Bins that can hold data; the histogram range may be up to twice amax.
    let used = (((amax / h.width()).ceil() as usize).max(1)).min(abs.len());
    // Grid points that cover |x| in [0, T]: half the grid when it spans both signs.
    let levels = if min < 0.0 {
        (grid.levels() as usize / 2).max(2)
    } else {
        grid.levels() as usize
    };
    // A sparse histogram says little about the distribution: merge bins until there are
    // about 16 values per bin (never below the number of grid points). With too few values
    // this falls back to the full range, as min-max.
    let nonzero: u64 = abs[..used].iter().sum();
    let target = ((nonzero / 16) as usize).clamp(levels, used.max(levels));
    let f = used.div_ceil(target).max(1);
    let merged: Vec<u64> = abs[..used].chunks(f).map(|c| c.iter().sum()).collect();
    let t_bins = kl_threshold(&merged, levels);
    clip_to_data((min, max), (t_bins * f) as f32 * h.width())
}

/// TensorRT's calibration: for each candidate threshold `i` (in bins, from `levels` to all),
/// `P` = the first `i` bins with everything beyond folded into bin `i-1`, `Q` = those bins merged
/// into `levels` groups and spread back evenly over each group's non-empty bins; returns the `i`
/// minimising KL(P‖Q).
pub fn kl_threshold(hist: &[u64], levels: usize) -> usize {
    let n = hist.len();
    if n <= levels {
        return n;
    }
    let total_beyond: Vec<u64> = {
        let mut v = vec![0u64; n + 1];
        for i in (0..n).rev() {
            v[i] = v[i + 1] + hist[i];
        }
        v
    };
    let mut best = (f64::INFINITY, n);
    let mut p = vec![0f64; n];
    let mut q = vec![0f64; n];
    for i in levels..=n {
        for k in 0..i {
            p[k] = hist[k] as f64;
        }
        p[i - 1] += total_beyond[i] as f64;
        for j in 0..levels {
            let (start, end) = (j * i / levels, (j + 1) * i / levels);
            let sum: u64 = hist[start..end].iter().sum();
            let nz = hist[start..end].iter().filter(|&&c| c > 0).count();
            for k in start..end {
                q[k] = if hist[k] > 0 {
                    sum as f64 / nz as f64
                } else {
                    0.0
                };
            }
        }
        let kl = kl_divergence(&p[..i], &q[..i]);
        if kl < best.0 {
            best = (kl, i);
        }
    }
    best.1
}

/// KL(P‖Q) of two unnormalised histograms; Q is smoothed with a small epsilon where P > 0 and
/// Q = 0, as TensorRT and ONNX Runtime do.
fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    const EPS: f64 = 1e-4;
    let sp: f64 = p.iter().sum();
    let sq: f64 = q.iter().sum();
    if sp == 0.0 || sq == 0.0 {
        return f64::INFINITY;
    }
    p.iter()
        .zip(q)
        .filter(|(&pi, _)| pi > 0.0)
        .map(|(&pi, &qi)| {
            let pn = pi / sp;
            let qn = (qi / sq).max(EPS / sq);
            pn * (pn / qn).ln()
        })
        .sum()
}

/// The range `method` picks from a histogram of everything observed (MinMax uses the exact
/// min and max the histogram tracks). Lets a model calibrate once and try every method and
/// bit width without running the float model again.
pub fn range_from_histogram(h: &SymHistogram, method: Method, grid: &Grid) -> (f32, f32) {
    if h.total == 0 {
        return (0.0, 0.0);
    }
    match method {
        Method::MinMax => h.min_max(),
        Method::Percentile(p) => percentile_range(h, p, grid),
        Method::Mse => mse_range(h, grid),
        Method::Entropy => entropy_range(h, grid),
    }
}

/// Observes `x` in one batch and returns one range per parameter of `layout` (one for the
/// tensor, one per channel, or one per block).
pub fn calibrate(x: &[f32], layout: &Layout, method: Method, grid: &Grid) -> Vec<(f32, f32)> {
    if layout.granularity == Granularity::Tensor {
        let mut o = observer(method);
        o.observe(x);
        return vec![o.range(grid)];
    }
    let mut ranges = vec![(0.0, 0.0); layout.param_count()];
    layout.for_each_group(x, |p, g| {
        let mut o = observer(method);
        o.observe(g);
        ranges[p] = o.range(grid);
    });
    ranges
}

impl SymHistogram {
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Mean squared quantization error of the observed mass under `(s, z)` on `[qmin, qmax]`,
    /// split into `(rounding, clipping)`: bins whose centre falls inside the grid's range round,
    /// the others clip. Evaluated at bin centres.
    pub fn error_split(&self, s: f32, z: i32, qmin: i32, qmax: i32) -> (f64, f64) {
        let (lo, hi) = (dequantize_value(qmin, s, z), dequantize_value(qmax, s, z));
        let (mut r, mut c) = (0f64, 0f64);
        for (x, n) in self.nonempty() {
            let e = (x - dequantize_value(quantize_value(x, s, z, qmin, qmax), s, z)) as f64;
            let e2 = e * e * n as f64;
            if x < lo - s / 2.0 || x > hi + s / 2.0 {
                c += e2;
            } else {
                r += e2;
            }
        }
        let n = self.total.max(1) as f64;
        (r / n, c / n)
    }

    /// The observed mass re-binned into `bins` equal bins over `[lo, hi]` (by bin centre).
    pub fn rebin(&self, lo: f32, hi: f32, bins: usize) -> Vec<u32> {
        let mut out = vec![0u32; bins.max(1)];
        let n = out.len();
        let span = (hi - lo).max(f32::MIN_POSITIVE);
        let mut zeros = self.pending_zeros;
        for (x, c) in self.nonempty() {
            let i = (((x - lo) / span) * n as f32)
                .floor()
                .clamp(0.0, (n - 1) as f32) as usize;
            out[i] = out[i].saturating_add(c.min(u32::MAX as u64) as u32);
        }
        if zeros > 0 {
            let i = (((0.0 - lo) / span) * n as f32)
                .floor()
                .clamp(0.0, (n - 1) as f32) as usize;
            zeros = zeros.min(u32::MAX as u64);
            out[i] = out[i].saturating_add(zeros as u32);
        }
        out
    }
}
