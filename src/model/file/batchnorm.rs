//! BatchNorm at load time: folded into the conv or linear layer before it where it can be,
//! else kept as its own per-channel scale and shift.

use super::*;

/// Folds BatchNorm (eval mode) into the conv before it, in float64, as production converters do:
/// ```text
/// s[m] = γ[m] / √(σ²[m] + ε)
/// W'[m, ...] = W[m, ...] · s[m]        b'[m] = (b[m] − μ[m]) · s[m] + β[m]
/// ```
/// (A linear layer's rows fold the same way: `batchnorm1d` after `linear`.) Returns the per-channel
/// weight ranges (max |w| of each output channel) before and after.
pub(super) fn fold_batchnorm(
    weight: &mut [f32],
    bias: &mut [f32],
    bn: &BnStats,
) -> (Vec<f32>, Vec<f32>) {
    let m = bias.len();
    let k = weight.len() / m;
    let range = |w: &[f32]| -> Vec<f32> {
        w.chunks(k)
            .map(|r| r.iter().fold(0f32, |a, &v| a.max(v.abs())))
            .collect()
    };
    let before = range(weight);
    for (o, b) in bias.iter_mut().enumerate() {
        let s = bn.scale(o);
        for w in &mut weight[o * k..(o + 1) * k] {
            *w = (*w as f64 * s) as f32;
        }
        *b = ((*b as f64 - bn.mean[o] as f64) * s + bn.beta[o] as f64) as f32;
    }
    (before, range(weight))
}

/// A BatchNorm's eval-mode statistics.
pub(super) struct BnStats {
    pub(super) gamma: Vec<f32>,
    pub(super) beta: Vec<f32>,
    pub(super) mean: Vec<f32>,
    pub(super) var: Vec<f32>,
    pub(super) eps: f64,
}

impl BnStats {
    /// `γ[c] / √(σ²[c] + ε)` in float64.
    pub(super) fn scale(&self, c: usize) -> f64 {
        self.gamma[c] as f64 / (self.var[c] as f64 + self.eps).sqrt()
    }
    /// The BatchNorm as its own layer, `y[c] = s[c]·x[c] + (β[c] − μ[c]·s[c])`: a 1×1 conv
    /// (`batchnorm2d`) or a linear layer (`batchnorm1d`) whose weight is the diagonal `s`, so the
    /// integer path quantizes it per channel like any other layer (each row's one weight is ±qmax).
    pub(super) fn as_layer(&self, name: &str, conv: bool) -> Layer {
        let c = self.mean.len();
        let mut weight = vec![0.0; c * c];
        let mut bias = vec![0.0; c];
        for o in 0..c {
            let s = self.scale(o);
            weight[o * c + o] = s as f32;
            bias[o] = (self.beta[o] as f64 - self.mean[o] as f64 * s) as f32;
        }
        if conv {
            Layer::Conv2d(Conv2d {
                name: name.into(),
                m: c,
                c,
                k: 1,
                padding: 0,
                stride: 1,
                weight,
                bias,
            })
        } else {
            Layer::Linear(Linear {
                name: name.into(),
                n_out: c,
                n_in: c,
                weight,
                bias,
            })
        }
    }
}

/// `NAME.num_batches_tracked`: BatchNorm's count of training batches, meaningless at inference.
pub(super) fn is_bn_counter(name: &str) -> bool {
    name.ends_with(".num_batches_tracked")
}
