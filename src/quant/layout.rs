//! How quantization parameters line up with a tensor, as ONNX QuantizeLinear / DequantizeLinear
//! (opset 21) broadcast them. One implementation serves per-tensor, per-axis and blocked
//! (group-wise) parameters:
//!
//! ```text
//! the data, seen along the quantization axis a:   [outer, D, inner]   (D = shape[a])
//! per tensor:  scale []                     element (o, d, i) uses scale[0]
//! per axis:    scale [D]                    element (o, d, i) uses scale[d]
//! blocked:     scale [outer, ⌈D/B⌉, inner]  element (o, d, i) uses scale[o, ⌊d/B⌋, i]
//!              (the last block is short when B does not divide D)
//! ```
//!
//! All three are one rule on the 3-D view: a parameter tensor `[outer_p, blocks, inner_p]`
//! (outer_p = inner_p = 1 unless blocked) whose middle axis is repeated `B` times (`select`) and
//! which is then broadcast to `[outer, D, inner]`. Kernels never see this: it is for the ops and
//! the analysis; the model's packed layers stay on flat slices.

use ndarray::{Array3, ArrayView3, ArrayViewMut3, Axis, CowArray, Ix3, ShapeBuilder, Zip};

use super::checked_numel;
use crate::{bail, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Tensor,
    /// One parameter per index of `axis`.
    Axis(usize),
    /// One parameter per block of `size` consecutive indices along `axis`, for every index of the
    /// other axes (ONNX `block_size`).
    Block {
        axis: usize,
        size: usize,
    },
}

/// A tensor's shape and how its parameters map onto it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub shape: Vec<usize>,
    pub granularity: Granularity,
}

/// What a caller was given (JS options or a test), before it is checked against the data.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spec<'a> {
    pub shape: Option<&'a [usize]>,
    pub axis: Option<i64>,
    pub block_size: Option<usize>,
    /// Number of scales given; `None` when calibration will choose them.
    pub params: Option<usize>,
    /// ONNX's default: per-axis (or blocked) parameters without an axis go along axis 1. The
    /// calibration entry points have no default and ask for the axis instead.
    pub default_axis: Option<i64>,
    /// Prefix of the subjects in error messages: `""` for the ops, `"options."` for the rest.
    pub prefix: &'a str,
}

impl Layout {
    pub fn tensor(len: usize) -> Layout {
        Layout {
            shape: vec![len],
            granularity: Granularity::Tensor,
        }
    }

    /// Per-axis parameters along `axis` of `shape`.
    pub fn axis(shape: &[usize], axis: usize) -> Layout {
        Layout {
            shape: shape.to_vec(),
            granularity: Granularity::Axis(axis),
        }
    }

    /// Blocked parameters: blocks of `size` along `axis` of `shape`.
    pub fn blocked(shape: &[usize], axis: usize, size: usize) -> Layout {
        Layout {
            shape: shape.to_vec(),
            granularity: Granularity::Block { axis, size },
        }
    }

    /// The one place user options become a layout, for the ops and for calibration alike.
    pub fn resolve(len: usize, spec: Spec) -> Result<Layout> {
        let p = spec.prefix;
        if let Some(shape) = spec.shape {
            let n = checked_numel(shape)?;
            if n != len {
                bail!(
                    format!("{p}shape"),
                    "{shape:?} holds {n} elements but the data has {len}"
                );
            }
        }
        if spec.block_size == Some(0) {
            bail!(format!("{p}blockSize"), "must be at least 1, found 0");
        }
        let many = spec.params.is_some_and(|n| n > 1);
        let axis = match spec.axis {
            Some(a) => a,
            None if spec.block_size.is_none() && !many => {
                return Ok(Layout {
                    shape: spec.shape.map_or_else(|| vec![len], <[usize]>::to_vec),
                    granularity: Granularity::Tensor,
                });
            }
            None => match spec.default_axis {
                Some(a) => a,
                None if spec.block_size.is_some() => {
                    bail!(format!("{p}axis"), "is required with {p}blockSize")
                }
                None => bail!(format!("{p}axis"), "is required with more than one scale"),
            },
        };
        let flat = [len];
        let shape = match spec.shape {
            Some(s) => s,
            // A flat tensor has only axis 0.
            None if axis == 0 || axis == -1 => &flat[..],
            None => bail!(
                format!("{p}shape"),
                "is required for per-axis parameters along axis {axis}"
            ),
        };
        let rank = shape.len() as i64;
        if rank == 0 || axis < -rank || axis >= rank {
            bail!(
                format!("{p}axis"),
                "{axis} is out of range for shape {shape:?} (rank {rank})"
            );
        }
        let a = if axis < 0 { axis + rank } else { axis } as usize;
        let layout = Layout {
            shape: shape.to_vec(),
            granularity: match spec.block_size {
                Some(size) => Granularity::Block { axis: a, size },
                None => Granularity::Axis(a),
            },
        };
        if let Some(n) = spec.params {
            let want = layout.param_count();
            if n != want {
                match layout.granularity {
                    Granularity::Block { size, .. } => bail!(
                        format!("{p}scale"),
                        "has {n} elements but blocks of {size} along axis {a} of shape {shape:?} need {want} (scale shape {:?})",
                        layout.param_shape()
                    ),
                    _ => bail!(
                        format!("{p}scale"),
                        "has {n} elements but axis {a} of shape {shape:?} has {want} channels"
                    ),
                }
            }
        }
        Ok(layout)
    }

