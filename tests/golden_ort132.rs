//! The ops onnxruntime 1.32 changed or added, against onnxruntime 1.32 itself: compute_scale_zp
//! (float64 range width), blocked QuantizeLinear / DequantizeLinear (opset 21), QLinearConv with
//! unequal pads and batched, broadcast QLinearMatMul. Vectors from
//! `scripts/golden/make_golden_ort132.py` (rerun by hand: `make golden`).
#![cfg(not(target_arch = "wasm32"))]

use quantlab::api::{qlinear_conv, qlinear_matmul};
use quantlab::quant::linear::{dequantize_linear, quantize_linear, OpLayout};
use quantlab::quant::params::compute_scale_zp;
use serde_json::Value;

mod common;
use common::qlinear::{assert_matches, ConvCase, MatMulCase};
use common::{dtype, f32s, ints, params, usizes};

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

/// A blocked case's options: its shape, axis and block size.
fn op_layout<'a>(c: &Value, shape: &'a [usize]) -> OpLayout<'a> {
    OpLayout {
        shape: Some(shape),
        axis: c["axis"].as_i64(),
        block_size: Some(c["block_size"].as_u64().unwrap() as usize),
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
        let o = op_layout(c, &shape);
        let y = quantize_linear(&f32s(&c["x_bits"]), params(c), dtype(&c["dtype"]), o)
            .unwrap_or_else(|e| panic!("{}: {e}", c["name"]));
        assert_eq!(y, ints(&c["y"]), "case {}", c["name"]);
    }
    for c in d {
        let shape = usizes(&c["shape"]);
        let o = op_layout(c, &shape);
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
        let case = ConvCase::new(c);
        assert!(
            case.pads.iter().any(|&p| p != case.pads[0]),
            "{}: unequal pads",
            case.name
        );
        let out = qlinear_conv(&case.args()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_matches(&out, c);
    }
}

#[test]
fn batched_qlinear_matmul_matches_onnxruntime_132() {
    let g = load(include_str!("golden/qlinear_132.json"));
    let cases = g["qlinearmatmul"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let case = MatMulCase::new(c);
        let out = qlinear_matmul(&case.args()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_matches(&out, c);
    }
}

/// Strided QLinearConv (3×3/2 with padding 1, 5×5/2, 2×2/2, 1×1/2, 3×3/3; uint8 and int8; per tensor
/// and per channel): the API's reference against onnxruntime 1.32, and, for int8 inputs with equal
/// pads, every int8 kernel-table entry this build runs, bit for bit.
#[test]
fn strided_qlinear_conv_matches_onnxruntime_132() {
    use quantlab::kernels::{table, Int8Kernel};
    let g = load(include_str!("golden/qlinear_strided_132.json"));
    let cases = g["qlinearconv"].as_array().unwrap();
    assert!(cases.len() >= 8);
    let mut fast = 0;
    for c in cases {
        let case = ConvCase::new(c);
        assert!(case.stride >= 2, "{}", case.name);
        let args = case.args();
        let out = qlinear_conv(&args).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_matches(&out, c);
        for kern in table::available::<Int8Kernel>() {
            let Some(y) = case.fast_y(kern) else { break };
            assert_eq!(
                y,
                ints(&c["y"]),
                "{} with {}",
                case.name,
                quantlab::kernels::Entry::name(kern)
            );
            fast += 1;
        }
    }
    assert!(fast >= 3, "{fast} kernel runs");
}

/// QLinearAveragePool and QLinearGlobalAveragePool: the reference on both dtypes, the model's
/// NHWC int8 kernel on the int8 cases, against onnxruntime 1.32 to the bit.
#[test]
fn average_pools_match_onnxruntime_132() {
    use quantlab::kernels::{avgpool_nhwc_i8, reference, AvgQuant, AvgShape};
    let g = load(include_str!("golden/qlinear_pool_132.json"));
    let cases = g["pool"].as_array().unwrap();
    assert!(cases.len() >= 17);
    let (mut fast, mut global, mut window) = (0, 0, 0);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let [n, ch, h, w] = usizes(&c["x_shape"])[..] else {
            panic!("{name}")
        };
        let [kh, kw] = usizes(&c["kernel"])[..] else {
            panic!("{name}")
        };
        let shape = AvgShape {
            c: ch,
            h,
            w,
            kh,
            kw,
            stride: c["stride"].as_u64().unwrap() as usize,
        };
        let signed = c["dtype"] == "int8";
        let (qmin, qmax) = if signed { (-128, 127) } else { (0, 255) };
        let quant = AvgQuant {
            x_scale: f32s(&serde_json::json!([c["x_scale_bits"]]))[0],
            x_zero_point: c["x_zero_point"].as_i64().unwrap() as i32,
            y_scale: f32s(&serde_json::json!([c["y_scale_bits"]]))[0],
            y_zero_point: c["y_zero_point"].as_i64().unwrap() as i32,
            qmin,
            qmax,
        };
        let (x, want) = (ints(&c["x"]), ints(&c["y"]));
        let (inp, outp) = (shape.input_len(), shape.output_len());
        assert_eq!(want.len(), n * outp, "{name}");
        for img in 0..n {
            let xi = &x[img * inp..][..inp];
            let wi = &want[img * outp..][..outp];
            let mut got = vec![0; outp];
            reference::qlinear_avgpool(&shape, &quant, xi, &mut got);
            assert_eq!(got, wi, "{name} image {img} (reference)");
            if signed {
                let u: Vec<u8> = xi.iter().map(|&q| (q + 128) as u8).collect();
                let o = common::through_nhwc(
                    &u,
                    [ch, h, w],
                    [shape.out_h(), shape.out_w()],
                    0,
                    |xn, o| avgpool_nhwc_i8(&shape, &quant, xn, o),
                );
                let o: Vec<i32> = o.iter().map(|&v| v as i32 - 128).collect();
                assert_eq!(o, wi, "{name} image {img} (NHWC kernel)");
                fast += 1;
            }
        }
        if shape.is_global() {
            global += 1
        } else {
            window += 1
        }
    }
    assert!(
        fast >= 12 && global >= 6 && window >= 6,
        "{fast} {global} {window}"
    );
}
