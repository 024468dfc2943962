//! The test-image handles: `Digits` (the shipped digits, or your own images) and `Dataset`.

use super::*;

/// A set of digits (QLDG file) with labels.
#[wasm_bindgen]
pub struct Digits {
    pub(crate) inner: CoreDigits,
    /// Identifies the set for `Model::evaluate`'s cache.
    pub(super) id: u32,
}

static NEXT_DIGITS_ID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

impl Digits {
    /// This set as the core's evaluations know it (its id keys their kept logits).
    pub(crate) fn set(&self) -> crate::lab::cnn::TestSet<'_> {
        crate::lab::cnn::TestSet {
            id: self.id,
            digits: &self.inner,
        }
    }
}

#[wasm_bindgen]
impl Digits {
    /// Parses a QLDG digit file (see scripts/data/make_digits.mjs).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> JsResult<Digits> {
        Ok(Digits {
            inner: CoreDigits::parse(bytes)?,
            id: NEXT_DIGITS_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }
    /// Your own test images, `Dataset.fromSafetensors` in the README: `images` `[N, C, H, W]`
    /// (float32 in the model's input scale, or uint8, divided by 255), `labels` `[N]` (any
    /// integer dtype), optional `__metadata__.classes`. Accepted wherever a digit set is.
    #[wasm_bindgen(js_name = fromSafetensors)]
    pub fn from_safetensors(bytes: &[u8]) -> JsResult<Digits> {
        Ok(Digits {
            inner: CoreDigits::from_safetensors(bytes)?,
            id: NEXT_DIGITS_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }
    /// Throws an Error naming what does not fit when `model` cannot be tested on this set (the
    /// images' shape against its input, a label against its outputs).
    #[wasm_bindgen(js_name = checkFits)]
    pub fn check_fits(&self, model: &Model) -> JsResult<()> {
        Ok(self.inner.check_fits(&model.inner)?)
    }
    /// `[C, H, W]` of each image (the digits: `[1, 28, 28]`).
    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<u32> {
        vec![
            self.inner.channels as u32,
            self.inner.rows as u32,
            self.inner.cols as u32,
        ]
    }
    /// The class names the file gave (`undefined` for the digits and unnamed classes).
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> Option<Vec<String>> {
        self.inner.classes.clone()
    }
    pub fn labels(&self) -> Vec<u8> {
        self.inner.labels.clone()
    }
    /// 8-bit pixels of image `i`, `C·H·W` (CHW; a user's float images scaled by 255 and clamped).
    pub fn pixels(&self, i: usize) -> JsResult<Vec<u8>> {
        if i >= self.inner.len() {
            return Err(Error::new(
                "i",
                format!("{i} is beyond the {} images", self.inner.len()),
            )
            .into());
        }
        Ok(self.inner.image(i).into_owned())
    }
    /// Images `start..start+n` preprocessed for `model` (`n × C·H·W` floats).
    pub fn images(&self, model: &Model, start: usize, n: usize) -> JsResult<Float32Array> {
        if start
            .checked_add(n)
            .is_none_or(|end| end > self.inner.len())
        {
            return Err(Error::new(
                "n",
                format!(
                    "images {start}..{start}+{n} are beyond the {} images",
                    self.inner.len()
                ),
            )
            .into());
        }
        let mut x = vec![0.0; n * model.inner.input_len()];
        self.inner.batch_into(start, n, model.inner.input, &mut x)?;
        Ok(Float32Array::from(&x[..]))
    }
}

/// `Dataset.fromSafetensors(bytes)`: your own test images. It returns a `Digits`, the class the
/// digit sets are, so the result is accepted wherever they are (no object of this class is made).
#[wasm_bindgen]
pub struct Dataset {
    _none: (),
}

#[wasm_bindgen]
impl Dataset {
    /// As `Digits.fromSafetensors`.
    #[wasm_bindgen(js_name = fromSafetensors)]
    pub fn from_safetensors(bytes: &[u8]) -> JsResult<Digits> {
        Digits::from_safetensors(bytes)
    }
}
