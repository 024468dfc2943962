//! The kernel table: every GEMM microkernel variant is a named entry, as in tract-linalg and
//! XNNPACK's `gemm-config.c`. Which entries exist depends on the build (native: portable;
//! `simd128`: + `dot16`, `muladd`; `relaxed`: + `split`, `usdot7`, `usdot`, `madd`), which are
//! usable on the engine depends on the probe ([`super::probe`]). The fastest usable entry is
//! chosen once, at first use; [`select`] forces another (tests, the page's kernel switch).
//!
//! Multiply-adds per instruction count every instruction of the inner step (a mul + add pair
//! is two):
//!
//! | entry | op | inner step | multiply-adds per instruction |
//! |---|---|---|---|
//! | `portable` int8 | scalar | `i32.mul` + `i32.add` | 0.5 |
//! | `dot16` | u8→i16 activations × i16 weights | `i32x4.dot_i16x8_s` + `i32x4.add` | 4 |
//! | `split` | 7-bit planes `u = lo + 128·hi` | 2 × `i32x4.relaxed_dot_i8x16_i7x16_add_s` per 16 | 8 |
//! | `usdot7` | uint8 activations × weights within ±64 (7 bits) | `i16x8.relaxed_dot_i8x16_i7x16_s` + `i32x4.dot_i16x8_s` (× 1) + `i32x4.add` per 16 | 5.33 (6.4 within ±32: two pair sums per widening) |
//! | `usdot` | uint8 activations × int8 weights | `i32x4.relaxed_dot_i8x16_i7x16_add_s` | 16 |
//! | `portable` fp32 | scalar | `f32.mul` + `f32.add` | 0.5 |
//! | `muladd` | f32 | `f32x4.mul` + `f32x4.add` | 2 |
//! | `madd` | f32 | `f32x4.relaxed_madd` (FMA where the CPU has it) | 4 |

use super::probe::{self, DotBehaviour, PairBehaviour};
use crate::{bail, Result};
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Kernel {
    Portable,
    Dot16,
    Split,
    Usdot7,
    Usdot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum F32Kernel {
    Portable,
    Muladd,
    Madd,
}

/// Which build this module is: `native`, `simd128` or `relaxed` (SIMD128 + relaxed SIMD).
pub const BUILD: &str = if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
    "relaxed"
} else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
    "simd128"
} else {
    "native"
};

const SIMD128: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
const RELAXED: bool = cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd"));

/// What both halves of the table (int8 and fp32 GEMM entries) have: names, the inner-step
/// instruction, whether this build has it and whether it is exact on this engine, and the
/// entry in use.
pub trait Entry: Copy + PartialEq + Sized + 'static {
    /// Every entry, fastest first.
    const ALL: &'static [Self];
    /// `"int8"` or `"fp32"` (the option name in errors).
    const OP: &'static str;
    fn name(self) -> &'static str;
    /// The table entry's full name (op, precision, instruction).
    fn entry(self) -> &'static str;
    fn instruction(self) -> &'static str;
    /// Multiply-adds per instruction of the inner step (see the table above).
    fn macs_per_instruction(self) -> f32;
    /// Compiled into this build.
    fn compiled(self) -> bool;
    /// Compiled in and exact on this engine.
    fn usable(self) -> bool {
        self.compiled()
    }
    /// The fastest usable entry.
    fn best() -> Self {
        *Self::ALL
            .iter()
            .find(|k| k.usable())
            .unwrap_or(&Self::ALL[Self::ALL.len() - 1])
    }
    /// The largest weight magnitude the entry is exact for, where it has one; `None`: any.
    fn weight_limit(self) -> Option<u8> {
        None
    }
    /// The entry a layer whose weights pass [`Entry::weight_limit`] is packed for instead.
    fn fallback(self) -> Option<Self> {
        None
    }
    /// The entry in use: 0 = not chosen yet, else index in ALL + 1.
    fn slot() -> &'static AtomicU8;

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == s)
    }
}

