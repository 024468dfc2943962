//! Every kernel-table entry the engine can run, against the plain reference, on one sweep of
//! shapes (odd sizes, padding 0 and 1, 1-channel input, channel counts off the 4 and 8 tiles,
//! runs of k·C values off the 4-tap step, batches off the 4-pixel tile). Integer entries must match bit for
//! bit; float entries exactly too, since the inputs are small integers (every product and sum
//! is exact in float32, fused or not). Outputs are pre-filled with sentinels so stray or
//! missing writes show.
//!
//! Natively this checks the portable entries; `cargo test --target wasm32-unknown-unknown
//! --test kernels` checks the SIMD128 build's entries in Node, and the same with
//! `+relaxed-simd` checks the relaxed build's in Chromium (Node 20 computes relaxed SIMD
//! wrongly), as `make test` runs them.
//!
//! The suite does not trust the build it finds itself in: `make test` names the build it means
//! in `QUANTLAB_EXPECT_BUILD` (`simd128` or `relaxed`, read at compile time; a wasm build without
//! it fails), the suite asserts that it was compiled as that build, and each test asserts the
//! entries it ran: a relaxed run that lost its RUSTFLAGS would otherwise pass on the simd128
//! entries alone.

mod common;
use common::{through_nhwc, Rng};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use quantlab::kernels::int8::{self, Requant};
use quantlab::kernels::pool_out;
use quantlab::kernels::probe::{self, DotBehaviour, PairBehaviour};
use quantlab::kernels::reference as refk;
use quantlab::kernels::{fp32, table, ConvShape, Entry, F32Kernel, Int8Kernel};

fn shapes() -> Vec<ConvShape> {
    let mut v = vec![];
    for &(c, h, w) in &[
        (1, 5, 5),
        (1, 28, 28),
        (2, 7, 6),
        (3, 9, 11),
        (5, 4, 3),
        (4, 13, 13),
        (8, 6, 7),
        (32, 14, 14),
    ] {
        for &m in &[1, 3, 4, 5, 8, 9, 17, 40] {
            // (kernel, padding, stride): strided convs too (PyTorch's downsampling), and padding
            // up to k − 1.
            for &(k, pad, stride) in &[
                (3, 0, 1),
                (3, 1, 1),
                (1, 0, 1),
                (1, 1, 1),
                (2, 0, 1),
                (3, 1, 2),
                (5, 2, 2),
                (2, 0, 2),
                (3, 2, 3),
            ] {
                if h + 2 * pad >= k
                    && w + 2 * pad >= k
                    && (c * m < 600 || (k, pad, stride) == (3, 1, 1))
                {
                    v.push(ConvShape {
                        c,
                        h,
                        w,
                        m,
                        k,
                        pad,
                        stride,
                    });
                }
            }
        }
    }
    v
}

/// The build `make test` compiled this suite as (`QUANTLAB_EXPECT_BUILD`); natively `native`.
fn expected_build() -> &'static str {
    match option_env!("QUANTLAB_EXPECT_BUILD") {
        Some(b) => b,
        None if cfg!(target_arch = "wasm32") => panic!(
            "set QUANTLAB_EXPECT_BUILD=simd128 or relaxed when building the wasm kernel suite \
             (make test does), so that a build that lost its target features fails"
        ),
        None => "native",
    }
}

/// The int8 entries this build must run on this engine, from the build and the probe alone (not
/// from the table, which is what is under test). The relaxed build runs `split` everywhere,
/// `usdot` where the relaxed dot is an exact uint8 × int8 dot (x86 with AVX-VNNI) and `usdot7`
/// where the int16 relaxed dot reads its operand as unsigned (x86 without it).
fn expected_int8() -> Vec<&'static str> {
    let p = probe::get();
    match expected_build() {
        "relaxed" => {
            let mut v = vec![];
            if p.dot == DotBehaviour::Usdot {
                v.push("usdot");
            }
            if p.pairs == PairBehaviour::Unsigned {
                v.push("usdot7");
            }
            v.extend(["split", "dot16", "portable"]);
            v
        }
        "simd128" => vec!["dot16", "portable"],
        "native" => vec!["portable"],
        other => panic!("QUANTLAB_EXPECT_BUILD={other}: expected native, simd128 or relaxed"),
    }
}

