#!/usr/bin/env python3
"""Writes the model-file corpus the loader is tested with (Rust: tests/model_files.rs; the page:
e2e tests), from the shipped model and a tiny model made here. Standard library only.

    python3 scripts/make_model_files.py      # rewrites tests/models/

tests/models/good/*.safetensors  files a user might bring that must load (PyTorch-style names,
                                 no layer list; float16)
tests/models/bad/*.safetensors   broken or hostile files; each must be refused with a message
tests/models/manifest.json       for every file: what it is and a substring the message must hold
"""
import json, math, random, struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "models"


def read(path):
    b = path.read_bytes()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8 : 8 + n])
    data = b[8 + n :]
    meta = header.pop("__metadata__", None)
    tensors = {k: (v["dtype"], v["shape"], data[v["data_offsets"][0] : v["data_offsets"][1]]) for k, v in header.items()}
    return tensors, meta


def write(tensors, meta=None, order=None):
    """tensors: name -> (dtype, shape, bytes); returns safetensors bytes (data in `order`)."""
    header, data = {}, b""
    for name in order or sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if meta is not None:
        header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


def header_edit(blob, edit):
    """Parses blob's header, lets `edit(header)` change it, re-serialises with the same data."""
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8 : 8 + n])
    edit(header)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob[8 + n :]


LAYERS_TINY = [{"type": "conv2d", "name": "conv", "padding": 1}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
               {"type": "flatten"}, {"type": "linear", "name": "fc"}]


def tiny(layers=LAYERS_TINY, meta_extra=None, tweak=None):
    """conv 1->2 (3x3, pad 1) on 1x8x8, pool -> 2x4x4 = 32, linear 32 -> 3."""
    rnd = random.Random(7)
    t = {
        "conv.weight": ("F32", [2, 1, 3, 3], f32([rnd.uniform(-1, 1) for _ in range(18)])),
        "conv.bias": ("F32", [2], f32([0.1, -0.1])),
        "fc.weight": ("F32", [3, 32], f32([rnd.uniform(-1, 1) for _ in range(96)])),
        "fc.bias": ("F32", [3], f32([0.0, 0.5, -0.5])),
    }
    if tweak:
        tweak(t)
    meta = {"format": "quantlab-cnn-v1", "input": "[1,8,8]", "layers": json.dumps(layers, separators=(",", ":"))}
    meta.update(meta_extra or {})
    return write(t, meta)


