//! Training in the core: forward and backward for the library's layer list, softmax
//! cross-entropy, Adam, and quantization-aware fine-tuning ([`qat`]). One implementation, run
//! natively by `tools/train` and in the page's worker; the same seed and steps give the same bits
//! on both (every sum has one fixed order, no FMA, `exp`/`ln` from `libm`).
//!
//! * [`gemm`]: the one product kernel (forward, dW, dX).
//! * [`net`]: per-image forward/backward on a [`Tape`], fake quantization with the
//!   straight-through estimator.
//! * [`qat`]: fine-tuning with the integer model's grids, observers, then the integer model.

pub mod gemm;
pub mod net;
pub mod qat;
pub mod rng;

use crate::model::digits::Digits;
use crate::model::fp32::model_weights;
use crate::model::{Layer, Model};
use crate::Result;
pub use net::{Grads, Tape};
pub use rng::SplitMix64;

/// Adam (Kingma & Ba 2015), per element, at step t = 1, 2, …:
/// ```text
/// m = β1·m + (1 − β1)·g,   v = β2·v + (1 − β2)·g²
/// w −= lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
/// ```
/// `β^t` is kept as a running product (no `powi`), so every target rounds it alike.
#[derive(Debug, Clone)]
pub struct Adam {
    m: Grads,
    v: Grads,
    b1t: f32,
    b2t: f32,
    pub t: u32,
}

impl Adam {
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    pub fn new(model: &Model) -> Adam {
        Adam {
            m: net::zero_grads(model),
            v: net::zero_grads(model),
            b1t: 1.0,
            b2t: 1.0,
            t: 0,
        }
    }

    /// The formula above for one parameter `w` with gradient `g` and moments `m`, `v`; `c` is
    /// `(1 − β1^t, 1 − β2^t)` of this step.
    pub fn update(w: &mut f32, g: f32, m: &mut f32, v: &mut f32, lr: f32, (c1, c2): (f32, f32)) {
        *m = Self::B1 * *m + (1.0 - Self::B1) * g;
        *v = Self::B2 * *v + (1.0 - Self::B2) * g * g;
        *w -= lr * (*m / c1) / ((*v / c2).sqrt() + Self::EPS);
    }

    /// `(1 − β1^t, 1 − β2^t)` of the last step.
    pub fn corrections(&self) -> (f32, f32) {
        (1.0 - self.b1t, 1.0 - self.b2t)
    }

    pub fn step(&mut self, model: &mut Model, g: &Grads, lr: f32) {
        self.t += 1;
        self.b1t *= Self::B1;
        self.b2t *= Self::B2;
        let (c1, c2) = (1.0 - self.b1t, 1.0 - self.b2t);
        for (i, layer) in model.layers.iter_mut().enumerate() {
            let (w, b) = match layer {
                Layer::Conv2d(c) => (&mut c.weight, &mut c.bias),
                Layer::Linear(l) => (&mut l.weight, &mut l.bias),
                _ => continue,
            };
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            for (p, gi, mi, vi) in [
                (w, &g[i].0, &mut m.0, &mut v.0),
                (b, &g[i].1, &mut m.1, &mut v.1),
            ] {
                for (((w, &g), m), v) in p.iter_mut().zip(gi).zip(mi.iter_mut()).zip(vi.iter_mut())
                {
                    Self::update(w, g, m, v, lr, (c1, c2));
                }
            }
        }
    }
}

/// Cosine schedule over `total` steps: `lr(s) = lr0 · (1 + cos(π·s/total)) / 2` (libm's cos).
pub fn cosine_lr(lr0: f32, step: usize, total: usize) -> f32 {
    let f = step as f64 / total.max(1) as f64;
    (lr0 as f64 * 0.5 * (1.0 + libm::cos(std::f64::consts::PI * f))) as f32
}

