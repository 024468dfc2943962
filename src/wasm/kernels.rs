//! The kernel table from JS: what this build and engine have, and a switch.

use crate::kernels::probe;
use crate::kernels::table::{self, Entry, F32Kernel, Int8Kernel};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::convert::Opts;
use super::model::JsResult;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryInfo {
    name: &'static str,
    entry: &'static str,
    instruction: &'static str,
    macs_per_instruction: f32,
    compiled: bool,
    usable: bool,
    /// The largest weight magnitude it is exact for (`usdot7`: 64), or null: any int8 weight.
    weight_limit: Option<u8>,
    /// The entry a layer with wider weights runs instead (`usdot7`: `dot16`), or null.
    fallback: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    chosen: &'static str,
    best: &'static str,
    available: Vec<&'static str>,
    entries: Vec<EntryInfo>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProbeInfo {
    /// "usdot", "sdot", "other", or "none" (not a relaxed build).
    dot: &'static str,
    describe: &'static str,
    /// Lane 0 of the relaxed dot for (a, b) = (1, 0x80), (127, 0xFF), (-128, 0xFF), (-128, 0x80).
    dot_samples: [i32; 4],
    /// The int16 relaxed dot: "unsigned" (exact for weights within ±64), "signed", "other", "none".
    pairs: &'static str,
    /// Its lane 0 for (a, b) = (1, 0x80), (64, 0xFF), (-64, 0xFF), (-64, 0x80).
    pair_samples: [i32; 4],
    madd_fused: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Info {
    build: &'static str,
    probe: ProbeInfo,
    int8: Part,
    fp32: Part,
}

fn part<E: Entry>() -> Part {
    Part {
        chosen: table::current::<E>().name(),
        best: E::best().name(),
        available: table::available::<E>().iter().map(|k| k.name()).collect(),
        entries: E::all()
            .map(|k| EntryInfo {
                name: k.name(),
                entry: k.entry(),
                instruction: k.instruction(),
                macs_per_instruction: k.macs_per_instruction(),
                compiled: k.compiled(),
                usable: k.usable(),
                weight_limit: k.weight_limit(),
                fallback: k.fallback().map(|f| f.name()),
            })
            .collect(),
    }
}

fn info() -> Info {
    let p = probe::get();
    Info {
        build: table::BUILD,
        probe: ProbeInfo {
            dot: p.dot.name(),
            describe: p.dot.describe(),
            dot_samples: p.dot_samples,
            pairs: p.pairs.name(),
            pair_samples: p.pair_samples,
            madd_fused: p.madd_fused,
        },
        int8: part::<Int8Kernel>(),
        fp32: part::<F32Kernel>(),
    }
}

/// `{ build: 'simd128' | 'relaxed', probe: { dot, describe, dotSamples, pairs, pairSamples, maddFused },
///    int8: { chosen, best, available, entries }, fp32: { ... } }`.
#[wasm_bindgen(js_name = kernelInfo)]
pub fn kernel_info() -> JsResult<JsValue> {
    // `None` (no weight limit, no fallback, maddFused unknown) is null, as the README shows.
    let s = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    Ok(info().serialize(&s)?)
}

/// Forces kernel-table entries: `{ int8?: 'usdot' | 'usdot7' | 'split' | 'dot16' | 'portable' | 'auto',
/// fp32?: 'madd' | 'muladd' | 'portable' | 'auto' }`. An unknown name, or one this build or
/// engine cannot run, is an Error naming what is available. Returns `kernelInfo()`.
#[wasm_bindgen(js_name = useKernels)]
pub fn use_kernels(choice: JsValue) -> JsResult<JsValue> {
    let o = Opts::named(&choice, &["int8", "fp32"], "kernels")?;
    table::select(o.str("int8")?.as_deref(), o.str("fp32")?.as_deref())?;
    kernel_info()
}

/// The instruction-throughput micro-benchmark (`kernels::peak`): for each inner-loop
/// instruction of the table's entries, `{ name, instruction, macsPerInstruction, instructions,
/// ms, gmacPerS }` over `iterations` steps of 12 chains (default 200,000: a few ms each).
#[wasm_bindgen(js_name = peakThroughput)]
pub fn peak_throughput(iterations: Option<usize>) -> JsResult<JsValue> {
    let n = iterations.unwrap_or(200_000);
    if !(1..=100_000_000).contains(&n) {
        return Err(crate::Error::new(
            "iterations",
            format!("must be from 1 to 100000000, found {n}"),
        )
        .into());
    }
    let p = super::timing::performance()?;
    Ok(serde_wasm_bindgen::to_value(&crate::kernels::peak::run(
        n,
        &|| p.now(),
    ))?)
}
