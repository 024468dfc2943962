//! The JS boundary: the only module that knows about wasm-bindgen. Every export converts JS values
//! into core types (with errors that name the argument), calls `api`/`quant`, and converts back.
//! No export unwraps: a Rust error becomes a JS `Error` whose message is its `Display` text.

use crate::api::{self, QuantOptions};
use crate::quant::calibrate::Method;
use crate::quant::linear::{dequantize_linear, quantize_linear};
use crate::quant::{Dtype, QuantParams, Scheme};
use crate::{bail, Error, Result};
use js_sys::{Array, Float32Array, Int32Array, Int8Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The crate version, for the page footer and bug reports.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// ONNX QuantizeLinear. `scale` of length 1 means per tensor, otherwise per axis
/// (`options.axis`, default 1, with `options.shape`).
#[wasm_bindgen(js_name = quantizeLinear)]
pub fn quantize_linear_js(
    x: JsValue,
    scale: JsValue,
    zero_point: JsValue,
    options: JsValue,
) -> std::result::Result<JsValue, JsError> {
    let x = f32s(&x, "x")?;
    let o = Opts::new(&options, &["dtype", "axis", "shape"])?;
    let dtype = Dtype::parse(
        &o.str("dtype")?.unwrap_or_else(|| "int8".into()),
        "options.dtype",
    )?;
    let params = QuantParams {
        scale: f32s(&scale, "scale")?,
        zero_point: i32s(&zero_point, "zeroPoint")?,
        axis: None,
    };
    let q = quantize_linear(&x, params, dtype, o.shape()?.as_deref(), o.i64("axis")?)?;
    Ok(match dtype {
        Dtype::Uint8 => {
            Uint8Array::from(&q.iter().map(|&v| v as u8).collect::<Vec<_>>()[..]).into()
        }
        _ => Int8Array::from(&q.iter().map(|&v| v as i8).collect::<Vec<_>>()[..]).into(),
    })
}

/// ONNX DequantizeLinear. The dtype follows the array type: Int8Array, Uint8Array or Int32Array.
#[wasm_bindgen(js_name = dequantizeLinear)]
pub fn dequantize_linear_js(
    q: JsValue,
    scale: JsValue,
    zero_point: JsValue,
    options: JsValue,
) -> std::result::Result<Float32Array, JsError> {
    let (q, dtype): (Vec<i32>, Dtype) = if let Some(a) = q.dyn_ref::<Int8Array>() {
        (a.to_vec().into_iter().map(i32::from).collect(), Dtype::Int8)
    } else if let Some(a) = q.dyn_ref::<Uint8Array>() {
        (
            a.to_vec().into_iter().map(i32::from).collect(),
            Dtype::Uint8,
        )
    } else if let Some(a) = q.dyn_ref::<Int32Array>() {
        (a.to_vec(), Dtype::Int32)
    } else {
        return Err(Error::new("q", "must be an Int8Array, a Uint8Array or an Int32Array").into());
    };
    let o = Opts::new(&options, &["axis", "shape", "dtype"])?;
    if let Some(name) = o.str("dtype")? {
        if name != dtype.name() {
            bail_js(
                "options.dtype",
                format!("is \"{name}\" but q is an array of {}", dtype.name()),
            )?;
        }
    }
    let params = QuantParams {
        scale: f32s(&scale, "scale")?,
        zero_point: i32s(&zero_point, "zeroPoint")?,
        axis: None,
    };
    let x = dequantize_linear(&q, params, dtype, o.shape()?.as_deref(), o.i64("axis")?)?;
    Ok(Float32Array::from(&x[..]))
}

const QUANT_KEYS: [&str; 7] = [
    "scheme",
    "dtype",
    "bits",
    "method",
    "percentile",
    "shape",
    "axis",
];

fn quant_options(o: &Opts) -> Result<QuantOptions> {
    let Some(scheme) = o.str("scheme")? else {
        bail!(
            "options.scheme",
            "is required: \"symmetric\" or \"asymmetric\""
        )
    };
    let Some(dtype) = o.str("dtype")? else {
        bail!("options.dtype", "is required: \"int8\" or \"uint8\"")
    };
    let scheme = Scheme::parse(&scheme, "options.scheme")?;
    let dtype = Dtype::parse(&dtype, "options.dtype")?;
    let bits = o.u32("bits")?.unwrap_or(8);
    let method = Method::parse(
        &o.str("method")?.unwrap_or_else(|| "minmax".into()),
        o.f64("percentile")?,
    )?;
    let mut q = QuantOptions::new(dtype, bits, scheme, method)
        .map_err(|e| Error::new(format!("options.{}", e.subject), e.message))?;
    q.shape = o.shape()?;
    q.axis = o.i64("axis")?;
    Ok(q)
}

/// Calibrates `x` and returns `{ scale: Float32Array, zeroPoint: Int32Array, axis }`.
#[wasm_bindgen(js_name = chooseQuantParams)]
pub fn choose_quant_params_js(
    x: JsValue,
    options: JsValue,
) -> std::result::Result<Object, JsError> {
    let x = f32s(&x, "x")?;
    let o = Opts::new(&options, &QUANT_KEYS)?;
    let (p, _) = api::choose_quant_params(&x, &quant_options(&o)?)?;
    let out = Object::new();
    set(&out, "scale", &Float32Array::from(&p.scale[..]))?;
    set(&out, "zeroPoint", &Int32Array::from(&p.zero_point[..]))?;
    set(
        &out,
        "axis",
        &p.axis.map_or(JsValue::NULL, |a| JsValue::from(a as u32)),
    )?;
    Ok(out)
}

/// Statistics and histograms of `x` quantized with calibrated (or given) parameters.
#[wasm_bindgen(js_name = analyzeQuantization)]
pub fn analyze_quantization_js(
    x: JsValue,
    options: JsValue,
) -> std::result::Result<JsValue, JsError> {
    let x = f32s(&x, "x")?;
    let keys: Vec<&str> = QUANT_KEYS
        .iter()
        .copied()
        .chain(["bins", "channel", "scale", "zeroPoint"])
        .collect();
    let o = Opts::new(&options, &keys)?;
    let opts = quant_options(&o)?;
    let params = match (o.get("scale")?, o.get("zeroPoint")?) {
        (None, None) => None,
        (Some(s), Some(z)) => Some(QuantParams {
            scale: f32s(&s, "options.scale")?,
            zero_point: i32s(&z, "options.zeroPoint")?,
            axis: None,
        }),
        _ => bail_js(
            "options.scale",
            "and options.zeroPoint must be given together".into(),
        )?,
    };
    let bins = o.u32("bins")?.unwrap_or(64) as usize;
    let channel = o.u32("channel")?.unwrap_or(0) as usize;
    let a = api::analyze_quantization(&x, &opts, params, bins, channel)?;
    Ok(serde_wasm_bindgen::to_value(&a)?)
}

// ---- conversions -------------------------------------------------------------------------------

fn bail_js<T>(subject: &str, message: String) -> Result<T> {
    Err(Error::new(subject, message))
}

fn set(obj: &Object, key: &str, value: &JsValue) -> Result<()> {
    Reflect::set(obj, &key.into(), value)
        .map(|_| ())
        .map_err(|_| Error::new(key, "could not be set"))
}

/// A Float32Array, or an Array of numbers.
fn f32s(v: &JsValue, name: &str) -> Result<Vec<f32>> {
    if let Some(a) = v.dyn_ref::<Float32Array>() {
        return Ok(a.to_vec());
    }
    Ok(numbers(v, name)?.into_iter().map(|x| x as f32).collect())
}

/// An Int32Array, or an Array of integers.
fn i32s(v: &JsValue, name: &str) -> Result<Vec<i32>> {
    if let Some(a) = v.dyn_ref::<Int32Array>() {
        return Ok(a.to_vec());
    }
    if let Some(a) = v.dyn_ref::<Int8Array>() {
        return Ok(a.to_vec().into_iter().map(i32::from).collect());
    }
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(a.to_vec().into_iter().map(i32::from).collect());
    }
    numbers(v, name)?
        .into_iter()
        .enumerate()
        .map(|(i, x)| {
            if x.fract() == 0.0 && x >= i32::MIN as f64 && x <= i32::MAX as f64 {
                Ok(x as i32)
            } else {
                bail!(name, "element {i} is {x}, not a 32-bit integer")
            }
        })
        .collect()
}

