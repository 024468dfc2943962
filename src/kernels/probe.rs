//! What the engine's relaxed-SIMD instructions do, found once at start-up with test vectors,
//! as XNNPACK's `hardware-config.c` and onnxruntime's `HasUSDot()` do.
//!
//! `i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c)` is only specified for `b` in 0..127. Beyond
//! that engines differ: x86 with AVX-VNNI (`vpdpbusd`) reads `b` as unsigned and does not
//! saturate, which makes it an exact uint8 × int8 dot; ARM (`sdot`) and `vpdpbssd` read it as
//! signed; x86 without VNNI (`pmaddubsw`) reads it as unsigned but saturates each pair sum to
//! int16. Four lanes of four products tell them apart:
//!
//! | a, b (every byte) | unsigned exact | signed | unsigned, pairs saturated |
//! |---|---|---|---|
//! | 1, 0x80 | 512 | −512 | 512 |
//! | 127, 0xFF | 129,540 | −508 | 65,534 |
//! | −128, 0xFF | −130,560 | 512 | −65,536 |
//! | −128, 0x80 | −65,536 | 65,536 | −65,536 |
//!
//! `i16x8.relaxed_dot_i8x16_i7x16_s(a, b)` (pairs of products summed into int16, no accumulator)
//! is probed too: V8 on x86 lowers it to one `pmaddubsw`, which reads `b` as unsigned, so a pair
//! of uint8 × int8 products is exact whenever its sum fits int16, which it always does when
//! |a| ≤ 64 (2 · 255 · 64 = 32,640): weights of 7 bits, onnxruntime's `reduce_range` on x86
//! without VNNI. Lane 0 of two products:
//!
//! | a, b (every byte) | unsigned | signed |
//! |---|---|---|
//! | 1, 0x80 | 256 | −256 |
//! | 64, 0xFF | 32,640 | −128 |
//! | −64, 0xFF | −32,640 | 128 |
//! | −64, 0x80 | −16,384 | 16,384 |

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DotBehaviour {
    /// Not a relaxed build: nothing to probe.
    NotProbed,
    /// `b` unsigned, no saturation: exact uint8 × int8.
    Usdot,
    /// `b` signed, no saturation: exact int8 × int8.
    Sdot,
    /// Anything else (e.g. unsigned with saturated pair sums).
    Other,
}

impl DotBehaviour {
    pub fn name(self) -> &'static str {
        match self {
            DotBehaviour::NotProbed => "none",
            DotBehaviour::Usdot => "usdot",
            DotBehaviour::Sdot => "sdot",
            DotBehaviour::Other => "other",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            DotBehaviour::NotProbed => "was not probed (this build has no relaxed SIMD)",
            DotBehaviour::Usdot => "reads its second operand as unsigned and does not saturate",
            DotBehaviour::Sdot => "reads its second operand as signed",
            DotBehaviour::Other => {
                "is neither an exact unsigned nor an exact signed dot (it saturates or rounds)"
            }
        }
    }
}

/// What the int16 relaxed dot does with an operand `b` above 127 (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairBehaviour {
    NotProbed,
    /// `b` unsigned and pair sums exact in int16 range: uint8 × int8 with |a| ≤ 64 is exact.
    Unsigned,
    /// `b` signed.
    Signed,
    Other,
}

impl PairBehaviour {
    pub fn name(self) -> &'static str {
        match self {
            PairBehaviour::NotProbed => "none",
            PairBehaviour::Unsigned => "unsigned",
            PairBehaviour::Signed => "signed",
            PairBehaviour::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    pub dot: DotBehaviour,
    /// Lane 0 of the relaxed dot for the four rows of the table above.
    pub dot_samples: [i32; 4],
    /// The int16 relaxed dot (second table).
    pub pairs: PairBehaviour,
    /// Its lane 0 for the four rows of the second table.
    pub pair_samples: [i32; 4],
    /// `f32x4.relaxed_madd` rounds once (a fused multiply-add) on this engine.
    pub madd_fused: Option<bool>,
}

/// The vectors in the module docs, exposed so tests can classify emulated behaviours.
pub const CASES: [(i8, u8); 4] = [(1, 0x80), (127, 0xFF), (-128, 0xFF), (-128, 0x80)];

/// The int16 dot's vectors (second table).
pub const PAIR_CASES: [(i8, u8); 4] = [(1, 0x80), (64, 0xFF), (-64, 0xFF), (-64, 0x80)];

pub fn classify_pairs(s: [i32; 4]) -> PairBehaviour {
    match s {
        [256, 32_640, -32_640, -16_384] => PairBehaviour::Unsigned,
        [-256, -128, 128, 16_384] => PairBehaviour::Signed,
        _ => PairBehaviour::Other,
    }
}

pub fn classify(s: [i32; 4]) -> DotBehaviour {
    match s {
        [512, 129_540, -130_560, -65_536] => DotBehaviour::Usdot,
        [-512, -508, 512, 65_536] => DotBehaviour::Sdot,
        _ => DotBehaviour::Other,
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
fn run() -> Probe {
    use core::arch::wasm32::*;
    use core::hint::black_box;
    let dot_samples = CASES.map(|(a, b)| {
        let r = i32x4_relaxed_dot_i8x16_i7x16_add(
            black_box(i8x16_splat(a)),
            black_box(u8x16_splat(b)),
            black_box(i32x4_splat(0)),
        );
        i32x4_extract_lane::<0>(r)
    });
    let pair_samples = PAIR_CASES.map(|(a, b)| {
        let r = i16x8_relaxed_dot_i8x16_i7x16(black_box(i8x16_splat(a)), black_box(u8x16_splat(b)));
        i16x8_extract_lane::<0>(r) as i32
    });
    // x = 1 + 2^-12: x·x = 1 + 2^-11 + 2^-24 needs 25 bits. Fused, x·x − (1 + 2^-11) = 2^-24;
    // rounded first, the product is 1 + 2^-11 and the difference 0.
    let x = 1.0 + f32::powi(2.0, -12);
    let r = f32x4_relaxed_madd(
        black_box(f32x4_splat(x)),
        black_box(f32x4_splat(x)),
        black_box(f32x4_splat(-(1.0 + f32::powi(2.0, -11)))),
    );
    Probe {
        dot: classify(dot_samples),
        dot_samples,
        pairs: classify_pairs(pair_samples),
        pair_samples,
        madd_fused: Some(f32x4_extract_lane::<0>(r) != 0.0),
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
fn run() -> Probe {
    Probe {
        dot: DotBehaviour::NotProbed,
        dot_samples: [0; 4],
        pairs: PairBehaviour::NotProbed,
        pair_samples: [0; 4],
        madd_fused: None,
    }
}

static PROBE: std::sync::OnceLock<Probe> = std::sync::OnceLock::new();

/// The probe's result; runs it the first time.
pub fn get() -> &'static Probe {
    PROBE.get_or_init(run)
}
