//! The operations the page calls, in plain Rust types. `wasm/` only converts JS values to these
//! and back; native tests call them directly.

use crate::quant::analysis::{analyze, Analysis};
use crate::quant::calibrate::{calibrate, Method};
use crate::quant::layout::{Layout, Spec};
use crate::quant::params::params_for_ranges;
use crate::quant::{check_finite, Dtype, Grid, QuantParams, Scheme};
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
    /// Blocked (group-wise) along `axis`: one parameter per `block_size` indices.
    pub block_size: Option<usize>,
}

impl QuantOptions {
    pub fn new(dtype: Dtype, bits: u32, scheme: Scheme, method: Method) -> Result<Self> {
        Ok(QuantOptions {
            grid: Grid::new(dtype, bits, scheme)?,
            method,
            shape: None,
            axis: None,
            block_size: None,
        })
    }

    /// The layout for `len` values and, when given, `params` scales.
    fn layout(&self, len: usize, params: Option<usize>) -> Result<Layout> {
        Layout::resolve(
            len,
            Spec {
                shape: self.shape.as_deref(),
                axis: self.axis,
                block_size: self.block_size,
                params,
                default_axis: None,
                prefix: "options.",
            },
        )
    }
}

/// Calibrates `x` with `opts.method` and returns `(s, z)` per tensor, per channel or per block.
pub fn choose_quant_params(x: &[f32], opts: &QuantOptions) -> Result<(QuantParams, Layout)> {
    check_finite(x, "x")?;
    if x.is_empty() {
        bail!("x", "is empty; there is nothing to calibrate");
    }
    let layout = opts.layout(x.len(), None)?;
    let ranges = calibrate(x, &layout, opts.method, &opts.grid);
    let params = params_for_ranges(&opts.grid, &ranges, layout.axis_index())?;
    Ok((params, layout))
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
            if let Some((i, z)) = p
                .zero_point
                .iter()
                .enumerate()
                .find(|(_, &z)| z < qmin || z > qmax)
            {
                bail!(
                    "options.zeroPoint",
                    "{z} at index {i} is outside the {}-bit grid [{qmin}, {qmax}]",
                    opts.grid.bits
                );
            }
            let layout = opts.layout(x.len(), Some(p.scale.len()))?;
            p.axis = layout.axis_index();
            (p, layout)
        }
    };
    Ok(analyze(x, &params, &layout, &opts.grid, bins, channel))
}

/// Arguments of [`qlinear_conv`], in ONNX QLinearConv's order (NCHW, group 1, stride 1,
/// dilation 1).
#[derive(Debug, Clone)]
pub struct QLinearConvArgs<'a> {
    pub x: &'a [i32],
    pub x_shape: &'a [usize],
    pub x_dtype: Dtype,
    pub x_scale: f32,
    pub x_zero_point: i32,
    pub w: &'a [i32],
    pub w_shape: &'a [usize],
    pub w_scale: &'a [f32],
    pub w_zero_point: &'a [i32],
    pub y_scale: f32,
    pub y_zero_point: i32,
    pub bias: Option<&'a [i32]>,
    /// ONNX's `pads`: `[top, left, bottom, right]`, filled with the input's zero point.
    pub pads: [usize; 4],
    /// ONNX's `strides` (the same along both axes here, as the model's convs).
    pub stride: usize,
}

/// Output of the integer ops: `y` (saturated to the input's dtype), the exact int32
/// accumulators before requantization, and the output shape.
#[derive(Debug, Clone, PartialEq)]
pub struct QLinearOutput {
    pub y: Vec<i32>,
    pub acc: Vec<i32>,
    pub shape: Vec<usize>,
}

fn check_ints(v: &[i32], dtype: Dtype, subject: &str) -> Result<()> {
    let (lo, hi) = dtype.range();
    if let Some(i) = v.iter().position(|&q| q < lo || q > hi) {
        bail!(
            subject,
            "value {} at index {i} is outside the {} range [{lo}, {hi}]",
            v[i],
            dtype.name()
        );
    }
    Ok(())
}

