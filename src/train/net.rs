//! Forward and backward for the library's layer list, one image at a time (NCHW), with fake
//! quantization at exactly the tensors the integer model quantizes.
//!
//! ```text
//! conv   y[m][p] = b[m] + Σ_r W[m][r]·col[r][p]        col = im2col(x), r = (c·k + ky)·k + kx
//!        dW += dy·colᵀ,  db += Σ_p dy,  dcol = Wᵀ·dy,  dx = col2im(dcol)
//! linear y = W·x + b;   dW += dy·xᵀ,  db += dy,  dx = Wᵀ·dy
//! relu   dx = dy·[x > 0]                   (x: the ReLU's input; 0 at 0, as PyTorch)
//! pool   k×k max, stride s: dy goes to the window's first maximum
//! avg    k×k mean (or the whole image's): every window element gets dy / (kh·kw)
//! fake quantization (straight-through estimator, PyTorch's FakeQuantize):
//!        x̂ = s·(clamp(round_half_even(x/s) + z, qmin, qmax) − z)
//!        dx = dx̂·[qmin ≤ round_half_even(x/s) + z ≤ qmax]
//! ```
//!
//! Points, as the integer model's: 0 is the input, then the output of every conv or linear
//! layer, after its ReLU when a ReLU follows (the ReLU is fused there). Weights come in already
//! fake-quantized (once per step, by the caller), so their gradient passes straight through.

use super::gemm::{axpy, dot, gemm_acc};
use crate::kernels::pool_out;
use crate::model::fp32::model_weights;
use crate::model::int8::ActParams;
use crate::model::{Layer, Model, Shape};
use crate::quant::linear::{dequantize_value, quantize_value};
use crate::Result;

/// The weights of one pass, by layer index (empty for layers without weights).
pub type Weights<'a> = [(&'a [f32], &'a [f32])];

/// Gradients by layer index: `(dW, db)`, empty for layers without weights.
pub type Grads = Vec<(Vec<f32>, Vec<f32>)>;

pub fn zero_grads(model: &Model) -> Grads {
    model_weights(model)
        .iter()
        .map(|(w, b)| (vec![0.0; w.len()], vec![0.0; b.len()]))
        .collect()
}

/// For every layer, the point its output is (when it is one). `points_after(model)[i] = Some(p)`
/// when the output of layer i is point p.
pub fn points_after(model: &Model) -> Vec<Option<usize>> {
    let mut out = vec![None; model.layers.len()];
    let mut p = 0;
    for (i, l) in model.layers.iter().enumerate() {
        if matches!(l, Layer::Conv2d(_) | Layer::Linear(_)) {
            p += 1;
            let fused = matches!(model.layers.get(i + 1), Some(Layer::Relu));
            out[if fused { i + 1 } else { i }] = Some(p);
        }
    }
    out
}

/// What one image's forward pass keeps for its backward pass, and the backward's buffers.
#[derive(Debug, Default, Clone)]
pub struct Tape {
    shapes: Vec<Shape>,
    /// `acts[i]`: the input of layer i; the last one is the output (the logits).
    pub acts: Vec<Vec<f32>>,
    /// im2col of every conv layer's input (empty elsewhere).
    cols: Vec<Vec<f32>>,
    /// Max-pool: the input index of each output's maximum.
    argmax: Vec<Vec<u32>>,
    /// Fake quantization's pass-through mask and `∂x̂/∂s` at each layer whose output is a point.
    masks: Vec<Vec<bool>>,
    dscale: Vec<Vec<f32>>,
    in_mask: Vec<bool>,
    in_dscale: Vec<f32>,
    g: Vec<f32>,
    g_next: Vec<f32>,
    col_t: Vec<f32>,
    dcol: Vec<f32>,
}

/// The activation grids by point (0 = input), or none for a float pass.
pub type ActGrids<'a> = Option<&'a [ActParams]>;

