//! The float forward pass, with fast kernels and an optional hook that sees every activation
//! tensor that the int8 model quantizes (for calibration).

use super::{conv_shape, Layer, Model, Shape};
use crate::kernels::{fp32, ConvShape, Scratch};
use crate::{bail, Result};

/// One step of a forward pass. A ReLU right after a conv or linear layer is fused into it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    Conv {
        layer: usize,
        relu: bool,
        shape: ConvShape,
    },
    Linear {
        layer: usize,
        relu: bool,
        n_in: usize,
        n_out: usize,
    },
    Relu {
        len: usize,
    },
    MaxPool {
        c: usize,
        h: usize,
        w: usize,
    },
    Flatten,
}

impl Step {
    /// Does this step produce a new activation tensor that gets its own quantization parameters?
    pub fn is_point(&self) -> bool {
        matches!(self, Step::Conv { .. } | Step::Linear { .. })
    }
}

/// The steps of `model`, with shapes resolved and ReLUs fused.
pub fn plan(model: &Model) -> Result<Vec<Step>> {
    let shapes = model.shapes()?;
    let mut steps = Vec::new();
    let mut s: Shape = model.input;
    let mut i = 0;
    while i < model.layers.len() {
        let fused = matches!(model.layers.get(i + 1), Some(Layer::Relu));
        let step = match &model.layers[i] {
            Layer::Conv2d(c) => Step::Conv {
                layer: i,
                relu: fused,
                shape: conv_shape(c, s),
            },
            Layer::Linear(l) => Step::Linear {
                layer: i,
                relu: fused,
                n_in: l.n_in,
                n_out: l.n_out,
            },
            Layer::Relu => Step::Relu {
                len: s.iter().product(),
            },
            Layer::MaxPool2d => Step::MaxPool {
                c: s[0],
                h: s[1],
                w: s[2],
            },
            Layer::Flatten => Step::Flatten,
        };
        let skip = if step.is_point() && fused { 2 } else { 1 };
        s = shapes[i + skip - 1];
        steps.push(step);
        i += skip;
    }
    Ok(steps)
}

/// Weights for one forward pass, by layer index (empty for layers without weights).
pub type Weights<'a> = Vec<(&'a [f32], &'a [f32])>;

pub fn model_weights(model: &Model) -> Weights<'_> {
    model
        .layers
        .iter()
        .map(|l| match l {
            Layer::Conv2d(c) => (&c.weight[..], &c.bias[..]),
            Layer::Linear(f) => (&f.weight[..], &f.bias[..]),
            _ => (&[][..], &[][..]),
        })
        .collect()
}

/// Buffers of a float forward pass: two ping-pong activation buffers and kernel scratch.
#[derive(Default, Debug)]
pub struct Fp32Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
    pub kernels: Scratch,
}

/// Runs one image `x` through `steps`; calls `hook(point, activation)` after every conv/linear
/// step (points are numbered from 1; 0 is the input, which the caller sees already). Returns
/// the output vector.
pub fn forward_image<'s>(
    steps: &[Step],
    weights: &Weights,
    x: &[f32],
    sc: &'s mut Fp32Scratch,
    hook: &mut dyn FnMut(usize, &[f32]),
) -> &'s [f32] {
    let Fp32Scratch { a, b, kernels } = sc;
    a.clear();
    a.extend_from_slice(x);
    let mut len = x.len();
    let mut point = 0;
    for step in steps {
        match *step {
            Step::Conv { layer, relu, shape } => {
                let (w, bias) = weights[layer];
                len = shape.m * shape.p();
                grow(b, len);
                let col = kernels.col_f32(shape.taps() * shape.pp());
                fp32::conv2d(&shape, &a[..], w, bias, relu, col, &mut b[..len]);
                std::mem::swap(a, b);
            }
            Step::Linear {
                layer,
                relu,
                n_in,
                n_out,
            } => {
                let (w, bias) = weights[layer];
                grow(b, n_out);
                fp32::linear(n_in, n_out, &a[..n_in], w, bias, &mut b[..n_out]);
                if relu {
                    b[..n_out].iter_mut().for_each(|v| *v = v.max(0.0));
                }
                len = n_out;
                std::mem::swap(a, b);
            }
            Step::Relu { len: n } => a[..n].iter_mut().for_each(|v| *v = v.max(0.0)),
            Step::MaxPool { c, h, w } => {
                len = c * (h / 2) * (w / 2);
                grow(b, len);
                fp32::maxpool2(c, h, w, &a[..c * h * w], &mut b[..len]);
                std::mem::swap(a, b);
            }
            Step::Flatten => {}
        }
        if step.is_point() {
            point += 1;
            hook(point, &a[..len]);
        }
    }
    &a[..len]
}

fn grow(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

/// FP32 forward of a batch: `x` holds `n` images; returns `n × outputs` values.
pub fn forward(model: &Model, x: &[f32], n: usize) -> Result<Vec<f32>> {
    let steps = plan(model)?;
    let weights = model_weights(model);
    let (inp, outp) = (model.input_len(), model.output_len());
    check_batch(x, n, inp)?;
    let mut out = vec![0.0; n * outp];
    let mut sc = Fp32Scratch::default();
    for i in 0..n {
        let y = forward_image(
            &steps,
            &weights,
            &x[i * inp..][..inp],
            &mut sc,
            &mut |_, _| {},
        );
        out[i * outp..][..outp].copy_from_slice(y);
    }
    Ok(out)
}

pub fn check_batch(x: &[f32], n: usize, inp: usize) -> Result<()> {
    if n == 0 {
        bail!("n", "must be at least 1");
    }
    if n.checked_mul(inp) != Some(x.len()) {
        bail!(
            "x",
            "has {} values but {n} images of {inp} values need {}",
            x.len(),
            n.saturating_mul(inp)
        );
    }
    crate::quant::check_finite(x, "x")
}
