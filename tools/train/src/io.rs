//! Reading and writing www/models/baseline-cnn.safetensors.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde_json::{Map, Value};

use crate::model::{NAMES, SHAPES};

/// The layer list the browser interprets (exact string, part of the file format).
const LAYERS: &str = r#"[{"type":"conv2d","name":"conv1","padding":0},{"type":"relu"},{"type":"maxpool2d","kernel":2},{"type":"conv2d","name":"conv2","padding":0},{"type":"relu"},{"type":"maxpool2d","kernel":2},{"type":"flatten"},{"type":"linear","name":"fc"}]"#;

/// The `__metadata__` map of the shipped file; `trained` is the one-line training record.
pub fn metadata(trained: &str) -> BTreeMap<String, String> {
    [
        ("format", "quantlab-cnn-v1"),
        ("input", "[1,32,32]"),
        ("layers", LAYERS),
        ("preprocess", "pixel/255, 28x28 zero-padded by 2 to 32x32"),
        ("trained", trained),
        ("classes", "0,1,2,3,4,5,6,7,8,9"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Serializes the six tensors as little-endian float32 with the given metadata and returns
/// the file bytes.
pub fn to_bytes(t: &[&[f32]], meta: &BTreeMap<String, String>) -> Result<Vec<u8>, String> {
    let raw: Vec<Vec<u8>> = t
        .iter()
        .map(|t| t.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = NAMES
        .iter()
        .zip(SHAPES)
        .zip(&raw)
        .map(|((&name, shape), bytes)| {
            TensorView::new(Dtype::F32, shape.to_vec(), bytes).map(|v| (name, v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tensor view: {e}"))?;
    let info: HashMap<String, String> = meta.clone().into_iter().collect();
    let mut bytes = safetensors::serialize(views, Some(info)).map_err(|e| format!("{e}"))?;
    canonicalize_header(&mut bytes)?;
    Ok(bytes)
}

/// safetensors writes `__metadata__` in std HashMap iteration order, which is randomized per
/// process, so two identical runs would give different header bytes. Rewrite the JSON header
/// with every object's keys sorted: same content, same length (compact JSON either way), hence
/// same padding and data offsets, and a byte-identical file for identical weights.
fn canonicalize_header(bytes: &mut [u8]) -> Result<(), String> {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let keys: BTreeMap<&String, &Value> = m.iter().collect();
                Value::Object(
                    keys.into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect::<Map<_, _>>(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = &bytes[8..8 + n];
    let value: Value = serde_json::from_slice(header).map_err(|e| format!("header: {e}"))?;
    let mut canon = serde_json::to_string(&sorted(&value))
        .map_err(|e| format!("{e}"))?
        .into_bytes();
    if canon.len() > n {
        return Err("canonical header longer than the original".into());
    }
    canon.resize(n, b' '); // safetensors pads the header with spaces to a multiple of 8
    bytes[8..8 + n].copy_from_slice(&canon);
    Ok(())
}

/// The six tensors of a file (in `NAMES` order) and its metadata.
pub type Tensors = (Vec<Vec<f32>>, BTreeMap<String, String>);

/// Loads a file written by `to_bytes`: checks names, dtypes and shapes, returns the six tensors
/// and the metadata.
pub fn load(path: &Path) -> Result<Tensors, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| format!("{e}"))?;
    let meta: BTreeMap<String, String> = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut p: Vec<Vec<f32>> = SHAPES
        .iter()
        .map(|s| vec![0.0; s.iter().product()])
        .collect();
    for (i, (&name, shape)) in NAMES.iter().zip(SHAPES).enumerate() {
        let view = st.tensor(name).map_err(|e| format!("{name}: {e}"))?;
        if view.dtype() != Dtype::F32 || view.shape() != shape {
            return Err(format!(
                "{name}: {:?} {:?}, expected F32 {shape:?}",
                view.dtype(),
                view.shape()
            ));
        }
        for (v, b) in p[i].iter_mut().zip(view.data().chunks_exact(4)) {
            *v = f32::from_le_bytes(b.try_into().unwrap());
        }
    }
    if st.len() != NAMES.len() {
        return Err(format!("{} tensors, expected {}", st.len(), NAMES.len()));
    }
    Ok((p, meta))
}
