//! The shipped model: structure, float forward against the reference kernels, the int8 model
//! against a reference integer pipeline (bit for bit), and accuracy on the 2,000 test digits.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use quantlab::kernels::{reference as r, ConvShape};
use quantlab::model::digits::Digits;
use quantlab::model::eval::{images, predict_fp32, predict_int8, Evaluation};
use quantlab::model::int8::{calibrate, quantize_model, QModel, QStep, QuantConfig};
use quantlab::model::{file, fp32, Layer, Model};
use quantlab::quant::calibrate::Method;
use quantlab::quant::linear::quantize_value;
use std::sync::OnceLock;

fn model() -> Model {
    common::baseline()
}
fn test_digits() -> &'static Digits {
    static D: OnceLock<Digits> = OnceLock::new();
    D.get_or_init(|| Digits::parse(include_bytes!("../www/data/digits-test.bin")).unwrap())
}
fn calib_digits() -> &'static Digits {
    static D: OnceLock<Digits> = OnceLock::new();
    D.get_or_init(|| Digits::parse(include_bytes!("../www/data/digits-calib.bin")).unwrap())
}

fn quantized(config: &QuantConfig) -> QModel {
    quantized_of(&model(), config)
}

fn quantized_of(m: &Model, config: &QuantConfig) -> QModel {
    let x = images(m, calib_digits()).unwrap();
    let cal = calibrate(m, &x, calib_digits().len()).unwrap();
    quantize_model(m, &cal, config).unwrap()
}

#[test]
fn baseline_has_the_course_modules_layers() {
    let m = model();
    assert_eq!(m.input, [1, 32, 32]);
    let kinds: Vec<_> = m.layers.iter().map(|l| l.kind()).collect();
    assert_eq!(
        kinds,
        [
            "conv2d",
            "relu",
            "maxpool2d",
            "conv2d",
            "relu",
            "maxpool2d",
            "flatten",
            "linear"
        ]
    );
    let shapes = m.shapes().unwrap();
    assert_eq!(shapes[5], [64, 6, 6]);
    assert_eq!(shapes[7], [10, 1, 1]);
    assert_eq!(m.params(), 32 * 9 + 32 + 64 * 288 + 64 + 10 * 2304 + 10);
}

#[test]
fn save_and_load_round_trip() {
    let m = model();
    let bytes = file::save(&m, &[("note", "test")]).unwrap();
    assert_eq!(file::load(&bytes).unwrap(), m);
}

/// Float forward with the plain reference kernels.
fn forward_ref(m: &Model, x: &[f32]) -> Vec<f32> {
    let mut a = x.to_vec();
    let mut s = m.input;
    for (layer, next) in m.layers.iter().zip(m.shapes().unwrap()) {
        a = match layer {
            Layer::Conv2d(c) => {
                let cs = ConvShape {
                    c: c.c,
                    h: s[1],
                    w: s[2],
                    m: c.m,
                    k: c.k,
                    pad: c.padding,
                    stride: c.stride,
                };
                let mut o = vec![0.0; cs.m * cs.p()];
                r::conv2d_f32(&cs, &a, &c.weight, &c.bias, &mut o);
                o
            }
            Layer::Relu => a.iter().map(|v| v.max(0.0)).collect(),
            &Layer::MaxPool2d { k, stride } => {
                let mut o = vec![0.0; next.iter().product()];
                r::maxpool(s[0], s[1], s[2], k, stride, &a, &mut o);
                o
            }
            l @ (Layer::AvgPool2d { .. } | Layer::GlobalAvgPool) => {
                let p = l.avg_shape(s).unwrap();
                let mut o = vec![0.0; p.output_len()];
                r::avgpool(&p, &a, &mut o);
                o
            }
            Layer::Flatten => a,
            Layer::Linear(l) => {
                let mut o = vec![0.0; l.n_out];
                r::linear_f32(l.n_in, l.n_out, &a, &l.weight, &l.bias, &mut o);
                o
            }
        };
        s = next;
    }
    a
}

#[test]
fn fp32_forward_matches_reference() {
    let m = model();
    let x = images(&m, test_digits()).unwrap();
    let n = 20;
    let fast = fp32::forward(&m, &x[..n * 1024], n).unwrap();
    for i in 0..n {
        let want = forward_ref(&m, &x[i * 1024..][..1024]);
        for (a, b) in fast[i * 10..][..10].iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "image {i}: {a} vs {b}"
            );
        }
    }
}

