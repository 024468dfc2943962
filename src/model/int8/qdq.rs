//! The float executors of a quantized model: the QDQ graph (as onnxruntime runs one it cannot
//! fuse) and the course module's simulated path (weights dequantized, float activations).

use super::*;

impl QModel {
    /// The course module's simulated path: dequantize every weight back to float (each call),
    /// then run the float model. Activations stay float.
    pub fn forward_simulated(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        fp32::check_batch(x, n, self.input_len)?;
        let mut out = vec![0.0; n * self.output_len];
        let mut sc = QScratch::default();
        self.forward_simulated_into(x, n, &mut sc, &mut out);
        Ok(out)
    }

    pub fn forward_simulated_into(&self, x: &[f32], n: usize, sc: &mut QScratch, out: &mut [f32]) {
        let nl = self.fp32_bias.len();
        sc.dequantized.resize(nl, vec![]);
        for step in &self.steps {
            if let QStep::Layer(l) = step {
                let per = l.shape.taps();
                let d = &mut sc.dequantized[l.layer];
                d.clear();
                if self.config.skip.contains(&l.layer) {
                    d.extend_from_slice(&self.fp32_skipped[l.layer]);
                    continue;
                }
                // Dequantized on every call, as the course module does.
                d.extend(
                    l.w_q.iter().enumerate().map(|(i, &q)| {
                        dequantize_value(q as i32, l.scales.at(i / per, i % per), 0)
                    }),
                );
            }
        }
        // A quantized layer runs its (bias-corrected) float bias; a layer kept in float its own.
        let mut bias: Vec<&[f32]> = self.fp32_bias.iter().map(|b| &b[..]).collect();
        for l in self
            .layers()
            .filter(|l| !self.config.skip.contains(&l.layer))
        {
            bias[l.layer] = &l.bias_f;
        }
        let weights: Weights = (0..nl).map(|i| (&sc.dequantized[i][..], bias[i])).collect();
        // Packing the dequantized weights is part of the path's cost, as in the course module.
        let net = Net::build(
            self.fp32_steps.clone(),
            &weights,
            self.input_shape,
            self.output_len,
        );
        net.forward(x, n, &mut sc.fp32, out);
    }

    /// How this model runs: integer-only, or as a QDQ graph (group-wise, dynamic).
    pub fn deployed(&self) -> Deployed {
        self.config.deployed()
    }

    /// The QDQ graph in float: weights dequantized (any granularity), every activation through
    /// QuantizeLinear → DequantizeLinear with its calibrated parameters, or, dynamic, with
    /// parameters from the tensor itself per image (the logits then stay float, as MatMulInteger's
    /// float output does).
    pub fn forward_qdq_into(&self, x: &[f32], n: usize, sc: &mut QScratch, out: &mut [f32]) {
        let net = self
            .qdq
            .as_ref()
            .expect("a QDQ-deployed model holds its float net");
        let inp = self.input_len;
        let mut xin = x[..n * inp].to_vec();
        let dynamic = self.config.dynamic;
        let format = self.config.format;
        let i = self.input;
        for img in xin.chunks_mut(inp) {
            if let Some(f) = format {
                f.round_all(img);
            } else if dynamic {
                dynamic_fake_quant(img, self.config.act_bits);
            } else {
                fake_quant(img, i.scale, i.zero_point, i.qmin, i.qmax);
            }
        }
        let layers: Vec<&QLayer> = self.layers().collect();
        let last = layers.len();
        net.run(
            table::fp32(),
            &xin,
            n,
            &mut sc.fp32,
            out,
            &mut |p, act| {
                let l = layers[p - 1];
                if let Some(f) = format {
                    f.round_all(act);
                } else if dynamic {
                    if p < last {
                        // One image's tensor, or one row per image after the first linear layer.
                        let per = if l.is_linear { l.shape.m } else { act.len() };
                        act.chunks_mut(per)
                            .for_each(|r| dynamic_fake_quant(r, l.act_bits));
                    }
                } else {
                    let y = l.y;
                    fake_quant(act, y.scale, y.zero_point, y.qmin, y.qmax);
                }
            },
            None,
        );
    }
}
