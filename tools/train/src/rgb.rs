//! `quantlab-train --rgb`: a student-style RGB model and its own test file, for the lab's
//! "bring your own model and test images" path (issue 13) and its tests.
//!
//! The data are the digits in colour: each 28×28 digit, padded to 32×32, drawn in a random
//! foreground colour on a random background colour (luminances at least 0.35 apart), as
//! uint8 `[N, 3, 32, 32]`. The model is what a PyTorch course writes for CIFAR-shaped input:
//!
//!   x [3,32,32] -> conv1 3x3 (3->16, pad 1) -> bn1 -> ReLU -> maxpool 2       -> [16,16,16]
//!               -> conv2 3x3 (16->32, stride 2, pad 1) -> bn2 -> ReLU          -> [32,8,8]
//!               -> conv3 3x3 (32->64, stride 2, pad 1) -> ReLU                 -> [64,4,4]
//!               -> conv4 3x3 (64->64, pad 1) -> ReLU -> AdaptiveAvgPool2d(1)   -> [64,1,1]
//!               -> flatten -> dropout -> fc (64->10)
//!
//! The library trains convs without BatchNorm, so the file's BatchNorms are written *around*
//! the trained convs: seeded eval-mode statistics (running mean and variance, γ, β) and conv
//! weights and biases chosen so that folding them, as the loader does, gives back the trained
//! convs (to float32 rounding). The file is what `torch.save(model.state_dict())` of such a
//! model holds, `num_batches_tracked` included.

use quantlab::model::digits::Digits;
use quantlab::model::{eval, Conv2d, Layer, Linear, Model};
use quantlab::train::{self, SplitMix64};
use std::path::Path;
use std::time::Instant;

const EPOCHS: usize = 15;
const BATCH: usize = 64;
const LR: f32 = 3e-3;
const SHIFT: usize = 1;
const EPS: f32 = 1e-5;
/// Test images in the committed file (the 500 first of the 2,000 test digits, in colour).
const TEST_FILE_IMAGES: usize = 500;
const CLASSES: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

fn architecture() -> Model {
    let conv = |name: &str, m: usize, c: usize, padding: usize, stride: usize| {
        Layer::Conv2d(Conv2d {
            name: name.into(),
            m,
            c,
            k: 3,
            padding,
            stride,
            weight: vec![0.0; m * c * 9],
            bias: vec![0.0; m],
        })
    };
    Model {
        input: [3, 32, 32],
        layers: vec![
            conv("conv1", 16, 3, 1, 1),
            Layer::Relu,
            Layer::MAX_POOL_2,
            conv("conv2", 32, 16, 1, 2),
            Layer::Relu,
            conv("conv3", 64, 32, 1, 2),
            Layer::Relu,
            conv("conv4", 64, 64, 1, 1),
            Layer::Relu,
            Layer::GlobalAvgPool,
            Layer::Flatten,
            Layer::Linear(Linear {
                name: "fc".into(),
                n_out: 10,
                n_in: 64,
                weight: vec![0.0; 640],
                bias: vec![0.0; 10],
            }),
        ],
    }
}

/// The digits in colour, as a safetensors dataset file (images uint8 `[N, 3, 32, 32]`, labels int64).
fn colour_file(d: &Digits, n: usize, rng: &mut SplitMix64) -> Vec<u8> {
    let lum = |c: [f32; 3]| 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    let mut images = vec![0u8; n * 3 * 1024];
    for i in 0..n {
        let mut rgb = || [rng.unit_f32(), rng.unit_f32(), rng.unit_f32()];
        let bg = rgb();
        let fg = loop {
            let c = rgb();
            if (lum(c) - lum(bg)).abs() >= 0.35 {
                break c;
            }
        };
        let px = d.image(i);
        let (r, c) = (d.rows, d.cols);
        for ch in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    let (yy, xx) = (
                        y as isize - (32 - r as isize) / 2,
                        x as isize - (32 - c as isize) / 2,
                    );
                    let a = if yy >= 0 && xx >= 0 && (yy as usize) < r && (xx as usize) < c {
                        px[yy as usize * c + xx as usize] as f32 / 255.0
                    } else {
                        0.0
                    };
                    let v = bg[ch] + (fg[ch] - bg[ch]) * a;
                    images[((i * 3 + ch) * 32 + y) * 32 + x] = (v * 255.0).round() as u8;
                }
            }
        }
    }
    dataset_file(&images, &d.labels[..n], None)
}

