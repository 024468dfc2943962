//! Post-training techniques beyond round-to-nearest, on the float model and its calibration
//! images: what each layer's input looks like (GPTQ's Hessian, bias correction's mean input),
//! GPTQ's error-compensating rounding, group-wise weight scales, cross-layer equalization and
//! bias correction.
//!
//! Weights are `[M, K]` in PyTorch order (a conv's `K = C·k·k`, columns `(c, u, v)`); a layer's
//! input "columns" are the `K` values one output pixel reads (an im2col patch, zero padding).

use super::{conv_shape, Layer, Model, Shape};
use crate::kernels::fp32::{self as kf, PackedF32};
use crate::kernels::{self, reference, table, ConvPlan, ConvShape};
use crate::quant::linear::quantize_value;
use crate::quant::params::compute_scale_zp;
use crate::{bail, Result};

/// Images whose conv patches build a conv layer's Hessian (a conv sees many patches per image),
/// and images for a linear layer's (one row each).
pub const CONV_IMAGES: usize = 64;
pub const LINEAR_IMAGES: usize = 512;
/// GPTQ works on diagonal blocks of the Hessian at most this wide (a 2,304-input linear layer
/// would need a 2,304² Cholesky; blocks keep it to a fraction of a second in wasm).
pub const GPTQ_BLOCK: usize = 288;
/// GPTQ's damping: λ = 1 % of the mean diagonal, as the reference implementation.
pub const DAMP: f64 = 0.01;

/// What one conv or linear layer's float input looks like on the calibration images.
#[derive(Debug, Clone)]
pub struct LayerStats {
    pub layer: usize,
    pub k: usize,
    /// Column ranges of the diagonal blocks of the Hessian.
    pub blocks: Vec<(usize, usize)>,
    /// `H_b = Σ x_b x_bᵀ / rows` for each block (row-major, symmetric).
    pub hessian: Vec<Vec<f64>>,
    /// `E[x]` per column (bias correction).
    pub mean: Vec<f64>,
    pub rows: usize,
}

/// The float model run layer by layer on NCHW images, its weights packed once, so that each conv
/// and linear layer's input can be seen (the `Net` hook sees outputs, after fused ReLUs).
struct LayerInputs<'a> {
    model: &'a Model,
    shapes: Vec<Shape>,
    /// Per layer: a conv's plan and packed weights, or a linear layer's packed weights.
    packed: Vec<Option<(Option<ConvPlan>, PackedF32)>>,
}

impl<'a> LayerInputs<'a> {
    fn new(model: &'a Model) -> Result<Self> {
        let shapes = model.shapes()?;
        let mut s = model.input;
        let mut packed = Vec::with_capacity(model.layers.len());
        for (i, layer) in model.layers.iter().enumerate() {
            packed.push(match layer {
                Layer::Conv2d(c) => {
                    let plan = kf::conv_plan(conv_shape(c, s));
                    let w = PackedF32::conv(&c.weight, &c.bias, &plan);
                    Some((Some(plan), w))
                }
                Layer::Linear(l) => Some((
                    None,
                    PackedF32::linear(&l.weight, &l.bias, l.n_out, l.n_in, None),
                )),
                _ => None,
            });
            s = shapes[i];
        }
        Ok(LayerInputs {
            model,
            shapes,
            packed,
        })
    }

