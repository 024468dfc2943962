//! The model handles: `Digits`, `Model`, `QuantizedModel`.

use super::convert::*;
use crate::{Error, Result};
use js_sys::{Float32Array, Int8Array, Object, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::lab::cnn::{add_logits, fp32_logits, Cnn, Evaluated, FloatLogits, KeptLogits};
use crate::model::digits::Digits as CoreDigits;
use crate::model::eval::{self, Evaluation};
use crate::model::int8::{self as qm, Calibration, QModel, QuantConfig};
use crate::model::timing::Request;
use crate::model::{file, fp32, report, Model as CoreModel};

pub(crate) type JsResult<T> = std::result::Result<T, JsError>;

mod digits;
mod quantized;

pub use digits::{Dataset, Digits};
pub use quantized::QuantizedModel;

/// A float model and, once calibrated, the activation statistics its int8 versions use.
#[wasm_bindgen]
pub struct Model {
    pub(super) inner: CoreModel,
    /// The float model packed for the kernels, built once.
    net: fp32::Net,
    pub(super) calibration: Option<Calibration>,
    /// Preprocessed test images and the float logits of the first of them, kept by the core's
    /// evaluation (grown as longer prefixes are evaluated).
    pub(super) floats: FloatLogits,
    /// How the layer list was found when the file did not list it.
    note: Option<String>,
    /// Activation ranges the file carries (a QAT model saved by the page).
    saved_ranges: Option<Vec<(f32, f32)>>,
    /// The BatchNorms the loader folded, with the ranges it drew them from.
    folds: Vec<file::Fold>,
}

pub(super) fn wrap(inner: CoreModel) -> Result<Model> {
    Ok(Model {
        net: fp32::Net::new(&inner)?,
        inner,
        calibration: None,
        floats: FloatLogits::default(),
        note: None,
        saved_ranges: None,
        folds: vec![],
    })
}

#[wasm_bindgen]
impl Model {
    /// A model from `.safetensors` bytes with the layer list in `__metadata__`.
    #[wasm_bindgen(js_name = fromSafetensors)]
    pub fn from_safetensors(bytes: &[u8]) -> JsResult<Model> {
        let file::Loaded { model, note, folds } = file::load_full(bytes)?;
        let saved_ranges = file::activation_ranges(bytes)?;
        const FROM_FILE: &str =
            "activation ranges from the file (learned by quantization-aware training)";
        let note = match (&saved_ranges, note) {
            (Some(_), Some(n)) => Some(format!("{n}; {FROM_FILE}")),
            (Some(_), None) => Some(FROM_FILE.into()),
            (None, n) => n,
        };
        Ok(Model {
            note,
            saved_ranges,
            folds,
            ..wrap(model)?
        })
    }
    /// Each BatchNorm the loader folded: `[{ batchnorm, into, before, after }]`, `before` and
    /// `after` the per-output-channel max |w| of the layer it went into.
    #[wasm_bindgen(getter)]
    pub fn folding(&self) -> JsResult<JsValue> {
        Ok(serde_wasm_bindgen::to_value(&self.folds)?)
    }
    /// When the file had no layer list: how it was inferred (else undefined).
    #[wasm_bindgen(getter, js_name = loadNote)]
    pub fn load_note(&self) -> Option<String> {
        self.note.clone()
    }
    /// `{ input, layers: [{ index, kind, name, outputShape, params, macs }], params, macs }`.
    pub fn summary(&self) -> JsResult<JsValue> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct L<'a> {
            index: usize,
            kind: &'a str,
            name: &'a str,
            output_shape: [usize; 3],
            params: usize,
            macs: usize,
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct S<'a> {
            input: [usize; 3],
            layers: Vec<L<'a>>,
            params: usize,
            macs: usize,
            outputs: usize,
            calibrated: bool,
        }
        let shapes = self.inner.shapes()?;
        let mut s = self.inner.input;
        let mut layers = vec![];
        for (i, (l, out)) in self.inner.layers.iter().zip(&shapes).enumerate() {
            layers.push(L {
                index: i,
                kind: l.kind(),
                name: l.name(),
                output_shape: *out,
                params: l.params(),
                macs: l.macs(s),
            });
            s = *out;
        }
        let v = S {
            input: self.inner.input,
            layers,
            params: self.inner.params(),
            macs: self.inner.macs(),
            outputs: self.inner.output_len(),
            calibrated: self.calibration.is_some(),
        };
        Ok(serde_wasm_bindgen::to_value(&v)?)
    }
    /// FP32 forward of `n` images (`x` holds `n × C·H·W` floats); returns `n × outputs` scores.
    pub fn forward(&self, x: &[f32], n: usize) -> JsResult<Float32Array> {
        Ok(Float32Array::from(&self.fp32(x, n)?[..]))
    }
    /// Times the FP32 forward pass inside the module: `samples` samples of `reps` calls each on
    /// the same `n` images, scratch buffers held across calls, then `profileRuns` calls with a
    /// clock around every step. See `timing::Timing` for the result.
    #[wasm_bindgen(js_name = timeForward)]
    pub fn time_forward(
        &self,
        x: &[f32],
        n: usize,
        samples: usize,
        reps: usize,
        profile_runs: Option<usize>,
    ) -> JsResult<JsValue> {
        fp32::check_batch(x, n, self.net.input_len)?;
        let r = Request {
            x,
            n,
            samples,
            reps,
            profile_runs: profile_runs.unwrap_or(0),
        };
        let t = super::timing::time_fp32(&self.net, &self.inner, &r)?;
        Ok(serde_wasm_bindgen::to_value(&t)?)
    }
    /// The model as `.safetensors` bytes (float32, PyTorch names, the layer list in
    /// `__metadata__`), with `note` recorded as metadata `trained` when given, and `ranges`
    /// (`[[min, max], ...]`, as `Qat.ranges()`) as `activation_ranges`, which loading applies.
    #[wasm_bindgen(js_name = toSafetensors)]
    pub fn to_safetensors(&self, note: Option<String>, ranges: JsValue) -> JsResult<Uint8Array> {
        let ranges = if ranges.is_undefined() || ranges.is_null() {
            None
        } else {
            let r = range_pairs(ranges)?;
            Some(serde_json::to_string(&r).map_err(|e| Error::new("ranges", e.to_string()))?)
        };
        let mut extra: Vec<(&str, &str)> = note
            .as_deref()
            .map(|n| ("trained", n))
            .into_iter()
            .collect();
        if let Some(r) = &ranges {
            extra.push(("activation_ranges", r));
        }
        Ok(Uint8Array::from(&file::save(&self.inner, &extra)?[..]))
    }
    /// The activation ranges the file carried (`[[min, max], ...]`), or undefined.
    #[wasm_bindgen(getter, js_name = savedRanges)]
    pub fn saved_ranges(&self) -> JsResult<JsValue> {
        Ok(match &self.saved_ranges {
            None => JsValue::UNDEFINED,
            Some(r) => {
                serde_wasm_bindgen::to_value(&r.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>())?
            }
        })
    }
    /// Runs the float model on calibration images and keeps a histogram of every tensor the
    /// int8 model will quantize. Needed once before `quantize`.
    pub fn calibrate(&mut self, digits: &Digits, count: Option<usize>) -> JsResult<()> {
        let n = count.unwrap_or(digits.inner.len()).min(digits.inner.len());
        let mut x = vec![0.0; n * self.inner.input_len()];
        digits.inner.batch_into(0, n, self.inner.input, &mut x)?;
        self.calibration = Some(qm::calibrate(&self.inner, &x, n)?);
        Ok(())
    }
    /// Calibrates on preprocessed images instead of a digit set (for models of other inputs).
    #[wasm_bindgen(js_name = calibrateImages)]
    pub fn calibrate_images(&mut self, x: &[f32], n: usize) -> JsResult<()> {
        self.calibration = Some(qm::calibrate(&self.inner, x, n)?);
        Ok(())
    }
    /// Fixes the clip range of every quantized tensor (`[[min, max], ...]`, 0 the input, as
    /// `Qat.ranges()` gives them) in place of the observer's; `null` returns to the observer.
    #[wasm_bindgen(js_name = setRanges)]
    pub fn set_ranges(&mut self, ranges: JsValue) -> JsResult<()> {
        let r = if ranges.is_null() || ranges.is_undefined() {
            None
        } else {
            Some(range_pairs(ranges)?.iter().map(|p| (p[0], p[1])).collect())
        };
        let Some(cal) = &mut self.calibration else {
            return Err(not_calibrated().into());
        };
        Ok(cal.set_ranges(r)?)
    }
    /// An integer-only quantized model for `config`:
    /// `{ weightBits, actBits, perChannel, method, percentile, actScheme, layerBits: [{ layer, weightBits, actBits }] }`.
    pub fn quantize(&self, config: JsValue) -> JsResult<QuantizedModel> {
        let cal = self.calibration()?;
        let config = quant_config(&config)?;
        Ok(QuantizedModel {
            inner: qm::quantize_model(&self.inner, cal, &config)?,
            kept: KeptLogits::default(),
        })
    }
    /// Per-layer report of `q` (sizes, weight statistics and histograms, activation ranges).
    pub fn report(
        &self,
        q: &QuantizedModel,
        bins: Option<usize>,
        channel: Option<usize>,
    ) -> JsResult<JsValue> {
        let cal = self.calibration()?;
        let bins = bins.unwrap_or(64);
        if !(1..=4096).contains(&bins) {
            return Err(Error::new("bins", format!("must be from 1 to 4096, found {bins}")).into());
        }
        Ok(serde_wasm_bindgen::to_value(&report::report(
            &self.inner,
            &q.inner,
            cal,
            bins,
            channel.unwrap_or(0),
        ))?)
    }
    /// FP32 and quantized accuracy on `digits`, agreement, flipped indices, both predictions
    /// and the SQNR of the quantized logits. `mode`: "int8" (true integer path, default) or
    /// "simulated" (weights quantized, float activations). Float logits are computed once per
    /// digit set and cached. `limit`: evaluate only the first `limit` digits (the lab's
    /// provisional figure while a slider moves); the whole set when absent. The quantized logits
    /// are kept in `q`, so evaluating prefixes of growing `limit` costs one whole evaluation in
    /// all: the lab evaluates in steps and stays responsive between them.
    pub fn evaluate(
        &mut self,
        q: &mut QuantizedModel,
        digits: &Digits,
        mode: Option<String>,
        limit: Option<usize>,
    ) -> JsResult<Object> {
        let path = eval::Path::parse(mode.as_deref())?;
        let Evaluated {
            e,
            fp32_pred: fp_pred,
            q_pred,
        } = self
            .lab(digits)?
            .evaluate(&mut q.inner, &mut q.kept, path, limit)?;
        let out = Object::new();
        set(&out, "count", &(e.count as u32).into())?;
        set(&out, "fp32Accuracy", &e.fp32_accuracy().into())?;
        set(&out, "int8Accuracy", &e.int8_accuracy().into())?;
        set(&out, "agreement", &e.agreement().into())?;
        set(&out, "logitSqnrDb", &e.logit_sqnr_db.into())?;
        set(&out, "flipped", &js_sys::Uint32Array::from(&e.flipped[..]))?;
        // [[fp32 class, quantized class, count], ...], most frequent first.
        let confusions = js_sys::Array::new();
        for (a, b, c) in eval::confusions(&e.flipped, &fp_pred, &q_pred) {
            let row = js_sys::Array::of3(&a.into(), &b.into(), &(c as u32).into());
            confusions.push(&row);
        }
        set(&out, "confusions", &confusions)?;
        set(&out, "fp32Pred", &Uint8Array::from(&fp_pred[..]))?;
        set(&out, "int8Pred", &Uint8Array::from(&q_pred[..]))?;
        Ok(out)
    }
    /// FP32 against quantized outputs on any inputs (`x`: `n` preprocessed images), for models
    /// without a labelled digit set: `{ logitSqnrDb, agreement }` (agreement of the arg-max).
    pub fn compare(
        &self,
        q: &QuantizedModel,
        x: &[f32],
        n: usize,
        mode: Option<String>,
    ) -> JsResult<Object> {
        let path = eval::Path::parse(mode.as_deref())?;
        let fp = self.fp32(x, n)?;
        let ql = eval::logits(&q.inner, path, x, n)?;
        let classes = self.inner.output_len();
        let e = Evaluation::from_logits(&vec![0; n], &fp, &ql, classes);
        let out = Object::new();
        set(&out, "logitSqnrDb", &e.logit_sqnr_db.into())?;
        set(&out, "agreement", &e.agreement().into())?;
        Ok(out)
    }
    /// The float weights of layer `index` (conv `[M, C, k, k]` or linear `[out, in]`, flat).
    #[wasm_bindgen(js_name = layerWeights)]
    pub fn layer_weights(&self, index: usize) -> JsResult<Float32Array> {
        match self.inner.layers.get(index) {
            Some(crate::model::Layer::Conv2d(c)) => Ok(Float32Array::from(&c.weight[..])),
            Some(crate::model::Layer::Linear(l)) => Ok(Float32Array::from(&l.weight[..])),
            _ => Err(Error::new("index", format!("layer {index} has no weights")).into()),
        }
    }
    /// The float bias of layer `index` (`[M]` or `[out]`).
    #[wasm_bindgen(js_name = layerBias)]
    pub fn layer_bias(&self, index: usize) -> JsResult<Float32Array> {
        match self.inner.layers.get(index) {
            Some(crate::model::Layer::Conv2d(c)) => Ok(Float32Array::from(&c.bias[..])),
            Some(crate::model::Layer::Linear(l)) => Ok(Float32Array::from(&l.bias[..])),
            _ => Err(Error::new("index", format!("layer {index} has no bias")).into()),
        }
    }
    /// A drawing (`ink`: width × height values in [0, 1], 1 = ink) preprocessed like MNIST
    /// (bounding box scaled into 20×20, centred by mass in 28×28) and placed on the model's
    /// input canvas. Returns one input image.
    #[wasm_bindgen(js_name = inputFromDrawing)]
    pub fn input_from_drawing(
        &self,
        ink: &[f32],
        width: usize,
        height: usize,
    ) -> JsResult<Float32Array> {
        let d = crate::model::digits::mnist_from_drawing(ink, width, height)?;
        let px: Vec<u8> = d.iter().map(|&v| (v * 255.0).round() as u8).collect();
        let mut x = vec![0.0; self.inner.input_len()];
        crate::model::digits::preprocess(&px, 28, 28, self.inner.input, &mut x)?;
        Ok(Float32Array::from(&x[..]))
    }
}