impl Entry for Int8Kernel {
    const ALL: &'static [Int8Kernel] = &[
        Int8Kernel::Usdot,
        Int8Kernel::Usdot7,
        Int8Kernel::Split,
        Int8Kernel::Dot16,
        Int8Kernel::Portable,
    ];
    const OP: &'static str = "int8";
    fn name(self) -> &'static str {
        match self {
            Int8Kernel::Portable => "portable",
            Int8Kernel::Dot16 => "dot16",
            Int8Kernel::Split => "split",
            Int8Kernel::Usdot7 => "usdot7",
            Int8Kernel::Usdot => "usdot",
        }
    }
    fn entry(self) -> &'static str {
        match self {
            Int8Kernel::Portable => "gemm_int8_portable",
            Int8Kernel::Dot16 => "gemm_int8_dot16",
            Int8Kernel::Split => "gemm_int8_split",
            Int8Kernel::Usdot7 => "gemm_int8_usdot7",
            Int8Kernel::Usdot => "gemm_int8_usdot",
        }
    }
    fn instruction(self) -> &'static str {
        match self {
            Int8Kernel::Portable => "i32.mul + i32.add",
            Int8Kernel::Dot16 => "i32x4.dot_i16x8_s + i32x4.add",
            Int8Kernel::Split => "2 x i32x4.relaxed_dot_i8x16_i7x16_add_s",
            Int8Kernel::Usdot7 => "i16x8.relaxed_dot_i8x16_i7x16_s + i32x4.dot_i16x8_s + i32x4.add",
            Int8Kernel::Usdot => "i32x4.relaxed_dot_i8x16_i7x16_add_s",
        }
    }
    fn macs_per_instruction(self) -> f32 {
        match self {
            Int8Kernel::Portable => 0.5,
            Int8Kernel::Dot16 => 4.0,
            Int8Kernel::Split => 8.0,
            Int8Kernel::Usdot7 => 16.0 / 3.0,
            Int8Kernel::Usdot => 16.0,
        }
    }
    fn compiled(self) -> bool {
        match self {
            Int8Kernel::Portable => true,
            Int8Kernel::Dot16 => SIMD128,
            Int8Kernel::Split | Int8Kernel::Usdot7 | Int8Kernel::Usdot => RELAXED,
        }
    }
    /// `usdot` only where the probe saw an unsigned, non-saturating relaxed dot; `usdot7` where
    /// the int16 relaxed dot reads its operand as unsigned (then exact for weights within ±64; a
    /// layer with wider weights is packed for `dot16`); `split` keeps the unsigned operand in
    /// 0..127, where every engine's relaxed dot is exact.
    fn usable(self) -> bool {
        let p = probe::get();
        self.compiled()
            && match self {
                Int8Kernel::Usdot => p.dot == DotBehaviour::Usdot,
                Int8Kernel::Usdot7 => p.pairs == PairBehaviour::Unsigned,
                _ => true,
            }
    }
    /// The fastest exact entry for what the probe saw, as XNNPACK picks by its hardware config:
    /// `usdot` where the relaxed dot is one exact uint8 × int8 instruction (16 multiply-adds);
    /// `split` where it is one signed instruction (ARM `sdot`: two per 16 multiply-adds);
    /// `usdot7` where it is emulated but the int16 dot is one unsigned `pmaddubsw` (x86 without
    /// AVX-VNNI): layers whose weights fit 7 bits take 3 instructions per 16 multiply-adds, the
    /// others `dot16` (4 per 16); the emulated relaxed dot (`pmaddubsw` + `pmaddwd` + `paddd` and
    /// the constant it rebuilds each time) would make the split's two dots cost more than that.
    fn best() -> Int8Kernel {
        let first: &[Int8Kernel] = match probe::get().dot {
            DotBehaviour::Usdot => &[Int8Kernel::Usdot],
            DotBehaviour::Sdot => &[Int8Kernel::Split],
            _ => &[],
        };
        first
            .iter()
            .chain(&[
                Int8Kernel::Usdot7,
                Int8Kernel::Dot16,
                Int8Kernel::Split,
                Int8Kernel::Portable,
            ])
            .copied()
            .find(|k| k.usable())
            .unwrap_or(Int8Kernel::Portable)
    }
    /// `usdot7`'s int16 pair sums hold |w₀u₀ + w₁u₁| ≤ 2·64·255 = 32,640 ≤ 32,767 only for
    /// |w| ≤ 64 (7 bits, as onnxruntime's `reduce_range` on x86 without VNNI); a layer with
    /// wider weights is packed for `dot16`. The others take any int8 weight.
    fn weight_limit(self) -> Option<u8> {
        match self {
            Int8Kernel::Usdot7 => Some(64),
            _ => None,
        }
    }
    fn fallback(self) -> Option<Int8Kernel> {
        match self {
            Int8Kernel::Usdot7 => Some(Int8Kernel::Dot16),
            _ => None,
        }
    }
    fn slot() -> &'static AtomicU8 {
        static S: AtomicU8 = AtomicU8::new(0);
        &S
    }
}

impl Int8Kernel {
    /// Reads the activations as uint8 one relaxed dot at a time (`usdot`), or in two 7-bit
    /// planes (`split`); both share the packed layout with `portable`. `dot16` widens to i16.
    pub fn packs_i16(self) -> bool {
        self == Int8Kernel::Dot16
    }

