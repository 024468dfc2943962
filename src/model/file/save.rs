//! Writing a model back as safetensors, and reading the activation ranges a file carries.

use super::*;

/// The activation clip ranges a file carries (`__metadata__.activation_ranges`, a JSON array of
/// `[min, max]`, 0 the input: what quantization-aware training learned), or `None`.
pub fn activation_ranges(bytes: &[u8]) -> Result<Option<Vec<(f32, f32)>>> {
    let header = check_header(bytes)?;
    let Some(text) = header.metadata.get("activation_ranges") else {
        return Ok(None);
    };
    let r: Vec<[f32; 2]> = serde_json::from_str(text).map_err(|_| {
        Error::new(
            "__metadata__.activation_ranges",
            "must be a JSON array of [min, max] pairs",
        )
    })?;
    Ok(Some(r.into_iter().map(|[a, b]| (a, b)).collect()))
}

/// Writes `model` as safetensors (float32) with its layer list in `__metadata__`.
pub fn save(model: &Model, extra_meta: &[(&str, &str)]) -> Result<Vec<u8>> {
    let mut layers = Vec::new();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for l in &model.layers {
        layers.push(match l {
            Layer::Conv2d(c) => {
                tensors.push((
                    format!("{}.weight", c.name),
                    vec![c.m, c.c, c.k, c.k],
                    bytes(&c.weight),
                ));
                tensors.push((format!("{}.bias", c.name), vec![c.m], bytes(&c.bias)));
                serde_json::json!({"type": "conv2d", "name": c.name, "padding": c.padding, "stride": c.stride})
            }
            Layer::Linear(f) => {
                tensors.push((
                    format!("{}.weight", f.name),
                    vec![f.n_out, f.n_in],
                    bytes(&f.weight),
                ));
                tensors.push((format!("{}.bias", f.name), vec![f.n_out], bytes(&f.bias)));
                serde_json::json!({"type": "linear", "name": f.name})
            }
            Layer::Relu => serde_json::json!({"type": "relu"}),
            Layer::MaxPool2d { k, stride } => serde_json::json!({"type": "maxpool2d", "kernel": k, "stride": stride}),
            Layer::AvgPool2d { k, stride } => serde_json::json!({"type": "avgpool2d", "kernel": k, "stride": stride}),
            Layer::GlobalAvgPool => serde_json::json!({"type": "adaptiveavgpool2d", "output": 1}),
            Layer::Flatten => serde_json::json!({"type": "flatten"}),
        });
    }
    let mut meta: HashMap<String, String> = extra_meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    meta.insert("format".into(), "quantlab-cnn-v1".into());
    meta.insert("layers".into(), Value::Array(layers).to_string());
    meta.insert(
        "input".into(),
        format!("[{},{},{}]", model.input[0], model.input[1], model.input[2]),
    );
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, s, d)| {
            Ok((
                n.clone(),
                safetensors::tensor::TensorView::new(Dtype::F32, s.clone(), d)
                    .map_err(|e| Error::new(n, e.to_string()))?,
            ))
        })
        .collect::<Result<_>>()?;
    safetensors::serialize(views, Some(meta)).map_err(|e| Error::new("file", e.to_string()))
}
