//! quantlab-train: trains the baseline CNN on the 8,000 training digits and writes the FP32
//! weights the page ships (www/models/baseline-cnn.safetensors).
//!
//! Deterministic: one thread, one SplitMix64 stream (init, then per epoch a shuffle and one
//! shift per sample), a fixed summation order everywhere; the same seed gives bitwise the same
//! weights on the same CPU and compiler.

mod data;
mod io;
mod model;
mod rng;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use data::{Digits, SIDE};
use model::{Params, Work};
use rng::SplitMix64;

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
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        train: "target/data/digits-train.bin".into(),
        test: "www/data/digits-test.bin".into(),
        out: "www/models/baseline-cnn.safetensors".into(),
        epochs: DEFAULT_EPOCHS,
        seed: DEFAULT_SEED,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
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

/// Adam (Kingma & Ba 2015), per element, at step t = 1, 2, ...:
///   m = b1*m + (1-b1)*g,   v = b2*v + (1-b2)*g^2
///   w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
struct Adam {
    m: Params,
    v: Params,
    t: i32,
}

impl Adam {
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    fn new() -> Self {
        Self {
            m: Params::zeros(),
            v: Params::zeros(),
            t: 0,
        }
    }

    fn step(&mut self, p: &mut Params, g: &Params, lr: f32) {
        self.t += 1;
        let c1 = 1.0 - Self::B1.powi(self.t);
        let c2 = 1.0 - Self::B2.powi(self.t);
        for (((w, g), m), v) in
            p.t.iter_mut()
                .zip(&g.t)
                .zip(&mut self.m.t)
                .zip(&mut self.v.t)
        {
            for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = Self::B1 * *m + (1.0 - Self::B1) * g;
                *v = Self::B2 * *v + (1.0 - Self::B2) * g * g;
                *w -= lr * (*m / c1) / ((*v / c2).sqrt() + Self::EPS);
            }
        }
    }
}

/// Cosine schedule over all steps: lr(s) = LR * (1 + cos(pi * s / total)) / 2.
fn lr_at(step: usize, total: usize) -> f32 {
    let f = step as f64 / total as f64;
    (LR as f64 * 0.5 * (1.0 + (std::f64::consts::PI * f).cos())) as f32
}

/// Number of correctly classified digits, unshifted (the shipped preprocessing).
fn correct(p: &Params, set: &Digits, work: &mut Work) -> usize {
    let mut x = vec![0.0f32; SIDE * SIDE];
    (0..set.len())
        .filter(|&i| {
            set.input(i, 0, 0, &mut x);
            work.forward(p, &x);
            model::argmax(&work.logits) == set.labels[i] as usize
        })
        .count()
}

/// FNV-1a 64 of a byte string: a quick fingerprint to compare runs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn run(a: &Args) -> Result<(), String> {
    let start = Instant::now();
    let train = Digits::load(&a.train)?;
    let test = Digits::load(&a.test)?;
    println!(
        "train {} digits ({}), test {} digits ({}); {} epochs, seed {}, batch {BATCH}, Adam lr {LR} cosine",
        train.len(), a.train.display(), test.len(), a.test.display(), a.epochs, a.seed
    );

    let mut rng = SplitMix64::new(a.seed);
    let mut params = Params::he_init(&mut rng);
    let mut grads = Params::zeros();
    let mut adam = Adam::new();
    let mut work = Work::default();
    let mut x = vec![0.0f32; SIDE * SIDE];
    let mut order: Vec<usize> = (0..train.len()).collect();
    let total_steps = a.epochs * train.len().div_ceil(BATCH);
    let mut step = 0;
    let mut test_correct = 0;

    for epoch in 1..=a.epochs {
        rng.shuffle(&mut order);
        let (mut loss_sum, mut hits) = (0.0f64, 0usize);
        for batch in order.chunks(BATCH) {
            // Mean loss over the batch: each sample's dL/dz is scaled by 1 / |batch|, and the
            // gradients are summed in batch order.
            grads.fill_zero();
            let scale = 1.0 / batch.len() as f32;
            for &i in batch {
                let dy = rng.below(2 * SHIFT + 1) as isize - SHIFT as isize;
                let dx = rng.below(2 * SHIFT + 1) as isize - SHIFT as isize;
                train.input(i, dy, dx, &mut x);
                work.forward(&params, &x);
                let label = train.labels[i] as usize;
                let (loss, dz) = model::softmax_xent(&work.logits, label, scale);
                loss_sum += loss as f64;
                hits += (model::argmax(&work.logits) == label) as usize;
                work.backward(&params, &dz, &mut grads);
            }
            adam.step(&mut params, &grads, lr_at(step, total_steps));
            step += 1;
        }
        test_correct = correct(&params, &test, &mut work);
        println!(
            "epoch {epoch:2}/{}  train loss {:.4}  train acc {:.2}% (shifted)  test acc {:.2}% ({test_correct}/{})  {:.0}s",
            a.epochs,
            loss_sum / train.len() as f64,
            100.0 * hits as f64 / train.len() as f64,
            100.0 * test_correct as f64 / test.len() as f64,
            test.len(),
            start.elapsed().as_secs_f64()
        );
    }

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
    let bytes = io::to_bytes(&params, &io::metadata(&trained))?;
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
    let reloaded = correct(&loaded, &test, &mut work);
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
    println!("total {:.1}s", start.elapsed().as_secs_f64());
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
                "usage: quantlab-train [--train FILE] [--test FILE] [--out FILE] [--epochs N] [--seed S]\n\
                 defaults: target/data/digits-train.bin, www/data/digits-test.bin,\n\
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
