//! The quantizer: a float model and its calibration to a `QModel` (weights, biases, activation
//! parameters, packed kernels), with the techniques of the config applied.

use super::*;

/// Symmetric weight quantization: `s[m] = max|w[m, ·]| / qmax` (ORT's compute_scale_zp with a
/// symmetric narrow grid), `z = 0`, `q = clamp(round_half_even(w / s[m]), −qmax, qmax)`.
pub fn quantize_weights(
    w: &[f32],
    m: usize,
    bits: u32,
    per_channel: bool,
) -> Result<(Vec<i8>, Vec<f32>)> {
    let grid = Grid::new(Dtype::Int8, bits, Scheme::Symmetric)?;
    let qmax = grid.qrange().1;
    let scales = WeightScales::minmax(w, m, qmax, per_channel, None)?;
    Ok((scales.round(w, qmax), scales.scale))
}

/// `b_q[m] = round_half_even(b[m] / float32(s_x·s_w[m]))` in float64, saturated to int32 (ORT).
pub fn quantize_bias(b: &[f32], sx: f32, sw: &[f32]) -> Vec<i32> {
    b.iter()
        .zip(sw)
        .map(|(&b, &s)| {
            ((b as f64) / ((sx * s) as f64))
                .round_ties_even()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32
        })
        .collect()
}

pub fn quantize_model(model: &Model, cal: &Calibration, config: &QuantConfig) -> Result<QModel> {
    if let Some(g) = config.group_size {
        if g == 0 {
            bail!("config.groupSize", "must be at least 1, found 0");
        }
    }
    if config.equalize {
        let e = cal.equalized(model)?;
        let mut q = quantize_plain(&e.model, &e.calibration, config)?;
        q.equalized = e.pairs.clone();
        return Ok(q);
    }
    quantize_plain(model, cal, config)
}