/// A safetensors dataset: `images` uint8 `[N, 3, 32, 32]`, `labels` int64, and when `source` is
/// given the class names and where the images come from.
fn dataset_file(images: &[u8], labels: &[u8], source: Option<&str>) -> Vec<u8> {
    let n = labels.len();
    let labels: Vec<u8> = labels
        .iter()
        .flat_map(|&l| (l as i64).to_le_bytes())
        .collect();
    let meta: Vec<(&str, String)> = match source {
        Some(src) => vec![
            ("classes", serde_json::to_string(&CLASSES).unwrap()),
            ("source", src.to_string()),
        ],
        None => vec![],
    };
    write_safetensors(
        &[
            ("images", "U8", vec![n, 3, 32, 32], images),
            ("labels", "I64", vec![n], &labels),
        ],
        &meta,
    )
}

/// safetensors bytes with the header's keys in sorted order (serde_json's map), so the same
/// tensors and metadata give the same file on every run.
fn write_safetensors(
    tensors: &[(&str, &str, Vec<usize>, &[u8])],
    meta: &[(&str, String)],
) -> Vec<u8> {
    let mut sorted: Vec<_> = tensors.iter().collect();
    sorted.sort_by_key(|t| t.0);
    let mut header = serde_json::Map::new();
    let mut offset = 0;
    for (name, dtype, shape, bytes) in &sorted {
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes.len()]}),
        );
        offset += bytes.len();
    }
    if !meta.is_empty() {
        let m: serde_json::Map<String, serde_json::Value> = meta
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(v.as_str())))
            .collect();
        header.insert("__metadata__".into(), m.into());
    }
    let mut h = serde_json::Value::Object(header).to_string().into_bytes();
    h.resize(h.len().div_ceil(8) * 8, b' ');
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    for t in &sorted {
        out.extend_from_slice(t.3);
    }
    out
}

fn accuracy(m: &Model, set: &Digits) -> Result<f64, String> {
    let x = eval::images(m, set).map_err(|e| e.to_string())?;
    let p = eval::predict_fp32(m, &x, set.len()).map_err(|e| e.to_string())?;
    Ok(p.iter().zip(&set.labels).filter(|(a, b)| a == b).count() as f64 / set.len() as f64)
}

/// The trained model as a PyTorch state_dict with BatchNorm after conv1 and conv2 (see the top).
fn with_batchnorm(m: &Model, rng: &mut SplitMix64, trained: &str) -> Vec<u8> {
    let mut t: Vec<(String, &str, Vec<usize>, Vec<u8>)> = vec![];
    let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    // A layer's `.weight` (of `shape`) and `.bias`.
    let params = |t: &mut Vec<_>, name: &str, shape: Vec<usize>, w: &[f32], b: &[f32]| {
        t.push((format!("{name}.bias"), "F32", vec![shape[0]], f32s(b)));
        t.push((format!("{name}.weight"), "F32", shape, f32s(w)));
    };
    for l in &m.layers {
        match l {
            Layer::Conv2d(c) if c.name == "conv1" || c.name == "conv2" => {
                let bn = if c.name == "conv1" { "bn1" } else { "bn2" };
                // folded: w = w'·γ/√(σ²+ε), b = (b' − μ)·γ/√(σ²+ε) + β; so w' = w·√(σ²+ε)/γ,
                // b' = (b − β)·√(σ²+ε)/γ + μ (in float64).
                let (mut w, mut b) = (c.weight.clone(), c.bias.clone());
                let (mut mean, mut var, mut gamma, mut beta) = (vec![], vec![], vec![], vec![]);
                let per = c.c * c.k * c.k;
                for o in 0..c.m {
                    let mu = rng.unit_f32() - 0.5;
                    let v = 0.05 + 3.0 * rng.unit_f32();
                    let g = 0.5 + rng.unit_f32();
                    let be = 0.4 * (rng.unit_f32() - 0.5);
                    let s = (v as f64 + EPS as f64).sqrt() / g as f64;
                    for x in &mut w[o * per..(o + 1) * per] {
                        *x = (*x as f64 * s) as f32;
                    }
                    b[o] = ((b[o] as f64 - be as f64) * s + mu as f64) as f32;
                    mean.push(mu);
                    var.push(v);
                    gamma.push(g);
                    beta.push(be);
                }
                params(&mut t, &c.name, vec![c.m, c.c, 3, 3], &w, &b);
                for (k, v) in [
                    ("weight", gamma),
                    ("bias", beta),
                    ("running_mean", mean),
                    ("running_var", var),
                ] {
                    t.push((format!("{bn}.{k}"), "F32", vec![c.m], f32s(&v)));
                }
                t.push((
                    format!("{bn}.num_batches_tracked"),
                    "I64",
                    vec![],
                    1500i64.to_le_bytes().to_vec(),
                ));
            }
            Layer::Conv2d(c) => params(&mut t, &c.name, vec![c.m, c.c, 3, 3], &c.weight, &c.bias),
            Layer::Linear(f) => params(&mut t, &f.name, vec![f.n_out, f.n_in], &f.weight, &f.bias),
            _ => {}
        }
    }
    let layers = serde_json::json!([
        {"type": "conv2d", "name": "conv1", "padding": 1},
        {"type": "batchnorm2d", "name": "bn1", "eps": EPS},
        {"type": "relu"},
        {"type": "maxpool2d", "kernel": 2},
        {"type": "conv2d", "name": "conv2", "padding": 1, "stride": 2},
        {"type": "batchnorm2d", "name": "bn2", "eps": EPS},
        {"type": "relu"},
        {"type": "conv2d", "name": "conv3", "padding": 1, "stride": 2},
        {"type": "relu"},
        {"type": "conv2d", "name": "conv4", "padding": 1},
        {"type": "relu"},
        {"type": "adaptiveavgpool2d", "output": 1},
        {"type": "flatten"},
        {"type": "dropout", "p": 0.2},
        {"type": "linear", "name": "fc"}
    ]);
    let views: Vec<(&str, &str, Vec<usize>, &[u8])> = t
        .iter()
        .map(|(n, d, sh, b)| (n.as_str(), *d, sh.clone(), &b[..]))
        .collect();
    let meta = [
        ("format", "quantlab-cnn-v1".to_string()),
        ("input", "[3,32,32]".to_string()),
        ("layers", layers.to_string()),
        ("classes", serde_json::to_string(&CLASSES).unwrap()),
        ("trained", trained.to_string()),
    ];
    write_safetensors(&views, &meta)
}

