//! quantize/dequantize and calibrated parameters against onnxruntime, bit for bit.
//! The vectors come from `scripts/golden/make_golden.py` (rerun by hand: `make golden`).
#![cfg(not(target_arch = "wasm32"))]

use quantlab::quant::calibrate::{observer, Method};
use quantlab::quant::linear::{dequantize_linear, quantize_linear, quantize_value, OpLayout};
use quantlab::quant::params::compute_scale_zp;
use quantlab::quant::{Dtype, Grid, Scheme};
use serde_json::Value;

mod common;
use common::{dtype, f32s, ints, params, usizes};

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/quantize.json")).unwrap()
}

#[test]
fn quantize_linear_matches_onnxruntime() {
    let g = golden();
    let cases = g["quantize"].as_array().unwrap();
    assert!(cases.len() >= 50);
    for c in cases {
        let shape = usizes(&c["shape"]);
        let axis = c["axis"].as_i64();
        let y = quantize_linear(
            &f32s(&c["x_bits"]),
            params(c),
            dtype(&c["dtype"]),
            OpLayout::axis(Some(&shape), axis),
        )
        .unwrap();
        assert_eq!(y, ints(&c["y"]), "case {}", c["name"]);
    }
}

#[test]
fn dequantize_linear_matches_onnxruntime() {
    let g = golden();
    for c in g["dequantize"].as_array().unwrap() {
        let shape = usizes(&c["shape"]);
        let y = dequantize_linear(
            &ints(&c["q"]),
            params(c),
            dtype(&c["dtype"]),
            OpLayout::axis(Some(&shape), c["axis"].as_i64()),
        )
        .unwrap();
        let want = f32s(&c["y_bits"]);
        assert_eq!(
            y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "case {}",
            c["name"]
        );
    }
}

#[test]
fn minmax_calibration_matches_onnxruntime_quantize_static() {
    let g = golden();
    let cases = g["calibration"].as_array().unwrap();
    assert!(cases.len() >= 30);
    for c in cases {
        let grid = match c["config"].as_str().unwrap() {
            "asym_uint8" => Grid::new(Dtype::Uint8, 8, Scheme::Asymmetric),
            "asym_int8" => Grid::new(Dtype::Int8, 8, Scheme::Asymmetric),
            "sym_int8" => Grid::new(Dtype::Int8, 8, Scheme::Symmetric),
            other => panic!("config {other}"),
        }
        .unwrap();
        // Stream the batches through the observer as ORT's MinMaxCalibrater does.
        let mut obs = observer(Method::MinMax);
        for b in c["batches_bits"].as_array().unwrap() {
            obs.observe(&f32s(b));
        }
        let (lo, hi) = obs.range(&grid);
        assert_eq!(
            (lo, hi),
            (f32s(&c["rmin_bits"])[0], f32s(&c["rmax_bits"])[0]),
            "range of {}",
            c["name"]
        );
        let (qmin, qmax) = grid.qrange();
        let (s, z) = compute_scale_zp(lo, hi, qmin, qmax, grid.symmetric()).unwrap();
        assert_eq!(
            s.to_bits(),
            f32s(&c["scale_bits"])[0].to_bits(),
            "scale of {} {}",
            c["name"],
            c["config"]
        );
        assert_eq!(
            z,
            c["zero_point"].as_i64().unwrap() as i32,
            "zero point of {} {}",
            c["name"],
            c["config"]
        );
    }
}

#[test]
fn per_channel_weight_params_match_onnxruntime() {
    let g = golden();
    for c in g["weight_calibration"].as_array().unwrap() {
        let w = f32s(&c["w_bits"]);
        let shape = usizes(&c["w_shape"]);
        let opts = quantlab::api::QuantOptions {
            shape: Some(shape.clone()),
            axis: c["axis"].as_i64(),
            ..quantlab::api::QuantOptions::new(Dtype::Int8, 8, Scheme::Symmetric, Method::MinMax)
                .unwrap()
        };
        let (p, layout) = quantlab::api::choose_quant_params(&w, &opts).unwrap();
        assert_eq!(
            p.scale.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            ints(&c["scale_bits"])
                .iter()
                .map(|&b| b as u32)
                .collect::<Vec<_>>(),
            "{}",
            c["name"]
        );
        assert_eq!(p.zero_point, ints(&c["zero_point"]));
        let q: Vec<i32> = w
            .iter()
            .zip(layout.param_index().iter())
            .map(|(&v, &ch)| quantize_value(v, p.scale[ch], 0, -127, 127))
            .collect();
        assert_eq!(q, ints(&c["w_q"]), "{}", c["name"]);
    }
}
