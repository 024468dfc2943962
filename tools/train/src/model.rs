//! The baseline CNN (PyTorch layouts, NCHW, one sample at a time):
//!
//!   x [1,32,32] -> conv1 3x3 (1->32)  -> ReLU -> maxpool 2 -> [32,15,15]
//!               -> conv2 3x3 (32->64) -> ReLU -> maxpool 2 -> [64,6,6] (floor: 13 -> 6)
//!               -> flatten (C,H,W order) [2304] -> fc (2304->10) -> logits [10]
//!
//! Convolutions are im2col + sgemm. With the PyTorch weight layout [co, ci, ky, kx] seen as a
//! matrix W [co x ci*9], and col [ci*9 x oh*ow] holding
//!   col[(ci*3 + ky)*3 + kx][oy*ow + ox] = x[ci][oy + ky][ox + kx],
//! a valid (no padding, stride 1) convolution is one matrix product:
//!   y[co][n] = b[co] + sum_r W[co][r] * col[r][n].

use crate::rng::SplitMix64;

pub const IN: usize = 32; // input side
pub const C1: usize = 32; // conv1 channels
pub const H1: usize = IN - 2; // 30, conv1 output side
pub const P1: usize = H1 / 2; // 15, after pool1
pub const C2: usize = 64; // conv2 channels
pub const H2: usize = P1 - 2; // 13, conv2 output side
pub const P2: usize = H2 / 2; // 6, after pool2 (the 13th row/col is dropped)
pub const FLAT: usize = C2 * P2 * P2; // 2304
pub const CLASSES: usize = 10;
const K1: usize = 9; // conv1 im2col rows: 1 * 3 * 3
const K2: usize = C1 * 9; // conv2 im2col rows: 32 * 3 * 3 = 288

/// Tensor names and shapes of the shipped file, in this order everywhere (params, grads, Adam).
pub const NAMES: [&str; 6] = [
    "conv1.weight",
    "conv1.bias",
    "conv2.weight",
    "conv2.bias",
    "fc.weight",
    "fc.bias",
];
pub const SHAPES: [&[usize]; 6] = [
    &[C1, 1, 3, 3],
    &[C1],
    &[C2, C1, 3, 3],
    &[C2],
    &[CLASSES, FLAT],
    &[CLASSES],
];
const W1: usize = 0;
const B1: usize = 1;
const W2: usize = 2;
const B2: usize = 3;
const WF: usize = 4;
const BF: usize = 5;

/// The six tensors (or their gradients), flat, row-major, in NAMES order.
#[derive(Clone)]
pub struct Params {
    pub t: Vec<Vec<f32>>,
}

impl Params {
    pub fn zeros() -> Self {
        Self {
            t: SHAPES
                .iter()
                .map(|s| vec![0.0; s.iter().product()])
                .collect(),
        }
    }

    /// He (Kaiming) uniform init for every weight, zero biases:
    ///   w ~ U(-bound, bound),  bound = sqrt(6 / fan_in)  (variance 2 / fan_in),
    /// fan_in = ci * 3 * 3 for a conv, in_features for the linear layer.
    pub fn he_init(rng: &mut SplitMix64) -> Self {
        let mut p = Self::zeros();
        for (w, fan_in) in [(W1, K1), (W2, K2), (WF, FLAT)] {
            let bound = (6.0 / fan_in as f32).sqrt();
            for v in p.t[w].iter_mut() {
                *v = rng.symmetric(bound);
            }
        }
        p
    }

    pub fn fill_zero(&mut self) {
        for t in &mut self.t {
            t.fill(0.0);
        }
    }
}

/// C [m x n] = A' [m x k] * B' [k x n] + beta * C, all row-major, where A' = A or A^T
/// (A stored as [k x m]) and B' = B or B^T (B stored as [n x k]); the transposes are only
/// strides. Single-threaded matrixmultiply: a fixed summation order for fixed sizes.
#[allow(clippy::too_many_arguments)]
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    a_t: bool,
    b: &[f32],
    b_t: bool,
    beta: f32,
    c: &mut [f32],
) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    let (rsa, csa) = if a_t { (1, m) } else { (k, 1) };
    let (rsb, csb) = if b_t { (1, k) } else { (n, 1) };
    // SAFETY: the asserts above keep every strided access inside the three slices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// im2col for a 3x3 valid convolution of x [c, h, w]: out [c*9 x (h-2)*(w-2)] (formula above).