/// `x̂`, the mask of the straight-through estimator and `∂x̂/∂s` (formula above), with the
/// library's own QuantizeLinear / DequantizeLinear, so the grid is the integer model's to the bit.
fn fake_quant(v: &mut [f32], a: &ActParams, mask: &mut Vec<bool>, dscale: &mut Vec<f32>) {
    mask.clear();
    dscale.clear();
    let (lo, hi) = (
        (a.qmin - a.zero_point) as f32,
        (a.qmax - a.zero_point) as f32,
    );
    for x in v {
        let t = *x / a.scale;
        let r = t.round_ties_even();
        let inside = r >= lo && r <= hi;
        mask.push(inside);
        // LSQ (Esser et al. 2020): ∂x̂/∂s = round(x/s) − x/s inside, the clamp level outside.
        dscale.push(if inside {
            r - t
        } else if r < lo {
            lo
        } else {
            hi
        });
        *x = dequantize_value(
            quantize_value(*x, a.scale, a.zero_point, a.qmin, a.qmax),
            a.scale,
            a.zero_point,
        );
    }
}

impl Tape {
    pub fn new(model: &Model) -> Result<Tape> {
        // `shapes` checks that the layers chain (a pool has at least 2×2 to pool, ...).
        let mut shapes = vec![model.input];
        shapes.extend(model.shapes()?);
        let n = model.layers.len();
        Ok(Tape {
            acts: shapes
                .iter()
                .map(|s| vec![0.0; s.iter().product()])
                .collect(),
            shapes,
            cols: vec![vec![]; n],
            argmax: vec![vec![]; n],
            masks: vec![vec![]; n],
            dscale: vec![vec![]; n],
            ..Tape::default()
        })
    }

    pub fn logits(&self) -> &[f32] {
        self.acts.last().expect("at least the input")
    }

    /// Forward pass of one image `x` (the model's input shape) with weights `w`; fake-quantizes
    /// at every point when `act` is given. `observe(point, values)` sees each point's values
    /// before they are quantized (the observers).
    pub fn forward(
        &mut self,
        model: &Model,
        w: &Weights,
        x: &[f32],
        act: ActGrids,
        points: &[Option<usize>],
        observe: &mut dyn FnMut(usize, &[f32]),
    ) {
        self.acts[0].copy_from_slice(x);
        observe(0, &self.acts[0]);
        if let Some(a) = act {
            // The input's mask is never used (no gradient for the image); its buffers are reused.
            fake_quant(
                &mut self.acts[0],
                &a[0],
                &mut self.in_mask,
                &mut self.in_dscale,
            );
        }
        for (i, layer) in model.layers.iter().enumerate() {
            let [c, h, wd] = self.shapes[i];
            let (head, tail) = self.acts.split_at_mut(i + 1);
            let (x, y) = (&head[i], &mut tail[0]);
            match layer {
                Layer::Conv2d(cv) => {
                    let [_, oh, ow] = self.shapes[i + 1];
                    let p = oh * ow;
                    let kk = cv.c * cv.k * cv.k;
                    let col = &mut self.cols[i];
                    col.resize(kk * p, 0.0);
                    im2col(x, [c, h, wd], cv.k, cv.padding, cv.stride, [oh, ow], col);
                    let (wt, b) = w[i];
                    for (row, &bias) in y.chunks_exact_mut(p).zip(b) {
                        row.fill(bias);
                    }
                    gemm_acc(cv.m, kk, p, wt, kk, 1, col, y);
                }
                Layer::Linear(l) => {
                    let (wt, b) = w[i];
                    for (j, o) in y.iter_mut().enumerate() {
                        *o = b[j] + dot(&wt[j * l.n_in..(j + 1) * l.n_in], x);
                    }
                }
                Layer::Relu => {
                    for (o, &v) in y.iter_mut().zip(x.iter()) {
                        *o = v.max(0.0);
                    }
                }
                &Layer::MaxPool2d { k, stride } => {
                    let arg = &mut self.argmax[i];
                    arg.resize(y.len(), 0);
                    maxpool(x, [c, h, wd], k, stride, y, arg);
                }
                l @ (Layer::AvgPool2d { .. } | Layer::GlobalAvgPool) => {
                    let a = l.avg_shape([c, h, wd]).expect("an average pool");
                    crate::kernels::reference::avgpool(&a, x, y);
                }
                Layer::Flatten => y.copy_from_slice(x),
            }
            if let Some(p) = points[i] {
                observe(p, y);
                if let Some(a) = act {
                    fake_quant(y, &a[p], &mut self.masks[i], &mut self.dscale[i]);
                }
            }
        }
    }