impl Model {
    fn fp32(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        fp32_logits(&self.net, x, n)
    }
    /// The calibration quantizing needs, or an error saying to calibrate first.
    pub(crate) fn calibration(&self) -> Result<&Calibration> {
        self.calibration.as_ref().ok_or_else(not_calibrated)
    }
    /// The core's lab on this model and test set (it needs the calibration).
    pub(super) fn lab<'a>(&'a mut self, digits: &'a Digits) -> Result<Cnn<'a>> {
        // (The field itself, not `calibration()`: `floats` is borrowed mutably beside it.)
        let Some(calibration) = &self.calibration else {
            return Err(not_calibrated());
        };
        Ok(Cnn {
            model: &self.inner,
            net: &self.net,
            calibration,
            floats: &mut self.floats,
            set: digits.set(),
        })
    }
}

fn not_calibrated() -> Error {
    Error::new("model", "is not calibrated: call calibrate() first")
}

/// `[[min, max], ...]` from JS, each pair exactly two numbers.
fn range_pairs(v: JsValue) -> Result<Vec<[f32; 2]>> {
    let bad = || Error::new("ranges", "must be an array of [min, max] pairs");
    let r: Vec<Vec<f32>> = serde_wasm_bindgen::from_value(v).map_err(|_| bad())?;
    r.iter()
        .map(|p| <[f32; 2]>::try_from(&p[..]).map_err(|_| bad()))
        .collect()
}

/// `softmax` over each row of `classes` scores.
#[wasm_bindgen]
pub fn softmax(logits: &[f32], classes: usize) -> JsResult<Float32Array> {
    if classes == 0 || logits.len() % classes != 0 {
        return Err(Error::new(
            "classes",
            format!("{classes} does not divide the {} scores", logits.len()),
        )
        .into());
    }
    crate::quant::check_finite(logits, "logits")?;
    let v: Vec<f32> = logits.chunks(classes).flat_map(eval::softmax).collect();
    Ok(Float32Array::from(&v[..]))
}

/// The config of `quantize()` (parsed by the core: `lab::config`); `undefined` is the default.
pub(super) fn quant_config(v: &JsValue) -> Result<QuantConfig> {
    if v.is_undefined() || v.is_null() {
        return Ok(QuantConfig::default());
    }
    // Through serde_json's Value: serde_wasm_bindgen reads only a struct's own fields, so
    // unknown keys would pass unseen; read as a map, every key reaches the parser.
    let v: serde_json::Value = serde_wasm_bindgen::from_value(v.clone())
        .map_err(|e| Error::new("config", e.to_string()))?;
    crate::lab::config::parse(v)
}