fn im2col(x: &[f32], c: usize, h: usize, w: usize, out: &mut [f32]) {
    let (oh, ow) = (h - 2, w - 2);
    for ci in 0..c {
        for ky in 0..3 {
            for kx in 0..3 {
                let r = (ci * 3 + ky) * 3 + kx;
                let dst = &mut out[r * oh * ow..(r + 1) * oh * ow];
                for oy in 0..oh {
                    let src = ci * h * w + (oy + ky) * w + kx;
                    dst[oy * ow..(oy + 1) * ow].copy_from_slice(&x[src..src + ow]);
                }
            }
        }
    }
}

/// The adjoint of im2col: dx[ci][oy + ky][ox + kx] += dcol[(ci*3 + ky)*3 + kx][oy*ow + ox].
fn col2im(dcol: &[f32], c: usize, h: usize, w: usize, dx: &mut [f32]) {
    let (oh, ow) = (h - 2, w - 2);
    dx[..c * h * w].fill(0.0);
    for ci in 0..c {
        for ky in 0..3 {
            for kx in 0..3 {
                let r = (ci * 3 + ky) * 3 + kx;
                let src = &dcol[r * oh * ow..(r + 1) * oh * ow];
                for oy in 0..oh {
                    let d = ci * h * w + (oy + ky) * w + kx;
                    for (o, &g) in dx[d..d + ow].iter_mut().zip(&src[oy * ow..(oy + 1) * ow]) {
                        *o += g;
                    }
                }
            }
        }
    }
}

/// y [co x n] = W [co x k] * col [k x n] + b (bias broadcast along each row).
fn conv_forward(w: &[f32], b: &[f32], col: &[f32], k: usize, n: usize, y: &mut [f32]) {
    for (row, &bias) in y.chunks_exact_mut(n).zip(b) {
        row.fill(bias);
    }
    gemm(b.len(), k, n, w, false, col, false, 1.0, y);
}

/// Fused ReLU + 2x2 max pool (stride 2, floor) of y [c, h, w] into out [c, h/2, w/2]:
///   out = max(0, max of the 2x2 window),  arg = index in y of the window's first maximum.
/// relu(maxpool(y)) == maxpool(relu(y)) since ReLU is monotone.
fn relu_pool_forward(y: &[f32], c: usize, h: usize, w: usize, out: &mut [f32], arg: &mut [u32]) {
    let (ph, pw) = (h / 2, w / 2);
    for ch in 0..c {
        for py in 0..ph {
            for px in 0..pw {
                let base = ch * h * w + 2 * py * w + 2 * px;
                let mut best = base;
                for cand in [base + 1, base + w, base + w + 1] {
                    if y[cand] > y[best] {
                        best = cand;
                    }
                }
                let o = (ch * ph + py) * pw + px;
                out[o] = y[best].max(0.0);
                arg[o] = best as u32;
            }
        }
    }
}

/// Backward of relu_pool_forward: the gradient goes to the argmax only, and only where the
/// output is positive (ReLU'(v) = 0 for v <= 0, as PyTorch): dy[arg[o]] = dout[o].
fn relu_pool_backward(out: &[f32], arg: &[u32], dout: &[f32], dy: &mut [f32]) {
    dy.fill(0.0);
    for ((&o, &a), &g) in out.iter().zip(arg).zip(dout) {
        if o > 0.0 {
            dy[a as usize] = g;
        }
    }
}

/// Bias gradient of a conv: db[co] += sum_n dy[co][n].
fn bias_grad(dy: &[f32], n: usize, db: &mut [f32]) {
    for (d, row) in db.iter_mut().zip(dy.chunks_exact(n)) {
        *d += row.iter().sum::<f32>();
    }
}

