//! The browser's clock for `model::timing`: `performance.now()` of the global scope (window or
//! worker) through web-sys.

use crate::model::eval::Path;
use crate::model::fp32::Net;
use crate::model::int8::QModel;
use crate::model::timing::{self, Request, Timing};
use crate::model::Model;
use crate::{Error, Result};
use wasm_bindgen::JsCast;

pub(super) fn performance() -> Result<web_sys::Performance> {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .ok_or_else(|| Error::new("timing", "this JS environment has no performance.now()"))
}

pub fn time_fp32(net: &Net, model: &Model, r: &Request) -> Result<Timing> {
    let p = performance()?;
    timing::time_fp32(net, model, r, &|| p.now())
}

pub fn time_quantized(q: &QModel, path: Path, r: &Request) -> Result<Timing> {
    let p = performance()?;
    timing::time_quantized(q, path, r, &|| p.now())
}