/// The int8 pipeline with the reference integer kernels, from the quantized model's public
/// parameters: QuantizeLinear, exact accumulators, ORT requantization, integer max-pool.
fn forward_int8_ref(q: &QModel, x: &[f32]) -> Vec<i8> {
    let i = q.input;
    let mut a: Vec<i32> = x
        .iter()
        .map(|&v| quantize_value(v, i.scale, i.zero_point, i.qmin, i.qmax))
        .collect();
    let mut shape = q.input_shape;
    for step in &q.steps {
        match step {
            QStep::Layer(l) => {
                let s = if l.is_linear {
                    ConvShape {
                        c: l.shape.c,
                        h: 1,
                        w: 1,
                        m: l.shape.m,
                        k: 1,
                        pad: 0,
                        stride: 1,
                    }
                } else {
                    l.shape
                };
                let mut acc = vec![0; s.m * s.p()];
                let w: Vec<i32> = l.w_q.iter().map(|&v| v as i32).collect();
                r::conv2d_acc_i32(
                    &s,
                    &a,
                    l.x.zero_point,
                    &w,
                    &vec![0; s.m],
                    &l.bias_q,
                    &mut acc,
                );
                let lo = if l.relu {
                    l.y.qmin.max(l.y.zero_point)
                } else {
                    l.y.qmin
                };
                a = acc
                    .iter()
                    .enumerate()
                    .map(|(j, &v)| {
                        r::requantize(
                            v,
                            r::multiplier(l.x.scale, l.w_scale[j / s.p()], l.y.scale),
                            l.y.zero_point,
                            lo,
                            l.y.qmax,
                        )
                    })
                    .collect();
                shape = [s.m, s.out_h(), s.out_w()];
            }
            QStep::Relu { zero_point, .. } => a.iter_mut().for_each(|v| *v = (*v).max(*zero_point)),
            &QStep::MaxPool { c, h, w, k, stride } => {
                let (oh, ow) = (
                    quantlab::kernels::pool_out(h, k, stride),
                    quantlab::kernels::pool_out(w, k, stride),
                );
                let mut o = vec![0; c * oh * ow];
                r::maxpool(c, h, w, k, stride, &a, &mut o);
                a = o;
                shape = [c, oh, ow];
            }
            QStep::AvgPool { shape: p, quant } => {
                let mut o = vec![0; p.output_len()];
                r::qlinear_avgpool(p, quant, &a, &mut o);
                a = o;
                shape = [p.c, p.out_h(), p.out_w()];
            }
            QStep::Flatten { .. } => shape = [shape.iter().product(), 1, 1],
        }
    }
    a.iter().map(|&v| v as i8).collect()
}

#[test]
fn int8_forward_matches_reference_pipeline_bit_for_bit() {
    for config in [
        QuantConfig::default(),
        QuantConfig {
            weight_bits: 4,
            act_bits: 6,
            per_channel: false,
            method: Method::Entropy,
            ..QuantConfig::default()
        },
        QuantConfig {
            weight_bits: 2,
            act_bits: 3,
            method: Method::Mse,
            ..QuantConfig::default()
        },
    ] {
        let q = quantized(&config);
        let x = images(&model(), test_digits()).unwrap();
        let n = 30;
        let fast = q.forward_int8(&x[..n * 1024], n).unwrap();
        for i in 0..n {
            assert_eq!(
                &fast[i * 10..][..10],
                &forward_int8_ref(&q, &x[i * 1024..][..1024])[..],
                "image {i} with {config:?}"
            );
        }
    }
}

/// The shipped weights with average pooling: 2×2 windows in place of the max-pools, and a 3×3/2
/// window then a global average pool (the linear layer's columns summed over each channel's
/// positions so that it takes 64 values).
fn avg_variants() -> [Model; 2] {
    let mut a = model();
    for l in &mut a.layers {
        if let Layer::MaxPool2d { .. } = l {
            *l = Layer::AvgPool2d { k: 2, stride: 2 };
        }
    }
    let mut g = model();
    g.layers[2] = Layer::AvgPool2d { k: 3, stride: 2 };
    g.layers[5] = Layer::GlobalAvgPool;
    let Layer::Linear(fc) = &mut g.layers[7] else {
        unreachable!()
    };
    let per = fc.n_in / 64;
    fc.weight = fc
        .weight
        .chunks(per)
        .map(|c| c.iter().sum::<f32>())
        .collect();
    fc.n_in = 64;
    [a, g]
}

