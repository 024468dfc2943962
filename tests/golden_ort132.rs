//! The ops onnxruntime 1.32 changed or added, against onnxruntime 1.32 itself: compute_scale_zp
//! (float64 range width), blocked QuantizeLinear / DequantizeLinear (opset 21), QLinearConv with
//! unequal pads and batched, broadcast QLinearMatMul. Vectors from
//! `scripts/golden/make_golden_ort132.py` (rerun by hand: `make golden`).
#![cfg(not(target_arch = "wasm32"))]

use quantlab::api::{qlinear_conv, qlinear_matmul, QLinearConvArgs, QLinearMatMulArgs};
use quantlab::quant::linear::{dequantize_linear, quantize_linear, OpLayout};
use quantlab::quant::params::compute_scale_zp;
use quantlab::quant::QuantParams;
use serde_json::Value;

mod common;
use common::{dtype, f32s, ints, usizes};

fn load(text: &str) -> Value {
    let g: Value = serde_json::from_str(text).unwrap();
    assert_eq!(g["versions"]["onnxruntime"], "1.32.0");
    g
}

#[test]
fn compute_scale_zp_matches_onnxruntime_132() {
    let g = load(include_str!("golden/scale_zp_132.json"));
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() >= 70);
    let mut huge = 0;
    for c in cases {
        let (lo, hi) = (f32s(&c["rmin_bits"])[0], f32s(&c["rmax_bits"])[0]);
        let (qmin, qmax) = (
            c["qmin"].as_i64().unwrap() as i32,
            c["qmax"].as_i64().unwrap() as i32,
        );
        let got = compute_scale_zp(lo, hi, qmin, qmax, c["symmetric"].as_bool().unwrap());
        if c["error"].as_bool() == Some(true) {
            assert!(got.is_err(), "{} should be refused", c["name"]);
            continue;
        }
        let (s, z) = got.unwrap_or_else(|e| panic!("{}: {e}", c["name"]));
        assert_eq!(
            s.to_bits(),
            f32s(&c["scale_bits"])[0].to_bits(),
            "scale of {}",
            c["name"]
        );
        assert_eq!(
            z as i64,
            c["zero_point"].as_i64().unwrap(),
            "zero point of {}",
            c["name"]
        );
        huge += usize::from(hi - lo == f32::INFINITY);
    }
    // Ranges whose float32 width overflows are valid in 1.32.
    assert!(huge >= 2, "the goldens hold overflowing widths");
}

fn params(c: &Value) -> QuantParams {
    QuantParams {
        scale: f32s(&c["scale_bits"]),
        zero_point: ints(&c["zero_point"]),
        axis: None,
    }
}

#[test]
fn blocked_quantize_and_dequantize_match_onnxruntime_132() {
    let g = load(include_str!("golden/blocked_quantize.json"));
    let q = g["quantize"].as_array().unwrap();
    let d = g["dequantize"].as_array().unwrap();
    assert!(q.len() >= 25 && d.len() >= 20);
    for c in q {
        let shape = usizes(&c["shape"]);
        let o = OpLayout {
            shape: Some(&shape),
            axis: c["axis"].as_i64(),
            block_size: Some(c["block_size"].as_u64().unwrap() as usize),
        };
        let y = quantize_linear(&f32s(&c["x_bits"]), params(c), dtype(&c["dtype"]), o)
            .unwrap_or_else(|e| panic!("{}: {e}", c["name"]));
        assert_eq!(y, ints(&c["y"]), "case {}", c["name"]);
    }
    for c in d {
        let shape = usizes(&c["shape"]);
        let o = OpLayout {
            shape: Some(&shape),
            axis: c["axis"].as_i64(),
            block_size: Some(c["block_size"].as_u64().unwrap() as usize),
        };
        let x = dequantize_linear(&ints(&c["q"]), params(c), dtype(&c["dtype"]), o)
            .unwrap_or_else(|e| panic!("{}: {e}", c["name"]));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&x), bits(&f32s(&c["x_bits"])), "case {}", c["name"]);
    }
}

#[test]
fn qlinear_conv_with_unequal_pads_matches_onnxruntime_132() {
    let g = load(include_str!("golden/qlinear_132.json"));
    let cases = g["qlinearconv"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for c in cases {
        let (x, w, bias) = (ints(&c["x"]), ints(&c["w"]), ints(&c["bias"]));
        let (xs, ws) = (usizes(&c["x_shape"]), usizes(&c["w_shape"]));
        let (w_scale, w_zp) = (f32s(&c["w_scale_bits"]), ints(&c["w_zero_point"]));
        let pads: [usize; 4] = usizes(&c["pads"]).try_into().unwrap();
        let out = qlinear_conv(&QLinearConvArgs {
            x: &x,
            x_shape: &xs,
            x_dtype: dtype(&c["x_dtype"]),
            x_scale: f32s(&c["x_scale_bits"])[0],
            x_zero_point: c["x_zero_point"].as_i64().unwrap() as i32,
            w: &w,
            w_shape: &ws,
            w_scale: &w_scale,
            w_zero_point: &w_zp,
            y_scale: f32s(&c["y_scale_bits"])[0],
            y_zero_point: c["y_zero_point"].as_i64().unwrap() as i32,
            bias: Some(&bias),
            pads,
        })
        .unwrap_or_else(|e| panic!("{}: {e}", c["name"]));
        assert_eq!(out.acc, ints(&c["acc"]), "acc of {}", c["name"]);
        assert_eq!(out.y, ints(&c["y"]), "y of {}", c["name"]);
        assert_eq!(out.shape, usizes(&c["y_shape"]), "shape of {}", c["name"]);
    }
}

#[test]
fn batched_qlinear_matmul_matches_onnxruntime_132() {
    let g = load(include_str!("golden/qlinear_132.json"));
    let cases = g["qlinearmatmul"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let (a, b) = (ints(&c["a"]), ints(&c["b"]));
        let (a_shape, b_shape) = (usizes(&c["a_shape"]), usizes(&c["b_shape"]));
        let (b_scale, b_zp) = (f32s(&c["b_scale_bits"]), ints(&c["b_zero_point"]));
        let out = qlinear_matmul(&QLinearMatMulArgs {
            a: &a,
            a_shape: &a_shape,
            a_dtype: dtype(&c["a_dtype"]),
            a_scale: f32s(&c["a_scale_bits"])[0],
            a_zero_point: c["a_zero_point"].as_i64().unwrap() as i32,
            b: &b,
            b_shape: &b_shape,
            b_scale: &b_scale,
            b_zero_point: &b_zp,
            y_scale: f32s(&c["y_scale_bits"])[0],
            y_zero_point: c["y_zero_point"].as_i64().unwrap() as i32,
        })
        .unwrap_or_else(|e| panic!("{}: {e}", c["name"]));
        assert_eq!(out.acc, ints(&c["acc"]), "acc of {}", c["name"]);
        assert_eq!(out.y, ints(&c["y"]), "y of {}", c["name"]);
        assert_eq!(out.shape, usizes(&c["y_shape"]), "shape of {}", c["name"]);
    }
}