/// Activations of one sample (kept for backward) and the backward scratch buffers.
pub struct Work {
    col1: Vec<f32>, // [9 x 900]
    y1: Vec<f32>,   // [32 x 30 x 30] conv1 pre-activation
    p1: Vec<f32>,   // [32 x 15 x 15]
    arg1: Vec<u32>, // argmax of each pool1 window
    col2: Vec<f32>, // [288 x 169]
    y2: Vec<f32>,   // [64 x 13 x 13]
    p2: Vec<f32>,   // [2304], the flattened pool2 output
    arg2: Vec<u32>,
    pub logits: [f32; CLASSES],
    dp2: Vec<f32>,
    dy2: Vec<f32>,
    dcol2: Vec<f32>,
    dp1: Vec<f32>,
    dy1: Vec<f32>,
}

impl Default for Work {
    fn default() -> Self {
        Self {
            col1: vec![0.0; K1 * H1 * H1],
            y1: vec![0.0; C1 * H1 * H1],
            p1: vec![0.0; C1 * P1 * P1],
            arg1: vec![0; C1 * P1 * P1],
            col2: vec![0.0; K2 * H2 * H2],
            y2: vec![0.0; C2 * H2 * H2],
            p2: vec![0.0; FLAT],
            arg2: vec![0; FLAT],
            logits: [0.0; CLASSES],
            dp2: vec![0.0; FLAT],
            dy2: vec![0.0; C2 * H2 * H2],
            dcol2: vec![0.0; K2 * H2 * H2],
            dp1: vec![0.0; C1 * P1 * P1],
            dy1: vec![0.0; C1 * H1 * H1],
        }
    }
}

impl Work {
    /// Forward pass of x [1, 32, 32]; leaves the logits in self.logits.
    pub fn forward(&mut self, p: &Params, x: &[f32]) {
        im2col(x, 1, IN, IN, &mut self.col1);
        conv_forward(&p.t[W1], &p.t[B1], &self.col1, K1, H1 * H1, &mut self.y1);
        relu_pool_forward(&self.y1, C1, H1, H1, &mut self.p1, &mut self.arg1);

        im2col(&self.p1, C1, P1, P1, &mut self.col2);
        conv_forward(&p.t[W2], &p.t[B2], &self.col2, K2, H2 * H2, &mut self.y2);
        relu_pool_forward(&self.y2, C2, H2, H2, &mut self.p2, &mut self.arg2);

        // fc: z[j] = bf[j] + sum_i Wf[j][i] * p2[i]
        for (j, z) in self.logits.iter_mut().enumerate() {
            let row = &p.t[WF][j * FLAT..(j + 1) * FLAT];
            *z = p.t[BF][j] + row.iter().zip(&self.p2).map(|(w, a)| w * a).sum::<f32>();
        }
    }

