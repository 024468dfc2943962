//! Timing of the forward passes inside the module: the loop runs here, with the scratch
//! buffers held across calls, so the figure is the compute and not JS round trips, copies into
//! wasm memory and allocation (the page times a JS call separately and labels it so). The
//! clock is passed in (`performance.now()` in a browser), which keeps this module free of I/O.

use super::eval::Path;
use super::fp32::{Fp32Scratch, Net};
use super::int8::{QModel, QScratch};
use super::Model;
use crate::kernels::table;
use crate::{bail, Result};

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepTime {
    pub name: String,
    /// Mean per call over the profiled runs.
    pub ms: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    /// "fp32", "int8" or "simulated".
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

#[allow(clippy::too_many_arguments)]
fn finish(
    path: &'static str,
    kernel: &'static str,
    batch: usize,
    reps: usize,
    samples_ms: Vec<f64>,
    macs: usize,
    names: Vec<String>,
    step_ms: &[f64],
    profile_runs: usize,
) -> Timing {
    let mut s = samples_ms.clone();
    s.sort_by(f64::total_cmp);
    let median = quantile(&s, 0.5);
    Timing {
        path,
        kernel,
        build: table::BUILD,
        batch,
        reps,
        median_ms: median,
        p10_ms: quantile(&s, 0.1),
        p90_ms: quantile(&s, 0.9),
        samples_ms,
        macs_per_image: macs,
        gmac_per_s: (macs * batch) as f64 / (median * 1e-3) / 1e9,
        steps: if profile_runs == 0 {
            vec![]
        } else {
            names
                .into_iter()
                .zip(step_ms)
                .map(|(name, &ms)| StepTime {
                    name,
                    ms: ms / profile_runs as f64,
                })
                .collect()
        },
    }
}

fn sample(
    samples: usize,
    reps: usize,
    clock: &dyn Fn() -> f64,
    call: &mut dyn FnMut(),
) -> Vec<f64> {
    call(); // warm: scratch buffers grow to size once
    (0..samples)
        .map(|_| {
            let t = clock();
            for _ in 0..reps {
                call();
            }
            (clock() - t) / reps as f64
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub fn time_fp32(
    net: &Net,
    model: &Model,
    x: &[f32],
    n: usize,
    samples: usize,
    reps: usize,
    profile_runs: usize,
    clock: &dyn Fn() -> f64,
) -> Result<Timing> {
    check(samples, reps, profile_runs)?;
    let kern = table::fp32();
    let mut sc = Fp32Scratch::default();
    let mut out = vec![0.0; n * net.output_len];
    let times = sample(samples, reps, clock, &mut || {
        net.run(kern, x, n, &mut sc, &mut out, &mut |_, _| {}, None)
    });
    sc.step_ms.iter_mut().for_each(|v| *v = 0.0);
    for _ in 0..profile_runs {
        net.run(kern, x, n, &mut sc, &mut out, &mut |_, _| {}, Some(clock));
    }
    let mut names = vec!["input layout".to_string()];
    names.extend(net.steps.iter().map(|s| s.label(model)));
    Ok(finish(
        "fp32",
        kern.entry(),
        n,
        reps,
        times,
        model.macs(),
        names,
        &sc.step_ms,
        profile_runs,
    ))
}

pub fn time_quantized(
    q: &QModel,
    path: Path,
    x: &[f32],
    n: usize,
    samples: usize,
    reps: usize,
    profile_runs: usize,
    clock: &dyn Fn() -> f64,
) -> Result<Timing> {
    check(samples, reps, profile_runs)?;
    let macs: usize = q
        .layers()
        .map(|l| l.shape.m * l.shape.p() * l.shape.taps())
        .sum();
    let mut sc = QScratch::default();
    let mut out = vec![0.0; n * q.output_len];
    Ok(match path {
        Path::Int8 => {
            let times = sample(samples, reps, clock, &mut || {
                q.forward_into(x, n, &mut sc, &mut out)
            });
            sc.step_ms.iter_mut().for_each(|v| *v = 0.0);
            for _ in 0..profile_runs {
                q.forward_timed(x, n, &mut sc, &mut out, Some(clock));
            }
            finish(
                "int8",
                q.kernel().entry(),
                n,
                reps,
                times,
                macs,
                q.step_labels(),
                &sc.step_ms,
                profile_runs,
            )
        }
        Path::Simulated => {
            let times = sample(samples, reps, clock, &mut || {
                q.forward_simulated_into(x, n, &mut sc, &mut out)
            });
            finish(
                "simulated",
                table::fp32().entry(),
                n,
                reps,
                times,
                macs,
                vec![],
                &[],
                0,
            )
        }
    })
}
