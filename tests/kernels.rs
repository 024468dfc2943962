//! Fast kernels against the plain reference. Natively this checks the portable loops; under
//! `cargo test --target wasm32-unknown-unknown --test kernels` (run in Node by `make test`) it
//! checks the SIMD128 kernels. Integer kernels must match bit for bit; outputs are pre-filled
//! with sentinels so stray or missing writes show.

mod common;
use common::Rng;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use quantlab::kernels::int8::{self, Requant};
use quantlab::kernels::reference as refk;
use quantlab::kernels::{fp32, ConvShape};

fn shapes() -> Vec<ConvShape> {
    let mut v = vec![];
    for &(c, h, w) in &[
        (1, 5, 5),
        (1, 32, 32),
        (2, 7, 6),
        (3, 9, 11),
        (5, 4, 3),
        (32, 15, 15),
        (4, 13, 13),
    ] {
        for &m in &[1, 2, 3, 4, 5, 7, 8, 17] {
            for &(k, pad) in &[(3, 0), (3, 1), (1, 0), (1, 1), (2, 0)] {
                if h + 2 * pad >= k && w + 2 * pad >= k {
                    v.push(ConvShape { c, h, w, m, k, pad });
                }
            }
        }
    }
    v
}

#[test]
fn fp32_conv_matches_reference() {
    let mut rng = Rng(1);
    for s in shapes() {
        let x: Vec<f32> = (0..s.c * s.h * s.w).map(|_| rng.f32_int(-8, 8)).collect();
        let w: Vec<f32> = (0..s.m * s.taps()).map(|_| rng.f32_int(-8, 8)).collect();
        let b: Vec<f32> = (0..s.m).map(|_| rng.f32_int(-50, 50)).collect();
        let mut want = vec![f32::NAN; s.m * s.p()];
        refk::conv2d_f32(&s, &x, &w, &b, &mut want);
        for relu in [false, true] {
            let mut got = vec![f32::NAN; s.m * s.p()];
            let mut col = vec![f32::NAN; s.taps() * s.pp()];
            fp32::conv2d(&s, &x, &w, &b, relu, &mut col, &mut got);
            let want: Vec<f32> = want
                .iter()
                .map(|&v| if relu { v.max(0.0) } else { v })
                .collect();
            assert_eq!(got, want, "{s:?} relu={relu}");
        }
    }
}

#[test]
fn int8_conv_matches_reference_bit_for_bit() {
    let mut rng = Rng(2);
    for s in shapes() {
        let x: Vec<i8> = (0..s.c * s.h * s.w)
            .map(|_| rng.int(-128, 127) as i8)
            .collect();
        let w: Vec<i8> = (0..s.m * s.taps())
            .map(|_| rng.int(-127, 127) as i8)
            .collect();
        let b: Vec<i32> = (0..s.m).map(|_| rng.int(-5000, 5000)).collect();
        let zx = rng.int(-128, 127);
        let mut acc = vec![0; s.m * s.p()];
        let xi: Vec<i32> = x.iter().map(|&v| v as i32).collect();
        let wi: Vec<i32> = w.iter().map(|&v| v as i32).collect();
        refk::conv2d_acc_i32(&s, &xi, zx, &wi, &vec![0; s.m], &b, &mut acc);
        for relu in [false, true] {
            let zy = rng.int(-128, 127);
            // Multipliers so that outputs spread over the range, some saturating.
            let multiplier: Vec<f32> = (0..s.m)
                .map(|_| 1.0 / (50.0 + rng.int(0, 3000) as f32))
                .collect();
            let rq = Requant {
                multiplier,
                zero_point: zy,
                lo: if relu { zy.max(-128) } else { -128 },
                hi: 127,
            };
            let want: Vec<i8> = acc
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    refk::requantize(a, rq.multiplier[i / s.p()], zy, rq.lo, rq.hi) as i8
                })
                .collect();
            let wp = int8::pack_weights(&w, s.m, s.taps());
            let bias = int8::fold_bias(&b, &w, s.m, s.taps(), zx);
            let mut col = vec![i16::MIN; s.tap_pairs() * 2 * s.pp()];
            let mut got = vec![0x55i8; s.m * s.p()];
            int8::conv2d(&s, &x, zx as i8, &wp, &bias, &rq, &mut col, &mut got);
            assert_eq!(got, want, "{s:?} relu={relu}");
        }
    }
}

