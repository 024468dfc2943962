//! Integer-only kernels: int8 × int8 → int32 accumulation, int32 bias, requantization to int8
//! with ONNX Runtime's formula (see `reference::requantize`), fused ReLU by the clamp, int8
//! max-pool. SIMD128 on wasm (`i32x4.dot_i16x8_s`), portable loops elsewhere; both are
//! bit-identical to the reference.

use super::reference::requantize;
use super::{round_up, ConvShape, TILE_M, TILE_P};

/// Requantization of one layer's output: per output channel multiplier
/// `M[m] = float32(s_x·s_w[m]) / s_y`, output zero point and clamp bounds (`lo = max(qmin, z_y)`
/// when ReLU is fused).
#[derive(Debug, Clone, PartialEq)]
pub struct Requant {
    pub multiplier: Vec<f32>,
    pub zero_point: i32,
    pub lo: i32,
    pub hi: i32,
}

/// Weights `[M, taps]` (int8 values) widened to i16 and padded to whole tap pairs: `[M, K2, 2]`.
pub fn pack_weights(w: &[i8], m: usize, taps: usize) -> Vec<i16> {
    let k2 = taps.div_ceil(2);
    let mut out = vec![0i16; m * k2 * 2];
    for r in 0..m {
        for t in 0..taps {
            out[r * k2 * 2 + t] = w[r * taps + t] as i16;
        }
    }
    out
}

/// The zero-point fold: `acc = Σ q_x q_w + (b − z_x Σ_t q_w[m, t])`, valid because the weight
/// zero point is 0 and padding is `z_x`. Returns the folded int32 bias per output channel.
pub fn fold_bias(bias: &[i32], w: &[i8], m: usize, taps: usize, zx: i32) -> Vec<i32> {
    (0..m)
        .map(|r| {
            let sum: i32 = w[r * taps..][..taps].iter().map(|&v| v as i32).sum();
            bias[r].wrapping_sub(zx.wrapping_mul(sum))
        })
        .collect()
}

/// `col[t/2, p, t%2]` = input value (i16) under tap `t` for pixel `p`; `z_x` in the padding and
/// in pixels `P..Pp`, 0 for the odd tap that completes the last pair (its weight is 0 too).
pub fn im2col(s: &ConvShape, x: &[i8], zx: i8, col: &mut [i16]) {
    let (oh, ow, pp, k) = (s.out_h(), s.out_w(), s.pp(), s.k);
    let taps = s.taps();
    for c in 0..s.c {
        for u in 0..k {
            for v in 0..k {
                let t = (c * k + u) * k + v;
                let base = (t / 2) * pp * 2 + (t & 1);
                for i in 0..oh {
                    let y = (i + u) as isize - s.pad as isize;
                    let row = base + i * ow * 2;
                    if y < 0 || y as usize >= s.h {
                        for j in 0..ow {
                            col[row + 2 * j] = zx as i16;
                        }
                        continue;
                    }
                    let src = &x[(c * s.h + y as usize) * s.w..][..s.w];
                    for j in 0..ow {
                        let xx = (j + v) as isize - s.pad as isize;
                        col[row + 2 * j] = if xx < 0 || xx as usize >= s.w {
                            zx as i16
                        } else {
                            src[xx as usize] as i16
                        };
                    }
                }
                for p in oh * ow..pp {
                    col[base + 2 * p] = zx as i16;
                }
            }
        }
    }
    if taps % 2 == 1 {
        let base = (taps / 2) * pp * 2 + 1;
        for p in 0..pp {
            col[base + 2 * p] = 0;
        }
    }
}

