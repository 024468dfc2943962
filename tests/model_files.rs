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
        assert_eq!(
            note.is_some(),
            g["inferred"].as_bool().unwrap(),
            "{file}: {note:?}"
        );
        if file.contains("sequential") || file.contains("named") || file.contains("float16") {
            assert_eq!(model.input, baseline.input, "{file}");
            assert_eq!(
                model.layers.iter().map(|l| l.kind()).collect::<Vec<_>>(),
                baseline.layers.iter().map(|l| l.kind()).collect::<Vec<_>>(),
                "{file}: {note:?}"
            );
        }
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
