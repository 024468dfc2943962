//! The CNN in the lab: evaluation on a labelled test set in growing prefixes, with the float
//! logits kept per test set and each quantized model's logits kept with it, so a longer prefix
//! computes only the images it adds. The lab's jobs ([`super::jobs`]) reach it through
//! [`super::Family`].

use super::{Family, Measure, Summary};
use crate::model::digits::Digits;
use crate::model::eval::{self, Evaluation, Path};
use crate::model::fp32::{self, Net};
use crate::model::int8::{quantize_model, Calibration, Deployed, QModel, QuantConfig};
use crate::model::report::report;
use crate::model::Model;
use crate::{Error, Result};

/// A test set and the number that identifies it for the caches (a new set, a new id).
#[derive(Clone, Copy)]
pub struct TestSet<'a> {
    pub id: u32,
    pub digits: &'a Digits,
}

/// The float side of evaluations: one test set's preprocessed images and the float logits of
/// its first images, grown as longer prefixes are evaluated.
#[derive(Default, Debug)]
pub struct FloatLogits {
    set: Option<(u32, Vec<f32>, Vec<f32>)>,
}

/// The quantized side: a quantized model's logits of the first images of one set along one path.
#[derive(Default, Debug, Clone)]
pub struct KeptLogits {
    kept: Option<(u32, Path, Vec<f32>)>,
}

impl KeptLogits {
    /// The logits kept for `set` along `path` (emptied first if they were of another set or
    /// path), to which evaluations append.
    fn of(&mut self, set: TestSet, path: Path, classes: usize) -> &mut Vec<f32> {
        if self.kept.as_ref().map(|c| (c.0, c.1)) != Some((set.id, path)) {
            let cap = set.digits.len() * classes;
            self.kept = Some((set.id, path, Vec::with_capacity(cap)));
        }
        &mut self.kept.as_mut().expect("set above").2
    }
}

/// A quantized model with the logits its evaluations keep.
pub struct Quantized {
    pub q: QModel,
    pub kept: KeptLogits,
}

/// The float logits of `n` preprocessed images.
pub fn fp32_logits(net: &Net, x: &[f32], n: usize) -> Result<Vec<f32>> {
    fp32::check_batch(x, n, net.input_len)?;
    let mut out = vec![0.0; n * net.output_len];
    net.forward(x, n, &mut fp32::Fp32Scratch::default(), &mut out);
    Ok(out)
}

/// An evaluation of the first `count` images, with both models' predictions.
pub struct Evaluated {
    pub e: Evaluation,
    pub fp32_pred: Vec<u8>,
    pub q_pred: Vec<u8>,
}

/// The CNN lab on one test set: borrowed parts of the model handle, for one call.
pub struct Cnn<'a> {
    pub model: &'a Model,
    pub net: &'a Net,
    pub calibration: &'a Calibration,
    pub floats: &'a mut FloatLogits,
    pub set: TestSet<'a>,
}

impl Cnn<'_> {
    /// `q` against the float model on the first `limit` images (all: `None`) along `path`:
    /// only the images past what was evaluated before are run, on either side.
    pub fn evaluate(
        &mut self,
        q: &mut QModel,
        kept: &mut KeptLogits,
        path: Path,
        limit: Option<usize>,
    ) -> Result<Evaluated> {
        let all = self.set.digits.len();
        let n = match limit {
            Some(0) => return Err(Error::new("limit", "must be at least 1")),
            Some(l) => l.min(all),
            None => all,
        };
        q.repack(crate::kernels::table::int8());
        let classes = self.model.output_len();
        let len = self.model.input_len();
        if self.floats.set.as_ref().map(|c| c.0) != Some(self.set.id) {
            let x = eval::images(self.model, self.set.digits)?;
            self.floats.set = Some((self.set.id, x, Vec::with_capacity(all * classes)));
        }
        let (_, x, fp) = self.floats.set.as_mut().expect("filled above");
        // Float logits of the images this prefix adds. Per image they do not depend on the
        // batch: the linear layers' GEMM gives each image its own rows, with the same order of
        // sums.
        let have = fp.len() / classes;
        if have < n {
            let more = fp32_logits(self.net, &x[have * len..n * len], n - have)?;
            fp.extend_from_slice(&more);
        }
        let ql = kept.of(self.set, path, classes);
        let have = ql.len() / classes;
        if have < n {
            let more = eval::logits(q, path, &x[have * len..n * len], n - have)?;
            ql.extend_from_slice(&more);
        }
        let (ql, fp) = (&ql[..n * classes], &fp[..n * classes]);
        Ok(Evaluated {
            e: Evaluation::from_logits(&self.set.digits.labels[..n], fp, ql, classes),
            fp32_pred: eval::predictions(fp, classes),
            q_pred: eval::predictions(ql, classes),
        })
    }
}

