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
        if start.checked_add(n).is_none_or(|end| end > self.len()) {
            bail!(
                "digits",
                "range {start}..{start}+{n} is beyond the {} images",
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

/// As [`preprocess`], with the image moved `dy` rows and `dx` columns from the centre (the
/// training augmentation); pixels that leave the canvas are dropped.
pub fn preprocess_shifted(
    pixels: &[u8],
    rows: usize,
    cols: usize,
    shape: Shape,
    dy: isize,
    dx: isize,
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
    let oy = ((h - rows) / 2) as isize + dy;
    let ox = ((w - cols) / 2) as isize + dx;
    for y in 0..rows {
        let ty = oy + y as isize;
        if ty < 0 || ty >= h as isize {
            continue;
        }
        for x in 0..cols {
            let tx = ox + x as isize;
            if tx >= 0 && tx < w as isize {
                out[ty as usize * w + tx as usize] = pixels[y * cols + x] as f32 / 255.0;
            }
        }
    }
    Ok(())
}

/// A drawing preprocessed as MNIST was: the ink's bounding box scaled (keeping its aspect
/// ratio, area-averaged) to fit 20×20, then placed in a 28×28 frame so that its centre of mass
/// is at the centre. `ink` is `width × height` values in [0, 1] (1 = ink). Returns 28×28 values
/// in [0, 1]; all zeros when nothing is drawn.
pub fn mnist_from_drawing(ink: &[f32], width: usize, height: usize) -> Result<Vec<f32>> {
    if width == 0 || height == 0 || width > 4096 || height > 4096 || ink.len() != width * height {
        bail!("drawing", "must be width × height values with 1 <= width, height <= 4096; found {} values for {width}x{height}", ink.len());
    }
    crate::quant::check_finite(ink, "drawing")?;
    let mut out = vec![0f32; 28 * 28];
    let on = |x: usize, y: usize| ink[y * width + x] > 0.05;
    let (mut x0, mut y0, mut x1, mut y1) = (width, height, 0, 0);
    for y in 0..height {
        for x in 0..width {
            if on(x, y) {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
            }
        }
    }
    if x0 >= x1 {
        return Ok(out);
    }
    let (bw, bh) = ((x1 - x0) as f32, (y1 - y0) as f32);
    let scale = 20.0 / bw.max(bh);
    let (tw, th) = (
        ((bw * scale).round() as usize).clamp(1, 20),
        ((bh * scale).round() as usize).clamp(1, 20),
    );
    // Area-average the box into tw × th.
    let mut small = vec![0f32; tw * th];
    for ty in 0..th {
        for tx in 0..tw {
            let (sx0, sx1) = (
                x0 as f32 + tx as f32 * bw / tw as f32,
                x0 as f32 + (tx + 1) as f32 * bw / tw as f32,
            );
            let (sy0, sy1) = (
                y0 as f32 + ty as f32 * bh / th as f32,
                y0 as f32 + (ty + 1) as f32 * bh / th as f32,
            );
            let (mut acc, mut area) = (0f32, 0f32);
            for y in sy0.floor() as usize..(sy1.ceil() as usize).min(height) {
                let hy = (sy1.min(y as f32 + 1.0) - sy0.max(y as f32)).max(0.0);
                for x in sx0.floor() as usize..(sx1.ceil() as usize).min(width) {
                    let wx = (sx1.min(x as f32 + 1.0) - sx0.max(x as f32)).max(0.0);
                    acc += ink[y * width + x] * wx * hy;
                    area += wx * hy;
                }
            }
            small[ty * tw + tx] = if area > 0.0 {
                (acc / area).clamp(0.0, 1.0)
            } else {
                0.0
            };
        }
    }
    // Centre of mass of the scaled digit.
    let (mut m, mut cx, mut cy) = (0f32, 0f32, 0f32);
    for y in 0..th {
        for x in 0..tw {
            let v = small[y * tw + x];
            m += v;
            cx += v * (x as f32 + 0.5);
            cy += v * (y as f32 + 0.5);
        }
    }
    let (cx, cy) = if m > 0.0 {
        (cx / m, cy / m)
    } else {
        (tw as f32 / 2.0, th as f32 / 2.0)
    };
    let ox = (14.0 - cx).round().clamp(0.0, (28 - tw) as f32) as usize;
    let oy = (14.0 - cy).round().clamp(0.0, (28 - th) as f32) as usize;
    for y in 0..th {
        for x in 0..tw {
            out[(oy + y) * 28 + ox + x] = small[y * tw + x];
        }
    }
    Ok(out)
}
