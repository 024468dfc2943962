//! Plain reference kernels: direct loops, written to be obviously right. The fast kernels in
//! `fp32` and `int8` are tested against these.

use super::{AvgQuant, AvgShape, ConvShape};

/// `out[m, i, j] = b[m] + Σ_{c,u,v} w[m, c, u, v] · x[c, i·st+u-pad, j·st+v-pad]` (zero outside).
pub fn conv2d_f32(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32], out: &mut [f32]) {
    let (oh, ow, k) = (s.out_h(), s.out_w(), s.k);
    for m in 0..s.m {
        for i in 0..oh {
            for j in 0..ow {
                let mut acc = b[m];
                for c in 0..s.c {
                    for u in 0..k {
                        for v in 0..k {
                            let (y, xx) = (
                                (i * s.stride + u) as isize - s.pad as isize,
                                (j * s.stride + v) as isize - s.pad as isize,
                            );
                            if y >= 0 && xx >= 0 && (y as usize) < s.h && (xx as usize) < s.w {
                                acc += w[((m * s.c + c) * k + u) * k + v]
                                    * x[(c * s.h + y as usize) * s.w + xx as usize];
                            }
                        }
                    }
                }
                out[(m * oh + i) * ow + j] = acc;
            }
        }
    }
}

/// The exact integer accumulator of QLinearConv (and ConvInteger plus bias):
/// `acc[m, i, j] = b[m] + Σ (q_x − z_x)(q_w − z_w[m])`, where taps outside the image are
/// padding with value `z_x` (real zero), so they contribute nothing.
pub fn conv2d_acc_i32(
    s: &ConvShape,
    x: &[i32],
    zx: i32,
    w: &[i32],
    zw: &[i32],
    b: &[i32],
    out: &mut [i32],
) {
    let (oh, ow, k) = (s.out_h(), s.out_w(), s.k);
    for m in 0..s.m {
        for i in 0..oh {
            for j in 0..ow {
                let mut acc = b[m];
                for c in 0..s.c {
                    for u in 0..k {
                        for v in 0..k {
                            let (y, xx) = (
                                (i * s.stride + u) as isize - s.pad as isize,
                                (j * s.stride + v) as isize - s.pad as isize,
                            );
                            let qx =
                                if y >= 0 && xx >= 0 && (y as usize) < s.h && (xx as usize) < s.w {
                                    x[(c * s.h + y as usize) * s.w + xx as usize]
                                } else {
                                    zx
                                };
                            acc = acc.wrapping_add(
                                (qx - zx) * (w[((m * s.c + c) * k + u) * k + v] - zw[m]),
                            );
                        }
                    }
                }
                out[(m * oh + i) * ow + j] = acc;
            }
        }
    }
}

/// `acc[i, m] = b[m] + Σ_k (a[i, k] − z_a)(w[k, m] − z_w[m])` for `a [n, k]`, `w [k, m]`
/// (ONNX MatMul layout, as QLinearMatMul / MatMulInteger).
pub fn matmul_acc_i32(
    n: usize,
    kk: usize,
    mm: usize,
    a: &[i32],
    za: i32,
    w: &[i32],
    zw: &[i32],
    b: &[i32],
    out: &mut [i32],
) {
    for i in 0..n {
        for m in 0..mm {
            let mut acc = b[m];
            for k in 0..kk {
                acc = acc.wrapping_add((a[i * kk + k] - za) * (w[k * mm + m] - zw[m]));
            }
            out[i * mm + m] = acc;
        }
    }
}

/// ONNX Runtime's requantization (QLinearConv / QLinearMatMul on x86):
///
/// ```text
/// M  = float32(float32(s_x · s_w[m]) / s_y)
/// q_y = clamp(rint(float32(acc) · M) + z_y, lo, hi)      rint = round half to even
/// ```
///
/// with `[lo, hi]` the output grid, or `[max(qmin, z_y), qmax]` for a fused ReLU. The clamp is
/// done on the float before the cast, so nothing overflows.
#[inline]
pub fn requantize(acc: i32, multiplier: f32, zy: i32, lo: i32, hi: i32) -> i32 {
    let r = (acc as f32 * multiplier).round_ties_even();
    r.max((lo - zy) as f32).min((hi - zy) as f32) as i32 + zy
}

/// `M = float32(float32(s_x · s_w) / s_y)`, the multiplier ORT uses.
#[inline]
pub fn multiplier(sx: f32, sw: f32, sy: f32) -> f32 {
    (sx * sw) / sy
}

