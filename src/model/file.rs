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

/// Loads a model, checking the file before trusting any of it. See [`load_with_note`].
pub fn load(bytes: &[u8]) -> Result<Model> {
    load_with_note(bytes).map(|(m, _)| m)
}

/// Loads a model; the note says how the layer list was found when the file did not list it.
pub fn load_with_note(bytes: &[u8]) -> Result<(Model, Option<String>)> {
    load_full(bytes).map(|l| (l.model, l.note))
}

/// A loaded model, what the loader says about it, and each BatchNorm it folded.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub model: Model,
    pub note: Option<String>,
    pub folds: Vec<Fold>,
}

/// A BatchNorm folded into the layer before it: that layer's per-output-channel weight range
/// (max |w|) before and after, which the lab draws.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fold {
    pub batchnorm: String,
    pub into: String,
    pub before: Vec<f32>,
    pub after: Vec<f32>,
}

/// As [`load_with_note`], with the folds.
pub fn load_full(bytes: &[u8]) -> Result<Loaded> {
    let header = check_header(bytes)?;
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::new("file", format!("is not a valid safetensors file: {e}")))?;
    let mut tensors: HashMap<String, (Vec<usize>, Vec<f32>)> = HashMap::new();
    for (name, view) in st.iter() {
        if is_bn_counter(name) {
            continue;
        }
        tensors.insert(
            name.to_string(),
            (
                view.shape().to_vec(),
                to_f32(name, view.dtype(), view.data())?,
            ),
        );
    }
    for (name, (_, v)) in &tensors {
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            bail!(
                name.clone(),
                "holds {} at index {i}; weights must be finite",
                v[i]
            );
        }
    }
    let meta = header.metadata;
    let declared_input = meta.get("input").map(|s| parse_input(s)).transpose()?;
    let (specs, input, note) = match meta.get("layers") {
        Some(json) => (
            parse_layers(json)?,
            declared_input.unwrap_or([1, 32, 32]),
            None,
        ),
        None => {
            let (specs, input, note) = infer_layers(&tensors, declared_input)?;
            (specs, input, Some(note))
        }
    };
    let (model, folded, folds) = build(&specs, input, &tensors)?;
    let notes: Vec<String> = note.into_iter().chain(folded).collect();
    Ok(Loaded {
        model,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        folds,
    })
}

/// Folds BatchNorm (eval mode) into the conv before it, in float64, as production converters do:
/// ```text
/// s[m] = γ[m] / √(σ²[m] + ε)
/// W'[m, ...] = W[m, ...] · s[m]        b'[m] = (b[m] − μ[m]) · s[m] + β[m]
/// ```
/// (A linear layer's rows fold the same way: `batchnorm1d` after `linear`.) Returns the per-channel
/// weight ranges (max |w| of each output channel) before and after.
fn fold_batchnorm(weight: &mut [f32], bias: &mut [f32], bn: &BnStats) -> (Vec<f32>, Vec<f32>) {
    let m = bias.len();
    let k = weight.len() / m;
    let range = |w: &[f32]| -> Vec<f32> {
        w.chunks(k)
            .map(|r| r.iter().fold(0f32, |a, &v| a.max(v.abs())))
            .collect()
    };
    let before = range(weight);
    for (o, b) in bias.iter_mut().enumerate() {
        let s = bn.scale(o);
        for w in &mut weight[o * k..(o + 1) * k] {
            *w = (*w as f64 * s) as f32;
        }
        *b = ((*b as f64 - bn.mean[o] as f64) * s + bn.beta[o] as f64) as f32;
    }
    (before, range(weight))
}

/// A BatchNorm's eval-mode statistics.
struct BnStats {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
    eps: f64,
}

