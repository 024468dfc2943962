//! The lab's weight views come from the quantized model itself (model::weights): for plain
//! round-to-nearest they are exactly what the page computed before with `analyzeQuantization`
//! from the float weights; with GPTQ or equalization they follow the model's own integers.
#![cfg(not(target_arch = "wasm32"))]

mod common;
use quantlab::api::{analyze_quantization, QuantOptions};
use quantlab::model::digits::Digits;
use quantlab::model::eval::images;
use quantlab::model::int8::{
    calibrate, quantize_model, Calibration, QModel, QuantConfig, Rounding,
};
use quantlab::model::weights::{bins_for, weight_view, WeightView};
use quantlab::model::{Layer, Model};
use quantlab::quant::analysis::Analysis;
use quantlab::quant::calibrate::Method;
use quantlab::quant::{Dtype, QuantParams, Scheme};
use std::sync::OnceLock;

struct Fixture {
    model: Model,
    cal: Calibration,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let model = common::baseline();
        let calib = Digits::parse(include_bytes!("../www/data/digits-calib.bin")).unwrap();
        let xc = images(&model, &calib).unwrap();
        let cal = calibrate(&model, &xc, calib.len()).unwrap();
        Fixture { model, cal }
    })
}

fn quantized(c: &QuantConfig) -> QModel {
    let f = fixture();
    quantize_model(&f.model, &f.cal, c).unwrap()
}

fn view(q: &QModel, layer: usize, channel: usize) -> WeightView {
    let f = fixture();
    weight_view(&f.model, &f.cal, q, layer, channel, None).unwrap()
}

fn weights(m: &Model, layer: usize) -> (&[f32], usize) {
    match &m.layers[layer] {
        Layer::Conv2d(c) => (&c.weight, c.m),
        Layer::Linear(l) => (&l.weight, l.n_out),
        _ => panic!("layer {layer} has no weights"),
    }
}

/// What the page's `computeWeights` (js/lab/controller.js, before the views came from the
/// worker) computed: min-max symmetric analysis of the float weights, then the channel's slice
/// on its own scale(s).
fn page(
    layer: usize,
    channel: usize,
    bits: u32,
    granularity: &str,
    group: usize,
) -> (Analysis, Analysis) {
    let (w, m) = weights(&fixture().model, layer);
    let k = w.len() / m;
    let groups = if granularity == "group" {
        k.div_ceil(group)
    } else {
        1
    };
    let mut opts = QuantOptions::new(Dtype::Int8, bits, Scheme::Symmetric, Method::MinMax).unwrap();
    opts.shape = Some(vec![m, k]);
    let at = match granularity {
        "channel" => {
            opts.axis = Some(0);
            channel
        }
        "group" => {
            opts.axis = Some(1);
            opts.block_size = Some(group);
            channel * groups
        }
        _ => 0,
    };
    let a = analyze_quantization(w, &opts, None, bins_for(w.len()), at).unwrap();
    if granularity == "tensor" {
        return (a.clone(), a);
    }
    let slice = &w[channel * k..(channel + 1) * k];
    let own = QuantParams {
        scale: a.scale[channel * groups..(channel + 1) * groups].to_vec(),
        zero_point: vec![0; groups],
        axis: None,
    };
    let mut o = QuantOptions::new(Dtype::Int8, bits, Scheme::Symmetric, Method::MinMax).unwrap();
    if granularity == "group" {
        o.shape = Some(vec![k]);
        o.axis = Some(0);
        o.block_size = Some(group);
    }
    let v = analyze_quantization(slice, &o, Some(own), bins_for(slice.len()), 0).unwrap();
    (a, v)
}

fn config(bits: u32, granularity: &str, group: usize) -> QuantConfig {
    QuantConfig {
        weight_bits: bits,
        per_channel: granularity != "tensor",
        group_size: (granularity == "group").then_some(group),
        ..QuantConfig::default()
    }
}

#[test]
fn round_to_nearest_gives_what_the_page_computed() {
    let layers: Vec<usize> = (0..fixture().model.layers.len())
        .filter(|&i| {
            matches!(
                fixture().model.layers[i],
                Layer::Conv2d(_) | Layer::Linear(_)
            )
        })
        .collect();
    for granularity in ["tensor", "channel", "group"] {
        for bits in [8, 4, 2] {
            let q = quantized(&config(bits, granularity, 16));
            for &layer in &layers {
                let m = weights(&fixture().model, layer).1;
                for channel in [0, m / 2, m - 1] {
                    let v = view(&q, layer, channel);
                    let (a, own) = page(layer, channel, bits, granularity, 16);
                    let at =
                        format!("layer {layer}, channel {channel}, {bits} bits, {granularity}");
                    assert_eq!(v.a, a, "whole layer: {at}");
                    assert_eq!(v.view, own, "channel view: {at}");
                    assert_eq!(
                        (v.bits, v.channel, v.per_channel),
                        (bits, channel, granularity == "channel"),
                        "{at}"
                    );
                    assert_eq!(v.group, (granularity == "group").then_some(16), "{at}");
                }
            }
        }
    }
}

