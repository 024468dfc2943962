//! Integer-only kernels: 8-bit × 8-bit → int32 accumulation, int32 bias, requantization to
//! int8 with ONNX Runtime's formula (see `reference::requantize`), fused ReLU by the clamp,
//! 8-bit max-pool. Every entry is bit-identical to the reference.
//!
//! # The uint8 offset
//! Activations live in memory as `u = q + 128` (uint8; `q` the int8 value): the unsigned
//! operand of the relaxed dot. The GEMM is then
//!
//! ```text
//! acc[p, m] = b[m] + Σ_t w[m, t]·(q[p, t] − z_x)
//!           = Σ_t w[m, t]·u[p, t]  +  (b[m] − (z_x + 128)·Σ_t w[m, t])        (folded bias)
//! ```
//!
//! so the correction is paid once, at pack time, never in the inner loop (XNNPACK's packing
//! does the same). Padding taps read `u = z_x + 128` and contribute nothing, like ONNX's
//! padding with the zero point. Weights are symmetric (`z_w = 0`), in −127..127.
//!
//! # Entries
//! * `usdot`: one `i32x4.relaxed_dot_i8x16_i7x16_add_s(w, u, acc)` per 16 multiply-adds, exact
//!   where the engine reads `u` as unsigned without saturation (the probe says so).
//! * `split`: `u = lo + 128·hi` with `lo = u & 127`, `hi = u >> 7`, two relaxed dots whose
//!   unsigned operand is in 0..127, where every engine is exact: `acc = dot(w, lo) + 128·dot(w, hi)`.
//! * `usdot7`: for weights within ±64 (7 bits): `i16x8.relaxed_dot_i8x16_i7x16_s(w, u)` sums each
//!   pair of products into int16, exact where the engine reads `u` as unsigned (the probe says
//!   so), since |w₀u₀ + w₁u₁| ≤ 2·64·255 = 32,640; `i32x4.dot_i16x8_s` with ones then adds the
//!   pairs into int32 lanes of 4 taps, as `usdot` lays them out. A layer whose weights need 8 bits
//!   is packed for `dot16` instead (`PackedI8::new`). Within ±32 (6 bits) two pair sums are added
//!   in int16 before the widening (each at most 2·32·255 = 16,320), in runs of whole groups of 8
//!   taps: 5 instructions per 32 multiply-adds instead of 6.
//! * `dot16`: `u` widened to i16, `i32x4.dot_i16x8_s` over pairs of taps (SIMD128 only).
//! * `portable`: scalar loops over the same packed bytes (native builds).

use super::reference::requantize;
use super::{round_up, ConvPlan, ConvShape, Entry, Int8Kernel, NR};

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

/// Weights, folded bias and requantization of one layer, tiled by 8 output channels:
/// `w8 [⌈M/8⌉][K/4][8][4]` (`usdot`, `split`, `portable`) or `w16 [⌈M/8⌉][K/2][8][2]` (`dot16`).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedI8 {
    pub kernel: Int8Kernel,
    /// `usdot7` with weights within ±32 (6 bits): two int16 pair sums are added before they are
    /// widened (each at most 2·32·255 = 16,320, so their sum stays in int16).
    pub narrow: bool,
    pub m: usize,
    /// Taps per output, a multiple of 4.
    pub k: usize,
    pub w8: Vec<i8>,
    pub w16: Vec<i16>,
    pub bias: Vec<i32>,
    pub multiplier: Vec<f32>,
    pub zero_point: i32,
    pub lo: i32,
    pub hi: i32,
}