impl BnStats {
    /// `γ[c] / √(σ²[c] + ε)` in float64.
    fn scale(&self, c: usize) -> f64 {
        self.gamma[c] as f64 / (self.var[c] as f64 + self.eps).sqrt()
    }
    /// The BatchNorm as its own layer, `y[c] = s[c]·x[c] + (β[c] − μ[c]·s[c])`: a 1×1 conv
    /// (`batchnorm2d`) or a linear layer (`batchnorm1d`) whose weight is the diagonal `s`, so the
    /// integer path quantizes it per channel like any other layer (each row's one weight is ±qmax).
    fn as_layer(&self, name: &str, conv: bool) -> Layer {
        let c = self.mean.len();
        let mut weight = vec![0.0; c * c];
        let mut bias = vec![0.0; c];
        for o in 0..c {
            let s = self.scale(o);
            weight[o * c + o] = s as f32;
            bias[o] = (self.beta[o] as f64 - self.mean[o] as f64 * s) as f32;
        }
        if conv {
            Layer::Conv2d(Conv2d {
                name: name.into(),
                m: c,
                c,
                k: 1,
                padding: 0,
                stride: 1,
                weight,
                bias,
            })
        } else {
            Layer::Linear(Linear {
                name: name.into(),
                n_out: c,
                n_in: c,
                weight,
                bias,
            })
        }
    }
}

