//! Quantization-aware training natively, with the page's defaults, printing the curve:
//!
//!     cargo run --release --example qat -- [weight bits] [act bits] [steps] [eval every]
//!                                           [learn scales: 1 | 0] [lr] [shift]
//!
//! Defaults: 3 3 600 100 1, and the page's learning rate and shift. Each line is the integer
//! path's accuracy on the 2,000 test digits, with the ranges QAT trained against and, beside it,
//! with the observer's ranges recalibrated on the tuned weights (what PyTorch's convert avoids).

// It reads files, gunzips with flate2 (a native-only dev-dependency) and times with Instant, so
// a wasm build, which `cargo clippy --target wasm32-unknown-unknown --all-targets` compiles,
// gets an empty main.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use quantlab::model::digits::Digits;
    use quantlab::model::{eval, file, int8, Model};
    use quantlab::train::qat::{Qat, QatOptions};
    use std::time::Instant;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_string());
    let (wb, ab): (u32, u32) = (arg(0, "3").parse().unwrap(), arg(1, "3").parse().unwrap());
    let d = QatOptions::default();
    let opts = QatOptions {
        steps: arg(2, "600").parse().unwrap(),
        learn_scales: arg(4, "1") == "1",
        lr: arg(5, &d.lr.to_string()).parse().unwrap(),
        shift: arg(6, &d.shift.to_string()).parse().unwrap(),
        ..d
    };
    let every: usize = arg(3, "100").parse().unwrap();
    let read = |p: &str| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let model = file::load(&read("www/models/baseline-cnn.safetensors")).unwrap();
    let calib = Digits::parse(&read("www/data/digits-calib.bin")).unwrap();
    let test = Digits::parse(&read("www/data/digits-test.bin")).unwrap();
    let mut raw = vec![];
    let gz = read("www/data/digits-train.bin.gz");
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut raw).unwrap();
    let train = Digits::parse(&raw).unwrap();
    let cal_x = eval::images(&model, &calib).unwrap();
    let test_x = eval::images(&model, &test).unwrap();
    let cfg = int8::QuantConfig {
        weight_bits: wb,
        act_bits: ab,
        ..Default::default()
    };
    let acc = |m: &Model, ranges: Option<Vec<(f32, f32)>>| {
        let mut cal = int8::calibrate(m, &cal_x, calib.len()).unwrap();
        if let Some(r) = ranges {
            cal = cal.with_ranges(r).unwrap();
        }
        let q = int8::quantize_model(m, &cal, &cfg).unwrap();
        let p = eval::predict_int8(&q, &test_x, test.len()).unwrap();
        100.0 * p.iter().zip(&test.labels).filter(|(a, b)| a == b).count() as f64
            / test.len() as f64
    };
    println!(
        "{wb}-bit weights, {ab}-bit activations: post-training {:.2} %",
        acc(&model, None)
    );
    let mut q = Qat::new(&model, &cfg, &train, &cal_x, calib.len(), opts).unwrap();
    let mut train_s = 0.0;
    while !q.done() {
        let t = Instant::now();
        let st = q.run(every).unwrap();
        train_s += t.elapsed().as_secs_f64();
        println!(
            "step {:4}  {train_s:5.1} s training  loss {:.4}  int8 {:.2} %  (observer ranges {:.2} %)",
            q.step,
            st.loss,
            acc(&q.model, Some(q.ranges())),
            acc(&q.model, None)
        );
    }
    for (i, name) in [(0, "conv1"), (3, "conv2"), (7, "fc")] {
        let moved = quantlab::train::qat::levels_changed(&q.initial, &q.model, &cfg, i).unwrap();
        let near = |m: &Model| {
            quantlab::train::qat::grid_histogram(m, &cfg, i, 8)
                .unwrap()
                .near_fraction
        };
        println!(
            "{name}: {:.1} % of the integer weights changed level; within 0.1 step of a grid point {:.1} % before, {:.1} % after",
            100.0 * moved,
            100.0 * near(&q.initial),
            100.0 * near(&q.model)
        );
    }
}
