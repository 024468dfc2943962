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
pub fn quantize_linear_js(x: JsValue, scale: JsValue, zero_point: JsValue, options: JsValue) -> std::result::Result<JsValue, JsError> {
    let x = f32s(&x, "x")?;
    let o = Opts::new(&options, &["dtype", "axis", "shape"])?;
    let dtype = Dtype::parse(&o.str("dtype")?.unwrap_or_else(|| "int8".into()), "options.dtype")?;
    let params = QuantParams { scale: f32s(&scale, "scale")?, zero_point: i32s(&zero_point, "zeroPoint")?, axis: None };
    let q = quantize_linear(&x, params, dtype, o.shape()?.as_deref(), o.i64("axis")?)?;
    Ok(match dtype {
        Dtype::Uint8 => Uint8Array::from(&q.iter().map(|&v| v as u8).collect::<Vec<_>>()[..]).into(),
        _ => Int8Array::from(&q.iter().map(|&v| v as i8).collect::<Vec<_>>()[..]).into(),
    })
}

/// ONNX DequantizeLinear. The dtype follows the array type: Int8Array, Uint8Array or Int32Array.
#[wasm_bindgen(js_name = dequantizeLinear)]
pub fn dequantize_linear_js(q: JsValue, scale: JsValue, zero_point: JsValue, options: JsValue) -> std::result::Result<Float32Array, JsError> {
    let (q, dtype): (Vec<i32>, Dtype) = if let Some(a) = q.dyn_ref::<Int8Array>() {
        (a.to_vec().into_iter().map(i32::from).collect(), Dtype::Int8)
    } else if let Some(a) = q.dyn_ref::<Uint8Array>() {
        (a.to_vec().into_iter().map(i32::from).collect(), Dtype::Uint8)
    } else if let Some(a) = q.dyn_ref::<Int32Array>() {
        (a.to_vec(), Dtype::Int32)
    } else {
        return Err(Error::new("q", "must be an Int8Array, a Uint8Array or an Int32Array").into());
    };
    let o = Opts::new(&options, &["axis", "shape", "dtype"])?;
    if let Some(name) = o.str("dtype")? {
        if name != dtype.name() {
            bail_js("options.dtype", format!("is \"{name}\" but q is an array of {}", dtype.name()))?;
        }
    }
    let params = QuantParams { scale: f32s(&scale, "scale")?, zero_point: i32s(&zero_point, "zeroPoint")?, axis: None };
    let x = dequantize_linear(&q, params, dtype, o.shape()?.as_deref(), o.i64("axis")?)?;
    Ok(Float32Array::from(&x[..]))
}

const QUANT_KEYS: [&str; 7] = ["scheme", "dtype", "bits", "method", "percentile", "shape", "axis"];

fn quant_options(o: &Opts) -> Result<QuantOptions> {
    let Some(scheme) = o.str("scheme")? else { bail!("options.scheme", "is required: \"symmetric\" or \"asymmetric\"") };
    let Some(dtype) = o.str("dtype")? else { bail!("options.dtype", "is required: \"int8\" or \"uint8\"") };
    let scheme = Scheme::parse(&scheme, "options.scheme")?;
    let dtype = Dtype::parse(&dtype, "options.dtype")?;
    let bits = o.u32("bits")?.unwrap_or(8);
    let method = Method::parse(&o.str("method")?.unwrap_or_else(|| "minmax".into()), o.f64("percentile")?)?;
    let mut q = QuantOptions::new(dtype, bits, scheme, method).map_err(|e| Error::new(format!("options.{}", e.subject), e.message))?;
    q.shape = o.shape()?;
    q.axis = o.i64("axis")?;
    Ok(q)
}

/// Calibrates `x` and returns `{ scale: Float32Array, zeroPoint: Int32Array, axis }`.
#[wasm_bindgen(js_name = chooseQuantParams)]
pub fn choose_quant_params_js(x: JsValue, options: JsValue) -> std::result::Result<Object, JsError> {
    let x = f32s(&x, "x")?;
    let o = Opts::new(&options, &QUANT_KEYS)?;
    let (p, _) = api::choose_quant_params(&x, &quant_options(&o)?)?;
    let out = Object::new();
    set(&out, "scale", &Float32Array::from(&p.scale[..]))?;
    set(&out, "zeroPoint", &Int32Array::from(&p.zero_point[..]))?;
    set(&out, "axis", &p.axis.map_or(JsValue::NULL, |a| JsValue::from(a as u32)))?;
    Ok(out)
}