pub fn run(
    train_digits: &Digits,
    test_digits: &Digits,
    model_out: &Path,
    data_out: &Path,
    seed: u64,
) -> Result<(), String> {
    let start = Instant::now();
    let mut rng = SplitMix64::new(seed);
    let train_set =
        Digits::from_safetensors(&colour_file(train_digits, train_digits.len(), &mut rng))
            .map_err(|e| e.to_string())?;
    let test_bytes = colour_file(test_digits, test_digits.len(), &mut rng);
    let test_set = Digits::from_safetensors(&test_bytes).map_err(|e| e.to_string())?;
    let mut params = architecture();
    train::he_init(&mut params, &mut rng);
    let mut acc = 0.0;
    crate::fit(
        &mut params,
        &train_set,
        &mut rng,
        EPOCHS,
        LR,
        SHIFT,
        |epoch, params, loss, _| {
            acc = accuracy(params, &test_set)?;
            println!(
            "epoch {epoch:2}/{EPOCHS}  train loss {:.4}  test acc {:.2}% (2,000 colour digits)  {:.0}s",
            loss / train_set.len() as f64,
            100.0 * acc,
            start.elapsed().as_secs_f64()
        );
            Ok(())
        },
    )?;
    let trained = format!(
        "cargo run --release --manifest-path tools/train/Cargo.toml -- --rgb --seed {seed}; {EPOCHS} epochs of the 8,000 \
         training digits in colour, Adam lr {LR} cosine, batch {BATCH}, +-{SHIFT}px shifts; FP32 test accuracy {:.2}% on the \
         2,000 test digits in colour; BatchNorms written around the trained conv1 and conv2 (seeded statistics)",
        100.0 * acc
    );
    let model_bytes = with_batchnorm(&params, &mut rng, &trained);
    std::fs::write(model_out, &model_bytes).map_err(|e| format!("{}: {e}", model_out.display()))?;
    // The committed test file: the first TEST_FILE_IMAGES colour test digits (same pixels).
    let data_bytes = subset(&test_set, TEST_FILE_IMAGES);
    std::fs::write(data_out, &data_bytes).map_err(|e| format!("{}: {e}", data_out.display()))?;
    let (loaded, _) =
        quantlab::model::file::load_with_note(&model_bytes).map_err(|e| e.to_string())?;
    let part = Digits::from_safetensors(&data_bytes).map_err(|e| e.to_string())?;
    println!(
        "wrote {} ({} bytes; folded back: {:.2}% on {} colour digits) and {} ({} images, {} bytes) in {:.0}s",
        model_out.display(),
        model_bytes.len(),
        100.0 * accuracy(&loaded, &part)?,
        part.len(),
        data_out.display(),
        part.len(),
        data_bytes.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The first `n` images and labels of a colour file.
fn subset(d: &Digits, n: usize) -> Vec<u8> {
    let images: Vec<u8> = (0..n).flat_map(|i| d.image(i).into_owned()).collect();
    let src = format!("quantlab-train --rgb: the first {n} test digits in colour (random foreground and background)");
    dataset_file(&images, &d.labels[..n], Some(&src))
}
