//! Fuzzing the model loader (and, for mutants that load, calibration, quantization and both
//! forward passes): deterministic mutations of the corpus files, no input may panic.
//!
//! `make test` runs 20,000 cases. The long run (documented in README):
//! `QUANTLAB_FUZZ_CASES=1000000 cargo test --release --test fuzz_loader -- --nocapture`
#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::Rng;
use quantlab::model::file::load_with_note;
use quantlab::model::fp32;
use quantlab::model::int8::{calibrate, quantize_model, QuantConfig};
use serde_json::Value;

fn header_of(b: &[u8]) -> Option<(usize, Value)> {
    let n = u64::from_le_bytes(b.get(..8)?.try_into().ok()?) as usize;
    let v = serde_json::from_slice(b.get(8..8usize.checked_add(n)?)?).ok()?;
    Some((n, v))
}

fn with_header(b: &[u8], n: usize, h: &Value) -> Vec<u8> {
    let mut text = serde_json::to_vec(h).unwrap();
    while text.len() % 8 != 0 {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(&b[8 + n..]);
    out
}

/// A random JSON value of the kinds a header holds.
fn junk(r: &mut Rng) -> Value {
    match r.below(8) {
        0 => Value::from(r.below(3) as i64 - 1),
        1 => Value::from(r.next() as i64),
        2 => Value::from(["F32", "F16", "BF16", "F64", "I8", "Q4", ""][r.below(7)]),
        3 => serde_json::json!([r.below(5), r.below(40)]),
        4 => serde_json::json!([]),
        5 => Value::Null,
        6 => serde_json::json!([0, u64::MAX]),
        _ => Value::from(r.below(70000) as i64),
    }
}

fn mutate(r: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + r.below(3) {
        if b.is_empty() {
            b.push(r.next() as u8);
        }
        match r.below(7) {
            0 => {
                let i = r.below(b.len());
                b[i] ^= 1 << r.below(8);
            }
            1 => {
                let i = r.below(b.len());
                b[i] = [0, 0xff, 0x7f, 0x80, b'"', b'[', b'9'][r.below(7)];
            }
            2 => b.truncate(r.below(b.len() + 1)),
            3 => {
                let i = r.below(b.len() + 1);
                let extra: Vec<u8> = (0..r.below(16)).map(|_| r.next() as u8).collect();
                b.splice(i..i, extra);
            }
            4 | 5 => {
                // Structural: change one field of one tensor, or of the layer list.
                let Some((n, mut h)) = header_of(&b) else {
                    continue;
                };
                let Some(obj) = h.as_object_mut() else {
                    continue;
                };
                let keys: Vec<String> = obj.keys().cloned().collect();
                let k = &keys[r.below(keys.len())];
                if k == "__metadata__" {
                    if let Some(Value::String(layers)) = obj[k].get("layers").cloned() {
                        if let Ok(Value::Array(mut l)) = serde_json::from_str::<Value>(&layers) {
                            if !l.is_empty() {
                                let i = r.below(l.len());
                                match r.below(4) {
                                    0 => {
                                        l.remove(i);
                                    }
                                    1 => {
                                        let ty = [
                                            "relu",
                                            "maxpool2d",
                                            "avgpool2d",
                                            "adaptiveavgpool2d",
                                            "batchnorm2d",
                                            "dropout",
                                            "flatten",
                                            "linear",
                                            "conv2d",
                                        ][r.below(9)];
                                        l.insert(i, serde_json::json!({"type": ty, "name": "fc"}))
                                    }
                                    2 => {
                                        let key = ["padding", "stride", "kernel", "output", "eps"]
                                            [r.below(5)];
                                        l[i][key] = junk(r)
                                    }
                                    _ => {
                                        let j = r.below(l.len());
                                        l.swap(i, j)
                                    }
                                }
                                obj[k]["layers"] = Value::String(Value::Array(l).to_string());
                            }
                        }
                    }
                    if r.below(4) == 0 {
                        obj[k]["input"] = Value::String(format!(
                            "[{},{},{}]",
                            r.below(4),
                            r.below(40),
                            r.below(40)
                        ));
                    }
                } else if let Some(t) = obj[k].as_object_mut() {
                    let field = ["dtype", "shape", "data_offsets"][r.below(3)];
                    if field == "shape" && r.below(2) == 0 {
                        // Same element count, other arrangement: loads and reaches the model code.
                        if let Some(s) = t.get("shape").and_then(Value::as_array).cloned() {
                            let total: u64 = s.iter().filter_map(Value::as_u64).product();
                            let d = [1u64, 2, 3, 4, 8, 9][r.below(6)];
                            if total % d == 0 {
                                t["shape"] = serde_json::json!([d, total / d]);
                                if r.below(2) == 0 && total % (d * 9) == 0 {
                                    t["shape"] = serde_json::json!([d, total / d / 9, 3, 3]);
                                }
                            }
                        }
                    } else {
                        t.insert(field.into(), junk(r));
                    }
                }
                b = with_header(&b, n, &h);
            }
            _ => {
                // Overwrite a float with a special value.
                if b.len() > 16 {
                    let i = 8 + r.below(b.len() - 12);
                    let v: f32 = [f32::NAN, f32::INFINITY, -0.0, 1e38, 1e-40][r.below(5)];
                    b[i..i + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    b
}

/// How far a mutated file got: refused by the loader (with the error the page would show), or
/// loaded and then how many of the page's steps it went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reached {
    Refused,
    /// Loaded, but too big to run here (the fuzzer stays fast), or calibration refused it.
    Loaded,
    /// Calibrated and quantized with at least one config, both forward passes run.
    Quantized,
}

/// Everything a loaded model goes through on the page, on random inputs. A refusal must be an
/// error a student can read: it names what it is about and says why.
fn exercise(bytes: &[u8]) -> Reached {
    let model = match load_with_note(bytes) {
        Ok((model, _)) => model,
        Err(e) => {
            assert!(
                !e.subject.trim().is_empty() && e.message.trim().len() >= 8,
                "a refusal names its subject and says why: {e:?}"
            );
            return Reached::Refused;
        }
    };
    if model.macs() > 2_000_000 || model.input_len() > 4096 {
        return Reached::Loaded;
    }
    let n = 2;
    let x: Vec<f32> = (0..n * model.input_len())
        .map(|i| ((i * 37) % 11) as f32 / 11.0)
        .collect();
    let _ = fp32::forward(&model, &x, n);
    let Ok(cal) = calibrate(&model, &x, n) else {
        return Reached::Loaded;
    };
    let mut reached = Reached::Loaded;
    for config in [
        QuantConfig::default(),
        QuantConfig {
            weight_bits: 2,
            act_bits: 3,
            per_channel: false,
            ..QuantConfig::default()
        },
    ] {
        if let Ok(q) = quantize_model(&model, &cal, &config) {
            let _ = q.forward(&x, n);
            let _ = q.forward_simulated(&x, n);
            reached = Reached::Quantized;
        }
    }
    reached
}

#[test]
fn no_input_panics() {
    let cases: u64 = std::env::var("QUANTLAB_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/models");
    let seeds: Vec<Vec<u8>> = [
        "good/tiny",
        "good/sequential",
        "bad/nan-weight",
        "bad/shapes-do-not-chain",
        "good/bn-layers",
        "good/bn-sequential",
        "good/global-avgpool",
        "good/avgpool-3s2",
    ]
    .iter()
    .map(|f| std::fs::read(format!("{dir}/{f}.safetensors")).unwrap())
    .collect();
    // [refused, loaded, quantized and run]
    let mut counts = [0u64; 3];
    for case in 0..cases {
        let mut r = Rng(case);
        // The big file mostly exercises the header and value paths; the tiny ones reach the model
        // (four of them through BatchNorm folding, dropout and average pooling).
        let base = &seeds[match r.below(10) {
            0..=4 => 0,
            5 | 6 => 4 + r.below(4),
            _ => 1 + r.below(3),
        }];
        let bytes = mutate(&mut r, base);
        match std::panic::catch_unwind(|| exercise(&bytes)) {
            Ok(reached) => counts[reached as usize] += 1,
            Err(_) => panic!("case {case} panicked; reproduce with Rng({case})"),
        }
    }
    let [refused, loaded, quantized] = counts;
    println!(
        "fuzz: {cases} cases: {refused} refused, {} loaded ({quantized} of them quantized and run), no panic",
        loaded + quantized
    );
    // A fuzzer whose mutants all fail the header check, or all load unchanged, tests nothing
    // past that point. Measured at 20,000 cases (the mutations are seeded, so `make test`
    // gets these exactly until the mutator or the loader changes): 18,050 refused, 1,950
    // loaded, 1,466 of them quantized and run. The floors are half of each, scaled to the case
    // count, so a change that halves either side fails here instead of testing less.
    let floor = |measured: u64| measured * cases / 20_000 / 2;
    assert!(
        refused >= floor(18_050),
        "only {refused} of {cases} mutants were refused"
    );
    assert!(
        loaded + quantized >= floor(1_950),
        "only {} of {cases} mutants loaded",
        loaded + quantized
    );
    assert!(
        quantized >= floor(1_466),
        "only {quantized} of {cases} mutants were quantized and run"
    );
}

/// A user's test-image file, mutated as the model files are: the loader refuses or reads it,
/// and whatever it reads can be sampled and shown; nothing panics.
#[test]
fn no_dataset_file_panics() {
    use quantlab::model::digits::Digits;
    use safetensors::tensor::TensorView;
    use safetensors::Dtype;
    let cases: u64 = std::env::var("QUANTLAB_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(|n: u64| n / 4)
        .unwrap_or(5_000);
    let file = |dt: Dtype,
                shape: Vec<usize>,
                images: Vec<u8>,
                labels: Vec<u8>,
                ldt: Dtype,
                meta: Option<&str>| {
        let n = shape[0];
        let views = vec![
            ("images", TensorView::new(dt, shape, &images).unwrap()),
            ("labels", TensorView::new(ldt, vec![n], &labels).unwrap()),
        ];
        let meta = meta.map(|m| {
            [("classes".to_string(), m.to_string())]
                .into_iter()
                .collect()
        });
        safetensors::serialize(views, meta).unwrap()
    };
    let seeds = [
        // 3 RGB 6x5 images, uint8, int64 labels, class names.
        file(
            Dtype::U8,
            vec![3, 3, 6, 5],
            (0..270).map(|i| (i * 7) as u8).collect(),
            [0i64, 2, 1].iter().flat_map(|v| v.to_le_bytes()).collect(),
            Dtype::I64,
            Some("[\"cat\",\"dog\",\"ship\"]"),
        ),
        // 2 gray 4x4 images, float32, uint8 labels.
        file(
            Dtype::F32,
            vec![2, 1, 4, 4],
            (0..32)
                .flat_map(|i| (i as f32 / 31.0).to_le_bytes())
                .collect(),
            vec![1, 0],
            Dtype::U8,
            None,
        ),
    ];
    let (mut read, mut refused) = (0u64, 0u64);
    for case in 0..cases {
        let mut r = Rng(case ^ 0xda7a);
        let seed = &seeds[r.below(2)];
        let bytes = mutate(&mut r, seed);
        let ok = std::panic::catch_unwind(|| {
            let d = match Digits::from_safetensors(&bytes) {
                Ok(d) => d,
                Err(e) => {
                    assert!(
                        !e.subject.trim().is_empty() && e.message.trim().len() >= 8,
                        "a refusal names its subject and says why: {e:?}"
                    );
                    return false;
                }
            };
            let shape = [d.channels, d.rows, d.cols];
            let mut out = vec![0f32; shape.iter().product()];
            for i in [0, d.len() - 1] {
                let _ = d.image(i);
                let _ = d.sample_into(i, shape, 1, -1, &mut out);
                let _ = d.sample_into(i, [1, 32, 32], 0, 0, &mut vec![0f32; 1024]);
            }
            true
        });
        match ok {
            Ok(true) => read += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("case {case} panicked; reproduce with Rng({case} ^ 0xda7a)"),
        }
    }
    println!("dataset fuzz: {cases} cases: {read} read, {refused} refused, no panic");
    // Measured at 5,000 cases (seeded): 716 read, 4,284 refused. Floors at half of each, scaled
    // to the case count, as for the model files.
    let floor = |measured: u64| measured * cases / 5_000 / 2;
    assert!(
        read >= floor(716),
        "only {read} of {cases} mutated files were read"
    );
    assert!(
        refused >= floor(4_284),
        "only {refused} of {cases} mutated files were refused"
    );
}
