//! Digit sets in quantlab's "QLDG" format (written by `scripts/data/make_digits.mjs`):
//! magic `QLDG`, u32 count, u32 rows, u32 cols (little endian), u8 labels[count],
//! u8 pixels[count·rows·cols].
//!
//! Preprocessing, as the model was trained: `x = pixel / 255`, the image centred on the model's
//! input canvas with zero padding (28×28 → 32×32 pads 2 on every side).

use super::Shape;
use crate::{bail, Result};

#[derive(Debug, Clone)]
pub struct Digits {
    pub rows: usize,
    pub cols: usize,
    pub labels: Vec<u8>,
    pub pixels: Vec<u8>,
}

impl Digits {
    pub fn parse(bytes: &[u8]) -> Result<Digits> {
        if bytes.len() < 16 || &bytes[..4] != b"QLDG" {
            bail!(
                "digits",
                "is not a QLDG digit file (bad magic or too short)"
            );
        }
        let u =
            |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes")) as usize;
        let (n, rows, cols) = (u(4), u(8), u(12));
        if rows == 0 || cols == 0 || rows > 256 || cols > 256 {
            bail!(
                "digits",
                "has images of {rows}x{cols}; expected up to 256x256"
            );
        }
        let need = n
            .checked_mul(rows * cols + 1)
            .and_then(|v| v.checked_add(16));
        if need != Some(bytes.len()) {
            bail!(
                "digits",
                "header says {n} images of {rows}x{cols} but the file has {} bytes",
                bytes.len()
            );
        }
        let labels = bytes[16..16 + n].to_vec();
        if let Some(i) = labels.iter().position(|&l| l > 9) {
            bail!("digits", "label {i} is {}, not a digit", labels[i]);
        }
        Ok(Digits {
            rows,
            cols,
            labels,
            pixels: bytes[16 + n..].to_vec(),
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * self.rows * self.cols..][..self.rows * self.cols]
    }

    /// Writes images `start..start+n` preprocessed for a model with input `shape` into `out`
    /// (`n · C·H·W` floats).
    pub fn batch_into(&self, start: usize, n: usize, shape: Shape, out: &mut [f32]) -> Result<()> {
        if start + n > self.len() {
            bail!(
                "digits",
                "range {start}..{} is beyond the {} images",
                start + n,
                self.len()
            );
        }
        for i in 0..n {
            preprocess(
                self.image(start + i),
                self.rows,
                self.cols,
                shape,
                &mut out[i * shape.iter().product::<usize>()..],
            )?;
        }
        Ok(())
    }
}

/// `pixels` (`rows×cols`, 0..255) → `x = pixel/255` centred on a `shape` canvas, zero elsewhere.
pub fn preprocess(
    pixels: &[u8],
    rows: usize,
    cols: usize,
    shape: Shape,
    out: &mut [f32],
) -> Result<()> {
    let [c, h, w] = shape;
    if c != 1 || h < rows || w < cols {
        bail!(
            "model input",
            "is {shape:?}; digits need one channel of at least {rows}x{cols}"
        );
    }
    let out = &mut out[..h * w];
    out.fill(0.0);
    let (oy, ox) = ((h - rows) / 2, (w - cols) / 2);
    for y in 0..rows {
        for x in 0..cols {
            out[(oy + y) * w + ox + x] = pixels[y * cols + x] as f32 / 255.0;
        }
    }
    Ok(())
}