    /// The entry that runs a layer whose largest weight magnitude is `wmax` when `self` is asked for.
    pub fn runs_for(self, wmax: u8) -> Int8Kernel {
        match (self.weight_limit(), self.fallback()) {
            (Some(limit), Some(other)) if wmax > limit => other,
            _ => self,
        }
    }
}

impl Entry for F32Kernel {
    const ALL: &'static [F32Kernel] = &[F32Kernel::Madd, F32Kernel::Muladd, F32Kernel::Portable];
    const OP: &'static str = "fp32";
    fn name(self) -> &'static str {
        match self {
            F32Kernel::Portable => "portable",
            F32Kernel::Muladd => "muladd",
            F32Kernel::Madd => "madd",
        }
    }
    fn entry(self) -> &'static str {
        match self {
            F32Kernel::Portable => "gemm_f32_portable",
            F32Kernel::Muladd => "gemm_f32_muladd",
            F32Kernel::Madd => "gemm_f32_madd",
        }
    }
    fn instruction(self) -> &'static str {
        match self {
            F32Kernel::Portable => "f32.mul + f32.add",
            F32Kernel::Muladd => "f32x4.mul + f32x4.add",
            F32Kernel::Madd => "f32x4.relaxed_madd",
        }
    }
    fn macs_per_instruction(self) -> f32 {
        match self {
            F32Kernel::Portable => 0.5,
            F32Kernel::Muladd => 2.0,
            F32Kernel::Madd => 4.0,
        }
    }
    /// `madd` may round once (fused) or twice depending on the engine; either is a correct
    /// float32 result within the tests' tolerance, so it is usable wherever it is compiled.
    fn compiled(self) -> bool {
        match self {
            F32Kernel::Portable => true,
            F32Kernel::Muladd => SIMD128,
            F32Kernel::Madd => RELAXED,
        }
    }
    fn slot() -> &'static AtomicU8 {
        static S: AtomicU8 = AtomicU8::new(0);
        &S
    }
}

/// The entry in use (the best usable one unless [`select`] chose another).
pub fn current<E: Entry>() -> E {
    match E::slot().load(Ordering::Relaxed) {
        0 => {
            let k = E::best();
            store(k);
            k
        }
        i => E::ALL[i as usize - 1],
    }
}

fn store<E: Entry>(k: E) {
    let i = E::ALL.iter().position(|&e| e == k).unwrap_or(0);
    E::slot().store(i as u8 + 1, Ordering::Relaxed);
}

/// The entries this build has and this engine runs exactly, fastest first.
pub fn available<E: Entry>() -> Vec<E> {
    E::ALL.iter().copied().filter(|k| k.usable()).collect()
}

/// The int8 GEMM entry in use.
pub fn int8() -> Int8Kernel {
    current()
}

/// The fp32 GEMM entry in use.
pub fn fp32() -> F32Kernel {
    current()
}

/// `name` resolved to an entry: `None` keeps the current one, `"auto"` the best usable; an
/// unknown or unusable name is an error saying what is available.
fn resolve<E: Entry>(name: Option<&str>) -> Result<E> {
    let subject = format!("kernels.{}", E::OP);
    let list = |v: &[E]| {
        v.iter()
            .map(|k| format!("'{}'", k.name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        None => Ok(current()),
        Some("auto") => Ok(E::best()),
        Some(name) => match E::parse(name) {
            None => bail!(subject, "unknown kernel '{name}'; the table has {}", list(E::ALL)),
            Some(k) if !k.compiled() => bail!(
                subject,
                "'{name}' is not in the {BUILD} build; available here: {}",
                list(&available::<E>())
            ),
            Some(k) if !k.usable() => bail!(
                subject,
                "'{name}' is not exact on this engine (the probe saw a relaxed dot that {}); available here: {}",
                probe::get().dot.describe(),
                list(&available::<E>())
            ),
            Some(k) => Ok(k),
        },
    }
}

/// Forces table entries by name (`None` keeps the current one; `"auto"` the best usable).
/// Nothing changes unless both names resolve.
pub fn select(int8: Option<&str>, fp32: Option<&str>) -> Result<(Int8Kernel, F32Kernel)> {
    let (i, f) = (resolve::<Int8Kernel>(int8)?, resolve::<F32Kernel>(fp32)?);
    store(i);
    store(f);
    Ok((i, f))
}

/// Multiply-adds per instruction of the entry named `entry` (`gemm_int8_dot16`, ...).
pub fn macs_per_instruction(entry: &str) -> Option<f32> {
    fn find<E: Entry>(entry: &str) -> Option<f32> {
        E::ALL
            .iter()
            .find(|k| k.entry() == entry)
            .map(|k| k.macs_per_instruction())
    }
    find::<Int8Kernel>(entry).or_else(|| find::<F32Kernel>(entry))
}
