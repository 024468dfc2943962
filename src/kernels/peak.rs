//! Instruction-throughput micro-benchmark: how many multiply-adds per second the engine's
//! inner-loop instructions reach on this machine, the ceiling each GEMM entry is measured
//! against. Each loop keeps 12 independent accumulators (enough to cover the latency of two
//! pipelines) and feeds every result into the next step of its chain, so the compiler can
//! neither fold the loop into a multiplication nor drop it; operands pass `black_box`.

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peak {
    pub name: &'static str,
    pub instruction: &'static str,
    /// Multiply-adds per instruction, every instruction of the step counted (as the table does).
    pub macs_per_instruction: f32,
    pub instructions: u64,
    pub ms: f64,
    pub gmac_per_s: f64,
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn run(iterations: usize, clock: &dyn Fn() -> f64) -> Vec<Peak> {
    use core::arch::wasm32::*;
    use core::hint::black_box;
    let mut out = vec![];
    let mut time = |name, instruction, macs: f32, per_iter: u64, f: &mut dyn FnMut() -> v128| {
        // V8 runs a function's first calls in its baseline compiler and swaps in the optimized
        // code later: keep the fastest of 16 calls.
        let mut ms = f64::INFINITY;
        for _ in 0..16 {
            let t = clock();
            black_box(f());
            ms = ms.min(clock() - t);
        }
        let instructions = per_iter * iterations as u64;
        out.push(Peak {
            name,
            instruction,
            macs_per_instruction: macs,
            instructions,
            ms,
            gmac_per_s: instructions as f64 * macs as f64 / (ms * 1e-3) / 1e9,
        });
    };
    // Twelve named accumulators (an array of them is kept in memory by the compiler).
    macro_rules! chains {
        ($iterations:expr, $init:expr, |$v:ident| $step:expr) => {{
            let (mut c0, mut c1, mut c2, mut c3, mut c4, mut c5) =
                ($init, $init, $init, $init, $init, $init);
            let (mut c6, mut c7, mut c8, mut c9, mut c10, mut c11) =
                ($init, $init, $init, $init, $init, $init);
            for _ in 0..$iterations {
                c0 = {
                    let $v = c0;
                    $step
                };
                c1 = {
                    let $v = c1;
                    $step
                };
                c2 = {
                    let $v = c2;
                    $step
                };
                c3 = {
                    let $v = c3;
                    $step
                };
                c4 = {
                    let $v = c4;
                    $step
                };
                c5 = {
                    let $v = c5;
                    $step
                };
                c6 = {
                    let $v = c6;
                    $step
                };
                c7 = {
                    let $v = c7;
                    $step
                };
                c8 = {
                    let $v = c8;
                    $step
                };
                c9 = {
                    let $v = c9;
                    $step
                };
                c10 = {
                    let $v = c10;
                    $step
                };
                c11 = {
                    let $v = c11;
                    $step
                };
            }
            [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11]
                .iter()
                .fold(i32x4_splat(0), |s, &v| v128_xor(s, v))
        }};
    }
    #[inline(never)]
    fn muladd(iterations: usize) -> v128 {
        let (a, b) = (
            black_box(f32x4_splat(1.000_000_1)),
            black_box(f32x4_splat(1e-7)),
        );
        chains!(iterations, f32x4_splat(1.0), |v| f32x4_add(
            f32x4_mul(v, a),
            b
        ))
    }
    time("f32 mul+add", "f32x4.mul + f32x4.add", 2.0, 24, &mut || {
        muladd(iterations)
    });
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(never)]
    fn madd(iterations: usize) -> v128 {
        let (a, b) = (
            black_box(f32x4_splat(1.000_000_1)),
            black_box(f32x4_splat(1e-7)),
        );
        chains!(iterations, f32x4_splat(1.0), |v| f32x4_relaxed_madd(
            v, a, b
        ))
    }
    #[cfg(target_feature = "relaxed-simd")]
    time(
        "f32 relaxed_madd",
        "f32x4.relaxed_madd",
        4.0,
        12,
        &mut || madd(iterations),
    );
    #[inline(never)]
    fn dot16(iterations: usize) -> v128 {
        let a = black_box(i16x8_splat(3));
        // The accumulator is the next step's operand: a chain LLVM cannot shortcut.
        chains!(iterations, i32x4_splat(1), |v| i32x4_add(
            v,
            i32x4_dot_i16x8(a, v)
        ))
    }
    time(
        "int8 dot16",
        "i32x4.dot_i16x8_s + i32x4.add",
        4.0,
        24,
        &mut || dot16(iterations),
    );
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(never)]
    fn rdot(iterations: usize) -> v128 {
        let (a, b) = (black_box(i8x16_splat(3)), black_box(i8x16_splat(5)));
        chains!(iterations, i32x4_splat(1), |v| {
            i32x4_relaxed_dot_i8x16_i7x16_add(a, b, v)
        })
    }
    #[cfg(target_feature = "relaxed-simd")]
    time(
        "int8 relaxed dot",
        "i32x4.relaxed_dot_i8x16_i7x16_add_s",
        16.0,
        12,
        &mut || rdot(iterations),
    );
    out
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn run(_iterations: usize, _clock: &dyn Fn() -> f64) -> Vec<Peak> {
    vec![]
}
