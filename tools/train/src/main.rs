//! quantlab-train: trains the baseline CNN on the 8,000 training digits and writes the FP32
//! weights the page ships (www/models/baseline-cnn.safetensors).
//!
//! A thin command over the library's training (`quantlab::train`: forward, backward, Adam), the
//! same code the page's quantization-aware training runs. Deterministic: one thread, one
//! SplitMix64 stream (init, then per epoch a shuffle and one shift per sample), one fixed
//! summation order, no FMA; the same seed gives bitwise the same weights on any machine.

mod io;
mod model;
mod rgb;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use quantlab::model::digits::Digits;
use quantlab::model::{eval, Model};
use quantlab::train::{self, net, Adam, SplitMix64};

// Defaults: the values the shipped file was trained with.
const DEFAULT_EPOCHS: usize = 20;
const DEFAULT_SEED: u64 = 20261126;
const BATCH: usize = 64;
const LR: f32 = 1e-3; // peak Adam learning rate, cosine-annealed to 0
const SHIFT: usize = 2; // augmentation: integer shifts in [-2, 2] px on each axis

struct Args {
    train: PathBuf,
    test: PathBuf,
    out: PathBuf,
    epochs: usize,
    seed: u64,
    /// `--rgb`: the RGB student model and its test file instead (rgb.rs).
    rgb: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        train: "www/data/digits-train.bin.gz".into(),
        test: "www/data/digits-test.bin".into(),
        out: "www/models/baseline-cnn.safetensors".into(),
        epochs: DEFAULT_EPOCHS,
        seed: DEFAULT_SEED,
        rgb: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        if flag == "--rgb" {
            a.rgb = true;
            continue;
        }
        let val = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--train" => a.train = val.into(),
            "--test" => a.test = val.into(),
            "--out" => a.out = val.into(),
            "--epochs" => a.epochs = num(&val)? as usize,
            "--seed" => a.seed = num(&val)?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(a)
}

/// Number of correctly classified test digits (unshifted: the shipped preprocessing).
fn correct(m: &Model, set: &Digits) -> Result<usize, String> {
    let x = eval::images(m, set).map_err(|e| e.to_string())?;
    let p = eval::predict_fp32(m, &x, set.len()).map_err(|e| e.to_string())?;
    Ok(p.iter().zip(&set.labels).filter(|(a, b)| a == b).count())
}

/// A QLDG digit file, gunzipped first when its name ends in `.gz`.
fn load_digits(p: &std::path::Path) -> Result<Digits, String> {
    let mut bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    if p.extension().is_some_and(|e| e == "gz") {
        let mut out = vec![];
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .map_err(|e| format!("{}: {e}", p.display()))?;
        bytes = out;
    }
    Digits::parse(&bytes).map_err(|e| format!("{}: {e}", p.display()))
}

/// FNV-1a 64 of a byte string: a quick fingerprint to compare runs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Trains `params` (initialised from `rng`) on `data`: `epochs` epochs of BATCH images, Adam with
/// peak `lr0` cosine-annealed to 0, each epoch shuffled and shifted by up to `shift` px from `rng`;
/// after each epoch `report(epoch, params, summed loss, train hits)`.
pub(crate) fn fit(
    params: &mut Model,
    data: &Digits,
    rng: &mut SplitMix64,
    epochs: usize,
    lr0: f32,
    shift: usize,
    mut report: impl FnMut(usize, &Model, f64, usize) -> Result<(), String>,
) -> Result<(), String> {
    let mut tape = net::Tape::new(params).map_err(|e| e.to_string())?;
    let mut grads = net::zero_grads(params);
    let mut adam = Adam::new(params);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let total_steps = epochs * data.len().div_ceil(BATCH);
    let mut step = 0;
    for epoch in 1..=epochs {
        let samples = train::epoch_samples(rng, &mut order, shift);
        let (mut loss_sum, mut hits) = (0.0f64, 0usize);
        for batch in samples.chunks(BATCH) {
            let lr = train::cosine_lr(lr0, step, total_steps);
            let st = train::batch_step(
                params, None, None, data, batch, &mut tape, &mut grads, &mut adam, lr, None,
            )
            .map_err(|e| e.to_string())?;
            loss_sum += st.loss;
            hits += st.correct;
            step += 1;
        }
        report(epoch, params, loss_sum, hits)?;
    }
    Ok(())
}