    /// Calls `f(layer, shape, input)` with the NCHW input of every conv and linear layer on `img`.
    fn run(&self, img: &[f32], mut f: impl FnMut(usize, Shape, &[f32])) {
        let kern = table::fp32();
        let (mut s, mut x) = (self.model.input, img.to_vec());
        let (mut nhwc, mut stage, mut out) = (vec![], vec![], vec![]);
        for (i, layer) in self.model.layers.iter().enumerate() {
            match (layer, &self.packed[i]) {
                (Layer::Conv2d(c), Some((Some(plan), w))) => {
                    f(i, s, &x);
                    let cs = conv_shape(c, s);
                    let xn = kernels::grow(&mut nhwc, cs.input_len());
                    kernels::nchw_to_nhwc(&x, cs.c, cs.h, cs.w, xn);
                    let st = kernels::grow(&mut stage, plan.input_buffer_len());
                    let o = kernels::grow(&mut out, cs.m * cs.p());
                    kf::conv2d(kern, plan, xn, w, false, st, o);
                    x.resize(o.len(), 0.0);
                    kernels::nhwc_to_nchw(o, cs.m, cs.out_h(), cs.out_w(), &mut x);
                }
                (Layer::Linear(l), Some((None, w))) => {
                    f(i, s, &x);
                    let o = kernels::grow(&mut out, l.n_out);
                    kf::igemm(
                        kern,
                        1,
                        1,
                        l.n_in,
                        &x,
                        &kernels::rows(1, l.n_in),
                        w,
                        false,
                        o,
                    );
                    x.clear();
                    x.extend_from_slice(o);
                }
                (Layer::Relu, _) => x.iter_mut().for_each(|v| *v = v.max(0.0)),
                (&Layer::MaxPool2d { k, stride }, _) => {
                    let [c, h, w] = s;
                    let n = c
                        * crate::kernels::pool_out(h, k, stride)
                        * crate::kernels::pool_out(w, k, stride);
                    let mut o = vec![0.0; n];
                    reference::maxpool(c, h, w, k, stride, &x, &mut o);
                    x = o;
                }
                (l @ (Layer::AvgPool2d { .. } | Layer::GlobalAvgPool), _) => {
                    let a = l.avg_shape(s).expect("an average pool");
                    let mut o = vec![0.0; a.output_len()];
                    reference::avgpool(&a, &x, &mut o);
                    x = o;
                }
                _ => {}
            }
            s = self.shapes[i];
        }
    }
}

/// Calls `f(patch)` for every output pixel's input patch of conv `cs` on the NCHW image `x`.
fn for_each_patch(cs: &ConvShape, x: &[f32], patch: &mut [f32], mut f: impl FnMut(&[f32])) {
    let (k, pad) = (cs.k, cs.pad as isize);
    for i in 0..cs.out_h() {
        for j in 0..cs.out_w() {
            let mut t = 0;
            for c in 0..cs.c {
                for u in 0..k {
                    for v in 0..k {
                        let (y, xx) = (
                            (i * cs.stride + u) as isize - pad,
                            (j * cs.stride + v) as isize - pad,
                        );
                        patch[t] =
                            if y >= 0 && xx >= 0 && (y as usize) < cs.h && (xx as usize) < cs.w {
                                x[(c * cs.h + y as usize) * cs.w + xx as usize]
                            } else {
                                0.0
                            };
                        t += 1;
                    }
                }
            }
            f(patch);
        }
    }
}

fn blocks(k: usize) -> Vec<(usize, usize)> {
    (0..k.div_ceil(GPTQ_BLOCK))
        .map(|b| (b * GPTQ_BLOCK, ((b + 1) * GPTQ_BLOCK).min(k)))
        .collect()
}

