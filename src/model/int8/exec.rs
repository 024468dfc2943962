//! The integer executor: int8 × int8 → int32, int32 bias, requantization, layer by layer.

use super::*;

/// Buffers of an int8 forward pass, kept across calls (the timing loop holds one).
#[derive(Default, Debug)]
pub struct QScratch {
    a: Vec<u8>,
    b: Vec<u8>,
    stage: Vec<u8>,
    wide: Vec<i16>,
    rows_a: Vec<u8>,
    rows_b: Vec<u8>,
    q_out: Vec<i8>,
    pub(super) fp32: Fp32Scratch,
    pub(super) dequantized: Vec<Vec<f32>>,
    /// Per-step times of a timed run: quantize input, one per step, dequantize output.
    pub step_ms: Vec<f64>,
}

impl QModel {
    /// The int8 GEMM entry the layers are packed for.
    pub fn kernel(&self) -> Int8Kernel {
        self.kernel
    }

    /// Packs every layer for `kernel` (the table entries differ in weight layout).
    pub fn repack(&mut self, kernel: Int8Kernel) {
        if kernel == self.kernel {
            return;
        }
        for s in &mut self.steps {
            if let QStep::Layer(l) = s {
                l.packed = l.pack(kernel);
            }
        }
        self.kernel = kernel;
    }

    /// Runs `op` on the image in `sc.a` (`len` values); leaves the result in `sc.a`.
    fn image_step(step: &QStep, len: usize, sc: &mut QScratch) -> usize {
        let QScratch {
            a, b, stage, wide, ..
        } = sc;
        match step {
            QStep::Layer(l) => {
                let w = &l.packed;
                let s = &l.shape;
                match &l.plan {
                    Some(plan) => {
                        let n = s.m * s.p();
                        let st = kernels::grow(stage, plan.input_buffer_len());
                        let o = kernels::grow(b, n);
                        k8::conv2d(plan, &a[..s.input_len()], l.x.zero_point, w, st, wide, o);
                        std::mem::swap(a, b);
                        n
                    }
                    None => {
                        // A linear layer on one row: pad the row to whole groups of 4.
                        let kc = k8::stride(s.c);
                        let a = kernels::grow(a, kc);
                        let o = kernels::grow(b, s.m);
                        k8::igemm(1, 1, kc, a, &l.rows[..1], w, wide, o);
                        std::mem::swap(&mut sc.a, &mut sc.b);
                        s.m
                    }
                }
            }
            QStep::Relu { len: n, zero_point } => {
                let z = (*zero_point + 128) as u8;
                a[..*n].iter_mut().for_each(|v| *v = (*v).max(z));
                *n
            }
            &QStep::MaxPool { c, h, w, k, stride } => {
                let n = c * kernels::pool_out(h, k, stride) * kernels::pool_out(w, k, stride);
                let o = kernels::grow(b, n);
                k8::maxpool(c, h, w, k, stride, &a[..c * h * w], o);
                std::mem::swap(a, b);
                n
            }
            QStep::AvgPool { shape, quant } => {
                let n = shape.output_len();
                let o = kernels::grow(b, n);
                kernels::avgpool_nhwc_i8(shape, quant, &a[..shape.input_len()], o);
                std::mem::swap(a, b);
                n
            }
            QStep::Flatten { transpose } => {
                if let Some([c, h, w]) = *transpose {
                    let o = kernels::grow(b, len);
                    kernels::nhwc_to_nchw(&a[..len], c, h, w, o);
                    std::mem::swap(a, b);
                }
                len
            }
        }
    }

