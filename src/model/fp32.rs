//! The float forward pass on the kernel table's f32 GEMM, with an optional hook that sees every
//! activation tensor the int8 model quantizes (for calibration).
//!
//! A batch is walked so that activations stay in cache: the convolutional part runs one image
//! at a time (its tensors fit in L1/L2), writing each image's flattened features into a chunk
//! of [`CHUNK`] rows; the linear layers then run once per chunk, as a GEMM with the images as
//! its pixels, so their weights are read once per chunk
//! instead of once per image.

use super::{conv_shape, Layer, Model, Shape};
use crate::kernels::fp32::{self as kf, PackedF32};
use crate::kernels::{self, table, AvgShape, ConvPlan, ConvShape, F32Kernel};
use crate::{bail, Result};

/// Images per chunk of the batched (linear) part.
pub const CHUNK: usize = 16;

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
        /// The NCHW shape flattened into this layer's input, when its weights absorb the
        /// NHWC → NCHW reordering.
        from: Option<Shape>,
    },
    Relu {
        len: usize,
    },
    MaxPool {
        c: usize,
        h: usize,
        w: usize,
        k: usize,
        stride: usize,
    },
    AvgPool(AvgShape),
    /// `transpose`: the NCHW shape to reorder into PyTorch's flattening order (when no linear
    /// layer absorbs it).
    Flatten {
        transpose: Option<Shape>,
    },
}

impl Step {
    /// Does this step produce a new activation tensor that gets its own quantization parameters?
    pub fn is_point(&self) -> bool {
        matches!(self, Step::Conv { .. } | Step::Linear { .. })
    }
    /// A short name for the timing breakdown.
    pub fn label(&self, model: &Model) -> String {
        match self {
            Step::Conv { layer, .. } | Step::Linear { layer, .. } => {
                model.layers[*layer].name().to_string()
            }
            Step::Relu { .. } => "relu".into(),
            Step::MaxPool { .. } => "maxpool".into(),
            Step::AvgPool(a) if a.is_global() => "global avgpool".into(),
            Step::AvgPool(_) => "avgpool".into(),
            Step::Flatten { .. } => "flatten".into(),
        }
    }
}

/// The steps of `model`, with shapes resolved and ReLUs fused.
pub fn plan(model: &Model) -> Result<Vec<Step>> {
    let shapes = model.shapes()?;
    let mut steps = Vec::new();
    let mut s: Shape = model.input;
    let mut i = 0;
    let mut flattened: Option<(usize, Shape)> = None;
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
                // The reordering is absorbed by this layer's weights.
                from: flattened.take().map(|(_, f)| f),
            },
            Layer::Relu => Step::Relu {
                len: s.iter().product(),
            },
            &Layer::MaxPool2d { k, stride } => Step::MaxPool {
                c: s[0],
                h: s[1],
                w: s[2],
                k,
                stride,
            },
            l @ (Layer::AvgPool2d { .. } | Layer::GlobalAvgPool) => {
                Step::AvgPool(l.avg_shape(s).expect("an average pool"))
            }
            Layer::Flatten => Step::Flatten { transpose: None },
        };
        if let Step::Flatten { .. } = step {
            if let Some((at, f)) = flattened.take() {
                steps[at] = Step::Flatten { transpose: Some(f) };
            }
            if s[1] * s[2] > 1 && s[0] > 1 {
                flattened = Some((steps.len(), s));
            }
        } else if !matches!(step, Step::Relu { .. } | Step::Linear { .. }) {
            // A conv or pool reads the flattened vector as channels: reorder it for real.
            if let Some((at, f)) = flattened.take() {
                steps[at] = Step::Flatten { transpose: Some(f) };
            }
        }
        let skip = if step.is_point() && fused { 2 } else { 1 };
        s = shapes[i + skip - 1];
        steps.push(step);
        i += skip;
    }
    if let Some((at, f)) = flattened {
        steps[at] = Step::Flatten { transpose: Some(f) };
    }
    Ok(steps)
}

/// Weights for one forward pass, by layer index (empty for layers without weights), in
/// PyTorch layouts.
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

/// A step ready for the kernels: conv plans and packed weights; steps without weights as
/// they are.
#[derive(Debug, Clone)]
pub enum Op {
    Conv {
        plan: ConvPlan,
        w: PackedF32,
        relu: bool,
    },
    Linear {
        w: PackedF32,
        relu: bool,
        n_in: usize,
        n_out: usize,
        rows: Vec<u32>,
    },
    Plain(Step),
}