    /// `(outer, D, inner, B)`: the 3-D view of the data and the block length along its middle axis.
    fn dims(&self) -> (usize, usize, usize, usize) {
        let len: usize = self.shape.iter().product();
        match self.granularity {
            Granularity::Tensor => (1, len, 1, len.max(1)),
            Granularity::Axis(a) | Granularity::Block { axis: a, .. } => {
                let outer = self.shape[..a].iter().product();
                let inner = self.shape[a + 1..].iter().product();
                let b = match self.granularity {
                    Granularity::Block { size, .. } => size,
                    _ => 1,
                };
                (outer, self.shape[a], inner, b)
            }
        }
    }

    /// Shape of the parameter tensor in the 3-D view: `[outer_p, blocks, inner_p]`.
    fn param_dims(&self) -> (usize, usize, usize) {
        let (outer, d, inner, b) = self.dims();
        match self.granularity {
            Granularity::Tensor => (1, 1, 1),
            Granularity::Axis(_) => (1, d, 1),
            Granularity::Block { .. } => (outer, d.div_ceil(b), inner),
        }
    }

    /// Number of `(scale, zero point)` pairs.
    pub fn param_count(&self) -> usize {
        let (o, b, i) = self.param_dims();
        o * b * i
    }

    /// The parameter tensor's ONNX shape: `[]`, `[D]`, or the data's shape with `D → ⌈D/B⌉`.
    pub fn param_shape(&self) -> Vec<usize> {
        match self.granularity {
            Granularity::Tensor => vec![],
            Granularity::Axis(a) => vec![self.shape[a]],
            Granularity::Block { axis, size } => {
                let mut s = self.shape.clone();
                s[axis] = s[axis].div_ceil(size);
                s
            }
        }
    }

    /// The axis parameters vary along, if any.
    pub fn axis_index(&self) -> Option<usize> {
        match self.granularity {
            Granularity::Tensor => None,
            Granularity::Axis(a) | Granularity::Block { axis: a, .. } => Some(a),
        }
    }

    pub fn block_size(&self) -> Option<usize> {
        match self.granularity {
            Granularity::Block { size, .. } => Some(size),
            _ => None,
        }
    }

