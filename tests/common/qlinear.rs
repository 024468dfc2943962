//! The QLinearConv / QLinearMatMul golden case layout (scripts/golden/make_golden.py's
//! `qlinearconv_case` / `qlinearmatmul_case`, shared by qlinear.json and qlinear_132.json), read
//! into owned values that lend the ops their arguments.
#![allow(dead_code)]

use super::{dtype, f32s, ints, usizes};
use quantlab::api::{QLinearConvArgs, QLinearMatMulArgs};
use serde_json::Value;

pub struct ConvCase {
    pub name: String,
    pub x: Vec<i32>,
    pub x_shape: Vec<usize>,
    pub w: Vec<i32>,
    pub w_shape: Vec<usize>,
    pub w_scale: Vec<f32>,
    pub w_zero_point: Vec<i32>,
    pub bias: Vec<i32>,
    pub pads: [usize; 4],
    /// ONNX `strides` [s, s] (1 when the case has none).
    pub stride: usize,
    pub c: Value,
}

impl ConvCase {
    pub fn new(c: &Value) -> Self {
        ConvCase {
            name: c["name"].as_str().unwrap().to_string(),
            x: ints(&c["x"]),
            x_shape: usizes(&c["x_shape"]),
            w: ints(&c["w"]),
            w_shape: usizes(&c["w_shape"]),
            w_scale: f32s(&c["w_scale_bits"]),
            w_zero_point: ints(&c["w_zero_point"]),
            bias: ints(&c["bias"]),
            pads: usizes(&c["pads"]).try_into().unwrap(),
            stride: c.get("stride").map_or(1, |v| v.as_u64().unwrap() as usize),
            c: c.clone(),
        }
    }

    pub fn args(&self) -> QLinearConvArgs<'_> {
        let c = &self.c;
        QLinearConvArgs {
            x: &self.x,
            x_shape: &self.x_shape,
            x_dtype: dtype(&c["x_dtype"]),
            x_scale: f32s(&c["x_scale_bits"])[0],
            x_zero_point: c["x_zero_point"].as_i64().unwrap() as i32,
            w: &self.w,
            w_shape: &self.w_shape,
            w_scale: &self.w_scale,
            w_zero_point: &self.w_zero_point,
            y_scale: f32s(&c["y_scale_bits"])[0],
            y_zero_point: c["y_zero_point"].as_i64().unwrap() as i32,
            bias: Some(&self.bias),
            pads: self.pads,
            stride: self.stride,
        }
    }
}

impl ConvCase {
    /// The case run by int8 kernel-table entry `kern` as the model runs a conv (int8 input, zero
    /// weight zero point, equal pads on every side), or `None` where the case is not of that form.
    pub fn fast_y(&self, kern: quantlab::kernels::Int8Kernel) -> Option<Vec<i32>> {
        use quantlab::kernels::int8::{self as k8, Requant};
        use quantlab::kernels::{reference, ConvShape};
        let args = self.args();
        let p = self.pads;
        if args.x_dtype != quantlab::quant::Dtype::Int8
            || self.w_zero_point.iter().any(|&z| z != 0)
            || p.iter().any(|&v| v != p[0])
        {
            return None;
        }
        let [n, ch, h, wd] = self.x_shape[..] else {
            unreachable!("NCHW")
        };
        let s = ConvShape {
            c: ch,
            h,
            w: wd,
            m: self.w_shape[0],
            k: self.w_shape[2],
            pad: p[0],
            stride: self.stride,
        };
        let scales = if self.w_scale.len() == 1 {
            vec![self.w_scale[0]; s.m]
        } else {
            self.w_scale.clone()
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
        let wq: Vec<i8> = self.w.iter().map(|&v| v as i8).collect();
        let mut y = vec![];
        for i in 0..n {
            let xi: Vec<i8> = self.x[i * ch * h * wd..][..ch * h * wd]
                .iter()
                .map(|&v| v as i8)
                .collect();
            y.extend(
                k8::conv2d_nchw(kern, &s, &xi, args.x_zero_point, &wq, &self.bias, &rq)
                    .iter()
                    .map(|&v| v as i32),
            );
        }
        Some(y)
    }
}

pub struct MatMulCase {
    pub name: String,
    pub a: Vec<i32>,
    pub a_shape: Vec<usize>,
    pub b: Vec<i32>,
    pub b_shape: Vec<usize>,
    pub b_scale: Vec<f32>,
    pub b_zero_point: Vec<i32>,
    pub c: Value,
}

impl MatMulCase {
    pub fn new(c: &Value) -> Self {
        MatMulCase {
            name: c["name"].as_str().unwrap().to_string(),
            a: ints(&c["a"]),
            a_shape: usizes(&c["a_shape"]),
            b: ints(&c["b"]),
            b_shape: usizes(&c["b_shape"]),
            b_scale: f32s(&c["b_scale_bits"]),
            b_zero_point: ints(&c["b_zero_point"]),
            c: c.clone(),
        }
    }

    pub fn args(&self) -> QLinearMatMulArgs<'_> {
        let c = &self.c;
        QLinearMatMulArgs {
            a: &self.a,
            a_shape: &self.a_shape,
            a_dtype: dtype(&c["a_dtype"]),
            a_scale: f32s(&c["a_scale_bits"])[0],
            a_zero_point: c["a_zero_point"].as_i64().unwrap() as i32,
            b: &self.b,
            b_shape: &self.b_shape,
            b_scale: &self.b_scale,
            b_zero_point: &self.b_zero_point,
            y_scale: f32s(&c["y_scale_bits"])[0],
            y_zero_point: c["y_zero_point"].as_i64().unwrap() as i32,
        }
    }
}

/// The op's output against the case: exact int32 accumulators, outputs and shape.
pub fn assert_matches(out: &quantlab::api::QLinearOutput, c: &Value) {
    assert_eq!(out.acc, ints(&c["acc"]), "acc of {}", c["name"]);
    assert_eq!(out.y, ints(&c["y"]), "y of {}", c["name"]);
    assert_eq!(out.shape, usizes(&c["y_shape"]), "shape of {}", c["name"]);
}