/// The model the specs describe, with BatchNorms folded and dropout left out (identity at
/// inference); the notes say what was folded.
fn build(
    specs: &[Spec],
    input: Shape,
    tensors: &HashMap<String, (Vec<usize>, Vec<f32>)>,
) -> Result<(Model, Vec<String>, Vec<Fold>)> {
    let mut layers = Vec::with_capacity(specs.len());
    let mut notes = vec![];
    let mut folds = vec![];
    for (i, spec) in specs.iter().enumerate() {
        let get = |name: &str, part: &str| -> Result<&(Vec<usize>, Vec<f32>)> {
            tensors.get(&format!("{name}.{part}")).ok_or_else(|| {
                Error::new(
                    format!("layer {i} ({name})"),
                    format!("needs a tensor '{name}.{part}', which the file does not have"),
                )
            })
        };
        // A missing bias is zeros (PyTorch's bias=False).
        let bias = |name: &str, m: usize| -> Result<Vec<f32>> {
            match tensors.get(&format!("{name}.bias")) {
                None => Ok(vec![0.0; m]),
                Some((bs, b)) if bs.as_slice() == [m] => Ok(b.clone()),
                Some((bs, _)) => bail!(format!("{name}.bias"), "has shape {bs:?}; expected [{m}]"),
            }
        };
        let next = match spec {
            Spec::Dropout => continue,
            Spec::BatchNorm { name, eps, one_d } => {
                let at = format!("layer {i} ({name})");
                // The channels it normalizes: of the layer before, or of the input.
                // (The layers so far are moved in and out, not copied: they hold the weights.)
                let so_far = Model {
                    input,
                    layers: std::mem::take(&mut layers),
                };
                let shape = so_far
                    .shapes()
                    .ok()
                    .and_then(|s| s.last().copied())
                    .unwrap_or(input);
                layers = so_far.layers;
                let flat = shape[1] * shape[2] == 1;
                if *one_d && !flat {
                    bail!(at, "is a batchnorm1d on a {}×{}×{} tensor; it takes a flat one (after flatten or linear): use batchnorm2d", shape[0], shape[1], shape[2]);
                }
                if !*one_d && flat && !matches!(layers.last(), Some(Layer::Conv2d(_))) {
                    bail!(at, "is a batchnorm2d on a flat tensor of {}; after flatten or linear use batchnorm1d", shape[0]);
                }
                let channels = shape[0];
                let stat = |part: &str| -> Result<Vec<f32>> {
                    let t = format!("{name}.{part}");
                    match tensors.get(&t) {
                        Some((sh, v)) if sh.as_slice() == [channels] => Ok(v.clone()),
                        Some((sh, _)) => bail!(
                            t,
                            "has shape {sh:?}; {name} follows {}, which gives {channels} channels",
                            layers.last().map_or("the input".to_string(), |l: &Layer| l.name().to_string())
                        ),
                        None => bail!(
                            at.clone(),
                            "needs a tensor '{t}' (BatchNorm's {part}), which the file does not have"
                        ),
                    }
                };
                let (mean, var) = (stat("running_mean")?, stat("running_var")?);
                // affine=False: no weight and bias, i.e. γ = 1, β = 0.
                let affine = tensors.contains_key(&format!("{name}.weight"));
                let gamma = if affine {
                    stat("weight")?
                } else {
                    vec![1.0; channels]
                };
                let beta = if affine {
                    stat("bias")?
                } else {
                    vec![0.0; channels]
                };
                if let Some(c) = var.iter().position(|&v| v < 0.0) {
                    bail!(
                        format!("{name}.running_var"),
                        "holds {} at channel {c}; a variance must be >= 0",
                        var[c]
                    );
                }
                let bn = BnStats {
                    gamma,
                    beta,
                    mean,
                    var,
                    eps: *eps,
                };
                let span = |v: &[f32]| {
                    let (lo, hi) = v
                        .iter()
                        .fold((f32::INFINITY, 0f32), |(a, b), &x| (a.min(x), b.max(x)));
                    format!("{lo:.3}–{hi:.3}")
                };
                // Folded into the conv (batchnorm2d) or linear layer (batchnorm1d) right before it;
                // anywhere else it is its own per-channel affine layer.
                let into = match layers.last_mut() {
                    Some(Layer::Conv2d(c)) if !*one_d => {
                        Some((&mut c.weight, &mut c.bias, c.name.clone()))
                    }
                    Some(Layer::Linear(l)) if *one_d => {
                        Some((&mut l.weight, &mut l.bias, l.name.clone()))
                    }
                    _ => None,
                };
                match into {
                    Some((w, b, into_name)) => {
                        let (before, after) = fold_batchnorm(w, b, &bn);
                        notes.push(format!(
                            "{name} folded into {into_name} (per-channel weight ranges, max |w|: {} before, {} after)",
                            span(&before),
                            span(&after)
                        ));
                        folds.push(Fold {
                            batchnorm: name.clone(),
                            into: into_name,
                            before,
                            after,
                        });
                        continue;
                    }
                    None => {
                        notes.push(format!(
                            "{name} follows {}, not a {}, so it runs as its own per-channel affine layer (a {} with a diagonal {channels}×{channels} weight)",
                            layers.last().map_or("the input", |l: &Layer| l.kind()),
                            if *one_d { "linear layer" } else { "conv" },
                            if *one_d { "linear layer" } else { "1×1 conv" }
                        ));
                        bn.as_layer(name, !*one_d)
                    }
                }
            }
            Spec::Conv {
                name,
                padding,
                stride,
            } => {
                let (ws, w) = get(name, "weight")?;
                if ws.len() != 4 || ws[2] != ws[3] {
                    bail!(
                        format!("{name}.weight"),
                        "has shape {ws:?}; expected [out, in, k, k] with a square kernel"
                    );
                }
                // PyTorch allows more, but padding of k or more only adds outputs that see
                // nothing but zeros.
                if *padding >= ws[2] {
                    bail!(
                        format!("layer {i} ({name})"),
                        "has padding {padding} for a {k}x{k} kernel; padding must be at most {}",
                        ws[2] - 1,
                        k = ws[2]
                    );
                }
                Layer::Conv2d(Conv2d {
                    name: name.clone(),
                    m: ws[0],
                    c: ws[1],
                    k: ws[2],
                    padding: *padding,
                    stride: *stride,
                    weight: w.clone(),
                    bias: bias(name, ws[0])?,
                })
            }
            Spec::Linear { name } => {
                let (ws, w) = get(name, "weight")?;
                if ws.len() != 2 {
                    bail!(
                        format!("{name}.weight"),
                        "has shape {ws:?}; expected [out, in]"
                    );
                }
                Layer::Linear(Linear {
                    name: name.clone(),
                    n_out: ws[0],
                    n_in: ws[1],
                    weight: w.clone(),
                    bias: bias(name, ws[0])?,
                })
            }
            Spec::Relu => Layer::Relu,
            &Spec::MaxPool { k, stride } => Layer::MaxPool2d { k, stride },
            &Spec::AvgPool { k, stride } => Layer::AvgPool2d { k, stride },
            Spec::GlobalAvgPool => Layer::GlobalAvgPool,
            Spec::Flatten => Layer::Flatten,
        };
        layers.push(next);
    }
    let mut extra: Vec<_> = tensors
        .keys()
        .filter(|k| !specs.iter().any(|s| s.owns(k)))
        .cloned()
        .collect();
    if !extra.is_empty() {
        extra.sort();
        bail!("file", "has tensors no layer uses: {}", extra.join(", "));
    }
    let model = Model { input, layers };
    model.validate()?;
    Ok((model, notes, folds))
}