#[test]
fn average_pooling_models_match_the_references() {
    for m in avg_variants() {
        let len = m.input_len();
        let x = images(&m, test_digits()).unwrap();
        let n = 16;
        let fast = fp32::forward(&m, &x[..n * len], n).unwrap();
        for i in 0..n {
            let want = forward_ref(&m, &x[i * len..][..len]);
            for (a, b) in fast[i * 10..][..10].iter().zip(&want) {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "image {i}: {a} vs {b}"
                );
            }
        }
        for config in [
            QuantConfig::default(),
            QuantConfig {
                act_bits: 5,
                ..QuantConfig::default()
            },
        ] {
            let q = quantized_of(&m, &config);
            assert!(q.steps.iter().any(|s| matches!(s, QStep::AvgPool { .. })));
            let fast = q.forward_int8(&x[..n * len], n).unwrap();
            for i in 0..n {
                assert_eq!(
                    &fast[i * 10..][..10],
                    &forward_int8_ref(&q, &x[i * len..][..len])[..],
                    "image {i} with {config:?} on {:?}",
                    m.layers.iter().map(|l| l.kind()).collect::<Vec<_>>()
                );
            }
        }
    }
}

#[test]
fn accuracy_targets_on_the_test_digits() {
    let m = model();
    let d = test_digits();
    let x = images(&m, d).unwrap();
    let fp = predict_fp32(&m, &x, d.len()).unwrap();
    let q = quantized(&QuantConfig::default());
    let i8p = predict_int8(&q, &x, d.len()).unwrap();
    let e = Evaluation::new(&d.labels, &fp, &i8p);
    println!(
        "fp32 {:.2}%  int8 {:.2}%  agreement {:.2}%  flipped {:?}",
        100.0 * e.fp32_accuracy(),
        100.0 * e.int8_accuracy(),
        100.0 * e.agreement(),
        e.flipped
    );
    assert_eq!(e.count, 2000);
    assert!(
        e.fp32_accuracy() >= 0.98,
        "fp32 accuracy {}",
        e.fp32_accuracy()
    );
    assert!(
        e.int8_accuracy() >= e.fp32_accuracy() - 0.003,
        "int8 accuracy {}",
        e.int8_accuracy()
    );
    assert!(e.agreement() >= 0.995, "agreement {}", e.agreement());
}

#[test]
fn simulated_path_equals_float_model_with_dequantized_weights() {
    let q = quantized(&QuantConfig::default());
    let mut m = model();
    for l in q.layers() {
        let per = l.shape.taps();
        let w: Vec<f32> = l
            .w_q
            .iter()
            .enumerate()
            .map(|(i, &v)| v as f32 * l.w_scale[i / per])
            .collect();
        match &mut m.layers[l.layer] {
            Layer::Conv2d(c) => c.weight = w,
            Layer::Linear(f) => f.weight = w,
            _ => unreachable!(),
        }
    }
    let x = images(&m, test_digits()).unwrap();
    let n = 8;
    assert_eq!(
        q.forward_simulated(&x[..n * 1024], n).unwrap(),
        fp32::forward(&m, &x[..n * 1024], n).unwrap()
    );
}