    /// `n` images through the integer pipeline into `sc.q_out` (`n × outputs` int8 values).
    /// With a clock, leaves this call's time of each stage in `sc.step_ms` (quantize input, every step,
    /// dequantize output).
    pub fn run(&self, x: &[f32], n: usize, sc: &mut QScratch, clock: Option<&dyn Fn() -> f64>) {
        sc.step_ms.clear();
        sc.step_ms.resize(self.steps.len() + 2, 0.0);
        let i = self.input;
        let [c, h, w] = self.input_shape;
        let outp = self.output_len;
        kernels::grow(&mut sc.q_out, n * outp);
        let mut start = 0;
        while start < n {
            let nb = CHUNK.min(n - start);
            // (1) per image, up to the first linear layer.
            let mut row_len = 0;
            for img in 0..nb {
                let mut t = clock.map(|c| c());
                let xi = &x[(start + img) * self.input_len..][..self.input_len];
                let tmp = kernels::grow(&mut sc.b, self.input_len);
                k8::quantize_u8(xi, i.scale, i.zero_point, i.qmin, i.qmax, tmp);
                let a = kernels::grow(&mut sc.a, self.input_len);
                if c == 1 {
                    a.copy_from_slice(tmp);
                } else {
                    kernels::nchw_to_nhwc(tmp, c, h, w, a);
                }
                lap(clock, &mut t, &mut sc.step_ms[0]);
                let mut len = self.input_len;
                for (k, step) in self.steps[..self.split].iter().enumerate() {
                    len = Self::image_step(step, len, sc);
                    lap(clock, &mut t, &mut sc.step_ms[k + 1]);
                }
                row_len = len;
                // Rows are contiguous; 4 bytes of slack let the last row be read in groups of 4.
                let rows = kernels::grow(&mut sc.rows_a, nb * len + 4);
                rows[img * len..][..len].copy_from_slice(&sc.a[..len]);
            }
            // (2) the rest per chunk: linear layers as one GEMM over the chunk's images.
            let mut len = row_len;
            for (k, step) in self.steps.iter().enumerate().skip(self.split) {
                let mut t = clock.map(|c| c());
                match step {
                    QStep::Layer(l) if l.is_linear => {
                        let w = &l.packed;
                        let (n_in, n_out) = (l.shape.c, l.shape.m);
                        let kc = k8::stride(n_in);
                        let o = kernels::grow(&mut sc.rows_b, nb * n_out + 4);
                        k8::igemm(
                            nb,
                            1,
                            kc,
                            &sc.rows_a[..(nb - 1) * n_in + kc],
                            &l.rows,
                            w,
                            &mut sc.wide,
                            o,
                        );
                        std::mem::swap(&mut sc.rows_a, &mut sc.rows_b);
                        len = n_out;
                    }
                    QStep::Relu { len: l, zero_point } => {
                        let z = (*zero_point + 128) as u8;
                        sc.rows_a[..nb * l]
                            .iter_mut()
                            .for_each(|v| *v = (*v).max(z));
                    }
                    _ => {
                        // Any other step after a linear layer: one row at a time.
                        let mut next = vec![];
                        for r in 0..nb {
                            let row = sc.rows_a[r * len..][..len].to_vec();
                            kernels::grow(&mut sc.a, len).copy_from_slice(&row);
                            let l = Self::image_step(step, len, sc);
                            next.extend_from_slice(&sc.a[..l]);
                        }
                        len = next.len() / nb;
                        next.extend_from_slice(&[0; 4]);
                        sc.rows_a = next;
                    }
                }
                lap(clock, &mut t, &mut sc.step_ms[k + 1]);
            }
            for (d, &u) in sc.q_out[start * outp..][..nb * outp]
                .iter_mut()
                .zip(&sc.rows_a[..nb * len])
            {
                *d = (u ^ 0x80) as i8;
            }
            start += nb;
        }
    }

    /// True INT8 forward of a batch; the int8 outputs dequantized to float.
    pub fn forward(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        fp32::check_batch(x, n, self.input_len)?;
        let mut out = vec![0.0; n * self.output_len];
        let mut sc = QScratch::default();
        self.forward_into(x, n, &mut sc, &mut out);
        Ok(out)
    }

    /// As `forward`, with caller-held buffers (the timing loop).
    pub fn forward_into(&self, x: &[f32], n: usize, sc: &mut QScratch, out: &mut [f32]) {
        self.forward_timed(x, n, sc, out, None);
    }

    /// As `forward_into`; a clock leaves the time of each stage in `sc.step_ms`.
    pub fn forward_timed(
        &self,
        x: &[f32],
        n: usize,
        sc: &mut QScratch,
        out: &mut [f32],
        clock: Option<&dyn Fn() -> f64>,
    ) {
        if self.qdq.is_some() {
            // The QDQ graph has no integer stages to time (model::timing times it whole).
            self.forward_qdq_into(x, n, sc, out);
            return;
        }
        self.run(x, n, sc, clock);
        let t = clock.map(|c| c());
        let o = self.output;
        for (d, &q) in out[..n * self.output_len].iter_mut().zip(&sc.q_out) {
            *d = dequantize_value(q as i32, o.scale, o.zero_point);
        }
        if let (Some(c), Some(t0)) = (clock, t) {
            let last = sc.step_ms.len() - 1;
            sc.step_ms[last] += c() - t0;
        }
    }

    /// The int8 outputs themselves (for bit-exact comparisons).
    pub fn forward_int8(&self, x: &[f32], n: usize) -> Result<Vec<i8>> {
        fp32::check_batch(x, n, self.input_len)?;
        let mut sc = QScratch::default();
        if self.qdq.is_some() {
            let mut out = vec![0.0; n * self.output_len];
            self.forward_qdq_into(x, n, &mut sc, &mut out);
            let o = self.output;
            return Ok(out
                .iter()
                .map(|&v| quantize_value(v, o.scale, o.zero_point, o.qmin, o.qmax) as i8)
                .collect());
        }
        self.run(x, n, &mut sc, None);
        sc.q_out.truncate(n * self.output_len);
        Ok(sc.q_out)
    }

    /// Names of the timed stages of `run`: the input, every step, the output.
    pub fn step_labels(&self) -> Vec<String> {
        let mut v = vec!["quantize input".to_string()];
        for s in &self.steps {
            v.push(match s {
                QStep::Layer(l) => l.name.clone(),
                QStep::Relu { .. } => "relu".into(),
                QStep::MaxPool { .. } => "maxpool".into(),
                QStep::AvgPool { shape, .. } if shape.is_global() => "global avgpool".into(),
                QStep::AvgPool { .. } => "avgpool".into(),
                QStep::Flatten { .. } => "flatten".into(),
            });
        }
        v.push("dequantize output".into());
        v
    }

    /// The int8 entry each step of `step_labels` ran: a layer's packed kernel (the entry in use,
    /// or `dot16` where `usdot7` cannot hold its weights), None for the others.
    pub fn step_kernels(&self) -> Vec<Option<&'static str>> {
        let mut v = vec![None];
        v.extend(self.steps.iter().map(|s| match s {
            QStep::Layer(l) => Some(crate::kernels::Entry::entry(l.packed.kernel)),
            _ => None,
        }));
        v.push(None);
        v
    }
}
