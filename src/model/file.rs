//! `.safetensors` model files with PyTorch names and layouts.
//!
//! The layer list lives in the header's `__metadata__` as `"layers"`: a JSON array such as
//! `[{"type":"conv2d","name":"conv1","padding":0},{"type":"relu"},{"type":"maxpool2d","kernel":2},
//!   {"type":"flatten"},{"type":"linear","name":"fc"}]`, with `"input": "[1,32,32]"`.
//! Tensors are `NAME.weight` / `NAME.bias`: conv `[M, C, k, k]`, linear `[out, in]`.

use super::{Conv2d, Layer, Linear, Model, Shape};
use crate::{bail, Error, Result};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;
use std::collections::HashMap;

/// Largest accepted file (the parameter limit in float32 plus a header).
pub const MAX_FILE_BYTES: usize = super::MAX_PARAMS * 4 + (1 << 20);
/// Largest accepted JSON header.
pub const MAX_HEADER_BYTES: usize = 1 << 20;

pub fn load(bytes: &[u8]) -> Result<Model> {
    if bytes.len() > MAX_FILE_BYTES {
        bail!(
            "file",
            "is {} bytes; the limit is {MAX_FILE_BYTES}",
            bytes.len()
        );
    }
    if bytes.len() < 8 {
        bail!(
            "file",
            "is {} bytes, too short for a safetensors header",
            bytes.len()
        );
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    if n > MAX_HEADER_BYTES {
        bail!(
            "file",
            "declares a {n}-byte header; the limit is {MAX_HEADER_BYTES}"
        );
    }
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::new("file", format!("is not a valid safetensors file: {e}")))?;
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| Error::new("file", format!("has a bad header: {e}")))?;
    let meta = meta.metadata().clone().unwrap_or_default();
    let tensors: HashMap<String, (Vec<usize>, Vec<f32>)> = st
        .iter()
        .map(|(name, view)| {
            Ok((
                name.to_string(),
                (
                    view.shape().to_vec(),
                    to_f32(name, view.dtype(), view.data())?,
                ),
            ))
        })
        .collect::<Result<_>>()?;
    let specs = match meta.get("layers") {
        Some(json) => parse_layers(json)?,
        None => bail!("__metadata__", "has no \"layers\" list"),
    };
    let input = match meta.get("input") {
        Some(s) => parse_input(s)?,
        None => [1, 32, 32],
    };
    let mut used = 0;
    let mut layers = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let get = |name: &str, part: &str| -> Result<&(Vec<usize>, Vec<f32>)> {
            tensors.get(&format!("{name}.{part}")).ok_or_else(|| {
                Error::new(
                    format!("layer {i} ({name})"),
                    format!("needs a tensor '{name}.{part}', which the file does not have"),
                )
            })
        };
        layers.push(match spec {
            Spec::Conv { name, padding } => {
                let (ws, w) = get(name, "weight")?;
                let (bs, b) = get(name, "bias")?;
                used += 2;
                if ws.len() != 4 || ws[2] != ws[3] || ws.iter().any(|&d| d == 0) {
                    bail!(
                        format!("{name}.weight"),
                        "has shape {ws:?}; expected [out, in, k, k] with a square kernel"
                    );
                }
                if bs.as_slice() != [ws[0]] {
                    bail!(
                        format!("{name}.bias"),
                        "has shape {bs:?}; expected [{}]",
                        ws[0]
                    );
                }
                if *padding > 1 {
                    bail!(
                        format!("layer {i} ({name})"),
                        "has padding {padding}; only 0 and 1 are supported"
                    );
                }
                Layer::Conv2d(Conv2d {
                    name: name.clone(),
                    m: ws[0],
                    c: ws[1],
                    k: ws[2],
                    padding: *padding,
                    weight: w.clone(),
                    bias: b.clone(),
                })
            }
            Spec::Linear { name } => {
                let (ws, w) = get(name, "weight")?;
                let (bs, b) = get(name, "bias")?;
                used += 2;
                if ws.len() != 2 || ws.iter().any(|&d| d == 0) {
                    bail!(
                        format!("{name}.weight"),
                        "has shape {ws:?}; expected [out, in]"
                    );
                }
                if bs.as_slice() != [ws[0]] {
                    bail!(
                        format!("{name}.bias"),
                        "has shape {bs:?}; expected [{}]",
                        ws[0]
                    );
                }
                Layer::Linear(Linear {
                    name: name.clone(),
                    n_out: ws[0],
                    n_in: ws[1],
                    weight: w.clone(),
                    bias: b.clone(),
                })
            }
            Spec::Relu => Layer::Relu,
            Spec::MaxPool => Layer::MaxPool2d,
            Spec::Flatten => Layer::Flatten,
        });
    }
    if used != tensors.len() {
        let mut extra: Vec<_> = tensors
            .keys()
            .filter(|k| !specs.iter().any(|s| s.owns(k)))
            .cloned()
            .collect();
        extra.sort();
        bail!("file", "has tensors no layer uses: {}", extra.join(", "));
    }
    let model = Model { input, layers };
    model.validate()?;
    Ok(model)
}

enum Spec {
    Conv { name: String, padding: usize },
    Linear { name: String },
    Relu,
    MaxPool,
    Flatten,
}