/// Per-channel scales (or one broadcast) and zero points for `m` channels.
fn channel_params(
    scale: &[f32],
    zp: &[i32],
    m: usize,
    dtype: Dtype,
    s_name: &str,
    z_name: &str,
) -> Result<(Vec<f32>, Vec<i32>)> {
    if scale.len() != 1 && scale.len() != m {
        bail!(
            s_name,
            "has {} elements; give 1 (per tensor) or {m} (one per output channel)",
            scale.len()
        );
    }
    if zp.len() != scale.len() {
        bail!(
            z_name,
            "has {} elements but {s_name} has {}",
            zp.len(),
            scale.len()
        );
    }
    QuantParams {
        scale: scale.to_vec(),
        zero_point: zp.to_vec(),
        axis: None,
    }
    .validate(dtype)
    .map_err(|e| {
        crate::Error::new(
            if e.subject == "scale" { s_name } else { z_name },
            e.message,
        )
    })?;
    let s = if scale.len() == 1 {
        vec![scale[0]; m]
    } else {
        scale.to_vec()
    };
    let z = if zp.len() == 1 {
        vec![zp[0]; m]
    } else {
        zp.to_vec()
    };
    Ok((s, z))
}

fn check_scale(s: f32, name: &str) -> Result<()> {
    if !(s.is_finite() && s > 0.0) {
        bail!(name, "must be finite and > 0, found {s}");
    }
    Ok(())
}

/// ONNX QLinearConv: `y = saturate(rint(acc · M[m]) + z_y)`, `acc` exact in int32 (see
/// `kernels::reference`). Weights are int8.
pub fn qlinear_conv(a: &QLinearConvArgs) -> Result<QLinearOutput> {
    use crate::kernels::reference::{conv2d_acc_i32, multiplier, requantize};
    let &[n, c, h, w] = a.x_shape else {
        bail!("x.shape", "must be [N, C, H, W], found {:?}", a.x_shape)
    };
    let &[m, wc, kh, kw] = a.w_shape else {
        bail!("w.shape", "must be [M, C, kH, kW], found {:?}", a.w_shape)
    };
    if wc != c {
        bail!(
            "w.shape",
            "{:?} has {wc} input channels but x has {c}",
            a.w_shape
        );
    }
    if kh != kw || kh == 0 {
        bail!(
            "w.shape",
            "{:?}: only square kernels are supported",
            a.w_shape
        );
    }
    let numel = |s: &[usize]| crate::quant::checked_numel(s);
    if numel(a.x_shape)? != a.x.len() {
        bail!(
            "x",
            "has {} values but shape {:?} needs {}",
            a.x.len(),
            a.x_shape,
            numel(a.x_shape)?
        );
    }
    if numel(a.w_shape)? != a.w.len() {
        bail!(
            "w",
            "has {} values but shape {:?} needs {}",
            a.w.len(),
            a.w_shape,
            numel(a.w_shape)?
        );
    }
    if a.stride == 0 {
        bail!("strides", "must be at least 1");
    }
    let [top, left, bottom, right] = a.pads;
    let (ph, pw) = (h + top + bottom, w + left + right);
    if ph < kh || pw < kw {
        bail!(
            "w.shape",
            "kernel {kh}x{kw} is larger than the padded input {ph}x{pw}"
        );
    }
    check_ints(a.x, a.x_dtype, "x")?;
    check_ints(a.w, Dtype::Int8, "w")?;
    check_scale(a.x_scale, "xScale")?;
    check_scale(a.y_scale, "yScale")?;
    let (lo, hi) = a.x_dtype.range();
    if !(lo..=hi).contains(&a.x_zero_point) {
        bail!(
            "xZeroPoint",
            "{} is outside the {} range",
            a.x_zero_point,
            a.x_dtype.name()
        );
    }
    if !(lo..=hi).contains(&a.y_zero_point) {
        bail!(
            "yZeroPoint",
            "{} is outside the {} range",
            a.y_zero_point,
            a.x_dtype.name()
        );
    }
    let (ws, wz) = channel_params(
        a.w_scale,
        a.w_zero_point,
        m,
        Dtype::Int8,
        "wScale",
        "wZeroPoint",
    )?;
    let zero = vec![0; m];
    let bias = match a.bias {
        Some(b) if b.len() != m => bail!(
            "bias",
            "has {} values; expected {m} (one per output channel)",
            b.len()
        ),
        Some(b) => b,
        None => &zero,
    };
    // Any pads, equal or not: the image padded with z_x (real zero), then a conv without padding.
    let s = crate::kernels::ConvShape {
        c,
        h: ph,
        w: pw,
        m,
        k: kh,
        pad: 0,
        stride: a.stride,
    };
    let mut padded = vec![a.x_zero_point; n * c * ph * pw];
    for (img, out) in a.x.chunks(h * w).zip(padded.chunks_mut(ph * pw)) {
        for (r, row) in img.chunks(w).enumerate() {
            out[(r + top) * pw + left..][..w].copy_from_slice(row);
        }
    }
    let (per_in, per_out) = (c * ph * pw, m * s.p());
    let mut acc = vec![0; n * per_out];
    for i in 0..n {
        conv2d_acc_i32(
            &s,
            &padded[i * per_in..][..per_in],
            a.x_zero_point,
            a.w,
            &wz,
            bias,
            &mut acc[i * per_out..][..per_out],
        );
    }
    let mult: Vec<f32> = ws
        .iter()
        .map(|&sw| multiplier(a.x_scale, sw, a.y_scale))
        .collect();
    let y = acc
        .iter()
        .enumerate()
        .map(|(i, &v)| requantize(v, mult[(i / s.p()) % m], a.y_zero_point, lo, hi))
        .collect();
    Ok(QLinearOutput {
        y,
        acc,
        shape: vec![n, m, s.out_h(), s.out_w()],
    })
}

