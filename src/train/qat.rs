//! Quantization-aware training (QAT): fine-tune the float weights while the forward pass sees
//! the integer model's grids, as PyTorch's `FakeQuantize` does, then quantize the result with
//! the same code as post-training quantization and evaluate it on the true integer path.
//!
//! Each step:
//! ```text
//! ŵ = dequantize(round(w / s_w))           s_w from the current w, the integer model's rule
//!                                          (per tensor, per channel or per group; narrow range)
//! forward with ŵ, fake-quantizing the input and every conv/linear output (after its ReLU)
//! on the grids the observers chose;  backward with the straight-through estimator;
//! Adam on the float w (cosine learning rate)
//! ```
//! Activation ranges start from observers: the lab's calibration method on the calibration
//! images, through the fake-quantized model. Then either
//! * learned (LSQ, Esser et al. 2020; the default): each point's scale `s` is a parameter,
//!   ```text
//!   ∂x̂/∂s = round(x/s) − x/s inside the grid, (qmin − z) or (qmax − z) outside,
//!   scaled by 1/√(N·(qmax − z)), N = values of the tensor;   z stays fixed
//!   ```
//!   trained by Adam with the weights, so a point can clip its outliers when that lowers the
//!   loss (min-max ranges cannot learn to); or
//! * observed (PyTorch's default schedule): measured again every `observe_every` steps, frozen
//!   after `freeze_at` of the steps.
//!
//! Either way the integer model is built by the post-training code with the ranges the last
//! steps trained against (PyTorch's `convert`), see [`Qat::ranges`].

use super::net::{self, ActGrids, Tape};
use super::{batch_step, epoch_samples, Adam, BatchStats, Grads, Sample, SplitMix64};
use crate::model::digits::Digits;
use crate::model::int8::{weight_grid, ActParams, QuantConfig};
use crate::model::{Layer, Model};
use crate::quant::calibrate::SymHistogram;
use crate::quant::{Dtype, Grid};
use crate::{bail, Result};

/// The learned scales move this many times faster than the weights (their gradients are scaled
/// down by 1/√(N·Qp), LSQ's rule, and there are few of them).
const SCALE_LR: f32 = 10.0;

/// How a fine-tuning run goes. The defaults are the page's.
#[derive(Debug, Clone, PartialEq)]
pub struct QatOptions {
    pub steps: usize,
    pub batch: usize,
    /// Peak Adam learning rate, cosine-annealed to 0 over `steps`.
    pub lr: f32,
    pub seed: u64,
    /// Training augmentation: whole-pixel shifts in `[−shift, shift]`, as the model was trained.
    pub shift: usize,
    pub observe_every: usize,
    /// Fraction of the steps after which the observers stop (observed ranges only).
    pub freeze_at: f32,
    /// Learn the activation scales (LSQ) instead of observing them.
    pub learn_scales: bool,
}

impl Default for QatOptions {
    fn default() -> Self {
        QatOptions {
            steps: 600,
            batch: 32,
            lr: 1e-3,
            seed: 20261201,
            shift: 1,
            observe_every: 25,
            freeze_at: 0.75,
            learn_scales: true,
        }
    }
}

impl QatOptions {
    pub fn validate(&self) -> Result<()> {
        if !(1..=100_000).contains(&self.steps) {
            bail!("steps", "must be from 1 to 100000, found {}", self.steps);
        }
        if !(1..=1024).contains(&self.batch) {
            bail!("batch", "must be from 1 to 1024, found {}", self.batch);
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0) {
            bail!("lr", "must be in (0, 1], found {}", self.lr);
        }
        if self.shift > 8 {
            bail!("shift", "must be at most 8 pixels, found {}", self.shift);
        }
        if self.observe_every == 0 {
            bail!("observeEvery", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.freeze_at) {
            bail!("freezeAt", "must be in [0, 1], found {}", self.freeze_at);
        }
        Ok(())
    }
}

/// The fake-quantized weights of every conv and linear layer (biases as they are: the integer
/// model's int32 bias is exact to well below a weight step).
pub fn fake_weights(model: &Model, config: &QuantConfig) -> Result<Vec<(Vec<f32>, Vec<f32>)>> {
    model
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (w, b, rows) = match l {
                Layer::Conv2d(c) => (&c.weight, &c.bias, c.m),
                Layer::Linear(f) => (&f.weight, &f.bias, f.n_out),
                _ => return Ok((vec![], vec![])),
            };
            let (scales, qmax) = weight_grid(w, rows, i, config)?;
            Ok((scales.dequantize(&scales.round(w, qmax)), b.clone()))
        })
        .collect()
}