impl Spec {
    fn owns(&self, tensor: &str) -> bool {
        match self {
            Spec::Conv { name, .. } | Spec::Linear { name } => {
                tensor == format!("{name}.weight") || tensor == format!("{name}.bias")
            }
            _ => false,
        }
    }
}

fn parse_layers(json: &str) -> Result<Vec<Spec>> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| Error::new("__metadata__.layers", format!("is not valid JSON: {e}")))?;
    let Some(list) = v.as_array() else {
        bail!("__metadata__.layers", "must be a JSON array of layers")
    };
    if list.len() > 256 {
        bail!(
            "__metadata__.layers",
            "lists {} layers; the limit is 256",
            list.len()
        );
    }
    list.iter()
        .enumerate()
        .map(|(i, l)| {
            let at = format!("__metadata__.layers[{i}]");
            let ty = l
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::new(&at, "needs a \"type\""))?;
            let name = || {
                l.get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| Error::new(&at, format!("a {ty} layer needs a \"name\"")))
            };
            Ok(match ty {
                "conv2d" => {
                    for (key, want) in [("stride", 1), ("dilation", 1), ("groups", 1)] {
                        if let Some(v) = l.get(key).and_then(Value::as_u64) {
                            if v != want {
                                bail!(at, "has {key} {v}; only {key} {want} is supported");
                            }
                        }
                    }
                    Spec::Conv {
                        name: name()?,
                        padding: l.get("padding").and_then(Value::as_u64).unwrap_or(0) as usize,
                    }
                }
                "linear" => Spec::Linear { name: name()? },
                "relu" => Spec::Relu,
                "maxpool2d" => {
                    let k = l.get("kernel").and_then(Value::as_u64).unwrap_or(2);
                    if k != 2 {
                        bail!(at, "has kernel {k}; only 2x2 max-pooling is supported");
                    }
                    Spec::MaxPool
                }
                "flatten" => Spec::Flatten,
                other => bail!(
                    at,
                    "has unknown type '{other}'; known: conv2d, relu, maxpool2d, flatten, linear"
                ),
            })
        })
        .collect()
}

fn parse_input(s: &str) -> Result<Shape> {
    let v: Vec<usize> = serde_json::from_str(s).map_err(|_| {
        Error::new(
            "__metadata__.input",
            format!("must look like [1,32,32], found {s}"),
        )
    })?;
    match v.as_slice() {
        &[c, h, w] if c > 0 && h > 0 && w > 0 && c * h * w <= 1 << 20 => Ok([c, h, w]),
        _ => bail!(
            "__metadata__.input",
            "must be [channels, height, width] with a size up to 1M, found {s}"
        ),
    }
}

fn to_f32(name: &str, dtype: Dtype, data: &[u8]) -> Result<Vec<f32>> {
    Ok(match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4")))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8")) as f32)
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect(),
        other => bail!(
            name,
            "has dtype {other:?}; only F32, F64, F16 and BF16 weights are supported"
        ),
    })
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            return f32::from_bits(sign)
                + (if sign != 0 { -1.0 } else { 1.0 }) * f as f32 * 2f32.powi(-24)
        }
        (31, 0) => sign | 0x7f80_0000,
        (31, f) => sign | 0x7fc0_0000 | (f << 13),
        (e, f) => sign | (((e - 15 + 127) as u32) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// Writes `model` as safetensors (float32) with its layer list in `__metadata__`.
pub fn save(model: &Model, extra_meta: &[(&str, &str)]) -> Result<Vec<u8>> {
    let mut layers = Vec::new();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for l in &model.layers {
        layers.push(match l {
            Layer::Conv2d(c) => {
                tensors.push((
                    format!("{}.weight", c.name),
                    vec![c.m, c.c, c.k, c.k],
                    bytes(&c.weight),
                ));
                tensors.push((format!("{}.bias", c.name), vec![c.m], bytes(&c.bias)));
                serde_json::json!({"type": "conv2d", "name": c.name, "padding": c.padding})
            }
            Layer::Linear(f) => {
                tensors.push((
                    format!("{}.weight", f.name),
                    vec![f.n_out, f.n_in],
                    bytes(&f.weight),
                ));
                tensors.push((format!("{}.bias", f.name), vec![f.n_out], bytes(&f.bias)));
                serde_json::json!({"type": "linear", "name": f.name})
            }
            Layer::Relu => serde_json::json!({"type": "relu"}),
            Layer::MaxPool2d => serde_json::json!({"type": "maxpool2d", "kernel": 2}),
            Layer::Flatten => serde_json::json!({"type": "flatten"}),
        });
    }
    let mut meta: HashMap<String, String> = extra_meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    meta.insert("format".into(), "quantlab-cnn-v1".into());
    meta.insert("layers".into(), Value::Array(layers).to_string());
    meta.insert(
        "input".into(),
        format!("[{},{},{}]", model.input[0], model.input[1], model.input[2]),
    );
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, s, d)| {
            Ok((
                n.clone(),
                safetensors::tensor::TensorView::new(Dtype::F32, s.clone(), d)
                    .map_err(|e| Error::new(n, e.to_string()))?,
            ))
        })
        .collect::<Result<_>>()?;
    safetensors::serialize(views, Some(meta)).map_err(|e| Error::new("file", e.to_string()))
}