/// The int8 logits of the first 100 test digits (8-bit per-channel min-max) are a snapshot in
/// `tests/golden/int8_baseline.json`, with the FNV-1a 64 hash of the int8 logits of all 2,000;
/// `tests/node/model.test.mjs` (SIMD128 build) and `tests/web.rs` (both builds, in Chromium)
/// check that every int8 kernel-table entry gives the same bytes. `UPDATE_GOLDEN=1 cargo test
/// --test model` rewrites it.
#[test]
fn int8_outputs_snapshot() {
    let q = quantized(&QuantConfig::default());
    let d = test_digits();
    let x = images(&model(), d).unwrap();
    let n = 100;
    let got: Vec<i8> = q.forward_int8(&x[..n * 1024], n).unwrap();
    let all = q.forward_int8(&x, d.len()).unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/int8_baseline.json"
    );
    let json = serde_json::json!({
        "how": "cargo test --test model int8_outputs_snapshot with UPDATE_GOLDEN=1: int8 logits of test digits 0..100, and the FNV-1a 64 hash (hex) of the int8 logits of all test digits as bytes; baseline model, 8-bit per-channel min-max, calibrated on www/data/digits-calib.bin",
        "images": n,
        "int8": got,
        "all": { "images": d.len(), "fnv1a64": common::fnv1a64_hex(&all) },
    });
    if std::env::var("UPDATE_GOLDEN").is_ok() {
        std::fs::write(path, serde_json::to_string(&json).unwrap() + "\n").unwrap();
    }
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(path).expect("snapshot exists (UPDATE_GOLDEN=1 to create)"),
    )
    .unwrap();
    assert_eq!(
        (&want["int8"], &want["all"]),
        (&json["int8"], &json["all"]),
        "int8 outputs changed; if intended, rerun with UPDATE_GOLDEN=1"
    );
}

#[test]
fn timing_loops_report_samples_steps_and_bad_arguments() {
    use quantlab::model::eval::Path;
    use quantlab::model::timing::{time_fp32, time_quantized, Request};
    // A clock that advances 0.5 ms per reading: every figure is then a count of readings.
    let t = std::cell::Cell::new(0.0);
    let clock = || {
        t.set(t.get() + 0.5);
        t.get()
    };
    let m = model();
    let q = quantized(&QuantConfig::default());
    let x = images(&m, test_digits()).unwrap();
    let r = Request {
        x: &x[..4 * 1024],
        n: 4,
        samples: 5,
        reps: 2,
        profile_runs: 3,
    };
    let ti = time_quantized(&q, Path::Int8, &r, &clock).unwrap();
    assert_eq!(
        ti.samples_ms,
        vec![0.25; 5],
        "one reading before and after each sample of 2 calls"
    );
    assert_eq!(
        ti.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        q.step_labels()
    );
    assert!(ti.steps.iter().all(|s| s.ms > 0.0), "{:?}", ti.steps);
    assert_eq!((ti.path, ti.batch, ti.reps), ("int8", 4, 2));
    let net = fp32::Net::new(&m).unwrap();
    let tf = time_fp32(&net, &m, &r, &clock).unwrap();
    assert_eq!((tf.path, tf.steps.len()), ("fp32", net.steps.len() + 1));
    let ts = time_quantized(&q, Path::Simulated, &r, &clock).unwrap();
    assert!(ts.steps.is_empty());
    for (bad, what) in [
        (Request { samples: 0, ..r }, "samples"),
        (Request { reps: 10_001, ..r }, "reps"),
        (
            Request {
                profile_runs: 10_001,
                ..r
            },
            "profileRuns",
        ),
    ] {
        let e = time_fp32(&net, &m, &bad, &clock).unwrap_err();
        assert!(e.to_string().starts_with(what), "{e}");
    }
}

#[test]
fn confusions_count_each_flip_once_most_frequent_first() {
    use quantlab::model::eval::confusions;
    let fp32 = [1, 7, 7, 3, 7, 2];
    let int8 = [1, 1, 1, 8, 1, 2];
    let flipped = [1, 2, 3, 4];
    assert_eq!(
        confusions(&flipped, &fp32, &int8),
        vec![(7, 1, 3), (3, 8, 1)]
    );
    assert!(confusions(&[], &fp32, &int8).is_empty());
}

/// The lab evaluates growing prefixes of the test digits (Model.evaluate's `limit`), so a float
/// image's logits must not depend on which batch it was in.
#[test]
fn fp32_logits_do_not_depend_on_the_batch() {
    let m = model();
    let x = images(&m, test_digits()).unwrap();
    let n = 300;
    let len = m.input_len();
    let whole = fp32::forward(&m, &x[..n * len], n).unwrap();
    let mut parts = Vec::new();
    for (a, b) in [(0, 250), (250, 257), (257, 300)] {
        parts.extend(fp32::forward(&m, &x[a * len..b * len], b - a).unwrap());
    }
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&whole), bits(&parts));
}