/// Arguments of [`qlinear_matmul`], in ONNX QLinearMatMul's order: `a [..., N, K]` (or `[K]`),
/// `b [..., K, M]` (or `[K]`), batch axes broadcast as numpy's matmul.
#[derive(Debug, Clone)]
pub struct QLinearMatMulArgs<'a> {
    pub a: &'a [i32],
    pub a_shape: &'a [usize],
    pub a_dtype: Dtype,
    pub a_scale: f32,
    pub a_zero_point: i32,
    pub b: &'a [i32],
    pub b_shape: &'a [usize],
    pub b_scale: &'a [f32],
    pub b_zero_point: &'a [i32],
    pub y_scale: f32,
    pub y_zero_point: i32,
}

/// A batched MatMul's geometry, as numpy (and ONNX MatMul) define it:
///
/// ```text
/// a [K] -> [1, K] and b [K] -> [K, 1], the added axis dropped from y
/// a [a_1 .. a_p, N, K] x b [b_1 .. b_q, K, M] -> y [broadcast(a_1.., b_1..), N, M]
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MatMulShape {
    pub n: usize,
    pub k: usize,
    pub m: usize,
    /// For every batch of `y`, in order: the index of the `[N, K]` matrix of `a` and of the
    /// `[K, M]` matrix of `b` it reads.
    pub pairs: Vec<(usize, usize)>,
    pub y_shape: Vec<usize>,
}

