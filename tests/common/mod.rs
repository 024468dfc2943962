//! Readers for the golden JSON files (floats stored as uint32 bit patterns) and the tests' PRNG.
#![allow(dead_code)]

use quantlab::quant::Dtype;

/// The shipped model's file (the page fetches it from `www/models/`; the module holds no model).
pub const BASELINE: &[u8] = include_bytes!("../../www/models/baseline-cnn.safetensors");

/// The shipped model: the course module's BaselineCNN trained on MNIST (`make train`).
#[cfg(not(target_arch = "wasm32"))]
pub fn baseline() -> quantlab::model::Model {
    quantlab::model::file::load(BASELINE).unwrap()
}
use serde_json::Value;

pub mod qlinear;

pub fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| f32::from_bits(b.as_u64().unwrap() as u32))
        .collect()
}

pub fn ints(v: &Value) -> Vec<i32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_i64().unwrap() as i32)
        .collect()
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as usize)
        .collect()
}

/// A case's `(scale, zero point)` tensors (`scale_bits`, `zero_point`), axis to be resolved.
pub fn params(c: &Value) -> quantlab::quant::QuantParams {
    quantlab::quant::QuantParams {
        scale: f32s(&c["scale_bits"]),
        zero_point: ints(&c["zero_point"]),
        axis: None,
    }
}

pub fn dtype(v: &Value) -> Dtype {
    match v.as_str().unwrap() {
        "int8" => Dtype::Int8,
        "uint8" => Dtype::Uint8,
        "int32" => Dtype::Int32,
        d => panic!("dtype {d}"),
    }
}

/// SplitMix64: deterministic test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn int(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo + 1) as u64) as i32
    }
    /// Integer-valued floats so float sums are exact and `==` works.
    pub fn f32_int(&mut self, lo: i32, hi: i32) -> f32 {
        self.int(lo, hi) as f32
    }
}

/// FNV-1a 64 of int8 values as bytes, as hex: the snapshot of all test digits' int8 logits.
pub fn fnv1a64_hex(v: &[i8]) -> String {
    let h = v.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u8 as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// The training data the page ships, gunzipped (native tests only: the page gunzips in JS).
#[cfg(not(target_arch = "wasm32"))]
pub fn train_digits() -> quantlab::model::digits::Digits {
    let gz = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/www/data/digits-train.bin.gz"
    ))
    .unwrap();
    let mut bytes = vec![];
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut bytes).unwrap();
    quantlab::model::digits::Digits::parse(&bytes).unwrap()
}

pub const CALIB: &[u8] = include_bytes!("../../www/data/digits-calib.bin");

/// The run both determinism tests make (natively in `tests/train.rs`, in wasm in `tests/web.rs`):
/// the shipped model calibrated on the first 64 calibration digits, fine-tuned for 3-bit weights
/// and activations on all 512 calibration digits for 6 steps of 8, seed 7, learned scales.
pub mod qat_run {
    pub const CAL_IMAGES: usize = 64;
    pub const STEPS: usize = 6;
    pub const BATCH: usize = 8;
    pub const SEED: u64 = 7;
    pub const BITS: u32 = 3;
    /// FNV-1a 64 of the weights after the run (`quantlab::train::fingerprint`): the same on
    /// every target, so the same on native x86-64 and in both wasm builds.
    pub const FINGERPRINT: &str = include_str!("../golden/qat_fingerprint.txt");
}

/// FNV-1a 64 over the little-endian bytes of `v`, continuing from `h` (start: 0xcbf29ce484222325).
pub fn fnv1a64_f32(mut h: u64, v: &[f32]) -> u64 {
    for x in v {
        for b in x.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// An NHWC kernel on an NCHW image: `x` `[c, h, w]` is reordered, `kernel` writes `[oh, ow, c]`
/// (starting from `fill`, so a value it did not write shows), and that comes back as `[c, oh, ow]`.
pub fn through_nhwc<T: Copy + Default>(
    x: &[T],
    [c, h, w]: [usize; 3],
    [oh, ow]: [usize; 2],
    fill: T,
    kernel: impl FnOnce(&[T], &mut [T]),
) -> Vec<T> {
    let mut xn = vec![T::default(); x.len()];
    quantlab::kernels::nchw_to_nhwc(x, c, h, w, &mut xn);
    let mut got = vec![fill; c * oh * ow];
    kernel(&xn, &mut got);
    let mut back = vec![T::default(); got.len()];
    quantlab::kernels::nhwc_to_nchw(&got, c, oh, ow, &mut back);
    back
}
