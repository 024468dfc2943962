//! Accuracy of the float and the int8 model on a digit set, and where they disagree.

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

/// Preprocessed images of a digit set for `model`, `n × input_len` floats.
pub fn images(model: &Model, digits: &Digits) -> Result<Vec<f32>> {
    let mut x = vec![0.0; digits.len() * model.input_len()];
    digits.batch_into(0, digits.len(), model.input, &mut x)?;
    Ok(x)
}

pub fn predict_fp32(model: &Model, x: &[f32], n: usize) -> Result<Vec<u8>> {
    let out = model.output_len();
    Ok(fp32::forward(model, x, n)?
        .chunks(out)
        .map(|r| argmax(r) as u8)
        .collect())
}

pub fn predict_int8(q: &QModel, x: &[f32], n: usize) -> Result<Vec<u8>> {
    fp32::check_batch(x, n, q.input_len)?;
    let mut sc = QScratch::default();
    let mut row = vec![0.0; q.output_len];
    Ok((0..n)
        .map(|i| {
            q.forward_into(&x[i * q.input_len..][..q.input_len], 1, &mut sc, &mut row);
            argmax(&row) as u8
        })
        .collect())
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
        }
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
