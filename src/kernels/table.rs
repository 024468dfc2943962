//! The kernel table: every GEMM microkernel variant is a named entry, as in tract-linalg and
//! XNNPACK's `gemm-config.c`. Which entries exist depends on the build (native: portable;
//! `simd128`: + `dot16`, `muladd`; `relaxed`: + `split`, `usdot`, `madd`), which are
//! usable on the engine depends on the probe ([`super::probe`]). The fastest usable entry is
//! chosen once, at first use; [`select`] forces another (tests, the page's kernel switch).
//!
//! | entry | op | instruction | multiply-adds per instruction |
//! |---|---|---|---|
//! | `portable` int8 | scalar | `i32.mul` + `i32.add` | 1 |
//! | `dot16` | u8→i16 activations × i16 weights | `i32x4.dot_i16x8_s` (+ `i32x4.add`) | 8 |
//! | `split` | 7-bit planes `u = lo + 128·hi` | 2 × `i32x4.relaxed_dot_i8x16_i7x16_add_s` | 8 |
//! | `usdot` | uint8 activations × int8 weights | `i32x4.relaxed_dot_i8x16_i7x16_add_s` | 16 |
//! | `portable` fp32 | scalar | `f32.mul` + `f32.add` | 1 |
//! | `muladd` | f32 | `f32x4.mul` + `f32x4.add` | 4 (2 instructions) |
//! | `madd` | f32 | `f32x4.relaxed_madd` (FMA where the CPU has it) | 4 |

use super::probe::{self, DotBehaviour};
use crate::{bail, Result};
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Kernel {
    Portable,
    Dot16,
    Split,
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

impl Int8Kernel {
    /// Fastest first.
    pub const ALL: [Int8Kernel; 4] = [
        Int8Kernel::Usdot,
        Int8Kernel::Split,
        Int8Kernel::Dot16,
        Int8Kernel::Portable,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Int8Kernel::Portable => "portable",
            Int8Kernel::Dot16 => "dot16",
            Int8Kernel::Split => "split",
            Int8Kernel::Usdot => "usdot",
        }
    }
    /// The table entry's full name (op, precision, instruction).
    pub fn entry(self) -> &'static str {
        match self {
            Int8Kernel::Portable => "gemm_int8_portable",
            Int8Kernel::Dot16 => "gemm_int8_dot16",
            Int8Kernel::Split => "gemm_int8_split",
            Int8Kernel::Usdot => "gemm_int8_usdot",
        }
    }
    pub fn instruction(self) -> &'static str {
        match self {
            Int8Kernel::Portable => "i32.mul + i32.add",
            Int8Kernel::Dot16 => "i32x4.dot_i16x8_s + i32x4.add",
            Int8Kernel::Split => "2 x i32x4.relaxed_dot_i8x16_i7x16_add_s",
            Int8Kernel::Usdot => "i32x4.relaxed_dot_i8x16_i7x16_add_s",
        }
    }
    /// Multiply-adds per dot instruction (the GEMM's inner step).
    pub fn macs_per_instruction(self) -> u32 {
        match self {
            Int8Kernel::Portable => 1,
            Int8Kernel::Dot16 | Int8Kernel::Split => 8,
            Int8Kernel::Usdot => 16,
        }
    }
    pub fn parse(s: &str) -> Option<Int8Kernel> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
    /// Compiled into this build.
    pub fn compiled(self) -> bool {
        match self {
            Int8Kernel::Portable => true,
            Int8Kernel::Dot16 => SIMD128,
            Int8Kernel::Split | Int8Kernel::Usdot => RELAXED,
        }
    }
    /// Compiled in and exact on this engine: `usdot` only where the probe saw an unsigned,
    /// non-saturating relaxed dot; `split` keeps the unsigned operand in 0..127, where every
    /// engine's relaxed dot is exact.
    pub fn usable(self) -> bool {
        self.compiled() && (self != Int8Kernel::Usdot || probe::get().dot == DotBehaviour::Usdot)
    }
    /// Reads the activations as uint8 one relaxed dot at a time (`usdot`), or in two 7-bit
    /// planes (`split`); both share the packed layout with `portable`. `dot16` widens to i16.
    pub fn packs_i16(self) -> bool {
        self == Int8Kernel::Dot16
    }
}

impl F32Kernel {
    pub const ALL: [F32Kernel; 3] = [F32Kernel::Madd, F32Kernel::Muladd, F32Kernel::Portable];
    pub fn name(self) -> &'static str {
        match self {
            F32Kernel::Portable => "portable",
            F32Kernel::Muladd => "muladd",
            F32Kernel::Madd => "madd",
        }
    }
    pub fn entry(self) -> &'static str {
        match self {
            F32Kernel::Portable => "gemm_f32_portable",
            F32Kernel::Muladd => "gemm_f32_muladd",
            F32Kernel::Madd => "gemm_f32_madd",
        }
    }
    pub fn instruction(self) -> &'static str {
        match self {
            F32Kernel::Portable => "f32.mul + f32.add",
            F32Kernel::Muladd => "f32x4.mul + f32x4.add",
            F32Kernel::Madd => "f32x4.relaxed_madd",
        }
    }
    /// Multiply-adds per instruction of the inner step (mul + add count as two).
    pub fn macs_per_instruction(self) -> f32 {
        match self {
            F32Kernel::Portable => 0.5,
            F32Kernel::Muladd => 2.0,
            F32Kernel::Madd => 4.0,
        }
    }
    pub fn parse(s: &str) -> Option<F32Kernel> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
    pub fn compiled(self) -> bool {
        match self {
            F32Kernel::Portable => true,
            F32Kernel::Muladd => SIMD128,
            F32Kernel::Madd => RELAXED,
        }
    }
    /// `madd` may round once (fused) or twice depending on the engine; either is a correct
    /// float32 result within the tests' tolerance, so it is always usable where compiled.
    pub fn usable(self) -> bool {
        self.compiled()
    }
}

