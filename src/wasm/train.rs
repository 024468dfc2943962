//! Quantization-aware training from JS: a handle that trains in slices (`run(k)`), so the
//! worker can report progress and be cancelled between them.

use super::convert::*;
use super::model::{quant_config, wrap, Digits, JsResult, Model};
use crate::model::int8 as qm;
use crate::train::qat::{self, QatOptions};
use crate::{Error, Result};
use wasm_bindgen::prelude::*;

/// `new Qat(model, train, config, options)`: fine-tuning of `model` (calibrated) for the grids
/// of `config` (as `Model.quantize` takes it) on the digit set `train`. `options`:
/// `{ steps, batch, lr, seed, shift, learnScales, observeEvery, freezeAt }`, all optional.
#[wasm_bindgen]
pub struct Qat {
    inner: qat::Qat,
}

fn options(v: &JsValue) -> Result<QatOptions> {
    let o = Opts::named(
        v,
        &[
            "steps",
            "batch",
            "lr",
            "seed",
            "shift",
            "learnScales",
            "observeEvery",
            "freezeAt",
        ],
        "options",
    )?;
    let d = QatOptions::default();
    let count =
        |key: &str, dflt: usize| -> Result<usize> { Ok(o.u32(key)?.map_or(dflt, |v| v as usize)) };
    let learn = match o.get("learnScales")? {
        None => d.learn_scales,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| Error::new("options.learnScales", "must be true or false"))?,
    };
    let opts = QatOptions {
        steps: count("steps", d.steps)?,
        batch: count("batch", d.batch)?,
        lr: o.f64("lr")?.map_or(d.lr, |v| v as f32),
        seed: o.i64("seed")?.map_or(d.seed, |v| v as u64),
        shift: count("shift", d.shift)?,
        observe_every: count("observeEvery", d.observe_every)?,
        freeze_at: o.f64("freezeAt")?.map_or(d.freeze_at, |v| v as f32),
        learn_scales: learn,
    };
    opts.validate()
        .map_err(|e| Error::new(format!("options.{}", e.subject), e.message))?;
    Ok(opts)
}

#[wasm_bindgen]
impl Qat {
    #[wasm_bindgen(constructor)]
    pub fn new(model: &Model, train: &Digits, config: JsValue, opts: JsValue) -> JsResult<Qat> {
        let cal = model.calibration()?;
        let config = quant_config(&config)?;
        let opts = options(&opts)?;
        Ok(Qat {
            inner: qat::Qat::new(
                &model.inner,
                &config,
                &train.inner,
                cal.images_data(),
                cal.images,
                opts,
            )?,
        })
    }
    /// Up to `k` more steps: `{ step, steps, loss, trainAccuracy, done }` (loss and accuracy
    /// over these steps' batches, on the fake-quantized model).
    pub fn run(&mut self, k: usize) -> JsResult<JsValue> {
        let st = self.inner.run(k)?;
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct P {
            step: usize,
            steps: usize,
            loss: f64,
            train_accuracy: f64,
            done: bool,
        }
        Ok(serde_wasm_bindgen::to_value(&P {
            step: self.inner.step,
            steps: self.inner.options.steps,
            loss: st.loss,
            train_accuracy: if st.n > 0 {
                100.0 * st.correct as f64 / st.n as f64
            } else {
                0.0
            },
            done: self.inner.done(),
        })?)
    }
    #[wasm_bindgen(getter)]
    pub fn step(&self) -> usize {
        self.inner.step
    }
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> usize {
        self.inner.options.steps
    }
    /// The fine-tuned float model, calibrated on the same images with the activation ranges
    /// the last steps trained against: `quantize` on it builds the integer model QAT trained for.
    pub fn model(&self) -> JsResult<Model> {
        Ok(self.model_inner()?)
    }
    /// Where layer `layer`'s float weights sit on its integer grid, before and after fine-tuning:
    /// `{ layer, name, qmax, before: { lo, hi, counts, nearFraction }, after: {...}, levelsChanged }`.
    #[wasm_bindgen(js_name = weightGrid)]
    pub fn weight_grid(&self, layer: usize, bins_per_step: Option<usize>) -> JsResult<JsValue> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct G {
            layer: usize,
            name: String,
            qmax: i32,
            before: H,
            after: H,
            /// Of the integer weights, the fraction fine-tuning moved to another level.
            levels_changed: f64,
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct H {
            lo: f32,
            hi: f32,
            counts: Vec<u32>,
            near_fraction: f64,
        }
        let per = bins_per_step.unwrap_or(8);
        let (c, i) = (&self.inner.config, &self.inner);
        let h = |m| -> Result<H> {
            let g = qat::grid_histogram(m, c, layer, per)?;
            Ok(H {
                lo: g.lo,
                hi: g.hi,
                counts: g.counts,
                near_fraction: g.near_fraction,
            })
        };
        let before = h(&i.initial)?;
        let after = h(&i.model)?;
        Ok(serde_wasm_bindgen::to_value(&G {
            layer,
            name: i.model.layers[layer].name().to_string(),
            qmax: ((before.counts.len() / per) as i32 - 1) / 2,
            before,
            after,
            levels_changed: qat::levels_changed(&i.initial, &i.model, c, layer)?,
        })?)
    }
    /// `[min, max]` of every quantized tensor (0: the input), as trained.
    pub fn ranges(&self) -> JsResult<JsValue> {
        let r: Vec<[f32; 2]> = self.inner.ranges().iter().map(|r| [r.0, r.1]).collect();
        Ok(serde_wasm_bindgen::to_value(&r)?)
    }
}

impl Qat {
    fn model_inner(&self) -> Result<Model> {
        let m = &self.inner.model;
        let cal_x = self.inner.calibration_images();
        let cal = qm::calibrate(m, cal_x.0, cal_x.1)?.with_ranges(self.inner.ranges())?;
        let mut h = wrap(m.clone())?;
        h.calibration = Some(cal);
        Ok(h)
    }
}
