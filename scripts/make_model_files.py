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


def i64(values):
    return struct.pack(f"<{len(values)}q", *values)


def tiny_bn_tensors(prefix_conv="conv", prefix_bn="bn", prefix_fc="fc", affine=True):
    """The tiny model with a BatchNorm2d after its conv, eval-mode statistics, PyTorch's int64 counter."""
    rnd = random.Random(11)
    t = {
        f"{prefix_conv}.weight": ("F32", [2, 1, 3, 3], f32([rnd.uniform(-1, 1) for _ in range(18)])),
        f"{prefix_conv}.bias": ("F32", [2], f32([0.1, -0.1])),
        f"{prefix_bn}.running_mean": ("F32", [2], f32([0.3, -0.2])),
        f"{prefix_bn}.running_var": ("F32", [2], f32([2.5, 0.04])),
        f"{prefix_bn}.num_batches_tracked": ("I64", [], i64([938])),
        f"{prefix_fc}.weight": ("F32", [3, 32], f32([rnd.uniform(-1, 1) for _ in range(96)])),
        f"{prefix_fc}.bias": ("F32", [3], f32([0.0, 0.5, -0.5])),
    }
    if affine:
        t[f"{prefix_bn}.weight"] = ("F32", [2], f32([1.7, 0.6]))
        t[f"{prefix_bn}.bias"] = ("F32", [2], f32([-0.25, 0.4]))
    return t


def unpack(t, name):
    dtype, _, raw = t[name]
    assert dtype == "F32"
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def reference_logits(t, names, x, bn=None, stride=1, pool=(2, 2), kind="max", bn_at="conv"):
    """Float64 forward of the small corpus models, eval mode: conv 3x3 padding 1 (1->2, `stride`) on
    8x8, then the BatchNorm applied as PyTorch does, not folded (`bn` = (eps, affine), or None; `bn_at`
    "conv": right after the conv, "relu": after the ReLU, "fc": a BatchNorm1d on the logits), ReLU,
    `pool` = (k, stride) max-pool (`kind` "avg": average pool; "global": the mean of each channel),
    flatten (C, H, W), linear -> 3."""
    conv, bnname, fc = names
    w, b = unpack(t, f"{conv}.weight"), unpack(t, f"{conv}.bias")
    fw, fb = unpack(t, f"{fc}.weight"), unpack(t, f"{fc}.bias")
    n = (8 + 2 - 3) // stride + 1
    y = [[[0.0] * n for _ in range(n)] for _ in range(2)]
    for m in range(2):
        for i in range(n):
            for j in range(n):
                acc = b[m]
                for u in range(3):
                    for v in range(3):
                        ii, jj = stride * i + u - 1, stride * j + v - 1
                        if 0 <= ii < 8 and 0 <= jj < 8:
                            acc += w[m * 9 + u * 3 + v] * x[ii * 8 + jj]
                if bn and bn_at == "conv":
                    acc = batchnorm(t, bnname, bn, m, acc)
                y[m][i][j] = max(0.0, acc)
                if bn and bn_at == "relu":
                    y[m][i][j] = batchnorm(t, bnname, bn, m, y[m][i][j])
    k, ps = (n, 1) if kind == "global" else pool
    p = (n - k) // ps + 1
    win = lambda m, i, j: [y[m][ps * i + a][ps * j + c] for a in range(k) for c in range(k)]
    agg = max if kind == "max" else (lambda v: math.fsum(v) / len(v))
    flat = [agg(win(m, i, j)) for m in range(2) for i in range(p) for j in range(p)]
    z = [fb[o] + sum(fw[o * len(flat) + q] * flat[q] for q in range(len(flat))) for o in range(3)]
    return [batchnorm(t, bnname, bn, o, v) for o, v in enumerate(z)] if bn and bn_at == "fc" else z


