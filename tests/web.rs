//! The wasm boundary, in headless Chromium (`make test` runs
//! `cargo test --target wasm32-unknown-unknown --test web`): typed arrays survive the crossing and
//! a Rust error arrives as a JS `Error` with a message naming the argument.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Float32Array, Int32Array, Int8Array, Object, Reflect, Uint8Array};
use quantlab::wasm_api as q;

mod common;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn opts(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn err_message(e: wasm_bindgen::JsError) -> String {
    let v: JsValue = e.into();
    let e: js_sys::Error = v.dyn_into().expect("a JS Error");
    e.message().into()
}

/// Both wasm builds run this file (`make test` names each in `QUANTLAB_EXPECT_BUILD`): a build
/// that lost its RUSTFLAGS would otherwise pass as the other one.
#[wasm_bindgen_test]
fn runs_the_build_make_test_asked_for() {
    match option_env!("QUANTLAB_EXPECT_BUILD") {
        Some(want) => assert_eq!(quantlab::kernels::table::BUILD, want),
        None => {
            panic!("make test sets QUANTLAB_EXPECT_BUILD (simd128 or relaxed) for the wasm tests")
        }
    }
}

#[wasm_bindgen_test]
fn all_256_int8_values_round_trip_through_typed_arrays() {
    let q: Vec<i8> = (-128..=127).map(|v| v as i8).collect();
    let qa: JsValue = Int8Array::from(&q[..]).into();
    let x = q::dequantize_linear_js(
        qa,
        Float32Array::from(&[0.5f32][..]).into(),
        Int32Array::from(&[0][..]).into(),
        JsValue::UNDEFINED,
    )
    .unwrap();
    assert_eq!(x.length(), 256);
    let back = q::quantize_linear_js(
        x.into(),
        Float32Array::from(&[0.5f32][..]).into(),
        Int32Array::from(&[0][..]).into(),
        JsValue::UNDEFINED,
    )
    .unwrap();
    let back: Int8Array = back.dyn_into().expect("an Int8Array");
    assert_eq!(back.to_vec(), q);
}

#[wasm_bindgen_test]
fn uint8_dtype_returns_uint8array() {
    let y = q::quantize_linear_js(
        Float32Array::from(&[-1.0f32, 0.0, 1.0][..]).into(),
        Array::of1(&0.5.into()).into(),
        Array::of1(&128.into()).into(),
        opts(&[("dtype", "uint8".into())]),
    )
    .unwrap();
    let y: Uint8Array = y.dyn_into().expect("a Uint8Array");
    assert_eq!(y.to_vec(), vec![126, 128, 130]);
}

#[wasm_bindgen_test]
fn rust_errors_arrive_as_js_errors_naming_the_argument() {
    let x: JsValue = Float32Array::from(&[1.0f32][..]).into();
    let e = q::quantize_linear_js(
        x.clone(),
        Float32Array::from(&[-1.0f32][..]).into(),
        Int32Array::from(&[0][..]).into(),
        JsValue::UNDEFINED,
    )
    .unwrap_err();
    assert!(err_message(e).starts_with("scale: must be finite and > 0"));
    let e = q::choose_quant_params_js(
        x.clone(),
        opts(&[
            ("scheme", "symmetric".into()),
            ("dtype", "int8".into()),
            ("bits", 1.into()),
        ]),
    )
    .unwrap_err();
    assert!(err_message(e).starts_with("options.bits:"));
    let e = q::choose_quant_params_js(
        Float32Array::from(&[f32::NAN][..]).into(),
        opts(&[("scheme", "symmetric".into()), ("dtype", "int8".into())]),
    )
    .unwrap_err();
    assert!(err_message(e).starts_with("x: contains NaN"));
    // Still usable afterwards: nothing panicked.
    let p = q::choose_quant_params_js(
        x,
        opts(&[("scheme", "symmetric".into()), ("dtype", "int8".into())]),
    )
    .unwrap();
    let s: Float32Array = Reflect::get(&p, &"scale".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(s.to_vec(), vec![1.0 / 127.0]);
}

#[wasm_bindgen_test]
fn model_api_in_chromium_gives_the_native_int8_outputs() {
    let mut model = q::Model::from_safetensors(common::BASELINE).unwrap();
    let calib = q::Digits::from_bytes(include_bytes!("../www/data/digits-calib.bin")).unwrap();
    let test = q::Digits::from_bytes(include_bytes!("../www/data/digits-test.bin")).unwrap();
    model.calibrate(&calib, None).unwrap();
    let mut qm = model
        .quantize(opts(&[
            ("weightBits", 8.into()),
            ("actBits", 8.into()),
            ("perChannel", true.into()),
        ]))
        .unwrap();
    let snap: serde_json::Value =
        serde_json::from_str(include_str!("golden/int8_baseline.json")).unwrap();
    let n = snap["images"].as_u64().unwrap() as usize;
    let want: Vec<i8> = snap["int8"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap() as i8)
        .collect();
    // Every int8 entry of this build (and engine) against the native snapshot: the first 100
    // digits value by value, all 2,000 by hash. `make test` runs this for both builds. The
    // portable entry is the same scalar Rust the native tests check on all 2,000; here it gets
    // the first 100 (on all of them it would take most of the runner's 20 s).
    let all = test.length();
    let x = test.images(&model, 0, all).unwrap().to_vec();
    for entry in quantlab::kernels::table::available::<quantlab::kernels::Int8Kernel>() {
        let name = quantlab::kernels::Entry::name(entry);
        q::use_kernels(opts(&[("int8", name.into())])).unwrap();
        let count = if name == "portable" { n } else { all };
        let got = qm.forward_int8(&x[..count * 1024], count).unwrap().to_vec();
        assert_eq!(&got[..want.len()], &want[..], "{name}");
        if count == all {
            assert_eq!(
                common::fnv1a64_hex(&got),
                snap["all"]["fnv1a64"].as_str().unwrap(),
                "{name} on all {all} digits"
            );
        }
    }
    q::use_kernels(opts(&[("int8", "auto".into())])).unwrap();
    // 7-bit weights (onnxruntime's reduce_range), where `usdot7` runs its own kernel instead of
    // packing for `dot16`, and 6-bit ones, where it adds two pair sums before widening: every
    // entry gives the portable entry's int8 logits on 200 digits.
    for bits in [7, 6] {
        let mut qb = model
            .quantize(opts(&[
                ("weightBits", bits.into()),
                ("actBits", 8.into()),
                ("perChannel", true.into()),
            ]))
            .unwrap();
        let few = 200;
        let mut reference: Option<Vec<i8>> = None;
        for entry in quantlab::kernels::table::available::<quantlab::kernels::Int8Kernel>()
            .into_iter()
            .rev()
        {
            let name = quantlab::kernels::Entry::name(entry);
            q::use_kernels(opts(&[("int8", name.into())])).unwrap();
            let got = qb.forward_int8(&x[..few * 1024], few).unwrap().to_vec();
            match &reference {
                None => reference = Some(got), // portable, the last of the table, first here
                Some(r) => assert_eq!(&got, r, "{name}, {bits}-bit weights"),
            }
        }
    }
    q::use_kernels(opts(&[("int8", "auto".into())])).unwrap();
    // The provisional evaluation (the lab's live figure) is the full one on a prefix.
    let get = |o: &Object, k: &str| Reflect::get(o, &k.into()).unwrap();
    // (Prefixes of 100 and 300 digits: the float model of the first evaluation is slow here.)
    let part = model.evaluate(&mut qm, &test, None, Some(100)).unwrap();
    let full = model.evaluate(&mut qm, &test, None, Some(300)).unwrap();
    assert_eq!(get(&part, "count").as_f64(), Some(100.0));
    let pred = |o: &Object, k: &str| get(o, k).dyn_into::<Uint8Array>().unwrap().to_vec();
    for k in ["int8Pred", "fp32Pred"] {
        assert_eq!(pred(&part, k)[..], pred(&full, k)[..100], "{k}");
    }
    let flipped: u32 = Array::from(&get(&full, "confusions"))
        .iter()
        .map(|row| Array::from(&row).get(2).as_f64().unwrap() as u32)
        .sum();
    assert_eq!(
        flipped,
        get(&full, "flipped")
            .dyn_into::<js_sys::Uint32Array>()
            .unwrap()
            .length()
    );
    assert!(model.evaluate(&mut qm, &test, None, Some(0)).is_err());
    let x = &x[..n * 1024];
    // An error keeps the model usable.
    assert!(model.quantize(opts(&[("weightBits", 1.into())])).is_err());
    assert_eq!(model.forward(&x[..1024], 1).unwrap().length(), 10);
}

/// Quantization-aware training through the JS API gives, in this build and engine, the same
/// weights to the bit as the native run in `tests/train.rs` (one committed fingerprint), and
/// its errors name what is wrong.
#[wasm_bindgen_test]
fn qat_in_the_browser_gives_the_native_weights() {
    use common::qat_run;
    let mut model = q::Model::from_safetensors(common::BASELINE).unwrap();
    let calib = q::Digits::from_bytes(common::CALIB).unwrap();
    let cfg = || {
        opts(&[
            ("weightBits", qat_run::BITS.into()),
            ("actBits", qat_run::BITS.into()),
        ])
    };
    let o = || {
        opts(&[
            ("steps", (qat_run::STEPS as u32).into()),
            ("batch", (qat_run::BATCH as u32).into()),
            ("seed", (qat_run::SEED as u32).into()),
        ])
    };
    let e = err_message(q::Qat::new(&model, &calib, cfg(), o()).err().unwrap());
    assert!(e.contains("not calibrated"), "{e}");
    model.calibrate(&calib, Some(qat_run::CAL_IMAGES)).unwrap();
    let e = err_message(
        q::Qat::new(&model, &calib, cfg(), opts(&[("steps", 0.into())]))
            .err()
            .unwrap(),
    );
    assert!(e.starts_with("options.steps"), "{e}");
    let e = err_message(
        q::Qat::new(&model, &calib, opts(&[("format", "bf16".into())]), o())
            .err()
            .unwrap(),
    );
    assert!(e.starts_with("config.format"), "{e}");
    let e = err_message(
        q::Qat::new(&model, &calib, cfg(), opts(&[("stepz", 1.into())]))
            .err()
            .unwrap(),
    );
    assert!(e.contains("stepz"), "{e}");

    let mut qat = q::Qat::new(&model, &calib, cfg(), o()).unwrap();
    let p = qat.run(4).unwrap();
    let get = |k: &str| Reflect::get(&p, &k.into()).unwrap();
    assert_eq!(get("step").as_f64(), Some(4.0));
    assert_eq!(get("done").as_bool(), Some(false));
    assert!(get("loss").as_f64().unwrap().is_finite());
    qat.run(100).unwrap();
    assert_eq!(qat.step(), qat_run::STEPS);
    let tuned = qat.model().unwrap();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for i in [0, 3, 7] {
        h = common::fnv1a64_f32(h, &tuned.layer_weights(i).unwrap().to_vec());
        h = common::fnv1a64_f32(h, &tuned.layer_bias(i).unwrap().to_vec());
    }
    assert_eq!(format!("{h:016x}"), qat_run::FINGERPRINT.trim());
    // The tuned model is calibrated with the trained ranges: it quantizes at once.
    let mut qm = tuned.quantize(cfg()).unwrap();
    let x = calib.images(&tuned, 0, 2).unwrap().to_vec();
    assert_eq!(qm.forward(&x, 2).unwrap().length(), 20);
    let r: Vec<[f32; 2]> = serde_wasm_bindgen::from_value(qat.ranges().unwrap()).unwrap();
    assert_eq!(r.len(), 4);
    let bytes = tuned
        .to_safetensors(Some("qat test".into()), qat.ranges().unwrap())
        .unwrap()
        .to_vec();
    let mut back = q::Model::from_safetensors(&bytes).unwrap();
    assert_eq!(
        back.layer_weights(3).unwrap().to_vec(),
        tuned.layer_weights(3).unwrap().to_vec()
    );
    // The file carries the trained ranges: loaded, calibrated and given them, it quantizes alike.
    assert!(back
        .load_note()
        .unwrap()
        .contains("activation ranges from the file"));
    back.calibrate(&calib, Some(qat_run::CAL_IMAGES)).unwrap();
    back.set_ranges(back.saved_ranges().unwrap()).unwrap();
    let y = back
        .quantize(cfg())
        .unwrap()
        .forward(&x, 2)
        .unwrap()
        .to_vec();
    assert_eq!(y, qm.forward(&x, 2).unwrap().to_vec());
}