/// `NAME.num_batches_tracked`: BatchNorm's count of training batches, meaningless at inference.
fn is_bn_counter(name: &str) -> bool {
    name.ends_with(".num_batches_tracked")
}

/// What the header says, checked: every tensor's dtype, shape and byte range, before the bytes
/// are touched. Errors name the tensor and give expected vs found.
struct Header {
    metadata: HashMap<String, String>,
}

fn dtype_size(name: &str) -> Option<usize> {
    Some(match name {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => return None,
    })
}

fn check_header(bytes: &[u8]) -> Result<Header> {
    if bytes.len() > MAX_FILE_BYTES {
        bail!(
            "file",
            "is {} bytes; the limit is {MAX_FILE_BYTES} ({} parameters in float32)",
            bytes.len(),
            super::MAX_PARAMS
        );
    }
    if bytes.len() < 8 {
        bail!(
            "file",
            "is {} bytes, too short for a safetensors header (truncated?)",
            bytes.len()
        );
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if n > MAX_HEADER_BYTES as u64 {
        bail!(
            "file",
            "declares a {n}-byte header; the limit is {MAX_HEADER_BYTES} bytes"
        );
    }
    let n = n as usize;
    if 8 + n > bytes.len() {
        bail!(
            "file",
            "declares a {n}-byte header but only {} bytes follow (truncated?)",
            bytes.len() - 8
        );
    }
    let text = std::str::from_utf8(&bytes[8..8 + n]).map_err(|_| {
        Error::new(
            "file",
            "header is not UTF-8 text (not a safetensors file, or garbled)",
        )
    })?;
    let json: Value = serde_json::from_str(text).map_err(|e| {
        Error::new(
            "file",
            format!("header is not valid JSON ({e}); not a safetensors file, or garbled"),
        )
    })?;
    let Some(obj) = json.as_object() else {
        bail!("file", "header must be a JSON object of tensors")
    };
    let data_len = bytes.len() - 8 - n;
    let mut metadata = HashMap::new();
    let mut ranges: Vec<(usize, usize, &str)> = Vec::new();
    let mut params = 0usize;
    for (name, info) in obj {
        if name == "__metadata__" {
            let Some(m) = info.as_object() else {
                bail!("__metadata__", "must be an object of strings")
            };
            for (k, v) in m {
                let Some(v) = v.as_str() else {
                    bail!(format!("__metadata__.{k}"), "must be a string")
                };
                metadata.insert(k.clone(), v.to_string());
            }
            continue;
        }
        let dtype = info
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(format!("tensor '{name}'"), "has no dtype"))?;
        let Some(size) = dtype_size(dtype) else {
            bail!(format!("tensor '{name}'"), "has unknown dtype '{dtype}'")
        };
        // PyTorch's BatchNorm counter (int64) is read past, whatever its dtype.
        if !matches!(dtype, "F32" | "F64" | "F16" | "BF16") && !is_bn_counter(name) {
            bail!(
                format!("tensor '{name}'"),
                "has dtype {dtype}; weights must be F32, F64, F16 or BF16"
            );
        }
        let shape: Vec<usize> = info
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(|d| d.as_u64().map(|d| d as usize)).collect())
            .ok_or_else(|| {
                Error::new(
                    format!("tensor '{name}'"),
                    "has no valid shape (a list of non-negative integers)",
                )
            })?;
        let numel = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .filter(|&v| v <= super::MAX_PARAMS * 4);
        let Some(numel) = numel else {
            bail!(format!("tensor '{name}'"), "has shape {shape:?}, too large")
        };
        if numel == 0 {
            bail!(format!("tensor '{name}'"), "is empty (shape {shape:?})");
        }
        params += numel;
        if params > super::MAX_PARAMS {
            bail!("model", "has more than {} parameters (tensor '{name}' alone has {numel}); the limit keeps the page responsive", super::MAX_PARAMS);
        }
        let offs: Vec<usize> = info
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(|d| d.as_u64().map(|d| d as usize)).collect())
            .filter(|v: &Vec<usize>| v.len() == 2)
            .ok_or_else(|| {
                Error::new(
                    format!("tensor '{name}'"),
                    "has no valid data_offsets [start, end]",
                )
            })?;
        let (start, end) = (offs[0], offs[1]);
        if end < start || end - start != numel * size {
            bail!(format!("tensor '{name}'"), "shape {shape:?} of {dtype} needs {} bytes but its data_offsets [{start}, {end}] span {}", numel * size, end.saturating_sub(start));
        }
        if end > data_len {
            bail!(format!("tensor '{name}'"), "data_offsets [{start}, {end}] run past the end of the data ({data_len} bytes; truncated?)");
        }
        ranges.push((start, end, name));
    }
    ranges.sort();
    for w in ranges.windows(2) {
        if w[1].0 < w[0].1 {
            bail!(
                "file",
                "tensors '{}' and '{}' overlap (bytes {}..{} and {}..{})",
                w[0].2,
                w[1].2,
                w[0].0,
                w[0].1,
                w[1].0,
                w[1].1
            );
        }
    }
    Ok(Header { metadata })
}