/// The fp32 entries this build must run: `madd` in the relaxed build, `muladd` from SIMD128 up.
fn expected_f32() -> Vec<&'static str> {
    match expected_build() {
        "relaxed" => vec!["madd", "muladd", "portable"],
        "simd128" => vec!["muladd", "portable"],
        _ => vec!["portable"],
    }
}

/// The entries a test ran, each named once, to compare with what the build must run.
#[derive(Default)]
struct Ran(Vec<String>);

impl Ran {
    fn saw(&mut self, name: &str) {
        if !self.0.iter().any(|n| n == name) {
            self.0.push(name.to_string());
        }
    }
    fn check(mut self, want: &[&str], what: &str) {
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        self.0.sort();
        want.sort();
        assert_eq!(
            self.0,
            want,
            "{what}: entries run in the {} build (probe {:?})",
            table::BUILD,
            probe::get()
        );
    }
}

/// What this build and engine can run, with a line saying so (the suite's log names them).
fn int8_entries() -> Vec<Int8Kernel> {
    let v = table::available::<Int8Kernel>();
    println!(
        "build {}: int8 entries {:?}; probe {:?}",
        table::BUILD,
        v.iter().map(|k| k.name()).collect::<Vec<_>>(),
        probe::get()
    );
    v
}

#[test]
fn the_suite_runs_the_build_make_test_asked_for() {
    let want = expected_build();
    assert_eq!(table::BUILD, want, "the table's build");
    assert_eq!(
        cfg!(target_feature = "relaxed-simd"),
        want == "relaxed",
        "compiled with relaxed-simd"
    );
    assert_eq!(
        cfg!(target_feature = "simd128"),
        want != "native",
        "compiled with simd128"
    );
    // The relaxed build probes the engine; the others have nothing to probe.
    let p = probe::get();
    let probed = want == "relaxed";
    assert_eq!(p.dot != DotBehaviour::NotProbed, probed, "{p:?}");
    assert_eq!(p.pairs != PairBehaviour::NotProbed, probed, "{p:?}");
    assert_eq!(p.madd_fused.is_some(), probed, "{p:?}");
    // The table offers exactly the entries the build and the probe call for, fastest first.
    let int8: Vec<&str> = int8_entries().iter().map(|k| k.name()).collect();
    assert_eq!(int8, expected_int8(), "int8 entries");
    let f32: Vec<&str> = table::available::<F32Kernel>()
        .iter()
        .map(|k| k.name())
        .collect();
    assert_eq!(f32, expected_f32(), "fp32 entries");
}

#[test]
fn fp32_conv_matches_reference() {
    let mut ran = Ran::default();
    for kern in table::available::<F32Kernel>() {
        ran.saw(kern.name());
        let mut rng = Rng(1);
        for s in shapes() {
            let x: Vec<f32> = (0..s.input_len()).map(|_| rng.f32_int(-8, 8)).collect();
            let w: Vec<f32> = (0..s.m * s.taps()).map(|_| rng.f32_int(-8, 8)).collect();
            let b: Vec<f32> = (0..s.m).map(|_| rng.f32_int(-50, 50)).collect();
            let mut want = vec![f32::NAN; s.m * s.p()];
            refk::conv2d_f32(&s, &x, &w, &b, &mut want);
            for relu in [false, true] {
                let got = fp32::conv2d_nchw(kern, &s, &x, &w, &b, relu);
                let want: Vec<f32> = want
                    .iter()
                    .map(|&v| if relu { v.max(0.0) } else { v })
                    .collect();
                assert_eq!(got, want, "{} {s:?} relu={relu}", kern.entry());
            }
        }
    }
    ran.check(&expected_f32(), "fp32 conv");
}

fn requant(rng: &mut Rng, m: usize, relu: bool) -> Requant {
    let zy = rng.int(-128, 127);
    // Multipliers so that outputs spread over the range, some saturating.
    Requant {
        multiplier: (0..m)
            .map(|_| 1.0 / (50.0 + rng.int(0, 3000) as f32))
            .collect(),
        zero_point: zy,
        lo: if relu { zy.max(-128) } else { -128 },
        hi: 127,
    }
}

