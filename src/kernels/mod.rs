//! Compute kernels. Each fast kernel is an entry of the kernel table ([`table`]) with a plain
//! reference beside it ([`reference`]); one test suite runs every entry the engine can execute
//! against the reference: integer kernels bit for bit, float kernels within rounding.
//!
//! # Layouts
//! The references work on NCHW, one image at a time, as ONNX states the ops. The fast kernels
//! work on NHWC (channels innermost), as XNNPACK and TFLite do, because a conv tap of one pixel
//! is then `C` contiguous values the microkernel can broadcast without an im2col copy:
//!
//! * activations `[H, W, C]` per image; a flat vector is `[1, 1, n]`.
//! * conv weights are repacked from PyTorch's `[M, C, kH, kW]` into tap order `(u, v, c)`
//!   (each kernel row padded to `kc`) and tiled by [`NR`] = 8 output channels: `[M/8][K][8]` for f32, `[M/8][K/4][8][4]` for the
//!   8-bit dot (four taps of one channel side by side, what one 32-bit lane of
//!   `relaxed_dot_i8x16_i7x16` sums), `[M/8][K/2][8][2]` i16 for `dot_i16x8`.
//! * the microkernel computes [`MR`] pixels × 8 channels: for every pixel an *indirection*
//!   list (XNNPACK's IGEMM) holds, for each of the `ks = k` kernel rows, the offset of the
//!   `kc` contiguous input values it reads in a zero-point-padded copy of the image (see
//!   [`ConvPlan`]). Linear layers are the same GEMM with the images of a batch as the pixels.
//!
//! Kernels never allocate: callers hand in scratch buffers.

#[allow(clippy::too_many_arguments)]
pub mod fp32;
// Kernels take ONNX's arguments one by one (data, scales, zero points, shapes); bundling them
// into structs would only move the list.
#[allow(clippy::too_many_arguments)]
pub mod int8;
pub mod peak;
pub mod probe;
#[allow(clippy::too_many_arguments)]
pub mod reference;
pub mod table;

pub use table::{Entry, F32Kernel, Int8Kernel};

/// Output channels per microkernel tile (two 4-lane vectors).
pub const NR: usize = 8;
/// Pixels (or batch images) per microkernel tile.
pub const MR: usize = 4;

pub fn round_up(n: usize, m: usize) -> usize {
    n.div_ceil(m) * m
}

/// Geometry of one conv: input `[c, h, w]`, `k×k` kernel, stride 1, `pad` on every side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub m: usize,
    pub k: usize,
    pub pad: usize,
    /// Step between output pixels, in input pixels (both axes).
    pub stride: usize,
}

impl ConvShape {
    /// `⌊(H + 2·pad − k) / stride⌋ + 1`, as PyTorch and ONNX (callers check `H + 2·pad ≥ k`).
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.pad - self.k) / self.stride + 1
    }
    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.pad - self.k) / self.stride + 1
    }
    /// Output pixels per channel.
    pub fn p(&self) -> usize {
        self.out_h() * self.out_w()
    }
    /// Taps per output value, `c·k·k`.
    pub fn taps(&self) -> usize {
        self.c * self.k * self.k
    }
    /// Input values per image.
    pub fn input_len(&self) -> usize {
        self.c * self.h * self.w
    }
}

/// How a conv reads its input: from a copy of the NHWC image padded on every side with
/// `pad` pixels of the zero point, `Hp × Wp × C` (`Hp = H + 2·pad`, `Wp = W + 2·pad`). In it
/// the `k·C` values under one kernel row `u` of output pixel `(i, j)` are contiguous, from
/// `((i·stride + u)·Wp + j·stride)·C`: so each pixel's indirection list has `ks = k` entries of `kc` values,
/// `kc = k·C` rounded up to the microkernel's step (the values past `k·C` belong to the next
/// pixel and meet zero weights). Staging costs one pass over the input, not the `P·k²·C` of
/// an im2col copy, whatever `C` is (the first conv has `C = 1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvPlan {
    pub shape: ConvShape,
    /// Kernel rows per pixel (`k`).
    pub ks: usize,
    /// Values read per kernel row: `k·C` rounded up to `align`.
    pub kc: usize,
    /// `[P][ks]` offsets into the padded image.
    pub ind: Vec<u32>,
}

impl ConvPlan {
    /// `align`: the taps the microkernel consumes at once (4 for the 8-bit dot, 1 for f32).
    pub fn new(s: ConvShape, align: usize) -> ConvPlan {
        let (oh, ow, k, st) = (s.out_h(), s.out_w(), s.k, s.stride);
        let wp = s.w + 2 * s.pad;
        let mut ind = Vec::with_capacity(oh * ow * k);
        for i in 0..oh {
            for j in 0..ow {
                for u in 0..k {
                    ind.push((((i * st + u) * wp + j * st) * s.c) as u32);
                }
            }
        }
        ConvPlan {
            shape: s,
            ks: k,
            kc: round_up(k * s.c, align),
            ind,
        }
    }