/// The layer list of a file without one, from its tensor names and shapes (a PyTorch
/// `nn.Sequential` as `0.weight, 3.weight, ...`, or named modules such as `conv1`, `fc`):
/// every 4-D weight is a conv followed by ReLU, every 2-D weight a linear layer (ReLU between
/// linear layers), a flatten before the first linear layer. Paddings (0 or 1), which convs are
/// followed by a 2×2 max-pool, and the input size (1×28×28 or 1×32×32) are the first choice that
/// makes the shapes chain; in a Sequential, a gap of two or more indices after a conv means a pool.
fn infer_layers(
    tensors: &HashMap<String, (Vec<usize>, Vec<f32>)>,
    input: Option<Shape>,
) -> Result<(Vec<Spec>, Shape, String)> {
    // BatchNorm modules are the ones with running statistics; their 1-D weights are not layers.
    let mut bns: Vec<String> = tensors
        .keys()
        .filter_map(|n| n.strip_suffix(".running_mean"))
        .map(str::to_string)
        .collect();
    bns.sort_by_key(|b| natural_key(b));
    let mut convs = vec![];
    let mut linears = vec![];
    for (name, (shape, _)) in tensors {
        let Some(base) = name.strip_suffix(".weight") else {
            continue;
        };
        if bns.iter().any(|b| b == base) {
            continue;
        }
        match shape.len() {
            4 => convs.push((base.to_string(), shape.clone())),
            2 => linears.push((base.to_string(), shape.clone())),
            _ => bail!(
                format!("{name}"),
                "has shape {shape:?}; a weight must be 4-D (conv) or 2-D (linear)"
            ),
        }
    }
    if linears.is_empty() {
        bail!(
            "__metadata__",
            "has no \"layers\" list, and the file has no linear layer to end with"
        );
    }
    convs.sort_by_key(|c| natural_key(&c.0));
    linears.sort_by_key(|l| natural_key(&l.0));
    let seq_index = |n: &str| n.rsplit('.').next().and_then(|s| s.parse::<usize>().ok());
    let seq_prefix = |n: &str| n.rsplit_once('.').map_or("", |(p, _)| p).to_string();
    // The BatchNorm after each conv: in a Sequential the next index (`0` then `1`: folded), or the
    // one after (`0`, ReLU `1`, `2`: after the ReLU, its own layer); else the BatchNorms in order,
    // one per conv (`conv1, bn1, conv2, bn2`). `true`: after the ReLU.
    let bn_after: Vec<Option<(String, bool)>> = if bns.is_empty() {
        vec![None; convs.len()]
    } else if bns.iter().all(|b| seq_index(b).is_some()) {
        convs
            .iter()
            .map(|(c, _)| {
                seq_index(c).and_then(|i| {
                    let at = |j: usize| {
                        bns.iter()
                            .find(|b| seq_prefix(b) == seq_prefix(c) && seq_index(b) == Some(j))
                            .cloned()
                    };
                    at(i + 1)
                        .map(|b| (b, false))
                        .or_else(|| at(i + 2).map(|b| (b, true)))
                })
            })
            .collect()
    } else if bns.len() == convs.len() {
        bns.iter().map(|b| Some((b.clone(), false))).collect()
    } else {
        bail!(
            "__metadata__",
            "has no \"layers\" list, and the file's {} BatchNorms cannot be matched to its {} convs; list the layers in __metadata__ (see README)",
            bns.len(),
            convs.len()
        );
    };
    if bns
        .iter()
        .any(|b| !bn_after.iter().flatten().any(|(a, _)| a == b))
    {
        bail!(
            "__metadata__",
            "has no \"layers\" list, and a BatchNorm follows no conv ({}); list the layers in __metadata__ (see README)",
            bns.join(", ")
        );
    }
    // Sequential index gaps that force a pool after conv i (a BatchNorm takes one index).
    let forced: Vec<Option<bool>> = (0..convs.len())
        .map(|i| {
            let next = convs
                .get(i + 1)
                .map(|c| &c.0)
                .or(linears.first().map(|l| &l.0));
            let bn = bn_after[i].is_some() as usize;
            match (seq_index(&convs[i].0), next.and_then(|n| seq_index(n))) {
                (Some(a), Some(b)) if b > a + bn && i + 1 < convs.len() => Some(b - a - bn >= 3),
                _ => None,
            }
        })
        .collect();
    if convs.len() > 6 {
        bail!("__metadata__", "has no \"layers\" list and the file has {} conv layers; list the layers in __metadata__ (see README)", convs.len());
    }
    let inputs: Vec<Shape> = match input {
        Some(s) => vec![s],
        None => vec![
            [convs.first().map_or(1, |c| c.1[1]), 28, 28],
            [convs.first().map_or(1, |c| c.1[1]), 32, 32],
        ],
    };
    let n = convs.len();
    // Same padding on every conv is the common case, so those come first on every input size.
    let all = (1u32 << n) - 1;
    for mixed in [false, true] {
        for inp in &inputs {
            for pads in (0..=all).filter(|&p| (p == 0 || p == all) != mixed) {
                for pools in 0..=all {
                    if (0..n).any(|i| forced[i].is_some_and(|f| f != (pools >> i & 1 == 1))) {
                        continue;
                    }
                    let mut specs = vec![];
                    for (i, (name, shape)) in convs.iter().enumerate() {
                        let pad = (pads >> i & 1) as usize;
                        specs.push(Spec::Conv {
                            name: name.clone(),
                            padding: if shape[2] == 1 { 0 } else { pad },
                            stride: 1,
                        });
                        let bn = bn_after[i].as_ref().map(|(b, after_relu)| {
                            let spec = Spec::BatchNorm {
                                one_d: false,
                                name: b.clone(),
                                eps: 1e-5,
                            };
                            (spec, *after_relu)
                        });
                        match bn {
                            Some((b, false)) => specs.extend([b, Spec::Relu]),
                            Some((b, true)) => specs.extend([Spec::Relu, b]),
                            None => specs.push(Spec::Relu),
                        }
                        if pools >> i & 1 == 1 {
                            specs.push(Spec::MaxPool { k: 2, stride: 2 });
                        }
                    }
                    specs.push(Spec::Flatten);
                    for (i, (name, _)) in linears.iter().enumerate() {
                        specs.push(Spec::Linear { name: name.clone() });
                        if i + 1 < linears.len() {
                            specs.push(Spec::Relu);
                        }
                    }
                    if build(&specs, *inp, tensors).is_ok() {
                        let desc: Vec<String> = specs.iter().map(Spec::describe).collect();
                        let note = format!("no layer list in the file; inferred from tensor names and shapes: input {inp:?}, {}", desc.join(" → "));
                        return Ok((specs, *inp, note));
                    }
                }
            }
        }
    }
    bail!("__metadata__", "has no \"layers\" list, and no arrangement of conv (padding 0/1), ReLU, 2×2 max-pool, flatten and linear layers on a 1×28×28 or 1×32×32 input makes these tensors' shapes chain; list the layers in __metadata__ (see README)")
}