/// Weight ranges every int8 entry is checked on: 8 bits, 7 bits (±64), where `usdot7` runs
/// its own kernel instead of falling back to `dot16`, and 6 bits (±32), where it adds two int16
/// pair sums before widening them (in runs of whole groups of 8 taps).
const WEIGHT_RANGES: [i32; 3] = [127, 64, 32];

#[test]
fn int8_conv_matches_reference_bit_for_bit() {
    let mut ran = Ran::default();
    for (kern, wmax) in int8_entries()
        .into_iter()
        .flat_map(|k| WEIGHT_RANGES.map(|r| (k, r)))
    {
        let mut rng = Rng(2);
        for s in shapes() {
            let x: Vec<i8> = (0..s.input_len())
                .map(|_| rng.int(-128, 127) as i8)
                .collect();
            let w: Vec<i8> = (0..s.m * s.taps())
                .map(|_| rng.int(-wmax, wmax) as i8)
                .collect();
            let b: Vec<i32> = (0..s.m).map(|_| rng.int(-5000, 5000)).collect();
            // Extremes of the zero point too: the padding value u = z + 128 is then 0 or 255.
            let zx = [rng.int(-128, 127), -128, 127][rng.int(0, 2) as usize];
            let mut acc = vec![0; s.m * s.p()];
            let xi: Vec<i32> = x.iter().map(|&v| v as i32).collect();
            let wi: Vec<i32> = w.iter().map(|&v| v as i32).collect();
            refk::conv2d_acc_i32(&s, &xi, zx, &wi, &vec![0; s.m], &b, &mut acc);
            for relu in [false, true] {
                let rq = requant(&mut rng, s.m, relu);
                // The entry the layer runs, as conv2d_nchw packs it (usdot7 falls back to dot16
                // beyond ±64 and takes its two-sums form within ±32).
                let packed = int8::PackedI8::conv(kern, &w, &b, &int8::conv_plan(s), zx, &rq);
                ran.saw(packed.kernel.name());
                if packed.narrow {
                    ran.saw("usdot7 within ±32");
                }
                let want: Vec<i8> = acc
                    .iter()
                    .enumerate()
                    .map(|(i, &a)| {
                        refk::requantize(a, rq.multiplier[i / s.p()], rq.zero_point, rq.lo, rq.hi)
                            as i8
                    })
                    .collect();
                let got = int8::conv2d_nchw(kern, &s, &x, zx, &w, &b, &rq);
                assert_eq!(
                    got,
                    want,
                    "{} |w| <= {wmax} {s:?} zx={zx} relu={relu}",
                    kern.entry()
                );
            }
        }
    }
    let mut want = expected_int8();
    if want.contains(&"usdot7") {
        want.push("usdot7 within ±32");
    }
    ran.check(&want, "int8 conv");
}

