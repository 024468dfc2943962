//! The CNN: a list of layers (conv2d, relu, maxpool2d, flatten, linear) with PyTorch names and
//! layouts, loaded from safetensors.
//!
//! * [`fp32`]: the float forward pass (fast kernels, and a hook to capture activations).
//! * [`int8`]: the integer-only quantized model (true INT8) and the simulated path.
//! * [`digits`]: the shipped digit sets and MNIST-style preprocessing.
//! * [`file`]: reading and writing `.safetensors` model files.

pub mod digits;
pub mod eval;
pub mod file;
pub mod fp32;
pub mod int8;
pub mod ptq;
pub mod report;
pub mod timing;
pub mod weights;

use crate::kernels::{pool_out, AvgShape, ConvShape};
use crate::{bail, Result};

/// Activation shape `[channels, height, width]`; a flat vector is `[n, 1, 1]`.
pub type Shape = [usize; 3];

#[derive(Debug, Clone, PartialEq)]
pub struct Conv2d {
    pub name: String,
    /// Output channels, input channels, kernel size (square), padding (every side), stride.
    pub m: usize,
    pub c: usize,
    pub k: usize,
    pub padding: usize,
    pub stride: usize,
    /// `[m, c, k, k]`
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    pub name: String,
    pub n_out: usize,
    pub n_in: usize,
    /// `[n_out, n_in]`
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    Conv2d(Conv2d),
    Relu,
    /// k×k windows, `stride` apart, floor (no padding), as PyTorch's `MaxPool2d(k, stride)`.
    MaxPool2d {
        k: usize,
        stride: usize,
    },
    /// k×k windows, `stride` apart, floor (no padding), as PyTorch's `AvgPool2d(k, stride)`.
    AvgPool2d {
        k: usize,
        stride: usize,
    },
    /// The mean of each channel, as PyTorch's `AdaptiveAvgPool2d(1)`: `[c, h, w] → [c, 1, 1]`.
    GlobalAvgPool,
    Flatten,
    Linear(Linear),
}

impl Layer {
    /// PyTorch's `nn.MaxPool2d(2)`.
    pub const MAX_POOL_2: Layer = Layer::MaxPool2d { k: 2, stride: 2 };

    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv2d(_) => "conv2d",
            Layer::Relu => "relu",
            Layer::MaxPool2d { .. } => "maxpool2d",
            Layer::AvgPool2d { .. } => "avgpool2d",
            Layer::GlobalAvgPool => "adaptiveavgpool2d",
            Layer::Flatten => "flatten",
            Layer::Linear(_) => "linear",
        }
    }
    pub fn name(&self) -> &str {
        match self {
            Layer::Conv2d(c) => &c.name,
            Layer::Linear(l) => &l.name,
            other => other.kind(),
        }
    }
    /// The window of an average pool over input shape `s`.
    pub fn avg_shape(&self, s: Shape) -> Option<AvgShape> {
        let [c, h, w] = s;
        match *self {
            Layer::AvgPool2d { k, stride } => Some(AvgShape {
                c,
                h,
                w,
                kh: k,
                kw: k,
                stride,
            }),
            Layer::GlobalAvgPool => Some(AvgShape {
                c,
                h,
                w,
                kh: h,
                kw: w,
                stride: 1,
            }),
            _ => None,
        }
    }
    /// Weight and bias count.
    pub fn params(&self) -> usize {
        match self {
            Layer::Conv2d(c) => c.weight.len() + c.bias.len(),
            Layer::Linear(l) => l.weight.len() + l.bias.len(),
            _ => 0,
        }
    }
    /// Multiply-accumulates per image for input shape `s`.
    pub fn macs(&self, s: Shape) -> usize {
        match self {
            Layer::Conv2d(c) => {
                let cs = conv_shape(c, s);
                cs.m * cs.p() * cs.taps()
            }
            Layer::Linear(l) => l.n_in * l.n_out,
            _ => 0,
        }
    }
}

pub fn conv_shape(c: &Conv2d, input: Shape) -> ConvShape {
    ConvShape {
        c: c.c,
        h: input[1],
        w: input[2],
        m: c.m,
        k: c.k,
        pad: c.padding,
        stride: c.stride,
    }
}

