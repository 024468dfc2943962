//! QLinearConv and QLinearMatMul against onnxruntime: exact int32 accumulators and outputs.
//! Vectors from `scripts/golden/make_golden.py` (rerun by hand: `make golden`).
#![cfg(not(target_arch = "wasm32"))]

use quantlab::api::{qlinear_conv, qlinear_matmul};
use serde_json::Value;

mod common;
use common::ints;
use common::qlinear::{assert_matches, ConvCase, MatMulCase};

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/qlinear.json")).unwrap()
}

#[test]
fn qlinear_conv_matches_onnxruntime() {
    let g = golden();
    let cases = g["qlinearconv"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let case = ConvCase::new(c);
        let args = case.args();
        let out = qlinear_conv(&args).unwrap();
        assert_matches(&out, c);
        // The fast int8 kernel (int8 input, zero weight zero point) gives the same bits. Pads of
        // at most 1, as before the model had larger ones.
        if case.pads[0] <= 1 {
            if let Some(y) = case.fast_y(quantlab::kernels::table::int8()) {
                assert_eq!(y, ints(&c["y"]), "fast kernel on {}", c["name"]);
            }
        }
    }
}

#[test]
fn qlinear_matmul_matches_onnxruntime() {
    let g = golden();
    let cases = g["qlinearmatmul"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let out = qlinear_matmul(&MatMulCase::new(c).args()).unwrap();
        assert_matches(&out, c);
    }
}
