//! A user's own test images (`Digits::from_safetensors`, `Digits.fromSafetensors` in JS):
//! accepted wherever the digit sets are (calibration, evaluation, QAT), in 1 or 3 channels, and
//! every bad file refused with a message naming the tensor.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use quantlab::model::digits::Digits;
use quantlab::model::{eval, fp32, int8, Conv2d, Layer, Linear, Model};
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use std::collections::HashMap;

/// safetensors bytes of `tensors` (name, dtype, shape, raw bytes) with `meta`.
fn file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)], meta: &[(&str, &str)]) -> Vec<u8> {
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| (*n, TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let m: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    safetensors::serialize(views, if m.is_empty() { None } else { Some(m) }).unwrap()
}
fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn the_test_digits_as_a_float_dataset_give_the_same_accuracy() {
    let model = common::baseline();
    let test = Digits::parse(include_bytes!("../www/data/digits-test.bin")).unwrap();
    let x = eval::images(&model, &test).unwrap();
    let labels: Vec<i64> = test.labels.iter().map(|&l| l as i64).collect();
    let bytes = file(
        &[
            ("images", Dtype::F32, vec![test.len(), 1, 32, 32], f32s(&x)),
            ("labels", Dtype::I64, vec![test.len()], i64s(&labels)),
        ],
        &[(
            "classes",
            "[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]",
        )],
    );
    let ds = Digits::from_safetensors(&bytes).unwrap();
    assert_eq!((ds.len(), ds.channels, ds.rows, ds.cols), (2000, 1, 32, 32));
    assert_eq!(ds.classes.as_ref().unwrap().len(), 10);
    let y = eval::images(&model, &ds).unwrap();
    assert_eq!(x, y);
    let calib = Digits::parse(common::CALIB).unwrap();
    let cal = int8::calibrate(&model, &eval::images(&model, &calib).unwrap(), calib.len()).unwrap();
    let q = int8::quantize_model(&model, &cal, &Default::default()).unwrap();
    let p = eval::predict_int8(&q, &y, ds.len()).unwrap();
    let acc = p.iter().zip(&ds.labels).filter(|(a, b)| a == b).count();
    let p0 = eval::predict_int8(&q, &x, test.len()).unwrap();
    assert_eq!(p, p0);
    assert!(acc >= 1960, "{acc}");
    // Thumbnails: the 8-bit pixels of image 0, the padded 32×32 canvas.
    assert_eq!(ds.image(0).len(), 32 * 32);
}

/// A 3-channel model (conv 3→4, 3×3, padding 1, on 3×8×8; pool; linear 64→3).
fn rgb_model() -> Model {
    let mut s = 1u32;
    let mut r = move || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    Model {
        input: [3, 8, 8],
        layers: vec![
            Layer::Conv2d(Conv2d {
                name: "conv".into(),
                m: 4,
                c: 3,
                k: 3,
                padding: 1,
                stride: 1,
                weight: (0..108).map(|_| r()).collect(),
                bias: vec![0.1, -0.1, 0.0, 0.05],
            }),
            Layer::Relu,
            Layer::MAX_POOL_2,
            Layer::Flatten,
            Layer::Linear(Linear {
                name: "fc".into(),
                n_out: 3,
                n_in: 64,
                weight: (0..192).map(|_| r()).collect(),
                bias: vec![0.0; 3],
            }),
        ],
    }
}

#[test]
fn rgb_images_in_uint8_calibrate_evaluate_and_train() {
    let model = rgb_model();
    let n = 24;
    let px: Vec<u8> = (0..n * 3 * 64).map(|i| (i * 37 % 256) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
    let bytes = file(
        &[
            ("images", Dtype::U8, vec![n, 3, 8, 8], px.clone()),
            ("labels", Dtype::U8, vec![n], labels.clone()),
        ],
        &[("classes", "cat, dog, bird")],
    );
    let ds = Digits::from_safetensors(&bytes).unwrap();
    assert_eq!(ds.classes.as_deref().unwrap(), ["cat", "dog", "bird"]);
    let x = eval::images(&model, &ds).unwrap();
    assert_eq!(x[5], px[5] as f32 / 255.0);
    assert_eq!(
        ds.image(1).into_owned(),
        px[192..384].to_vec(),
        "8-bit pixels back for thumbnails"
    );
    let cal = int8::calibrate(&model, &x, n).unwrap();
    let q = int8::quantize_model(&model, &cal, &Default::default()).unwrap();
    let e = eval::Evaluation::new(
        &ds.labels,
        &eval::predict_fp32(&model, &x, n).unwrap(),
        &eval::predict_int8(&q, &x, n).unwrap(),
    );
    assert!(e.agreement() > 0.8, "{e:?}");
    // Quantization-aware training takes it too (shifted CHW images).
    let mut qat = quantlab::train::qat::Qat::new(
        &model,
        &int8::QuantConfig {
            weight_bits: 4,
            act_bits: 4,
            ..Default::default()
        },
        &ds,
        &x,
        n,
        quantlab::train::qat::QatOptions {
            steps: 3,
            batch: 8,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(qat.run(3).unwrap().n, 24);
    // A model of another input shape is refused, naming both shapes.
    let e = eval::images(&common::baseline(), &ds)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("holds 3×8×8 images but the model takes 1×32×32"),
        "{e}"
    );
    assert!(fp32::forward(&model, &x, n).is_ok());
}

#[test]
fn bad_datasets_are_refused_naming_the_tensor() {
    let img = |n: usize| {
        (
            "images",
            Dtype::F32,
            vec![n, 1, 2, 2],
            f32s(&vec![0.5; n * 4]),
        )
    };
    let lab = |v: &[i64]| ("labels", Dtype::I64, vec![v.len()], i64s(v));
    let err = |t: &[(&str, Dtype, Vec<usize>, Vec<u8>)], meta: &[(&str, &str)]| {
        Digits::from_safetensors(&file(t, meta))
            .unwrap_err()
            .to_string()
    };
    assert!(err(&[img(2)], &[]).contains("no tensor 'labels'"));
    assert!(err(&[lab(&[0, 1])], &[]).contains("no tensor 'images'"));
    assert!(err(&[img(2), lab(&[0])], &[]).starts_with("labels: has shape [1]; expected [2]"));
    assert!(err(&[img(2), lab(&[0, 256])], &[]).contains("holds 256 at index 1"));
    assert!(err(&[img(2), lab(&[0, -1])], &[]).contains("holds -1 at index 1"));
    assert!(err(&[img(2), lab(&[0, 3])], &[("classes", "a,b,c")])
        .contains("from 0 to 2 (__metadata__.classes"));
    assert!(err(
        &[
            ("images", Dtype::F32, vec![2, 4], f32s(&[0.0; 8])),
            lab(&[0, 1])
        ],
        &[]
    )
    .starts_with("images: has shape [2, 4]"));
    assert!(err(
        &[
            ("images", Dtype::F64, vec![1, 1, 1, 1], vec![0; 8]),
            lab(&[0])
        ],
        &[]
    )
    .contains("has dtype F64"));
    assert!(err(
        &[
            (
                "images",
                Dtype::F32,
                vec![1, 1, 1, 2],
                f32s(&[0.0, f32::NAN])
            ),
            lab(&[0])
        ],
        &[]
    )
    .contains("holds NaN at index 1"));
    assert!(err(
        &[
            img(1),
            lab(&[0]),
            ("extra", Dtype::F32, vec![1], f32s(&[0.0]))
        ],
        &[]
    )
    .contains("tensor 'extra'"));
    assert!(err(
        &[img(1), ("labels", Dtype::F32, vec![1], f32s(&[0.0]))],
        &[]
    )
    .contains("expected an integer dtype"));
    assert!(Digits::from_safetensors(b"not a file")
        .unwrap_err()
        .to_string()
        .starts_with("dataset"));
}

#[test]
fn a_set_fits_a_model_or_says_what_does_not() {
    let model = common::baseline(); // 1×32×32 → 10
    let digits = Digits::parse(common::CALIB).unwrap();
    digits.check_fits(&model).unwrap();
    let set = |c: usize, h: usize, labels: &[i64], meta: &[(&str, &str)]| {
        let n = labels.len();
        Digits::from_safetensors(&file(
            &[
                (
                    "images",
                    Dtype::U8,
                    vec![n, c, h, h],
                    vec![9; n * c * h * h],
                ),
                ("labels", Dtype::I64, vec![n], i64s(labels)),
            ],
            meta,
        ))
        .unwrap()
    };
    set(1, 32, &[0, 9], &[]).check_fits(&model).unwrap();
    let err = |d: Digits| d.check_fits(&model).unwrap_err().to_string();
    assert_eq!(
        err(set(3, 32, &[0], &[])),
        "images: are 3×32×32 but the model takes 1×32×32 inputs"
    );
    assert_eq!(
        err(set(1, 28, &[0], &[])),
        "images: are 1×28×28 but the model takes 1×32×32 inputs"
    );
    let names = "a,b,c,d,e,f,g,h,i,j,k,l";
    assert_eq!(
        err(set(1, 32, &[0, 11], &[("classes", names)])),
        "labels: [1] is 11 but the model has 10 outputs (classes 0 to 9)"
    );
    assert!(err(set(1, 32, &[0, 1], &[("classes", names)]))
        .starts_with("__metadata__.classes: names 12 classes"));
    // The digits fit any 1×28×28 or 1×32×32 ten-class model, and no other.
    let rgb = quantlab::model::file::load(include_bytes!("data/rgb-cnn.safetensors")).unwrap();
    assert!(digits
        .check_fits(&rgb)
        .unwrap_err()
        .to_string()
        .contains("model takes 3×32×32"));
}

/// The RGB student model (Conv-BatchNorm-ReLU, a stride-2 conv, global average pooling, dropout)
/// with its own colour test file, as `quantlab-train --rgb` writes them: BatchNorm folded, the
/// model calibrated on the file's first 256 images as the page does, INT8 per channel within half
/// a point of FP32.
#[test]
fn the_rgb_model_runs_on_its_own_test_images() {
    let (model, note) =
        quantlab::model::file::load_with_note(include_bytes!("data/rgb-cnn.safetensors")).unwrap();
    assert!(note.unwrap().contains("bn1 folded into conv1"));
    assert_eq!(model.input, [3, 32, 32]);
    let ds =
        Digits::from_safetensors(include_bytes!("data/colour-digits-test.safetensors")).unwrap();
    ds.check_fits(&model).unwrap();
    assert_eq!((ds.len(), ds.channels), (500, 3));
    assert_eq!(ds.classes.as_ref().unwrap()[7], "seven");
    let x = eval::images(&model, &ds).unwrap();
    let cal = int8::calibrate(&model, &x[..256 * 3072], 256).unwrap();
    let q = int8::quantize_model(&model, &cal, &Default::default()).unwrap();
    let fp = eval::predict_fp32(&model, &x, ds.len()).unwrap();
    let i8p = eval::predict_int8(&q, &x, ds.len()).unwrap();
    let e = eval::Evaluation::new(&ds.labels, &fp, &i8p);
    println!(
        "rgb: fp32 {:.2}% int8 {:.2}%",
        100.0 * e.fp32_accuracy(),
        100.0 * e.int8_accuracy()
    );
    assert!(e.fp32_accuracy() >= 0.85, "{e:?}");
    assert!(e.int8_accuracy() >= e.fp32_accuracy() - 0.005, "{e:?}");
}
