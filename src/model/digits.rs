//! Labelled image sets: the shipped digit sets in quantlab's "QLDG" format (written by
//! `scripts/data/make_digits.mjs`): magic `QLDG`, u32 count, u32 rows, u32 cols (little endian),
//! u8 labels[count], u8 pixels[count·rows·cols]; and a user's own test images from a
//! `.safetensors` file ([`Digits::from_safetensors`]).
//!
//! Preprocessing of the digits, as the model was trained: `x = pixel / 255`, the image centred on
//! the model's input canvas with zero padding (28×28 → 32×32 pads 2 on every side). A user's images
//! are already in the model's input scale and shape.

use super::Shape;
use crate::{bail, Error, Result};

#[derive(Debug, Clone)]
pub struct Digits {
    pub rows: usize,
    pub cols: usize,
    pub labels: Vec<u8>,
    /// `count · rows · cols` digit pixels (empty for a user's images).
    pub pixels: Vec<u8>,
    /// A user's images: `[count, C, H, W]` floats in the model's input scale.
    pub images: Option<Vec<f32>>,
    pub channels: usize,
    /// Class names from the file's `__metadata__.classes`, if any.
    pub classes: Option<Vec<String>>,
}

/// The largest image set accepted: 64 M values (256 MB as float32).
pub const MAX_VALUES: usize = 1 << 26;

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
            images: None,
            channels: 1,
            classes: None,
        })
    }

    /// A user's test images from `.safetensors` bytes: `images` `[N, C, H, W]` (float32 in the
    /// model's input scale, or uint8, divided by 255), `labels` `[N]` of any integer dtype (each a
    /// class index below 256, and below the number of names when `__metadata__.classes` names them:
    /// a JSON array of strings or a comma-separated list).
    pub fn from_safetensors(bytes: &[u8]) -> Result<Digits> {
        use safetensors::{Dtype, SafeTensors};
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| Error::new("dataset", format!("is not a valid safetensors file: {e}")))?;
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| Error::new("dataset", format!("has an unreadable header: {e}")))?;
        for name in st.names() {
            if name != "images" && name != "labels" {
                bail!(
                    "dataset",
                    "has a tensor '{name}'; a dataset holds exactly 'images' and 'labels'"
                );
            }
        }
        let images = st.tensor("images").map_err(|_| {
            Error::new(
                "dataset",
                "has no tensor 'images' ([N, C, H, W], float32 or uint8)",
            )
        })?;
        let labels = st
            .tensor("labels")
            .map_err(|_| Error::new("dataset", "has no tensor 'labels' ([N], integers)"))?;
        let &[n, c, h, w] = images.shape() else {
            bail!(
                "images",
                "has shape {:?}; expected [N, C, H, W]",
                images.shape()
            )
        };
        if n == 0 || c == 0 || h == 0 || w == 0 || c > 64 || h > 1024 || w > 1024 {
            bail!(
                "images",
                "has shape [{n}, {c}, {h}, {w}]; expected at least one image, up to 64 channels of 1024×1024"
            );
        }
        let values = n
            .checked_mul(c * h * w)
            .filter(|&v| v <= MAX_VALUES)
            .ok_or_else(|| {
                Error::new(
                    "images",
                    format!(
                        "holds more than {MAX_VALUES} values; the limit keeps the page responsive"
                    ),
                )
            })?;
        let data = images.data();
        let x: Vec<f32> = match images.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4")))
                .collect(),
            Dtype::U8 => data.iter().map(|&b| b as f32 / 255.0).collect(),
            other => bail!(
                "images",
                "has dtype {other:?}; expected F32 (the model's input scale) or U8 (divided by 255)"
            ),
        };
        debug_assert_eq!(x.len(), values);
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            bail!(
                "images",
                "holds {} at index {i} (image {}); values must be finite",
                x[i],
                i / (c * h * w)
            );
        }
        if labels.shape() != [n] {
            bail!(
                "labels",
                "has shape {:?}; expected [{n}], one per image",
                labels.shape()
            );
        }
        // Little-endian integers of `N` bytes, widened to i128 so every dtype's range fits.
        fn le<const N: usize>(d: &[u8], f: fn([u8; N]) -> i128) -> Vec<i128> {
            d.chunks_exact(N)
                .map(|b| f(b.try_into().expect("N bytes")))
                .collect()
        }
        let ld = labels.data();
        let ints: Vec<i128> = match labels.dtype() {
            Dtype::I64 => le(ld, |b| i64::from_le_bytes(b) as i128),
            Dtype::U64 => le(ld, |b| u64::from_le_bytes(b) as i128),
            Dtype::I32 => le(ld, |b| i32::from_le_bytes(b) as i128),
            Dtype::U32 => le(ld, |b| u32::from_le_bytes(b) as i128),
            Dtype::I16 => le(ld, |b| i16::from_le_bytes(b) as i128),
            Dtype::U16 => le(ld, |b| u16::from_le_bytes(b) as i128),
            Dtype::I8 => le(ld, |b: [u8; 1]| b[0] as i8 as i128),
            Dtype::U8 => le(ld, |b: [u8; 1]| b[0] as i128),
            other => bail!("labels", "has dtype {other:?}; expected an integer dtype"),
        };
        let classes: Option<Vec<String>> = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("classes"))
            .map(|v| {
                serde_json::from_str::<Vec<String>>(v)
                    .unwrap_or_else(|_| v.split(',').map(|s| s.trim().to_string()).collect())
            });
        if let Some(cl) = &classes {
            if cl.is_empty() || cl.len() > 256 {
                bail!(
                    "__metadata__.classes",
                    "names {} classes; expected 1 to 256",
                    cl.len()
                );
            }
        }
        let limit = classes.as_ref().map_or(256, Vec::len) as i128;
        if let Some(i) = ints.iter().position(|&l| l < 0 || l >= limit) {
            bail!(
                "labels",
                "holds {} at index {i}; a label is a class index from 0 to {}{}",
                ints[i],
                limit - 1,
                if classes.is_some() {
                    " (__metadata__.classes names the classes)"
                } else {
                    ""
                }
            );
        }
        Ok(Digits {
            rows: h,
            cols: w,
            labels: ints.into_iter().map(|l| l as u8).collect(),
            pixels: vec![],
            images: Some(x),
            channels: c,
            classes,
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Can `model` be tested on this set? Its input must be the images' shape (a digit set is
    /// preprocessed to 28×28 or 32×32 gray) and every label one of its outputs.
    pub fn check_fits(&self, model: &super::Model) -> Result<()> {
        let [c, h, w] = model.input;
        match self.images {
            Some(_) if [self.channels, self.rows, self.cols] != [c, h, w] => bail!(
                "images",
                "are {}×{}×{} but the model takes {c}×{h}×{w} inputs",
                self.channels,
                self.rows,
                self.cols
            ),
            None if !(c == 1 && h == w && (h == 28 || h == 32)) => bail!(
                "images",
                "are 1×28×28 digits but the model takes {c}×{h}×{w} inputs"
            ),
            _ => {}
        }
        let classes = model.output_len();
        if let Some((i, &l)) = self
            .labels
            .iter()
            .enumerate()
            .find(|(_, &l)| l as usize >= classes)
        {
            bail!(
                "labels",
                "[{i}] is {l} but the model has {classes} outputs (classes 0 to {})",
                classes - 1
            );
        }
        if let Some(names) = &self.classes {
            if names.len() > classes {
                bail!(
                    "__metadata__.classes",
                    "names {} classes but the model has {classes} outputs",
                    names.len()
                );
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as 8-bit pixels, `C·H·W` (CHW): the digit itself, or a user's image scaled by 255
    /// and clamped to 0..255 (for thumbnails).
    pub fn image(&self, i: usize) -> std::borrow::Cow<'_, [u8]> {
        let len = self.channels * self.rows * self.cols;
        match &self.images {
            None => std::borrow::Cow::Borrowed(&self.pixels[i * len..][..len]),
            Some(x) => std::borrow::Cow::Owned(
                x[i * len..][..len]
                    .iter()
                    .map(|&v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
                    .collect(),
            ),
        }
    }

    /// Writes image `i`, moved `dy` rows and `dx` columns (0, 0: as the model takes it), into `out`
    /// for a model with input `shape`.
    pub fn sample_into(
        &self,
        i: usize,
        shape: Shape,
        dy: isize,
        dx: isize,
        out: &mut [f32],
    ) -> Result<()> {
        match &self.images {
            None => {
                let len = self.rows * self.cols;
                preprocess_shifted(
                    &self.pixels[i * len..][..len],
                    self.rows,
                    self.cols,
                    shape,
                    dy,
                    dx,
                    out,
                )
            }
            Some(x) => {
                let (c, h, w) = (self.channels, self.rows, self.cols);
                if shape != [c, h, w] {
                    bail!(
                        "dataset",
                        "holds {c}×{h}×{w} images but the model takes {}×{}×{}",
                        shape[0],
                        shape[1],
                        shape[2]
                    );
                }
                let img = &x[i * c * h * w..][..c * h * w];
                let out = &mut out[..c * h * w];
                if dy == 0 && dx == 0 {
                    out.copy_from_slice(img);
                    return Ok(());
                }
                out.fill(0.0);
                for ch in 0..c {
                    for y in 0..h {
                        let ty = y as isize + dy;
                        if ty < 0 || ty >= h as isize {
                            continue;
                        }
                        for xx in 0..w {
                            let tx = xx as isize + dx;
                            if tx >= 0 && tx < w as isize {
                                out[(ch * h + ty as usize) * w + tx as usize] =
                                    img[(ch * h + y) * w + xx];
                            }
                        }
                    }
                }
                Ok(())
            }
        }
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
        let len = shape.iter().product::<usize>();
        for i in 0..n {
            self.sample_into(start + i, shape, 0, 0, &mut out[i * len..])?;
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
    preprocess_shifted(pixels, rows, cols, shape, 0, 0, out)
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