impl PackedI8 {
    /// `rows`: `[M][K]` int8 weights in the GEMM's tap order (K a multiple of 4, zero-padded);
    /// `bias`: the int32 bias `b_q`; `zx`: the input zero point.
    ///
    /// `kernel` is the entry asked for; `usdot7` falls back to `dot16` for weights beyond ±64,
    /// and `self.kernel` is what the layer runs.
    pub fn new(
        kernel: Int8Kernel,
        rows: &[i8],
        bias: &[i32],
        m: usize,
        k: usize,
        zx: i32,
        rq: &Requant,
    ) -> PackedI8 {
        assert!(k % 4 == 0, "K must be a multiple of 4");
        // usdot7's int16 pair sums stay exact for |w| ≤ 64 (2·64·255 = 32,640), and two of them
        // added for |w| ≤ 32.
        let wmax = rows.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
        let kernel = kernel.runs_for(wmax);
        let (w8, w16) = if kernel.packs_i16() {
            let wide: Vec<i16> = rows.iter().map(|&v| v as i16).collect();
            (vec![], super::pack_tiles(&wide, m, k, 2))
        } else {
            (super::pack_tiles(rows, m, k, 4), vec![])
        };
        let folded: Vec<i32> = (0..m)
            .map(|r| {
                let sum: i32 = rows[r * k..][..k].iter().map(|&v| v as i32).sum();
                bias[r].wrapping_sub((zx + 128).wrapping_mul(sum))
            })
            .collect();
        let (b, mult) = (
            super::pad_tiles(&folded, m),
            super::pad_tiles(&rq.multiplier, m),
        );
        PackedI8 {
            kernel,
            narrow: kernel == Int8Kernel::Usdot7 && wmax <= 32,
            m,
            k,
            w8,
            w16,
            bias: b,
            multiplier: mult,
            zero_point: rq.zero_point,
            lo: rq.lo,
            hi: rq.hi,
        }
    }
    /// A conv's int8 weights `[M, C, k, k]` for `plan`.
    pub fn conv(
        kernel: Int8Kernel,
        w: &[i8],
        bias: &[i32],
        plan: &ConvPlan,
        zx: i32,
        rq: &Requant,
    ) -> PackedI8 {
        let k = plan.ks * plan.kc;
        let rows = super::weights_tap_order(w, &plan.shape, plan.kc);
        PackedI8::new(kernel, &rows, bias, plan.shape.m, k, zx, rq)
    }
    /// Linear int8 weights `[n_out, n_in]`; `from`: the NCHW shape flattened into the input.
    pub fn linear(
        kernel: Int8Kernel,
        w: &[i8],
        bias: &[i32],
        n_out: usize,
        n_in: usize,
        from: Option<[usize; 3]>,
        zx: i32,
        rq: &Requant,
    ) -> PackedI8 {
        let kp = stride(n_in);
        let rows = super::linear_gemm_order(w, n_out, n_in, from, kp);
        PackedI8::new(kernel, &rows, bias, n_out, kp, zx, rq)
    }
}

/// Row stride of a batch of uint8 activation vectors of `len` values (whole groups of 4).
pub fn stride(len: usize) -> usize {
    round_up(len, 4)
}

/// A conv plan for the 8-bit kernels: runs of whole groups of 4 taps.
pub fn conv_plan(s: ConvShape) -> ConvPlan {
    ConvPlan::new(s, 4)
}

