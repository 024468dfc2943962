//! The operations the page calls, in plain Rust types. `wasm.rs` only converts JS values to these
//! and back; native tests call them directly.

use crate::quant::analysis::{analyze, Analysis};
use crate::quant::calibrate::{calibrate, Method};
use crate::quant::params::params_for_ranges;
use crate::quant::{check_finite, AxisLayout, Dtype, Grid, QuantParams, Scheme};
use crate::{bail, Result};

/// Options shared by [`choose_quant_params`] and [`analyze_quantization`].
#[derive(Debug, Clone)]
pub struct QuantOptions {
    pub grid: Grid,
    pub method: Method,
    /// Shape of `x`; required for per-channel parameters.
    pub shape: Option<Vec<usize>>,
    /// Per-channel along this axis when given; per-tensor otherwise.
    pub axis: Option<i64>,
}

impl QuantOptions {
    pub fn new(dtype: Dtype, bits: u32, scheme: Scheme, method: Method) -> Result<Self> {
        Ok(QuantOptions { grid: Grid::new(dtype, bits, scheme)?, method, shape: None, axis: None })
    }

    fn layout(&self, len: usize) -> Result<Option<(usize, AxisLayout)>> {
        match (&self.shape, self.axis) {
            (_, None) => {
                if let Some(shape) = &self.shape {
                    let n = crate::quant::checked_numel(shape)?;
                    if n != len {
                        bail!("options.shape", "{shape:?} holds {n} elements but x has {len}");
                    }
                }
                Ok(None)
            }
            (None, Some(_)) => bail!("options.shape", "is required when options.axis is given"),
            (Some(shape), Some(axis)) => AxisLayout::new(shape, axis, len).map(Some),
        }
    }
}

/// Calibrates `x` with `opts.method` and returns `(s, z)` per tensor or per channel.
pub fn choose_quant_params(x: &[f32], opts: &QuantOptions) -> Result<(QuantParams, Option<AxisLayout>)> {
    check_finite(x, "x")?;
    if x.is_empty() {
        bail!("x", "is empty; there is nothing to calibrate");
    }
    let layout = opts.layout(x.len())?;
    let ranges = calibrate(x, layout.map(|(_, l)| l), opts.method, &opts.grid);
    let params = params_for_ranges(&opts.grid, &ranges, layout.map(|(a, _)| a))?;
    Ok((params, layout.map(|(_, l)| l)))
}

/// Analyses `x` under `params` if given, or under the parameters calibration chooses.
pub fn analyze_quantization(
    x: &[f32],
    opts: &QuantOptions,
    params: Option<QuantParams>,
    bins: usize,
    channel: usize,
) -> Result<Analysis> {
    if !(1..=4096).contains(&bins) {
        bail!("options.bins", "must be from 1 to 4096, found {bins}");
    }
    let (params, layout) = match params {
        None => choose_quant_params(x, opts)?,
        Some(mut p) => {
            check_finite(x, "x")?;
            p.validate(opts.grid.dtype)?;
            let (qmin, qmax) = opts.grid.qrange();
            if let Some((i, z)) = p.zero_point.iter().enumerate().find(|(_, &z)| z < qmin || z > qmax) {
                bail!("options.zeroPoint", "{z} at index {i} is outside the {}-bit grid [{qmin}, {qmax}]", opts.grid.bits);
            }
            let layout = if p.scale.len() > 1 || opts.axis.is_some() {
                let Some((a, l)) = opts.layout(x.len())? else {
                    bail!("options.axis", "is required with more than one scale");
                };
                if l.channels != p.scale.len() {
                    bail!("options.scale", "has {} elements but axis {a} has {} channels", p.scale.len(), l.channels);
                }
                p.axis = Some(a);
                Some(l)
            } else {
                opts.layout(x.len())?;
                None
            };
            (p, layout)
        }
    };
    Ok(analyze(x, &params, layout, &opts.grid, bins, channel))
}