/// `out[m, p] = requant(bias[m] + Σ_t w[m, t] · col[t, p])` as int8.
///
/// Loop nest as in `fp32::gemm`: (1) tiles of 4 channels, (2) tiles of 8 pixels, (3) tap pairs:
/// one weight pair per channel broadcast against the 8 pixels' pairs in 2 × i32x4 dot products.
pub fn gemm(s: &ConvShape, w: &[i16], bias: &[i32], col: &[i16], rq: &Requant, out: &mut [i8]) {
    let (p, pp, k2) = (s.p(), s.pp(), s.tap_pairs());
    let mut m0 = 0;
    while m0 < s.m {
        let mt = TILE_M.min(s.m - m0);
        let mut p0 = 0;
        while p0 < p {
            let mut tile = [[0i8; TILE_P]; TILE_M];
            tile_i8(w, bias, col, m0, mt, p0, pp, k2, rq, &mut tile);
            let pt = TILE_P.min(p - p0);
            for (mi, row) in tile.iter().enumerate().take(mt) {
                out[(m0 + mi) * p + p0..][..pt].copy_from_slice(&row[..pt]);
            }
            p0 += TILE_P;
        }
        m0 += TILE_M;
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile_i8(
    w: &[i16],
    bias: &[i32],
    col: &[i16],
    m0: usize,
    mt: usize,
    p0: usize,
    pp: usize,
    k2: usize,
    rq: &Requant,
    tile: &mut [[i8; TILE_P]; TILE_M],
) {
    use core::arch::wasm32::*;
    let mut acc = [[i32x4_splat(0); 2]; TILE_M];
    for mi in 0..mt {
        acc[mi] = [i32x4_splat(bias[m0 + mi]); 2];
    }
    let rows: [&[i16]; TILE_M] =
        core::array::from_fn(|mi| &w[(m0 + mi.min(mt - 1)) * k2 * 2..][..k2 * 2]);
    let col = &col[p0 * 2..];
    for t2 in 0..k2 {
        // SAFETY: (t2·pp + p0 + 8)·2 <= k2·pp·2, so 16 i16 are in bounds; rows hold k2·2 i16.
        let (c0, c1) = unsafe {
            let ptr = col.as_ptr().add(t2 * pp * 2) as *const v128;
            (v128_load(ptr), v128_load(ptr.add(1)))
        };
        for mi in 0..TILE_M {
            let wv = unsafe { v128_load32_splat(rows[mi].as_ptr().add(t2 * 2) as *const u32) };
            acc[mi][0] = i32x4_add(acc[mi][0], i32x4_dot_i16x8(wv, c0));
            acc[mi][1] = i32x4_add(acc[mi][1], i32x4_dot_i16x8(wv, c1));
        }
    }
    // q = clamp(rint(float32(acc)·M) + z, lo, hi), as reference::requantize, in saturating
    // steps: rint is exact, trunc_sat saturates at i32, narrowing saturates at i16, adding z
    // saturates at i16, narrowing saturates at i8, then [lo, hi]. Each step is monotone and
    // only clips values already beyond the final bounds, so the result is the same.
    let zy = i16x8_splat(rq.zero_point as i16);
    let (lo, hi) = (i8x16_splat(rq.lo as i8), i8x16_splat(rq.hi as i8));
    for mi in 0..mt {
        let mult = f32x4_splat(rq.multiplier[m0 + mi]);
        let r0 = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(
            f32x4_convert_i32x4(acc[mi][0]),
            mult,
        )));
        let r1 = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(
            f32x4_convert_i32x4(acc[mi][1]),
            mult,
        )));
        let q16 = i16x8_add_sat(i16x8_narrow_i32x4(r0, r1), zy);
        let q8 = i8x16_min(i8x16_max(i8x16_narrow_i16x8(q16, q16), lo), hi);
        tile[mi] = i64x2_extract_lane::<0>(q8).to_le_bytes().map(|b| b as i8);
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile_i8(
    w: &[i16],
    bias: &[i32],
    col: &[i16],
    m0: usize,
    mt: usize,
    p0: usize,
    pp: usize,
    k2: usize,
    rq: &Requant,
    tile: &mut [[i8; TILE_P]; TILE_M],
) {
    for mi in 0..mt {
        let row = &w[(m0 + mi) * k2 * 2..][..k2 * 2];
        let mut acc = [bias[m0 + mi]; TILE_P];
        for t2 in 0..k2 {
            let c = &col[(t2 * pp + p0) * 2..][..TILE_P * 2];
            for l in 0..TILE_P {
                // int32 accumulation wraps, as i32x4.add does (and as the reference does).
                acc[l] = acc[l].wrapping_add(
                    row[2 * t2] as i32 * c[2 * l] as i32
                        + row[2 * t2 + 1] as i32 * c[2 * l + 1] as i32,
                );
            }
        }
        let mult = rq.multiplier[m0 + mi];
        tile[mi] = acc.map(|a| requantize(a, mult, rq.zero_point, rq.lo, rq.hi) as i8);
    }
}

