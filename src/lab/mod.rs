//! The lab's work, in the core: the config it reads and which results depend on which settings
//! ([`config`]), the model families it measures ([`Family`]; the CNN on labelled images is
//! [`cnn`]), and its long jobs as resumable state machines ([`jobs`]): each `step()` does a
//! bounded amount of work (one quantization, or one prefix of the test set), so the worker that
//! drives them only schedules, and answers messages between two steps.

pub mod cnn;
pub mod config;
pub mod jobs;

use crate::model::eval::Path;
use crate::model::int8::{Deployed, QuantConfig};
use crate::Result;

/// A quantized model measured against its float model on a prefix of the test set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measure {
    /// Test items measured.
    pub count: usize,
    /// The quantized model's score, higher is better (the CNN: top-1 accuracy).
    pub score: f64,
    /// The float model's score on the same items.
    pub fp32_score: f64,
    /// Share of items where both models give the same answer.
    pub agreement: f64,
    /// SQNR of the quantized model's outputs against the float model's, in dB.
    pub sqnr_db: f64,
}

/// A quantized model's sizes and the error of each layer's weights.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The float model's weights and biases.
    pub bytes_fp32: usize,
    /// Weights stored as 8-bit integers, with scales and biases.
    pub bytes_int8: usize,
    /// Weights packed at their bits, with scales and biases.
    pub bytes_packed: usize,
    /// SQNR of each quantized layer's weights against the float ones, in dB.
    pub weight_sqnr_db: Vec<f64>,
}

/// What the lab's jobs need of a model family: quantize for a config, measure a quantized model
/// on a prefix of the test set, its size. The CNN on digits is one family; a language model,
/// with perplexity as its score, plugs into the same jobs.
pub trait Family {
    type Quantized;
    fn quantize(&self, config: &QuantConfig) -> Result<Self::Quantized>;
    /// Items in the test set.
    fn test_len(&self) -> usize;
    /// `q` on the first `n` test items along `path` (a family may keep what it measured, so a
    /// longer prefix costs only what it adds).
    fn measure(&mut self, q: &mut Self::Quantized, path: Path, n: usize) -> Result<Measure>;
    /// Sizes and per-layer weight error of `q`.
    fn summary(&self, q: &Self::Quantized) -> Summary;
    fn deployed(&self, q: &Self::Quantized) -> Deployed;
}