    fn view3<'a, T>(&self, data: &'a [T]) -> ArrayView3<'a, T> {
        let (o, d, i, _) = self.dims();
        ArrayView3::from_shape((o, d, i), data).expect("the layout was resolved for this length")
    }

    fn view3_mut<'a, T>(&self, data: &'a mut [T]) -> ArrayViewMut3<'a, T> {
        let (o, d, i, _) = self.dims();
        ArrayViewMut3::from_shape((o, d, i), data).expect("the layout was resolved for this length")
    }

    /// `params` (one per pair, row-major in [`Layout::param_shape`]) expanded to the data's 3-D
    /// view: blocks repeated along the middle axis, the rest a broadcast (no copy). Only ever
    /// expanded for parameter indices: scales and zero points are read through them, so the
    /// module holds one copy of ndarray's select and broadcast, not one per element type.
    fn expand<'a>(&self, params: &'a [usize]) -> CowArray<'a, usize, Ix3> {
        let (o, d, i, b) = self.dims();
        let (po, pb, pi) = self.param_dims();
        assert_eq!(params.len(), po * pb * pi, "one parameter per pair");
        if b > 1 && pb > 1 {
            // Blocked: the parameter tensor already has the outer and inner axes; repeat each
            // block's row B times along the middle one.
            let p = ArrayView3::from_shape((po, pb, pi), params).expect("checked above");
            let rows: Vec<usize> = (0..d).map(|k| k / b).collect();
            return p.select(Axis(1), &rows).into();
        }
        // Per tensor / per axis: a broadcast, i.e. stride 0 along the axes the parameters lack.
        let stride = |n: usize, s: usize| if n == 1 { 0 } else { s };
        let strides = (stride(po, pb * pi), stride(pb, pi), stride(pi, 1));
        ArrayView3::from_shape((o, d, i).strides(strides), params)
            .expect("parameter axes are 1 or the data's")
            .into()
    }

    /// The parameter index of every element, in the data's order.
    pub fn param_index(&self) -> Array3<usize> {
        let idx: Vec<usize> = (0..self.param_count()).collect();
        self.expand(&idx).into_owned()
    }

    /// `f(p, values)` for every parameter `p` and the values it governs (copied when they are not
    /// contiguous), in parameter order: what calibration observes.
    pub fn for_each_group(&self, data: &[f32], mut f: impl FnMut(usize, &[f32])) {
        if self.granularity == Granularity::Tensor {
            return f(0, data);
        }
        let (_, _, _, b) = self.dims();
        let v = self.view3(data);
        let mut buf = Vec::new();
        let mut group = |p: usize, g: ndarray::ArrayView3<f32>| match g.as_slice() {
            Some(s) => f(p, s),
            None => {
                buf.clear();
                buf.extend(g.iter().copied());
                f(p, &buf);
            }
        };
        match self.granularity {
            Granularity::Tensor => unreachable!("handled above"),
            Granularity::Axis(_) => {
                for (c, g) in v.axis_chunks_iter(Axis(1), 1).enumerate() {
                    group(c, g);
                }
            }
            Granularity::Block { .. } => {
                let (_, pb, pi) = self.param_dims();
                for (o, plane) in v.outer_iter().enumerate() {
                    for (k, chunk) in plane.axis_chunks_iter(Axis(0), b).enumerate() {
                        for (i, lane) in chunk.axis_iter(Axis(1)).enumerate() {
                            let g = lane.insert_axis(Axis(0)).insert_axis(Axis(2));
                            group((o * pb + k) * pi + i, g);
                        }
                    }
                }
            }
        }
    }

    /// `out[e] = f(x[e], scale[p(e)], zero_point[p(e)])` over every element `e`.
    pub fn map<A: Copy, B>(
        &self,
        x: &[A],
        scale: &[f32],
        zero_point: &[i32],
        out: &mut [B],
        f: impl Fn(A, f32, i32) -> B,
    ) {
        let ids: Vec<usize> = (0..self.param_count()).collect();
        Zip::from(self.view3_mut(out))
            .and(self.view3(x))
            .and(&self.expand(&ids))
            .for_each(|o, &v, &p| *o = f(v, scale[p], zero_point[p]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(shape: &[usize], axis: i64, block: Option<usize>) -> Spec<'_> {
        Spec {
            shape: Some(shape),
            axis: Some(axis),
            block_size: block,
            ..Spec::default()
        }
    }

    #[test]
    fn blocked_index_repeats_blocks_and_keeps_other_axes() {
        // x [2, 5] blocked along axis 1 by 2: scale [2, 3], the last block short.
        let l = Layout::resolve(10, spec(&[2, 5], 1, Some(2))).unwrap();
        assert_eq!(l.param_shape(), vec![2, 3]);
        let idx: Vec<usize> = l.param_index().iter().copied().collect();
        assert_eq!(idx, vec![0, 0, 1, 1, 2, 3, 3, 4, 4, 5]);
        // Along axis 0 of [5, 2] by 2: scale [3, 2].
        let l = Layout::resolve(10, spec(&[5, 2], 0, Some(2))).unwrap();
        let idx: Vec<usize> = l.param_index().iter().copied().collect();
        assert_eq!(idx, vec![0, 1, 0, 1, 2, 3, 2, 3, 4, 5]);
        let mut groups = vec![];
        let x: Vec<f32> = (0..10).map(|v| v as f32).collect();
        l.for_each_group(&x, |p, g| groups.push((p, g.to_vec())));
        assert_eq!(groups[1], (1, vec![1.0, 3.0]));
        assert_eq!(groups[5], (5, vec![9.0]));
    }

    #[test]
    fn per_axis_and_per_tensor_are_the_same_rule() {
        let l = Layout::resolve(12, spec(&[2, 3, 2], -2, None)).unwrap();
        assert_eq!(l.granularity, Granularity::Axis(1));
        let idx: Vec<usize> = l.param_index().iter().copied().collect();
        assert_eq!(idx, vec![0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]);
        let t = Layout::resolve(4, Spec::default()).unwrap();
        assert_eq!(
            t.param_index().iter().copied().collect::<Vec<_>>(),
            vec![0; 4]
        );
    }

    #[test]
    fn errors_name_the_option() {
        let e = Layout::resolve(
            10,
            Spec {
                params: Some(4),
                ..spec(&[2, 5], 1, Some(2))
            },
        );
        assert_eq!(e.unwrap_err().subject, "scale");
        let e = Layout::resolve(10, spec(&[2, 5], 2, None));
        assert_eq!(e.unwrap_err().subject, "axis");
        let e = Layout::resolve(10, spec(&[2, 5], 1, Some(0)));
        assert_eq!(e.unwrap_err().subject, "blockSize");
    }
}