def batchnorm(t, name, bn, c, v):
    """PyTorch's eval-mode BatchNorm of channel c: (v - mean) / sqrt(var + eps) * gamma + beta."""
    eps, affine = bn
    mean, var = unpack(t, f"{name}.running_mean"), unpack(t, f"{name}.running_var")
    gamma = unpack(t, f"{name}.weight")[c] if affine else 1.0
    beta = unpack(t, f"{name}.bias")[c] if affine else 0.0
    return (v - mean[c]) / math.sqrt(var[c] + eps) * gamma + beta


def main():
    base, meta = read(ROOT / "www" / "models" / "baseline-cnn.safetensors")
    good, bad, manifest = {}, {}, {"good": [], "bad": []}

    def add_good(name, blob, what, inferred, **extra):
        good[name] = blob
        manifest["good"].append({"file": f"good/{name}.safetensors", "what": what, "inferred": inferred, **extra})

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

    # BatchNorm, as PyTorch writes it: folded into the conv at load. Each has the float64 logits of an
    # input computed here with the BatchNorm applied, not folded (the loader must match within 1e-4).
    x = [random.Random(5).random() for _ in range(64)]
    seq_names = ("0", "1", "5")
    t = tiny_bn_tensors(*seq_names)
    add_good("bn-sequential", write(t, {"input": "[1,8,8]"}),
             "nn.Sequential(Conv2d(1, 2, 3, padding=1), BatchNorm2d(2), ReLU, MaxPool2d(2), Flatten, Linear(32, 3)) state_dict, int64 num_batches_tracked",
             True, folded="1 folded into 0", logits={"input": x, "expect": reference_logits(t, seq_names, x, bn=(1e-5, True))})
    layers_bn = [{"type": "conv2d", "name": "conv", "padding": 1}, {"type": "batchnorm2d", "name": "bn", "eps": 1e-3}, {"type": "relu"},
                 {"type": "maxpool2d", "kernel": 2}, {"type": "dropout", "p": 0.25}, {"type": "flatten"}, {"type": "linear", "name": "fc"}]
    t = tiny_bn_tensors()
    meta_bn = {"format": "quantlab-cnn-v1", "input": "[1,8,8]", "layers": json.dumps(layers_bn, separators=(",", ":"))}
    add_good("bn-layers", write(t, meta_bn), "conv -> batchnorm2d (eps 1e-3) -> relu -> pool -> dropout -> flatten -> linear, with its layer list", False,
             folded="bn folded into conv", logits={"input": x, "expect": reference_logits(t, ("conv", "bn", "fc"), x, bn=(1e-3, True))})
    t = tiny_bn_tensors(affine=False)
    add_good("bn-no-affine", write(t, meta_bn), "BatchNorm2d(affine=False): running statistics only", False,
             folded="bn folded into conv", logits={"input": x, "expect": reference_logits(t, ("conv", "bn", "fc"), x, bn=(1e-3, False))})

    # The shipped CNN written as a Conv-BatchNorm-ReLU-Pool nn.Sequential: each conv "unfolded"
    # (W / s, (b − β) / s + μ with s = γ / √(σ² + ε), seeded statistics), so folding gives back the
    # trained weights to float32 rounding and the lab measures a trained model through BatchNorm.
    rnd = random.Random(13)
    bnseq = {}
    for conv, idx, bn in (("conv1", "0", "1"), ("conv2", "4", "5")):
        w = unpack(base, f"{conv}.weight")
        b = unpack(base, f"{conv}.bias")
        m = len(b)
        k = len(w) // m
        gamma = [rnd.uniform(0.5, 2.0) for _ in range(m)]
        beta = [rnd.uniform(-0.3, 0.3) for _ in range(m)]
        mean = [rnd.uniform(-0.5, 0.5) for _ in range(m)]
        var = [rnd.uniform(0.05, 3.0) for _ in range(m)]
        sc = [g / math.sqrt(v + 1e-5) for g, v in zip(gamma, var)]
        bnseq[f"{idx}.weight"] = ("F32", base[f"{conv}.weight"][1], f32([w[i] / sc[i // k] for i in range(len(w))]))
        bnseq[f"{idx}.bias"] = ("F32", [m], f32([(b[c] - beta[c]) / sc[c] + mean[c] for c in range(m)]))
        for part, vals in (("weight", gamma), ("bias", beta), ("running_mean", mean), ("running_var", var)):
            bnseq[f"{bn}.{part}"] = ("F32", [m], f32(vals))
        bnseq[f"{bn}.num_batches_tracked"] = ("I64", [], i64([1250]))
    bnseq["9.weight"], bnseq["9.bias"] = base["fc.weight"], base["fc.bias"]
    add_good("bn-baseline", write(bnseq), "the shipped CNN as nn.Sequential(Conv2d, BatchNorm2d, ReLU, MaxPool2d, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear), no metadata",
             True, folded="5 folded into 4")

    # A strided conv (PyTorch's downsampling): 3x3, stride 2, padding 1 on 8x8 gives 4x4.
    rnd = random.Random(17)
    ts = {"conv.weight": ("F32", [2, 1, 3, 3], f32([rnd.uniform(-1, 1) for _ in range(18)])), "conv.bias": ("F32", [2], f32([0.05, -0.05])),
          "fc.weight": ("F32", [3, 8], f32([rnd.uniform(-1, 1) for _ in range(24)])), "fc.bias": ("F32", [3], f32([0.1, 0.0, -0.1]))}
    layers_st = [{"type": "conv2d", "name": "conv", "padding": 1, "stride": 2}] + LAYERS_TINY[1:]
    add_good("stride-2", write(ts, {"format": "quantlab-cnn-v1", "input": "[1,8,8]", "layers": json.dumps(layers_st, separators=(",", ":"))}),
             "conv 3x3 stride 2 padding 1 -> relu -> pool -> flatten -> linear", False,
             logits={"input": x, "expect": reference_logits(ts, ("conv", None, "fc"), x, stride=2)})

    # A 3x3 max-pool with stride 2 (ResNet's stem pool, AlexNet's): 8x8 -> 3x3.
    rnd = random.Random(19)
    tp = {"conv.weight": ("F32", [2, 1, 3, 3], f32([rnd.uniform(-1, 1) for _ in range(18)])), "conv.bias": ("F32", [2], f32([0.05, -0.05])),
          "fc.weight": ("F32", [3, 18], f32([rnd.uniform(-1, 1) for _ in range(54)])), "fc.bias": ("F32", [3], f32([0.1, 0.0, -0.1]))}
    layers_pool = [LAYERS_TINY[0], LAYERS_TINY[1], {"type": "maxpool2d", "kernel": 3, "stride": 2}] + LAYERS_TINY[3:]
    meta_pool = {"format": "quantlab-cnn-v1", "input": "[1,8,8]", "layers": json.dumps(layers_pool, separators=(",", ":"))}
    add_good("maxpool-3s2", write(tp, meta_pool), "conv -> relu -> maxpool 3x3 stride 2 -> flatten -> linear", False,
             logits={"input": x, "expect": reference_logits(tp, ("conv", None, "fc"), x, pool=(3, 2))})
    add_bad("maxpool-padding", tiny(layers=[LAYERS_TINY[0], LAYERS_TINY[1], dict(LAYERS_TINY[2], padding=1)] + LAYERS_TINY[3:]),
            "max-pooling takes no padding", "a max-pool with padding 1")
    add_bad("maxpool-too-large", tiny(layers=[LAYERS_TINY[0], LAYERS_TINY[1], dict(LAYERS_TINY[2], kernel=9)] + LAYERS_TINY[3:]),
            "cannot pool a 8x8 input with a 9x9 window", "a 9x9 pool on an 8x8 input")

    # Average pooling: AvgPool2d(3, stride=2) (8x8 -> 3x3), and AdaptiveAvgPool2d(1) (global
    # average pooling, the head of ResNets and MobileNets) with dropout before the classifier.
    rnd = random.Random(23)
    ta = {"conv.weight": ("F32", [2, 1, 3, 3], f32([rnd.uniform(-1, 1) for _ in range(18)])), "conv.bias": ("F32", [2], f32([0.05, -0.05])),
          "fc.weight": ("F32", [3, 18], f32([rnd.uniform(-1, 1) for _ in range(54)])), "fc.bias": ("F32", [3], f32([0.1, 0.0, -0.1]))}
    layers_avg = [LAYERS_TINY[0], LAYERS_TINY[1], {"type": "avgpool2d", "kernel": 3, "stride": 2}] + LAYERS_TINY[3:]
    add_good("avgpool-3s2", write(ta, {"format": "quantlab-cnn-v1", "input": "[1,8,8]", "layers": json.dumps(layers_avg, separators=(",", ":"))}),
             "conv -> relu -> avgpool 3x3 stride 2 -> flatten -> linear", False,
             logits={"input": x, "expect": reference_logits(ta, ("conv", None, "fc"), x, pool=(3, 2), kind="avg")})
    tg = {"conv.weight": ta["conv.weight"], "conv.bias": ta["conv.bias"],
          "fc.weight": ("F32", [3, 2], f32([rnd.uniform(-2, 2) for _ in range(6)])), "fc.bias": ("F32", [3], f32([0.1, 0.0, -0.1]))}
    layers_gap = [LAYERS_TINY[0], LAYERS_TINY[1], {"type": "adaptiveavgpool2d", "output": 1}, {"type": "flatten"},
                  {"type": "dropout", "p": 0.5}, {"type": "linear", "name": "fc"}]
    add_good("global-avgpool", write(tg, {"format": "quantlab-cnn-v1", "input": "[1,8,8]", "layers": json.dumps(layers_gap, separators=(",", ":"))}),
             "conv -> relu -> adaptiveavgpool2d(1) -> flatten -> dropout -> linear", False,
             logits={"input": x, "expect": reference_logits(tg, ("conv", None, "fc"), x, kind="global")})
    avg_at = lambda extra: [LAYERS_TINY[0], LAYERS_TINY[1], dict({"type": "avgpool2d", "kernel": 2}, **extra)] + LAYERS_TINY[3:]
    add_bad("avgpool-padding", tiny(layers=avg_at({"padding": 1})), "average pooling takes no padding", "an average pool with padding 1")
    add_bad("avgpool-ceil-mode", tiny(layers=avg_at({"ceil_mode": True})), "only floor (ceil_mode false) is supported", "ceil_mode true")
    add_bad("avgpool-too-large", tiny(layers=avg_at({"kernel": 9})), "cannot pool a 8x8 input with a 9x9 window", "a 9x9 average pool on an 8x8 input")
    add_bad("adaptive-output-2", tiny(layers=[LAYERS_TINY[0], LAYERS_TINY[1], {"type": "adaptiveavgpool2d", "output": [2, 2]}] + LAYERS_TINY[3:]),
            "only output 1 (global average pooling) is supported", "AdaptiveAvgPool2d((2, 2))")

    def bn_bad(tweak, layers=layers_bn):
        t = tiny_bn_tensors()
        tweak(t)
        return write(t, dict(meta_bn, layers=json.dumps(layers, separators=(",", ":"))))
    add_bad("bn-negative-var", bn_bad(lambda t: t.update({"bn.running_var": ("F32", [2], f32([1.0, -0.5]))})), "a variance must be >= 0", "running_var -0.5")
    add_bad("bn-missing-stat", bn_bad(lambda t: t.pop("bn.running_var")), "needs a tensor 'bn.running_var'", "running_var absent")
    add_bad("bn-channels", bn_bad(lambda t: t.update({"bn.running_mean": ("F32", [3], f32([0.0, 0.0, 0.0]))})), "which gives 2 channels", "BatchNorm of 3 channels after a 2-channel conv")
    # A BatchNorm after the ReLU (some students' order) cannot fold into the conv: its own layer.
    t = tiny_bn_tensors()
    layers_relu_bn = [layers_bn[0], layers_bn[2], layers_bn[1]] + layers_bn[3:]
    add_good("bn-after-relu", write(t, dict(meta_bn, layers=json.dumps(layers_relu_bn, separators=(",", ":")))),
             "conv -> relu -> batchnorm2d -> pool -> flatten -> linear: the BatchNorm runs as a diagonal 1x1 conv", False,
             standalone="bn follows relu, not a conv, so it runs as its own per-channel affine layer (a 1×1 conv with a diagonal 2×2 weight)",
             logits={"input": x, "expect": reference_logits(t, ("conv", "bn", "fc"), x, bn=(1e-3, True), bn_at="relu")})
    # The same order in an nn.Sequential without metadata: Conv(0), ReLU(1), BatchNorm2d(2), MaxPool(3), Flatten(4), Linear(5).
    t = tiny_bn_tensors("0", "2", "5")
    add_good("bn-sequential-after-relu", write(t, {"input": "[1,8,8]"}),
             "nn.Sequential(Conv2d, ReLU, BatchNorm2d, MaxPool2d, Flatten, Linear) state_dict: the BatchNorm after the ReLU, inferred", True,
             standalone="2 follows relu, not a conv, so it runs as its own per-channel affine layer",
             logits={"input": x, "expect": reference_logits(t, ("0", "2", "5"), x, bn=(1e-5, True), bn_at="relu")})
    # BatchNorm1d after the classifier folds into it.
    t = tiny_bn_tensors()
    for k, v in [("running_mean", [0.2, -0.1, 0.4]), ("running_var", [1.5, 0.3, 2.2]), ("weight", [0.9, 1.3, 0.7]), ("bias", [0.05, -0.2, 0.1])]:
        t[f"bn.{k}"] = ("F32", [3], f32(v))
    layers_1d = [layers_bn[0]] + layers_bn[2:] + [{"type": "batchnorm1d", "name": "bn"}]
    add_good("bn1d-after-fc", write(t, dict(meta_bn, layers=json.dumps(layers_1d, separators=(",", ":")))),
             "conv -> relu -> pool -> flatten -> linear -> batchnorm1d (folded into the linear layer)", False,
             folded="bn folded into fc", logits={"input": x, "expect": reference_logits(t, ("conv", "bn", "fc"), x, bn=(1e-5, True), bn_at="fc")})
    add_bad("bn2d-on-flat", bn_bad(lambda t: None, [layers_bn[0]] + layers_bn[2:6] + [layers_bn[1]] + layers_bn[6:]),
            "after flatten or linear use batchnorm1d", "a batchnorm2d after flatten")
    add_bad("bn1d-on-image", bn_bad(lambda t: None, [layers_bn[0], dict(layers_bn[1], type="batchnorm1d")] + layers_bn[2:]),
            "it takes a flat one (after flatten or linear): use batchnorm2d", "a batchnorm1d on the conv's 2x8x8 output")
    add_bad("bn-eps", bn_bad(lambda t: None, [layers_bn[0], dict(layers_bn[1], eps=0)] + layers_bn[2:]), "it must be a number > 0", "eps 0")

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
    add_bad("dilation-2", tiny(layers=[dict(LAYERS_TINY[0], dilation=2)] + LAYERS_TINY[1:]), "dilation", "a conv with dilation 2")
    add_bad("padding-too-large", tiny(layers=[dict(LAYERS_TINY[0], padding=3)] + LAYERS_TINY[1:]), "padding must be at most 2", "padding 3 for a 3x3 kernel")
    add_bad("stride-0", tiny(layers=[dict(LAYERS_TINY[0], stride=0)] + LAYERS_TINY[1:]), "it must be an integer from 1 to 64", "stride 0")
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