    /// Elements of the staged input: the padded image and the tail the last run reads past it.
    pub fn input_buffer_len(&self) -> usize {
        let s = &self.shape;
        (s.h + 2 * s.pad) * (s.w + 2 * s.pad) * s.c + self.kc - s.k * s.c
    }

    /// Copies the NHWC image `x` into `buf` padded with `zero` (the zero point), as the
    /// indirection list reads it.
    pub fn stage<T: Copy>(&self, x: &[T], zero: T, buf: &mut [T]) {
        let s = &self.shape;
        let (c, pad) = (s.c, s.pad);
        let row = (s.w + 2 * pad) * c;
        let buf = &mut buf[..self.input_buffer_len()];
        buf[..pad * row].fill(zero);
        for y in 0..s.h {
            let r = &mut buf[(pad + y) * row..][..row];
            r[..pad * c].fill(zero);
            r[pad * c..][..s.w * c].copy_from_slice(&x[y * s.w * c..][..s.w * c]);
            r[(pad + s.w) * c..].fill(zero);
        }
        buf[(pad + s.h) * row..].fill(zero);
    }
}

/// `[M, C, k, k]` (PyTorch OIHW) → `[M, k·kc]` in the plan's tap order: kernel row `u`
/// occupies `kc` values, `(v, c)` at `u·kc + v·C + c`, the rest of the row zero.
pub fn weights_tap_order<T: Copy + Default>(w: &[T], s: &ConvShape, kc: usize) -> Vec<T> {
    let (c, k) = (s.c, s.k);
    let kp = k * kc;
    let mut out = vec![T::default(); s.m * kp];
    for m in 0..s.m {
        for ch in 0..c {
            for u in 0..k {
                for v in 0..k {
                    out[m * kp + u * kc + v * c + ch] = w[((m * c + ch) * k + u) * k + v];
                }
            }
        }
    }
    out
}

/// Linear weights `[n_out, n_in]` in the GEMM's column order, rows padded with zeros to `kp`.
/// When the input is the flattened NCHW tensor `from = [c, h, w]` (the kernels keep it NHWC),
/// column `(i·w + j)·c + ch` takes PyTorch's `ch·h·w + i·w + j`.
pub fn linear_gemm_order<T: Copy + Default>(
    w: &[T],
    n_out: usize,
    n_in: usize,
    from: Option<[usize; 3]>,
    kp: usize,
) -> Vec<T> {
    let [c, h, ww] = from.unwrap_or([n_in, 1, 1]);
    let mut out = vec![T::default(); n_out * kp];
    for m in 0..n_out {
        for ch in 0..c {
            for i in 0..h {
                for j in 0..ww {
                    out[m * kp + (i * ww + j) * c + ch] = w[m * n_in + (ch * h + i) * ww + j];
                }
            }
        }
    }
    out
}

/// `rows [M][K]` tiled for the GEMM: `[⌈M/8⌉][K/g][8][g]`, `g` taps of one channel side by
/// side (`g` = 1 for f32, 2 for `dot_i16x8`, 4 for the 8-bit dot); channels past `M` are zero.
pub fn pack_tiles<T: Copy + Default>(rows: &[T], m: usize, k: usize, g: usize) -> Vec<T> {
    let mut w = vec![T::default(); m.div_ceil(NR) * k * NR];
    for r in 0..m {
        let (t, ch) = (r / NR, r % NR);
        for kk in 0..k {
            w[((t * k / g + kk / g) * NR + ch) * g + kk % g] = rows[r * k + kk];
        }
    }
    w
}

/// A per-channel vector padded to whole tiles of 8 (with zeros).
pub fn pad_tiles<T: Copy + Default>(v: &[T], m: usize) -> Vec<T> {
    let mut out = vec![T::default(); m.div_ceil(NR) * NR];
    out[..m].copy_from_slice(&v[..m]);
    out
}

/// Checks an indirection list before the unsafe microkernels read through it: `p` pixels of
/// `ks` runs of `kc` values matching the packed `K`, every run inside `a_len`, `out_len >= p·m`.
/// Returns the end of the furthest run.
#[allow(clippy::too_many_arguments)]
pub fn check_indirection(
    p: usize,
    ks: usize,
    kc: usize,
    k: usize,
    m: usize,
    ind: &[u32],
    a_len: usize,
    out_len: usize,
) -> usize {
    assert!(
        ks * kc == k,
        "indirection ({ks} x {kc}) does not match the packed K {k}"
    );
    assert!(ind.len() >= p * ks && out_len >= p * m);
    let top = ind[..p * ks].iter().max().map_or(0, |&v| v as usize + kc);
    assert!(top <= a_len, "indirection reads past the input");
    top
}