#[test]
fn int8_extreme_operands_are_exact() {
    // Every activation 127 (u = 255) against weights ±127: the products a pmaddubsw-style
    // saturating dot would clip. Output multiplier tiny so nothing saturates at requantization.
    for kern in int8_entries() {
        // ±64: the widest weights `usdot7` takes, where its int16 pair sums come closest to
        // saturating (2 · 64 · 255 = 32,640).
        for wv in [127i8, -127, 64, -64, 32, -32] {
            let s = ConvShape {
                c: 32,
                h: 5,
                w: 5,
                m: 8,
                k: 3,
                pad: 1,
                stride: 1,
            };
            let x = vec![127i8; s.input_len()];
            let w = vec![wv; s.m * s.taps()];
            let rq = Requant {
                multiplier: vec![1.0 / 65536.0; 8],
                zero_point: 0,
                lo: -128,
                hi: 127,
            };
            let xi: Vec<i32> = x.iter().map(|&v| v as i32).collect();
            let wi: Vec<i32> = w.iter().map(|&v| v as i32).collect();
            let mut acc = vec![0; s.m * s.p()];
            refk::conv2d_acc_i32(&s, &xi, -128, &wi, &[0; 8], &[0; 8], &mut acc);
            let want: Vec<i8> = acc
                .iter()
                .map(|&a| refk::requantize(a, rq.multiplier[0], 0, -128, 127) as i8)
                .collect();
            let got = int8::conv2d_nchw(kern, &s, &x, -128, &w, &[0; 8], &rq);
            assert_eq!(got, want, "{} weights {wv}", kern.entry());
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

const LINEAR: [(usize, usize); 8] = [
    (1, 1),
    (7, 3),
    (8, 10),
    (9, 2),
    (33, 5),
    (2304, 10),
    (100, 17),
    (64, 40),
];

#[test]
fn linear_matches_reference() {
    let mut rng = Rng(3);
    let (mut ran_f32, mut ran_i8) = (Ran::default(), Ran::default());
    for &(n_in, n_out) in &LINEAR {
        for n in [1, 3, 4, 6, 16] {
            let x: Vec<f32> = (0..n * n_in).map(|_| rng.f32_int(-4, 4)).collect();
            let w: Vec<f32> = (0..n_in * n_out).map(|_| rng.f32_int(-4, 4)).collect();
            let b: Vec<f32> = (0..n_out).map(|_| rng.f32_int(-9, 9)).collect();
            let mut want = vec![f32::NAN; n * n_out];
            for i in 0..n {
                refk::linear_f32(n_in, n_out, &x[i * n_in..], &w, &b, &mut want[i * n_out..]);
            }
            for kern in table::available::<F32Kernel>() {
                ran_f32.saw(kern.name());
                let got = fp32::linear_rows(kern, n, n_in, n_out, &x, &w, &b, false);
                assert_eq!(got, want, "{} {n}x{n_in}x{n_out}", kern.entry());
            }

            let xq: Vec<i8> = (0..n * n_in).map(|_| rng.int(-128, 127) as i8).collect();
            let wmax = WEIGHT_RANGES[n % 3];
            let wq: Vec<i8> = (0..n_in * n_out)
                .map(|_| rng.int(-wmax, wmax) as i8)
                .collect();
            let bq: Vec<i32> = (0..n_out).map(|_| rng.int(-999, 999)).collect();
            let zx = rng.int(-128, 127);
            // Reference in ONNX MatMul layout: a [n, n_in] x w^T [n_in, n_out].
            let wt: Vec<i32> = (0..n_in * n_out)
                .map(|i| wq[(i % n_out) * n_in + i / n_out] as i32)
                .collect();
            let mut acc = vec![0; n * n_out];
            let xi: Vec<i32> = xq.iter().map(|&v| v as i32).collect();
            refk::matmul_acc_i32(n, n_in, n_out, &xi, zx, &wt, &vec![0; n_out], &bq, &mut acc);
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
            for kern in table::available::<Int8Kernel>() {
                let packed = int8::PackedI8::linear(kern, &wq, &bq, n_out, n_in, None, zx, &rq);
                ran_i8.saw(packed.kernel.name());
                let got = int8::linear_rows(kern, n, n_in, n_out, &xq, zx, &wq, &bq, &rq);
                assert_eq!(got, want, "{} {n}x{n_in}x{n_out}", kern.entry());
            }
        }
    }
    ran_f32.check(&expected_f32(), "fp32 linear");
    ran_i8.check(&expected_int8(), "int8 linear");
}

#[test]
fn usdot7_packs_for_itself_only_within_7_bits() {
    let rq = Requant {
        multiplier: vec![1.0; 8],
        zero_point: 0,
        lo: -128,
        hi: 127,
    };
    let pack =
        |w: i8| int8::PackedI8::new(Int8Kernel::Usdot7, &[w; 32], &[0; 8], 8, 4, 0, &rq).kernel;
    assert_eq!(pack(64), Int8Kernel::Usdot7);
    assert_eq!(pack(-64), Int8Kernel::Usdot7);
    assert_eq!(pack(65), Int8Kernel::Dot16);
    assert_eq!(pack(-128), Int8Kernel::Dot16);
    let narrow =
        |w: i8| int8::PackedI8::new(Int8Kernel::Usdot7, &[w; 32], &[0; 8], 8, 4, 0, &rq).narrow;
    assert!(narrow(32) && narrow(-32) && !narrow(33) && !narrow(64));
}

#[test]
fn maxpools_match_reference() {
    let mut rng = Rng(4);
    // (kernel, stride): the 2×2/2 entries, and the generic loop (3×3/2 as ResNet's stem, 2×2/1, 3×3/3).
    for &(k, st) in &[(2, 2), (3, 2), (2, 1), (3, 3), (1, 1)] {
        for &(c, h, w) in &[(1, 3, 3), (3, 5, 7), (32, 28, 28), (64, 13, 13), (16, 4, 4)] {
            if h < k || w < k {
                continue;
            }
            let (oh, ow) = (pool_out(h, k, st), pool_out(w, k, st));
            let x: Vec<i8> = (0..c * h * w).map(|_| rng.int(-128, 127) as i8).collect();
            let n = c * oh * ow;
            let mut want = vec![0i8; n];
            refk::maxpool(c, h, w, k, st, &x, &mut want);
            // The kernels pool NHWC uint8 (u = q + 128).
            let u: Vec<u8> = x.iter().map(|&v| (v as u8) ^ 0x80).collect();
            let back = through_nhwc(&u, [c, h, w], [oh, ow], 1, |xn, o| {
                int8::maxpool(c, h, w, k, st, xn, o)
            });
            assert_eq!(
                back.iter().map(|&u| (u ^ 0x80) as i8).collect::<Vec<_>>(),
                want,
                "int8 {c}x{h}x{w}, {k}x{k}/{st}"
            );

            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let mut wf = vec![0f32; n];
            refk::maxpool(c, h, w, k, st, &xf, &mut wf);
            let bf = through_nhwc(&xf, [c, h, w], [oh, ow], f32::NAN, |xn, o| {
                fp32::maxpool(c, h, w, k, st, xn, o)
            });
            assert_eq!(bf, wf, "fp32 {c}x{h}x{w}, {k}x{k}/{st}");
        }
    }
}

#[test]
fn avgpools_match_reference() {
    use quantlab::kernels::{avgpool_nhwc_f32, avgpool_nhwc_i8, AvgQuant, AvgShape};
    let mut rng = Rng(6);
    // Windows of PyTorch's AvgPool2d (2×2/2, 3×3/2, 3×3/1), the global pool, and channel counts
    // off the 64-channel accumulator block.
    for &(c, h, w) in &[
        (1, 5, 5),
        (3, 7, 6),
        (64, 6, 6),
        (70, 5, 4),
        (130, 3, 3),
        (16, 1, 1),
    ] {
        for &(kh, kw, stride) in &[(2, 2, 2), (3, 3, 2), (3, 3, 1), (h, w, 1), (1, 1, 1)] {
            if h < kh || w < kw {
                continue;
            }
            let s = AvgShape {
                c,
                h,
                w,
                kh,
                kw,
                stride,
            };
            let (oh, ow, n) = (s.out_h(), s.out_w(), s.output_len());
            let x: Vec<i32> = (0..s.input_len()).map(|_| rng.int(-128, 127)).collect();
            let zp = rng.int(-40, 40);
            let q = AvgQuant {
                x_scale: 0.0123 + rng.int(0, 100) as f32 * 1e-4,
                x_zero_point: zp,
                y_scale: 0.0123 + rng.int(0, 100) as f32 * 1e-4,
                y_zero_point: zp,
                qmin: -128,
                qmax: 127,
            };
            let mut want = vec![0i32; n];
            refk::qlinear_avgpool(&s, &q, &x, &mut want);
            let u: Vec<u8> = x.iter().map(|&v| (v + 128) as u8).collect();
            let back = through_nhwc(&u, [c, h, w], [oh, ow], 7, |xn, o| {
                avgpool_nhwc_i8(&s, &q, xn, o)
            });
            let back: Vec<i32> = back.iter().map(|&v| v as i32 - 128).collect();
            assert_eq!(back, want, "int8 {s:?}");

            let xf: Vec<f32> = x.iter().map(|&v| v as f32 * 0.37).collect();
            let mut wf = vec![0f32; n];
            refk::avgpool(&s, &xf, &mut wf);
            let bf = through_nhwc(&xf, [c, h, w], [oh, ow], f32::NAN, |xn, o| {
                avgpool_nhwc_f32(&s, xn, o)
            });
            // The same sums in the same order: equal to the bit.
            assert_eq!(bf, wf, "fp32 {s:?}");
        }
    }
}

#[test]
fn input_quantization_matches_quantize_value() {
    let mut rng = Rng(5);
    // Ties (k + 0.5)·s, values beyond the grid, and ordinary ones; lengths off the 8-lane step.
    let s = 0.25f32;
    let x: Vec<f32> = (0..203)
        .map(|i| match i % 3 {
            0 => (rng.int(-300, 300) as f32 + 0.5) * s,
            1 => rng.f32_int(-100, 100),
            _ => rng.int(-4000, 4000) as f32 / 97.0,
        })
        .collect();
    for (zp, qmin, qmax) in [
        (0, -128, 127),
        (-128, -128, 127),
        (17, -8, 7),
        (127, -128, 127),
    ] {
        let mut got = vec![0u8; x.len()];
        int8::quantize_u8(&x, s, zp, qmin, qmax, &mut got);
        let want: Vec<u8> = x
            .iter()
            .map(|&v| (quantlab::quant::linear::quantize_value(v, s, zp, qmin, qmax) + 128) as u8)
            .collect();
        assert_eq!(got, want, "z={zp} [{qmin}, {qmax}]");
    }
}

#[test]
fn probe_classifies_the_known_behaviours() {
    // What each behaviour gives for the probe's vectors (4 products per lane).
    let unsigned = |a: i8, b: u8| 4 * a as i32 * b as i32;
    let signed = |a: i8, b: u8| 4 * a as i32 * b as i8 as i32;
    let saturating = |a: i8, b: u8| 2 * (2 * a as i32 * b as i32).clamp(-32768, 32767);
    let run = |f: &dyn Fn(i8, u8) -> i32| probe::classify(probe::CASES.map(|(a, b)| f(a, b)));
    assert_eq!(run(&unsigned), DotBehaviour::Usdot);
    assert_eq!(run(&signed), DotBehaviour::Sdot);
    assert_eq!(run(&saturating), DotBehaviour::Other);
    // The int16 dot: 2 products per lane, pmaddubsw (unsigned b, saturating) and ARM (signed b).
    let pmaddubsw = |a: i8, b: u8| (2 * a as i32 * b as i32).clamp(-32768, 32767);
    let signed16 = |a: i8, b: u8| (2 * a as i32 * b as i8 as i32).clamp(-32768, 32767);
    let pairs =
        |f: &dyn Fn(i8, u8) -> i32| probe::classify_pairs(probe::PAIR_CASES.map(|(a, b)| f(a, b)));
    assert_eq!(pairs(&pmaddubsw), PairBehaviour::Unsigned);
    assert_eq!(pairs(&signed16), PairBehaviour::Signed);
    assert_eq!(pairs(&|a, b| pmaddubsw(a, b) / 2), PairBehaviour::Other);
}

#[test]
fn the_table_selects_and_refuses_by_name() {
    let (i, f) = table::select(Some("portable"), Some("portable")).unwrap();
    assert_eq!((i, f), (Int8Kernel::Portable, F32Kernel::Portable));
    assert_eq!(table::int8(), Int8Kernel::Portable);
    let e = table::select(Some("nope"), None).unwrap_err();
    assert!(e.to_string().contains("unknown kernel 'nope'"), "{e}");
    if !Int8Kernel::Usdot.usable() {
        let e = table::select(Some("usdot"), None).unwrap_err();
        assert!(e.to_string().contains("'usdot'"), "{e}");
    }
    let (i, f) = table::select(Some("auto"), Some("auto")).unwrap();
    assert_eq!((i, f), (Int8Kernel::best(), F32Kernel::best()));
    assert!(
        table::available::<Int8Kernel>().contains(&i)
            && table::available::<F32Kernel>().contains(&f)
    );
}
