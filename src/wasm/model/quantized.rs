//! The quantized model handle: forward passes, the evaluation's kept logits, timing.

use super::*;

/// An integer-only INT8 model (and the course module's simulated path, for comparison).
#[wasm_bindgen]
pub struct QuantizedModel {
    pub(crate) inner: QModel,
    /// Quantized logits of the first digits of one set along one path, kept by `evaluate` so a
    /// longer prefix computes only the digits it adds.
    pub(super) kept: KeptLogits,
}

impl QuantizedModel {
    /// Repacks the weights when `useKernels` chose another int8 entry since they were packed.
    pub(super) fn ready(&mut self) {
        self.inner.repack(crate::kernels::table::int8());
    }
}

#[wasm_bindgen]
impl QuantizedModel {
    /// True INT8 forward: int8 × int8 → int32, requantized between layers; returns the
    /// dequantized outputs (`n × outputs`).
    pub fn forward(&mut self, x: &[f32], n: usize) -> JsResult<Float32Array> {
        self.ready();
        Ok(Float32Array::from(&self.inner.forward(x, n)?[..]))
    }
    /// Adds to what `Model.evaluate` keeps for this model the logits of the next digits of
    /// `digits` along `mode`, computed elsewhere by an identical copy of this model (same file,
    /// calibration, config and build: the integer path is bit-exact, so its logits are these
    /// ones): the lab's helper worker computes the second half of an evaluation while the lab's
    /// worker does the first. `logits`: `k × outputs` for digits `[from, from + k)`, where `from`
    /// must be the number of digits already evaluated, so a late or repeated part is refused
    /// instead of misplaced. Returns how many digits are evaluated now.
    #[wasm_bindgen(js_name = addEvalLogits)]
    pub fn add_eval_logits(
        &mut self,
        digits: &Digits,
        mode: Option<String>,
        from: usize,
        logits: &[f32],
    ) -> JsResult<usize> {
        let path = eval::Path::parse(mode.as_deref())?;
        let classes = self.inner.output_len;
        Ok(add_logits(
            &mut self.kept,
            digits.set(),
            path,
            classes,
            from,
            logits,
        )?)
    }
    /// The raw int8 outputs of the integer pipeline.
    #[wasm_bindgen(js_name = forwardInt8)]
    pub fn forward_int8(&mut self, x: &[f32], n: usize) -> JsResult<Int8Array> {
        self.ready();
        let v = self.inner.forward_int8(x, n)?;
        Ok(Int8Array::from(&v[..]))
    }
    /// The course module's "simulated" INT8: weights dequantized to float on every call, float
    /// conv, float activations. Never faster than FP32; here to show why.
    #[wasm_bindgen(js_name = forwardSimulated)]
    pub fn forward_simulated(&self, x: &[f32], n: usize) -> JsResult<Float32Array> {
        Ok(Float32Array::from(&self.inner.forward_simulated(x, n)?[..]))
    }
    /// Times the true INT8 (`mode` "int8", default) or simulated forward pass inside the
    /// module, as `Model.timeForward`; the int8 breakdown has the input quantization, every
    /// step and the output dequantization.
    #[wasm_bindgen(js_name = timeForward)]
    pub fn time_forward(
        &mut self,
        x: &[f32],
        n: usize,
        samples: usize,
        reps: usize,
        profile_runs: Option<usize>,
        mode: Option<String>,
    ) -> JsResult<JsValue> {
        self.ready();
        let path = eval::Path::parse(mode.as_deref())?;
        fp32::check_batch(x, n, self.inner.input_len)?;
        let r = Request {
            x,
            n,
            samples,
            reps,
            profile_runs: profile_runs.unwrap_or(0),
        };
        let t = super::super::timing::time_quantized(&self.inner, path, &r)?;
        Ok(serde_wasm_bindgen::to_value(&t)?)
    }
    /// How the model runs: "integer" (int8 × int8 → int32 throughout) or "qdq" (group-wise or
    /// dynamic: the QDQ graph in float, as onnxruntime's CPU provider runs one it cannot fuse).
    #[wasm_bindgen(getter)]
    pub fn deployed(&self) -> String {
        match self.inner.deployed() {
            qm::Deployed::Integer => "integer",
            qm::Deployed::Qdq => "qdq",
        }
        .into()
    }
    /// Cross-layer equalization's per-channel weight ranges before and after, and the scales, for
    /// each pair of layers it rescaled (empty unless `equalize` was set).
    #[wasm_bindgen(getter)]
    pub fn equalization(&self) -> JsResult<JsValue> {
        Ok(serde_wasm_bindgen::to_value(&self.inner.equalized)?)
    }
    /// The int8 GEMM entry this model's weights are packed for.
    #[wasm_bindgen(getter)]
    pub fn kernel(&self) -> String {
        crate::kernels::Entry::name(self.inner.kernel()).to_string()
    }
    /// The weight views of layer `layer` (its index in the model's layers) and output channel
    /// `channel`, from this model's own integers and scales (model::weights::weight_view):
    /// `{ layer, layerName, bits, perChannel, group, groups, channel, a, view }`, `a` and `view`
    /// as `analyzeQuantization` returns them. `model`: the model this one was quantized from.
    #[wasm_bindgen(js_name = weightView)]
    pub fn weight_view(
        &self,
        model: &Model,
        layer: usize,
        channel: usize,
        bins: Option<usize>,
    ) -> JsResult<JsValue> {
        let cal = model.calibration()?;
        let v = crate::model::weights::weight_view(
            &model.inner,
            cal,
            &self.inner,
            layer,
            channel,
            bins,
        )?;
        Ok(serde_wasm_bindgen::to_value(&v)?)
    }
    /// Output scale and zero point and the input's, `{ input: {scale, zeroPoint}, output: {...} }`.
    pub fn io(&self) -> JsResult<Object> {
        let out = Object::new();
        for (k, p) in [("input", self.inner.input), ("output", self.inner.output)] {
            let o = Object::new();
            set(&o, "scale", &p.scale.into())?;
            set(&o, "zeroPoint", &p.zero_point.into())?;
            set(&out, k, &o)?;
        }
        Ok(out)
    }
}