/// The statistics of every conv/linear layer (by layer index) on the first images of `x`.
pub fn layer_stats(model: &Model, x: &[f32], n: usize) -> Result<Vec<Option<LayerStats>>> {
    let inp = model.input_len();
    let mut stats: Vec<Option<LayerStats>> = model
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let k = match l {
                Layer::Conv2d(c) => c.c * c.k * c.k,
                Layer::Linear(f) => f.n_in,
                _ => return None,
            };
            let blocks = blocks(k);
            Some(LayerStats {
                layer: i,
                k,
                hessian: blocks
                    .iter()
                    .map(|&(a, b)| vec![0.0; (b - a) * (b - a)])
                    .collect(),
                blocks,
                mean: vec![0.0; k],
                rows: 0,
            })
        })
        .collect();
    let mut patch = vec![];
    let net = LayerInputs::new(model)?;
    for img in 0..n.min(LINEAR_IMAGES) {
        net.run(&x[img * inp..][..inp], |i, s, input| {
            let Some(st) = stats[i].as_mut() else { return };
            let mut add = |p: &[f32]| {
                st.rows += 1;
                for (m, &v) in st.mean.iter_mut().zip(p) {
                    *m += v as f64;
                }
                for (h, &(a, b)) in st.hessian.iter_mut().zip(&st.blocks) {
                    let w = b - a;
                    let p = &p[a..b];
                    // Upper triangle only; mirrored at the end. Zero inputs (ReLU) are skipped.
                    for (r, &pr) in p.iter().enumerate() {
                        if pr == 0.0 {
                            continue;
                        }
                        let pr = pr as f64;
                        let row = &mut h[r * w..][..w];
                        for (hc, &pc) in row[r..].iter_mut().zip(&p[r..]) {
                            *hc += pr * pc as f64;
                        }
                    }
                }
            };
            match &model.layers[i] {
                Layer::Conv2d(c) if img < CONV_IMAGES => {
                    let cs = conv_shape(c, s);
                    patch.resize(st.k, 0.0);
                    for_each_patch(&cs, input, &mut patch, &mut add);
                }
                Layer::Linear(_) => add(input),
                _ => {}
            }
        });
    }
    for st in stats.iter_mut().flatten() {
        let r = st.rows.max(1) as f64;
        st.mean.iter_mut().for_each(|m| *m /= r);
        for (h, &(a, b)) in st.hessian.iter_mut().zip(&st.blocks) {
            let w = b - a;
            for i in 0..w {
                for j in i..w {
                    let v = h[i * w + j] / r;
                    h[i * w + j] = v;
                    h[j * w + i] = v;
                }
            }
        }
    }
    Ok(stats)
}

/// Per-weight scales of symmetric weights `[M, K]`: one per tensor, per row, or per block of
/// `group` columns of a row (ONNX blocked quantization along axis 1 of the `[M, K]` view).
#[derive(Debug, Clone, PartialEq)]
pub struct WeightScales {
    pub m: usize,
    pub k: usize,
    /// `None`: one scale per row (per-channel, or the per-tensor scale repeated).
    pub group: Option<usize>,
    /// `[M]` or `[M, ⌈K/group⌉]`.
    pub scale: Vec<f32>,
}

impl WeightScales {
    /// Min-max symmetric scales: `s = max|w| / qmax` over each tensor, row or group (ORT's
    /// compute_scale_zp on a symmetric narrow grid).
    pub fn minmax(
        w: &[f32],
        m: usize,
        qmax: i32,
        per_channel: bool,
        group: Option<usize>,
    ) -> Result<Self> {
        let k = w.len() / m;
        let s = |v: &[f32]| {
            let (lo, hi) = v
                .iter()
                .fold((0f32, 0f32), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            compute_scale_zp(lo, hi, -qmax, qmax, true).map(|p| p.0)
        };
        let scale = match group {
            Some(g) => w
                .chunks(k)
                .flat_map(|row| row.chunks(g))
                .map(s)
                .collect::<Result<_>>()?,
            None if per_channel => w.chunks(k).map(s).collect::<Result<_>>()?,
            None => vec![s(w)?; m],
        };
        Ok(WeightScales { m, k, group, scale })
    }

    #[inline]
    pub fn at(&self, row: usize, col: usize) -> f32 {
        match self.group {
            Some(g) => self.scale[row * self.k.div_ceil(g) + col / g],
            None => self.scale[row],
        }
    }

    /// Round-to-nearest: `q = clamp(round_half_even(w / s), −qmax, qmax)`.
    pub fn round(&self, w: &[f32], qmax: i32) -> Vec<i8> {
        w.iter()
            .enumerate()
            .map(|(i, &v)| quantize_value(v, self.at(i / self.k, i % self.k), 0, -qmax, qmax) as i8)
            .collect()
    }

    /// `(q − 0)·s` in the `[M, K]` layout.
    pub fn dequantize(&self, q: &[i8]) -> Vec<f32> {
        q.iter()
            .enumerate()
            .map(|(i, &v)| v as f32 * self.at(i / self.k, i % self.k))
            .collect()
    }

    /// Bytes of the scales (float32 each).
    pub fn bytes(&self) -> usize {
        4 * self.scale.len()
    }
}

/// `A = L·Lᵀ` in place (lower triangle); `None` if `A` is not positive definite.
fn cholesky(a: &mut [f64], n: usize) -> Option<()> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
        for k in j + 1..n {
            a[j * n + k] = 0.0;
        }
    }
    Some(())
}

