//! float16 / bfloat16 rounding against onnxruntime 1.32's ONNX Cast, bit for bit
//! (tests/golden/float_formats.json, from scripts/golden/make_golden_ort132.py).
use quantlab::quant::float::{round_to_bf16, round_to_f16};
use serde_json::Value;

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/float_formats.json")).unwrap()
}

fn bits(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u32)
        .collect()
}

fn check(name: &str, round: fn(f32) -> f32) {
    let g = golden();
    let (x, want) = (bits(&g["x"]), bits(&g[name]));
    let mut wrong = Vec::new();
    for (&xb, &wb) in x.iter().zip(&want) {
        let (got, w) = (round(f32::from_bits(xb)), f32::from_bits(wb));
        let same = if w.is_nan() {
            got.is_nan()
        } else {
            got.to_bits() == wb
        };
        if !same {
            wrong.push(format!(
                "{:e} ({xb:#010x}): got {got:e}, onnxruntime {w:e}",
                f32::from_bits(xb)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{name}: {} of {} differ, e.g. {:?}",
        wrong.len(),
        x.len(),
        &wrong[..wrong.len().min(5)]
    );
}

#[test]
fn float16_rounding_matches_onnxruntime_cast() {
    assert_eq!(golden()["onnxruntime"], "1.32.0");
    check("float16", round_to_f16);
}

#[test]
fn bfloat16_rounding_matches_onnxruntime_cast() {
    check("bfloat16", round_to_bf16);
}

/// ONNX DynamicQuantizeLinear against onnxruntime 1.32 (tests/golden/dynamic_quantize.json):
/// scale bit for bit, zero point and every value. onnxruntime gives an infinite scale where the
/// range overflows float32; quantlab computes the same.
#[test]
fn dynamic_quantize_linear_matches_onnxruntime() {
    use quantlab::quant::linear::dynamic_quantize_linear;
    let g: Value = serde_json::from_str(include_str!("golden/dynamic_quantize.json")).unwrap();
    assert_eq!(g["onnxruntime"], "1.32.0");
    for (i, c) in g["cases"].as_array().unwrap().iter().enumerate() {
        let x: Vec<f32> = bits(&c["x"]).into_iter().map(f32::from_bits).collect();
        let (y, s, z) = dynamic_quantize_linear(&x).unwrap();
        let want_y: Vec<u8> = c["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(
            s.to_bits(),
            c["scale"].as_u64().unwrap() as u32,
            "case {i}: scale"
        );
        assert_eq!(
            z as u64,
            c["zeroPoint"].as_u64().unwrap(),
            "case {i}: zero point"
        );
        assert_eq!(y, want_y, "case {i}: values");
    }
    let e = dynamic_quantize_linear(&[1.0, f32::NAN]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x: element 1 is NaN: DynamicQuantizeLinear needs finite values"
    );
}