    /// Backward pass of the last forward, from `dlogits`; adds the weight and bias gradients to
    /// `grads` (no gradient for the input image) and, when given, `Σ dL/dx̂ · ∂x̂/∂s` of every
    /// point to `dscale[point]` (for learned activation scales).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &mut self,
        model: &Model,
        w: &Weights,
        dlogits: &[f32],
        act: ActGrids,
        points: &[Option<usize>],
        grads: &mut Grads,
        mut dscale_out: Option<&mut [f32]>,
    ) {
        let Tape {
            shapes,
            acts,
            cols,
            argmax,
            masks,
            dscale,
            in_mask: _,
            in_dscale: _,
            g,
            g_next,
            col_t,
            dcol,
        } = self;
        g.clear();
        g.extend_from_slice(dlogits);
        for (i, layer) in model.layers.iter().enumerate().rev() {
            if let (Some(_), Some(p)) = (act, points[i]) {
                if let Some(ds) = dscale_out.as_deref_mut() {
                    ds[p] += g.iter().zip(&dscale[i]).fold(0f32, |a, (&d, &f)| a + d * f);
                }
                for (d, &keep) in g.iter_mut().zip(&masks[i]) {
                    if !keep {
                        *d = 0.0;
                    }
                }
            }
            let [c, h, wd] = shapes[i];
            let x = &acts[i];
            let first = i == 0;
            g_next.clear();
            g_next.resize(x.len(), 0.0);
            match layer {
                Layer::Conv2d(cv) => {
                    let [_, oh, ow] = shapes[i + 1];
                    let p = oh * ow;
                    let kk = cv.c * cv.k * cv.k;
                    let col = &cols[i];
                    // colᵀ [p × kk], so that dW = dy·colᵀ is the same row-major product.
                    col_t.resize(p * kk, 0.0);
                    for r in 0..kk {
                        for q in 0..p {
                            col_t[q * kk + r] = col[r * p + q];
                        }
                    }
                    let (dw, db) = &mut grads[i];
                    gemm_acc(cv.m, p, kk, g, p, 1, col_t, dw);
                    for (d, row) in db.iter_mut().zip(g.chunks_exact(p)) {
                        *d += row.iter().fold(0f32, |a, &v| a + v);
                    }
                    if !first {
                        dcol.clear();
                        dcol.resize(kk * p, 0.0);
                        gemm_acc(kk, cv.m, p, w[i].0, 1, kk, g, dcol);
                        col2im(
                            dcol,
                            [c, h, wd],
                            cv.k,
                            cv.padding,
                            cv.stride,
                            [oh, ow],
                            g_next,
                        );
                    }
                }
                Layer::Linear(l) => {
                    let (dw, db) = &mut grads[i];
                    for (j, &d) in g.iter().enumerate() {
                        axpy(d, x, &mut dw[j * l.n_in..(j + 1) * l.n_in]);
                        db[j] += d;
                        if !first {
                            axpy(d, &w[i].0[j * l.n_in..(j + 1) * l.n_in], g_next);
                        }
                    }
                }
                Layer::Relu => {
                    for ((o, &d), &v) in g_next.iter_mut().zip(g.iter()).zip(x) {
                        *o = if v > 0.0 { d } else { 0.0 };
                    }
                }
                Layer::MaxPool2d { .. } => {
                    for (&a, &d) in argmax[i].iter().zip(g.iter()) {
                        g_next[a as usize] += d;
                    }
                }
                l @ (Layer::AvgPool2d { .. } | Layer::GlobalAvgPool) => {
                    let a = l.avg_shape([c, h, wd]).expect("an average pool");
                    avgpool_back(&a, g, g_next);
                }
                Layer::Flatten => g_next.copy_from_slice(g),
            }
            std::mem::swap(g, g_next);
        }
    }
}

/// Average pool backward: each window element gets `dy / (kh·kw)` of every output it feeds.
fn avgpool_back(a: &crate::kernels::AvgShape, g: &[f32], dx: &mut [f32]) {
    let (oh, ow, n) = (a.out_h(), a.out_w(), a.window() as f32);
    for ch in 0..a.c {
        for i in 0..oh {
            for j in 0..ow {
                let d = g[(ch * oh + i) * ow + j] / n;
                for u in 0..a.kh {
                    for v in 0..a.kw {
                        dx[(ch * a.h + i * a.stride + u) * a.w + j * a.stride + v] += d;
                    }
                }
            }
        }
    }
}