fn quantize_plain(model: &Model, cal: &Calibration, config: &QuantConfig) -> Result<QModel> {
    let steps = plan(model)?;
    // A float format rounds the float weights themselves: no GPTQ, no bias correction.
    let stats = if config.format.is_none()
        && (config.rounding == Rounding::Gptq || config.bias_correction)
    {
        Some(cal.stats(model)?)
    } else {
        None
    };
    if cal.points.len() != 1 + steps.iter().filter(|s| s.is_point()).count() {
        bail!("calibration", "belongs to a different model");
    }
    for &(l, w, a) in &config.layer_bits {
        if l >= model.layers.len()
            || !matches!(model.layers[l], Layer::Conv2d(_) | Layer::Linear(_))
        {
            bail!(
                "config.layerBits",
                "names layer {l}, which is not a conv or linear layer"
            );
        }
        Grid::new(Dtype::Int8, w, Scheme::Symmetric)
            .map_err(|e| crate::Error::new("config.layerBits", format!("weight {}", e)))?;
        Grid::new(Dtype::Int8, a, Scheme::Asymmetric)
            .map_err(|e| crate::Error::new("config.layerBits", format!("activation {}", e)))?;
    }
    let act_grid = |bits| Grid::new(Dtype::Int8, bits, config.act_scheme);
    let input = cal.act_params(0, config.method, &act_grid(config.act_bits)?)?;
    let mut cur = input;
    let mut point = 0;
    let mut qsteps = Vec::with_capacity(steps.len());
    let mut fp32_bias = vec![vec![]; model.layers.len()];
    let mut fp32_skipped = vec![vec![]; model.layers.len()];
    for &l in &config.skip {
        match model.layers.get(l) {
            Some(Layer::Conv2d(c)) => fp32_skipped[l] = c.weight.clone(),
            Some(Layer::Linear(f)) => fp32_skipped[l] = f.weight.clone(),
            _ => bail!(
                "config.skip",
                "names layer {l}, which is not a conv or linear layer"
            ),
        }
    }
    for step in &steps {
        qsteps.push(match *step {
            Step::Conv { layer, relu, shape } => {
                let Layer::Conv2d(c) = &model.layers[layer] else {
                    unreachable!("plan gives conv steps for conv layers")
                };
                point += 1;
                fp32_bias[layer] = c.bias.clone();
                let q = quant_layer(
                    layer,
                    &c.name,
                    relu,
                    shape,
                    None,
                    &c.weight,
                    &c.bias,
                    cur,
                    (cal, point),
                    config,
                    stats.and_then(|s| s[layer].as_ref()),
                )?;
                cur = q.y;
                QStep::Layer(Box::new(q))
            }
            Step::Linear {
                layer,
                relu,
                n_in,
                n_out,
                from,
            } => {
                let Layer::Linear(l) = &model.layers[layer] else {
                    unreachable!("plan gives linear steps for linear layers")
                };
                point += 1;
                fp32_bias[layer] = l.bias.clone();
                let shape = ConvShape {
                    c: n_in,
                    h: 1,
                    w: 1,
                    m: n_out,
                    k: 1,
                    pad: 0,
                    stride: 1,
                };
                let q = quant_layer(
                    layer,
                    &l.name,
                    relu,
                    shape,
                    Some(from),
                    &l.weight,
                    &l.bias,
                    cur,
                    (cal, point),
                    config,
                    stats.and_then(|s| s[layer].as_ref()),
                )?;
                cur = q.y;
                QStep::Layer(Box::new(q))
            }
            Step::Relu { len } => QStep::Relu {
                len,
                zero_point: cur.zero_point,
            },
            Step::MaxPool { c, h, w, k, stride } => QStep::MaxPool { c, h, w, k, stride },
            Step::AvgPool(shape) => QStep::AvgPool {
                shape,
                quant: AvgQuant {
                    x_scale: cur.scale,
                    x_zero_point: cur.zero_point,
                    y_scale: cur.scale,
                    y_zero_point: cur.zero_point,
                    qmin: cur.qmin,
                    qmax: cur.qmax,
                },
            },
            Step::Flatten { transpose } => QStep::Flatten { transpose },
        });
    }
    let split = qsteps
        .iter()
        .position(|s| matches!(s, QStep::Layer(l) if l.is_linear))
        .unwrap_or(qsteps.len());
    let qdq = (config.deployed() == Deployed::Qdq).then(|| qdq_net(&qsteps, &steps, model));
    Ok(QModel {
        qdq,
        equalized: vec![],
        config: config.clone(),
        input,
        output: cur,
        steps: qsteps,
        input_shape: model.input,
        kernel: table::int8(),
        split,
        input_len: model.input_len(),
        output_len: model.output_len(),
        fp32_steps: steps,
        fp32_bias,
        fp32_skipped,
    })
}

/// The QDQ graph's float net: every quantized layer's dequantized weights and float bias.
fn qdq_net(qsteps: &[QStep], steps: &[Step], model: &Model) -> Net {
    let mut weights: Weights = vec![(&[][..], &[][..]); model.layers.len()];
    for s in qsteps {
        if let QStep::Layer(l) = s {
            weights[l.layer] = (&l.w_dq[..], &l.bias_f[..]);
        }
    }
    Net::build(steps.to_vec(), &weights, model.input, model.output_len())
}

/// QuantizeLinear → DequantizeLinear in place: `v ← (q(v) − z)·s`.
pub(super) fn fake_quant(v: &mut [f32], scale: f32, zero_point: i32, qmin: i32, qmax: i32) {
    for x in v {
        *x = dequantize_value(
            quantize_value(*x, scale, zero_point, qmin, qmax),
            scale,
            zero_point,
        );
    }
}

/// DynamicQuantizeLinear's rule on a `[0, 2^b − 1]` grid (b = 8: onnxruntime's exactly), then back
/// to float.
pub fn dynamic_fake_quant(v: &mut [f32], bits: u32) {
    let qmax = (1i32 << bits) - 1;
    let (s, z) = crate::quant::linear::dynamic_params(v, qmax);
    fake_quant(v, s, z, 0, qmax);
}