fn numbers(v: &JsValue, name: &str) -> Result<Vec<f64>> {
    if let Some(n) = v.as_f64() {
        return Ok(vec![n]);
    }
    if !Array::is_array(v) && !v.is_instance_of::<js_sys::Float64Array>() {
        bail!(
            name,
            "must be a typed array or an array of numbers, found {}",
            type_name(v)
        );
    }
    let arr = Array::from(v);
    arr.iter()
        .enumerate()
        .map(|(i, e)| {
            e.as_f64().ok_or_else(|| {
                Error::new(
                    name,
                    format!("element {i} is {}, not a number", type_name(&e)),
                )
            })
        })
        .collect()
}

fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        v.js_typeof()
            .as_string()
            .unwrap_or_else(|| "a value".into())
    }
}

/// An options object with a fixed set of keys: unknown keys are an error, so typos do not pass
/// silently.
struct Opts(Option<Object>, &'static str);

impl Opts {
    fn new(v: &JsValue, allowed: &[&str]) -> Result<Opts> {
        Self::named(v, allowed, "options")
    }

    /// As `new`, with errors about `name.key` instead of `options.key`.
    fn named(v: &JsValue, allowed: &[&str], name: &'static str) -> Result<Opts> {
        if v.is_undefined() || v.is_null() {
            return Ok(Opts(None, name));
        }
        let Some(obj) = v
            .dyn_ref::<Object>()
            .filter(|_| v.is_object() && !Array::is_array(v))
        else {
            bail!(name, "must be an object, found {}", type_name(v));
        };
        for key in Object::keys(obj).iter() {
            let key = key.as_string().unwrap_or_default();
            if !allowed.contains(&key.as_str()) {
                bail!(
                    name,
                    "unknown key '{key}'; known keys: {}",
                    allowed.join(", ")
                );
            }
        }
        Ok(Opts(Some(obj.clone()), name))
    }

    fn get(&self, key: &str) -> Result<Option<JsValue>> {
        let Some(obj) = &self.0 else { return Ok(None) };
        let v = Reflect::get(obj, &key.into())
            .map_err(|_| Error::new(format!("{}.{key}", self.1), "could not be read"))?;
        Ok(if v.is_undefined() || v.is_null() {
            None
        } else {
            Some(v)
        })
    }

    fn str(&self, key: &str) -> Result<Option<String>> {
        self.get(key)?
            .map(|v| {
                v.as_string().ok_or_else(|| {
                    Error::new(
                        format!("{}.{key}", self.1),
                        format!("must be a string, found {}", type_name(&v)),
                    )
                })
            })
            .transpose()
    }

    fn f64(&self, key: &str) -> Result<Option<f64>> {
        self.get(key)?
            .map(|v| match v.as_f64() {
                Some(x) if x.is_finite() => Ok(x),
                _ => bail!(
                    format!("{}.{key}", self.1),
                    "must be a finite number, found {}",
                    display(&v)
                ),
            })
            .transpose()
    }

    fn i64(&self, key: &str) -> Result<Option<i64>> {
        match self.f64(key)? {
            Some(x) if x.fract() != 0.0 || x.abs() > 1e9 => {
                bail!(format!("{}.{key}", self.1), "must be an integer, found {x}")
            }
            other => Ok(other.map(|x| x as i64)),
        }
    }

    fn u32(&self, key: &str) -> Result<Option<u32>> {
        match self.i64(key)? {
            Some(x) if x < 0 => bail!(format!("{}.{key}", self.1), "must be >= 0, found {x}"),
            other => Ok(other.map(|x| x as u32)),
        }
    }

    fn shape(&self) -> Result<Option<Vec<usize>>> {
        self.dims("shape")
    }

    /// A list of dimensions (non-negative integers) under `key`.
    fn dims(&self, key: &str) -> Result<Option<Vec<usize>>> {
        let Some(v) = self.get(key)? else {
            return Ok(None);
        };
        let name = format!("{}.{key}", self.1);
        numbers(&v, &name)?
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                if d.fract() == 0.0 && (0.0..=1e9).contains(&d) {
                    Ok(d as usize)
                } else {
                    bail!(
                        name.clone(),
                        "dimension {i} is {d}, not a non-negative integer"
                    )
                }
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    fn required_dims(&self, key: &str) -> Result<Vec<usize>> {
        self.dims(key)?
            .ok_or_else(|| Error::new(format!("{}.{key}", self.1), "is required"))
    }
}

fn display(v: &JsValue) -> String {
    v.as_f64()
        .map(|x| x.to_string())
        .or_else(|| v.as_string().map(|s| format!("\"{s}\"")))
        .unwrap_or_else(|| type_name(v))
}

// ---- the model -----------------------------------------------------------------------------

use crate::model::digits::Digits as CoreDigits;
use crate::model::eval::{self, Evaluation};
use crate::model::int8::{self as qm, Calibration, QModel, QuantConfig};
use crate::model::{file, fp32, report, Model as CoreModel};

type JsResult<T> = std::result::Result<T, JsError>;

/// A set of digits (QLDG file) with labels.
#[wasm_bindgen]
pub struct Digits {
    inner: CoreDigits,
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
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }
    pub fn labels(&self) -> Vec<u8> {
        self.inner.labels.clone()
    }
    /// Raw pixels (rows×cols, 0..255) of image `i`.
    pub fn pixels(&self, i: usize) -> JsResult<Vec<u8>> {
        if i >= self.inner.len() {
            return Err(Error::new(
                "i",
                format!("{i} is beyond the {} images", self.inner.len()),
            )
            .into());
        }
        Ok(self.inner.image(i).to_vec())
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

/// A float model and, once calibrated, the activation statistics its int8 versions use.
#[wasm_bindgen]
pub struct Model {
    inner: CoreModel,
    calibration: Option<Calibration>,
    /// Preprocessed test images and float predictions, cached by `evaluate`.
    eval_cache: Option<(u32, Vec<f32>, Vec<f32>)>,
    /// How the layer list was found when the file did not list it.
    note: Option<String>,
}

fn wrap(inner: CoreModel) -> Model {
    Model {
        inner,
        calibration: None,
        eval_cache: None,
        note: None,
    }
}

#[wasm_bindgen]
impl Model {
    /// The shipped model (the course module's CNN trained on MNIST), built into the module.
    pub fn baseline() -> JsResult<Model> {
        Ok(wrap(CoreModel::baseline()?))
    }
    /// A model from `.safetensors` bytes with the layer list in `__metadata__`.
    #[wasm_bindgen(js_name = fromSafetensors)]
    pub fn from_safetensors(bytes: &[u8]) -> JsResult<Model> {
        let (model, note) = file::load_with_note(bytes)?;
        Ok(Model {
            note,
            ..wrap(model)
        })
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
        Ok(Float32Array::from(&fp32::forward(&self.inner, x, n)?[..]))
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
    /// An integer-only quantized model for `config`:
    /// `{ weightBits, actBits, perChannel, method, percentile, actScheme, layerBits: [{ layer, weightBits, actBits }] }`.
    pub fn quantize(&self, config: JsValue) -> JsResult<QuantizedModel> {
        let Some(cal) = &self.calibration else {
            return Err(Error::new("model", "is not calibrated: call calibrate() first").into());
        };
        let config = quant_config(&config)?;
        Ok(QuantizedModel {
            inner: qm::quantize_model(&self.inner, cal, &config)?,
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
    /// digit set and cached.
    pub fn evaluate(
        &mut self,
        q: &QuantizedModel,
        digits: &Digits,
        mode: Option<String>,
    ) -> JsResult<Object> {
        let path = match mode.as_deref().unwrap_or("int8") {
            "int8" => eval::Path::Int8,
            "simulated" => eval::Path::Simulated,
            other => {
                return Err(Error::new(
                    "mode",
                    format!("unknown mode '{other}', expected \"int8\" or \"simulated\""),
                )
                .into())
            }
        };
        let n = digits.inner.len();
        if self.eval_cache.as_ref().map(|c| c.0) != Some(digits.id) {
            let x = eval::images(&self.inner, &digits.inner)?;
            let fp = fp32::forward(&self.inner, &x, n)?;
            self.eval_cache = Some((digits.id, x, fp));
        }
        let (_, x, fp) = self.eval_cache.as_ref().expect("filled above");
        let ql = eval::logits(&q.inner, path, x, n)?;
        let classes = self.inner.output_len();
        let e = Evaluation::from_logits(&digits.inner.labels, fp, &ql, classes);
        let out = Object::new();
        set(&out, "count", &(e.count as u32).into())?;
        set(&out, "fp32Accuracy", &e.fp32_accuracy().into())?;
        set(&out, "int8Accuracy", &e.int8_accuracy().into())?;
        set(&out, "agreement", &e.agreement().into())?;
        set(&out, "logitSqnrDb", &e.logit_sqnr_db.into())?;
        set(&out, "flipped", &js_sys::Uint32Array::from(&e.flipped[..]))?;
        set(
            &out,
            "fp32Pred",
            &Uint8Array::from(&eval::predictions(fp, classes)[..]),
        )?;
        set(
            &out,
            "int8Pred",
            &Uint8Array::from(&eval::predictions(&ql, classes)[..]),
        )?;
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
        let path = match mode.as_deref().unwrap_or("int8") {
            "int8" => eval::Path::Int8,
            "simulated" => eval::Path::Simulated,
            other => {
                return Err(Error::new(
                    "mode",
                    format!("unknown mode '{other}', expected \"int8\" or \"simulated\""),
                )
                .into())
            }
        };
        let fp = fp32::forward(&self.inner, x, n)?;
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

fn quant_config(v: &JsValue) -> Result<QuantConfig> {
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
    c.method = Method::parse(
        &o.str("method")?.unwrap_or_else(|| "minmax".into()),
        o.f64("percentile")?,
    )
    .map_err(|e| Error::new(e.subject.replace("options", "config"), e.message))?;
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
    inner: QModel,
}

#[wasm_bindgen]
impl QuantizedModel {
    /// True INT8 forward: int8 × int8 → int32, requantized between layers; returns the
    /// dequantized outputs (`n × outputs`).
    pub fn forward(&self, x: &[f32], n: usize) -> JsResult<Float32Array> {
        Ok(Float32Array::from(&self.inner.forward(x, n)?[..]))
    }
    /// The raw int8 outputs of the integer pipeline.
    #[wasm_bindgen(js_name = forwardInt8)]
    pub fn forward_int8(&self, x: &[f32], n: usize) -> JsResult<Int8Array> {
        let v = self.inner.forward_int8(x, n)?;
        Ok(Int8Array::from(&v[..]))
    }
    /// The course module's "simulated" INT8: weights dequantized to float on every call, float
    /// conv, float activations. Never faster than FP32; here to show why.
    #[wasm_bindgen(js_name = forwardSimulated)]
    pub fn forward_simulated(&self, x: &[f32], n: usize) -> JsResult<Float32Array> {
        Ok(Float32Array::from(&self.inner.forward_simulated(x, n)?[..]))
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

// ---- the ONNX integer ops ------------------------------------------------------------------

fn int_array(v: &JsValue, name: &str) -> Result<(Vec<i32>, Dtype)> {
    if let Some(a) = v.dyn_ref::<Int8Array>() {
        Ok((a.to_vec().into_iter().map(i32::from).collect(), Dtype::Int8))
    } else if let Some(a) = v.dyn_ref::<Uint8Array>() {
        Ok((
            a.to_vec().into_iter().map(i32::from).collect(),
            Dtype::Uint8,
        ))
    } else {
        bail!(name, "must be an Int8Array or a Uint8Array")
    }
}

fn one_f32(v: &JsValue, name: &str) -> Result<f32> {
    let s = f32s(v, name)?;
    if s.len() != 1 {
        bail!(
            name,
            "must be one number (per-tensor), found {} values",
            s.len()
        );
    }
    Ok(s[0])
}

fn one_i32(v: &JsValue, name: &str) -> Result<i32> {
    let s = i32s(v, name)?;
    if s.len() != 1 {
        bail!(
            name,
            "must be one integer (per-tensor), found {} values",
            s.len()
        );
    }
    Ok(s[0])
}

fn typed(v: &[i32], dtype: Dtype) -> JsValue {
    match dtype {
        Dtype::Uint8 => {
            Uint8Array::from(&v.iter().map(|&q| q as u8).collect::<Vec<_>>()[..]).into()
        }
        _ => Int8Array::from(&v.iter().map(|&q| q as i8).collect::<Vec<_>>()[..]).into(),
    }
}

fn qlinear_result(out: crate::api::QLinearOutput, dtype: Dtype) -> Result<Object> {
    let o = Object::new();
    set(&o, "y", &typed(&out.y, dtype))?;
    set(&o, "acc", &Int32Array::from(&out.acc[..]))?;
    set(
        &o,
        "shape",
        &out.shape
            .iter()
            .map(|&d| JsValue::from(d as u32))
            .collect::<Array>(),
    )?;
    Ok(o)
}

/// ONNX QLinearConv (NCHW, group 1, stride 1): inputs in ONNX order; `options.xShape`,
/// `options.wShape` and `options.pads` (0 or 1). Returns `{ y, acc, shape }`, with `acc` the
/// exact int32 accumulators before requantization.
#[wasm_bindgen(js_name = qlinearConv)]
#[allow(clippy::too_many_arguments)]
pub fn qlinear_conv_js(
    x: JsValue,
    x_scale: JsValue,
    x_zero_point: JsValue,
    w: JsValue,
    w_scale: JsValue,
    w_zero_point: JsValue,
    y_scale: JsValue,
    y_zero_point: JsValue,
    bias: JsValue,
    options: JsValue,
) -> JsResult<Object> {
    let (xv, x_dtype) = int_array(&x, "x")?;
    let (wv, w_dtype) = int_array(&w, "w")?;
    if w_dtype != Dtype::Int8 {
        return Err(Error::new("w", "must be an Int8Array (int8 weights)").into());
    }
    let o = Opts::new(&options, &["xShape", "wShape", "pads"])?;
    let (xs, ws) = (o.required_dims("xShape")?, o.required_dims("wShape")?);
    let b = if bias.is_undefined() || bias.is_null() {
        None
    } else {
        Some(i32s(&bias, "bias")?)
    };
    let (w_scale, w_zp) = (
        f32s(&w_scale, "wScale")?,
        i32s(&w_zero_point, "wZeroPoint")?,
    );
    let out = crate::api::qlinear_conv(&crate::api::QLinearConvArgs {
        x: &xv,
        x_shape: &xs,
        x_dtype,
        x_scale: one_f32(&x_scale, "xScale")?,
        x_zero_point: one_i32(&x_zero_point, "xZeroPoint")?,
        w: &wv,
        w_shape: &ws,
        w_scale: &w_scale,
        w_zero_point: &w_zp,
        y_scale: one_f32(&y_scale, "yScale")?,
        y_zero_point: one_i32(&y_zero_point, "yZeroPoint")?,
        bias: b.as_deref(),
        pads: o.u32("pads")?.unwrap_or(0) as usize,
    })?;
    Ok(qlinear_result(out, x_dtype)?)
}

/// ONNX QLinearMatMul: `a [N, K]` (int8 or uint8) times `b [K, M]` (int8, per tensor or per
/// column); `options.aShape`, `options.bShape`. Returns `{ y, acc, shape }`.
#[wasm_bindgen(js_name = qlinearMatMul)]
#[allow(clippy::too_many_arguments)]
pub fn qlinear_matmul_js(
    a: JsValue,
    a_scale: JsValue,
    a_zero_point: JsValue,
    b: JsValue,
    b_scale: JsValue,
    b_zero_point: JsValue,
    y_scale: JsValue,
    y_zero_point: JsValue,
    options: JsValue,
) -> JsResult<Object> {
    let (av, a_dtype) = int_array(&a, "a")?;
    let (bv, b_dtype) = int_array(&b, "b")?;
    if b_dtype != Dtype::Int8 {
        return Err(Error::new("b", "must be an Int8Array (int8 weights)").into());
    }
    let o = Opts::new(&options, &["aShape", "bShape"])?;
    let (as_, bs) = (o.required_dims("aShape")?, o.required_dims("bShape")?);
    let (b_scale, b_zp) = (
        f32s(&b_scale, "bScale")?,
        i32s(&b_zero_point, "bZeroPoint")?,
    );
    let out = crate::api::qlinear_matmul(&crate::api::QLinearMatMulArgs {
        a: &av,
        a_shape: &as_,
        a_dtype,
        a_scale: one_f32(&a_scale, "aScale")?,
        a_zero_point: one_i32(&a_zero_point, "aZeroPoint")?,
        b: &bv,
        b_shape: &bs,
        b_scale: &b_scale,
        b_zero_point: &b_zp,
        y_scale: one_f32(&y_scale, "yScale")?,
        y_zero_point: one_i32(&y_zero_point, "yZeroPoint")?,
    })?;
    Ok(qlinear_result(out, a_dtype)?)
}
