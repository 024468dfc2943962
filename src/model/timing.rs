//! Timing of the forward passes inside the module: the loop runs here, with the scratch
//! buffers held across calls, so the figure is the compute and not JS round trips, copies into
//! wasm memory and allocation (the page times a JS call separately and labels it so). The
//! clock is passed in (`performance.now()` in a browser), which keeps this module free of I/O.

use super::eval::Path;
use super::fp32::{Fp32Scratch, Net};
use super::int8::{Deployed, QModel, QScratch};
use super::Model;
use crate::kernels::{table, Entry};
use crate::{bail, Result};

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepTime {
    pub name: String,
    /// Mean per call over the profiled runs.
    pub ms: f64,
    /// The int8 kernel-table entry a layer step ran: each layer is packed for the entry in use,
    /// or for `dot16` where that entry (`usdot7`) cannot hold its weights. None for other steps.
    pub kernel: Option<&'static str>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    /// "fp32", "int8", "simulated", or "qdq" (a quantized model that runs as the QDQ graph).
    pub path: &'static str,
    /// The kernel-table entry that ran (`gemm_f32_madd`, `gemm_int8_usdot`, ...).
    pub kernel: &'static str,
    pub build: &'static str,
    pub batch: usize,
    pub reps: usize,
    /// One value per sample: the mean of `reps` consecutive calls, ms per call.
    pub samples_ms: Vec<f64>,
    pub median_ms: f64,
    pub p10_ms: f64,
    pub p90_ms: f64,
    pub macs_per_image: usize,
    /// Multiply-adds per second at the median, in billions.
    pub gmac_per_s: f64,
    /// Per step, from separate runs with a clock around every step (empty if none were asked).
    pub steps: Vec<StepTime>,
}

fn check(samples: usize, reps: usize, profile_runs: usize) -> Result<()> {
    if !(1..=10_000).contains(&samples) {
        bail!("samples", "must be from 1 to 10000, found {samples}");
    }
    if !(1..=10_000).contains(&reps) {
        bail!("reps", "must be from 1 to 10000, found {reps}");
    }
    if profile_runs > 10_000 {
        bail!("profileRuns", "must be at most 10000, found {profile_runs}");
    }
    Ok(())
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (
        i.floor() as usize,
        (i.ceil() as usize).min(sorted.len() - 1),
    );
    sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo as f64)
}

/// A clock in milliseconds (`performance.now()` in a browser).
pub type Clock<'a> = &'a dyn Fn() -> f64;

/// What to time: `samples` samples of `reps` consecutive calls on `n` images `x`, then
/// `profile_runs` calls with a clock around every step.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub x: &'a [f32],
    pub n: usize,
    pub samples: usize,
    pub reps: usize,
    pub profile_runs: usize,
}

/// Times `run` as `r` asks. `run(None)` is one plain call; `run(Some(clock))` one call with the
/// clock around its steps, returning that call's per-step times (or `None` if the path has no
/// breakdown). Returns the per-call samples and the mean time of each step.
fn measure(
    r: &Request,
    clock: &dyn Fn() -> f64,
    run: &mut dyn FnMut(Option<Clock>) -> Option<Vec<f64>>,
) -> (Vec<f64>, Vec<f64>) {
    run(None); // warm: scratch buffers grow to size once
    let samples = (0..r.samples)
        .map(|_| {
            let t = clock();
            for _ in 0..r.reps {
                run(None);
            }
            (clock() - t) / r.reps as f64
        })
        .collect();
    let mut steps: Vec<f64> = vec![];
    for _ in 0..r.profile_runs {
        if let Some(s) = run(Some(clock)) {
            steps.resize(s.len(), 0.0);
            steps
                .iter_mut()
                .zip(&s)
                .for_each(|(a, b)| *a += b / r.profile_runs as f64);
        }
    }
    (samples, steps)
}

fn finish(
    path: &'static str,
    kernel: &'static str,
    r: &Request,
    (samples_ms, step_ms): (Vec<f64>, Vec<f64>),
    macs: usize,
    names: Vec<String>,
    kernels: Vec<Option<&'static str>>,
) -> Timing {
    let mut s = samples_ms.clone();
    s.sort_unstable_by(f64::total_cmp);
    let median = quantile(&s, 0.5);
    Timing {
        path,
        kernel,
        build: table::BUILD,
        batch: r.n,
        reps: r.reps,
        median_ms: median,
        p10_ms: quantile(&s, 0.1),
        p90_ms: quantile(&s, 0.9),
        samples_ms,
        macs_per_image: macs,
        gmac_per_s: (macs * r.n) as f64 / (median * 1e-3) / 1e9,
        steps: names
            .into_iter()
            .zip(step_ms)
            .enumerate()
            .map(|(i, (name, ms))| StepTime {
                name,
                ms,
                kernel: kernels.get(i).copied().flatten(),
            })
            .collect(),
    }
}

pub fn time_fp32(net: &Net, model: &Model, r: &Request, clock: &dyn Fn() -> f64) -> Result<Timing> {
    check(r.samples, r.reps, r.profile_runs)?;
    let kern = table::fp32();
    let mut sc = Fp32Scratch::default();
    let mut out = vec![0.0; r.n * net.output_len];
    let m = measure(r, clock, &mut |c| {
        net.run(kern, r.x, r.n, &mut sc, &mut out, &mut |_, _| {}, c);
        c.map(|_| sc.step_ms.clone())
    });
    let mut names = vec!["input layout".to_string()];
    names.extend(net.steps.iter().map(|s| s.label(model)));
    Ok(finish(
        "fp32",
        kern.entry(),
        r,
        m,
        model.macs(),
        names,
        vec![],
    ))
}

pub fn time_quantized(
    q: &QModel,
    path: Path,
    r: &Request,
    clock: &dyn Fn() -> f64,
) -> Result<Timing> {
    check(r.samples, r.reps, r.profile_runs)?;
    let macs: usize = q
        .layers()
        .map(|l| l.shape.m * l.shape.p() * l.shape.taps())
        .sum();
    let mut sc = QScratch::default();
    let mut out = vec![0.0; r.n * q.output_len];
    Ok(match path {
        // A model no integer kernel runs (group-wise, dynamic, a float format) is timed as what it
        // is, the QDQ graph on the float kernels, and says so; it has no integer steps to profile.
        Path::Int8 if q.deployed() == Deployed::Qdq => {
            let m = measure(r, clock, &mut |_| {
                q.forward_into(r.x, r.n, &mut sc, &mut out);
                None
            });
            finish("qdq", table::fp32().entry(), r, m, macs, vec![], vec![])
        }
        Path::Int8 => {
            let m = measure(r, clock, &mut |c| {
                q.forward_timed(r.x, r.n, &mut sc, &mut out, c);
                c.map(|_| sc.step_ms.clone())
            });
            finish(
                "int8",
                q.kernel().entry(),
                r,
                m,
                macs,
                q.step_labels(),
                q.step_kernels(),
            )
        }
        Path::Simulated => {
            let m = measure(r, clock, &mut |_| {
                q.forward_simulated_into(r.x, r.n, &mut sc, &mut out);
                None
            });
            finish(
                "simulated",
                table::fp32().entry(),
                r,
                m,
                macs,
                vec![],
                vec![],
            )
        }
    })
}