/// A float model packed for the kernels (packing takes longer than a batch-1 forward pass,
/// so a handle keeps one).
#[derive(Debug, Clone)]
pub struct Net {
    pub steps: Vec<Step>,
    pub ops: Vec<Op>,
    pub input: Shape,
    pub input_len: usize,
    pub output_len: usize,
    /// Index of the first linear op: ops before it run per image, from it on per chunk.
    pub split: usize,
}

impl Net {
    pub fn new(model: &Model) -> Result<Net> {
        Net::with_weights(model, &model_weights(model))
    }

    /// With other weights in the model's layouts (the simulated path's dequantized ones).
    pub fn with_weights(model: &Model, weights: &Weights) -> Result<Net> {
        Ok(Net::build(
            plan(model)?,
            weights,
            model.input,
            model.output_len(),
        ))
    }

    /// From planned steps and weights by layer index.
    pub fn build(steps: Vec<Step>, weights: &Weights, input: Shape, output_len: usize) -> Net {
        let ops = steps
            .iter()
            .map(|st| match *st {
                Step::Conv { layer, relu, shape } => {
                    let plan = kf::conv_plan(shape);
                    let (w, b) = weights[layer];
                    Op::Conv {
                        w: PackedF32::conv(w, b, &plan),
                        plan,
                        relu,
                    }
                }
                Step::Linear {
                    layer,
                    relu,
                    n_in,
                    n_out,
                    from,
                } => {
                    let (w, b) = weights[layer];
                    Op::Linear {
                        w: PackedF32::linear(w, b, n_out, n_in, from),
                        relu,
                        n_in,
                        n_out,
                        rows: kernels::rows(CHUNK, n_in),
                    }
                }
                plain => Op::Plain(plain),
            })
            .collect::<Vec<_>>();
        let split = ops
            .iter()
            .position(|o| matches!(o, Op::Linear { .. }))
            .unwrap_or(ops.len());
        Net {
            steps,
            ops,
            input,
            input_len: input.iter().product(),
            output_len,
            split,
        }
    }

    /// `n` images (NCHW, `n × input_len`) → `n × output_len` scores, with the table's kernel.
    pub fn forward(&self, x: &[f32], n: usize, sc: &mut Fp32Scratch, out: &mut [f32]) {
        self.run(table::fp32(), x, n, sc, out, &mut |_, _| {}, None);
    }

    /// As `forward` with an explicit kernel, a hook that sees every point's activations and may
    /// change them (`hook(point, values)`, points numbered from 1 in step order; NHWC per image
    /// before the first linear layer, one row per image of the chunk after it; the QDQ path
    /// fake-quantizes there) and an optional clock
    /// that leaves this call's time of each step in `sc.step_ms` (index 0: input layout, then one per op).
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        kern: F32Kernel,
        x: &[f32],
        n: usize,
        sc: &mut Fp32Scratch,
        out: &mut [f32],
        hook: &mut dyn FnMut(usize, &mut [f32]),
        clock: Option<&dyn Fn() -> f64>,
    ) {
        sc.step_ms.clear();
        sc.step_ms.resize(self.ops.len() + 1, 0.0);
        let points_before_split = self.ops[..self.split]
            .iter()
            .filter(|o| matches!(o, Op::Conv { .. }))
            .count();
        let mut start = 0;
        while start < n {
            let nb = CHUNK.min(n - start);
            // (1) per image, up to the first linear layer.
            let mut row_len = 0;
            for i in 0..nb {
                let img = &x[(start + i) * self.input_len..][..self.input_len];
                let mut t = clock.map(|c| c());
                let [c, h, w] = self.input;
                let a = kernels::grow(&mut sc.a, self.input_len);
                kernels::nchw_to_nhwc(img, c, h, w, a);
                lap(clock, &mut t, &mut sc.step_ms[0]);
                let mut len = self.input_len;
                let mut point = 0;
                for (k, op) in self.ops[..self.split].iter().enumerate() {
                    len = image_op(kern, op, len, sc);
                    if let Op::Conv { .. } = op {
                        point += 1;
                        hook(point, &mut sc.a[..len]);
                    }
                    lap(clock, &mut t, &mut sc.step_ms[k + 1]);
                }
                row_len = len;
                let rows = kernels::grow(&mut sc.rows_a, nb * len);
                rows[i * len..][..len].copy_from_slice(&sc.a[..len]);
            }
            // (2) the rest per chunk: linear layers as one GEMM over the chunk's images.
            let mut len = row_len;
            let mut point = points_before_split;
            for (k, op) in self.ops.iter().enumerate().skip(self.split) {
                let mut t = clock.map(|c| c());
                match op {
                    Op::Linear {
                        w,
                        relu,
                        n_in,
                        n_out,
                        rows,
                    } => {
                        let o = kernels::grow(&mut sc.rows_b, nb * n_out);
                        kf::igemm(
                            kern,
                            nb,
                            1,
                            *n_in,
                            &sc.rows_a[..nb * n_in],
                            rows,
                            w,
                            *relu,
                            o,
                        );
                        std::mem::swap(&mut sc.rows_a, &mut sc.rows_b);
                        len = *n_out;
                        point += 1;
                        hook(point, &mut sc.rows_a[..nb * len]);
                    }
                    Op::Plain(Step::Relu { len: l }) => {
                        sc.rows_a[..nb * l].iter_mut().for_each(|v| *v = v.max(0.0))
                    }
                    _ => {
                        // Any other op after a linear layer: one row at a time.
                        let mut next = vec![];
                        for i in 0..nb {
                            let a = kernels::grow(&mut sc.a, len);
                            a.copy_from_slice(&sc.rows_a[i * len..][..len]);
                            let l = image_op(kern, op, len, sc);
                            next.extend_from_slice(&sc.a[..l]);
                        }
                        len = next.len() / nb;
                        sc.rows_a = next;
                    }
                }
                lap(clock, &mut t, &mut sc.step_ms[k + 1]);
            }
            out[start * self.output_len..][..nb * self.output_len]
                .copy_from_slice(&sc.rows_a[..nb * len]);
            start += nb;
        }
    }
}

