//! QLinearConv and QLinearMatMul against onnxruntime: exact int32 accumulators and outputs.
//! Vectors from `scripts/golden/make_golden.py` (rerun by hand: `make golden`).
#![cfg(not(target_arch = "wasm32"))]

use quantlab::api::{qlinear_conv, qlinear_matmul};
use quantlab::kernels::int8::{self as k8, Requant};
use quantlab::kernels::{reference, ConvShape};
use quantlab::quant::Dtype;
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
        let (x, w, w_scale, pads) = (&case.x, &case.w, &case.w_scale, case.pads);

        // The fast int8 kernel (int8 input, zero weight zero point) gives the same bits.
        let equal_pads = pads.iter().all(|&p| p == pads[0]) && pads[0] <= 1;
        if args.x_dtype == Dtype::Int8 && case.w_zero_point.iter().all(|&z| z == 0) && equal_pads {
            let [n, ch, h, wd] = case.x_shape[..] else {
                unreachable!()
            };
            let s = ConvShape {
                c: ch,
                h,
                w: wd,
                m: case.w_shape[0],
                k: case.w_shape[2],
                pad: pads[0],
                stride: 1,
            };
            let wq: Vec<i8> = w.iter().map(|&v| v as i8).collect();
            let scales: Vec<f32> = if w_scale.len() == 1 {
                vec![w_scale[0]; s.m]
            } else {
                w_scale.clone()
            };
            let rq = Requant {
                multiplier: scales
                    .iter()
                    .map(|&sw| reference::multiplier(args.x_scale, sw, args.y_scale))
                    .collect(),
                zero_point: args.y_zero_point,
                lo: -128,
                hi: 127,
            };
            let mut y = vec![0i8; n * s.m * s.p()];
            for i in 0..n {
                let xi: Vec<i8> = x[i * ch * h * wd..][..ch * h * wd]
                    .iter()
                    .map(|&v| v as i8)
                    .collect();
                let yi = k8::conv2d_nchw(
                    quantlab::kernels::table::int8(),
                    &s,
                    &xi,
                    args.x_zero_point,
                    &wq,
                    &case.bias,
                    &rq,
                );
                y[i * s.m * s.p()..][..s.m * s.p()].copy_from_slice(&yi);
            }
            assert_eq!(
                y.iter().map(|&v| v as i32).collect::<Vec<_>>(),
                ints(&c["y"]),
                "fast kernel on {}",
                c["name"]
            );
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
