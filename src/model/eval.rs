//! Accuracy of the float and the quantized model on a digit set, where they disagree, and how
//! far the quantized logits are from the float ones (SQNR).

use super::digits::Digits;
use super::int8::{QModel, QScratch};
use super::{fp32, Model};
use crate::Result;

pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// `softmax(v)_i = exp(v_i − max v) / Σ_j exp(v_j − max v)`
pub fn softmax(v: &[f32]) -> Vec<f32> {
    let m = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = v.iter().map(|&x| (x - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|&x| x / s).collect()
}

/// Preprocessed images of a digit set for `model`, `n × input_len` floats.
pub fn images(model: &Model, digits: &Digits) -> Result<Vec<f32>> {
    let mut x = vec![0.0; digits.len() * model.input_len()];
    digits.batch_into(0, digits.len(), model.input, &mut x)?;
    Ok(x)
}

/// Which quantized forward pass to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Integer-only: weights and activations quantized.
    Int8,
    /// Weights quantized, dequantized back, float activations (weights-only quantization).
    Simulated,
}

impl Path {
    /// `"int8"` (the default) or `"simulated"`.
    pub fn parse(mode: Option<&str>) -> Result<Path> {
        match mode.unwrap_or("int8") {
            "int8" => Ok(Path::Int8),
            "simulated" => Ok(Path::Simulated),
            other => crate::bail!(
                "mode",
                "unknown mode '{other}', expected \"int8\" or \"simulated\""
            ),
        }
    }
}

pub fn logits(q: &QModel, path: Path, x: &[f32], n: usize) -> Result<Vec<f32>> {
    fp32::check_batch(x, n, q.input_len)?;
    let mut out = vec![0.0; n * q.output_len];
    let mut sc = QScratch::default();
    match path {
        Path::Int8 => q.forward_into(x, n, &mut sc, &mut out),
        Path::Simulated => q.forward_simulated_into(x, n, &mut sc, &mut out),
    }
    Ok(out)
}

pub fn predictions(logits: &[f32], classes: usize) -> Vec<u8> {
    logits
        .chunks(classes.max(1))
        .map(|r| argmax(r) as u8)
        .collect()
}

pub fn predict_fp32(model: &Model, x: &[f32], n: usize) -> Result<Vec<u8>> {
    Ok(predictions(
        &fp32::forward(model, x, n)?,
        model.output_len(),
    ))
}

pub fn predict_int8(q: &QModel, x: &[f32], n: usize) -> Result<Vec<u8>> {
    Ok(predictions(&logits(q, Path::Int8, x, n)?, q.output_len))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub count: usize,
    pub fp32_correct: usize,
    pub int8_correct: usize,
    /// Images where the two models predict the same class.
    pub agree: usize,
    /// Indices where the predictions differ.
    pub flipped: Vec<u32>,
    /// `10·log10(Σ fp32² / Σ (fp32 − quantized)²)` over all logits (∞ when equal; NaN when
    /// logits were not given).
    pub logit_sqnr_db: f64,
}

impl Evaluation {
    pub fn new(labels: &[u8], fp32: &[u8], int8: &[u8]) -> Evaluation {
        let count = labels.len();
        let fp32_correct = labels.iter().zip(fp32).filter(|(l, p)| l == p).count();
        let int8_correct = labels.iter().zip(int8).filter(|(l, p)| l == p).count();
        let flipped: Vec<u32> = fp32
            .iter()
            .zip(int8)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| i as u32)
            .collect();
        Evaluation {
            count,
            fp32_correct,
            int8_correct,
            agree: count - flipped.len(),
            flipped,
            logit_sqnr_db: f64::NAN,
        }
    }

    /// From logits: predictions and the SQNR of the quantized logits.
    pub fn from_logits(
        labels: &[u8],
        fp32: &[f32],
        quantized: &[f32],
        classes: usize,
    ) -> Evaluation {
        let mut e = Evaluation::new(
            labels,
            &predictions(fp32, classes),
            &predictions(quantized, classes),
        );
        let (s, n) = fp32
            .iter()
            .zip(quantized)
            .fold((0f64, 0f64), |(s, n), (&a, &b)| {
                (s + (a as f64).powi(2), n + ((a - b) as f64).powi(2))
            });
        e.logit_sqnr_db = if n == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (s / n).log10()
        };
        e
    }

    pub fn fp32_accuracy(&self) -> f64 {
        self.fp32_correct as f64 / self.count.max(1) as f64
    }
    pub fn int8_accuracy(&self) -> f64 {
        self.int8_correct as f64 / self.count.max(1) as f64
    }
    pub fn agreement(&self) -> f64 {
        self.agree as f64 / self.count.max(1) as f64
    }
}

/// How the flipped digits flipped: `(fp32 class, quantized class, count)`, most frequent first
/// (ties by class), so the page can say "most 7s became 1s".
pub fn confusions(flipped: &[u32], fp32: &[u8], quantized: &[u8]) -> Vec<(u8, u8, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for &i in flipped {
        *counts
            .entry((fp32[i as usize], quantized[i as usize]))
            .or_insert(0) += 1;
    }
    let mut v: Vec<_> = counts.into_iter().map(|((a, b), n)| (a, b, n)).collect();
    v.sort_unstable_by(|x, y| y.2.cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    v
}