/// `col[(ci·k + ky)·k + kx][oy·ow + ox] = x[ci][oy·st + ky − pad][ox·st + kx − pad]`, 0 outside.
fn im2col(
    x: &[f32],
    [c, h, w]: [usize; 3],
    k: usize,
    pad: usize,
    st: usize,
    [oh, ow]: [usize; 2],
    col: &mut [f32],
) {
    let p = oh * ow;
    for ci in 0..c {
        for ky in 0..k {
            for kx in 0..k {
                let r = (ci * k + ky) * k + kx;
                let dst = &mut col[r * p..(r + 1) * p];
                for oy in 0..oh {
                    let iy = (oy * st + ky) as isize - pad as isize;
                    let row = &mut dst[oy * ow..(oy + 1) * ow];
                    if iy < 0 || iy >= h as isize {
                        row.fill(0.0);
                        continue;
                    }
                    let src = &x[ci * h * w + iy as usize * w..][..w];
                    for (ox, o) in row.iter_mut().enumerate() {
                        let ix = (ox * st + kx) as isize - pad as isize;
                        *o = if ix < 0 || ix >= w as isize {
                            0.0
                        } else {
                            src[ix as usize]
                        };
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col: `dx[ci][iy][ix] += dcol[r][q]` for every (r, q) that read x[ci][iy][ix].
fn col2im(
    dcol: &[f32],
    [c, h, w]: [usize; 3],
    k: usize,
    pad: usize,
    st: usize,
    [oh, ow]: [usize; 2],
    dx: &mut [f32],
) {
    let p = oh * ow;
    for ci in 0..c {
        for ky in 0..k {
            for kx in 0..k {
                let r = (ci * k + ky) * k + kx;
                let src = &dcol[r * p..(r + 1) * p];
                for oy in 0..oh {
                    let iy = (oy * st + ky) as isize - pad as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let dst = &mut dx[ci * h * w + iy as usize * w..][..w];
                    for (ox, &g) in src[oy * ow..(oy + 1) * ow].iter().enumerate() {
                        let ix = (ox * st + kx) as isize - pad as isize;
                        if ix >= 0 && ix < w as isize {
                            dst[ix as usize] += g;
                        }
                    }
                }
            }
        }
    }
}

/// k×k max pool with `stride`, floor; `arg` gets the input index of each window's first maximum
/// (row-major), where the gradient goes.
fn maxpool(x: &[f32], [c, h, w]: [usize; 3], k: usize, st: usize, y: &mut [f32], arg: &mut [u32]) {
    let (ph, pw) = (pool_out(h, k, st), pool_out(w, k, st));
    for ch in 0..c {
        for py in 0..ph {
            for px in 0..pw {
                let mut best = ch * h * w + py * st * w + px * st;
                for u in 0..k {
                    for v in 0..k {
                        let cand = ch * h * w + (py * st + u) * w + px * st + v;
                        if x[cand] > x[best] {
                            best = cand;
                        }
                    }
                }
                let o = (ch * ph + py) * pw + px;
                y[o] = x[best];
                arg[o] = best as u32;
            }
        }
    }
}

/// Softmax cross-entropy of one image, scaled by `scale` (1 / batch for a batch mean):
/// ```text
/// m = max_j z_j,  lse = m + ln Σ_j exp(z_j − m),  loss = lse − z_label
/// dL/dz_j = scale · (exp(z_j − lse) − [j = label])
/// ```
/// `exp` and `ln` from the `libm` crate, so native and wasm give the same bits.
pub fn softmax_xent(z: &[f32], label: usize, scale: f32, dz: &mut Vec<f32>) -> f32 {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum = z.iter().fold(0f32, |a, &v| a + libm::expf(v - m));
    let lse = m + libm::logf(sum);
    dz.clear();
    dz.extend(z.iter().enumerate().map(|(j, &v)| {
        let onehot = if j == label { 1.0 } else { 0.0 };
        scale * (libm::expf(v - lse) - onehot)
    }));
    lse - z[label]
}

/// Index of the first largest value.
pub fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (j, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = j;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Conv2d, Linear};
    use crate::train::{he_init, SplitMix64};

    /// conv (pad 1, stride 2) → relu → 3×3/2 max-pool → conv (pad 0, 2×2 kernel) → relu → flatten →
    /// linear → relu → linear, with a 2×2/1 average pool and a global one: every layer kind,
    /// padding, strides and kernels that are not 3 or 2.
    pub(crate) fn small_model(rng: &mut SplitMix64) -> Model {
        let conv = |name: &str, m, c, k, padding, stride| {
            Layer::Conv2d(Conv2d {
                name: name.into(),
                m,
                c,
                k,
                padding,
                stride,
                weight: vec![0.0; m * c * k * k],
                bias: vec![0.0; m],
            })
        };
        let lin = |name: &str, n_out, n_in| {
            Layer::Linear(Linear {
                name: name.into(),
                n_out,
                n_in,
                weight: vec![0.0; n_out * n_in],
                bias: vec![0.0; n_out],
            })
        };
        let mut m = Model {
            // 2×17×16 → c1 (stride 2) 4×9×8 → avg 2×2/1 4×8×7 → max 3×3/2 4×3×3 → c2 5×2×2
            // → global avg 5×1×1 → 7 → 4.
            input: [2, 17, 16],
            layers: vec![
                conv("c1", 4, 2, 3, 1, 2),
                Layer::Relu,
                Layer::AvgPool2d { k: 2, stride: 1 },
                Layer::MaxPool2d { k: 3, stride: 2 },
                conv("c2", 5, 4, 2, 0, 1),
                Layer::Relu,
                Layer::GlobalAvgPool,
                Layer::Flatten,
                lin("f1", 7, 5),
                Layer::Relu,
                lin("f2", 4, 7),
            ],
        };
        he_init(&mut m, rng);
        for l in &mut m.layers {
            if let Layer::Conv2d(Conv2d { bias, .. }) | Layer::Linear(Linear { bias, .. }) = l {
                bias.iter_mut().for_each(|b| *b = rng.symmetric(0.1));
            }
        }
        m
    }

    /// Weight (`t` = 0) or bias (`t` = 1) element `i` of layer `li`.
    fn param(m: &mut Model, li: usize, t: usize, i: usize) -> &mut f32 {
        match &mut m.layers[li] {
            Layer::Conv2d(Conv2d { weight, bias, .. })
            | Layer::Linear(Linear { weight, bias, .. }) => {
                if t == 0 {
                    &mut weight[i]
                } else {
                    &mut bias[i]
                }
            }
            _ => unreachable!("only layers with weights have gradients"),
        }
    }

    /// Central differences (L(w + h) − L(w − h)) / 2h in float64 against backward, for every
    /// weight and bias of every layer of a model with each layer kind.
    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = SplitMix64::new(7);
        let mut model = small_model(&mut rng);
        let x: Vec<f32> = (0..model.input_len()).map(|_| rng.unit_f32()).collect();
        let label = 2;
        let points = points_after(&model);
        let mut tape = Tape::new(&model).unwrap();
        let mut dz = vec![];
        let loss = |m: &Model, tape: &mut Tape| {
            tape.forward(m, &model_weights(m), &x, None, &points, &mut |_, _| {});
            softmax_xent(tape.logits(), label, 1.0, &mut vec![]) as f64
        };
        tape.forward(
            &model,
            &model_weights(&model),
            &x,
            None,
            &points,
            &mut |_, _| {},
        );
        softmax_xent(tape.logits(), label, 1.0, &mut dz);
        let mut g = zero_grads(&model);
        tape.backward(
            &model,
            &model_weights(&model),
            &dz,
            None,
            &points,
            &mut g,
            None,
        );
        let h = 1e-3f32;
        let (mut checked, mut bad) = (0, 0);
        for (li, (dw, db)) in g.iter().enumerate() {
            for (t, grad) in [dw, db].into_iter().enumerate() {
                for (i, &analytic) in grad.iter().enumerate() {
                    let w0 = *param(&mut model, li, t, i);
                    *param(&mut model, li, t, i) = w0 + h;
                    let up = loss(&model, &mut tape);
                    *param(&mut model, li, t, i) = w0 - h;
                    let down = loss(&model, &mut tape);
                    *param(&mut model, li, t, i) = w0;
                    let numeric = (up - down) / (2.0 * h as f64);
                    let analytic = analytic as f64;
                    checked += 1;
                    if (numeric - analytic).abs() > 1e-3 + 2e-2 * analytic.abs() {
                        eprintln!("layer {li} tensor {t} [{i}]: numeric {numeric:.6} analytic {analytic:.6}");
                        bad += 1;
                    }
                }
            }
        }
        // A ReLU or max-pool kink inside ±h can spoil a difference; allow very few.
        assert!(checked >= 235, "checked {checked}");
        assert!(
            bad * 100 <= checked,
            "{bad} of {checked} gradient entries disagree"
        );
    }
}