fn run(a: &Args) -> Result<(), String> {
    if a.rgb {
        return rgb::run(
            &load_digits(&a.train)?,
            &load_digits(&a.test)?,
            std::path::Path::new("tests/data/rgb-cnn.safetensors"),
            std::path::Path::new("tests/data/colour-digits-test.safetensors"),
            a.seed,
        );
    }
    let start = Instant::now();
    let train = load_digits(&a.train)?;
    let test = load_digits(&a.test)?;
    println!(
        "train {} digits ({}), test {} digits ({}); {} epochs, seed {}, batch {BATCH}, Adam lr {LR} cosine",
        train.len(), a.train.display(), test.len(), a.test.display(), a.epochs, a.seed
    );

    let mut rng = SplitMix64::new(a.seed);
    let mut params = model::architecture();
    train::he_init(&mut params, &mut rng);
    let mut test_correct = 0;
    fit(
        &mut params,
        &train,
        &mut rng,
        a.epochs,
        LR,
        SHIFT,
        |epoch, params, loss, hits| {
            test_correct = correct(params, &test)?;
            println!(
            "epoch {epoch:2}/{}  train loss {:.4}  train acc {:.2}% (shifted)  test acc {:.2}% ({test_correct}/{})  {:.0}s",
            a.epochs,
            loss / train.len() as f64,
            100.0 * hits as f64 / train.len() as f64,
            100.0 * test_correct as f64 / test.len() as f64,
            test.len(),
            start.elapsed().as_secs_f64()
        );
            Ok(())
        },
    )?;

    let acc = 100.0 * test_correct as f64 / test.len() as f64;
    let trained = format!(
        "cargo run --release --manifest-path tools/train/Cargo.toml -- --epochs {} --seed {}; \
         He-uniform init, Adam lr {LR} cosine to 0, batch {BATCH}, {} epochs on 8,000 digits with \
         random +-{SHIFT}px shifts; test accuracy {acc:.2}% ({test_correct}/{}) on digits-test.bin",
        a.epochs,
        a.seed,
        a.epochs,
        test.len()
    );
    let bytes = io::to_bytes(&model::tensors(&params), &io::metadata(&trained))?;
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&a.out, &bytes).map_err(|e| format!("{}: {e}", a.out.display()))?;
    println!(
        "wrote {} ({} bytes, fnv1a64 {:016x})",
        a.out.display(),
        bytes.len(),
        fnv1a(&bytes)
    );

    // Re-load what was written and evaluate it again: the file, not the in-memory weights,
    // is what ships.
    let (loaded, meta) = io::load(&a.out)?;
    let reloaded = correct(&model::with_tensors(model::architecture(), &loaded), &test)?;
    println!(
        "re-loaded {}: test acc {:.2}% ({reloaded}/{}), format {}",
        a.out.display(),
        100.0 * reloaded as f64 / test.len() as f64,
        test.len(),
        meta.get("format").map_or("?", |s| s)
    );
    if reloaded != test_correct {
        return Err("re-loaded weights disagree with the trained ones".into());
    }
    println!(
        "weights fingerprint {:016x}; total {:.1}s",
        train::fingerprint(&params),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!(
                "usage: quantlab-train [--train FILE] [--test FILE] [--out FILE] [--epochs N] [--seed S] [--rgb]\n\
                 --rgb: the RGB student model and its test file (tests/data/rgb-cnn.safetensors,\n\
                 tests/data/colour-digits-test.safetensors) instead of the shipped model\n\
                 defaults: www/data/digits-train.bin.gz, www/data/digits-test.bin,\n\
                 www/models/baseline-cnn.safetensors, {DEFAULT_EPOCHS} epochs, seed {DEFAULT_SEED}"
            );
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
