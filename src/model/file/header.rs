//! The safetensors header, checked before any tensor is read: dtypes, shapes, byte ranges.

use super::*;

/// What the header says, checked: every tensor's dtype, shape and byte range, before the bytes
/// are touched. Errors name the tensor and give expected vs found.
pub(super) struct Header {
    pub(super) metadata: HashMap<String, String>,
}

pub(super) fn dtype_size(name: &str) -> Option<usize> {
    Some(match name {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => return None,
    })
}

pub(super) fn check_header(bytes: &[u8]) -> Result<Header> {
    if bytes.len() > MAX_FILE_BYTES {
        bail!(
            "file",
            "is {} bytes; the limit is {MAX_FILE_BYTES} ({} parameters in float32)",
            bytes.len(),
            crate::model::MAX_PARAMS
        );
    }
    if bytes.len() < 8 {
        bail!(
            "file",
            "is {} bytes, too short for a safetensors header (truncated?)",
            bytes.len()
        );
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if n > MAX_HEADER_BYTES as u64 {
        bail!(
            "file",
            "declares a {n}-byte header; the limit is {MAX_HEADER_BYTES} bytes"
        );
    }
    let n = n as usize;
    if 8 + n > bytes.len() {
        bail!(
            "file",
            "declares a {n}-byte header but only {} bytes follow (truncated?)",
            bytes.len() - 8
        );
    }
    let text = std::str::from_utf8(&bytes[8..8 + n]).map_err(|_| {
        Error::new(
            "file",
            "header is not UTF-8 text (not a safetensors file, or garbled)",
        )
    })?;
    let json: Value = serde_json::from_str(text).map_err(|e| {
        Error::new(
            "file",
            format!("header is not valid JSON ({e}); not a safetensors file, or garbled"),
        )
    })?;
    let Some(obj) = json.as_object() else {
        bail!("file", "header must be a JSON object of tensors")
    };
    let data_len = bytes.len() - 8 - n;
    let mut metadata = HashMap::new();
    let mut ranges: Vec<(usize, usize, &str)> = Vec::new();
    let mut params = 0usize;
    for (name, info) in obj {
        if name == "__metadata__" {
            let Some(m) = info.as_object() else {
                bail!("__metadata__", "must be an object of strings")
            };
            for (k, v) in m {
                let Some(v) = v.as_str() else {
                    bail!(format!("__metadata__.{k}"), "must be a string")
                };
                metadata.insert(k.clone(), v.to_string());
            }
            continue;
        }
        let dtype = info
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(format!("tensor '{name}'"), "has no dtype"))?;
        let Some(size) = dtype_size(dtype) else {
            bail!(format!("tensor '{name}'"), "has unknown dtype '{dtype}'")
        };
        // PyTorch's BatchNorm counter (int64) is read past, whatever its dtype.
        if !matches!(dtype, "F32" | "F64" | "F16" | "BF16") && !is_bn_counter(name) {
            bail!(
                format!("tensor '{name}'"),
                "has dtype {dtype}; weights must be F32, F64, F16 or BF16"
            );
        }
        let shape: Vec<usize> = info
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(|d| d.as_u64().map(|d| d as usize)).collect())
            .ok_or_else(|| {
                Error::new(
                    format!("tensor '{name}'"),
                    "has no valid shape (a list of non-negative integers)",
                )
            })?;
        let numel = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .filter(|&v| v <= crate::model::MAX_PARAMS * 4);
        let Some(numel) = numel else {
            bail!(format!("tensor '{name}'"), "has shape {shape:?}, too large")
        };
        if numel == 0 {
            bail!(format!("tensor '{name}'"), "is empty (shape {shape:?})");
        }
        params += numel;
        if params > crate::model::MAX_PARAMS {
            bail!("model", "has more than {} parameters (tensor '{name}' alone has {numel}); the limit keeps the page responsive", crate::model::MAX_PARAMS);
        }
        let offs: Vec<usize> = info
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(|d| d.as_u64().map(|d| d as usize)).collect())
            .filter(|v: &Vec<usize>| v.len() == 2)
            .ok_or_else(|| {
                Error::new(
                    format!("tensor '{name}'"),
                    "has no valid data_offsets [start, end]",
                )
            })?;
        let (start, end) = (offs[0], offs[1]);
        if end < start || end - start != numel * size {
            bail!(format!("tensor '{name}'"), "shape {shape:?} of {dtype} needs {} bytes but its data_offsets [{start}, {end}] span {}", numel * size, end.saturating_sub(start));
        }
        if end > data_len {
            bail!(format!("tensor '{name}'"), "data_offsets [{start}, {end}] run past the end of the data ({data_len} bytes; truncated?)");
        }
        ranges.push((start, end, name));
    }
    ranges.sort_unstable();
    for w in ranges.windows(2) {
        if w[1].0 < w[0].1 {
            bail!(
                "file",
                "tensors '{}' and '{}' overlap (bytes {}..{} and {}..{})",
                w[0].2,
                w[1].2,
                w[0].0,
                w[0].1,
                w[1].0,
                w[1].1
            );
        }
    }
    Ok(Header { metadata })
}

pub(super) fn to_f32(name: &str, dtype: Dtype, data: &[u8]) -> Result<Vec<f32>> {
    Ok(match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4")))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8")) as f32)
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| crate::quant::float::f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect(),
        other => bail!(
            name,
            "has dtype {other:?}; only F32, F64, F16 and BF16 weights are supported"
        ),
    })
}