/// Sort key comparing digit runs as numbers: `conv2 < conv10`, `0 < 3 < 10`.
fn natural_key(s: &str) -> Vec<(u8, u64, String)> {
    let mut out = vec![];
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(d);
                chars.next();
            }
            out.push((0, n.parse().unwrap_or(u64::MAX), String::new()));
        } else {
            let mut t = String::new();
            while let Some(&d) = chars.peek().filter(|d| !d.is_ascii_digit()) {
                t.push(d);
                chars.next();
            }
            out.push((1, 0, t));
        }
    }
    out
}

enum Spec {
    Conv {
        name: String,
        padding: usize,
        stride: usize,
    },
    Linear {
        name: String,
    },
    Relu,
    MaxPool {
        k: usize,
        stride: usize,
    },
    AvgPool {
        k: usize,
        stride: usize,
    },
    GlobalAvgPool,
    Flatten,
    /// Folded into the conv before it at load.
    BatchNorm {
        name: String,
        eps: f64,
        /// `batchnorm1d` (after linear, or on a flat tensor) rather than `batchnorm2d`.
        one_d: bool,
    },
    /// Identity at inference: left out of the model.
    Dropout,
}

impl Spec {
    fn describe(&self) -> String {
        match self {
            Spec::Conv {
                name,
                padding,
                stride: 1,
            } => format!("{name} (conv, padding {padding})"),
            Spec::Conv {
                name,
                padding,
                stride,
            } => format!("{name} (conv, padding {padding}, stride {stride})"),
            Spec::Linear { name } => format!("{name} (linear)"),
            Spec::Relu => "relu".into(),
            Spec::MaxPool { k: 2, stride: 2 } => "maxpool".into(),
            Spec::MaxPool { k, stride } => format!("maxpool {k}x{k}/{stride}"),
            Spec::AvgPool { k, stride } => format!("avgpool {k}x{k}/{stride}"),
            Spec::GlobalAvgPool => "global avgpool".into(),
            Spec::Flatten => "flatten".into(),
            Spec::BatchNorm { name, .. } => format!("{name} (batchnorm)"),
            Spec::Dropout => "dropout".into(),
        }
    }

