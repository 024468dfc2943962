//! FP32 GEMM over an indirection list (see the module docs of `kernels` for the layouts),
//! with the same tile and loop nest as the int8 kernels so the timing comparison is fair.
//!
//! `out[p, m] = b[m] + Σ_s Σ_c a[ind[p, s] + c] · w[m, s·kc + c]`, then `max(0, ·)` for a fused
//! ReLU. Entries: `portable` (scalar), `muladd` (`f32x4.mul` + `f32x4.add`), `madd`
//! (`f32x4.relaxed_madd`, one FMA where the CPU has it).
//!
//! Loop nest: (1) tiles of 8 output channels, whose packed weights stay in L1 for a conv;
//! (2) 4 pixels at a time (`MR`), then single pixels with up to 4 channel tiles at once so a
//! batch-1 linear layer still has 8 independent accumulators; (3) taps `s`; (4) values `c`:
//! each pixel's input value broadcast (`v128.load32_splat`) against 8 weights.

use super::{ConvPlan, ConvShape, Entry, F32Kernel, NR};

/// Weights tiled for the GEMM: `[⌈M/8⌉][K][8]` (channels past `M` are zero), bias `[⌈M/8⌉·8]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedF32 {
    pub m: usize,
    pub k: usize,
    pub w: Vec<f32>,
    pub bias: Vec<f32>,
}

impl PackedF32 {
    /// `rows`: `[M][K]` in the GEMM's tap order.
    pub fn new(rows: &[f32], bias: &[f32], m: usize, k: usize) -> PackedF32 {
        PackedF32 {
            m,
            k,
            w: super::pack_tiles(rows, m, k, 1),
            bias: super::pad_tiles(bias, m),
        }
    }
    /// A conv's PyTorch weights `[M, C, k, k]` for `plan`.
    pub fn conv(w: &[f32], bias: &[f32], plan: &ConvPlan) -> PackedF32 {
        let k = plan.ks * plan.kc;
        let rows = super::weights_tap_order(w, &plan.shape, plan.kc);
        PackedF32::new(&rows, bias, plan.shape.m, k)
    }
    /// Linear weights `[n_out, n_in]`; `from` the NCHW shape flattened into the input, if any.
    pub fn linear(
        w: &[f32],
        bias: &[f32],
        n_out: usize,
        n_in: usize,
        from: Option<[usize; 3]>,
    ) -> PackedF32 {
        let rows = super::linear_gemm_order(w, n_out, n_in, from, n_in);
        PackedF32::new(&rows, bias, n_out, n_in)
    }
}

/// The GEMM: `p` pixels, each reading `ks` runs of `kc` values of `a` at `ind[p·ks + s]`;
/// `out[p·M + m]`.
pub fn igemm(
    kern: F32Kernel,
    p: usize,
    ks: usize,
    kc: usize,
    a: &[f32],
    ind: &[u32],
    w: &PackedF32,
    relu: bool,
    out: &mut [f32],
) {
    super::check_indirection(p, ks, kc, w.k, w.m, ind, a.len(), out.len());
    match kern {
        F32Kernel::Portable => portable(p, ks, kc, a, ind, w, relu, out),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        F32Kernel::Muladd => unsafe { simd::driver::<false>(p, ks, kc, a, ind, w, relu, out) },
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        F32Kernel::Madd => unsafe { simd::driver::<true>(p, ks, kc, a, ind, w, relu, out) },
        #[allow(unreachable_patterns)]
        other => panic!("fp32 kernel {} is not in this build", other.name()),
    }
}