/// Appends to what `kept` holds for `set` along `path` the logits of the next images, computed
/// elsewhere by an identical copy of the quantized model (same file, calibration, config and
/// build: the integer path is bit-exact). `logits`: `k × classes` for images `[from, from + k)`,
/// where `from` must be the number already evaluated, so a late or repeated part is refused
/// instead of misplaced. Returns how many images are evaluated now.
pub fn add_logits(
    kept: &mut KeptLogits,
    set: TestSet,
    path: Path,
    classes: usize,
    from: usize,
    logits: &[f32],
) -> Result<usize> {
    if logits.len() % classes != 0 {
        return Err(Error::new(
            "logits",
            format!(
                "has {} values, not a whole number of {classes}-logit rows",
                logits.len()
            ),
        ));
    }
    let k = logits.len() / classes;
    let all = set.digits.len();
    let ql = kept.of(set, path, classes);
    let have = ql.len() / classes;
    if from != have {
        return Err(Error::new(
            "from",
            format!("is {from}, but {have} digits are evaluated: the logits must follow them"),
        ));
    }
    if have + k > all {
        return Err(Error::new(
            "logits",
            format!(
                "has {k} rows, beyond the {} digits after {have}",
                all - have
            ),
        ));
    }
    crate::quant::check_finite(logits, "logits")?;
    ql.extend_from_slice(logits);
    Ok(have + k)
}

impl Family for Cnn<'_> {
    type Quantized = Quantized;

    fn quantize(&self, config: &QuantConfig) -> Result<Quantized> {
        Ok(Quantized {
            q: quantize_model(self.model, self.calibration, config)?,
            kept: KeptLogits::default(),
        })
    }

    fn test_len(&self) -> usize {
        self.set.digits.len()
    }

    fn measure(&mut self, q: &mut Quantized, path: Path, n: usize) -> Result<Measure> {
        let r = self.evaluate(&mut q.q, &mut q.kept, path, Some(n))?;
        Ok(Measure {
            count: r.e.count,
            score: r.e.int8_accuracy(),
            fp32_score: r.e.fp32_accuracy(),
            agreement: r.e.agreement(),
            sqnr_db: r.e.logit_sqnr_db,
        })
    }

    fn summary(&self, q: &Quantized) -> Summary {
        let r = report(self.model, &q.q, self.calibration, 4, 0);
        Summary {
            bytes_fp32: r.bytes_fp32,
            bytes_int8: r.bytes_int8,
            bytes_packed: r.bytes_packed,
            weight_sqnr_db: r.layers.iter().map(|l| l.weight.sqnr_db).collect(),
        }
    }

    fn deployed(&self, q: &Quantized) -> Deployed {
        q.q.deployed()
    }
}

/// One activation tensor under one calibration method: its clip range against the data, its
/// parameters, and the calibration data's squared error split into rounding and clipping.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodTensor {
    pub name: String,
    pub clip_low: f32,
    pub clip_high: f32,
    pub data_min: f32,
    pub data_max: f32,
    pub scale: f32,
    pub zero_point: i32,
    pub rounding_mse: f64,
    pub clipping_mse: f64,
}

/// A calibration method's row of the comparison: its tensors, or why it cannot run (a bad
/// percentile while another method is chosen).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodRow {
    pub method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensors: Option<Vec<MethodTensor>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every calibration method (min-max, percentile at `percentile`, MSE, entropy) at the bits and
/// activation settings of `config`: the tensors the integer model quantizes (the input, then each
/// layer's output) with the range each method chooses. The ranges do not depend on how weights
/// are rounded, so GPTQ and bias correction are left out; equalization is kept (it changes the
/// model the ranges are calibrated on).
pub fn methods(
    model: &Model,
    calibration: &Calibration,
    config: &QuantConfig,
    percentile: Option<f64>,
) -> Vec<MethodRow> {
    use crate::quant::calibrate::Method;
    let names = ["minmax", "percentile", "mse", "entropy"];
    names
        .iter()
        .map(|&name| {
            let row = |tensors, error| MethodRow {
                method: name,
                tensors,
                error,
            };
            let c = Method::parse(name, percentile).map(|method| QuantConfig {
                method,
                dynamic: false,
                rounding: crate::model::int8::Rounding::Nearest,
                bias_correction: false,
                ..config.clone()
            });
            let q = c.and_then(|c| quantize_model(model, calibration, &c));
            match q {
                Err(e) => row(None, Some(e.to_string())),
                Ok(q) => {
                    let r = report(model, &q, calibration, 4, 0);
                    let first = r.layers.first().map(|l| ("input".to_string(), &l.input));
                    let outs = r
                        .layers
                        .iter()
                        .map(|l| (format!("{} out", l.name), &l.output));
                    let tensors = first
                        .into_iter()
                        .chain(outs)
                        .map(|(name, a)| MethodTensor {
                            name,
                            clip_low: a.clip_low,
                            clip_high: a.clip_high,
                            data_min: a.data_min,
                            data_max: a.data_max,
                            scale: a.scale,
                            zero_point: a.zero_point,
                            rounding_mse: a.rounding_mse,
                            clipping_mse: a.clipping_mse,
                        })
                        .collect();
                    row(Some(tensors), None)
                }
            }
        })
        .collect()
}