/// He (Kaiming) uniform init of every weight, zero biases:
/// `w ~ U(−√(6/fan_in), √(6/fan_in))`, fan_in = c·k·k for a conv, n_in for a linear layer.
/// Draws the layers in order, each weight tensor in its row-major order.
pub fn he_init(model: &mut Model, rng: &mut SplitMix64) {
    for layer in &mut model.layers {
        let (w, b, fan_in) = match layer {
            Layer::Conv2d(c) => (&mut c.weight, &mut c.bias, c.c * c.k * c.k),
            Layer::Linear(l) => (&mut l.weight, &mut l.bias, l.n_in),
            _ => continue,
        };
        let bound = (6.0 / fan_in as f32).sqrt();
        for v in w.iter_mut() {
            *v = rng.symmetric(bound);
        }
        b.fill(0.0);
    }
}

/// A sample of a batch: the training image `index`, shifted by `(dy, dx)` pixels.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub index: usize,
    pub dy: isize,
    pub dx: isize,
}

/// The order of one epoch and each sample's shift, drawn from `rng` as the original trainer
/// did: a Fisher–Yates shuffle of `order`, then for each sample dy, dx uniform in
/// `[−shift, shift]`.
pub fn epoch_samples(rng: &mut SplitMix64, order: &mut [usize], shift: usize) -> Vec<Sample> {
    rng.shuffle(order);
    order
        .iter()
        .map(|&index| {
            let mut d = || rng.below(2 * shift + 1) as isize - shift as isize;
            let dy = d();
            let dx = d();
            Sample { index, dy, dx }
        })
        .collect()
}

/// Of one or more batches: the loss summed over their images (`Qat::run`: the mean), the images
/// classified correctly, and how many there were.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchStats {
    pub loss: f64,
    pub correct: usize,
    pub n: usize,
}

/// One optimizer step on `batch`: each image forward and backward on `w` (the float weights or
/// their fake-quantized copy), the gradients summed in batch order and scaled by 1/|batch|
/// (the mean loss), then Adam on the float weights of `model`.
#[allow(clippy::too_many_arguments)]
pub fn batch_step(
    model: &mut Model,
    w_used: Option<&[(Vec<f32>, Vec<f32>)]>,
    act: net::ActGrids,
    data: &Digits,
    batch: &[Sample],
    tape: &mut Tape,
    grads: &mut Grads,
    adam: &mut Adam,
    lr: f32,
    mut dscale: Option<&mut [f32]>,
) -> Result<BatchStats> {
    for (dw, db) in grads.iter_mut() {
        dw.fill(0.0);
        db.fill(0.0);
    }
    let points = net::points_after(model);
    let mut x = vec![0.0; model.input_len()];
    let mut dz = vec![];
    let scale = 1.0 / batch.len() as f32;
    let mut st = BatchStats::default();
    {
        let w: Vec<(&[f32], &[f32])> = match w_used {
            Some(w) => w.iter().map(|(a, b)| (&a[..], &b[..])).collect(),
            None => model_weights(model),
        };
        for s in batch {
            data.sample_into(s.index, model.input, s.dy, s.dx, &mut x)?;
            tape.forward(model, &w, &x, act, &points, &mut |_, _| {});
            let label = data.labels[s.index] as usize;
            let z = tape.logits();
            st.loss += net::softmax_xent(z, label, scale, &mut dz) as f64;
            st.correct += (net::argmax(z) == label) as usize;
            st.n += 1;
            tape.backward(model, &w, &dz, act, &points, grads, dscale.as_deref_mut());
        }
    }
    adam.step(model, grads, lr);
    Ok(st)
}

/// FNV-1a 64 over the little-endian bytes of every weight and bias, in layer order: a short
/// fingerprint that says whether two runs gave the same bits.
pub fn fingerprint(model: &Model) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (w, b) in model_weights(model) {
        for v in w.iter().chain(b) {
            for byte in v.to_le_bytes() {
                h = (h ^ byte as u64).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    h
}
