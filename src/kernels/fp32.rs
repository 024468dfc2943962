//! FP32 conv (im2col + tiled GEMM) and linear, SIMD128 on wasm, portable loops elsewhere.
//! Built with the same care as the int8 kernels in `int8.rs` (same tile, same loop nest) so the
//! timing comparison is fair.

use super::{ConvShape, TILE_M, TILE_P};

/// `col[t, p]` = input value under tap `t = (c, u, v)` for output pixel `p = (i, j)`, 0 in the
/// padding and in the columns `P..Pp`.
pub fn im2col(s: &ConvShape, x: &[f32], col: &mut [f32]) {
    let (oh, ow, pp, k) = (s.out_h(), s.out_w(), s.pp(), s.k);
    for c in 0..s.c {
        for u in 0..k {
            for v in 0..k {
                let row = &mut col[((c * k + u) * k + v) * pp..][..pp];
                for i in 0..oh {
                    let y = (i + u) as isize - s.pad as isize;
                    let dst = &mut row[i * ow..(i + 1) * ow];
                    if y < 0 || y as usize >= s.h {
                        dst.fill(0.0);
                        continue;
                    }
                    let src = &x[(c * s.h + y as usize) * s.w..][..s.w];
                    for (j, d) in dst.iter_mut().enumerate() {
                        let xx = (j + v) as isize - s.pad as isize;
                        *d = if xx < 0 || xx as usize >= s.w {
                            0.0
                        } else {
                            src[xx as usize]
                        };
                    }
                }
                row[oh * ow..].fill(0.0);
            }
        }
    }
}

/// `out[m, p] = b[m] + Σ_t w[m, t] · col[t, p]`, then `max(0, ·)` when `relu`.
///
/// Loop nest: (1) tiles of 4 output channels, (2) tiles of 8 pixels, (3) taps t: one weight per
/// channel broadcast against the 8 pixels of `col[t]`, accumulated in 8 f32x4 registers.
pub fn gemm(s: &ConvShape, w: &[f32], b: &[f32], col: &[f32], relu: bool, out: &mut [f32]) {
    let (p, pp, taps) = (s.p(), s.pp(), s.taps());
    let mut m0 = 0;
    while m0 < s.m {
        let mt = TILE_M.min(s.m - m0);
        let mut p0 = 0;
        while p0 < p {
            let mut tile = [[0f32; TILE_P]; TILE_M];
            tile_f32(w, b, col, m0, mt, p0, pp, taps, relu, &mut tile);
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
fn tile_f32(
    w: &[f32],
    b: &[f32],
    col: &[f32],
    m0: usize,
    mt: usize,
    p0: usize,
    pp: usize,
    taps: usize,
    relu: bool,
    tile: &mut [[f32; TILE_P]; TILE_M],
) {
    use core::arch::wasm32::*;
    let mut acc = [[f32x4_splat(0.0); 2]; TILE_M];
    for mi in 0..mt {
        acc[mi] = [f32x4_splat(b[m0 + mi]); 2];
    }
    // Rows of w for the tile; missing rows (mt < 4) repeat the last one and are discarded.
    let rows: [&[f32]; TILE_M] =
        core::array::from_fn(|mi| &w[(m0 + mi.min(mt - 1)) * taps..][..taps]);
    let col = &col[p0..];
    for t in 0..taps {
        // SAFETY: p0 + 8 <= pp and t < taps, so 8 floats at col[t*pp + p0..] are in bounds.
        let (c0, c1) = unsafe {
            let ptr = col.as_ptr().add(t * pp) as *const v128;
            (v128_load(ptr), v128_load(ptr.add(1)))
        };
        for mi in 0..TILE_M {
            let wv = f32x4_splat(rows[mi][t]);
            acc[mi][0] = f32x4_add(acc[mi][0], f32x4_mul(wv, c0));
            acc[mi][1] = f32x4_add(acc[mi][1], f32x4_mul(wv, c1));
        }
    }
    for mi in 0..mt {
        for h in 0..2 {
            let v = if relu {
                f32x4_max(acc[mi][h], f32x4_splat(0.0))
            } else {
                acc[mi][h]
            };
            // SAFETY: tile rows hold 8 floats; h*4 + 4 <= 8.
            unsafe { v128_store(tile[mi].as_mut_ptr().add(h * 4) as *mut v128, v) };
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile_f32(
    w: &[f32],
    b: &[f32],
    col: &[f32],
    m0: usize,
    mt: usize,
    p0: usize,
    pp: usize,
    taps: usize,
    relu: bool,
    tile: &mut [[f32; TILE_P]; TILE_M],
) {
    for mi in 0..mt {
        let row = &w[(m0 + mi) * taps..][..taps];
        let mut acc = [b[m0 + mi]; TILE_P];
        for (t, &wv) in row.iter().enumerate() {
            let c = &col[t * pp + p0..][..TILE_P];
            for l in 0..TILE_P {
                acc[l] += wv * c[l];
            }
        }
        tile[mi] = if relu { acc.map(|v| v.max(0.0)) } else { acc };
    }
}

/// Conv + optional fused ReLU for one image: `x [c, h, w] -> out [m, oh, ow]`.
pub fn conv2d(
    s: &ConvShape,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    relu: bool,
    col: &mut [f32],
    out: &mut [f32],
) {
    let col = &mut col[..s.taps() * s.pp()];
    im2col(s, x, col);
    gemm(s, w, b, col, relu, out);
}

/// `out[m] = b[m] + Σ_k w[m, k] · x[k]`: dot products along k, 4 f32x4 accumulators.
pub fn linear(n_in: usize, n_out: usize, x: &[f32], w: &[f32], b: &[f32], out: &mut [f32]) {
    for m in 0..n_out {
        out[m] = b[m] + dot(&w[m * n_in..][..n_in], &x[..n_in]);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    use core::arch::wasm32::*;
    let n = a.len();
    let mut acc = [f32x4_splat(0.0); 4];
    let mut k = 0;
    while k + 16 <= n {
        for r in 0..4 {
            // SAFETY: k + 16 <= n for both slices of length n.
            let (va, vb) = unsafe {
                (
                    v128_load(a.as_ptr().add(k + 4 * r) as *const v128),
                    v128_load(b.as_ptr().add(k + 4 * r) as *const v128),
                )
            };
            acc[r] = f32x4_add(acc[r], f32x4_mul(va, vb));
        }
        k += 16;
    }
    let v = f32x4_add(f32x4_add(acc[0], acc[1]), f32x4_add(acc[2], acc[3]));
    let mut s = f32x4_extract_lane::<0>(v)
        + f32x4_extract_lane::<1>(v)
        + f32x4_extract_lane::<2>(v)
        + f32x4_extract_lane::<3>(v);
    while k < n {
        s += a[k] * b[k];
        k += 1;
    }
    s
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let mut ca = a.chunks_exact(16);
    let mut cb = b.chunks_exact(16);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..16 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        s += x * y;
    }
    s
}

/// 2×2 max-pool on floats (the same loop as the int8 pool).
pub fn maxpool2(c: usize, h: usize, w: usize, x: &[f32], out: &mut [f32]) {
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
