//! What the quantizer reads of the float model on calibration images: the histograms of every
//! tensor it quantizes, the equalized model, and the activation parameters chosen from them.

use super::*;

/// Histograms of every tensor the int8 model quantizes, collected by running the float model
/// on calibration images. Point 0 is the input; point i is the output of the i-th conv/linear
/// step (after its fused ReLU).
#[derive(Debug, Clone)]
pub struct Calibration {
    pub points: Vec<SymHistogram>,
    pub images: usize,
    /// The calibration images themselves: the techniques beyond round-to-nearest look at each
    /// layer's input (GPTQ, bias correction) or recalibrate an equalized model.
    x: Vec<f32>,
    stats: OnceLock<Vec<Option<LayerStats>>>,
    equalized: OnceLock<Box<Equalized>>,
    /// Clip ranges by point that replace the observer's (quantization-aware training's, as
    /// PyTorch's `convert` takes the fake-quantizers' state).
    pub ranges: Option<Vec<(f32, f32)>>,
}

/// The model after cross-layer equalization, calibrated on the same images.
#[derive(Debug, Clone)]
pub struct Equalized {
    pub model: Model,
    pub calibration: Calibration,
    pub pairs: Vec<EqualizedPair>,
}

impl Calibration {
    /// The calibration images (preprocessed, `images × input_len`).
    pub fn images_data(&self) -> &[f32] {
        &self.x
    }

    /// This calibration with every point's clip range fixed to `ranges` (point 0 the input).
    pub fn with_ranges(mut self, ranges: Vec<(f32, f32)>) -> Result<Calibration> {
        self.set_ranges(Some(ranges))?;
        Ok(self)
    }

    /// Fixes every point's clip range (`None`: back to the observer's). On an error nothing changes.
    pub fn set_ranges(&mut self, ranges: Option<Vec<(f32, f32)>>) -> Result<()> {
        if let Some(ranges) = &ranges {
            if ranges.len() != self.points.len() {
                bail!(
                    "ranges",
                    "has {} ranges for {} quantized tensors",
                    ranges.len(),
                    self.points.len()
                );
            }
            if let Some(i) = ranges
                .iter()
                .position(|r| !(r.0.is_finite() && r.1.is_finite() && r.0 <= r.1))
            {
                bail!(
                    "ranges",
                    "range {i} is {:?}; it must be finite with min <= max",
                    ranges[i]
                );
            }
        }
        self.ranges = ranges;
        Ok(())
    }

    /// The `(s, z)` of point `p` on `grid`: the fixed range when there is one, else the
    /// observer's on the histogram.
    pub fn act_params(&self, p: usize, method: Method, grid: &Grid) -> Result<ActParams> {
        match &self.ranges {
            Some(r) => ActParams::from_range(r[p], grid),
            None => ActParams::new(&self.points[p], method, grid),
        }
    }
    /// Per-layer input statistics of `model` on the calibration images (computed once).
    pub fn stats(&self, model: &Model) -> Result<&[Option<LayerStats>]> {
        if self.stats.get().is_none() {
            let st = ptq::layer_stats(model, &self.x, self.images)?;
            let _ = self.stats.set(st);
        }
        Ok(self.stats.get().expect("just set"))
    }

    /// `model` equalized and recalibrated (computed once).
    pub fn equalized(&self, model: &Model) -> Result<&Equalized> {
        if self.equalized.get().is_none() {
            let (m, pairs) = ptq::equalize(model)?;
            let calibration = calibrate(&m, &self.x, self.images)?;
            let _ = self.equalized.set(Box::new(Equalized {
                model: m,
                calibration,
                pairs,
            }));
        }
        Ok(self.equalized.get().expect("just set"))
    }
}

pub fn calibrate(model: &Model, x: &[f32], n: usize) -> Result<Calibration> {
    let net = Net::new(model)?;
    let inp = net.input_len;
    fp32::check_batch(x, n, inp)?;
    let npoints = 1 + net.steps.iter().filter(|s| s.is_point()).count();
    let mut points = vec![SymHistogram::default(); npoints];
    let mut sc = Fp32Scratch::default();
    let mut out = vec![0.0; net.output_len];
    let mut overflow = None;
    for i in 0..n {
        let img = &x[i * inp..][..inp];
        points[0].observe(img);
        net.run(
            table::fp32(),
            img,
            1,
            &mut sc,
            &mut out,
            &mut |p, act| {
                if overflow.is_none() && act.iter().any(|v| !v.is_finite()) {
                    overflow = Some(p);
                }
                points[p].observe(act)
            },
            None,
        );
        if let Some(p) = overflow {
            // Point p is the output of the p-th conv/linear step.
            let layer = net
                .steps
                .iter()
                .filter_map(|s| match s {
                    Step::Conv { layer, .. } | Step::Linear { layer, .. } => Some(*layer),
                    _ => None,
                })
                .nth(p - 1)
                .unwrap_or(0);
            bail!(
                format!("layer {layer} ({})", model.layers[layer].name()),
                "overflows float32 on calibration image {i} (its outputs reach ±inf or NaN); the weights are too large to quantize"
            );
        }
    }
    Ok(Calibration {
        points,
        images: n,
        x: x[..n * inp].to_vec(),
        stats: OnceLock::new(),
        equalized: OnceLock::new(),
        ranges: None,
    })
}
/// `(s, z)` of one activation tensor and its grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActParams {
    pub scale: f32,
    pub zero_point: i32,
    pub qmin: i32,
    pub qmax: i32,
    /// The calibrated clip range the parameters came from.
    pub range: (f32, f32),
}

impl ActParams {
    pub fn new(h: &SymHistogram, method: Method, grid: &Grid) -> Result<Self> {
        ActParams::from_range(range_from_histogram(h, method, grid), grid)
    }

    pub fn from_range(range: (f32, f32), grid: &Grid) -> Result<Self> {
        let (qmin, qmax) = grid.qrange();
        let (scale, zero_point) = compute_scale_zp(range.0, range.1, qmin, qmax, grid.symmetric())?;
        Ok(ActParams {
            scale,
            zero_point,
            qmin,
            qmax,
            range,
        })
    }
}