/// The activation grid of every point: the input's and each conv/linear layer's output bits.
fn point_grids(model: &Model, config: &QuantConfig) -> Result<Vec<Grid>> {
    let mut g = vec![Grid::new(Dtype::Int8, config.act_bits, config.act_scheme)?];
    for (i, l) in model.layers.iter().enumerate() {
        if matches!(l, Layer::Conv2d(_) | Layer::Linear(_)) {
            g.push(Grid::new(
                Dtype::Int8,
                config.bits_for(i).1,
                config.act_scheme,
            )?);
        }
    }
    Ok(g)
}

/// The observers: histograms of every point over the calibration images, through the model
/// with weights `w` and (once there are grids) fake-quantized activations, turned into grids by
/// the lab's calibration method.
pub fn observe(
    model: &Model,
    config: &QuantConfig,
    w: &[(Vec<f32>, Vec<f32>)],
    act: ActGrids,
    cal: &[f32],
    n: usize,
    tape: &mut Tape,
) -> Result<Vec<ActParams>> {
    let grids = point_grids(model, config)?;
    let points = net::points_after(model);
    let mut hist = vec![SymHistogram::default(); grids.len()];
    let wr: Vec<(&[f32], &[f32])> = w.iter().map(|(a, b)| (&a[..], &b[..])).collect();
    let len = model.input_len();
    for i in 0..n {
        tape.forward(
            model,
            &wr,
            &cal[i * len..(i + 1) * len],
            act,
            &points,
            &mut |p, v| hist[p].observe(v),
        );
    }
    hist.iter()
        .zip(&grids)
        .map(|(h, g)| ActParams::new(h, config.method, g))
        .collect()
}

/// One fine-tuning run in progress. `run(k)` takes k more steps, so a worker can train in
/// slices and stay responsive (and be cancelled between them).
#[derive(Debug, Clone)]
pub struct Qat {
    pub model: Model,
    /// The weights fine-tuning started from (for the before/after views).
    pub initial: Model,
    pub config: QuantConfig,
    pub options: QatOptions,
    pub step: usize,
    /// The activation grids the last steps trained against (frozen after `freeze_at`).
    pub act: Vec<ActParams>,
    train: Digits,
    cal: Vec<f32>,
    cal_n: usize,
    tape: Tape,
    grads: Grads,
    adam: Adam,
    rng: SplitMix64,
    order: Vec<usize>,
    queue: Vec<Sample>,
    /// LSQ: per point, the gradient scale 1/√(N·(qmax − z)) and Adam's moments of `s`.
    lsq_scale: Vec<f32>,
    lsq_m: Vec<f32>,
    lsq_v: Vec<f32>,
    dscale: Vec<f32>,
}