pub(super) fn lap(clock: Option<&dyn Fn() -> f64>, t: &mut Option<f64>, acc: &mut f64) {
    if let (Some(c), Some(t0)) = (clock, t.as_mut()) {
        let now = c();
        *acc += now - *t0;
        *t0 = now;
    }
}

/// Runs `op` on the image in `sc.a` (`len` values); leaves the result in `sc.a`, returns its length.
fn image_op(kern: F32Kernel, op: &Op, len: usize, sc: &mut Fp32Scratch) -> usize {
    let Fp32Scratch { a, b, stage, .. } = sc;
    match op {
        Op::Conv { plan, w, relu } => {
            let n = plan.shape.m * plan.shape.p();
            let stage = kernels::grow(stage, plan.input_buffer_len());
            let o = kernels::grow(b, n);
            kf::conv2d(kern, plan, &a[..plan.shape.input_len()], w, *relu, stage, o);
            std::mem::swap(a, b);
            n
        }
        Op::Linear {
            w,
            relu,
            n_in,
            n_out,
            rows,
        } => {
            let o = kernels::grow(b, *n_out);
            kf::igemm(kern, 1, 1, *n_in, &a[..*n_in], &rows[..1], w, *relu, o);
            std::mem::swap(a, b);
            *n_out
        }
        Op::Plain(Step::Relu { len: l }) => {
            a[..*l].iter_mut().for_each(|v| *v = v.max(0.0));
            *l
        }
        &Op::Plain(Step::MaxPool { c, h, w, k, stride }) => {
            let n = c * kernels::pool_out(h, k, stride) * kernels::pool_out(w, k, stride);
            let o = kernels::grow(b, n);
            kf::maxpool(c, h, w, k, stride, &a[..c * h * w], o);
            std::mem::swap(a, b);
            n
        }
        Op::Plain(Step::AvgPool(p)) => {
            let n = p.output_len();
            let o = kernels::grow(b, n);
            kernels::avgpool_nhwc_f32(p, &a[..p.input_len()], o);
            std::mem::swap(a, b);
            n
        }
        Op::Plain(Step::Conv { .. } | Step::Linear { .. }) => {
            unreachable!("Net::build turns conv and linear steps into Op::Conv and Op::Linear")
        }
        Op::Plain(Step::Flatten { transpose }) => {
            if let Some([c, h, w]) = *transpose {
                let o = kernels::grow(b, len);
                kernels::nhwc_to_nchw(&a[..len], c, h, w, o);
                std::mem::swap(a, b);
            }
            len
        }
    }
}

/// Buffers of a float forward pass, kept across calls: ping-pong activations, the conv's
/// staging buffer, the chunk's rows, and the per-step times of a timed run.
#[derive(Default, Debug)]
pub struct Fp32Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
    stage: Vec<f32>,
    rows_a: Vec<f32>,
    rows_b: Vec<f32>,
    pub step_ms: Vec<f64>,
}

/// FP32 forward of a batch: `x` holds `n` images; returns `n × outputs` values.
pub fn forward(model: &Model, x: &[f32], n: usize) -> Result<Vec<f32>> {
    let net = Net::new(model)?;
    check_batch(x, n, net.input_len)?;
    let mut out = vec![0.0; n * net.output_len];
    net.forward(x, n, &mut Fp32Scratch::default(), &mut out);
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
