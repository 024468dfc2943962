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

/// What the start-up probe must have seen for an entry to be exact on this engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Exact on every engine that has the build.
    Nothing,
    /// The 32-bit relaxed dot is one exact uint8 × int8 instruction (`vpdpbusd`).
    UnsignedDot,
    /// The int16 relaxed dot reads its second operand as unsigned (`pmaddubsw`).
    UnsignedPairs,
}

impl Needs {
    fn met(self) -> bool {
        let p = probe::get();
        match self {
            Needs::Nothing => true,
            Needs::UnsignedDot => p.dot == DotBehaviour::Usdot,
            Needs::UnsignedPairs => p.pairs == PairBehaviour::Unsigned,
        }
    }
}

/// One row of the kernel table: everything about an entry but its code (the code is the
/// entry's arm in `kernels::int8::gemm` / `kernels::fp32`, beside the plain reference).
#[derive(Debug)]
pub struct Row<K: 'static> {
    pub id: K,
    /// The short name (`usdot7`), as the page and `useKernels` say it.
    pub name: &'static str,
    /// The full name: op, precision, instruction (`gemm_int8_usdot7`).
    pub entry: &'static str,
    /// The inner step's instructions.
    pub instruction: &'static str,
    /// Multiply-adds per instruction of the inner step (see the table above).
    pub macs_per_instruction: f32,
    /// Compiled into this build.
    pub compiled: bool,
    pub needs: Needs,
    /// The largest weight magnitude the entry is exact for; `None`: any int8 weight.
    pub weight_limit: Option<u8>,
    /// The entry a layer whose weights pass `weight_limit` is packed for instead.
    pub fallback: Option<K>,
    /// Packs weights widened to int16 (`dot16`) rather than as int8.
    pub packs_i16: bool,
}

/// The int8 GEMM entries, fastest first.
pub const INT8: &[Row<Int8Kernel>] = &[
    Row {
        id: Int8Kernel::Usdot,
        name: "usdot",
        entry: "gemm_int8_usdot",
        instruction: "i32x4.relaxed_dot_i8x16_i7x16_add_s",
        macs_per_instruction: 16.0,
        compiled: RELAXED,
        needs: Needs::UnsignedDot,
        weight_limit: None,
        fallback: None,
        packs_i16: false,
    },
    // `usdot7`'s int16 pair sums hold |w₀u₀ + w₁u₁| ≤ 2·64·255 = 32,640 ≤ 32,767 only for
    // |w| ≤ 64 (7 bits, as onnxruntime's `reduce_range` on x86 without VNNI); a layer with
    // wider weights is packed for `dot16`.
    Row {
        id: Int8Kernel::Usdot7,
        name: "usdot7",
        entry: "gemm_int8_usdot7",
        instruction: "i16x8.relaxed_dot_i8x16_i7x16_s + i32x4.dot_i16x8_s + i32x4.add",
        macs_per_instruction: 16.0 / 3.0,
        compiled: RELAXED,
        needs: Needs::UnsignedPairs,
        weight_limit: Some(64),
        fallback: Some(Int8Kernel::Dot16),
        packs_i16: false,
    },
    // `split` keeps the unsigned operand in 0..127, where every engine's relaxed dot is exact.
    Row {
        id: Int8Kernel::Split,
        name: "split",
        entry: "gemm_int8_split",
        instruction: "2 x i32x4.relaxed_dot_i8x16_i7x16_add_s",
        macs_per_instruction: 8.0,
        compiled: RELAXED,
        needs: Needs::Nothing,
        weight_limit: None,
        fallback: None,
        packs_i16: false,
    },
    Row {
        id: Int8Kernel::Dot16,
        name: "dot16",
        entry: "gemm_int8_dot16",
        instruction: "i32x4.dot_i16x8_s + i32x4.add",
        macs_per_instruction: 4.0,
        compiled: SIMD128,
        needs: Needs::Nothing,
        weight_limit: None,
        fallback: None,
        packs_i16: true,
    },
    Row {
        id: Int8Kernel::Portable,
        name: "portable",
        entry: "gemm_int8_portable",
        instruction: "i32.mul + i32.add",
        macs_per_instruction: 0.5,
        compiled: true,
        needs: Needs::Nothing,
        weight_limit: None,
        fallback: None,
        packs_i16: false,
    },
];

/// The fp32 GEMM entries, fastest first. `madd` may round once (fused) or twice depending on
/// the engine; either is a correct float32 result within the tests' tolerance, so it needs
/// nothing of the probe.
pub const FP32: &[Row<F32Kernel>] = &[
    Row {
        id: F32Kernel::Madd,
        name: "madd",
        entry: "gemm_f32_madd",
        instruction: "f32x4.relaxed_madd",
        macs_per_instruction: 4.0,
        compiled: RELAXED,
        needs: Needs::Nothing,
        weight_limit: None,
        fallback: None,
        packs_i16: false,
    },
    Row {
        id: F32Kernel::Muladd,
        name: "muladd",
        entry: "gemm_f32_muladd",
        instruction: "f32x4.mul + f32x4.add",
        macs_per_instruction: 2.0,
        compiled: SIMD128,
        needs: Needs::Nothing,
        weight_limit: None,
        fallback: None,
        packs_i16: false,
    },
    Row {
        id: F32Kernel::Portable,
        name: "portable",
        entry: "gemm_f32_portable",
        instruction: "f32.mul + f32.add",
        macs_per_instruction: 0.5,
        compiled: true,
        needs: Needs::Nothing,
        weight_limit: None,
        fallback: None,
        packs_i16: false,
    },
];