impl Qat {
    /// Starts fine-tuning `model` for `config`'s grids on `train`, with activation observers
    /// on the `cal_n` preprocessed calibration images `cal`.
    pub fn new(
        model: &Model,
        config: &QuantConfig,
        train: &Digits,
        cal: &[f32],
        cal_n: usize,
        options: QatOptions,
    ) -> Result<Qat> {
        options.validate()?;
        model.validate()?;
        if config.format.is_some() {
            bail!(
                "config.format",
                "is a float format; quantization-aware training fine-tunes for integer grids"
            );
        }
        if config.dynamic {
            bail!(
                "config.method",
                "is dynamic; quantization-aware training learns with static activation ranges (choose an observer)"
            );
        }
        if train.is_empty() {
            bail!("train", "has no images");
        }
        if cal_n == 0 || cal.len() != cal_n * model.input_len() {
            bail!(
                "calibration",
                "needs at least one image of {} values, found {} values for {cal_n}",
                model.input_len(),
                cal.len()
            );
        }
        let mut tape = Tape::new(model)?;
        // Refused here, not mid-run: images that do not fit the input.
        let mut x = vec![0.0; model.input_len()];
        train.sample_into(0, model.input, 0, 0, &mut x)?;
        let w = fake_weights(model, config)?;
        let act = observe(model, config, &w, None, cal, cal_n, &mut tape)?;
        let mut sizes = vec![model.input_len()];
        let shapes = model.shapes()?;
        for (i, p) in net::points_after(model).iter().enumerate() {
            if p.is_some() {
                sizes.push(shapes[i].iter().product());
            }
        }
        let lsq_scale = sizes
            .iter()
            .zip(&act)
            .map(|(&n, a)| 1.0 / ((n as f32) * (a.qmax - a.zero_point).max(1) as f32).sqrt())
            .collect();
        let np = act.len();
        Ok(Qat {
            initial: model.clone(),
            lsq_scale,
            lsq_m: vec![0.0; np],
            lsq_v: vec![0.0; np],
            dscale: vec![0.0; np],
            model: model.clone(),
            config: config.clone(),
            step: 0,
            act,
            train: train.clone(),
            cal: cal.to_vec(),
            cal_n,
            grads: net::zero_grads(model),
            adam: Adam::new(model),
            rng: SplitMix64::new(options.seed),
            order: (0..train.len()).collect(),
            queue: vec![],
            tape,
            options,
        })
    }

    /// The calibration images the observers read, and their count.
    pub fn calibration_images(&self) -> (&[f32], usize) {
        (&self.cal, self.cal_n)
    }

    pub fn done(&self) -> bool {
        self.step >= self.options.steps
    }

    /// Up to `k` more steps (fewer at the end); the mean loss and training accuracy over them.
    pub fn run(&mut self, k: usize) -> Result<BatchStats> {
        let mut total = BatchStats::default();
        let freeze = (self.options.freeze_at * self.options.steps as f32) as usize;
        for _ in 0..k {
            if self.done() {
                break;
            }
            let w = fake_weights(&self.model, &self.config)?;
            let observing = !self.options.learn_scales && self.step < freeze;
            if self.step > 0 && self.step % self.options.observe_every == 0 && observing {
                self.act = observe(
                    &self.model,
                    &self.config,
                    &w,
                    Some(&self.act),
                    &self.cal,
                    self.cal_n,
                    &mut self.tape,
                )?;
            }
            let batch = self.next_batch();
            let lr = super::cosine_lr(self.options.lr, self.step, self.options.steps);
            let st = batch_step(
                &mut self.model,
                Some(&w),
                Some(&self.act),
                &self.train,
                &batch,
                &mut self.tape,
                &mut self.grads,
                &mut self.adam,
                lr,
                Some(&mut self.dscale),
            )?;
            if self.options.learn_scales {
                self.learn_scales(lr);
            }
            total.loss += st.loss;
            total.correct += st.correct;
            total.n += st.n;
            self.step += 1;
        }
        if total.n > 0 {
            total.loss /= total.n as f64;
        }
        Ok(total)
    }

    /// One Adam step on every point's scale but the input's (its range is the data's), at the
    /// weights' step (the same bias corrections).
    fn learn_scales(&mut self, lr: f32) {
        let c = self.adam.corrections();
        for p in 1..self.act.len() {
            let g = self.dscale[p] * self.lsq_scale[p];
            self.dscale[p] = 0.0;
            let a = &mut self.act[p];
            Adam::update(
                &mut a.scale,
                g,
                &mut self.lsq_m[p],
                &mut self.lsq_v[p],
                SCALE_LR * lr,
                c,
            );
            a.scale = a.scale.max(1e-8);
            a.range = (
                (a.qmin - a.zero_point) as f32 * a.scale,
                (a.qmax - a.zero_point) as f32 * a.scale,
            );
        }
        self.dscale[0] = 0.0;
    }

