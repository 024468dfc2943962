//! The lab's decisions, exported: result keys and the choices the core supports.

use super::model::{quant_config, JsResult};
use crate::lab::config::{self, Kind};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The key under which the lab keeps a `kind` result of `config` (`"eval"`, `"weights"`,
/// `"format"`, `"sensitivity"`, `"sweep"`, `"techniques"`, `"budget"`): two configs with the same
/// key give the same result. The core decides which settings each kind depends on.
#[wasm_bindgen(js_name = configKey)]
pub fn config_key(config: JsValue, kind: &str) -> JsResult<String> {
    Ok(config::key(&quant_config(&config)?, Kind::parse(kind)?))
}

/// What `quantize()` accepts: `{ methods, schemes, granularities, roundings, formats, minBits,
/// maxBits, maxGroupSize }`, for the page's lists.
#[wasm_bindgen(js_name = configOptions)]
pub fn config_options() -> JsResult<JsValue> {
    Ok(config::options().serialize(&serde_wasm_bindgen::Serializer::json_compatible())?)
}

use super::model::{Digits, Model};
use crate::lab::cnn::Quantized;
use crate::lab::jobs::{Ask, Budget, List};
use crate::model::eval::Path;
use crate::{Error, Result};

enum JobKind {
    // (Boxed: each holds a quantized model while it measures one.)
    List(Box<List<Quantized>>),
    Budget(Box<Budget<Quantized>>),
}

/// One of the lab's long jobs, run by the core a bounded step at a time (`step`): the worker
/// that holds it only schedules. Free it (or let it be collected) when its settings change.
#[wasm_bindgen]
pub struct LabJob {
    kind: JobKind,
}

/// `{ config, mode, limit, label }` of `LabJob.measureList`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AskSpec {
    #[serde(with = "serde_wasm_bindgen::preserve")]
    config: JsValue,
    mode: Option<String>,
    limit: Option<usize>,
    label: Option<String>,
}

/// `{ index, name }`: a layer of `LabJob.budget`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerSpec {
    index: usize,
    name: String,
}

fn from_js<T: serde::de::DeserializeOwned>(v: JsValue, subject: &str) -> Result<T> {
    serde_wasm_bindgen::from_value(v).map_err(|e| Error::new(subject, e.to_string()))
}

#[wasm_bindgen]
impl LabJob {
    /// Measures each of `asks` (`[{ config, mode: 'int8' | 'simulated', limit, label }]`) on the
    /// test set, in order; each step's `update` is every outcome so far:
    /// `[{ measure: { count, score, fp32Score, agreement, sqnrDb }, bytesPacked, deployed,
    /// quantizeMs, ms }]`.
    #[wasm_bindgen(js_name = measureList)]
    pub fn measure_list(asks: JsValue) -> JsResult<LabJob> {
        let specs: Vec<AskSpec> = from_js(asks, "asks")?;
        let asks = specs
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                Ok(Ask {
                    config: quant_config(&a.config)
                        .map_err(|e| Error::new(format!("asks[{i}].{}", e.subject), e.message))?,
                    path: Path::parse(a.mode.as_deref())?,
                    limit: a.limit,
                    label: a.label.unwrap_or_default(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(LabJob {
            kind: JobKind::List(Box::new(List::new(asks))),
        })
    }

    /// The size-budget search (see the core's `lab::jobs::Budget`): from `config` (its layer
    /// bits replaced), for `budgetBytes`, over `widths` (highest first), scoring moves on the
    /// first `prefix` test digits, over `layers` (`[{ index, name }]`). Updates:
    /// `{ path, uniform, complete, chosen, fits }`, each point `{ bits: {layer: bits}, accuracy,
    /// bytes }`.
    pub fn budget(
        config: JsValue,
        budget_bytes: usize,
        widths: Vec<u32>,
        prefix: usize,
        layers: JsValue,
    ) -> JsResult<LabJob> {
        let layers: Vec<LayerSpec> = from_js(layers, "layers")?;
        Ok(LabJob {
            kind: JobKind::Budget(Box::new(Budget::new(
                quant_config(&config)?,
                budget_bytes,
                widths,
                prefix,
                layers.into_iter().map(|l| (l.index, l.name)).collect(),
            )?)),
        })
    }

    /// One bounded step on `model` (calibrated) and its test set `digits`:
    /// `{ done, total, label, update, complete }`.
    pub fn step(&mut self, model: &mut Model, digits: &Digits) -> JsResult<JsValue> {
        let clock = super::timing::performance()?;
        let now = || clock.now();
        let mut lab = model.lab(digits)?;
        let out = serde_wasm_bindgen::Serializer::json_compatible();
        Ok(match &mut self.kind {
            JobKind::List(j) => j.step(&mut lab, &now)?.serialize(&out)?,
            JobKind::Budget(j) => j.step(&mut lab, &now)?.serialize(&out)?,
        })
    }
}

/// Every calibration method at the activation settings of `config` (see the core's
/// `lab::cnn::methods`): `[{ method, tensors: [{ name, clipLow, clipHigh, dataMin, dataMax,
/// scale, zeroPoint, roundingMse, clippingMse }] }` or `{ method, error }`].
#[wasm_bindgen(js_name = compareMethods)]
pub fn compare_methods(
    model: &Model,
    config: JsValue,
    percentile: Option<f64>,
) -> JsResult<JsValue> {
    let rows = crate::lab::cnn::methods(
        &model.inner,
        model.calibration()?,
        &quant_config(&config)?,
        percentile,
    );
    Ok(rows.serialize(&serde_wasm_bindgen::Serializer::json_compatible())?)
}
