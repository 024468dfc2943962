//! The model handles: `Digits`, `Model`, `QuantizedModel`.

use super::convert::*;
use crate::quant::calibrate::Method;
use crate::quant::Scheme;
use crate::{bail, Error, Result};
use js_sys::{Array, Float32Array, Int8Array, Object, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::model::digits::Digits as CoreDigits;
use crate::model::eval::{self, Evaluation};
use crate::model::int8::{self as qm, Calibration, QModel, QuantConfig, Rounding};
use crate::model::timing::Request;
use crate::model::{file, fp32, report, Model as CoreModel};

pub(super) type JsResult<T> = std::result::Result<T, JsError>;

/// A set of digits (QLDG file) with labels.
#[wasm_bindgen]
pub struct Digits {
    pub(super) inner: CoreDigits,
    /// Identifies the set for `Model::evaluate`'s cache.
    id: u32,
}

static NEXT_DIGITS_ID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

#[wasm_bindgen]
impl Digits {
    /// Parses a QLDG digit file (see scripts/data/make_digits.mjs).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> JsResult<Digits> {
        Ok(Digits {
            inner: CoreDigits::parse(bytes)?,
            id: NEXT_DIGITS_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }
    /// Your own test images, `Dataset.fromSafetensors` in the README: `images` `[N, C, H, W]`
    /// (float32 in the model's input scale, or uint8, divided by 255), `labels` `[N]` (any
    /// integer dtype), optional `__metadata__.classes`. Accepted wherever a digit set is.
    #[wasm_bindgen(js_name = fromSafetensors)]
    pub fn from_safetensors(bytes: &[u8]) -> JsResult<Digits> {
        Ok(Digits {
            inner: CoreDigits::from_safetensors(bytes)?,
            id: NEXT_DIGITS_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }
    /// Throws an Error naming what does not fit when `model` cannot be tested on this set (the
    /// images' shape against its input, a label against its outputs).
    #[wasm_bindgen(js_name = checkFits)]
    pub fn check_fits(&self, model: &Model) -> JsResult<()> {
        Ok(self.inner.check_fits(&model.inner)?)
    }
    /// `[C, H, W]` of each image (the digits: `[1, 28, 28]`).
    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<u32> {
        vec![
            self.inner.channels as u32,
            self.inner.rows as u32,
            self.inner.cols as u32,
        ]
    }
    /// The class names the file gave (`undefined` for the digits and unnamed classes).
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> Option<Vec<String>> {
        self.inner.classes.clone()
    }
    pub fn labels(&self) -> Vec<u8> {
        self.inner.labels.clone()
    }
    /// 8-bit pixels of image `i`, `C·H·W` (CHW; a user's float images scaled by 255 and clamped).
    pub fn pixels(&self, i: usize) -> JsResult<Vec<u8>> {
        if i >= self.inner.len() {
            return Err(Error::new(
                "i",
                format!("{i} is beyond the {} images", self.inner.len()),
            )
            .into());
        }
        Ok(self.inner.image(i).into_owned())
    }
    /// Images `start..start+n` preprocessed for `model` (`n × C·H·W` floats).
    pub fn images(&self, model: &Model, start: usize, n: usize) -> JsResult<Float32Array> {
        if start
            .checked_add(n)
            .is_none_or(|end| end > self.inner.len())
        {
            return Err(Error::new(
                "n",
                format!(
                    "images {start}..{start}+{n} are beyond the {} images",
                    self.inner.len()
                ),
            )
            .into());
        }
        let mut x = vec![0.0; n * model.inner.input_len()];
        self.inner.batch_into(start, n, model.inner.input, &mut x)?;
        Ok(Float32Array::from(&x[..]))
    }
}

/// `Dataset.fromSafetensors(bytes)`: your own test images. It returns a `Digits`, the class the
/// digit sets are, so the result is accepted wherever they are (no object of this class is made).
#[wasm_bindgen]
pub struct Dataset {
    _none: (),
}

#[wasm_bindgen]
impl Dataset {
    /// As `Digits.fromSafetensors`.
    #[wasm_bindgen(js_name = fromSafetensors)]
    pub fn from_safetensors(bytes: &[u8]) -> JsResult<Digits> {
        Digits::from_safetensors(bytes)
    }
}

/// A float model and, once calibrated, the activation statistics its int8 versions use.
#[wasm_bindgen]
pub struct Model {
    pub(super) inner: CoreModel,
    /// The float model packed for the kernels, built once.
    net: fp32::Net,
    pub(super) calibration: Option<Calibration>,
    /// Preprocessed test images and the float logits of the first of them, cached by
    /// `evaluate` (grown as longer prefixes are evaluated).
    eval_cache: Option<(u32, Vec<f32>, Vec<f32>)>,
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
        eval_cache: None,
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
            return Err(Error::new("model", "is not calibrated: call calibrate() first").into());
        };
        Ok(cal.set_ranges(r)?)
    }
    /// An integer-only quantized model for `config`:
    /// `{ weightBits, actBits, perChannel, method, percentile, actScheme, layerBits: [{ layer, weightBits, actBits }] }`.
    pub fn quantize(&self, config: JsValue) -> JsResult<QuantizedModel> {
        let Some(cal) = &self.calibration else {
            return Err(Error::new("model", "is not calibrated: call calibrate() first").into());
        };
        let config = quant_config(&config)?;
        Ok(QuantizedModel {
            inner: qm::quantize_model(&self.inner, cal, &config)?,
            eval_logits: None,
        })
    }
    /// Per-layer report of `q` (sizes, weight statistics and histograms, activation ranges).
    pub fn report(
        &self,
        q: &QuantizedModel,
        bins: Option<usize>,
        channel: Option<usize>,
    ) -> JsResult<JsValue> {
        let Some(cal) = &self.calibration else {
            return Err(Error::new("model", "is not calibrated").into());
        };
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
        let all = digits.inner.len();
        let n = match limit {
            Some(0) => return Err(Error::new("limit", "must be at least 1").into()),
            Some(l) => l.min(all),
            None => all,
        };
        q.ready();
        let classes = self.inner.output_len();
        let len = self.inner.input_len();
        if self.eval_cache.as_ref().map(|c| c.0) != Some(digits.id) {
            let x = eval::images(&self.inner, &digits.inner)?;
            self.eval_cache = Some((digits.id, x, Vec::with_capacity(all * classes)));
        }
        // Float logits of the digits this prefix adds. Per image they do not depend on the batch:
        // the linear layers' GEMM gives each image its own rows, with the same order of sums.
        let have = self.eval_cache.as_ref().map_or(0, |c| c.2.len() / classes);
        if have < n {
            let x = &self.eval_cache.as_ref().expect("filled above").1;
            let more = self.fp32(&x[have * len..n * len], n - have)?;
            self.eval_cache
                .as_mut()
                .expect("filled above")
                .2
                .extend_from_slice(&more);
        }
        let (_, x, fp) = self.eval_cache.as_ref().expect("filled above");
        let have = q.kept_logits(digits, path).len() / classes;
        if have < n {
            let more = eval::logits(&q.inner, path, &x[have * len..n * len], n - have)?;
            q.kept_logits(digits, path).extend_from_slice(&more);
        }
        let ql = &q.kept_logits(digits, path)[..n * classes];
        let fp = &fp[..n * classes];
        let e = Evaluation::from_logits(&digits.inner.labels[..n], fp, ql, classes);
        let out = Object::new();
        set(&out, "count", &(e.count as u32).into())?;
        set(&out, "fp32Accuracy", &e.fp32_accuracy().into())?;
        set(&out, "int8Accuracy", &e.int8_accuracy().into())?;
        set(&out, "agreement", &e.agreement().into())?;
        set(&out, "logitSqnrDb", &e.logit_sqnr_db.into())?;
        set(&out, "flipped", &js_sys::Uint32Array::from(&e.flipped[..]))?;
        let (fp_pred, q_pred) = (
            eval::predictions(fp, classes),
            eval::predictions(ql, classes),
        );
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
        fp32::check_batch(x, n, self.net.input_len)?;
        let mut out = vec![0.0; n * self.net.output_len];
        self.net
            .forward(x, n, &mut fp32::Fp32Scratch::default(), &mut out);
        Ok(out)
    }
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

pub(super) fn quant_config(v: &JsValue) -> Result<QuantConfig> {
    let o = Opts::named(
        v,
        &[
            "weightBits",
            "actBits",
            "perChannel",
            "method",
            "percentile",
            "actScheme",
            "layerBits",
            "skip",
            "granularity",
            "groupSize",
            "rounding",
            "equalize",
            "biasCorrection",
            "format",
        ],
        "config",
    )?;
    let mut c = QuantConfig::default();
    c.weight_bits = o.u32("weightBits")?.unwrap_or(8);
    c.act_bits = o.u32("actBits")?.unwrap_or(8);
    for (name, b) in [
        ("config.weightBits", c.weight_bits),
        ("config.actBits", c.act_bits),
    ] {
        if !(2..=8).contains(&b) {
            bail!(name, "must be an integer from 2 to 8, found {b}");
        }
    }
    if let Some(p) = o.get("perChannel")? {
        c.per_channel = p
            .as_bool()
            .ok_or_else(|| Error::new("config.perChannel", "must be true or false"))?;
    }
    let method = o.str("method")?.unwrap_or_else(|| "minmax".into());
    // "dynamic": activation parameters from each tensor at run time; the calibrated min-max
    // ones remain for the report.
    c.dynamic = method == "dynamic";
    c.method = Method::parse(
        if c.dynamic { "minmax" } else { &method },
        o.f64("percentile")?,
    )
    .map_err(|e| {
        let msg = e.message.replace("expected", "expected \"dynamic\",");
        Error::new(e.subject.replace("options", "config"), msg)
    })?;
    match o.str("granularity")?.as_deref() {
        None => {}
        Some("tensor") => c.per_channel = false,
        Some("channel") => c.per_channel = true,
        Some("group") => {
            let g = o.u32("groupSize")?.unwrap_or(32) as usize;
            if !(1..=4096).contains(&g) {
                bail!("config.groupSize", "must be from 1 to 4096, found {g}");
            }
            c.group_size = Some(g);
        }
        Some(other) => bail!(
            "config.granularity",
            "unknown granularity \"{other}\", expected \"tensor\", \"channel\" or \"group\""
        ),
    }
    if c.group_size.is_none() && o.get("groupSize")?.is_some() {
        bail!("config.groupSize", "needs granularity \"group\"");
    }
    c.rounding = match o.str("rounding")?.as_deref() {
        None | Some("nearest") => Rounding::Nearest,
        Some("gptq") => Rounding::Gptq,
        Some(other) => bail!(
            "config.rounding",
            "unknown rounding \"{other}\", expected \"nearest\" or \"gptq\""
        ),
    };
    let flag = |key: &str| -> Result<bool> {
        o.get(key)?.map_or(Ok(false), |v| {
            v.as_bool()
                .ok_or_else(|| Error::new(format!("config.{key}"), "must be true or false"))
        })
    };
    c.format = match o.str("format")?.as_deref() {
        None | Some("int") => None,
        Some("fp16") => Some(qm::FloatFormat::F16),
        Some("bf16") => Some(qm::FloatFormat::Bf16),
        Some(other) => bail!(
            "config.format",
            "unknown format \"{other}\", expected \"fp16\" or \"bf16\""
        ),
    };
    c.equalize = flag("equalize")?;
    c.bias_correction = flag("biasCorrection")?;
    if let Some(s) = o.str("actScheme")? {
        c.act_scheme = Scheme::parse(&s, "config.actScheme")?;
    }
    if let Some(list) = o.get("layerBits")? {
        if !Array::is_array(&list) {
            bail!(
                "config.layerBits",
                "must be an array of {{ layer, weightBits, actBits }}"
            );
        }
        for (i, item) in Array::from(&list).iter().enumerate() {
            let e = Opts::named(
                &item,
                &["layer", "weightBits", "actBits"],
                "config.layerBits[]",
            )
            .map_err(|e| Error::new(format!("config.layerBits[{i}]"), e.message))?;
            let layer = e
                .u32("layer")?
                .ok_or_else(|| Error::new(format!("config.layerBits[{i}].layer"), "is required"))?
                as usize;
            c.layer_bits.push((
                layer,
                e.u32("weightBits")?.unwrap_or(c.weight_bits),
                e.u32("actBits")?.unwrap_or(c.act_bits),
            ));
        }
    }
    if let Some(list) = o.get("skip")? {
        c.skip = i32s(&list, "config.skip")?
            .into_iter()
            .map(|v| {
                usize::try_from(v)
                    .map_err(|_| Error::new("config.skip", format!("{v} is not a layer index")))
            })
            .collect::<Result<_>>()?;
    }
    Ok(c)
}

/// An integer-only INT8 model (and the course module's simulated path, for comparison).
#[wasm_bindgen]
pub struct QuantizedModel {
    pub(super) inner: QModel,
    /// Quantized logits of the first digits of one set along one path, kept by `evaluate` so a
    /// longer prefix computes only the digits it adds: `(digits id, path, logits)`.
    eval_logits: Option<(u32, eval::Path, Vec<f32>)>,
}

impl QuantizedModel {
    /// Repacks the weights when `useKernels` chose another int8 entry since they were packed.
    pub(super) fn ready(&mut self) {
        self.inner.repack(crate::kernels::table::int8());
    }
    /// The quantized logits kept for `digits` along `path` (emptied first if they were of
    /// another set or path), to which evaluations append.
    fn kept_logits(&mut self, digits: &Digits, path: eval::Path) -> &mut Vec<f32> {
        if self.eval_logits.as_ref().map(|c| (c.0, c.1)) != Some((digits.id, path)) {
            let cap = digits.inner.len() * self.inner.output_len;
            self.eval_logits = Some((digits.id, path, Vec::with_capacity(cap)));
        }
        &mut self.eval_logits.as_mut().expect("set above").2
    }
}

#[wasm_bindgen]
impl QuantizedModel {
    /// True INT8 forward: int8 × int8 → int32, requantized between layers; returns the
    /// dequantized outputs (`n × outputs`).
    pub fn forward(&mut self, x: &[f32], n: usize) -> JsResult<Float32Array> {
        self.ready();
        Ok(Float32Array::from(&self.inner.forward(x, n)?[..]))
    }
    /// Adds to what `Model.evaluate` keeps for this model the logits of the next digits of
    /// `digits` along `mode`, computed elsewhere by an identical copy of this model (same file,
    /// calibration, config and build: the integer path is bit-exact, so its logits are these
    /// ones): the lab's helper worker computes the second half of an evaluation while the lab's
    /// worker does the first. `logits`: `k × outputs` for digits `[from, from + k)`, where `from`
    /// must be the number of digits already evaluated, so a late or repeated part is refused
    /// instead of misplaced. Returns how many digits are evaluated now.
    #[wasm_bindgen(js_name = addEvalLogits)]
    pub fn add_eval_logits(
        &mut self,
        digits: &Digits,
        mode: Option<String>,
        from: usize,
        logits: &[f32],
    ) -> JsResult<usize> {
        let path = eval::Path::parse(mode.as_deref())?;
        let classes = self.inner.output_len;
        if logits.len() % classes != 0 {
            return Err(Error::new(
                "logits",
                format!(
                    "has {} values, not a whole number of {classes}-logit rows",
                    logits.len()
                ),
            )
            .into());
        }
        let k = logits.len() / classes;
        let kept = self.kept_logits(digits, path);
        let have = kept.len() / classes;
        if from != have {
            return Err(Error::new(
                "from",
                format!("is {from}, but {have} digits are evaluated: the logits must follow them"),
            )
            .into());
        }
        if have + k > digits.inner.len() {
            return Err(Error::new(
                "logits",
                format!(
                    "has {k} rows, beyond the {} digits after {have}",
                    digits.inner.len() - have
                ),
            )
            .into());
        }
        kept.extend_from_slice(logits);
        Ok(have + k)
    }
    /// The raw int8 outputs of the integer pipeline.
    #[wasm_bindgen(js_name = forwardInt8)]
    pub fn forward_int8(&mut self, x: &[f32], n: usize) -> JsResult<Int8Array> {
        self.ready();
        let v = self.inner.forward_int8(x, n)?;
        Ok(Int8Array::from(&v[..]))
    }
    /// The course module's "simulated" INT8: weights dequantized to float on every call, float
    /// conv, float activations. Never faster than FP32; here to show why.
    #[wasm_bindgen(js_name = forwardSimulated)]
    pub fn forward_simulated(&self, x: &[f32], n: usize) -> JsResult<Float32Array> {
        Ok(Float32Array::from(&self.inner.forward_simulated(x, n)?[..]))
    }
    /// Times the true INT8 (`mode` "int8", default) or simulated forward pass inside the
    /// module, as `Model.timeForward`; the int8 breakdown has the input quantization, every
    /// step and the output dequantization.
    #[wasm_bindgen(js_name = timeForward)]
    pub fn time_forward(
        &mut self,
        x: &[f32],
        n: usize,
        samples: usize,
        reps: usize,
        profile_runs: Option<usize>,
        mode: Option<String>,
    ) -> JsResult<JsValue> {
        self.ready();
        let path = eval::Path::parse(mode.as_deref())?;
        fp32::check_batch(x, n, self.inner.input_len)?;
        let r = Request {
            x,
            n,
            samples,
            reps,
            profile_runs: profile_runs.unwrap_or(0),
        };
        let t = super::timing::time_quantized(&self.inner, path, &r)?;
        Ok(serde_wasm_bindgen::to_value(&t)?)
    }
    /// How the model runs: "integer" (int8 × int8 → int32 throughout) or "qdq" (group-wise or
    /// dynamic: the QDQ graph in float, as onnxruntime's CPU provider runs one it cannot fuse).
    #[wasm_bindgen(getter)]
    pub fn deployed(&self) -> String {
        match self.inner.deployed() {
            qm::Deployed::Integer => "integer",
            qm::Deployed::Qdq => "qdq",
        }
        .into()
    }
    /// Cross-layer equalization's per-channel weight ranges before and after, and the scales, for
    /// each pair of layers it rescaled (empty unless `equalize` was set).
    #[wasm_bindgen(getter)]
    pub fn equalization(&self) -> JsResult<JsValue> {
        Ok(serde_wasm_bindgen::to_value(&self.inner.equalized)?)
    }
    /// The int8 GEMM entry this model's weights are packed for.
    #[wasm_bindgen(getter)]
    pub fn kernel(&self) -> String {
        crate::kernels::Entry::name(self.inner.kernel()).to_string()
    }
    /// Output scale and zero point and the input's, `{ input: {scale, zeroPoint}, output: {...} }`.
    pub fn io(&self) -> JsResult<Object> {
        let out = Object::new();
        for (k, p) in [("input", self.inner.input), ("output", self.inner.output)] {
            let o = Object::new();
            set(&o, "scale", &p.scale.into())?;
            set(&o, "zeroPoint", &p.zero_point.into())?;
            set(&out, k, &o)?;
        }
        Ok(out)
    }
}