/// The GEMM of the module docs over uint8 activations `a`: `p` pixels, each reading `ks` runs
/// of `kc` values at `ind[p·ks + s]`; writes uint8 outputs `out[p·M + m]`. `wide` is scratch
/// for `dot16`, which reads `a` widened to i16.
pub fn igemm(
    p: usize,
    ks: usize,
    kc: usize,
    a: &[u8],
    ind: &[u32],
    w: &PackedI8,
    wide: &mut Vec<i16>,
    out: &mut [u8],
) {
    assert!(kc % 4 == 0, "runs of {kc} values are not whole groups of 4");
    let top = super::check_indirection(p, ks, kc, w.k, w.m, ind, a.len(), out.len());
    match w.kernel {
        Int8Kernel::Portable => portable(p, ks, kc, a, ind, w, out),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Int8Kernel::Dot16 => unsafe {
            let wide = super::grow(wide, top);
            widen(&a[..top], wide);
            simd::driver::<{ simd::DOT16 }, { crate::kernels::MR }>(
                p,
                ks,
                kc,
                wide.as_ptr() as *const u8,
                ind,
                w,
                out,
            )
        },
        // uint8 activations read as they are; `usdot7`'s runs of whole groups of 8 taps take two
        // quads per widening when its weights are narrow.
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        Int8Kernel::Usdot | Int8Kernel::Usdot7 => unsafe {
            use crate::kernels::MR;
            use simd::{driver, USDOT, USDOT7, USDOT7X2};
            let ap = a.as_ptr();
            match w.kernel {
                Int8Kernel::Usdot => driver::<USDOT, MR>(p, ks, kc, ap, ind, w, out),
                _ if w.narrow && kc % 8 == 0 => driver::<USDOT7X2, MR>(p, ks, kc, ap, ind, w, out),
                _ => driver::<USDOT7, MR>(p, ks, kc, ap, ind, w, out),
            }
        },
        // Two accumulator sets per tile: half the pixels keep the registers at 8 + operands.
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        Int8Kernel::Split => unsafe {
            simd::driver::<{ simd::SPLIT }, 2>(p, ks, kc, a.as_ptr(), ind, w, out)
        },
        #[allow(unreachable_patterns)]
        other => {
            let _ = (wide, top);
            panic!("int8 kernel {} is not in this build", other.name())
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn widen(a: &[u8], out: &mut [i16]) {
    for (d, &v) in out.iter_mut().zip(a) {
        *d = v as i16;
    }
}

fn portable(p: usize, ks: usize, kc: usize, a: &[u8], ind: &[u32], w: &PackedI8, out: &mut [u8]) {
    let tiles = w.m.div_ceil(NR);
    for t in 0..tiles {
        let wt = &w.w8[t * w.k * NR..][..w.k * NR];
        let n = NR.min(w.m - t * NR);
        for px in 0..p {
            let mut acc: [i32; NR] = w.bias[t * NR..][..NR].try_into().expect("8 biases");
            for s in 0..ks {
                let at = ind[px * ks + s] as usize;
                for c4 in 0..kc / 4 {
                    let x = &a[at + 4 * c4..][..4];
                    let wr = &wt[((s * kc) / 4 + c4) * NR * 4..][..NR * 4];
                    for l in 0..NR {
                        // int32 accumulation wraps, as i32x4.add does (and as the reference does).
                        let d: i32 = (0..4).map(|j| wr[4 * l + j] as i32 * x[j] as i32).sum();
                        acc[l] = acc[l].wrapping_add(d);
                    }
                }
            }
            for (l, &a) in acc.iter().enumerate().take(n) {
                let m = t * NR + l;
                let q = requantize(a, w.multiplier[m], w.zero_point, w.lo, w.hi);
                out[px * w.m + m] = (q + 128) as u8;
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::*;
    use core::arch::wasm32::*;

    pub const DOT16: u8 = 0;
    #[allow(dead_code)]
    pub const USDOT: u8 = 1;
    pub const SPLIT: u8 = 2;
    #[allow(dead_code)]
    pub const USDOT7: u8 = 3;
    #[allow(dead_code)]
    pub const USDOT7X2: u8 = 4;

    /// `R` pixels × `T` channel tiles from tile `t0`. `K` selects the inner step:
    /// DOT16 reads `a` as i16 pairs, USDOT and SPLIT as uint8 quads. `KS`, `KC` > 0 fix `ks`
    /// and `kc` at compile time (see `driver`).
    // `r` and `t` are the pixel and channel tile of `acc[r][t]` and of its output address. The
    // iterator form clippy suggests added 80 v128.store to the relaxed module (both tiles).
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    unsafe fn tile<
        const K: u8,
        const R: usize,
        const T: usize,
        const KS: usize,
        const KC: usize,
    >(
        a: *const u8,
        ind: &[u32],
        ks: usize,
        kc: usize,
        w: &PackedI8,
        t0: usize,
        out: *mut u8,
    ) {
        let (ks, kc) = (if KS > 0 { KS } else { ks }, if KC > 0 { KC } else { kc });
        let k = w.k;
        let mut acc = [[[i32x4_splat(0); 2]; T]; R];
        #[allow(unused_mut)]
        let mut hi = [[[i32x4_splat(0); 2]; T]; R];
        for t in 0..T {
            let b = w.bias.as_ptr().add((t0 + t) * NR);
            let (b0, b1) = (
                v128_load(b as *const v128),
                v128_load(b.add(4) as *const v128),
            );
            for r in acc.iter_mut() {
                r[t] = [b0, b1];
            }
        }
        if K == DOT16 {
            // Bytes of the i16 buffer: element e is at 2e.
            let wbase: [*const i16; T] =
                core::array::from_fn(|t| w.w16.as_ptr().add((t0 + t) * k * NR));
            let mut off = 0;
            for s in 0..ks {
                let ap: [*const i16; R] =
                    core::array::from_fn(|r| (a as *const i16).add(ind[r * ks + s] as usize));
                let mut c = 0;
                while c < kc {
                    let x: [v128; R] =
                        core::array::from_fn(|r| v128_load32_splat(ap[r].add(c) as *const u32));
                    for t in 0..T {
                        let wp = wbase[t].add(off);
                        let w0 = v128_load(wp as *const v128);
                        let w1 = v128_load(wp.add(8) as *const v128);
                        for r in 0..R {
                            acc[r][t][0] = i32x4_add(acc[r][t][0], i32x4_dot_i16x8(w0, x[r]));
                            acc[r][t][1] = i32x4_add(acc[r][t][1], i32x4_dot_i16x8(w1, x[r]));
                        }
                    }
                    off += 2 * NR;
                    c += 2;
                }
            }
        } else {
            #[cfg(target_feature = "relaxed-simd")]
            {
                let wbase: [*const i8; T] =
                    core::array::from_fn(|t| w.w8.as_ptr().add((t0 + t) * k * NR));
                let (low7, mut off) = (u8x16_splat(0x7f), 0);
                let ones = i16x8_splat(1);
                for s in 0..ks {
                    let ap: [*const u8; R] =
                        core::array::from_fn(|r| a.add(ind[r * ks + s] as usize));
                    if K == USDOT7X2 {
                        // Two quads of taps per step: their int16 pair sums added, then widened.
                        let mut c = 0;
                        while c < kc {
                            for t in 0..T {
                                let wp = wbase[t].add(off);
                                let l = |o: usize| v128_load(wp.add(o) as *const v128);
                                let (a0, a1, b0, b1) = (l(0), l(16), l(32), l(48));
                                for r in 0..R {
                                    let xa = v128_load32_splat(ap[r].add(c) as *const u32);
                                    let xb = v128_load32_splat(ap[r].add(c + 4) as *const u32);
                                    let d = |wa: v128, wb: v128| {
                                        i32x4_dot_i16x8(
                                            i16x8_add(
                                                i16x8_relaxed_dot_i8x16_i7x16(wa, xa),
                                                i16x8_relaxed_dot_i8x16_i7x16(wb, xb),
                                            ),
                                            ones,
                                        )
                                    };
                                    acc[r][t][0] = i32x4_add(acc[r][t][0], d(a0, b0));
                                    acc[r][t][1] = i32x4_add(acc[r][t][1], d(a1, b1));
                                }
                            }
                            off += 8 * NR;
                            c += 8;
                        }
                        continue;
                    }
                    let mut c = 0;
                    while c < kc {
                        let x: [v128; R] =
                            core::array::from_fn(|r| v128_load32_splat(ap[r].add(c) as *const u32));
                        for t in 0..T {
                            let wp = wbase[t].add(off);
                            let w0 = v128_load(wp as *const v128);
                            let w1 = v128_load(wp.add(16) as *const v128);
                            for r in 0..R {
                                if K == USDOT {
                                    acc[r][t][0] =
                                        i32x4_relaxed_dot_i8x16_i7x16_add(w0, x[r], acc[r][t][0]);
                                    acc[r][t][1] =
                                        i32x4_relaxed_dot_i8x16_i7x16_add(w1, x[r], acc[r][t][1]);
                                } else if K == USDOT7 {
                                    // pairs into int16 (one pmaddubsw on x86), then pairs of
                                    // pairs into int32 (pmaddwd with ones held in a register:
                                    // V8's extadd_pairwise reloads its constant each time)
                                    let d = |w: v128| {
                                        i32x4_dot_i16x8(
                                            i16x8_relaxed_dot_i8x16_i7x16(w, x[r]),
                                            ones,
                                        )
                                    };
                                    acc[r][t][0] = i32x4_add(acc[r][t][0], d(w0));
                                    acc[r][t][1] = i32x4_add(acc[r][t][1], d(w1));
                                } else {
                                    let (lo, h) = (v128_and(x[r], low7), u8x16_shr(x[r], 7));
                                    acc[r][t][0] =
                                        i32x4_relaxed_dot_i8x16_i7x16_add(w0, lo, acc[r][t][0]);
                                    acc[r][t][1] =
                                        i32x4_relaxed_dot_i8x16_i7x16_add(w1, lo, acc[r][t][1]);
                                    hi[r][t][0] =
                                        i32x4_relaxed_dot_i8x16_i7x16_add(w0, h, hi[r][t][0]);
                                    hi[r][t][1] =
                                        i32x4_relaxed_dot_i8x16_i7x16_add(w1, h, hi[r][t][1]);
                                }
                            }
                        }
                        off += 4 * NR;
                        c += 4;
                    }
                }
            }
        }
        if K == SPLIT {
            for r in 0..R {
                for t in 0..T {
                    for h in 0..2 {
                        acc[r][t][h] = i32x4_add(acc[r][t][h], i32x4_shl(hi[r][t][h], 7));
                    }
                }
            }
        }
        // q = clamp(rint(float32(acc)·M) + z, lo, hi), as reference::requantize, with
        // XNNPACK's "fp32 magic" rounding instead of nearest + trunc_sat (several instructions
        // each in V8): clamp v = float32(acc)·M to [lo − z, hi − z] first (rint commutes with
        // a clamp to integers), then v + 1.5·2^23 rounds to an integer half to even in the
        // float's low mantissa bits, since |v| <= 255 < 2^22; subtracting the magic's bits
        // leaves rint(v) as an int32. Then + z, saturating narrows (no-ops in range), and the
        // uint8 offset u = q ^ 0x80.
        let (lo_f, hi_f) = (
            f32x4_splat((w.lo - w.zero_point) as f32),
            f32x4_splat((w.hi - w.zero_point) as f32),
        );
        let magic = f32x4_splat(12_582_912.0);
        let unmagic = i32x4_splat(12_582_912.0f32.to_bits() as i32 - w.zero_point);
        let flip = u8x16_splat(0x80);
        for t in 0..T {
            let m0 = (t0 + t) * NR;
            let n = NR.min(w.m - m0);
            let mp = w.multiplier.as_ptr().add(m0);
            let (m_lo, m_hi) = (
                v128_load(mp as *const v128),
                v128_load(mp.add(4) as *const v128),
            );
            for r in 0..R {
                let rq = |a: v128, m: v128| {
                    let v =
                        f32x4_pmin(f32x4_pmax(f32x4_mul(f32x4_convert_i32x4(a), m), lo_f), hi_f);
                    i32x4_sub(f32x4_add(v, magic), unmagic)
                };
                let q16 = i16x8_narrow_i32x4(rq(acc[r][t][0], m_lo), rq(acc[r][t][1], m_hi));
                let q8 = i8x16_narrow_i16x8(q16, q16);
                let u = v128_xor(q8, flip);
                let o = out.add(r * w.m + m0);
                if n == NR {
                    v128_store64_lane::<0>(u, o as *mut u64);
                } else {
                    let bytes = i64x2_extract_lane::<0>(u).to_le_bytes();
                    core::ptr::copy_nonoverlapping(bytes.as_ptr(), o, n);
                }
            }
        }
    }

    /// SAFETY: the caller (`igemm`) checked the indirection against `a` (for DOT16, `a` is
    /// the widened i16 copy) and `out`'s length; packed tiles hold `K·8` weights.
    ///
    /// A first conv (`C = 1`, 3×3: 3 runs of 4 values) has only 12 taps per output, so a tile is
    /// mostly its set-up and loop control; with `ks` and `kc` known at compile time its loops unroll.
    pub unsafe fn driver<const K: u8, const RM: usize>(
        p: usize,
        ks: usize,
        kc: usize,
        a: *const u8,
        ind: &[u32],
        w: &PackedI8,
        out: &mut [u8],
    ) {
        match (ks, kc) {
            (3, 4) => driver_for::<K, RM, 3, 4>(p, ks, kc, a, ind, w, out),
            _ => driver_for::<K, RM, 0, 0>(p, ks, kc, a, ind, w, out),
        }
    }

    unsafe fn driver_for<const K: u8, const RM: usize, const KS: usize, const KC: usize>(
        p: usize,
        ks: usize,
        kc: usize,
        a: *const u8,
        ind: &[u32],
        w: &PackedI8,
        out: &mut [u8],
    ) {
        let tiles = w.m.div_ceil(NR);
        let op = out.as_mut_ptr();
        let full = p / RM * RM;
        for t in 0..tiles {
            let mut px = 0;
            while px < full {
                tile::<K, RM, 1, KS, KC>(a, &ind[px * ks..], ks, kc, w, t, op.add(px * w.m));
                px += RM;
            }
        }
        for px in full..p {
            let (ind, o) = (&ind[px * ks..], op.add(px * w.m));
            let mut t = 0;
            if K == SPLIT {
                while t + 2 <= tiles {
                    tile::<K, 1, 2, KS, KC>(a, ind, ks, kc, w, t, o);
                    t += 2;
                }
            } else {
                while t + 4 <= tiles {
                    tile::<K, 1, 4, KS, KC>(a, ind, ks, kc, w, t, o);
                    t += 4;
                }
            }
            while t < tiles {
                tile::<K, 1, 1, KS, KC>(a, ind, ks, kc, w, t, o);
                t += 1;
            }
        }
    }
}

/// One conv of one NHWC uint8 image: stage the input as `plan` reads it (padding `z_x + 128`),
/// then the GEMM.
pub fn conv2d(
    plan: &ConvPlan,
    x: &[u8],
    zx: i32,
    w: &PackedI8,
    stage: &mut [u8],
    wide: &mut Vec<i16>,
    out: &mut [u8],
) {
    let stage = &mut stage[..plan.input_buffer_len()];
    plan.stage(x, (zx + 128) as u8, stage);
    igemm(
        plan.shape.p(),
        plan.ks,
        plan.kc,
        stage,
        &plan.ind,
        w,
        wide,
        out,
    );
}

/// `u = q + 128` for `q = saturate(round_half_even(x / s) + z)` (QuantizeLinear to int8).
pub fn quantize_u8(x: &[f32], scale: f32, zero_point: i32, qmin: i32, qmax: i32, out: &mut [u8]) {
    let n = x.len().min(out.len());
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        // As quantize_value: float division, round half to even, clamp in float (inputs are
        // finite, checked at the boundary), then the integer zero point.
        use core::arch::wasm32::*;
        let (s, lo, hi) = (
            f32x4_splat(scale),
            f32x4_splat((qmin - zero_point) as f32),
            f32x4_splat((qmax - zero_point) as f32),
        );
        let z = i32x4_splat(zero_point + 128);
        while i + 8 <= n {
            let q = |j: usize| {
                let v = v128_load(x.as_ptr().add(i + j) as *const v128);
                let r = f32x4_min(f32x4_max(f32x4_nearest(f32x4_div(v, s)), lo), hi);
                i32x4_add(i32x4_trunc_sat_f32x4(r), z)
            };
            let w16 = u16x8_narrow_i32x4(q(0), q(4));
            let b = u8x16_narrow_i16x8(w16, w16);
            v128_store64_lane::<0>(b, out.as_mut_ptr().add(i) as *mut u64);
            i += 8;
        }
    }
    for j in i..n {
        out[j] =
            (crate::quant::linear::quantize_value(x[j], scale, zero_point, qmin, qmax) + 128) as u8;
    }
}

/// k×k max-pool with `stride` of NHWC uint8: the 2×2/2 entry when it is one, else the generic loop.
#[allow(clippy::too_many_arguments)]
pub fn maxpool(c: usize, h: usize, w: usize, k: usize, stride: usize, x: &[u8], out: &mut [u8]) {
    if (k, stride) == (2, 2) {
        maxpool2(c, h, w, x, out)
    } else {
        super::maxpool_nhwc(c, h, w, k, stride, x, out)
    }
}

/// 2×2 max-pool of NHWC uint8 (max commutes with the offset and with dequantization).
pub fn maxpool2(c: usize, h: usize, w: usize, x: &[u8], out: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if c % 16 == 0 {
        use core::arch::wasm32::*;
        let (oh, ow) = (h / 2, w / 2);
        assert!(x.len() >= h * w * c && out.len() >= oh * ow * c);
        for i in 0..oh {
            for j in 0..ow {
                let p = ((2 * i) * w + 2 * j) * c;
                for ch in (0..c).step_by(16) {
                    // SAFETY: every offset is below h·w·c (asserted above).
                    unsafe {
                        let l = |o: usize| v128_load(x.as_ptr().add(o + ch) as *const v128);
                        let v = u8x16_max(
                            u8x16_max(l(p), l(p + c)),
                            u8x16_max(l(p + w * c), l(p + w * c + c)),
                        );
                        v128_store(out.as_mut_ptr().add((i * ow + j) * c + ch) as *mut v128, v);
                    }
                }
            }
        }
        return;
    }
    super::maxpool2_nhwc(c, h, w, x, out);
}

/// One conv the way the model runs it, on NCHW int8 tensors: pack for `kernel`, move to the
/// uint8 offset and NHWC, run, and back. For tests and the ONNX ops; the model keeps its
/// tensors in the kernels' layout between layers.
pub fn conv2d_nchw(
    kernel: Int8Kernel,
    s: &ConvShape,
    x: &[i8],
    zx: i32,
    w: &[i8],
    bias: &[i32],
    rq: &Requant,
) -> Vec<i8> {
    let plan = conv_plan(*s);
    let packed = PackedI8::conv(kernel, w, bias, &plan, zx, rq);
    let u: Vec<u8> = x.iter().map(|&v| (v as u8) ^ 0x80).collect();
    let mut xn = vec![0u8; s.input_len()];
    super::nchw_to_nhwc(&u, s.c, s.h, s.w, &mut xn);
    let mut stage = vec![0x55u8; plan.input_buffer_len()];
    let mut out = vec![0x55u8; s.m * s.p()];
    conv2d(&plan, &xn, zx, &packed, &mut stage, &mut vec![], &mut out);
    let mut back = vec![0u8; out.len()];
    super::nhwc_to_nchw(&out, s.m, s.out_h(), s.out_w(), &mut back);
    back.iter().map(|&u| (u ^ 0x80) as i8).collect()
}

/// A linear layer over `n` rows `x [n, n_in]` (int8) with PyTorch weights `[n_out, n_in]`.
pub fn linear_rows(
    kernel: Int8Kernel,
    n: usize,
    n_in: usize,
    n_out: usize,
    x: &[i8],
    zx: i32,
    w: &[i8],
    bias: &[i32],
    rq: &Requant,
) -> Vec<i8> {
    let packed = PackedI8::linear(kernel, w, bias, n_out, n_in, None, zx, rq);
    let kc = stride(n_in);
    let mut a: Vec<u8> = x[..n * n_in].iter().map(|&v| (v as u8) ^ 0x80).collect();
    a.extend_from_slice(&[0x33; 4]);
    let mut out = vec![0x55u8; n * n_out];
    igemm(
        n,
        1,
        kc,
        &a[..(n - 1) * n_in + kc],
        &super::rows(n, n_in),
        &packed,
        &mut vec![],
        &mut out,
    );
    out.iter().map(|&u| (u ^ 0x80) as i8).collect()
}
