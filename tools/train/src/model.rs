//! The baseline CNN as a quantlab [`Model`] (PyTorch names and layouts, NCHW):
//!
//!   x [1,32,32] -> conv1 3x3 (1->32)  -> ReLU -> maxpool 2 -> [32,15,15]
//!               -> conv2 3x3 (32->64) -> ReLU -> maxpool 2 -> [64,6,6] (floor: 13 -> 6)
//!               -> flatten (C,H,W order) [2304] -> fc (2304->10) -> logits [10]
//!
//! and the six tensors of the shipped file in the order the file lists them.

use quantlab::model::{Conv2d, Layer, Linear, Model};

pub const NAMES: [&str; 6] = [
    "conv1.weight",
    "conv1.bias",
    "conv2.weight",
    "conv2.bias",
    "fc.weight",
    "fc.bias",
];
pub const SHAPES: [&[usize]; 6] = [
    &[32, 1, 3, 3],
    &[32],
    &[64, 32, 3, 3],
    &[64],
    &[10, 2304],
    &[10],
];

/// The architecture with zero weights.
pub fn architecture() -> Model {
    let conv = |name: &str, m: usize, c: usize| {
        Layer::Conv2d(Conv2d {
            name: name.into(),
            m,
            c,
            k: 3,
            padding: 0,
            stride: 1,
            weight: vec![0.0; m * c * 9],
            bias: vec![0.0; m],
        })
    };
    Model {
        input: [1, 32, 32],
        layers: vec![
            conv("conv1", 32, 1),
            Layer::Relu,
            Layer::MAX_POOL_2,
            conv("conv2", 64, 32),
            Layer::Relu,
            Layer::MAX_POOL_2,
            Layer::Flatten,
            Layer::Linear(Linear {
                name: "fc".into(),
                n_out: 10,
                n_in: 2304,
                weight: vec![0.0; 10 * 2304],
                bias: vec![0.0; 10],
            }),
        ],
    }
}

/// The six tensors of `m`, in NAMES order.
pub fn tensors(m: &Model) -> Vec<&[f32]> {
    quantlab::model::fp32::model_weights(m)
        .into_iter()
        .filter(|(w, _)| !w.is_empty())
        .flat_map(|(w, b)| [w, b])
        .collect()
}

/// `m` with its six tensors replaced by `t` (NAMES order).
pub fn with_tensors(mut m: Model, t: &[Vec<f32>]) -> Model {
    let mut it = t.iter();
    for l in &mut m.layers {
        if let Layer::Conv2d(Conv2d { weight, bias, .. })
        | Layer::Linear(Linear { weight, bias, .. }) = l
        {
            *weight = it.next().expect("six tensors").clone();
            *bias = it.next().expect("six tensors").clone();
        }
    }
    m
}