/// The integer model's grid for layer `layer`'s weights `w` (`rows` output channels): min-max
/// symmetric scales per tensor, channel or group as `config` says, and `qmax` of its narrow range.
/// Post-training quantization and QAT's fake quantization both take it from here.
pub fn weight_grid(
    w: &[f32],
    rows: usize,
    layer: usize,
    config: &QuantConfig,
) -> Result<(WeightScales, i32)> {
    let qmax = Grid::new(Dtype::Int8, config.bits_for(layer).0, Scheme::Symmetric)?
        .qrange()
        .1;
    let scales = WeightScales::minmax(w, rows, qmax, config.per_channel, config.group_size)?;
    Ok((scales, qmax))
}

#[allow(clippy::too_many_arguments)]
fn quant_layer(
    layer: usize,
    name: &str,
    relu: bool,
    shape: ConvShape,
    linear: Option<Option<Shape>>,
    w: &[f32],
    b: &[f32],
    x: ActParams,
    (cal, point): (&Calibration, usize),
    config: &QuantConfig,
    stats: Option<&LayerStats>,
) -> Result<QLayer> {
    let (wbits, abits) = config.bits_for(layer);
    let (scales, qmax) = weight_grid(w, shape.m, layer, config)?;
    let w_q = match (config.rounding, stats) {
        (Rounding::Gptq, Some(st)) => ptq::gptq(w, st, &scales, qmax),
        _ => scales.round(w, qmax),
    };
    let mut w_dq = scales.dequantize(&w_q);
    let mut bias_f = match (config.bias_correction, stats) {
        (true, Some(st)) => ptq::corrected_bias(b, w, &w_dq, st),
        _ => b.to_vec(),
    };
    if let Some(f) = config.format {
        // A float format: the weights and bias the net runs are the format's, not the grid's.
        w_dq = w.iter().map(|&v| f.round()(v)).collect();
        bias_f = b.iter().map(|&v| f.round()(v)).collect();
    }
    let b = &bias_f[..];
    // The integer path needs one scale per output channel; group-wise layers run as QDQ, and
    // their integer packing (below) uses each row's largest group scale only to stay well-formed.
    let w_scale: Vec<f32> = match config.group_size {
        None => scales.scale.clone(),
        Some(_) => scales
            .scale
            .chunks(scales.scale.len() / shape.m)
            .map(|r| r.iter().fold(0f32, |a, &v| a.max(v)))
            .collect(),
    };
    let y = cal.act_params(
        point,
        config.method,
        &Grid::new(Dtype::Int8, abits, config.act_scheme)?,
    )?;
    let bias_q = quantize_bias(b, x.scale, &w_scale);
    let multiplier = w_scale
        .iter()
        .map(|&sw| crate::kernels::reference::multiplier(x.scale, sw, y.scale))
        .collect();
    let lo = if relu {
        y.qmin.max(y.zero_point)
    } else {
        y.qmin
    };
    let rq = Requant {
        multiplier,
        zero_point: y.zero_point,
        lo,
        hi: y.qmax,
    };
    let plan = if linear.is_none() {
        Some(k8::conv_plan(shape))
    } else {
        None
    };
    let from = linear.flatten();
    let packed = pack_layer(
        table::int8(),
        &w_q,
        &bias_q,
        plan.as_ref(),
        shape,
        from,
        x.zero_point,
        &rq,
    );
    Ok(QLayer {
        layer,
        name: name.to_string(),
        relu,
        weight_bits: wbits,
        act_bits: abits,
        shape,
        is_linear: linear.is_some(),
        w_q,
        w_scale,
        per_channel: config.per_channel,
        scales,
        w_dq,
        bias_f,
        bias_q,
        x,
        y,
        rq,
        from,
        plan,
        rows: if linear.is_some() {
            kernels::rows(CHUNK, shape.c)
        } else {
            vec![]
        },
        packed,
    })
}