impl MatMulShape {
    pub fn new(a: &[usize], b: &[usize]) -> Result<MatMulShape> {
        if a.is_empty() || b.is_empty() {
            bail!(
                "a.shape",
                "and b.shape need at least one axis, found {a:?} and {b:?}"
            );
        }
        let (a2, b2) = (
            if a.len() == 1 {
                vec![1, a[0]]
            } else {
                a.to_vec()
            },
            if b.len() == 1 {
                vec![b[0], 1]
            } else {
                b.to_vec()
            },
        );
        let (n, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
        let (kb, m) = (b2[b2.len() - 2], b2[b2.len() - 1]);
        if kb != k {
            bail!("b.shape", "{b:?} has {kb} rows but a {a:?} has {k} columns");
        }
        let (ba, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
        let rank = ba.len().max(bb.len());
        let pad = |s: &[usize]| -> Vec<usize> {
            std::iter::repeat_n(1, rank - s.len())
                .chain(s.iter().copied())
                .collect()
        };
        let (pa, pb) = (pad(ba), pad(bb));
        let mut batch = Vec::with_capacity(rank);
        for (i, (&x, &y)) in pa.iter().zip(&pb).enumerate() {
            batch.push(match (x, y) {
                _ if x == y => x,
                (1, _) => y,
                (_, 1) => x,
                _ => bail!(
                    "b.shape",
                    "batch axis {i} of {b:?} ({y}) does not broadcast with a {a:?} ({x})"
                ),
            });
        }
        // The batch index of each operand's matrices, broadcast to y's batch axes.
        // Both are padded to the batch rank and each axis is 1 or the batch's, checked above.
        let index = |p: &[usize]| -> Vec<usize> {
            let count: usize = p.iter().product();
            let ids = ndarray::ArrayD::from_shape_vec(p.to_vec(), (0..count).collect())
                .expect("one index per matrix");
            let view = ids.broadcast(batch.clone()).expect("axes checked above");
            view.iter().copied().collect()
        };
        let pairs = index(&pa).into_iter().zip(index(&pb)).collect();
        let mut y_shape = batch;
        if a.len() > 1 {
            y_shape.push(n);
        }
        if b.len() > 1 {
            y_shape.push(m);
        }
        Ok(MatMulShape {
            n,
            k,
            m,
            pairs,
            y_shape,
        })
    }
}

/// ONNX QLinearMatMul with int8 `b` (per tensor or per column), batched with numpy's
/// broadcasting.
pub fn qlinear_matmul(a: &QLinearMatMulArgs) -> Result<QLinearOutput> {
    use crate::kernels::reference::{matmul_acc_i32, multiplier, requantize};
    let g = MatMulShape::new(a.a_shape, a.b_shape)?;
    let (n, k, m) = (g.n, g.k, g.m);
    let numel = |s: &[usize]| crate::quant::checked_numel(s);
    let (na, nb) = (numel(a.a_shape)?, numel(a.b_shape)?);
    if a.a.len() != na {
        bail!(
            "a",
            "has {} values but shape {:?} needs {na}",
            a.a.len(),
            a.a_shape
        );
    }
    if a.b.len() != nb {
        bail!(
            "b",
            "has {} values but shape {:?} needs {nb}",
            a.b.len(),
            a.b_shape
        );
    }
    check_ints(a.a, a.a_dtype, "a")?;
    check_ints(a.b, Dtype::Int8, "b")?;
    check_scale(a.a_scale, "aScale")?;
    check_scale(a.y_scale, "yScale")?;
    let (lo, hi) = a.a_dtype.range();
    if !(lo..=hi).contains(&a.a_zero_point) || !(lo..=hi).contains(&a.y_zero_point) {
        bail!(
            "aZeroPoint",
            "and yZeroPoint must lie in the {} range",
            a.a_dtype.name()
        );
    }
    let (bs, bz) = channel_params(
        a.b_scale,
        a.b_zero_point,
        m,
        Dtype::Int8,
        "bScale",
        "bZeroPoint",
    )?;
    let mut acc = vec![0; g.pairs.len() * n * m];
    let no_bias = vec![0; m];
    for (out, &(ia, ib)) in acc.chunks_mut(n * m).zip(&g.pairs) {
        matmul_acc_i32(
            n,
            k,
            m,
            &a.a[ia * n * k..][..n * k],
            a.a_zero_point,
            &a.b[ib * k * m..][..k * m],
            &bz,
            &no_bias,
            out,
        );
    }
    let mult: Vec<f32> = bs
        .iter()
        .map(|&sb| multiplier(a.a_scale, sb, a.y_scale))
        .collect();
    let y = acc
        .iter()
        .enumerate()
        .map(|(i, &v)| requantize(v, mult[i % m], a.y_zero_point, lo, hi))
        .collect();
    Ok(QLinearOutput {
        y,
        acc,
        shape: g.y_shape,
    })
}