    /// The clip range of every point the last steps trained against: what the integer model
    /// uses (`Calibration::with_ranges`).
    pub fn ranges(&self) -> Vec<(f32, f32)> {
        self.act.iter().map(|a| a.range).collect()
    }

    fn next_batch(&mut self) -> Vec<Sample> {
        let b = self.options.batch.min(self.train.len());
        if self.queue.len() < b {
            let mut fresh = epoch_samples(&mut self.rng, &mut self.order, self.options.shift);
            fresh.reverse();
            fresh.append(&mut self.queue);
            self.queue = fresh;
        }
        let at = self.queue.len() - b;
        let mut batch = self.queue.split_off(at);
        batch.reverse();
        batch
    }
}

/// Where the float weights of one layer sit on their integer grid: a histogram of `w / s` (in
/// grid steps, `s` the integer model's scale of each weight's row or group) over
/// `[−qmax − ½, qmax + ½]`, `per_step` bins per step, and the fraction within 0.1 of a step from
/// a grid point. Rounding to nearest moves each weight by up to half a step; weights that already
/// sit on grid points lose nothing. [`levels_changed`] says how many integer weights a run moved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GridHistogram {
    pub lo: f32,
    pub hi: f32,
    pub counts: Vec<u32>,
    pub near_fraction: f64,
}

/// Layer `layer`'s weights and output channels, or an error naming it.
fn layer_weight(model: &Model, layer: usize) -> Result<(&[f32], usize)> {
    match model.layers.get(layer) {
        Some(Layer::Conv2d(c)) => Ok((&c.weight, c.m)),
        Some(Layer::Linear(f)) => Ok((&f.weight, f.n_out)),
        _ => bail!("layer", "{layer} is not a conv or linear layer"),
    }
}

pub fn grid_histogram(
    model: &Model,
    config: &QuantConfig,
    layer: usize,
    per_step: usize,
) -> Result<GridHistogram> {
    let (w, rows) = layer_weight(model, layer)?;
    if !(1..=64).contains(&per_step) {
        bail!("binsPerStep", "must be from 1 to 64, found {per_step}");
    }
    let (scales, qmax) = weight_grid(w, rows, layer, config)?;
    let hi = qmax as f32 + 0.5;
    let bins = (2 * qmax as usize + 1) * per_step;
    let mut counts = vec![0u32; bins];
    let mut near = 0usize;
    for (i, &v) in w.iter().enumerate() {
        let s = scales.at(i / scales.k, i % scales.k);
        let t = if s > 0.0 { v / s } else { 0.0 };
        near += ((t - t.round_ties_even()).abs() <= 0.1) as usize;
        let b = (((t + hi) / (2.0 * hi)) * bins as f32).floor();
        counts[(b.max(0.0) as usize).min(bins - 1)] += 1;
    }
    Ok(GridHistogram {
        lo: -hi,
        hi,
        counts,
        near_fraction: near as f64 / w.len().max(1) as f64,
    })
}

/// The fraction of layer `layer`'s integer weights (as the integer model rounds them) that differ
/// between `before` and `after`: how much of the integer model fine-tuning changed.
pub fn levels_changed(
    before: &Model,
    after: &Model,
    config: &QuantConfig,
    layer: usize,
) -> Result<f64> {
    let q = |m: &Model| -> Result<Vec<i8>> {
        let (w, rows) = layer_weight(m, layer)?;
        let (s, qmax) = weight_grid(w, rows, layer, config)?;
        Ok(s.round(w, qmax))
    };
    let (a, b) = (q(before)?, q(after)?);
    let changed = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    Ok(changed as f64 / a.len().max(1) as f64)
}
