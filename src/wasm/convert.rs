//! JS values to core types and back, with errors that name the argument.

#[cfg(feature = "full")]
use crate::quant::Dtype;
use crate::{bail, Error, Result};
use js_sys::{Array, Float32Array, Int32Array, Int8Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

pub(super) fn bail_js<T>(subject: &str, message: String) -> Result<T> {
    Err(Error::new(subject, message))
}

pub(super) fn set(obj: &Object, key: &str, value: &JsValue) -> Result<()> {
    Reflect::set(obj, &key.into(), value)
        .map(|_| ())
        .map_err(|_| Error::new(key, "could not be set"))
}

/// A Float32Array, or an Array of numbers.
pub(super) fn f32s(v: &JsValue, name: &str) -> Result<Vec<f32>> {
    if let Some(a) = v.dyn_ref::<Float32Array>() {
        return Ok(a.to_vec());
    }
    Ok(numbers(v, name)?.into_iter().map(|x| x as f32).collect())
}

/// An Int32Array, or an Array of integers.
pub(super) fn i32s(v: &JsValue, name: &str) -> Result<Vec<i32>> {
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

pub(super) fn numbers(v: &JsValue, name: &str) -> Result<Vec<f64>> {
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

pub(super) fn type_name(v: &JsValue) -> String {
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
pub(super) struct Opts(Option<Object>, &'static str);

impl Opts {
    pub(super) fn new(v: &JsValue, allowed: &[&str]) -> Result<Opts> {
        Self::named(v, allowed, "options")
    }

    /// As `new`, with errors about `name.key` instead of `options.key`.
    pub(super) fn named(v: &JsValue, allowed: &[&str], name: &'static str) -> Result<Opts> {
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

    pub(super) fn get(&self, key: &str) -> Result<Option<JsValue>> {
        let Some(obj) = &self.0 else { return Ok(None) };
        let v = Reflect::get(obj, &key.into())
            .map_err(|_| Error::new(format!("{}.{key}", self.1), "could not be read"))?;
        Ok(if v.is_undefined() || v.is_null() {
            None
        } else {
            Some(v)
        })
    }

    pub(super) fn str(&self, key: &str) -> Result<Option<String>> {
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

    pub(super) fn f64(&self, key: &str) -> Result<Option<f64>> {
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

    pub(super) fn i64(&self, key: &str) -> Result<Option<i64>> {
        match self.f64(key)? {
            Some(x) if x.fract() != 0.0 || x.abs() > 1e9 => {
                bail!(format!("{}.{key}", self.1), "must be an integer, found {x}")
            }
            other => Ok(other.map(|x| x as i64)),
        }
    }

    pub(super) fn u32(&self, key: &str) -> Result<Option<u32>> {
        match self.i64(key)? {
            Some(x) if x < 0 => bail!(format!("{}.{key}", self.1), "must be >= 0, found {x}"),
            other => Ok(other.map(|x| x as u32)),
        }
    }

    pub(super) fn shape(&self) -> Result<Option<Vec<usize>>> {
        self.dims("shape")
    }

    /// A list of dimensions (non-negative integers) under `key`.
    pub(super) fn dims(&self, key: &str) -> Result<Option<Vec<usize>>> {
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

    #[cfg(feature = "full")]
    pub(super) fn required_dims(&self, key: &str) -> Result<Vec<usize>> {
        self.dims(key)?
            .ok_or_else(|| Error::new(format!("{}.{key}", self.1), "is required"))
    }
}

pub(super) fn display(v: &JsValue) -> String {
    v.as_f64()
        .map(|x| x.to_string())
        .or_else(|| v.as_string().map(|s| format!("\"{s}\"")))
        .unwrap_or_else(|| type_name(v))
}

#[cfg(feature = "full")]
pub(super) fn int_array(v: &JsValue, name: &str) -> Result<(Vec<i32>, Dtype)> {
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

#[cfg(feature = "full")]
pub(super) fn one_f32(v: &JsValue, name: &str) -> Result<f32> {
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

#[cfg(feature = "full")]
pub(super) fn one_i32(v: &JsValue, name: &str) -> Result<i32> {
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

#[cfg(feature = "full")]
pub(super) fn typed(v: &[i32], dtype: Dtype) -> JsValue {
    match dtype {
        Dtype::Uint8 => {
            Uint8Array::from(&v.iter().map(|&q| q as u8).collect::<Vec<_>>()[..]).into()
        }
        _ => Int8Array::from(&v.iter().map(|&q| q as i8).collect::<Vec<_>>()[..]).into(),
    }
}
