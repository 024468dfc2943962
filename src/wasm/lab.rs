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
