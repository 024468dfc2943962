//! The lab's quantize config as the page writes it (`model.quantize({ weightBits, ... })`), parsed
//! with serde, and the keys under which the lab keeps each kind of result.
//!
//! Keys are the one place that says which results depend on which settings. [`key`] destructures
//! [`QuantConfig`] exhaustively, so a new field does not compile until someone decides, for every
//! kind of result, whether it changes it; JS keeps no such rules.

use serde::{Deserialize, Deserializer};

use crate::model::int8::{FloatFormat, QuantConfig, Rounding};
use crate::quant::calibrate::Method;
use crate::quant::Scheme;
use crate::{bail, Error, Result};

/// The config object of `quantize()`, every field optional (the page may send `undefined`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    weight_bits: Option<u32>,
    act_bits: Option<u32>,
    per_channel: Option<bool>,
    /// A calibration method, or "dynamic" (activation parameters from each tensor at run time).
    method: Option<String>,
    percentile: Option<f64>,
    act_scheme: Option<String>,
    #[serde(default)]
    layer_bits: Option<Vec<LayerBits>>,
    #[serde(default)]
    skip: Option<Vec<usize>>,
    granularity: Option<String>,
    group_size: Option<u32>,
    rounding: Option<String>,
    equalize: Option<bool>,
    bias_correction: Option<bool>,
    format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LayerBits {
    layer: usize,
    weight_bits: Option<u32>,
    act_bits: Option<u32>,
}

/// What the page may choose, as the core supports it (the page builds its lists from this).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    pub methods: &'static [&'static str],
    pub schemes: &'static [&'static str],
    pub granularities: &'static [&'static str],
    pub roundings: &'static [&'static str],
    pub formats: &'static [&'static str],
    pub min_bits: u32,
    pub max_bits: u32,
    pub max_group_size: u32,
}

const METHODS: &[&str] = &["minmax", "percentile", "mse", "entropy", "dynamic"];
const SCHEMES: &[&str] = &["asymmetric", "symmetric"];
const GRANULARITIES: &[&str] = &["channel", "tensor", "group"];
const ROUNDINGS: &[&str] = &["nearest", "gptq"];
const FORMATS: &[&str] = &["int", "fp16", "bf16"];
const BITS: std::ops::RangeInclusive<u32> = 2..=8;
const GROUP_SIZES: std::ops::RangeInclusive<u32> = 1..=4096;

/// The choices [`parse`] accepts.
pub fn options() -> Options {
    Options {
        methods: METHODS,
        schemes: SCHEMES,
        granularities: GRANULARITIES,
        roundings: ROUNDINGS,
        formats: FORMATS,
        min_bits: *BITS.start(),
        max_bits: *BITS.end(),
        max_group_size: *GROUP_SIZES.end(),
    }
}

/// Reads a config from any serde source (a JS object through `serde_wasm_bindgen`, JSON in
/// tests). Every error names the key it is about, as `config.<path>`.
pub fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<QuantConfig>
where
    D::Error: std::fmt::Display,
{
    let spec: Spec = serde_path_to_error::deserialize(d).map_err(|e| {
        let path = e.path().to_string();
        let subject = if path == "." || path.is_empty() {
            "config".to_string()
        } else {
            format!("config.{path}")
        };
        Error::new(subject, e.into_inner().to_string())
    })?;
    spec.into_config()
}

/// Parses a config written as JSON (tests, the trainer).
pub fn from_json(json: &str) -> Result<QuantConfig> {
    parse(&mut serde_json::Deserializer::from_str(json))
}

fn bits(name: &str, b: Option<u32>, default: u32) -> Result<u32> {
    let b = b.unwrap_or(default);
    if !BITS.contains(&b) {
        bail!(
            name,
            "must be an integer from {} to {}, found {b}",
            BITS.start(),
            BITS.end()
        );
    }
    Ok(b)
}

