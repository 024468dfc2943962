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

mod batchnorm;
mod header;
mod infer;
mod save;
mod spec;

use batchnorm::{fold_batchnorm, is_bn_counter, BnStats};
use header::{check_header, to_f32};
use infer::infer_layers;
pub use save::{activation_ranges, save};
use spec::{parse_input, parse_layers, Spec};

/// Largest accepted file (the parameter limit in float32 plus a header).
pub const MAX_FILE_BYTES: usize = crate::model::MAX_PARAMS * 4 + (1 << 20);

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
        extra.sort_unstable();
        bail!("file", "has tensors no layer uses: {}", extra.join(", "));
    }
    let model = Model { input, layers };
    model.validate()?;
    Ok((model, notes, folds))
}