def main():
    base, meta = read(ROOT / "www" / "models" / "baseline-cnn.safetensors")
    good, bad, manifest = {}, {}, {"good": [], "bad": []}

    def add_good(name, blob, what, inferred):
        good[name] = blob
        manifest["good"].append({"file": f"good/{name}.safetensors", "what": what, "inferred": inferred})

    def add_bad(name, blob, expect, what):
        bad[name] = blob
        manifest["bad"].append({"file": f"bad/{name}.safetensors", "expect": expect, "what": what})

    # Good: what torch.save(safetensors) of an nn.Sequential gives (no layer list), named modules
    # without a layer list, and a float16 copy.
    seq = {"0.weight": base["conv1.weight"], "0.bias": base["conv1.bias"], "3.weight": base["conv2.weight"],
           "3.bias": base["conv2.bias"], "7.weight": base["fc.weight"], "7.bias": base["fc.bias"]}
    add_good("sequential", write(seq), "nn.Sequential(Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Flatten, Linear) state_dict, no metadata", True)
    add_good("named-no-layers", write(base, {"format": "pt"}), "the baseline's names (conv1, conv2, fc) without a layer list", True)

    def to_f16(raw):
        vals = struct.unpack(f"<{len(raw) // 4}f", raw)
        return struct.pack(f"<{len(vals)}e", *vals)
    half = {k: ("F16", s, to_f16(r)) for k, (_, s, r) in base.items()}
    add_good("float16", write(half, meta), "the baseline in float16 with its layer list", False)
    add_good("tiny", tiny(), "a 1x8x8 model: conv(pad 1) -> relu -> pool -> flatten -> linear", False)

    ok = tiny()
    add_bad("truncated", ok[: len(ok) - 50], "truncated", "the last 50 bytes cut off")
    add_bad("truncated-header", ok[:40], "truncated", "cut inside the JSON header")
    add_bad("too-short", b"\x01\x02\x03", "too short", "3 bytes")
    add_bad("garbled-header", ok[:20] + b"#" * 30 + ok[50:], "not valid JSON", "bytes of the header overwritten")
    add_bad("not-safetensors", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "header", "a PNG signature and noise")
    add_bad("huge-header", struct.pack("<Q", 1 << 40) + b"{}", "the limit is", "declares a 1 TB header")
    add_bad("offsets-out-of-bounds", header_edit(ok, lambda h: h["fc.weight"].update(data_offsets=[h["fc.weight"]["data_offsets"][0] + 4000, h["fc.weight"]["data_offsets"][1] + 4000])),
            "run past the end", "fc.weight points 4000 bytes beyond the data")
    def overlap(h):
        s = h["conv.weight"]["data_offsets"][0]
        h["fc.bias"]["data_offsets"] = [s - 4, s + 8]
    add_bad("overlapping", header_edit(ok, overlap), "overlap", "fc.bias shares bytes with conv.bias")
    add_bad("unknown-dtype", header_edit(ok, lambda h: h["conv.bias"].update(dtype="Q4")), "unknown dtype 'Q4'", "dtype Q4")
    add_bad("integer-dtype", header_edit(ok, lambda h: h["conv.bias"].update(dtype="I32")), "weights must be F32", "int32 weights")
    add_bad("size-mismatch", header_edit(ok, lambda h: h["conv.bias"].update(shape=[3])), "needs 12 bytes", "shape [3] for 8 bytes of data")
    add_bad("empty-tensor", tiny(tweak=lambda t: t.update({"conv.bias": ("F32", [0], b"")})), "is empty", "conv.bias has shape [0]")
    add_bad("too-many-params", header_edit(ok, lambda h: h.update({"big.weight": {"dtype": "F32", "shape": [5000, 1000], "data_offsets": [0, 20_000_000]}})),
            "limit", "declares 5 M parameters")
    add_bad("nan-weight", tiny(tweak=lambda t: t.update({"fc.weight": ("F32", [3, 32], f32([math.nan] + [0.1] * 31 + [0.2] * 64))})), "NaN", "a NaN in fc.weight")
    add_bad("inf-weight", tiny(tweak=lambda t: t.update({"conv.weight": ("F32", [2, 1, 3, 3], f32([0.1] * 17 + [math.inf]))})), "inf", "+inf in conv.weight")
    add_bad("shapes-do-not-chain", tiny(layers=[l for l in LAYERS_TINY if l["type"] != "maxpool2d"]), "expects 32 inputs but receives 128",
            "no pool, so fc receives 2x8x8 = 128 values instead of 32")
    add_bad("wrong-in-channels", tiny(meta_extra={"input": "[3,8,8]"}), "expects 1 input channels but receives 3", "input declared with 3 channels")
    add_bad("missing-tensor", tiny(tweak=lambda t: t.pop("fc.weight")), "needs a tensor 'fc.weight'", "fc.weight absent")
    add_bad("unused-tensor", tiny(tweak=lambda t: t.update({"extra.weight": ("F32", [2], f32([1, 2]))})), "no layer uses", "a tensor not in the layer list")
    add_bad("unknown-layer", tiny(layers=[{"type": "conv3d", "name": "conv"}] + LAYERS_TINY[1:]), "unknown type 'conv3d'", "layer type conv3d")
    add_bad("stride-2", tiny(layers=[dict(LAYERS_TINY[0], stride=2)] + LAYERS_TINY[1:]), "stride", "a conv with stride 2")
    add_bad("bad-layers-json", tiny(meta_extra={"layers": "[{\"type\": "}), "not valid JSON", "__metadata__.layers cut short")
    add_bad("uninferable", write({"a.weight": ("F32", [4, 1, 5, 5], f32([0.0] * 100)), "b.weight": ("F32", [10, 7], f32([0.0] * 70))}),
            "no arrangement", "no layer list, and shapes that chain no way")

    for d in ("good", "bad"):
        (OUT / d).mkdir(parents=True, exist_ok=True)
        for f in (OUT / d).glob("*.safetensors"):
            f.unlink()
    for name, blob in good.items():
        (OUT / "good" / f"{name}.safetensors").write_bytes(blob)
    for name, blob in bad.items():
        (OUT / "bad" / f"{name}.safetensors").write_bytes(blob)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(good)} good and {len(bad)} bad model files to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
