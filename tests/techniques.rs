//! The techniques beyond round-to-nearest on the shipped model, with the targets:
//! GPTQ, group-wise scales, cross-layer equalization, bias correction, dynamic activations and
//! the QDQ path. `cargo test --release --test techniques -- --nocapture` prints the table.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use quantlab::model::digits::Digits;
use quantlab::model::eval::{images, predict_int8};
use quantlab::model::int8::{
    calibrate, quantize_model, Calibration, Deployed, QuantConfig, Rounding,
};
use quantlab::model::Model;
use std::sync::OnceLock;

struct Fixture {
    model: Model,
    cal: Calibration,
    x: Vec<f32>,
    labels: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let model = common::baseline();
        let calib = Digits::parse(include_bytes!("../www/data/digits-calib.bin")).unwrap();
        let test = Digits::parse(include_bytes!("../www/data/digits-test.bin")).unwrap();
        let xc = images(&model, &calib).unwrap();
        let cal = calibrate(&model, &xc, calib.len()).unwrap();
        let x = images(&model, &test).unwrap();
        Fixture {
            labels: test.labels.clone(),
            model,
            cal,
            x,
        }
    })
}

/// INT8-path accuracy (percent) on the 2,000 test digits.
fn acc(c: &QuantConfig) -> f64 {
    let f = fixture();
    let q = quantize_model(&f.model, &f.cal, c).unwrap();
    let p = predict_int8(&q, &f.x, f.labels.len()).unwrap();
    100.0 * p.iter().zip(&f.labels).filter(|(a, b)| a == b).count() as f64 / f.labels.len() as f64
}

fn w(bits: u32, per_channel: bool) -> QuantConfig {
    QuantConfig {
        weight_bits: bits,
        act_bits: 8,
        per_channel,
        ..QuantConfig::default()
    }
}

#[test]
fn gptq_and_group_wise_at_3_bits() {
    let fp32 = 98.55;
    let t = acc(&w(3, false));
    let ch = acc(&w(3, true));
    let g32 = acc(&QuantConfig {
        group_size: Some(32),
        ..w(3, true)
    });
    let gptq = |c: QuantConfig| {
        acc(&QuantConfig {
            rounding: Rounding::Gptq,
            ..c
        })
    };
    let (tq, chq, g32q) = (
        gptq(w(3, false)),
        gptq(w(3, true)),
        gptq(QuantConfig {
            group_size: Some(32),
            ..w(3, true)
        }),
    );
    println!("3-bit weights, 8-bit activations (fp32 {fp32}):");
    println!("  per tensor   nearest {t:.2}  gptq {tq:.2}");
    println!("  per channel  nearest {ch:.2}  gptq {chq:.2}");
    println!("  group 32     nearest {g32:.2}  gptq {g32q:.2}");
    assert!(
        tq >= t && chq >= ch && g32q >= g32,
        "GPTQ never loses to nearest"
    );
    assert!(
        tq - t >= (fp32 - t) / 2.0,
        "GPTQ recovers at least half the per-tensor loss"
    );
    assert!(g32 >= ch, "group 32 at least as accurate as per channel");
}

#[test]
fn equalization_and_bias_correction_at_4_bit_per_tensor() {
    let plain = acc(&w(4, false));
    let eq = acc(&QuantConfig {
        equalize: true,
        ..w(4, false)
    });
    let bc = acc(&QuantConfig {
        bias_correction: true,
        ..w(4, false)
    });
    let both = acc(&QuantConfig {
        equalize: true,
        bias_correction: true,
        ..w(4, false)
    });
    println!(
        "4-bit per-tensor weights: plain {plain:.2}  CLE {eq:.2}  BC {bc:.2}  CLE+BC {both:.2}"
    );
    assert!(both >= plain);
}

#[test]
fn qdq_path_agrees_with_the_integer_path_and_dynamic_runs() {
    let f = fixture();
    let int8 = acc(&w(8, true));
    let dynamic = acc(&QuantConfig {
        dynamic: true,
        ..w(8, true)
    });
    // One group spanning a whole row is per-channel, run as QDQ.
    let whole = QuantConfig {
        group_size: Some(2304),
        ..w(8, true)
    };
    assert_eq!(
        quantize_model(&f.model, &f.cal, &whole).unwrap().deployed(),
        Deployed::Qdq
    );
    let qdq = acc(&whole);
    println!("8 bits: integer {int8:.2}  QDQ (per-row groups) {qdq:.2}  dynamic {dynamic:.2}");
    assert!((int8 - qdq).abs() <= 0.3 && (int8 - dynamic).abs() <= 0.5);
}

#[test]
fn a_qdq_model_is_timed_as_the_qdq_graph_not_as_int8() {
    use quantlab::model::eval::Path;
    use quantlab::model::timing::{time_quantized, Request};
    let f = fixture();
    let clock = {
        let t0 = std::time::Instant::now();
        move || t0.elapsed().as_secs_f64() * 1e3
    };
    let r = Request {
        x: &f.x[..4 * 1024],
        n: 4,
        samples: 3,
        reps: 1,
        profile_runs: 1,
    };
    let group = quantize_model(
        &f.model,
        &f.cal,
        &QuantConfig {
            group_size: Some(32),
            ..w(4, true)
        },
    )
    .unwrap();
    let t = time_quantized(&group, Path::Int8, &r, &clock).unwrap();
    assert_eq!(t.path, "qdq");
    assert!(t.kernel.starts_with("gemm_f32"), "{}", t.kernel);
    assert!(t.steps.is_empty());
    let int = quantize_model(&f.model, &f.cal, &w(4, true)).unwrap();
    let t = time_quantized(&int, Path::Int8, &r, &clock).unwrap();
    assert_eq!(t.path, "int8");
    assert!(t.kernel.starts_with("gemm_int8"), "{}", t.kernel);
}