/// NCHW `[c, h, w]` → NHWC `[h, w, c]`.
pub fn nchw_to_nhwc<T: Copy>(x: &[T], c: usize, h: usize, w: usize, out: &mut [T]) {
    for ch in 0..c {
        for p in 0..h * w {
            out[p * c + ch] = x[ch * h * w + p];
        }
    }
}

/// NHWC `[h, w, c]` → NCHW `[c, h, w]`.
pub fn nhwc_to_nchw<T: Copy>(x: &[T], c: usize, h: usize, w: usize, out: &mut [T]) {
    for ch in 0..c {
        for p in 0..h * w {
            out[ch * h * w + p] = x[p * c + ch];
        }
    }
}

/// The indirection list of a linear layer over `n` rows of `stride` values.
pub fn rows(n: usize, stride: usize) -> Vec<u32> {
    (0..n).map(|i| (i * stride) as u32).collect()
}

/// Grows `v` to at least `n` elements and returns the first `n`.
pub fn grow<T: Copy + Default>(v: &mut Vec<T>, n: usize) -> &mut [T] {
    if v.len() < n {
        v.resize(n, T::default());
    }
    &mut v[..n]
}

/// An average-pooling window over `[c, h, w]`: `kh × kw`, `stride` apart, floor, no padding
/// (PyTorch's `AvgPool2d(k, s)`; `AdaptiveAvgPool2d(1)` is the window covering the image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvgShape {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
}

impl AvgShape {
    pub fn out_h(&self) -> usize {
        pool_out(self.h, self.kh, self.stride)
    }
    pub fn out_w(&self) -> usize {
        pool_out(self.w, self.kw, self.stride)
    }
    pub fn input_len(&self) -> usize {
        self.c * self.h * self.w
    }
    pub fn output_len(&self) -> usize {
        self.c * self.out_h() * self.out_w()
    }
    /// Values averaged per output.
    pub fn window(&self) -> usize {
        self.kh * self.kw
    }
    /// Does the window cover the whole image? onnxruntime then runs its integer global pool
    /// (QLinearGlobalAveragePool, and QLinearAveragePool's fallback to it).
    pub fn is_global(&self) -> bool {
        (self.kh, self.kw) == (self.h, self.w)
    }
}

/// Quantization of an integer average pool: input and output `(scale, zero point)` and the
/// output's integer range. The model gives the output the input's parameters (TFLite's rule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AvgQuant {
    pub x_scale: f32,
    pub x_zero_point: i32,
    pub y_scale: f32,
    pub y_zero_point: i32,
    pub qmin: i32,
    pub qmax: i32,
}

impl AvgQuant {
    /// MLAS's global-pool multiplier `s_x / (s_y · N)`, in float32 in that order.
    pub fn global_multiplier(&self, n: usize) -> f32 {
        self.x_scale / (self.y_scale * n as f32)
    }
    /// onnxruntime's QLinearAveragePool quantization of a float average:
    /// `saturate(nearbyintf(avg / s_y + z_y))` (the zero point is added before rounding).
    pub fn quantize_average(&self, avg: f32) -> i32 {
        ((avg / self.y_scale + self.y_zero_point as f32).round_ties_even() as i32)
            .clamp(self.qmin, self.qmax)
    }
    /// MLAS's requantization of a global pool's integer sum (already offset by `−z_x·N`):
    /// `saturate(rint(float32(acc) · m) + z_y)`.
    pub fn requantize_sum(&self, acc: i32, m: f32) -> i32 {
        ((acc as f32 * m).round_ties_even() as i32 + self.y_zero_point).clamp(self.qmin, self.qmax)
    }
}

/// Channels an average pool sums at once (its accumulators live on the stack).
const AVG_BLOCK: usize = 64;

/// Calls `emit(at, mean)` for every output value of the window `s` over NHWC `x` (`at` its index
/// in the NHWC output): the float32 sum of `value(x)` over the window in row-major order, divided
/// by `float32(kh · kw)`. One loop for both average pools below, so they sum in the same order.
fn window_means<T: Copy>(
    s: &AvgShape,
    x: &[T],
    value: impl Fn(T) -> f32,
    mut emit: impl FnMut(usize, f32),
) {
    let (oh, ow, c) = (s.out_h(), s.out_w(), s.c);
    let n = s.window() as f32;
    for i in 0..oh {
        for j in 0..ow {
            for c0 in (0..c).step_by(AVG_BLOCK) {
                let cb = AVG_BLOCK.min(c - c0);
                let mut acc = [0f32; AVG_BLOCK];
                for u in 0..s.kh {
                    for v in 0..s.kw {
                        let p = ((i * s.stride + u) * s.w + j * s.stride + v) * c + c0;
                        for (a, &q) in acc[..cb].iter_mut().zip(&x[p..p + cb]) {
                            *a += value(q);
                        }
                    }
                }
                for (k, &a) in acc[..cb].iter().enumerate() {
                    emit((i * ow + j) * c + c0 + k, a / n);
                }
            }
        }
    }
}

