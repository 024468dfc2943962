//! QLinearConv and QLinearMatMul against onnxruntime: exact int32 accumulators and outputs.
//! Vectors from `scripts/golden/make_golden.py` (rerun by hand: `make golden`).
#![cfg(not(target_arch = "wasm32"))]

use quantlab::api::{qlinear_conv, qlinear_matmul, QLinearConvArgs, QLinearMatMulArgs};
use quantlab::kernels::int8::{self as k8, Requant};
use quantlab::kernels::{reference, ConvShape};
use quantlab::quant::Dtype;
use serde_json::Value;

mod common;
use common::{dtype, f32s, ints, usizes};

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/qlinear.json")).unwrap()
}

#[test]
fn qlinear_conv_matches_onnxruntime() {
    let g = golden();
    let cases = g["qlinearconv"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let (x, w, bias) = (ints(&c["x"]), ints(&c["w"]), ints(&c["bias"]));
        let (xs, ws) = (usizes(&c["x_shape"]), usizes(&c["w_shape"]));
        let (w_scale, w_zp) = (f32s(&c["w_scale_bits"]), ints(&c["w_zero_point"]));
        let pads: [usize; 4] = usizes(&c["pads"]).try_into().unwrap();
        let args = QLinearConvArgs {
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
        };
        let out = qlinear_conv(&args).unwrap();
        assert_eq!(out.acc, ints(&c["acc"]), "acc of {}", c["name"]);
        assert_eq!(out.y, ints(&c["y"]), "y of {}", c["name"]);
        assert_eq!(out.shape, usizes(&c["y_shape"]));

        // The fast int8 kernel (int8 input, zero weight zero point) gives the same bits.
        let equal_pads = pads.iter().all(|&p| p == pads[0]) && pads[0] <= 1;
        if args.x_dtype == Dtype::Int8 && w_zp.iter().all(|&z| z == 0) && equal_pads {
            let [n, ch, h, wd] = xs[..] else {
                unreachable!()
            };
            let s = ConvShape {
                c: ch,
                h,
                w: wd,
                m: ws[0],
                k: ws[2],
                pad: pads[0],
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
                    &bias,
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
        let (a, b) = (ints(&c["a"]), ints(&c["b"]));
        let (as_, bs) = (usizes(&c["a_shape"]), usizes(&c["b_shape"]));
        let (b_scale, b_zp) = (f32s(&c["b_scale_bits"]), ints(&c["b_zero_point"]));
        let out = qlinear_matmul(&QLinearMatMulArgs {
            a: &a,
            a_shape: &as_,
            a_dtype: dtype(&c["a_dtype"]),
            a_scale: f32s(&c["a_scale_bits"])[0],
            a_zero_point: c["a_zero_point"].as_i64().unwrap() as i32,
            b: &b,
            b_shape: &bs,
            b_scale: &b_scale,
            b_zero_point: &b_zp,
            y_scale: f32s(&c["y_scale_bits"])[0],
            y_zero_point: c["y_zero_point"].as_i64().unwrap() as i32,
        })
        .unwrap();
        assert_eq!(out.acc, ints(&c["acc"]), "acc of {}", c["name"]);
        assert_eq!(out.y, ints(&c["y"]), "y of {}", c["name"]);
    }
}
