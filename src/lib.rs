//! # quantlab
//!
//! INT8 post-training quantization with the semantics of ONNX QuantizeLinear / QLinearConv and
//! TFLite, compiled to WebAssembly for a live teaching page.
//!
//! * [`quant`]: the affine map `r = s·(q − z)`, quantize/dequantize, choosing `(s, z)`,
//!   calibration observers, error analysis. Pure Rust, no JS.
//! * `wasm` (wasm32 only): the thin wasm-bindgen layer, the only module that knows about JS.
//!
//! Errors are values ([`Error`]) everywhere; nothing reachable from JS panics.

pub mod api;
pub mod error;
pub mod kernels;
pub mod lab;
pub mod model;
pub mod quant;
pub mod train;

/// The JS boundary (public so the browser tests in `tests/web.rs` can call the exports).
#[cfg(target_arch = "wasm32")]
pub mod wasm_api {
    pub use crate::wasm::*;
}
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Error, Result};