    fn owns(&self, tensor: &str) -> bool {
        match self {
            Spec::Conv { name, .. } | Spec::Linear { name } => {
                tensor == format!("{name}.weight") || tensor == format!("{name}.bias")
            }
            Spec::BatchNorm { name, .. } => ["weight", "bias", "running_mean", "running_var"]
                .iter()
                .any(|p| tensor == format!("{name}.{p}")),
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
                    for (key, want) in [("dilation", 1), ("groups", 1)] {
                        if let Some(v) = l.get(key).and_then(Value::as_u64) {
                            if v != want {
                                bail!(at, "has {key} {v}; only {key} {want} is supported");
                            }
                        }
                    }
                    Spec::Conv {
                        name: name()?,
                        padding: int(l, &at, "padding", 0, 0..=64)?,
                        stride: int(l, &at, "stride", 1, 1..=64)?,
                    }
                }
                "linear" => Spec::Linear { name: name()? },
                "relu" => Spec::Relu,
                "maxpool2d" => {
                    // PyTorch's MaxPool2d(kernel_size, stride=kernel_size); no padding, no ceil_mode.
                    for key in ["padding", "dilation"] {
                        if let Some(v) = l.get(key).and_then(Value::as_u64).filter(|&v| v != if key == "padding" { 0 } else { 1 }) {
                            bail!(at, "has {key} {v}; max-pooling takes no {key}");
                        }
                    }
                    let k = int(l, &at, "kernel", 2, 1..=32)?;
                    Spec::MaxPool {
                        k,
                        stride: int(l, &at, "stride", k as u64, 1..=32)?,
                    }
                }
                "avgpool2d" => {
                    // PyTorch's AvgPool2d(kernel_size, stride=kernel_size); without padding,
                    // count_include_pad changes nothing.
                    if let Some(v) = l.get("padding").and_then(Value::as_u64).filter(|&v| v != 0) {
                        bail!(at, "has padding {v}; average pooling takes no padding here");
                    }
                    if l.get("ceil_mode").and_then(Value::as_bool) == Some(true) {
                        bail!(at, "has ceil_mode true; only floor (ceil_mode false) is supported");
                    }
                    if let Some(v) = l.get("divisor_override").filter(|v| !v.is_null()) {
                        bail!(at, "has divisor_override {v}; only the window's own size divides");
                    }
                    let k = int(l, &at, "kernel", 2, 1..=32)?;
                    Spec::AvgPool {
                        k,
                        stride: int(l, &at, "stride", k as u64, 1..=32)?,
                    }
                }
                "adaptiveavgpool2d" => {
                    // AdaptiveAvgPool2d(1) (or (1, 1)): global average pooling.
                    let out = l.get("output").or_else(|| l.get("output_size"));
                    let one = |v: &Value| v.as_u64() == Some(1);
                    let ok = match out {
                        None => true,
                        Some(Value::Array(a)) => a.len() == 2 && a.iter().all(one),
                        Some(v) => one(v),
                    };
                    if !ok {
                        bail!(
                            at,
                            "has output {}; only output 1 (global average pooling) is supported",
                            out.map(Value::to_string).unwrap_or_default()
                        );
                    }
                    Spec::GlobalAvgPool
                }
                "flatten" => Spec::Flatten,
                "batchnorm2d" | "batchnorm1d" => {
                    let eps = match l.get("eps") {
                        None => 1e-5,
                        Some(v) => v
                            .as_f64()
                            .filter(|e| e.is_finite() && *e > 0.0)
                            .ok_or_else(|| Error::new(&at, format!("has eps {v}; it must be a number > 0")))?,
                    };
                    Spec::BatchNorm { name: name()?, eps, one_d: ty == "batchnorm1d" }
                }
                "dropout" => Spec::Dropout,
                other => bail!(
                    at,
                    "has unknown type '{other}'; known: conv2d, batchnorm2d, batchnorm1d, relu, maxpool2d, avgpool2d, adaptiveavgpool2d, dropout, flatten, linear"
                ),
            })
        })
        .collect()
}

