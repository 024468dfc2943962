//! The layer list of `__metadata__.layers` (and the input shape), parsed and checked.

use super::*;

pub(super) enum Spec {
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
    pub(super) fn describe(&self) -> String {
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

    pub(super) fn owns(&self, tensor: &str) -> bool {
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

pub(super) fn parse_layers(json: &str) -> Result<Vec<Spec>> {
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
pub(super) fn int(
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

pub(super) fn parse_input(s: &str) -> Result<Shape> {
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
