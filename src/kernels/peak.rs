//! Instruction-throughput micro-benchmark: how many multiply-adds per second the engine's
//! inner-loop instructions reach on this machine, the ceiling each GEMM entry is measured
//! against. Each loop is the microkernel's inner step (4 operands loaded, 8 accumulators),
//! written so the compiler can neither fold it into a multiplication nor drop it.

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peak {
    pub name: &'static str,
    pub instruction: &'static str,
    /// Multiply-adds per instruction, every instruction of the step counted (as the table does).
    pub macs_per_instruction: f32,
    /// The kernel-table entries whose inner step this is, each with its ceiling
    /// `gmac_per_s · entry's multiply-adds per instruction / macs_per_instruction` (half the
    /// relaxed dot's for `split`, which needs two of them per 16 multiply-adds).
    pub entries: Vec<EntryPeak>,
    pub instructions: u64,
    pub ms: f64,
    pub gmac_per_s: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryPeak {
    pub entry: &'static str,
    pub gmac_per_s: f64,
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn run(iterations: usize, clock: &dyn Fn() -> f64) -> Vec<Peak> {
    use core::arch::wasm32::*;
    use core::hint::black_box;
    let mut out = vec![];
    let mut time = |name,
                    instruction,
                    entries: &'static [&'static str],
                    macs: f32,
                    per_iter: u64,
                    f: &mut dyn FnMut() -> v128| {
        // V8 runs a function's first calls in its baseline compiler and swaps in the optimized
        // code later: keep the fastest of 16 calls.
        let mut ms = f64::INFINITY;
        for _ in 0..16 {
            let t = clock();
            black_box(f());
            ms = ms.min(clock() - t);
        }
        let instructions = per_iter * iterations as u64;
        let gmac_per_s = instructions as f64 * macs as f64 / (ms * 1e-3) / 1e9;
        let entries = entries
            .iter()
            .filter_map(|&e| super::table::macs_per_instruction(e).map(|m| (e, m)))
            .map(|(entry, m)| EntryPeak {
                entry,
                gmac_per_s: gmac_per_s * m as f64 / macs as f64,
            })
            .collect();
        out.push(Peak {
            name,
            instruction,
            macs_per_instruction: macs,
            entries,
            instructions,
            ms,
            gmac_per_s,
        });
    };
    // The GEMM's inner step without its weight loads: each iteration loads the next 4
    // operands of a table the compiler cannot see into, and applies the instruction
    // to 2 fixed vectors × 4 operands into 8 named accumulators (an array of them would live
    // in memory), as the 4 × 8 microkernel does. All 8 (vector, operand) pairs differ, so
    // nothing is shared or folded.
    macro_rules! step8 {
        ($iterations:expr, $init:expr, $xs:expr, $w0:expr, $w1:expr, |$acc:ident, $w:ident, $x:ident| $op:expr) => {{
            let (w0, w1) = (black_box($w0), black_box($w1));
            let xs: [v128; 4] = $xs;
            let (mut a0, mut a1, mut a2, mut a3) = ($init, $init, $init, $init);
            let (mut a4, mut a5, mut a6, mut a7) = ($init, $init, $init, $init);
            for _ in 0..$iterations {
                let p = black_box(xs.as_ptr());
                let (x0, x1, x2, x3) = unsafe {
                    (
                        v128_load(p),
                        v128_load(p.add(1)),
                        v128_load(p.add(2)),
                        v128_load(p.add(3)),
                    )
                };
                let f = |$acc: v128, $w: v128, $x: v128| $op;
                a0 = f(a0, w0, x0);
                a1 = f(a1, w1, x0);
                a2 = f(a2, w0, x1);
                a3 = f(a3, w1, x1);
                a4 = f(a4, w0, x2);
                a5 = f(a5, w1, x2);
                a6 = f(a6, w0, x3);
                a7 = f(a7, w1, x3);
            }
            [a0, a1, a2, a3, a4, a5, a6, a7]
                .iter()
                .fold(i32x4_splat(0), |s, &v| v128_xor(s, v))
        }};
    }
    let fx = [
        f32x4_splat(1.0),
        f32x4_splat(0.5),
        f32x4_splat(0.25),
        f32x4_splat(2.0),
    ];
    let ix = [
        i16x8_splat(3),
        i16x8_splat(-5),
        i16x8_splat(7),
        i16x8_splat(1),
    ];
    #[cfg(target_feature = "relaxed-simd")]
    let bx = [
        u8x16_splat(3),
        u8x16_splat(100),
        u8x16_splat(7),
        u8x16_splat(127),
    ];
    #[inline(never)]
    fn muladd(n: usize, xs: [v128; 4]) -> v128 {
        step8!(
            n,
            f32x4_splat(0.0),
            xs,
            f32x4_splat(1e-3),
            f32x4_splat(2e-3),
            |a, w, x| f32x4_add(a, f32x4_mul(w, x))
        )
    }
    time(
        "f32 mul+add",
        "f32x4.mul + f32x4.add",
        &["gemm_f32_muladd"],
        2.0,
        16,
        &mut || muladd(iterations, fx),
    );
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(never)]
    fn madd(n: usize, xs: [v128; 4]) -> v128 {
        step8!(
            n,
            f32x4_splat(0.0),
            xs,
            f32x4_splat(1e-3),
            f32x4_splat(2e-3),
            |a, w, x| f32x4_relaxed_madd(w, x, a)
        )
    }
    #[cfg(target_feature = "relaxed-simd")]
    time(
        "f32 relaxed_madd",
        "f32x4.relaxed_madd",
        &["gemm_f32_madd"],
        4.0,
        8,
        &mut || madd(iterations, fx),
    );
    #[inline(never)]
    fn dot16(n: usize, xs: [v128; 4]) -> v128 {
        step8!(
            n,
            i32x4_splat(0),
            xs,
            i16x8_splat(3),
            i16x8_splat(-2),
            |a, w, x| i32x4_add(a, i32x4_dot_i16x8(w, x))
        )
    }
    time(
        "int8 dot16",
        "i32x4.dot_i16x8_s + i32x4.add",
        &["gemm_int8_dot16"],
        4.0,
        16,
        &mut || dot16(iterations, ix),
    );
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(never)]
    fn rdot(n: usize, xs: [v128; 4]) -> v128 {
        step8!(
            n,
            i32x4_splat(0),
            xs,
            i8x16_splat(3),
            i8x16_splat(-2),
            |a, w, x| i32x4_relaxed_dot_i8x16_i7x16_add(w, x, a)
        )
    }
    #[cfg(target_feature = "relaxed-simd")]
    time(
        "int8 relaxed dot",
        "i32x4.relaxed_dot_i8x16_i7x16_add_s",
        &["gemm_int8_usdot", "gemm_int8_split"],
        16.0,
        8,
        &mut || rdot(iterations, bx),
    );
    // The int16 dot, then its pairs added into int32 by a dot with ones (held in a register, as
    // the microkernel holds it; `i32x4.extadd_pairwise_i16x8_s` measured 24 GMAC/s here against
    // this 44: V8 rebuilds its constant operand each time).
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(never)]
    fn dot7(n: usize, xs: [v128; 4]) -> v128 {
        let ones = black_box(i16x8_splat(1));
        step8!(
            n,
            i32x4_splat(0),
            xs,
            i8x16_splat(3),
            i8x16_splat(-2),
            |a, w, x| i32x4_add(
                a,
                i32x4_dot_i16x8(i16x8_relaxed_dot_i8x16_i7x16(w, x), ones)
            )
        )
    }
    #[cfg(target_feature = "relaxed-simd")]
    time(
        "int8 relaxed i16 dot",
        "i16x8.relaxed_dot_i8x16_i7x16_s + i32x4.dot_i16x8_s + i32x4.add",
        &["gemm_int8_usdot7"],
        16.0 / 3.0,
        24,
        &mut || dot7(iterations, bx),
    );
    out
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn run(_iterations: usize, _clock: &dyn Fn() -> f64) -> Vec<Peak> {
    vec![]
}