/// SQNR of `w` against what the model runs (`w_dq`), as `analyze` computes it.
fn sqnr(w: &[f32], dq: &[f32]) -> f64 {
    let (mut x2, mut e2) = (0f64, 0f64);
    for (&a, &b) in w.iter().zip(dq) {
        x2 += (a as f64).powi(2);
        e2 += ((a - b) as f64).powi(2);
    }
    10.0 * (x2 / e2).log10()
}

fn layer_of(q: &QModel, layer: usize) -> &quantlab::model::int8::QLayer {
    q.layers().find(|l| l.layer == layer).unwrap()
}

#[test]
fn gptq_is_drawn_as_the_model_rounded_it() {
    let conv2 = 3; // conv1, relu, pool, conv2: the layer GPTQ changes most at 3 bits
    let nearest = quantized(&config(3, "tensor", 0));
    let gptq = quantized(&QuantConfig {
        rounding: Rounding::Gptq,
        ..config(3, "tensor", 0)
    });
    let (vn, vg) = (view(&nearest, conv2, 0), view(&gptq, conv2, 0));
    let w = weights(&fixture().model, conv2).0;
    let ql = layer_of(&gptq, conv2);
    assert_ne!(
        ql.w_q,
        layer_of(&nearest, conv2).w_q,
        "GPTQ rounds some weights otherwise"
    );
    // The same grid (min-max scales), other integers: another error, the model's own.
    assert_eq!(vg.a.scale, vn.a.scale);
    assert_ne!(vg.a.error_histogram, vn.a.error_histogram);
    assert!(
        vg.a.mse > vn.a.mse,
        "GPTQ trades weight error for output error"
    );
    let own = sqnr(w, &ql.w_dq);
    assert!(
        (vg.a.sqnr_db - own).abs() < 1e-9,
        "{} vs the model's {own}",
        vg.a.sqnr_db
    );
    let zeros = ql.w_q.iter().filter(|&&v| v == 0).count() as f64 / w.len() as f64;
    assert_eq!(vg.a.zero_fraction, zeros);
}

#[test]
fn equalization_is_drawn_from_the_equalized_weights() {
    let f = fixture();
    let c = QuantConfig {
        equalize: true,
        ..config(4, "tensor", 0)
    };
    let eq = quantized(&c);
    let plain = quantized(&config(4, "tensor", 0));
    let conv1 = 0;
    let (ve, vp) = (view(&eq, conv1, 0), view(&plain, conv1, 0));
    let ql = layer_of(&eq, conv1);
    let w = weights(&f.cal.equalized(&f.model).unwrap().model, conv1).0;
    assert_ne!(
        ve.a.scale, vp.a.scale,
        "equalization changes the layer's range"
    );
    assert_ne!(ve.a.data_max, vp.a.data_max);
    let own = sqnr(w, &ql.w_dq);
    assert!(
        (ve.a.sqnr_db - own).abs() < 1e-9,
        "{} vs the model's {own}",
        ve.a.sqnr_db
    );
    assert!(
        ve.a.sqnr_db > vp.a.sqnr_db,
        "equalized channels fit a per-tensor grid better"
    );
    // Its values are the equalized weights.
    assert_eq!(ve.a.count, w.len());
    assert_eq!(
        ve.a.data_min,
        w.iter().copied().fold(f32::INFINITY, f32::min)
    );
}

#[test]
fn mixed_precision_and_bad_arguments() {
    let q = quantized(&QuantConfig {
        layer_bits: vec![(3, 2, 8)],
        ..config(6, "channel", 0)
    });
    assert_eq!(view(&q, 3, 0).bits, 2);
    assert_eq!(view(&q, 3, 0).a.grid.len(), 3);
    assert_eq!(view(&q, 0, 0).bits, 6);
    let f = fixture();
    let e = weight_view(&f.model, &f.cal, &q, 1, 0, None).unwrap_err();
    assert_eq!(e.subject, "layer");
    let e = weight_view(&f.model, &f.cal, &q, 0, 10_000, None).unwrap_err();
    assert_eq!(e.subject, "channel");
    let e = weight_view(&f.model, &f.cal, &q, 0, 0, Some(0)).unwrap_err();
    assert_eq!(e.subject, "bins");
}