    /// Backward pass of the last forward, given dL/dlogits; adds this sample's gradients to g.
    pub fn backward(&mut self, p: &Params, dz: &[f32; CLASSES], g: &mut Params) {
        // fc:  dWf[j][i] += dz[j] * p2[i],  dbf[j] += dz[j],  dp2[i] = sum_j Wf[j][i] * dz[j]
        self.dp2.fill(0.0);
        for (j, &d) in dz.iter().enumerate() {
            let row = &p.t[WF][j * FLAT..(j + 1) * FLAT];
            for ((gw, dp), (&w, &a)) in g.t[WF][j * FLAT..(j + 1) * FLAT]
                .iter_mut()
                .zip(self.dp2.iter_mut())
                .zip(row.iter().zip(&self.p2))
            {
                *gw += d * a;
                *dp += w * d;
            }
            g.t[BF][j] += d;
        }

        // pool2 + ReLU, then conv2:
        //   dW2 += dy2 * col2^T,  db2 += row sums of dy2,  dcol2 = W2^T * dy2,  dp1 = col2im(dcol2)
        relu_pool_backward(&self.p2, &self.arg2, &self.dp2, &mut self.dy2);
        let n2 = H2 * H2;
        gemm(
            C2,
            n2,
            K2,
            &self.dy2,
            false,
            &self.col2,
            true,
            1.0,
            &mut g.t[W2],
        );
        bias_grad(&self.dy2, n2, &mut g.t[B2]);
        gemm(
            K2,
            C2,
            n2,
            &p.t[W2],
            true,
            &self.dy2,
            false,
            0.0,
            &mut self.dcol2,
        );
        col2im(&self.dcol2, C1, P1, P1, &mut self.dp1);

        // pool1 + ReLU, then conv1 (no input gradient needed):
        //   dW1 += dy1 * col1^T,  db1 += row sums of dy1
        relu_pool_backward(&self.p1, &self.arg1, &self.dp1, &mut self.dy1);
        let n1 = H1 * H1;
        gemm(
            C1,
            n1,
            K1,
            &self.dy1,
            false,
            &self.col1,
            true,
            1.0,
            &mut g.t[W1],
        );
        bias_grad(&self.dy1, n1, &mut g.t[B1]);
    }
}

/// Softmax cross-entropy of one sample, scaled by `scale` (1 / batch size for a batch mean):
///   m = max_j z_j,  lse = m + ln sum_j exp(z_j - m),  loss = lse - z_label
///   dL/dz_j = scale * (exp(z_j - lse) - [j == label])
pub fn softmax_xent(z: &[f32; CLASSES], label: usize, scale: f32) -> (f32, [f32; CLASSES]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = m + z.iter().map(|&v| (v - m).exp()).sum::<f32>().ln();
    let mut dz = [0.0; CLASSES];
    for (j, d) in dz.iter_mut().enumerate() {
        let onehot = if j == label { 1.0 } else { 0.0 };
        *d = scale * ((z[j] - lse).exp() - onehot);
    }
    (lse - z[label], dz)
}

/// Index of the first largest logit.
pub fn argmax(z: &[f32; CLASSES]) -> usize {
    let mut best = 0;
    for j in 1..CLASSES {
        if z[j] > z[best] {
            best = j;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences (L(w + h) - L(w - h)) / 2h against backward for a few entries of
    /// every tensor, on a random input and He-initialized weights.
    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = SplitMix64::new(7);
        let mut p = Params::he_init(&mut rng);
        for b in [B1, B2, BF] {
            for v in p.t[b].iter_mut() {
                *v = rng.symmetric(0.1);
            }
        }
        let x: Vec<f32> = (0..IN * IN).map(|_| rng.unit_f32()).collect();
        let label = 3;
        let mut work = Work::default();
        let loss = |p: &Params, work: &mut Work| {
            work.forward(p, &x);
            softmax_xent(&work.logits, label, 1.0).0 as f64
        };
        work.forward(&p, &x);
        let (_, dz) = softmax_xent(&work.logits, label, 1.0);
        let mut g = Params::zeros();
        work.backward(&p, &dz, &mut g);

        let h = 1e-3f32;
        let (mut checked, mut bad) = (0, 0);
        for t in 0..6 {
            for _ in 0..20 {
                let i = rng.below(p.t[t].len());
                let w0 = p.t[t][i];
                p.t[t][i] = w0 + h;
                let up = loss(&p, &mut work);
                p.t[t][i] = w0 - h;
                let down = loss(&p, &mut work);
                p.t[t][i] = w0;
                let numeric = (up - down) / (2.0 * h as f64);
                let analytic = g.t[t][i] as f64;
                checked += 1;
                // Kinks of ReLU / max pool can spoil a single difference; allow two.
                if (numeric - analytic).abs() > 2e-3 + 2e-2 * analytic.abs() {
                    eprintln!(
                        "{} [{i}]: numeric {numeric:.6} analytic {analytic:.6}",
                        NAMES[t]
                    );
                    bad += 1;
                }
            }
        }
        assert!(bad <= 2, "{bad} of {checked} gradient entries disagree");
    }
}
