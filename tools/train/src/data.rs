//! Digit files ("QLDG", written by scripts/data/make_digits.mjs) and the preprocessing the
//! browser applies too.
//!
//! File layout, little endian:
//!   bytes 0..4  magic "QLDG"
//!   u32 count, u32 rows (28), u32 cols (28)
//!   u8 labels[count]
//!   u8 pixels[count * rows * cols]   row-major

use std::path::Path;

pub const SRC: usize = 28; // stored digit side
pub const SIDE: usize = 32; // model input side (28 + 2 * PAD)
pub const PAD: usize = 2;

pub struct Digits {
    pub labels: Vec<u8>,
    /// count * 28 * 28 raw pixels.
    pub pixels: Vec<u8>,
}

impl Digits {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
        if bytes.len() < 16 || &bytes[0..4] != b"QLDG" {
            return Err(format!("{}: not a QLDG digit file", path.display()));
        }
        let (count, rows, cols) = (u32_at(4), u32_at(8), u32_at(12));
        if rows != SRC || cols != SRC {
            return Err(format!(
                "{}: digits are {rows}x{cols}, expected 28x28",
                path.display()
            ));
        }
        let need = 16 + count + count * SRC * SRC;
        if bytes.len() != need {
            return Err(format!(
                "{}: {} bytes, expected {need}",
                path.display(),
                bytes.len()
            ));
        }
        let labels = bytes[16..16 + count].to_vec();
        if let Some(bad) = labels.iter().find(|&&l| l > 9) {
            return Err(format!("{}: label {bad} out of range", path.display()));
        }
        let pixels = bytes[16 + count..].to_vec();
        Ok(Self { labels, pixels })
    }

    /// Writes digit `i` into the 32x32 input `out` (one channel):
    ///   out[y][x] = pixel[y - oy][x - ox] / 255   inside the digit, 0 elsewhere,
    /// with top-left offset (oy, ox) = (2 + dy, 2 + dx). dy = dx = 0 is exactly the shipped
    /// preprocessing (zero-pad by 2 on each side); |dy|, |dx| <= 2 is the training
    /// augmentation, a shift that keeps the whole digit on the canvas.
    pub fn input(&self, i: usize, dy: isize, dx: isize, out: &mut [f32]) {
        debug_assert!(dy.abs() <= PAD as isize && dx.abs() <= PAD as isize);
        let oy = (PAD as isize + dy) as usize;
        let ox = (PAD as isize + dx) as usize;
        out[..SIDE * SIDE].fill(0.0);
        let px = &self.pixels[i * SRC * SRC..(i + 1) * SRC * SRC];
        for y in 0..SRC {
            let row = &mut out[(oy + y) * SIDE + ox..(oy + y) * SIDE + ox + SRC];
            for (o, &p) in row.iter_mut().zip(&px[y * SRC..(y + 1) * SRC]) {
                *o = p as f32 / 255.0;
            }
        }
    }
}