fn portable(
    p: usize,
    ks: usize,
    kc: usize,
    a: &[f32],
    ind: &[u32],
    w: &PackedF32,
    relu: bool,
    out: &mut [f32],
) {
    let tiles = w.m.div_ceil(NR);
    for t in 0..tiles {
        let wt = &w.w[t * w.k * NR..][..w.k * NR];
        let n = NR.min(w.m - t * NR);
        for px in 0..p {
            let mut acc: [f32; NR] = w.bias[t * NR..][..NR].try_into().expect("8 biases");
            for s in 0..ks {
                let at = ind[px * ks + s] as usize;
                for c in 0..kc {
                    let x = a[at + c];
                    let wr = &wt[(s * kc + c) * NR..][..NR];
                    for l in 0..NR {
                        acc[l] += wr[l] * x;
                    }
                }
            }
            for l in 0..n {
                out[px * w.m + t * NR + l] = if relu { acc[l].max(0.0) } else { acc[l] };
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::*;
    use core::arch::wasm32::*;

    #[inline(always)]
    unsafe fn madd<const FMA: bool>(w: v128, x: v128, acc: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        if FMA {
            return f32x4_relaxed_madd(w, x, acc);
        }
        f32x4_add(acc, f32x4_mul(w, x))
    }

    /// `R` pixels × `T` channel tiles starting at tile `t0`.
    // `r` and `t` are the pixel and channel tile of `acc[r][t]` and of its output address. The
    // iterator form clippy suggests added 80 v128.store to the relaxed module (both tiles).
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    unsafe fn tile<const R: usize, const T: usize, const FMA: bool>(
        a: *const f32,
        ind: &[u32],
        ks: usize,
        kc: usize,
        w: &PackedF32,
        t0: usize,
        relu: bool,
        out: *mut f32,
    ) {
        let k = w.k;
        let mut acc = [[[f32x4_splat(0.0); 2]; T]; R];
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
        let wbase: [*const f32; T] = core::array::from_fn(|t| w.w.as_ptr().add((t0 + t) * k * NR));
        let mut off = 0;
        for s in 0..ks {
            let ap: [*const f32; R] = core::array::from_fn(|r| a.add(ind[r * ks + s] as usize));
            for c in 0..kc {
                let x: [v128; R] =
                    core::array::from_fn(|r| v128_load32_splat(ap[r].add(c) as *const u32));
                for t in 0..T {
                    let wp = wbase[t].add(off);
                    let w0 = v128_load(wp as *const v128);
                    let w1 = v128_load(wp.add(4) as *const v128);
                    for r in 0..R {
                        acc[r][t][0] = madd::<FMA>(w0, x[r], acc[r][t][0]);
                        acc[r][t][1] = madd::<FMA>(w1, x[r], acc[r][t][1]);
                    }
                }
                off += NR;
            }
        }
        let zero = f32x4_splat(0.0);
        for r in 0..R {
            for t in 0..T {
                let m0 = (t0 + t) * NR;
                let n = NR.min(w.m - m0);
                let mut v = acc[r][t];
                if relu {
                    v = [f32x4_max(v[0], zero), f32x4_max(v[1], zero)];
                }
                let o = out.add(r * w.m + m0);
                if n == NR {
                    v128_store(o as *mut v128, v[0]);
                    v128_store(o.add(4) as *mut v128, v[1]);
                } else {
                    let mut tmp = [0f32; NR];
                    v128_store(tmp.as_mut_ptr() as *mut v128, v[0]);
                    v128_store(tmp.as_mut_ptr().add(4) as *mut v128, v[1]);
                    core::ptr::copy_nonoverlapping(tmp.as_ptr(), o, n);
                }
            }
        }
    }

    /// SAFETY: the caller (`igemm`) checked that every indirection run lies inside `a` and
    /// that `out` holds `p·M` values; packed weights hold whole tiles of `K·8`.
    pub unsafe fn driver<const FMA: bool>(
        p: usize,
        ks: usize,
        kc: usize,
        a: &[f32],
        ind: &[u32],
        w: &PackedF32,
        relu: bool,
        out: &mut [f32],
    ) {
        let tiles = w.m.div_ceil(NR);
        let (ap, op) = (a.as_ptr(), out.as_mut_ptr());
        let full = p / crate::kernels::MR * crate::kernels::MR;
        for t in 0..tiles {
            let mut px = 0;
            while px < full {
                tile::<{ crate::kernels::MR }, 1, FMA>(
                    ap,
                    &ind[px * ks..],
                    ks,
                    kc,
                    w,
                    t,
                    relu,
                    op.add(px * w.m),
                );
                px += crate::kernels::MR;
            }
        }
        for px in full..p {
            let (ind, o) = (&ind[px * ks..], op.add(px * w.m));
            let mut t = 0;
            while t + 4 <= tiles {
                tile::<1, 4, FMA>(ap, ind, ks, kc, w, t, relu, o);
                t += 4;
            }
            while t < tiles {
                tile::<1, 1, FMA>(ap, ind, ks, kc, w, t, relu, o);
                t += 1;
            }
        }
    }
}

/// One conv of one NHWC image: stage the input as `plan` reads it, then the GEMM.
pub fn conv2d(
    kern: F32Kernel,
    plan: &ConvPlan,
    x: &[f32],
    w: &PackedF32,
    relu: bool,
    stage: &mut [f32],
    out: &mut [f32],
) {
    let stage = &mut stage[..plan.input_buffer_len()];
    plan.stage(x, 0.0, stage);
    igemm(
        kern,
        plan.shape.p(),
        plan.ks,
        plan.kc,
        stage,
        &plan.ind,
        w,
        relu,
        out,
    );
}

/// A conv plan for the f32 kernels: runs of exactly `k·C` values.
pub fn conv_plan(s: ConvShape) -> ConvPlan {
    ConvPlan::new(s, 1)
}

/// k×k max-pool with `stride` of NHWC floats: the 2×2/2 entry when it is one, else the generic loop.
#[allow(clippy::too_many_arguments)]
pub fn maxpool(c: usize, h: usize, w: usize, k: usize, stride: usize, x: &[f32], out: &mut [f32]) {
    if (k, stride) == (2, 2) {
        maxpool2(c, h, w, x, out)
    } else {
        super::maxpool_nhwc(c, h, w, k, stride, x, out)
    }
}

/// 2×2 max-pool of NHWC floats.
pub fn maxpool2(c: usize, h: usize, w: usize, x: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if c % 4 == 0 {
        use core::arch::wasm32::*;
        let (oh, ow) = (h / 2, w / 2);
        assert!(x.len() >= h * w * c && out.len() >= oh * ow * c);
        for i in 0..oh {
            for j in 0..ow {
                let p = ((2 * i) * w + 2 * j) * c;
                for ch in (0..c).step_by(4) {
                    // SAFETY: every offset is below h·w·c (asserted above).
                    unsafe {
                        let l = |o: usize| v128_load(x.as_ptr().add(o + ch) as *const v128);
                        // pmax (b < a ? a : b) keeps the first operand on ties, like the reference.
                        let v = f32x4_pmax(
                            f32x4_pmax(l(p), l(p + c)),
                            f32x4_pmax(l(p + w * c), l(p + w * c + c)),
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

/// One conv on NCHW tensors with PyTorch weights (for tests): pack, NHWC, run, back.
pub fn conv2d_nchw(
    kern: F32Kernel,
    s: &ConvShape,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    relu: bool,
) -> Vec<f32> {
    let plan = conv_plan(*s);
    let packed = PackedF32::conv(w, b, &plan);
    let mut xn = vec![0.0; s.input_len()];
    super::nchw_to_nhwc(x, s.c, s.h, s.w, &mut xn);
    let mut stage = vec![f32::NAN; plan.input_buffer_len()];
    let mut out = vec![f32::NAN; s.m * s.p()];
    conv2d(kern, &plan, &xn, &packed, relu, &mut stage, &mut out);
    let mut back = vec![0.0; out.len()];
    super::nhwc_to_nchw(&out, s.m, s.out_h(), s.out_w(), &mut back);
    back
}

/// A linear layer over `n` rows `x [n, n_in]` with PyTorch weights `[n_out, n_in]` (for tests).
pub fn linear_rows(
    kern: F32Kernel,
    n: usize,
    n_in: usize,
    n_out: usize,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    relu: bool,
) -> Vec<f32> {
    let packed = PackedF32::linear(w, b, n_out, n_in, None);
    let mut out = vec![f32::NAN; n * n_out];
    igemm(
        kern,
        n,
        1,
        n_in,
        &x[..n * n_in],
        &super::rows(n, n_in),
        &packed,
        relu,
        &mut out,
    );
    out
}
