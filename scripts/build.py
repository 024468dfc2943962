#!/usr/bin/env python3
"""Builds the browser packages described in wasm-pack.toml (see its first comment).

For each [[variant]]: cargo builds the cdylib with the variant's RUSTFLAGS into its own target
dir (so variants do not rebuild each other), wasm-bindgen writes the `--target web` layout
(`quantlab.js` + `quantlab_bg.wasm`), wasm-opt (npm binaryen) optimises in place. Prints sizes.
The page's two builds (www/pkg, www/pkg-relaxed) are made without the Cargo feature `full`
(`default-features = false`): the exports the page never calls are left out. A third, `full`
(target/pkg-full, not served), has the whole JS API for the Node tests. See docs/size.md.

Usage: python3 scripts/build.py [--variant NAME] [--no-opt]
"""
import argparse, gzip, os, shutil, subprocess, sys, tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd, env=None):
    print("  $", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, env=env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", action="append", help="build only these variants")
    ap.add_argument("--no-opt", action="store_true", help="skip wasm-opt")
    args = ap.parse_args()
    cfg = tomllib.loads((ROOT / "wasm-pack.toml").read_text())
    b, opt = cfg["build"], cfg["wasm-opt"]
    crate = b["crate"]
    # What a fresh clone lacks is named in one line with the command that installs it.
    try:
        have = subprocess.run(["wasm-bindgen", "--version"], capture_output=True, text=True).stdout.split()
    except FileNotFoundError:
        have = []
    try:
        targets = subprocess.run(["rustup", "target", "list", "--installed"], capture_output=True, text=True).stdout.split()
    except FileNotFoundError:
        targets = ["wasm32-unknown-unknown"]  # no rustup: cargo says what is missing
    if "wasm32-unknown-unknown" not in targets:
        sys.exit("the Rust target wasm32-unknown-unknown is not installed: run `make setup`")
    if have[-1:] != [b["wasm-bindgen-version"]]:
        sys.exit(f"wasm-bindgen {b['wasm-bindgen-version']} is required, found {' '.join(have) or 'none'}: run `make setup`")
    for v in cfg["variant"]:
        if args.variant and v["name"] not in args.variant:
            continue
        print(f"[build] variant {v['name']} -> {v['out-dir']}", flush=True)
        target_dir = ROOT / "target" / f"wasm-{v['name']}"
        env = dict(os.environ, RUSTFLAGS=" ".join(v["rustflags"]))
        # The page's builds leave out the default feature `full` (exports the page never calls).
        features = [] if v.get("default-features", True) else ["--no-default-features"]
        # `cargo rustc --crate-type cdylib` gets real LTO, which a cdylib+rlib crate silently skips.
        run(["cargo", "rustc", "--lib", "--crate-type", "cdylib", "--release", "--target",
             "wasm32-unknown-unknown", "--target-dir", target_dir, *features], env=env)
        wasm = target_dir / "wasm32-unknown-unknown" / "release" / f"{crate}.wasm"
        out = ROOT / v["out-dir"]
        # Build next to the output and swap it in at the end, so a page being served never sees
        # a half-written package.
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        run(["wasm-bindgen", "--target", b["target"], "--out-dir", tmp, "--out-name", crate, wasm])
        bg = tmp / f"{crate}_bg.wasm"
        if opt["enabled"] and not args.no_opt:
            wasm_opt = ROOT / "node_modules" / ".bin" / "wasm-opt"
            if not wasm_opt.exists():
                sys.exit("node_modules/.bin/wasm-opt is missing: run `npm ci` (or `make setup`)")
            run([wasm_opt, opt["level"], *opt["features"], bg, "-o", bg])
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        bg = out / f"{crate}_bg.wasm"
        raw = bg.read_bytes()
        print(f"[build] {bg.relative_to(ROOT)}: {len(raw):,} bytes, {len(gzip.compress(raw, 9)):,} gzipped", flush=True)


if __name__ == "__main__":
    main()