/// Statistics and histograms of `x` quantized with calibrated (or given) parameters.
#[wasm_bindgen(js_name = analyzeQuantization)]
pub fn analyze_quantization_js(x: JsValue, options: JsValue) -> std::result::Result<JsValue, JsError> {
    let x = f32s(&x, "x")?;
    let keys: Vec<&str> = QUANT_KEYS.iter().copied().chain(["bins", "channel", "scale", "zeroPoint"]).collect();
    let o = Opts::new(&options, &keys)?;
    let opts = quant_options(&o)?;
    let params = match (o.get("scale")?, o.get("zeroPoint")?) {
        (None, None) => None,
        (Some(s), Some(z)) => Some(QuantParams { scale: f32s(&s, "options.scale")?, zero_point: i32s(&z, "options.zeroPoint")?, axis: None }),
        _ => bail_js("options.scale", "and options.zeroPoint must be given together".into())?,
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
    Reflect::set(obj, &key.into(), value).map(|_| ()).map_err(|_| Error::new(key, "could not be set"))
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
        bail!(name, "must be a typed array or an array of numbers, found {}", type_name(v));
    }
    let arr = Array::from(v);
    arr.iter()
        .enumerate()
        .map(|(i, e)| e.as_f64().ok_or_else(|| Error::new(name, format!("element {i} is {}, not a number", type_name(&e)))))
        .collect()
}

fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "an array".into()
    } else {
        v.js_typeof().as_string().unwrap_or_else(|| "a value".into())
    }
}

/// An options object with a fixed set of keys: unknown keys are an error, so typos do not pass
/// silently.
struct Opts(Option<Object>);

impl Opts {
    fn new(v: &JsValue, allowed: &[&str]) -> Result<Opts> {
        if v.is_undefined() || v.is_null() {
            return Ok(Opts(None));
        }
        let Some(obj) = v.dyn_ref::<Object>().filter(|_| v.is_object() && !Array::is_array(v)) else {
            bail!("options", "must be an object, found {}", type_name(v));
        };
        for key in Object::keys(obj).iter() {
            let key = key.as_string().unwrap_or_default();
            if !allowed.contains(&key.as_str()) {
                bail!("options", "unknown key '{key}'; known keys: {}", allowed.join(", "));
            }
        }
        Ok(Opts(Some(obj.clone())))
    }

    fn get(&self, key: &str) -> Result<Option<JsValue>> {
        let Some(obj) = &self.0 else { return Ok(None) };
        let v = Reflect::get(obj, &key.into()).map_err(|_| Error::new(format!("options.{key}"), "could not be read"))?;
        Ok(if v.is_undefined() || v.is_null() { None } else { Some(v) })
    }

    fn str(&self, key: &str) -> Result<Option<String>> {
        self.get(key)?
            .map(|v| v.as_string().ok_or_else(|| Error::new(format!("options.{key}"), format!("must be a string, found {}", type_name(&v)))))
            .transpose()
    }

    fn f64(&self, key: &str) -> Result<Option<f64>> {
        self.get(key)?
            .map(|v| match v.as_f64() {
                Some(x) if x.is_finite() => Ok(x),
                _ => bail!(format!("options.{key}"), "must be a finite number, found {}", display(&v)),
            })
            .transpose()
    }

    fn i64(&self, key: &str) -> Result<Option<i64>> {
        match self.f64(key)? {
            Some(x) if x.fract() != 0.0 || x.abs() > 1e9 => bail!(format!("options.{key}"), "must be an integer, found {x}"),
            other => Ok(other.map(|x| x as i64)),
        }
    }

    fn u32(&self, key: &str) -> Result<Option<u32>> {
        match self.i64(key)? {
            Some(x) if x < 0 => bail!(format!("options.{key}"), "must be >= 0, found {x}"),
            other => Ok(other.map(|x| x as u32)),
        }
    }

    fn shape(&self) -> Result<Option<Vec<usize>>> {
        let Some(v) = self.get("shape")? else { return Ok(None) };
        let dims = numbers(&v, "options.shape")?;
        dims.into_iter()
            .enumerate()
            .map(|(i, d)| {
                if d.fract() == 0.0 && (0.0..=1e9).contains(&d) {
                    Ok(d as usize)
                } else {
                    bail!("options.shape", "dimension {i} is {d}, not a non-negative integer")
                }
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}

fn display(v: &JsValue) -> String {
    v.as_f64().map(|x| x.to_string()).or_else(|| v.as_string().map(|s| format!("\"{s}\""))).unwrap_or_else(|| type_name(v))
}
