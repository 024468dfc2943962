//! The laws of affine quantization, as property tests (fixed seed through proptest's config file
//! regressions) and exhaustive checks where the domain is small.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use quantlab::api::{choose_quant_params, QuantOptions};
use quantlab::quant::calibrate::Method;
use quantlab::quant::linear::{dequantize_value, quantize_linear, quantize_value, OpLayout};
use quantlab::quant::params::compute_scale_zp;
use quantlab::quant::{Dtype, Grid, QuantParams, Scheme};

fn grids() -> impl Strategy<Value = Grid> {
    (
        prop_oneof![Just(Dtype::Int8), Just(Dtype::Uint8)],
        2u32..=8,
        prop_oneof![Just(Scheme::Symmetric), Just(Scheme::Asymmetric)],
    )
        .prop_map(|(d, b, s)| Grid::new(d, b, s).unwrap())
}

fn finite() -> impl Strategy<Value = f32> {
    prop_oneof![-1e3f32..1e3, -1.0f32..1.0, -1e-3f32..1e-3]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Inside the representable range the error is at most s/2; beyond it values saturate.
    #[test]
    fn error_within_half_step_or_saturated(x in prop::collection::vec(finite(), 1..64), grid in grids(), shrink in 0.05f32..1.0) {
        let lo = x.iter().cloned().fold(f32::INFINITY, f32::min) * shrink;
        let hi = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max) * shrink;
        let (qmin, qmax) = grid.qrange();
        let (s, z) = compute_scale_zp(lo, hi, qmin, qmax, grid.symmetric()).unwrap();
        prop_assert!(s > 0.0 && (qmin..=qmax).contains(&z));
        for &v in &x {
            let q = quantize_value(v, s, z, qmin, qmax);
            prop_assert!((qmin..=qmax).contains(&q));
            let r = dequantize_value(q, s, z);
            let (low, high) = (dequantize_value(qmin, s, z), dequantize_value(qmax, s, z));
            if v >= low && v <= high {
                // s/2 plus float32 rounding of the division and the product.
                prop_assert!((v - r).abs() <= s / 2.0 * (1.0 + 1e-5) + v.abs() * 1e-6, "v={v} r={r} s={s}");
            } else if v < low {
                prop_assert_eq!(q, qmin);
            } else {
                prop_assert_eq!(q, qmax);
            }
        }
    }

    /// Real zero is exactly representable: quantize(0) = z and dequantize(z) = 0.
    #[test]
    fn zero_is_exact(lo in -1e4f32..1e4, width in 0f32..1e4, grid in grids()) {
        let (qmin, qmax) = grid.qrange();
        let (s, z) = compute_scale_zp(lo, lo + width, qmin, qmax, grid.symmetric()).unwrap();
        prop_assert_eq!(quantize_value(0.0, s, z, qmin, qmax), z);
        prop_assert_eq!(dequantize_value(z, s, z), 0.0);
    }

    /// Quantizing is monotone (non-decreasing).
    #[test]
    fn monotone(a in finite(), b in finite(), s in 1e-4f32..10.0, z in -128i32..=127) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(quantize_value(a, s, z, -128, 127) <= quantize_value(b, s, z, -128, 127));
    }

    /// Per-channel quantization equals per-tensor quantization of each slice.
    #[test]
    fn per_channel_equals_per_tensor_slices(c in 1usize..5, inner in 1usize..7, outer in 1usize..3, seed in any::<u64>()) {
        let n = outer * c * inner;
        let mut r = seed;
        let x: Vec<f32> = (0..n).map(|_| { r = r.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((r >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * (1 + (r % 7)) as f32 }).collect();
        let scales: Vec<f32> = (0..c).map(|i| 0.01 * (i + 1) as f32).collect();
        let zps: Vec<i32> = (0..c).map(|i| i as i32 * 3 - 4).collect();
        let shape = [outer, c, inner];
        let y = quantize_linear(&x, QuantParams { scale: scales.clone(), zero_point: zps.clone(), axis: None }, Dtype::Int8, OpLayout::axis(Some(&shape), Some(1))).unwrap();
        for o in 0..outer {
            for ch in 0..c {
                let off = (o * c + ch) * inner;
                let slice = &x[off..off + inner];
                let want = quantize_linear(slice, QuantParams::per_tensor(scales[ch], zps[ch]), Dtype::Int8, OpLayout::default()).unwrap();
                prop_assert_eq!(&y[off..off + inner], &want[..]);
            }
        }
    }

    /// ONNX blocked quantization: one block spanning the whole axis is per-axis quantization
    /// with the axis's index dropped (scale [outer, 1, inner] equals a per-tensor scale for each
    /// lane); and blocks of 1 are element-wise parameters.
    #[test]
    fn a_block_of_the_whole_axis_is_per_lane_and_blocks_of_one_are_per_element(
        outer in 1usize..3, d in 1usize..9, inner in 1usize..4, seed in any::<u64>()
    ) {
        let n = outer * d * inner;
        let mut r = seed;
        let mut next = || { r = r.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); r };
        let x: Vec<f32> = (0..n).map(|_| ((next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 3.0).collect();
        let shape = [outer, d, inner];
        let lanes = outer * inner;
        let scales: Vec<f32> = (0..lanes).map(|_| 0.005 + (next() % 100) as f32 * 0.001).collect();
        let zps: Vec<i32> = (0..lanes).map(|_| (next() % 21) as i32 - 10).collect();
        let params = |s: &[f32], z: &[i32]| QuantParams { scale: s.to_vec(), zero_point: z.to_vec(), axis: None };
        let whole = OpLayout { shape: Some(&shape), axis: Some(1), block_size: Some(d) };
        let y = quantize_linear(&x, params(&scales, &zps), Dtype::Int8, whole).unwrap();
        for o in 0..outer {
            for i in 0..inner {
                let lane = o * inner + i;
                for k in 0..d {
                    let e = (o * d + k) * inner + i;
                    prop_assert_eq!(y[e], quantize_value(x[e], scales[lane], zps[lane], -128, 127));
                }
            }
        }
        // Block size 1: the scale tensor is shaped like x.
        let s1: Vec<f32> = (0..n).map(|_| 0.005 + (next() % 100) as f32 * 0.001).collect();
        let z1: Vec<i32> = (0..n).map(|_| (next() % 21) as i32 - 10).collect();
        let ones = OpLayout { shape: Some(&shape), axis: Some(1), block_size: Some(1) };
        let y = quantize_linear(&x, params(&s1, &z1), Dtype::Int8, ones).unwrap();
        for e in 0..n {
            prop_assert_eq!(y[e], quantize_value(x[e], s1[e], z1[e], -128, 127));
        }
        // And the per-axis form of the same data: blocks of 1 along an axis of length d with
        // outer = inner = 1 is per-axis.
        let flat = [d];
        let per_axis = quantize_linear(&x[..d], params(&s1[..d], &z1[..d]), Dtype::Int8, OpLayout::axis(Some(&flat), Some(0))).unwrap();
        let blocked = quantize_linear(&x[..d], params(&s1[..d], &z1[..d]), Dtype::Int8, OpLayout { shape: Some(&flat), axis: Some(0), block_size: Some(1) }).unwrap();
        prop_assert_eq!(per_axis, blocked);
    }

    /// Min-max parameters keep every value of the data within s/2. They never clip, except that
    /// ORT's unsigned symmetric grid (z = 128, s = 2a/255) puts +a at 127.5 + 128, which rounds
    /// to 256 and saturates to 255: still within s/2.
    #[test]
    fn minmax_never_clips(x in prop::collection::vec(finite(), 1..200), grid in grids()) {
        let opts = QuantOptions { grid, method: Method::MinMax, shape: None, axis: None, block_size: None };
        let (p, _) = choose_quant_params(&x, &opts).unwrap();
        let (qmin, qmax) = grid.qrange();
        let (s, z) = (p.scale[0], p.zero_point[0]);
        for &v in &x {
            let r = (v / s).round_ties_even() + z as f32;
            if !(grid.dtype == Dtype::Uint8 && grid.symmetric()) {
                prop_assert!(r >= qmin as f32 && r <= qmax as f32, "v={v} r={r}");
            }
            let e = (v - dequantize_value(quantize_value(v, s, z, qmin, qmax), s, z)).abs();
            prop_assert!(e <= s / 2.0 * (1.0 + 1e-5) + v.abs() * 1e-6, "v={v} e={e} s={s}");
        }
    }

    /// Every method returns a range inside the data's [min, max] and valid parameters.
    #[test]
    fn methods_give_valid_params(x in prop::collection::vec(finite(), 1..300), grid in grids(), m in 0usize..4) {
        let method = [Method::MinMax, Method::Percentile(99.0), Method::Mse, Method::Entropy][m];
        let opts = QuantOptions { grid, method, shape: None, axis: None, block_size: None };
        let (p, _) = choose_quant_params(&x, &opts).unwrap();
        let (qmin, qmax) = grid.qrange();
        prop_assert!(p.scale[0] > 0.0 && p.scale[0].is_finite());
        prop_assert!((qmin..=qmax).contains(&p.zero_point[0]));
    }
}

/// All 256 int8 values survive dequantize -> quantize, for any scale.
#[test]
fn all_int8_values_round_trip() {
    for s in [1e-6f32, 0.003, 0.1, 1.0, 7.5, 1e6] {
        for z in [-128, -5, 0, 17, 127] {
            for q in -128..=127 {
                assert_eq!(
                    quantize_value(dequantize_value(q, s, z), s, z, -128, 127),
                    q,
                    "q={q} s={s} z={z}"
                );
            }
        }
    }
}

#[test]
fn all_uint8_values_round_trip() {
    for s in [0.002f32, 0.5, 3.0] {
        for z in [0, 128, 255] {
            for q in 0..=255 {
                assert_eq!(quantize_value(dequantize_value(q, s, z), s, z, 0, 255), q);
            }
        }
    }
}

#[test]
fn ties_round_to_even_not_away() {
    let q = |x: f32| quantize_value(x, 1.0, 0, -128, 127);
    assert_eq!(
        [q(0.5), q(1.5), q(2.5), q(-0.5), q(-1.5), q(-2.5)],
        [0, 2, 2, 0, -2, -2]
    );
}

#[test]
fn overflow_saturates() {
    assert_eq!(quantize_value(3e38, 1e-30, 0, -128, 127), 127);
    assert_eq!(quantize_value(-3e38, 1e-30, 3, -128, 127), -128);
    assert_eq!(quantize_value(f32::INFINITY, 1.0, 0, 0, 255), 255);
}

#[test]
fn symmetric_int8_uses_narrow_range_and_module_defect_a_is_fixed() {
    // Seed defect (a): s = 2·max/255 puts +max at 127.5 -> clipped. Ours: s = max/127, ±max -> ±127.
    let (s, z) = compute_scale_zp(-0.8, 0.8, -127, 127, true).unwrap();
    assert_eq!((s, z), (0.8f32 / 127.0, 0));
    assert_eq!(quantize_value(0.8, s, z, -127, 127), 127);
    assert_eq!(quantize_value(-0.8, s, z, -127, 127), -127);
}

#[test]
fn positive_range_is_widened_to_include_zero_defect_b() {
    // Seed defect (b): min > 0 clipped z; ORT widens to [0, max] and z = qmin.
    let (s, z) = compute_scale_zp(2.0, 6.0, -128, 127, false).unwrap();
    assert_eq!(z, -128);
    assert_eq!(s, (6.0f64 / 255.0) as f32);
}

#[test]
fn degenerate_range_gives_scale_one() {
    assert_eq!(compute_scale_zp(0.0, 0.0, 0, 255, false).unwrap(), (1.0, 0));
    assert_eq!(
        compute_scale_zp(0.0, 0.0, -127, 127, true).unwrap(),
        (1.0, 0)
    );
}

#[test]
fn bit_widths_give_narrow_symmetric_ranges() {
    for b in 2..=8 {
        let g = Grid::new(Dtype::Int8, b, Scheme::Symmetric).unwrap();
        let m = (1 << (b - 1)) - 1;
        assert_eq!(g.qrange(), (-m, m));
    }
    assert!(Grid::new(Dtype::Int8, 1, Scheme::Symmetric).is_err());
    assert!(Grid::new(Dtype::Int8, 9, Scheme::Symmetric).is_err());
}

#[test]
fn percentile_clips_outliers_and_mse_entropy_clip_less_than_minmax() {
    // 10,000 normal-ish values plus two huge outliers.
    let mut r = 12345u64;
    let mut x: Vec<f32> = (0..10_000)
        .map(|_| {
            let mut s = 0.0;
            for _ in 0..12 {
                r = r
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s += (r >> 40) as f32 / (1u64 << 24) as f32;
            }
            s - 6.0
        })
        .collect();
    x.push(40.0);
    x.push(-35.0);
    let scale = |bits, m| {
        let grid = Grid::new(Dtype::Int8, bits, Scheme::Symmetric).unwrap();
        choose_quant_params(
            &x,
            &QuantOptions {
                grid,
                method: m,
                shape: None,
                axis: None,
                block_size: None,
            },
        )
        .unwrap()
        .0
        .scale[0]
    };
    assert_eq!(scale(8, Method::MinMax), 40.0 / 127.0);
    for (bits, m) in [
        (8, Method::Percentile(99.9)),
        (8, Method::Entropy),
        (4, Method::Mse),
    ] {
        let (s, mm) = (scale(bits, m), scale(bits, Method::MinMax));
        assert!(
            s < mm / 3.0,
            "{m:?} at {bits} bits: scale {s} vs minmax {mm}"
        );
    }
    // At 8 bits two outliers cost more clipped (35², 30²) than 10,000 rounding errors of s²/12:
    // MSE rightly keeps (nearly) the full range.
    assert!(scale(8, Method::Mse) > scale(8, Method::MinMax) * 0.9);
}

#[test]
fn batching_does_not_change_minmax() {
    use quantlab::quant::calibrate::observer;
    let x: Vec<f32> = (0..1000)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.1)
        .collect();
    let g = Grid::int8_symmetric();
    let mut a = observer(Method::MinMax);
    a.observe(&x);
    let mut b = observer(Method::MinMax);
    x.chunks(7).for_each(|c| b.observe(c));
    assert_eq!(a.range(&g), b.range(&g));
}

#[test]
fn zero_fraction_counts_the_values_that_round_to_the_zero_point() {
    use quantlab::api::analyze_quantization;
    // 2-bit symmetric: q in [-1, 1] with s = 1, so |x| < 0.5 rounds to 0 (0.5 ties to even: 0).
    let opts = QuantOptions::new(Dtype::Int8, 2, Scheme::Symmetric, Method::MinMax).unwrap();
    let x = [0.0, 0.2, -0.4, 0.5, 0.6, -1.0, 3.0, -0.7];
    let a = analyze_quantization(&x, &opts, Some(QuantParams::per_tensor(1.0, 0)), 8, 0).unwrap();
    assert_eq!(a.zero_fraction, 4.0 / 8.0);
}

/// Every float16 and every bfloat16 value comes back unchanged (all 2 × 65,536 bit patterns).
#[test]
fn float16_and_bfloat16_rounding_is_exact_on_representable_values() {
    use quantlab::quant::float::{f16_to_f32, round_to_bf16, round_to_f16};
    for h in 0..=u16::MAX {
        let v = f16_to_f32(h);
        if !v.is_nan() {
            assert_eq!(round_to_f16(v).to_bits(), v.to_bits(), "float16 {h:#06x}");
        }
        let b = f32::from_bits((h as u32) << 16);
        if !b.is_nan() {
            assert_eq!(round_to_bf16(b).to_bits(), b.to_bits(), "bfloat16 {h:#06x}");
        }
    }
}

/// float16 rounding as its formula states it, in float64 where every step is exact: the
/// reference the branch-free bit version (`round_to_f16`) is checked against.
fn f16_by_formula(x: f32) -> f32 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let a = x.abs() as f64;
    if a >= 65520.0 {
        return f32::INFINITY.copysign(x);
    }
    let e = ((x.to_bits() >> 23) & 0xff) as i32 - 127;
    let q = 2f64.powi(if e < -14 { -24 } else { e - 10 });
    ((a / q).round_ties_even() * q).copysign(x as f64) as f32
}