/// Largest accepted model: 4 M parameters (16 MB of float32), so a hostile file cannot make the
/// page allocate without bound.
pub const MAX_PARAMS: usize = 4_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub input: Shape,
    pub layers: Vec<Layer>,
}

impl Model {
    /// Checks the layers chain from `input` and returns the shape after every layer.
    pub fn shapes(&self) -> Result<Vec<Shape>> {
        let mut s = self.input;
        let mut out = Vec::with_capacity(self.layers.len());
        if s.contains(&0) {
            bail!("input", "shape {s:?} has a zero dimension");
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let at = format!("layer {i} ({})", layer.name());
            s = match layer {
                Layer::Conv2d(c) => {
                    if c.c != s[0] {
                        bail!(
                            at,
                            "expects {} input channels but receives {} (shape {s:?})",
                            c.c,
                            s[0]
                        );
                    }
                    if c.stride == 0 {
                        bail!(at, "has stride 0; a stride is at least 1");
                    }
                    if s[1] + 2 * c.padding < c.k || s[2] + 2 * c.padding < c.k {
                        bail!(
                            at,
                            "kernel {}x{} is larger than its padded input {s:?}",
                            c.k,
                            c.k
                        );
                    }
                    let cs = conv_shape(c, s);
                    [c.m, cs.out_h(), cs.out_w()]
                }
                Layer::Relu => s,
                &(Layer::MaxPool2d { k, stride } | Layer::AvgPool2d { k, stride }) => {
                    if k == 0 || stride == 0 {
                        bail!(
                            at,
                            "has kernel {k} and stride {stride}; both must be at least 1"
                        );
                    }
                    if s[1] < k || s[2] < k {
                        bail!(
                            at,
                            "cannot pool a {}x{} input with a {k}x{k} window",
                            s[1],
                            s[2]
                        );
                    }
                    [s[0], pool_out(s[1], k, stride), pool_out(s[2], k, stride)]
                }
                Layer::GlobalAvgPool => [s[0], 1, 1],
                Layer::Flatten => [s[0] * s[1] * s[2], 1, 1],
                Layer::Linear(l) => {
                    if s[1] != 1 || s[2] != 1 {
                        bail!(
                            at,
                            "needs a flat input (add a flatten layer before it), receives {s:?}"
                        );
                    }
                    if l.n_in != s[0] {
                        bail!(
                            at,
                            "expects {} inputs but receives {} (shape {s:?})",
                            l.n_in,
                            s[0]
                        );
                    }
                    [l.n_out, 1, 1]
                }
            };
            out.push(s);
        }
        Ok(out)
    }

    /// Validates shapes, sizes and values.
    pub fn validate(&self) -> Result<()> {
        if self.layers.is_empty() {
            bail!("model", "has no layers");
        }
        let params: usize = self.layers.iter().map(Layer::params).sum();
        if params > MAX_PARAMS {
            bail!(
                "model",
                "has {params} parameters, more than the limit of {MAX_PARAMS}"
            );
        }
        for layer in &self.layers {
            let (w, b, name) = match layer {
                Layer::Conv2d(c) => (&c.weight, &c.bias, &c.name),
                Layer::Linear(l) => (&l.weight, &l.bias, &l.name),
                _ => continue,
            };
            for (t, v) in [("weight", w), ("bias", b)] {
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    bail!(
                        format!("{name}.{t}"),
                        "holds {} at index {i}; weights must be finite",
                        v[i]
                    );
                }
            }
        }
        let shapes = self.shapes()?;
        if let Some(s) = shapes.last() {
            if s[1] != 1 || s[2] != 1 {
                bail!(
                    "model",
                    "ends with shape {s:?}; it must end with a flat vector of class scores"
                );
            }
        }
        Ok(())
    }

    pub fn output_len(&self) -> usize {
        self.shapes()
            .ok()
            .and_then(|s| s.last().map(|s| s[0]))
            .unwrap_or(0)
    }

    pub fn input_len(&self) -> usize {
        self.input.iter().product()
    }

    pub fn params(&self) -> usize {
        self.layers.iter().map(Layer::params).sum()
    }

    /// Multiply-accumulates per image.
    pub fn macs(&self) -> usize {
        let mut s = self.input;
        let shapes = self.shapes().unwrap_or_default();
        let mut total = 0;
        for (l, out) in self.layers.iter().zip(shapes) {
            total += l.macs(s);
            s = out;
        }
        total
    }
}
