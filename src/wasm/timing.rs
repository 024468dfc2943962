//! The browser's clock for `model::timing`: `performance.now()` of the global scope (window or
//! worker) through web-sys.

use crate::model::eval::Path;
use crate::model::fp32::Net;
use crate::model::int8::QModel;
use crate::model::timing::{self, Timing};
use crate::model::Model;
use crate::{Error, Result};
use wasm_bindgen::JsCast;

pub(super) fn performance() -> Result<web_sys::Performance> {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .ok_or_else(|| Error::new("timing", "this JS environment has no performance.now()"))
}

pub fn time_fp32(
    net: &Net,
    model: &Model,
    x: &[f32],
    n: usize,
    samples: usize,
    reps: usize,
    profile: usize,
) -> Result<Timing> {
    let p = performance()?;
    timing::time_fp32(net, model, x, n, samples, reps, profile, &|| p.now())
}

pub fn time_quantized(
    q: &QModel,
    path: Path,
    x: &[f32],
    n: usize,
    samples: usize,
    reps: usize,
    profile: usize,
) -> Result<Timing> {
    let p = performance()?;
    timing::time_quantized(q, path, x, n, samples, reps, profile, &|| p.now())
}