#[test]
fn requantize_rounds_half_to_even_and_saturates() {
    assert_eq!(refk::requantize(5, 0.5, 0, -128, 127), 2); // 2.5 -> 2
    assert_eq!(refk::requantize(7, 0.5, 0, -128, 127), 4); // 3.5 -> 4
    assert_eq!(refk::requantize(-5, 0.5, 0, -128, 127), -2);
    assert_eq!(refk::requantize(i32::MAX, 1.0, 10, -128, 127), 127);
    assert_eq!(refk::requantize(i32::MIN, 1.0, 10, -128, 127), -128);
    assert_eq!(refk::requantize(-100, 1.0, -128, -128, 127), -128); // fused ReLU floor at z_y
}

#[test]
fn linear_matches_reference() {
    let mut rng = Rng(3);
    for &(n_in, n_out) in &[
        (1, 1),
        (7, 3),
        (8, 10),
        (9, 2),
        (33, 5),
        (2304, 10),
        (100, 17),
    ] {
        let x: Vec<f32> = (0..n_in).map(|_| rng.f32_int(-4, 4)).collect();
        let w: Vec<f32> = (0..n_in * n_out).map(|_| rng.f32_int(-4, 4)).collect();
        let b: Vec<f32> = (0..n_out).map(|_| rng.f32_int(-9, 9)).collect();
        let (mut want, mut got) = (vec![f32::NAN; n_out], vec![f32::NAN; n_out]);
        refk::linear_f32(n_in, n_out, &x, &w, &b, &mut want);
        fp32::linear(n_in, n_out, &x, &w, &b, &mut got);
        assert_eq!(got, want, "fp32 {n_in}x{n_out}");

        let xq: Vec<i8> = (0..n_in).map(|_| rng.int(-128, 127) as i8).collect();
        let wq: Vec<i8> = (0..n_in * n_out)
            .map(|_| rng.int(-127, 127) as i8)
            .collect();
        let bq: Vec<i32> = (0..n_out).map(|_| rng.int(-999, 999)).collect();
        let zx = rng.int(-128, 127);
        // Reference in ONNX MatMul layout: a [1, n_in] x w^T [n_in, n_out].
        let wt: Vec<i32> = (0..n_in * n_out)
            .map(|i| wq[(i % n_out) * n_in + i / n_out] as i32)
            .collect();
        let mut acc = vec![0; n_out];
        refk::matmul_acc_i32(
            1,
            n_in,
            n_out,
            &xq.iter().map(|&v| v as i32).collect::<Vec<_>>(),
            zx,
            &wt,
            &vec![0; n_out],
            &bq,
            &mut acc,
        );
        let rq = Requant {
            multiplier: vec![0.01; n_out],
            zero_point: 3,
            lo: -128,
            hi: 127,
        };
        let want: Vec<i8> = acc
            .iter()
            .map(|&a| refk::requantize(a, 0.01, 3, -128, 127) as i8)
            .collect();
        let wp = int8::pack_linear(&wq, n_out, n_in);
        let bias = int8::fold_bias(&bq, &wq, n_out, n_in, zx);
        let mut x16 = vec![i16::MIN; n_in.div_ceil(8) * 8];
        let (mut acc2, mut got) = (vec![0; n_out], vec![0x55i8; n_out]);
        int8::linear(
            n_in, n_out, &xq, &wp, &bias, &rq, &mut x16, &mut acc2, &mut got,
        );
        assert_eq!(acc2, acc, "int8 acc {n_in}x{n_out}");
        assert_eq!(got, want, "int8 {n_in}x{n_out}");
    }
}

#[test]
fn maxpools_match_reference() {
    let mut rng = Rng(4);
    for &(c, h, w) in &[(1, 2, 2), (3, 5, 7), (32, 30, 30), (64, 13, 13)] {
        let x: Vec<i8> = (0..c * h * w).map(|_| rng.int(-128, 127) as i8).collect();
        let (mut want, mut got) = (
            vec![0i8; c * (h / 2) * (w / 2)],
            vec![1i8; c * (h / 2) * (w / 2)],
        );
        refk::maxpool2(c, h, w, &x, &mut want);
        int8::maxpool2(c, h, w, &x, &mut got);
        assert_eq!(got, want);
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let (mut wf, mut gf) = (vec![0f32; want.len()], vec![f32::NAN; want.len()]);
        refk::maxpool2(c, h, w, &xf, &mut wf);
        fp32::maxpool2(c, h, w, &xf, &mut gf);
        assert_eq!(gf, wf);
    }
}