/// The upper Cholesky factor `U` of `H⁻¹` (`H⁻¹ = Uᵀ·U`), GPTQ's form of the inverse Hessian:
/// row `i` of `U`, divided by `U[i, i]`, is how the error of column `i` spreads to the later ones.
fn inverse_hessian_factor(h: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = h.to_vec();
    cholesky(&mut l, n)?;
    // L⁻¹ (lower), by forward substitution column by column.
    let mut li = vec![0.0; n * n];
    for c in 0..n {
        li[c * n + c] = 1.0 / l[c * n + c];
        for r in c + 1..n {
            let mut s = 0.0;
            for k in c..r {
                s += l[r * n + k] * li[k * n + c];
            }
            li[r * n + c] = -s / l[r * n + r];
        }
    }
    // H⁻¹ = L⁻ᵀ·L⁻¹.
    let mut hi = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            let mut s = 0.0;
            for k in j..n {
                s += li[k * n + i] * li[k * n + j];
            }
            hi[i * n + j] = s;
            hi[j * n + i] = s;
        }
    }
    // H⁻¹ = Uᵀ·U with U = (the lower factor of H⁻¹)ᵀ... taken in reverse order, as GPTQ's
    // `cholesky(H⁻¹, upper=True)`: U upper with H⁻¹ = Uᵀ U.
    cholesky(&mut hi, n)?;
    let mut u = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            u[j * n + i] = hi[i * n + j];
        }
    }
    Some(u)
}

/// GPTQ (Frantar et al., 2022) on `w [M, K]` with fixed `scales`, one diagonal Hessian block at a
/// time:
///
/// ```text
/// H ← H + λ·mean(diag H)·I                 damping; dead inputs (H_ii = 0) get H_ii = 1, w = 0
/// U = chol(H⁻¹) upper
/// for each column i:  q_i = round(w_i / s) clamped,   e = (w_i − s·q_i) / U_ii
///                     w_j ← w_j − e·U_ij  for j > i  (the error fed forward to later columns)
/// ```
/// Returns the integers. Falls back to round-to-nearest for a block whose Hessian is singular.
pub fn gptq(w: &[f32], st: &LayerStats, scales: &WeightScales, qmax: i32) -> Vec<i8> {
    let (m, k) = (scales.m, scales.k);
    assert_eq!(st.k, k, "statistics belong to this layer");
    let mut w: Vec<f64> = w.iter().map(|&v| v as f64).collect();
    let mut q = vec![0i8; m * k];
    for (h, &(a, b)) in st.hessian.iter().zip(&st.blocks) {
        let n = b - a;
        let mut h = h.clone();
        let mean_diag = (0..n).map(|i| h[i * n + i]).sum::<f64>() / n as f64;
        for i in 0..n {
            if h[i * n + i] == 0.0 {
                h[i * n + i] = 1.0;
                for r in 0..m {
                    w[r * k + a + i] = 0.0;
                }
            }
            h[i * n + i] += DAMP * mean_diag.max(1e-12);
        }
        let u = inverse_hessian_factor(&h, n);
        for r in 0..m {
            let row = &mut w[r * k..][..k];
            for i in 0..n {
                let col = a + i;
                let s = scales.at(r, col);
                let qi = quantize_value(row[col] as f32, s, 0, -qmax, qmax);
                q[r * k + col] = qi as i8;
                let Some(u) = &u else { continue };
                let e = (row[col] - (qi as f32 * s) as f64) / u[i * n + i];
                for j in i + 1..n {
                    row[a + j] -= e * u[i * n + j];
                }
            }
        }
    }
    q
}