/// `"x"`, `"a" or "b"`, `"a", "b" or "c"`: the choices of an error message.
fn choices(list: &[&str]) -> String {
    let quoted: Vec<String> = list.iter().map(|s| format!("\"{s}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

fn unknown(subject: &str, what: &str, found: &str, list: &[&str]) -> Error {
    Error::new(
        subject,
        format!("unknown {what} \"{found}\", expected {}", choices(list)),
    )
}

impl Spec {
    fn into_config(self) -> Result<QuantConfig> {
        let mut c = QuantConfig {
            weight_bits: bits("config.weightBits", self.weight_bits, 8)?,
            act_bits: bits("config.actBits", self.act_bits, 8)?,
            ..QuantConfig::default()
        };
        if let Some(p) = self.per_channel {
            c.per_channel = p;
        }
        let method = self.method.as_deref().unwrap_or("minmax");
        // "dynamic": activation parameters from each tensor at run time; the calibrated min-max
        // ones remain for the report.
        c.dynamic = method == "dynamic";
        c.method = match method {
            "dynamic" => Method::MinMax,
            m if METHODS.contains(&m) => Method::parse(m, self.percentile)
                .map_err(|e| Error::new(e.subject.replace("options", "config"), e.message))?,
            other => return Err(unknown("config.method", "method", other, METHODS)),
        };
        match self.granularity.as_deref() {
            None => {}
            Some("tensor") => c.per_channel = false,
            Some("channel") => c.per_channel = true,
            Some("group") => {
                let g = self.group_size.unwrap_or(32);
                if !GROUP_SIZES.contains(&g) {
                    bail!(
                        "config.groupSize",
                        "must be from {} to {}, found {g}",
                        GROUP_SIZES.start(),
                        GROUP_SIZES.end()
                    );
                }
                c.group_size = Some(g as usize);
            }
            Some(other) => {
                return Err(unknown(
                    "config.granularity",
                    "granularity",
                    other,
                    GRANULARITIES,
                ))
            }
        }
        if c.group_size.is_none() && self.group_size.is_some() {
            bail!("config.groupSize", "needs granularity \"group\"");
        }
        c.rounding = match self.rounding.as_deref() {
            None | Some("nearest") => Rounding::Nearest,
            Some("gptq") => Rounding::Gptq,
            Some(other) => return Err(unknown("config.rounding", "rounding", other, ROUNDINGS)),
        };
        c.format = match self.format.as_deref() {
            None | Some("int") => None,
            Some("fp16") => Some(FloatFormat::F16),
            Some("bf16") => Some(FloatFormat::Bf16),
            Some(other) => return Err(unknown("config.format", "format", other, FORMATS)),
        };
        c.equalize = self.equalize.unwrap_or(false);
        c.bias_correction = self.bias_correction.unwrap_or(false);
        if let Some(s) = self.act_scheme.as_deref() {
            c.act_scheme = Scheme::parse(s, "config.actScheme")?;
        }
        for (i, l) in self.layer_bits.unwrap_or_default().into_iter().enumerate() {
            c.layer_bits.push((
                l.layer,
                bits(
                    &format!("config.layerBits[{i}].weightBits"),
                    l.weight_bits,
                    c.weight_bits,
                )?,
                bits(
                    &format!("config.layerBits[{i}].actBits"),
                    l.act_bits,
                    c.act_bits,
                )?,
            ));
        }
        c.skip = self.skip.unwrap_or_default();
        Ok(c)
    }
}

/// The kinds of result the lab keeps, each under the settings it depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The evaluation of this exact config (accuracy, agreement, SQNR), and QAT from it.
    Eval,
    /// A sweep's weights-only part: the simulated path runs float activations.
    Weights,
    /// A sweep's float-format part: float16 / bfloat16 rounds the float weights and activations.
    Format,
    /// Per-layer sensitivity: weights only at the config's weight bits, one layer at a time.
    Sensitivity,
    /// The bit-width sweep: it sets the bits (and the format) itself.
    Sweep,
    /// The technique comparison: fixed weight configurations with the activations as set.
    Techniques,
    /// The size-budget search: it sets every layer's weight bits itself.
    Budget,
}

impl Kind {
    pub fn parse(name: &str) -> Result<Kind> {
        Ok(match name {
            "eval" => Kind::Eval,
            "weights" => Kind::Weights,
            "format" => Kind::Format,
            "sensitivity" => Kind::Sensitivity,
            "sweep" => Kind::Sweep,
            "techniques" => Kind::Techniques,
            "budget" => Kind::Budget,
            other => bail!(
                "kind",
                "unknown result kind \"{other}\", expected \"eval\", \"weights\", \"format\", \
                 \"sensitivity\", \"sweep\", \"techniques\" or \"budget\""
            ),
        })
    }
}

/// The key of a `kind` result measured with `c`: equal keys, equal results. A field left out of
/// a kind's key is one its result provably does not read (the sweep parts' choices are pinned
/// against the core by tests/node/sweep.test.mjs).
pub fn key(c: &QuantConfig, kind: Kind) -> String {
    // Exhaustive on purpose: a new field must be placed in every key below.
    let QuantConfig {
        weight_bits,
        act_bits,
        per_channel,
        method,
        act_scheme,
        layer_bits,
        skip,
        group_size,
        rounding,
        equalize,
        bias_correction,
        dynamic,
        format,
    } = c;
    let weights = (per_channel, group_size, rounding, equalize, bias_correction);
    let activations = (method, act_scheme, dynamic);
    let w_layers: Vec<(usize, u32)> = layer_bits.iter().map(|&(l, w, _)| (l, w)).collect();
    match kind {
        Kind::Eval => format!(
            "eval{:?}",
            (
                weight_bits,
                act_bits,
                weights,
                activations,
                layer_bits,
                skip,
                format
            )
        ),
        // Float activations: the activation method, scheme, bits and dynamic do not matter.
        Kind::Weights => format!(
            "weights{:?}",
            (weight_bits, weights, w_layers, skip, format)
        ),
        // The format rounds the float model itself: only equalization changes those weights.
        Kind::Format => format!("format{:?}", (format, equalize, skip)),
        // Skip and layer bits are the sensitivity's own choices.
        Kind::Sensitivity => format!("sensitivity{:?}", (weight_bits, weights)),
        Kind::Sweep => format!("sweep{:?}", (weights, activations)),
        Kind::Techniques => format!("techniques{:?}", (act_bits, activations)),
        Kind::Budget => format!("budget{:?}", (act_bits, weights, activations)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_choices() {
        let c = from_json("{}").unwrap();
        assert_eq!(c, QuantConfig::default());
        let c = from_json(
            r#"{"weightBits":4,"actBits":6,"granularity":"group","groupSize":16,"method":"percentile",
                "percentile":99.9,"actScheme":"symmetric","rounding":"gptq","equalize":true,
                "biasCorrection":true,"layerBits":[{"layer":3,"weightBits":2}],"skip":[0],"format":"bf16"}"#,
        )
        .unwrap();
        assert_eq!((c.weight_bits, c.act_bits, c.group_size), (4, 6, Some(16)));
        assert_eq!(c.method, Method::Percentile(99.9));
        assert_eq!(c.act_scheme, Scheme::Symmetric);
        assert_eq!(c.rounding, Rounding::Gptq);
        assert!(c.equalize && c.bias_correction && !c.dynamic);
        assert_eq!(c.layer_bits, vec![(3, 2, 6)]);
        assert_eq!(c.skip, vec![0]);
        assert_eq!(c.format, Some(FloatFormat::Bf16));
        assert!(from_json(r#"{"method":"dynamic"}"#).unwrap().dynamic);
        assert!(
            !from_json(r#"{"granularity":"tensor"}"#)
                .unwrap()
                .per_channel
        );
        assert!(from_json(r#"{"weightBits":null,"groupSize":null}"#).is_ok());
    }

    #[test]
    fn errors_name_the_key() {
        for (json, subject) in [
            (r#"{"weightBits":9}"#, "config.weightBits"),
            (r#"{"weightBits":4.5}"#, "config.weightBits"),
            (r#"{"actBits":"8"}"#, "config.actBits"),
            (r#"{"method":"nope"}"#, "config.method"),
            (
                r#"{"method":"percentile","percentile":0}"#,
                "config.percentile",
            ),
            (r#"{"granularity":"row"}"#, "config.granularity"),
            (r#"{"groupSize":8}"#, "config.groupSize"),
            (
                r#"{"granularity":"group","groupSize":5000}"#,
                "config.groupSize",
            ),
            (r#"{"rounding":"up"}"#, "config.rounding"),
            (r#"{"format":"fp8"}"#, "config.format"),
            (r#"{"actScheme":"both"}"#, "config.actScheme"),
            (r#"{"skip":[-1]}"#, "config.skip[0]"),
            (
                r#"{"layerBits":[{"layer":1,"weightBits":1}]}"#,
                "config.layerBits[0].weightBits",
            ),
            (r#"{"layerBits":[{"weightBits":4}]}"#, "config.layerBits[0]"),
            (
                r#"{"layerBits":[{"layer":1,"bits":4}]}"#,
                "config.layerBits[0].bits",
            ),
        ] {
            let e = from_json(json).unwrap_err();
            assert_eq!(e.subject, subject, "{json}: {e}");
        }
        let e = from_json(r#"{"weigthBits":4}"#).unwrap_err();
        assert!(e.message.contains("weigthBits"), "{e}");
        let e = from_json(r#"{"method":"nope"}"#).unwrap_err();
        assert!(e.message.contains("\"dynamic\""), "{e}");
    }

    #[test]
    fn keys_follow_what_each_result_reads() {
        let base = QuantConfig::default();
        let with = |f: &dyn Fn(&mut QuantConfig)| {
            let mut c = base.clone();
            f(&mut c);
            c
        };
        let act = with(&|c| {
            c.act_bits = 4;
            c.method = Method::Entropy;
            c.act_scheme = Scheme::Symmetric;
            c.dynamic = true;
        });
        let weights = with(&|c| {
            c.weight_bits = 4;
            c.rounding = Rounding::Gptq;
        });
        let eq = with(&|c| c.equalize = true);
        let same = |a: &QuantConfig, b: &QuantConfig, k| key(a, k) == key(b, k);
        // Activation settings: the weights-only part, the format part and the sensitivity keep.
        for k in [Kind::Weights, Kind::Format, Kind::Sensitivity] {
            assert!(same(&base, &act, k), "{k:?}");
        }
        for k in [Kind::Eval, Kind::Sweep, Kind::Techniques, Kind::Budget] {
            assert!(!same(&base, &act, k), "{k:?}");
        }
        // Weight settings other than equalization: the format part and the techniques keep.
        for k in [Kind::Format, Kind::Techniques] {
            assert!(same(&base, &weights, k), "{k:?}");
        }
        for k in [Kind::Eval, Kind::Weights, Kind::Sensitivity] {
            assert!(!same(&base, &weights, k), "{k:?}");
        }
        assert!(!same(&base, &eq, Kind::Format));
        // Kinds never share a key.
        assert_ne!(key(&base, Kind::Sweep), key(&base, Kind::Budget));
    }
}