// 0 = not chosen yet; otherwise index in ALL + 1.
static INT8: AtomicU8 = AtomicU8::new(0);
static FP32: AtomicU8 = AtomicU8::new(0);

/// The fastest exact entry for what the probe saw, as XNNPACK picks by its hardware config:
/// `usdot` where the relaxed dot is one exact uint8 × int8 instruction (16 multiply-adds);
/// `split` where it is one signed instruction (ARM `sdot`: two per 16 multiply-adds); `dot16`
/// where it is emulated (x86 without AVX-VNNI: `pmaddubsw` + `pmaddwd` + `paddd`, three
/// instructions per relaxed dot, so the split's two dots cost six against dot16's four).
pub fn best_int8() -> Int8Kernel {
    let order: &[Int8Kernel] = match probe::get().dot {
        DotBehaviour::Usdot => &[Int8Kernel::Usdot],
        DotBehaviour::Sdot => &[Int8Kernel::Split],
        _ => &[],
    };
    order
        .iter()
        .chain(&[Int8Kernel::Dot16, Int8Kernel::Split, Int8Kernel::Portable])
        .copied()
        .find(|k| k.usable())
        .unwrap_or(Int8Kernel::Portable)
}

pub fn best_fp32() -> F32Kernel {
    F32Kernel::ALL
        .into_iter()
        .find(|k| k.usable())
        .unwrap_or(F32Kernel::Portable)
}

/// The int8 GEMM entry in use (the best usable one unless [`select`] chose another).
pub fn int8() -> Int8Kernel {
    match INT8.load(Ordering::Relaxed) {
        0 => {
            let k = best_int8();
            set_int8(k);
            k
        }
        i => Int8Kernel::ALL[i as usize - 1],
    }
}

pub fn fp32() -> F32Kernel {
    match FP32.load(Ordering::Relaxed) {
        0 => {
            let k = best_fp32();
            set_fp32(k);
            k
        }
        i => F32Kernel::ALL[i as usize - 1],
    }
}

fn set_int8(k: Int8Kernel) {
    let i = Int8Kernel::ALL.iter().position(|&e| e == k).unwrap_or(0);
    INT8.store(i as u8 + 1, Ordering::Relaxed);
}

fn set_fp32(k: F32Kernel) {
    let i = F32Kernel::ALL.iter().position(|&e| e == k).unwrap_or(0);
    FP32.store(i as u8 + 1, Ordering::Relaxed);
}

/// Forces table entries by name (`None` keeps the current one; `"auto"` the best usable).
pub fn select(int8: Option<&str>, fp32: Option<&str>) -> Result<(Int8Kernel, F32Kernel)> {
    let i = match int8 {
        None => self::int8(),
        Some("auto") => best_int8(),
        Some(name) => match Int8Kernel::parse(name) {
            None => bail!(
                "kernels.int8",
                "unknown kernel '{name}'; the table has {}",
                names(Int8Kernel::ALL.iter().map(|k| k.name()))
            ),
            Some(k) if !k.compiled() => bail!(
                "kernels.int8",
                "'{name}' is not in the {BUILD} build; available here: {}",
                names(available_int8().iter().map(|k| k.name()))
            ),
            Some(k) if !k.usable() => bail!(
                "kernels.int8",
                "'{name}' is not exact on this engine (the probe saw a relaxed dot that {}); available here: {}",
                probe::get().dot.describe(),
                names(available_int8().iter().map(|k| k.name()))
            ),
            Some(k) => k,
        },
    };
    let f = match fp32 {
        None => self::fp32(),
        Some("auto") => best_fp32(),
        Some(name) => match F32Kernel::parse(name) {
            None => bail!(
                "kernels.fp32",
                "unknown kernel '{name}'; the table has {}",
                names(F32Kernel::ALL.iter().map(|k| k.name()))
            ),
            Some(k) if !k.usable() => bail!(
                "kernels.fp32",
                "'{name}' is not in the {BUILD} build; available here: {}",
                names(available_fp32().iter().map(|k| k.name()))
            ),
            Some(k) => k,
        },
    };
    set_int8(i);
    set_fp32(f);
    Ok((i, f))
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

pub fn available_int8() -> Vec<Int8Kernel> {
    Int8Kernel::ALL.into_iter().filter(|k| k.usable()).collect()
}

pub fn available_fp32() -> Vec<F32Kernel> {
    F32Kernel::ALL.into_iter().filter(|k| k.usable()).collect()
}