/// Bias correction (Nagel et al., 2019): weight rounding shifts a layer's mean output by
/// `(W_q − W)·E[x]`; subtracting it from the bias removes the shift the calibration data shows.
pub fn corrected_bias(b: &[f32], w: &[f32], w_dq: &[f32], st: &LayerStats) -> Vec<f32> {
    let k = st.k;
    b.iter()
        .enumerate()
        .map(|(r, &bias)| {
            let shift: f64 = (0..k)
                .map(|c| (w_dq[r * k + c] - w[r * k + c]) as f64 * st.mean[c])
                .sum();
            (bias as f64 - shift) as f32
        })
        .collect()
}

/// One pair of layers cross-layer equalization rescaled: per channel between them, the weight
/// ranges before and after, and the scale.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EqualizedPair {
    pub first: String,
    pub second: String,
    pub range_first_before: Vec<f32>,
    pub range_second_before: Vec<f32>,
    pub range_first_after: Vec<f32>,
    pub range_second_after: Vec<f32>,
    pub scale: Vec<f32>,
}

/// Per output channel `max|w|` of a layer's `[M, K]` weights, and per input channel of the next
/// layer (`per_in` columns each: k·k taps, or the positions a flatten spreads a channel over).
fn out_ranges(w: &[f32], m: usize) -> Vec<f32> {
    w.chunks(w.len() / m)
        .map(|r| r.iter().fold(0f32, |a, &v| a.max(v.abs())))
        .collect()
}

fn in_ranges(w: &[f32], rows: usize, c: usize, per_in: usize) -> Vec<f32> {
    let k = c * per_in;
    (0..c)
        .map(|ch| {
            (0..rows)
                .flat_map(|r| &w[r * k + ch * per_in..][..per_in])
                .fold(0f32, |a, &v| a.max(v.abs()))
        })
        .collect()
}

/// Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019): for consecutive
/// weight layers with only ReLU, max-pool and flatten between them (all positively homogeneous,
/// so `f(x/s) = f(x)/s` for s > 0),
///
/// ```text
/// r1_c = max|W1[c, ·]|,  r2_c = max|W2[·, c, ·]|,  s_c = √(r1_c / r2_c)
/// W1[c, ·] ← W1[c, ·] / s_c,  b1[c] ← b1[c] / s_c,  W2[·, c, ·] ← W2[·, c, ·]·s_c
/// ```
/// leaves the float function unchanged and gives both layers the range √(r1_c·r2_c) in channel
/// c, which brings the channels' ranges closer together (Nagel et al.: it maximises the summed
/// per-channel precision of the pair). Repeated over all pairs until the scales settle.
pub fn equalize(model: &Model) -> Result<(Model, Vec<EqualizedPair>)> {
    model.shapes()?;
    let weighted: Vec<usize> = (0..model.layers.len())
        .filter(|&i| matches!(model.layers[i], Layer::Conv2d(_) | Layer::Linear(_)))
        .collect();
    // Pairs (i, j) with only homogeneous layers between; `per_in` columns of j per channel of i.
    let mut pairs = vec![];
    for w in weighted.windows(2) {
        let (i, j) = (w[0], w[1]);
        let between_ok = model.layers[i + 1..j].iter().all(|l| {
            // Each is positively homogeneous per channel: f(s·x) = s·f(x) for s > 0.
            matches!(
                l,
                Layer::Relu
                    | Layer::MaxPool2d { .. }
                    | Layer::AvgPool2d { .. }
                    | Layer::GlobalAvgPool
                    | Layer::Flatten
            )
        });
        let Layer::Conv2d(first) = &model.layers[i] else {
            continue;
        };
        if !between_ok {
            continue;
        }
        let per_in = match &model.layers[j] {
            Layer::Conv2d(c) if c.c == first.m => c.k * c.k,
            // Pooling keeps the channels and an NCHW flatten lays each out contiguously.
            Layer::Linear(l) if l.n_in % first.m == 0 => l.n_in / first.m,
            _ => continue,
        };
        pairs.push((i, j, per_in));
    }
    if pairs.is_empty() {
        bail!("equalize", "needs a conv layer followed (through ReLU, pooling or flatten only) by a conv or linear layer");
    }
    let mut out = model.clone();
    let weights = |m: &Model, l: usize| -> (Vec<f32>, usize) {
        match &m.layers[l] {
            Layer::Conv2d(c) => (c.weight.clone(), c.m),
            Layer::Linear(f) => (f.weight.clone(), f.n_out),
            _ => unreachable!("pairs hold weight layers"),
        }
    };
    let before: Vec<(Vec<f32>, Vec<f32>)> = pairs
        .iter()
        .map(|&(i, j, per)| {
            let (w1, m1) = weights(model, i);
            let (w2, m2) = weights(model, j);
            (out_ranges(&w1, m1), in_ranges(&w2, m2, m1, per))
        })
        .collect();
    let mut total: Vec<Vec<f64>> = pairs
        .iter()
        .map(|&(i, ..)| vec![1.0; weights(model, i).1])
        .collect();
    for _sweep in 0..20 {
        for (p, &(i, j, per)) in pairs.iter().enumerate() {
            let (w1, m1) = weights(&out, i);
            let (w2, m2) = weights(&out, j);
            let (r1, r2) = (out_ranges(&w1, m1), in_ranges(&w2, m2, m1, per));
            let s: Vec<f32> = r1
                .iter()
                .zip(&r2)
                .map(|(&a, &b)| {
                    if a > 0.0 && b > 0.0 {
                        (a / b).sqrt()
                    } else {
                        1.0
                    }
                })
                .collect();
            for (t, &v) in total[p].iter_mut().zip(&s) {
                *t *= v as f64;
            }
            if let Layer::Conv2d(c) = &mut out.layers[i] {
                let k = c.weight.len() / c.m;
                for (ch, &sc) in s.iter().enumerate() {
                    c.weight[ch * k..][..k].iter_mut().for_each(|v| *v /= sc);
                    c.bias[ch] /= sc;
                }
            }
            let (w2, rows, k2) = match &mut out.layers[j] {
                Layer::Conv2d(c) => (&mut c.weight, c.m, c.c * c.k * c.k),
                Layer::Linear(f) => (&mut f.weight, f.n_out, f.n_in),
                _ => unreachable!("pairs hold weight layers"),
            };
            for r in 0..rows {
                for (ch, &sc) in s.iter().enumerate() {
                    w2[r * k2 + ch * per..][..per]
                        .iter_mut()
                        .for_each(|v| *v *= sc);
                }
            }
        }
    }
    let report = pairs
        .iter()
        .zip(before)
        .zip(total)
        .map(|((&(i, j, per), (b1, b2)), t)| {
            let (w1, m1) = weights(&out, i);
            let (w2, m2) = weights(&out, j);
            EqualizedPair {
                first: model.layers[i].name().to_string(),
                second: model.layers[j].name().to_string(),
                range_first_before: b1,
                range_second_before: b2,
                range_first_after: out_ranges(&w1, m1),
                range_second_after: in_ranges(&w2, m2, m1, per),
                scale: t.iter().map(|&v| v as f32).collect(),
            }
        })
        .collect();
    Ok((out, report))
}