/// Integer field `key` of layer object `l` (at `at`), `dflt` when absent, else within `range`.
fn int(
    l: &Value,
    at: &str,
    key: &str,
    dflt: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<usize> {
    match l.get(key) {
        None => Ok(dflt as usize),
        Some(v) => v
            .as_u64()
            .filter(|n| range.contains(n))
            .map(|n| n as usize)
            .ok_or_else(|| {
                Error::new(
                    at,
                    format!(
                        "has {key} {v}; it must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
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
            .map(|b| crate::quant::float::f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect(),
        other => bail!(
            name,
            "has dtype {other:?}; only F32, F64, F16 and BF16 weights are supported"
        ),
    })
}

/// The activation clip ranges a file carries (`__metadata__.activation_ranges`, a JSON array of
/// `[min, max]`, 0 the input: what quantization-aware training learned), or `None`.
pub fn activation_ranges(bytes: &[u8]) -> Result<Option<Vec<(f32, f32)>>> {
    let header = check_header(bytes)?;
    let Some(text) = header.metadata.get("activation_ranges") else {
        return Ok(None);
    };
    let r: Vec<[f32; 2]> = serde_json::from_str(text).map_err(|_| {
        Error::new(
            "__metadata__.activation_ranges",
            "must be a JSON array of [min, max] pairs",
        )
    })?;
    Ok(Some(r.into_iter().map(|[a, b]| (a, b)).collect()))
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
                serde_json::json!({"type": "conv2d", "name": c.name, "padding": c.padding, "stride": c.stride})
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
            Layer::MaxPool2d { k, stride } => serde_json::json!({"type": "maxpool2d", "kernel": k, "stride": stride}),
            Layer::AvgPool2d { k, stride } => serde_json::json!({"type": "avgpool2d", "kernel": k, "stride": stride}),
            Layer::GlobalAvgPool => serde_json::json!({"type": "adaptiveavgpool2d", "output": 1}),
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
