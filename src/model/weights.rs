//! The lab's weight views (value and error histograms, the grid, per-channel SQNR and scales) of
//! one layer of a quantized model, from the integers and scales that model holds: what GPTQ
//! rounded, group-wise scales, mixed-precision bits and a QAT-tuned model's weights are drawn as
//! they run, not re-derived with round-to-nearest.
//!
//! The numbers come from [`analyze_given`] on the layer's `w_q` and `scales`, in the layout the
//! page's `analyzeQuantization` calls used: for plain round-to-nearest both give the same result,
//! bit for bit (tests/weight_view.rs).

use super::int8::{Calibration, QModel};
use super::{Layer, Model};
use crate::quant::analysis::{analyze_given, Analysis};
use crate::quant::layout::{Layout, Spec};
use crate::quant::{Dtype, Grid, QuantParams, Scheme};
use crate::{bail, Result};
use serde::Serialize;

/// What the weight views draw for one layer and channel.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WeightView {
    pub layer: usize,
    pub layer_name: String,
    pub bits: u32,
    pub per_channel: bool,
    /// Inputs per group when group-wise (else `None`), and groups per channel (1 otherwise).
    pub group: Option<usize>,
    pub groups: usize,
    pub channel: usize,
    /// The whole layer: every weight on its own scale (`channel` picks the grid reported).
    pub a: Analysis,
    /// What the histograms draw: the channel's weights on its scale(s) when per channel or
    /// group-wise, the whole layer (`a`) per tensor.
    pub view: Analysis,
}

/// The page's histogram bins for `n` values: `2√n`, from 12 to 72 (js/charts.js `binsFor`).
pub fn bins_for(n: usize) -> usize {
    ((2.0 * (n as f64).sqrt()).round() as usize).clamp(12, 72)
}

/// The weight view of model layer `layer` (a conv or linear layer's index in `model.layers`) of
/// `q`, quantized from `model` with calibration `cal`; `bins` for both histograms, or `None` for
/// [`bins_for`] of the values each one counts.
///
/// The error is measured against the float weights that were quantized: with equalization,
/// the equalized model's (the same `cal.equalized(model)` the quantizer read), because that is
/// what `w_q · s` approximates; the original weights differ from them by a per-channel factor
/// that the next layer undoes, which is no quantization error.
pub fn weight_view(
    model: &Model,
    cal: &Calibration,
    q: &QModel,
    layer: usize,
    channel: usize,
    bins: Option<usize>,
) -> Result<WeightView> {
    if q.config.format.is_some() {
        bail!(
            "weightView",
            "a float format rounds the weights themselves: they have no integer grid to draw"
        );
    }
    let Some(ql) = q.layers().find(|l| l.layer == layer) else {
        bail!(
            "layer",
            "{layer} is not a quantized layer of this model (a conv or linear layer, not skipped)"
        );
    };
    let floats = if q.config.equalize {
        &cal.equalized(model)?.model
    } else {
        model
    };
    let w: &[f32] = match floats.layers.get(layer) {
        Some(Layer::Conv2d(c)) => &c.weight,
        Some(Layer::Linear(l)) => &l.weight,
        _ => bail!("layer", "{layer} is not a conv or linear layer"),
    };
    if w.len() != ql.w_q.len() {
        bail!(
            "model",
            "is not the model this quantized model was made from"
        );
    }
    let m = ql.scales.m;
    if channel >= m {
        bail!(
            "channel",
            "{channel} is out of range: layer {layer} has {m} channels"
        );
    }
    if let Some(b) = bins {
        if !(1..=4096).contains(&b) {
            bail!("bins", "must be from 1 to 4096, found {b}");
        }
    }
    let k = ql.scales.k;
    let qv: Vec<i32> = ql.w_q.iter().map(|&v| v as i32).collect();
    let grid = Grid::new(Dtype::Int8, ql.weight_bits, Scheme::Symmetric)?;
    let per_channel = ql.scales.group.is_none() && q.config.per_channel;
    let group = ql.scales.group;
    let groups = group.map_or(1, |g| k.div_ceil(g));
    let bins_of = |n: usize| bins.unwrap_or_else(|| bins_for(n));
    let layout = |len: usize, shape: Option<&[usize]>, axis, block_size, params| {
        Layout::resolve(
            len,
            Spec {
                shape,
                axis,
                block_size,
                params: Some(params),
                default_axis: None,
                prefix: "",
            },
        )
    };
    let params = |scale: &[f32], layout: &Layout| QuantParams {
        scale: scale.to_vec(),
        zero_point: vec![0; scale.len()],
        axis: layout.axis_index(),
    };
    // The layer's scales as the page analysed them: one per tensor (the quantizer repeats it
    // per row), one per channel, or `[m, groups]` blocked along the inputs.
    let shape = [m, k];
    let all = &ql.scales.scale;
    let (lay, scales, at) = match group {
        Some(g) => (
            layout(w.len(), Some(&shape), Some(1), Some(g), all.len())?,
            &all[..],
            channel * groups,
        ),
        None if per_channel => (
            layout(w.len(), Some(&shape), Some(0), None, m)?,
            &all[..],
            channel,
        ),
        None => (layout(w.len(), None, None, None, 1)?, &all[..1], 0),
    };
    let a = analyze_given(
        w,
        Some(&qv),
        &params(scales, &lay),
        &lay,
        &grid,
        bins_of(w.len()),
        at,
    );
    // The selected channel's weights on its own scale(s): its grid is the one drawn.
    let row = channel * k..(channel + 1) * k;
    let view = match group {
        Some(g) => {
            let own = &all[channel * groups..(channel + 1) * groups];
            let lay = layout(k, Some(&[k]), Some(0), Some(g), groups)?;
            analyze_given(
                &w[row.clone()],
                Some(&qv[row]),
                &params(own, &lay),
                &lay,
                &grid,
                bins_of(k),
                0,
            )
        }
        None if per_channel => {
            let lay = layout(k, None, None, None, 1)?;
            analyze_given(
                &w[row.clone()],
                Some(&qv[row]),
                &params(&all[channel..channel + 1], &lay),
                &lay,
                &grid,
                bins_of(k),
                0,
            )
        }
        None => a.clone(),
    };
    Ok(WeightView {
        layer,
        layer_name: ql.name.clone(),
        bits: ql.weight_bits,
        per_channel,
        group,
        groups,
        channel,
        a,
        view,
    })
}
