//! Training in the core (`quantlab::train`): quantization-aware training beats post-training
//! quantization, native runs match the committed fingerprint that the wasm test checks too, and
//! bad settings are refused with errors that name them. (Gradient checks: `src/train/net.rs`.)
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::qat_run;
use quantlab::model::digits::Digits;
use quantlab::model::{eval, int8, Model};
use quantlab::train::qat::{Qat, QatOptions};

fn accuracy(m: &Model, cal: &int8::Calibration, cfg: &int8::QuantConfig, test: &Digits) -> f64 {
    let q = int8::quantize_model(m, cal, cfg).unwrap();
    let x = eval::images(m, test).unwrap();
    let p = eval::predict_int8(&q, &x, test.len()).unwrap();
    100.0 * p.iter().zip(&test.labels).filter(|(a, b)| a == b).count() as f64 / test.len() as f64
}

fn config(w: u32, a: u32) -> int8::QuantConfig {
    int8::QuantConfig {
        weight_bits: w,
        act_bits: a,
        ..Default::default()
    }
}

#[test]
fn fingerprint_after_a_fixed_run_is_the_committed_one() {
    let model = common::baseline();
    let calib = Digits::parse(common::CALIB).unwrap();
    let cal_x = eval::images(&model, &calib).unwrap();
    let n = qat_run::CAL_IMAGES;
    let opts = QatOptions {
        steps: qat_run::STEPS,
        batch: qat_run::BATCH,
        seed: qat_run::SEED,
        ..Default::default()
    };
    let cfg = config(qat_run::BITS, qat_run::BITS);
    let mut q = Qat::new(&model, &cfg, &calib, &cal_x[..n * 1024], n, opts).unwrap();
    q.run(100).unwrap();
    assert!(q.done());
    let got = format!("{:016x}", quantlab::train::fingerprint(&q.model));
    assert_eq!(got, qat_run::FINGERPRINT.trim());
}

/// 3-bit weights and activations, per channel, min-max observers: a short fine-tuning (200 steps
/// of 32, fixed seed) on the training digits beats post-training quantization on the 2,000 test
/// digits by more than two points, on the integer path with the ranges QAT learned.
#[test]
fn qat_beats_post_training_at_3_bits() {
    let model = common::baseline();
    let calib = Digits::parse(common::CALIB).unwrap();
    let test = Digits::parse(include_bytes!("../www/data/digits-test.bin")).unwrap();
    let train = common::train_digits();
    assert_eq!(train.len(), 8000);
    let cal_x = eval::images(&model, &calib).unwrap();
    let cfg = config(3, 3);
    let cal = int8::calibrate(&model, &cal_x, calib.len()).unwrap();
    let ptq = accuracy(&model, &cal, &cfg, &test);
    let opts = QatOptions {
        steps: 200,
        ..Default::default()
    };
    let mut q = Qat::new(&model, &cfg, &train, &cal_x, calib.len(), opts).unwrap();
    q.run(200).unwrap();
    let cal_q = int8::calibrate(&q.model, &cal_x, calib.len())
        .unwrap()
        .with_ranges(q.ranges())
        .unwrap();
    let qat = accuracy(&q.model, &cal_q, &cfg, &test);
    eprintln!("3/3 bits: post-training {ptq:.2} %, QAT (200 steps) {qat:.2} %");
    assert!((ptq - 93.3).abs() < 0.01, "post-training {ptq}");
    assert!(qat > ptq + 2.0, "QAT {qat} vs post-training {ptq}");
}

#[test]
fn bad_settings_are_refused_with_their_names() {
    let model = common::baseline();
    let calib = Digits::parse(common::CALIB).unwrap();
    let cal_x = eval::images(&model, &calib).unwrap();
    let err = |cfg: &int8::QuantConfig, o: QatOptions| {
        Qat::new(&model, cfg, &calib, &cal_x[..8 * 1024], 8, o)
            .unwrap_err()
            .to_string()
    };
    let d = QatOptions::default;
    let fp16 = int8::QuantConfig {
        format: Some(int8::FloatFormat::F16),
        ..config(8, 8)
    };
    assert!(err(&fp16, d()).contains("config.format"));
    let dynamic = int8::QuantConfig {
        dynamic: true,
        ..config(4, 8)
    };
    assert!(err(&dynamic, d()).contains("config.method"));
    assert!(err(&config(3, 3), QatOptions { steps: 0, ..d() }).starts_with("steps"));
    assert!(err(
        &config(3, 3),
        QatOptions {
            lr: f32::NAN,
            ..d()
        }
    )
    .starts_with("lr"));
    assert!(err(&config(3, 3), QatOptions { batch: 0, ..d() }).starts_with("batch"));
    let e = Qat::new(&model, &config(3, 3), &calib, &cal_x[..1000], 1, d())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("calibration"), "{e}");
    // A 28x28 digit set cannot feed a model whose input is smaller.
    let mut small = model.clone();
    small.input = [1, 20, 20];
    let e = Qat::new(&small, &config(3, 3), &calib, &vec![0.0; 400], 1, d())
        .unwrap_err()
        .to_string();
    assert!(!e.is_empty());
}

/// The before/after views of a run: where the weights sit on the grid, and how many integer weights moved.
#[test]
fn weight_grid_and_levels_changed_describe_the_run() {
    use quantlab::train::qat::{grid_histogram, levels_changed};
    let model = common::baseline();
    let calib = Digits::parse(common::CALIB).unwrap();
    let cal_x = eval::images(&model, &calib).unwrap();
    let cfg = config(3, 3);
    let opts = QatOptions {
        steps: 4,
        batch: 8,
        ..Default::default()
    };
    let mut q = Qat::new(&model, &cfg, &calib, &cal_x[..16 * 1024], 16, opts).unwrap();
    assert_eq!(levels_changed(&q.initial, &q.model, &cfg, 3).unwrap(), 0.0);
    q.run(4).unwrap();
    let moved = levels_changed(&q.initial, &q.model, &cfg, 3).unwrap();
    assert!(moved > 0.0 && moved < 0.5, "{moved}");
    let g = grid_histogram(&q.model, &cfg, 3, 8).unwrap();
    assert_eq!((g.lo, g.hi, g.counts.len()), (-3.5, 3.5, 56));
    assert_eq!(g.counts.iter().sum::<u32>() as usize, 64 * 32 * 9);
    assert!(g.near_fraction > 0.1 && g.near_fraction < 0.4);
    assert!(grid_histogram(&q.model, &cfg, 1, 8)
        .unwrap_err()
        .to_string()
        .starts_with("layer"));
    assert!(grid_histogram(&q.model, &cfg, 3, 0)
        .unwrap_err()
        .to_string()
        .starts_with("binsPerStep"));
}