/// Float average pool on NHWC `[h, w, c]`: each output is the float32 sum of its window in
/// row-major order divided by `float32(kh · kw)` (as onnxruntime's AveragePool and the reference).
pub fn avgpool_nhwc_f32(s: &AvgShape, x: &[f32], out: &mut [f32]) {
    window_means(s, x, |v| v, |at, mean| out[at] = mean);
}

/// Integer average pool on NHWC int8 stored as `u = q + 128`, with onnxruntime 1.32's rounding:
///
/// ```text
/// window covers the image (N = h·w):  y = saturate(rint(float32(Σ q − z_x·N) · s_x/(s_y·N)) + z_y)
/// otherwise (N = kh·kw):              y = saturate(nearbyintf(Σ_f32 s_x(q − z_x) / N / s_y + z_y))
/// ```
/// The first is MLAS's integer global pool; the second dequantizes each value (a 256-entry table,
/// as onnxruntime does) and sums in float32 in row-major window order.
pub fn avgpool_nhwc_i8(s: &AvgShape, p: &AvgQuant, x: &[u8], out: &mut [u8]) {
    let (c, n) = (s.c, s.window());
    if s.is_global() {
        let m = p.global_multiplier(n);
        // Σ (u − 128) − z_x·N = Σ u − (z_x + 128)·N
        let bias = -(p.x_zero_point + 128) * n as i32;
        for c0 in (0..c).step_by(AVG_BLOCK) {
            let cb = AVG_BLOCK.min(c - c0);
            let mut acc = [0i32; AVG_BLOCK];
            for px in 0..n {
                for (a, &u) in acc[..cb].iter_mut().zip(&x[px * c + c0..][..cb]) {
                    *a += u as i32;
                }
            }
            for (d, &a) in out[c0..c0 + cb].iter_mut().zip(&acc[..cb]) {
                *d = (p.requantize_sum(a + bias, m) + 128) as u8;
            }
        }
        return;
    }
    let mut table = [0f32; 256];
    for (u, t) in table.iter_mut().enumerate() {
        *t = p.x_scale * (u as i32 - 128 - p.x_zero_point) as f32;
    }
    window_means(
        s,
        x,
        |u| table[u as usize],
        |at, mean| out[at] = (p.quantize_average(mean) + 128) as u8,
    );
}

/// Pooled size along one axis: `⌊(n − k) / stride⌋ + 1` (no padding, floor, as PyTorch's default).
pub fn pool_out(n: usize, k: usize, stride: usize) -> usize {
    (n - k) / stride + 1
}

/// k×k max-pool with `stride`, floor, on NHWC `[h, w, c]` (any k and stride; the 2×2/2 pool has
/// faster entries in `fp32` and `int8`). The first maximum of each window in row-major order wins.
#[allow(clippy::too_many_arguments)]
pub fn maxpool_nhwc<T: Copy + PartialOrd>(
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    x: &[T],
    out: &mut [T],
) {
    let (oh, ow) = (pool_out(h, k, stride), pool_out(w, k, stride));
    for i in 0..oh {
        for j in 0..ow {
            let o = &mut out[(i * ow + j) * c..][..c];
            o.copy_from_slice(&x[((i * stride) * w + j * stride) * c..][..c]);
            for u in 0..k {
                for v in 0..k {
                    let p = ((i * stride + u) * w + j * stride + v) * c;
                    for (d, &q) in o.iter_mut().zip(&x[p..p + c]) {
                        if q > *d {
                            *d = q;
                        }
                    }
                }
            }
        }
    }
}

/// 2×2 max-pool, stride 2, floor, on NHWC `[h, w, c]`: the same for every element type, since
/// max commutes with the monotone int8 → uint8 offset and with dequantization.
pub fn maxpool2_nhwc<T: Copy + PartialOrd>(c: usize, h: usize, w: usize, x: &[T], out: &mut [T]) {
    let (oh, ow) = (h / 2, w / 2);
    for i in 0..oh {
        for j in 0..ow {
            let p00 = ((2 * i) * w + 2 * j) * c;
            let p01 = p00 + c;
            let p10 = p00 + w * c;
            let p11 = p10 + c;
            let o = &mut out[(i * ow + j) * c..][..c];
            for (ch, d) in o.iter_mut().enumerate() {
                let mut v = x[p00 + ch];
                for q in [x[p01 + ch], x[p10 + ch], x[p11 + ch]] {
                    if q > v {
                        v = q;
                    }
                }
                *d = v;
            }
        }
    }
}
