//! The loader against the corpus in tests/models (made by scripts/make_model_files.py): good
//! files load (with the layer list inferred where the file has none), every bad file is refused
//! with a message holding the expected words.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use quantlab::model::file::load_with_note;

fn manifest() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/models/manifest.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/models/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn good_files_load() {
    let m = manifest();
    let baseline = common::baseline();
    for g in m["good"].as_array().unwrap() {
        let file = g["file"].as_str().unwrap();
        let (model, note) = load_with_note(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let says = |what: &str| note.as_deref().is_some_and(|n| n.contains(what));
        assert_eq!(
            says("inferred"),
            g["inferred"].as_bool().unwrap(),
            "{file}: {note:?}"
        );
        if let Some(folded) = g["folded"].as_str() {
            assert!(says(folded), "{file}: the note {note:?} says {folded:?}");
            assert!(says("per-channel weight ranges"), "{file}: {note:?}");
        }
        // A BatchNorm that cannot fold: its own layer, named after it, a diagonal 1×1 conv.
        if let Some(alone) = g["standalone"].as_str() {
            assert!(says(alone), "{file}: the note {note:?} says {alone:?}");
            let bn = alone.split(' ').next().unwrap();
            assert!(model
                .layers
                .iter()
                .any(|l| l.name() == bn && l.kind() == "conv2d"));
        }
        if [
            "good/sequential.safetensors",
            "good/named-no-layers.safetensors",
            "good/float16.safetensors",
        ]
        .contains(&file)
        {
            assert_eq!(model.input, baseline.input, "{file}");
            assert_eq!(
                model.layers.iter().map(|l| l.kind()).collect::<Vec<_>>(),
                baseline.layers.iter().map(|l| l.kind()).collect::<Vec<_>>(),
                "{file}: {note:?}"
            );
        }
        // The float64 reference (BatchNorm applied, not folded) within 1e-4 relative.
        if let Some(l) = g.get("logits") {
            let x: Vec<f32> = l["input"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let want: Vec<f64> = l["expect"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let got = quantlab::model::fp32::forward(&model, &x, 1).unwrap();
            assert_eq!(got.len(), want.len(), "{file}");
            let scale = want.iter().fold(0f64, |a, v| a.max(v.abs()));
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (*g as f64 - w).abs() <= 1e-4 * scale,
                    "{file}: {got:?} vs {want:?}"
                );
            }
            // Folded, it quantizes like any conv: per channel at 8 bits, close to the float model.
            let cal = quantlab::model::int8::calibrate(&model, &x, 1).unwrap();
            let q =
                quantlab::model::int8::quantize_model(&model, &cal, &Default::default()).unwrap();
            let qy = q.forward(&x, 1).unwrap();
            let (sig, err) = got.iter().zip(&qy).fold((0f64, 0f64), |(s, e), (a, b)| {
                (s + (*a as f64).powi(2), e + ((a - b) as f64).powi(2))
            });
            assert!(
                10.0 * (sig / err.max(1e-30)).log10() >= 20.0,
                "{file}: INT8 logits {qy:?} vs {got:?}"
            );
        }
        // Dropout is identity at inference: the model has no layer for it.
        assert!(model.layers.len() <= 8, "{file}");
    }
}

#[test]
fn bad_files_are_refused_with_a_clear_message() {
    let m = manifest();
    let bad = m["bad"].as_array().unwrap();
    assert!(bad.len() >= 20);
    for b in bad {
        let file = b["file"].as_str().unwrap();
        let err = load_with_note(&read(file))
            .err()
            .unwrap_or_else(|| panic!("{file} loaded"));
        let msg = err.to_string();
        assert!(
            msg.contains(b["expect"].as_str().unwrap()),
            "{file}: message {msg:?} lacks {:?}",
            b["expect"]
        );
    }
}

/// The shipped CNN written with a BatchNorm after each conv (`make_model_files.py` unfolds the
/// trained weights): folding at load gives back the trained weights to float32 rounding, the float
/// model its accuracy, and per-channel 8-bit quantization loses at most half a point.
#[test]
fn a_batchnorm_model_folds_back_to_the_trained_weights() {
    use quantlab::model::{digits::Digits, eval, int8, Layer};
    let (model, note) = load_with_note(&read("good/bn-baseline.safetensors")).unwrap();
    let note = note.unwrap();
    assert!(
        note.contains("1 folded into 0") && note.contains("5 folded into 4"),
        "{note}"
    );
    let baseline = common::baseline();
    for (a, b) in model.layers.iter().zip(&baseline.layers) {
        if let (Layer::Conv2d(a), Layer::Conv2d(b)) = (a, b) {
            let scale = b.weight.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (x, y) in a
                .weight
                .iter()
                .zip(&b.weight)
                .chain(a.bias.iter().zip(&b.bias))
            {
                assert!((x - y).abs() <= 1e-5 * scale, "{}: {x} vs {y}", a.name);
            }
        }
    }
    let test = Digits::parse(include_bytes!("../www/data/digits-test.bin")).unwrap();
    let calib = Digits::parse(common::CALIB).unwrap();
    let x = eval::images(&model, &test).unwrap();
    let acc = |p: &[u8]| {
        p.iter().zip(&test.labels).filter(|(a, b)| a == b).count() as f64 / test.len() as f64
    };
    let fp32 = acc(&eval::predict_fp32(&model, &x, test.len()).unwrap());
    let cal = int8::calibrate(&model, &eval::images(&model, &calib).unwrap(), calib.len()).unwrap();
    let q = int8::quantize_model(&model, &cal, &Default::default()).unwrap();
    let int8 = acc(&eval::predict_int8(&q, &x, test.len()).unwrap());
    assert!((fp32 - 0.9855).abs() <= 0.001, "fp32 {fp32}");
    assert!(fp32 - int8 <= 0.005, "fp32 {fp32}, int8 {int8}");
}