/// The bit version equals the formula on every float32 near a float16 value or halfway between
/// two (each float16 bit pattern's neighbourhood, both signs), and on 4 M patterns spread over
/// all of float32 (NaNs stay NaN).
#[test]
fn float16_rounding_on_the_bits_equals_its_formula() {
    use quantlab::quant::float::{f16_to_f32, round_to_f16};
    let same = |b: u32| {
        let x = f32::from_bits(b);
        let (got, want) = (round_to_f16(x), f16_by_formula(x));
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{x:e} ({b:#010x}): {got:e}, formula {want:e}"
        );
    };
    for h in 0..=u16::MAX {
        let v = f16_to_f32(h);
        if v.is_finite() {
            // the value, and the values around it and around the midpoint to the next one
            let next = f16_to_f32(h.wrapping_add(1));
            let mid = if next.is_finite() && next.abs() > v.abs() {
                ((v as f64 + next as f64) / 2.0) as f32
            } else {
                v
            };
            for c in [v.to_bits(), mid.to_bits()] {
                for d in 0..=4u32 {
                    same(c.wrapping_add(d));
                    same(c.wrapping_sub(d));
                }
            }
        }
    }
    for b in (0..=u32::MAX).step_by(1021) {
        same(b);
    }
}

proptest! {
    /// Rounding to float16 / bfloat16 keeps order and is idempotent.
    #[test]
    fn float16_and_bfloat16_rounding_is_monotone_and_idempotent(a in any::<f32>(), b in any::<f32>()) {
        use quantlab::quant::float::{round_to_bf16, round_to_f16};
        prop_assume!(!a.is_nan() && !b.is_nan());
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        for round in [round_to_f16 as fn(f32) -> f32, round_to_bf16] {
            prop_assert!(round(lo) <= round(hi));
            prop_assert_eq!(round(round(a)).to_bits(), round(a).to_bits());
        }
    }
}

#[test]
fn quantize_linear_names_a_nan_by_its_index() {
    let e = quantize_linear(
        &[0.5, f32::NAN],
        QuantParams::per_tensor(1.0, 0),
        Dtype::Int8,
        OpLayout::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "x: element 1 is NaN: QuantizeLinear has no integer for it"
    );
    // Infinities saturate, as ONNX says.
    let q = quantize_linear(
        &[f32::INFINITY, f32::NEG_INFINITY],
        QuantParams::per_tensor(1.0, 0),
        Dtype::Int8,
        OpLayout::default(),
    )
    .unwrap();
    assert_eq!(q, vec![127, -128]);
}