/// Float average pool, NCHW: `out[ch, i, j] = (Σ_{u,v} x[ch, i·s + u, j·s + v]) / (kh·kw)`, the
/// float32 sum in row-major window order.
pub fn avgpool(s: &AvgShape, x: &[f32], out: &mut [f32]) {
    let (oh, ow) = (s.out_h(), s.out_w());
    for ch in 0..s.c {
        for i in 0..oh {
            for j in 0..ow {
                let mut acc = 0f32;
                for u in 0..s.kh {
                    for v in 0..s.kw {
                        acc += x[(ch * s.h + i * s.stride + u) * s.w + j * s.stride + v];
                    }
                }
                out[(ch * oh + i) * ow + j] = acc / s.window() as f32;
            }
        }
    }
}

/// onnxruntime's QLinearAveragePool / QLinearGlobalAveragePool on NCHW integer values (int8 or
/// uint8 by `p.qmin..=p.qmax`). A window covering the image takes MLAS's integer global pool:
/// `y = saturate(rint(float32(Σ q − z_x·N) · s_x/(s_y·N)) + z_y)`; any other window dequantizes,
/// sums in float32 row-major, divides by `N = kh·kw` and quantizes:
/// `y = saturate(nearbyintf(Σ s_x(q − z_x) / N / s_y + z_y))`.
pub fn qlinear_avgpool(s: &AvgShape, p: &AvgQuant, x: &[i32], out: &mut [i32]) {
    let (oh, ow, n) = (s.out_h(), s.out_w(), s.window());
    for ch in 0..s.c {
        for i in 0..oh {
            for j in 0..ow {
                let at =
                    |u: usize, v: usize| x[(ch * s.h + i * s.stride + u) * s.w + j * s.stride + v];
                let y = if s.is_global() {
                    let mut acc = -p.x_zero_point * n as i32;
                    for u in 0..s.kh {
                        for v in 0..s.kw {
                            acc += at(u, v);
                        }
                    }
                    p.requantize_sum(acc, p.global_multiplier(n))
                } else {
                    let mut sum = 0f32;
                    for u in 0..s.kh {
                        for v in 0..s.kw {
                            sum += p.x_scale * (at(u, v) - p.x_zero_point) as f32;
                        }
                    }
                    p.quantize_average(sum / n as f32)
                };
                out[(ch * oh + i) * ow + j] = y;
            }
        }
    }
}

/// k×k max-pool with `stride`, floor, NCHW: `out[ch, i, j] = max_{u,v} x[ch, i·s + u, j·s + v]`.
/// Any ordered type, so the int8 pool is exactly this with no requantization.
pub fn maxpool<T: Copy + PartialOrd>(
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
    x: &[T],
    out: &mut [T],
) {
    let (oh, ow) = (super::pool_out(h, k, s), super::pool_out(w, k, s));
    for ch in 0..c {
        for i in 0..oh {
            for j in 0..ow {
                let at = |y: usize, xx: usize| x[(ch * h + y) * w + xx];
                let mut v = at(i * s, j * s);
                for u in 0..k {
                    for t in 0..k {
                        if at(i * s + u, j * s + t) > v {
                            v = at(i * s + u, j * s + t);
                        }
                    }
                }
                out[(ch * oh + i) * ow + j] = v;
            }
        }
    }
}

/// 2×2 max-pool, stride 2, floor: `[c, h, w] -> [c, h/2, w/2]`. Works for any ordered type,
/// so the int8 pool is exactly this with no requantization (max commutes with `s(q − z)`).
pub fn maxpool2<T: Copy + PartialOrd>(c: usize, h: usize, w: usize, x: &[T], out: &mut [T]) {
    let (oh, ow) = (h / 2, w / 2);
    for ch in 0..c {
        for i in 0..oh {
            for j in 0..ow {
                let at = |y: usize, xx: usize| x[(ch * h + y) * w + xx];
                let mut v = at(2 * i, 2 * j);
                for (y, xx) in [
                    (2 * i, 2 * j + 1),
                    (2 * i + 1, 2 * j),
                    (2 * i + 1, 2 * j + 1),
                ] {
                    if at(y, xx) > v {
                        v = at(y, xx);
                    }
                }
                out[(ch * oh + i) * ow + j] = v;
            }
        }
    }
}

/// `out[m] = b[m] + Σ_k w[m, k] · x[k]` (PyTorch Linear layout `[out, in]`).
pub fn linear_f32(n_in: usize, n_out: usize, x: &[f32], w: &[f32], b: &[f32], out: &mut [f32]) {
    for m in 0..n_out {
        let mut acc = b[m];
        for k in 0..n_in {
            acc += w[m * n_in + k] * x[k];
        }
        out[m] = acc;
    }
}
