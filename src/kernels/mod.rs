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
//! * conv weights are repacked from PyTorch's `[M, C, kH, kW]` into tap order `(u, v, c)` and
//!   tiled by [`NR`] = 8 output channels: `[M/8][K][8]` for f32, `[M/8][K/4][8][4]` for the
//!   8-bit dot (four taps of one channel side by side, what one 32-bit lane of
//!   `relaxed_dot_i8x16_i7x16` sums), `[M/8][K/2][8][2]` i16 for `dot_i16x8`.
//! * the microkernel computes [`MR`] pixels × 8 channels: for every pixel an *indirection*
//!   list (XNNPACK's IGEMM) holds, for each of the `ks` kernel taps `(u, v)`, the offset of the
//!   `kc` input values it reads; taps in the padding point at a row of zero points. When `C` is
//!   not a multiple of 4 (the first conv, `C = 1`), the input is first copied into im2col rows
//!   of `K = kH·kW·C` values (padded to 4) and each pixel has one entry (`ks = 1, kc = K`).
//!   Linear layers are the same GEMM with the images of a batch as the pixels.
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
}

impl ConvShape {
    pub fn out_h(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.k
    }
    pub fn out_w(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.k
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

/// How a conv reads its input: straight from the NHWC tensor through an indirection list
/// (`direct`), or from im2col rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvPlan {
    pub shape: ConvShape,
    /// Reads the NHWC input directly (`C` a multiple of `align`).
    pub direct: bool,
    /// Kernel taps per pixel in the indirection list (`k·k` direct, 1 for im2col).
    pub ks: usize,
    /// Values read per tap (`C` direct, the padded row length for im2col).
    pub kc: usize,
    /// `[P][ks]` offsets into the input buffer (direct: the NHWC image followed by one row of
    /// `kc` zero points at offset `H·W·C`; im2col: the rows).
    pub ind: Vec<u32>,
}

impl ConvPlan {
    /// Direct when `C` is a multiple of 4: whole 32-bit groups for the 8-bit dot, and for f32
    /// a tap of fewer channels is too short a run to pay for its pointer. Otherwise im2col rows
    /// padded to `align` taps (what the microkernel consumes at once: 4 for the 8-bit dot, 1
    /// for f32).
    pub fn new(s: ConvShape, align: usize) -> ConvPlan {
        let (oh, ow, k) = (s.out_h(), s.out_w(), s.k);
        let direct = s.c % 4 == 0;
        if direct {
            let zero = (s.h * s.w * s.c) as u32;
            let mut ind = Vec::with_capacity(oh * ow * k * k);
            for i in 0..oh {
                for j in 0..ow {
                    for u in 0..k {
                        for v in 0..k {
                            let y = (i + u) as isize - s.pad as isize;
                            let x = (j + v) as isize - s.pad as isize;
                            ind.push(
                                if y < 0 || x < 0 || y as usize >= s.h || x as usize >= s.w {
                                    zero
                                } else {
                                    ((y as usize * s.w + x as usize) * s.c) as u32
                                },
                            );
                        }
                    }
                }
            }
            ConvPlan {
                shape: s,
                direct,
                ks: k * k,
                kc: s.c,
                ind,
            }
        } else {
            ConvPlan::im2col(s, align)
        }
    }

    /// im2col rows of `K` taps padded to `align`, one indirection entry per pixel.
    pub fn im2col(s: ConvShape, align: usize) -> ConvPlan {
        let kc = round_up(s.taps(), align);
        ConvPlan {
            shape: s,
            direct: false,
            ks: 1,
            kc,
            ind: (0..s.p()).map(|p| (p * kc) as u32).collect(),
        }
    }

    /// Elements of the buffer the kernel reads: the image plus the zero row, or the im2col rows.
    pub fn input_buffer_len(&self) -> usize {
        if self.direct {
            self.shape.input_len() + self.kc
        } else {
            self.shape.p() * self.kc
        }
    }

    /// Copies the NHWC image `x` into `buf` as this plan reads it: after it the zero row
    /// (`direct`), or im2col rows in tap order `(u, v, c)` with `zero` in the padding and in
    /// the row's tail up to `kc`.
    pub fn stage<T: Copy>(&self, x: &[T], zero: T, buf: &mut [T]) {
        let s = &self.shape;
        if self.direct {
            let n = s.input_len();
            buf[..n].copy_from_slice(&x[..n]);
            buf[n..n + self.kc].fill(zero);
            return;
        }
        let (oh, ow, k, c) = (s.out_h(), s.out_w(), s.k, s.c);
        let pad = s.pad as isize;
        // Element by element: with C < 4 a slice copy per tap would cost a call per value.
        for i in 0..oh {
            for j in 0..ow {
                let row = &mut buf[(i * ow + j) * self.kc..][..self.kc];
                let mut t = 0;
                for u in 0..k {
                    let y = (i + u) as isize - pad;
                    let inside_y = y >= 0 && (y as usize) < s.h;
                    for v in 0..k {
                        let xx = (j + v) as isize - pad;
                        if inside_y && xx >= 0 && (xx as usize) < s.w {
                            let at = (y as usize * s.w + xx as usize) * c;
                            #[allow(clippy::manual_memcpy)]
                            for ch in 0..c {
                                row[t + ch] = x[at + ch];
                            }
                        } else {
                            for ch in 0..c {
                                row[t + ch] = zero;
                            }
                        }
                        t += c;
                    }
                }
                for r in &mut row[t..] {
                    *r = zero;
                }
            }
        }
    }
}

/// `[M, C, k, k]` (PyTorch OIHW) → `[M, K]` in tap order `(u, v, c)`, each row padded with
/// zeros to `kp` values.
pub fn weights_tap_order<T: Copy + Default>(w: &[T], s: &ConvShape, kp: usize) -> Vec<T> {
    let (c, k) = (s.c, s.k);
    let mut out = vec![T::default(); s.m * kp];
    for m in 0..s.m {
        for ch in 0..c {
            for u in 0..k {
                for v in 0..k {
                    out[m * kp + (u * k + v) * c + ch] = w[((m * c + ch) * k + u) * k + v];
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