/// Conv with int32 bias (already folded) and requantization for one image.
pub fn conv2d(
    s: &ConvShape,
    x: &[i8],
    zx: i8,
    w: &[i16],
    bias: &[i32],
    rq: &Requant,
    col: &mut [i16],
    out: &mut [i8],
) {
    let col = &mut col[..s.tap_pairs() * 2 * s.pp()];
    im2col(s, x, zx, col);
    gemm(s, w, bias, col, rq, out);
}

/// Linear weights `[n_out, n_in]` int8 widened to i16, rows padded to a multiple of 8.
pub fn pack_linear(w: &[i8], n_out: usize, n_in: usize) -> Vec<i16> {
    let kp = round_up(n_in, 8);
    let mut out = vec![0i16; n_out * kp];
    for m in 0..n_out {
        for k in 0..n_in {
            out[m * kp + k] = w[m * n_in + k] as i16;
        }
    }
    out
}

/// Exact accumulators of a linear layer: `acc[m] = bias[m] + Σ_k w[m, k] · x[k]` with `x`
/// widened to i16 and zero-padded to the packed row length (bias already folded).
pub fn linear_acc(
    n_in: usize,
    n_out: usize,
    x16: &[i16],
    w: &[i16],
    bias: &[i32],
    acc: &mut [i32],
) {
    let kp = round_up(n_in, 8);
    for m in 0..n_out {
        acc[m] = bias[m].wrapping_add(dot_i16(&w[m * kp..][..kp], &x16[..kp]));
    }
}

/// `Σ a[k]·b[k]` exactly in i32; `len` a multiple of 8.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn dot_i16(a: &[i16], b: &[i16]) -> i32 {
    use core::arch::wasm32::*;
    let n = a.len().min(b.len());
    let mut acc = [i32x4_splat(0); 4];
    let mut k = 0;
    while k + 32 <= n {
        for r in 0..4 {
            // SAFETY: k + 32 <= n.
            let (va, vb) = unsafe {
                (
                    v128_load(a.as_ptr().add(k + 8 * r) as *const v128),
                    v128_load(b.as_ptr().add(k + 8 * r) as *const v128),
                )
            };
            acc[r] = i32x4_add(acc[r], i32x4_dot_i16x8(va, vb));
        }
        k += 32;
    }
    while k + 8 <= n {
        let (va, vb) = unsafe {
            (
                v128_load(a.as_ptr().add(k) as *const v128),
                v128_load(b.as_ptr().add(k) as *const v128),
            )
        };
        acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(va, vb));
        k += 8;
    }
    let v = i32x4_add(i32x4_add(acc[0], acc[1]), i32x4_add(acc[2], acc[3]));
    i32x4_extract_lane::<0>(v)
        .wrapping_add(i32x4_extract_lane::<1>(v))
        .wrapping_add(i32x4_extract_lane::<2>(v))
        .wrapping_add(i32x4_extract_lane::<3>(v))
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn dot_i16(a: &[i16], b: &[i16]) -> i32 {
    a.iter()
        .zip(b)
        .fold(0i32, |s, (&x, &y)| s.wrapping_add(x as i32 * y as i32))
}

/// Linear layer: exact accumulators, then requantization per output.
pub fn linear(
    n_in: usize,
    n_out: usize,
    x: &[i8],
    w: &[i16],
    bias: &[i32],
    rq: &Requant,
    x16: &mut [i16],
    acc: &mut [i32],
    out: &mut [i8],
) {
    let kp = round_up(n_in, 8);
    for (d, &v) in x16[..n_in].iter_mut().zip(x) {
        *d = v as i16;
    }
    x16[n_in..kp].fill(0);
    linear_acc(n_in, n_out, x16, w, bias, acc);
    for m in 0..n_out {
        out[m] = requantize(acc[m], rq.multiplier[m], rq.zero_point, rq.lo, rq.hi) as i8;
    }
}

/// 2×2 int8 max-pool: no requantization, input and output share `(s, z)`.
pub fn maxpool2(c: usize, h: usize, w: usize, x: &[i8], out: &mut [i8]) {
    let (oh, ow) = (h / 2, w / 2);
    for ch in 0..c {
        for i in 0..oh {
            let r0 = &x[(ch * h + 2 * i) * w..][..w];
            let r1 = &x[(ch * h + 2 * i + 1) * w..][..w];
            let o = &mut out[(ch * oh + i) * ow..][..ow];
            for j in 0..ow {
                o[j] = r0[2 * j]
                    .max(r0[2 * j + 1])
                    .max(r1[2 * j].max(r1[2 * j + 1]));
            }
        }
    }
}