/// What both halves of the table (int8 and fp32 GEMM entries) have, read from their rows, and
/// the entry in use.
pub trait Entry: Copy + PartialEq + Sized + std::fmt::Debug + 'static {
    /// Every row, fastest first.
    const ROWS: &'static [Row<Self>];
    /// `"int8"` or `"fp32"` (the option name in errors).
    const OP: &'static str;
    /// The entry's row (every id has one: `tests` below check it).
    fn row(self) -> &'static Row<Self> {
        let rows = Self::ROWS;
        rows.iter()
            .find(|r| r.id == self)
            .unwrap_or(&rows[rows.len() - 1])
    }
    /// Every entry, fastest first.
    fn all() -> impl Iterator<Item = Self> {
        Self::ROWS.iter().map(|r| r.id)
    }
    fn name(self) -> &'static str {
        self.row().name
    }
    /// The table entry's full name (op, precision, instruction).
    fn entry(self) -> &'static str {
        self.row().entry
    }
    fn instruction(self) -> &'static str {
        self.row().instruction
    }
    /// Multiply-adds per instruction of the inner step (see the table above).
    fn macs_per_instruction(self) -> f32 {
        self.row().macs_per_instruction
    }
    /// Compiled into this build.
    fn compiled(self) -> bool {
        self.row().compiled
    }
    /// Compiled in and exact on this engine.
    fn usable(self) -> bool {
        self.compiled() && self.row().needs.met()
    }
    /// The fastest usable entry.
    fn best() -> Self {
        Self::all()
            .find(|k| k.usable())
            .unwrap_or(Self::ROWS[Self::ROWS.len() - 1].id)
    }
    /// The largest weight magnitude the entry is exact for, where it has one; `None`: any.
    fn weight_limit(self) -> Option<u8> {
        self.row().weight_limit
    }
    /// The entry a layer whose weights pass [`Entry::weight_limit`] is packed for instead.
    fn fallback(self) -> Option<Self> {
        self.row().fallback
    }
    /// The entry in use: 0 = not chosen yet, else index in ROWS + 1.
    fn slot() -> &'static AtomicU8;

    fn parse(s: &str) -> Option<Self> {
        Self::all().find(|k| k.name() == s)
    }
}

impl Entry for Int8Kernel {
    const ROWS: &'static [Row<Int8Kernel>] = INT8;
    const OP: &'static str = "int8";
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
    fn slot() -> &'static AtomicU8 {
        static S: AtomicU8 = AtomicU8::new(0);
        &S
    }
}

impl Int8Kernel {
    /// Reads the activations as uint8 one relaxed dot at a time (`usdot`), or in two 7-bit
    /// planes (`split`); both share the packed layout with `portable`. `dot16` widens to i16.
    pub fn packs_i16(self) -> bool {
        self.row().packs_i16
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
    const ROWS: &'static [Row<F32Kernel>] = FP32;
    const OP: &'static str = "fp32";
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
        i => E::ROWS[i as usize - 1].id,
    }
}

fn store<E: Entry>(k: E) {
    let i = E::all().position(|e| e == k).unwrap_or(0);
    E::slot().store(i as u8 + 1, Ordering::Relaxed);
}

/// The entries this build has and this engine runs exactly, fastest first.
pub fn available<E: Entry>() -> Vec<E> {
    E::all().filter(|k| k.usable()).collect()
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
            None => bail!(
                subject,
                "unknown kernel '{name}'; the table has {}",
                list(&E::all().collect::<Vec<_>>())
            ),
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
        E::ROWS
            .iter()
            .find(|r| r.entry == entry)
            .map(|r| r.macs_per_instruction)
    }
    find::<Int8Kernel>(entry).or_else(|| find::<F32Kernel>(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id has exactly one row, and names are unique, so `row()` never falls back.
    fn one_row_each<E: Entry>(ids: &[E]) {
        for &id in ids {
            assert_eq!(E::ROWS.iter().filter(|r| r.id == id).count(), 1, "{id:?}");
        }
        assert_eq!(E::ROWS.len(), ids.len());
        for r in E::ROWS {
            assert_eq!(E::parse(r.name), Some(r.id));
            assert!(r.entry.ends_with(r.name));
            if let Some(f) = r.fallback {
                assert!(r.weight_limit.is_some() && f.row().weight_limit.is_none());
            }
        }
    }

    #[test]
    fn rows() {
        use Int8Kernel::*;
        one_row_each(&[Portable, Dot16, Split, Usdot7, Usdot]);
        one_row_each(&[F32Kernel::Portable, F32Kernel::Muladd, F32Kernel::Madd]);
        // Natively only the portable entries are compiled, and they are what runs.
        assert_eq!((int8(), fp32()), (Portable, F32Kernel::Portable));
    }
}
