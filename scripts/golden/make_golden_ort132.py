"""Golden vectors from onnxruntime 1.32 for the ops quantlab follows it on:
- float16 / bfloat16 rounding (roundToFloat16, roundToBfloat16): ONNX Cast float32 -> FLOAT16 ->
  float32 and float32 -> BFLOAT16 -> float32 on float32 inputs chosen to hit every case (ties both
  ways, the overflow edge, subnormals, underflow to zero, signed zeros, infinities, NaN, and random
  values over every binade): tests/golden/float_formats.json;
- DynamicQuantizeLinear (dynamicQuantizeLinear): all-zero, one-signed, exact ties of the zero point
  and of the values, wide and tiny ranges, random tensors: tests/golden/dynamic_quantize.json;
- (scale, zero point) from a range, onnxruntime.quantization.quant_utils.compute_scale_zp itself:
  symmetric and asymmetric, int8 / int8 narrow / uint8 and the 2..7-bit ranges, all-zero and
  one-signed ranges, scales below FLT_MIN, ranges near +-FLT_MAX (fine in 1.32: it subtracts in
  float64), and random ranges where a float32 subtraction would give another scale (1.31's rule),
  plus NaN, which raises: tests/golden/scale_zp_132.json;
- blocked (group-wise) QuantizeLinear / DequantizeLinear (opset 21, `block_size`), int8 and uint8,
  ranks 1..4, positive and negative axes, short last blocks, exact ties, saturation, nonzero zero
  points: tests/golden/blocked_quantize.json;
- QLinearConv with asymmetric pads and batched / broadcast QLinearMatMul (same case layout as
  make_golden.py's tests/golden/qlinear.json, with exact int32 accumulators from ConvInteger /
  MatMulInteger): tests/golden/qlinear_132.json;
- QLinearAveragePool and QLinearGlobalAveragePool (com.microsoft), int8 and uint8, NCHW: windows
  of any kernel and stride (dequantize, float sum, divide, quantize) and windows covering the
  whole image (onnxruntime's integer global pool, which QLinearAveragePool falls back to), with the
  output parameters equal to the input's (TFLite's rule, quantlab's) or their own:
  tests/golden/qlinear_pool_132.json (`--pool-only` writes just this file).

Usage (by hand, never in CI; needs PyPI; `make golden` does this):
  python3 -m venv /tmp/ort132 && /tmp/ort132/bin/pip install onnxruntime==1.32.0 onnx numpy
  /tmp/ort132/bin/python scripts/golden/make_golden_ort132.py
Floats are stored as uint32 bit patterns (in the three newer files: in fields ending `_bits`; tensors
are flat row-major lists). Everything is seeded; numpy cross-checks print every mismatch and write
the counts into each file's "notes".
"""
import json
import pathlib
import platform
import re
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization.quant_utils import compute_scale_zp

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATOR = "scripts/golden/make_golden_ort132.py"
VERSIONS = {
    "onnxruntime": ort.__version__,
    "onnx": onnx.__version__,
    "numpy": np.__version__,
    "python": platform.python_version(),
    "machine": platform.machine(),
}


def cast_round_trip(to):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])
    nodes = [helper.make_node("Cast", ["x"], ["h"], to=to), helper.make_node("Cast", ["h"], ["y"], to=TensorProto.FLOAT)]
    graph = helper.make_graph(nodes, "round_trip", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def inputs():
    rng = np.random.default_rng(20261201)
    v = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 65504.0, 65519.0, 65520.0, 65536.0, 1e30, 3.4e38,
         2.0 ** -14, 2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25, 2.0 ** -26, 3.0 * 2.0 ** -25, 1e-40, -1e-40]
    # float16 ties: 1 + k/1024 + 1/2048 (halfway between two float16 values), both parities.
    v += [1.0 + k / 1024 + 1 / 2048 for k in range(8)] + [-(1.0 + k / 1024 + 1 / 2048) for k in range(8)]
    # bfloat16 ties: 1 + k/128 + 1/256, and just above / below them.
    v += [1.0 + k / 128 + 1 / 256 for k in range(8)]
    ties = np.array(v, dtype=np.float32)
    near = np.concatenate([np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, np.float32(-np.inf))])
    # Random magnitudes over every binade float32 has, both signs; and raw random bit patterns.
    logs = rng.uniform(-149, 128, 600)
    mags = (2.0 ** logs * rng.uniform(1, 2, 600)).astype(np.float32)
    signs = np.where(rng.random(600) < 0.5, -1, 1).astype(np.float32)
    bits = rng.integers(0, 2 ** 32, 400, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([ties, near, mags * signs, bits]).astype(np.float32)


def dynamic_cases():
    rng = np.random.default_rng(132)
    cases = [[0.0, 0.0, 0.0], [1, 2, 3], [-1, -2, -3], [-0.5, 0.5], [0.1, -0.05, 2.5], [-0.3, 0.7],
             # zero points and values exactly halfway (scale 0.5): ties go to even
             [-0.25, 127.25], [-0.75, 126.75], [-1.25, 126.25, 0.25, 0.75, 1.25, 2.25],
             [1e-30, -1e-30], [3e38, -3e38], [-3e38, 1.0], [1e-38, 2e-38]]
    cases += [(rng.standard_normal(int(rng.integers(1, 200))) * 10.0 ** rng.uniform(-3, 3)).tolist() for _ in range(40)]
    cases += [np.abs(rng.standard_normal(64)).tolist(), (-np.abs(rng.standard_normal(64))).tolist()]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])
    outs = [helper.make_tensor_value_info("y", TensorProto.UINT8, [None]), helper.make_tensor_value_info("s", TensorProto.FLOAT, []),
            helper.make_tensor_value_info("z", TensorProto.UINT8, [])]
    graph = helper.make_graph([helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "z"])], "dql", [x], outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = []
    for c in cases:
        xs = np.array(c, dtype=np.float32)
        y, s, z = sess.run(None, {"x": xs})
        out.append({"x": xs.view(np.uint32).tolist(), "y": y.tolist(), "scale": int(np.array(s, np.float32).view(np.uint32)), "zeroPoint": int(z)})
    return out


# ----------------------------------------------------------------------------------------------
# shared helpers for the three newer files (conventions of make_golden.py)
# ----------------------------------------------------------------------------------------------

# The helpers this script shares with make_golden.py (the same conventions, and one list of the
# mismatches both report).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_golden import (  # noqa: E402
    MISMATCHES, NP_OF, RANGE, TP_OF, bits, f32, inside_fraction, ints, param_tensor, pick_output_qparams,
    requant, warn,
)

FLT_MIN = np.float32(np.finfo(np.float32).tiny)
FLT_MAX = np.float32(np.finfo(np.float32).max)


def run_model(nodes, inputs, initializers, outputs):
    """inputs: list of (name, np.ndarray); outputs: list of (name, TensorProto type). One model, CPU EP,
    graph optimizations off, one thread; returns the output arrays (raises what onnxruntime raises)."""
    g_inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape))
                for n, a in inputs]
    g_outputs = [helper.make_tensor_value_info(n, t, None) for n, t in outputs]
    graph = helper.make_graph(nodes, "g", g_inputs, g_outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.log_severity_level = 4  # refusals we probe for are reported in the notes, not on stderr
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run([n for n, _ in outputs], {n: a for n, a in inputs})


def first_line(e):
    """onnxruntime's failed-check message without the C++ signature: "file.cc:line: <why>"."""
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    m = re.search(r"([\w.]+\.cc:\d+) .* was false\. (.*?)\.?$", msg)
    return f"{m.group(1)}: {m.group(2).strip()}" if m else msg[-240:]


def write_json(path, top):
    """One case per line: compact, but diffable (as make_golden.py writes)."""
    parts = []
    for key, val in top.items():
        if isinstance(val, list) and val and isinstance(val[0], dict):
            body = ",\n".join("  " + json.dumps(c, separators=(",", ":")) for c in val)
            parts.append(f"{json.dumps(key)}: [\n{body}\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(val)}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    json.loads(text)  # sanity
    path.write_text(text)
    print(f"wrote {path}: {len(text)} bytes")


# ----------------------------------------------------------------------------------------------
# compute_scale_zp (onnxruntime.quantization.quant_utils, 1.32)
# ----------------------------------------------------------------------------------------------


def make_qranges():
    """name -> (qmin, qmax, dtype of the 0-d qmin/qmax arrays, as get_qmin_qmax_for_qType returns them)."""
    r = {"int8": (-128, 127, np.int8), "int8_narrow": (-127, 127, np.int8), "uint8": (0, 255, np.uint8)}
    for b in range(2, 8):
        h = 2 ** (b - 1)
        r[f"int{b}_narrow"] = (-(h - 1), h - 1, np.int8)
        r[f"int{b}"] = (-h, h - 1, np.int8)
        r[f"uint{b}"] = (0, 2 * h - 1, np.uint8)
    return r


QRANGES = make_qranges()


def ref_scale_zp(rmin, rmax, qmin, qmax, symmetric, f32_sub=False):
    """numpy restatement of 1.32's compute_scale_zp; None where it raises (NaN). f32_sub: subtract the
    width in float32 first (dr = float64(float32(rmax' - rmin')), the older rule 1.32 replaced)."""
    lo = np.minimum(f32(rmin), f32(0))
    hi = np.maximum(f32(rmax), f32(0))
    if symmetric:
        a = np.maximum(np.abs(lo), np.abs(hi))
        lo, hi = -a, a
    with np.errstate(over="ignore", invalid="ignore"):
        dr = np.float64(f32(hi - lo)) if f32_sub else np.float64(hi) - np.float64(lo)
        scale = dr / (np.float64(qmax) - np.float64(qmin))
        if not scale >= 0:
            return None
        if scale < np.float64(FLT_MIN):
            return np.float32(1.0), 0
        z = np.round((qmin + qmax) / 2.0) if symmetric else np.round(np.float64(qmin) - np.float64(lo) / scale)
    return np.float32(scale), int(z)


def ort_scale_zp(rmin, rmax, qname, symmetric):
    qmin, qmax, dt = QRANGES[qname]
    with np.errstate(all="ignore"):
        z, s = compute_scale_zp(f32(rmin), f32(rmax), np.array(qmin, dtype=dt), np.array(qmax, dtype=dt),
                                symmetric=symmetric)
    return np.float32(s), int(z)


def make_scale_zp_section():
    rng = np.random.default_rng(20261202)
    cases = []
    raised = set()
    nbad = 0

    def add(name, rmin, rmax, qname, symmetric):
        nonlocal nbad
        qmin, qmax, _ = QRANGES[qname]
        rmin, rmax = f32(rmin), f32(rmax)
        case = {"name": name, "rmin_bits": bits(rmin), "rmax_bits": bits(rmax), "qmin": qmin, "qmax": qmax,
                "symmetric": symmetric}
        ref = ref_scale_zp(rmin, rmax, qmin, qmax, symmetric)
        try:
            s, z = ort_scale_zp(rmin, rmax, qname, symmetric)
        except Exception as e:  # noqa: BLE001
            raised.add(f"{type(e).__name__}('{first_line(e)}')")
            case["error"] = True
            if ref is not None:
                nbad += 1
                warn(f"scale_zp {name}: compute_scale_zp raised {type(e).__name__}, numpy gives {ref}")
        else:
            case["scale_bits"] = bits(s)
            case["zero_point"] = z
            if ref is None or bits(ref[0]) != bits(s) or ref[1] != z:
                nbad += 1
                warn(f"scale_zp {name}: compute_scale_zp ({s!r}, {z}), numpy {ref}")
        cases.append(case)

    def tag(q, sym):
        return f"{q}_{'sym' if sym else 'asym'}"

    for q in QRANGES:
        for sym in (False, True):
            add(f"{tag(q, sym)}_basic", -0.731, 2.19, q, sym)
    for q in ("int8", "int8_narrow", "uint8", "int4", "uint4"):
        for sym in (False, True):
            add(f"{tag(q, sym)}_all_zero", 0.0, 0.0, q, sym)
            add(f"{tag(q, sym)}_positive_only", 0.5, 3.25, q, sym)
            add(f"{tag(q, sym)}_negative_only", -4.0, -0.25, q, sym)
    add("int8_asym_negzero", -0.0, -0.0, "int8", False)
    add("uint8_sym_negzero", -0.0, 0.0, "uint8", True)
    # zero point exactly on .5 in float64: round half to even
    add("uint8_asym_zp_tie", -1.0, 101.0, "uint8", False)  # round(2.5) = 2
    add("int8_asym_zp_tie", -1.0, 169.0, "int8", False)  # round(-126.5) = -126
    add("uint4_asym_zp_tie", -1.0, 5.0, "uint4", False)  # round(2.5) = 2
    add("int4_asym_zp_tie", -1.0, 9.0, "int4", False)  # round(-6.5) = -6
    add("uint2_asym_zp_tie", -1.0, 1.0, "uint2", False)  # round(1.5) = 2
    # scales near FLT_MIN. Exactly FLT_MIN is kept. The degenerate test is on the float64 scale: an asymmetric
    # range of float64 width (qmax - qmin) * FLT_MIN - 2^-149 gives a float64 scale just below FLT_MIN that
    # rounds to FLT_MIN in float32, and still yields (1, 0) (its float32 width rounds up to (qmax - qmin) * FLT_MIN).
    for q, sym in (("int8", False), ("uint8", False), ("uint2", False), ("int5", False), ("int3_narrow", False),
                   ("int8_narrow", True), ("uint8", True), ("int3_narrow", True)):
        qmin, qmax, _ = QRANGES[q]
        dq = qmax - qmin
        edge = np.float32(np.float64(dq) * np.float64(FLT_MIN) / (2.0 if sym else 1.0))
        assert np.float64(edge) * (2.0 if sym else 1.0) / dq == np.float64(FLT_MIN)
        if sym:
            add(f"{tag(q, sym)}_scale_eq_flt_min", -edge, edge, q, sym)
            add(f"{tag(q, sym)}_scale_just_below_flt_min", np.float32(0), np.nextafter(edge, np.float32(0)), q, sym)
            continue
        add(f"{tag(q, sym)}_scale_eq_flt_min", np.float32(0), edge, q, sym)
        hi = np.nextafter(edge, np.float32(0))
        lo = -np.float32(np.float64(edge) - np.float64(hi) - 2.0 ** -149)
        scale64 = (np.float64(hi) - np.float64(lo)) / dq
        assert scale64 < np.float64(FLT_MIN) and np.float32(scale64) == FLT_MIN, q
        add(f"{tag(q, sym)}_scale_f64_below_flt_min_rounds_to_it", lo, hi, q, sym)
    for name, lo, hi, q, sym in [
        ("int8_asym_tiny_pm1e-38", -1e-38, 1e-38, "int8", False),
        ("uint8_sym_tiny_pm1e-38", -1e-38, 1e-38, "uint8", True),
        ("int8_asym_tiny_min_subnormal", 0.0, 1e-45, "int8", False),
        ("uint8_asym_tiny_-1e-40", -1e-40, 0.0, "uint8", False),
        ("int8_narrow_sym_tiny_1e-39", -1e-39, 0.0, "int8_narrow", True),
        ("int8_asym_small_above_flt_min", -3e-36, 1e-36, "int8", False),
        ("int8_narrow_sym_small_above_flt_min", -2e-36, 2e-36, "int8_narrow", True),
        ("uint4_asym_small_above_flt_min", 0.0, 2e-37, "uint4", False),
    ]:
        add(name, lo, hi, q, sym)
    # huge ranges: the float64 subtraction cannot overflow (a float32 one gives inf for these)
    for q, sym in (("int8", False), ("int8_narrow", True), ("uint8", False), ("uint8", True), ("int8", True)):
        for label, lo, hi in (("pm3e38", -3e38, 3e38), ("pm3.4e38", -3.4e38, 3.4e38), ("pm_flt_max", -FLT_MAX, FLT_MAX),
                              ("neg_flt_max_to_1", -FLT_MAX, 1.0), ("neg1e30_to_flt_max", -1e30, FLT_MAX)):
            add(f"{tag(q, sym)}_huge_{label}", lo, hi, q, sym)
    add("int4_asym_huge_pm3.4e38", -3.4e38, 3.4e38, "int4", False)
    add("uint3_asym_huge_pm3e38", -3e38, 3e38, "uint3", False)
    # NaN: compute_scale_zp raises
    add("int8_asym_nan_rmin", np.nan, 1.0, "int8", False)
    add("uint8_sym_nan_rmax", -1.0, np.nan, "uint8", True)
    add("int4_asym_nan_both", np.nan, np.nan, "int4", False)
    # random ranges where the float32 width (older rule) and the float64 width give different float32 scales
    # (qmax - qmin) a power of two (int2_narrow: 2) divides exactly, so both rules agree there: skipped
    names = [q for q in QRANGES if (QRANGES[q][1] - QRANGES[q][0]) & (QRANGES[q][1] - QRANGES[q][0] - 1)]
    found = tries = 0
    while found < 30:
        tries += 1
        assert tries < 100000
        q = names[found % len(names)]
        qmin, qmax, _ = QRANGES[q]
        lo = -np.float32(10 ** rng.uniform(-4, 4))
        hi = np.float32(10 ** rng.uniform(-4, 4))
        new, old = ref_scale_zp(lo, hi, qmin, qmax, False), ref_scale_zp(lo, hi, qmin, qmax, False, f32_sub=True)
        if bits(new[0]) != bits(old[0]):
            add(f"{q}_asym_random_f32sub_differs_{found}", lo, hi, q, False)
            found += 1
    # how many cases (and of which kind) would come out differently with the float32 width
    ndiff, diff_names = 0, []
    for c in cases:
        if c.get("error"):
            continue
        lo, hi = (np.uint32(c[k][0]).view(np.float32) for k in ("rmin_bits", "rmax_bits"))
        old = ref_scale_zp(lo, hi, c["qmin"], c["qmax"], c["symmetric"], f32_sub=True)
        if bits(old[0]) != c["scale_bits"] or old[1] != c["zero_point"]:
            ndiff += 1
            if "_random_f32sub_" not in c["name"]:
                diff_names.append(c["name"])
    # inputs that do not raise but that quantlab refuses (non-finite, rmin > rmax): described in the notes only
    odd = []
    for lo, hi, q, sym in ((-1.0, np.inf, "int8", False), (-np.inf, 1.0, "int8", False),
                           (-np.inf, np.inf, "uint8", True), (1.0, -1.0, "int8", False),
                           (3.0, 2.0, "uint8", False), (-2.0, -3.0, "int8", False)):
        s, z = ort_scale_zp(lo, hi, q, sym)
        odd.append(f"[{lo}, {hi}] {q} {'sym' if sym else 'asym'} -> scale {s}, zero point {z}")
    return cases, nbad, (ndiff, diff_names), tries, sorted(raised), odd


def scale_zp_notes(cases, nbad, diff, tries, raised, odd):
    ndiff, diff_names = diff
    nrand = sum(1 for c in cases if "_random_f32sub_" in c["name"])
    return [
        "Floats are uint32 bit patterns; rmin_bits / rmax_bits / scale_bits are one-element lists (as in "
        "quantize.json's calibration cases), zero_point is a plain int.",
        f"Each case is one call of onnxruntime {ort.__version__}'s onnxruntime.quantization.quant_utils."
        "compute_scale_zp(rmin, rmax, qmin, qmax, symmetric) with 0-d numpy.float32 rmin/rmax and 0-d qmin/qmax "
        "arrays of dtype int8 (signed ranges) or uint8 (unsigned ranges), as get_qmin_qmax_for_qType returns them "
        "(INT8 symmetric -> [-127,127], INT8 -> [-128,127], UINT8 -> [0,255] with or without symmetric); "
        "min_real_range=None. The 2..7-bit ranges are signed narrow [-(2^(b-1)-1), 2^(b-1)-1] (*_narrow), "
        "signed [-2^(b-1), 2^(b-1)-1] (intb) and unsigned [0, 2^b-1] (uintb). scale_bits = float32 bits of the "
        "returned scale.",
        "What 1.32's compute_scale_zp computes: (1) ValueError if qmin > 0 or qmax < 0; "
        "(2) rmin' = minimum(rmin, 0), rmax' = maximum(rmax, 0), in float32; "
        "(3) symmetric: absmax = maximum(|rmin'|, |rmax'|) (float32), rmin' = -absmax, rmax' = +absmax; "
        "(4) dr = float64(rmax') - float64(rmin') -- the subtraction is done in float64, so no finite float32 range "
        "overflows ([-3e38, 3e38] and [-3.4e38, 3.4e38] and [-FLT_MAX, FLT_MAX] are valid) -- and "
        "scale = dr / (float64(qmax) - float64(qmin)) in float64; "
        "(5) `assert scale >= 0`: a NaN rmin or rmax makes scale NaN and raises AssertionError('scale issue') -- "
        "the only input here that raises (cases with \"error\": true); "
        "(6) minimum-scale / degenerate rule: if the float64 scale < FLT_MIN (numpy.finfo(float32).tiny = 2^-126), "
        "compared BEFORE rounding to float32 (a float64 scale just below 2^-126 that rounds up to 2^-126 in float32 "
        "still counts: the *_scale_f64_below_flt_min_rounds_to_it cases, asymmetric ranges of float64 width "
        "(qmax - qmin) * 2^-126 - 2^-149; a symmetric range cannot do this, its *_scale_just_below_flt_min float64 "
        "scale rounds below 2^-126 too), the result is scale 1.0 and zero point 0 -- also for "
        "symmetric uint8, whose zero point is otherwise 128; this is what an all-zero range (or any range whose "
        "width / (qmax - qmin) < 2^-126) gives; a scale of exactly 2^-126 is kept; "
        "(7) otherwise the zero point is round_half_even((qmin + qmax) / 2.0) in float64 if symmetric "
        "(0 for the signed ranges, 2^(b-1) for uintb: 128 for uint8), else round_half_even(qmin - rmin' / scale) "
        "in float64 (float32 rmin' promoted), cast to the qmin dtype without clipping; "
        "(8) the returned scale is the float64 scale cast to float32 (round to nearest even).",
        f"Exceptions raised by 1.32 over all cases: {'; '.join(raised) if raised else 'none'}.",
        "Not cases (they do not raise in 1.32; quantlab refuses them): " + "; ".join(odd) + ". rmin > rmax is not "
        "checked (only minimum(rmin, 0) and maximum(rmax, 0) are used); an infinite end gives an infinite scale, and "
        "with rmin = -inf the zero point is NaN (-inf / inf) cast to the integer dtype, undefined in numpy.",
        f"The {nrand} *_random_f32sub_differs_* cases are random float32 ranges (rmin = -10^U(-4,4), "
        f"rmax = 10^U(-4,4), asymmetric, cycling through all ranges but int2_narrow, whose qmax - qmin = 2 divides "
        f"exactly so that both rules always agree; found in {tries} draws) for which the older "
        "float32 rule, scale = float32(float64(float32(rmax' - rmin')) / (qmax - qmin)) (onnxruntime before 1.32: "
        "dr = numpy.array(rmax - rmin, dtype=numpy.float64)), gives another float32 scale than 1.32's float64 "
        f"subtraction. Over all non-error cases, {ndiff} of {sum(1 for c in cases if not c.get('error'))} would get "
        "another scale or zero point from that float32 rule: the random ones and " + ", ".join(diff_names) +
        " (the huge ones because the float32 width overflows to inf). Symmetric ranges can only differ by overflow "
        "(2 * absmax is exact otherwise).",
        f"numpy restatement of (1)-(8) vs compute_scale_zp: {nbad} mismatches.",
    ]


# ----------------------------------------------------------------------------------------------
# blocked QuantizeLinear / DequantizeLinear (opset 21, block_size)
# ----------------------------------------------------------------------------------------------


def block_shape(shape, axis, block):
    s = list(shape)
    s[axis] = -(-s[axis] // block)
    return s


def expand_blocks(p, shape, axis, block):
    """Blocked parameter (shape block_shape) -> one value per element of `shape`."""
    ax = axis % len(shape)
    return np.repeat(np.asarray(p), block, axis=ax).take(np.arange(shape[ax]), axis=ax)


def ref_blocked_quantize(x, scale, zp, dtype, axis, block):
    s = expand_blocks(scale, x.shape, axis, block)
    z = expand_blocks(zp, x.shape, axis, block).astype(np.float64)
    lo, hi = RANGE[dtype]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        r = np.rint(x / s).astype(np.float64) + z  # float32 division, round half to even, then + z
    return np.clip(r, lo, hi).astype(np.int64)


def ref_blocked_dequantize(q, scale, zp, axis, block):
    s = expand_blocks(scale, q.shape, axis, block)
    z = expand_blocks(zp, q.shape, axis, block).astype(np.int64)
    with np.errstate(over="ignore"):
        return (q.astype(np.int64) - z).astype(np.float32) * s


def blocked_quantize_case(name, dtype, x, axis, block, scale, zp):
    x, scale, zp = f32(x), f32(scale), np.asarray(zp, dtype=NP_OF[dtype])
    assert list(scale.shape) == block_shape(x.shape, axis, block) == list(zp.shape)
    node = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], axis=axis, block_size=block)
    (y,) = run_model([node], [("x", x)], [numpy_helper.from_array(scale, "s"), numpy_helper.from_array(zp, "z")],
                     [("y", TP_OF[dtype])])
    ref = ref_blocked_quantize(x, scale, zp, dtype, axis, block)
    bad = np.nonzero(ref.reshape(-1) != y.astype(np.int64).reshape(-1))[0]
    for i in bad[:10]:
        warn(f"blocked quantize {name}[{i}]: x={x.reshape(-1)[i]!r} ort={y.reshape(-1)[i]} numpy={ref.reshape(-1)[i]}")
    return {"name": name, "dtype": dtype, "shape": list(x.shape), "axis": axis, "block_size": block,
            "x_bits": bits(x), "scale_shape": list(scale.shape), "scale_bits": bits(scale), "zero_point": ints(zp),
            "y": ints(y)}, len(bad)


def blocked_dequantize_case(name, dtype, q, axis, block, scale, zp):
    q, scale, zp = np.asarray(q, dtype=NP_OF[dtype]), f32(scale), np.asarray(zp, dtype=NP_OF[dtype])
    assert list(scale.shape) == block_shape(q.shape, axis, block) == list(zp.shape)
    node = helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=axis, block_size=block)
    (y,) = run_model([node], [("q", q)], [numpy_helper.from_array(scale, "s"), numpy_helper.from_array(zp, "z")],
                     [("y", TensorProto.FLOAT)])
    ref = ref_blocked_dequantize(q, scale, zp, axis, block)
    bad = np.nonzero(np.asarray(bits(ref)) != np.asarray(bits(y)))[0]
    for i in bad[:10]:
        warn(f"blocked dequantize {name}[{i}]: q={q.reshape(-1)[i]} ort={y.reshape(-1)[i]!r} "
             f"numpy={ref.reshape(-1)[i]!r}")
    return {"name": name, "dtype": dtype, "shape": list(q.shape), "axis": axis, "block_size": block, "q": ints(q),
            "scale_shape": list(scale.shape), "scale_bits": bits(scale), "zero_point": ints(zp),
            "x_bits": bits(y)}, len(bad)


def tie_value(s, k):
    """float32 x with float32(x / s) == k + 0.5 exactly (float32 division), or None."""
    s, target = np.float32(s), np.float32(k + 0.5)
    x0 = np.float32(np.float64(k + 0.5) * np.float64(s))
    cand, lo, hi = [x0], x0, x0
    for _ in range(4):
        lo, hi = np.nextafter(lo, np.float32(-np.inf)), np.nextafter(hi, np.float32(np.inf))
        cand += [lo, hi]
    return next((c for c in cand if np.float32(c / s) == target), None)


def tie_tensor(rng, s_full, z_full, dtype):
    """Per element an exact .5 tie of x / s that stays inside the range after + z."""
    qmin, qmax = RANGE[dtype]
    out = np.empty(s_full.shape, dtype=np.float32)
    for idx in np.ndindex(s_full.shape):
        z = int(z_full[idx])
        for _ in range(100):
            v = tie_value(s_full[idx], int(rng.integers(qmin - z, qmax - z)))
            if v is not None:
                break
        else:
            raise RuntimeError(f"no tie for scale {s_full[idx]!r}")
        out[idx] = v
    return out


def rand_zp(rng, dtype, shape, wide=False):
    lo, hi = ((-128, 128) if wide else (-90, 60)) if dtype == "int8" else ((0, 256) if wide else (20, 236))
    return rng.integers(lo, hi, shape).astype(NP_OF[dtype])


def rand_scale(rng, shape, lo=-3.0, hi=0.0):
    return f32(10 ** rng.uniform(lo, hi, shape))


def blocked_probe(dtype, shape, axis, block):
    """None if onnxruntime runs QuantizeLinear and DequantizeLinear with this block, else the error."""
    x = np.zeros(shape, np.float32)
    ps = block_shape(shape, axis, block)
    inits = [numpy_helper.from_array(np.ones(ps, np.float32), "s"),
             numpy_helper.from_array(np.zeros(ps, NP_OF[dtype]), "z")]
    try:
        run_model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], axis=axis, block_size=block)],
                  [("x", x)], inits, [("y", TP_OF[dtype])])
        run_model([helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=axis, block_size=block)],
                  [("q", x.astype(NP_OF[dtype]))], inits, [("y", TensorProto.FLOAT)])
    except Exception as e:  # noqa: BLE001
        return first_line(e)
    return None


# name, dtype, shape, axis, block, kind (random / ties / ties_pow2 / saturate / tiny_huge)
BLOCKED_Q_SPECS = [
    ("r1_a0_b4_short", "int8", [10], 0, 4, "random"),
    ("r1_a0_b7_whole", "uint8", [7], 0, 7, "random"),
    ("r1_a-1_b2_short", "uint8", [9], -1, 2, "random"),
    ("r1_a0_b1", "int8", [6], 0, 1, "random"),
    ("r2_a1_b3_short", "int8", [4, 10], 1, 3, "random"),
    ("r2_a0_b3_short", "uint8", [4, 10], 0, 3, "random"),
    ("r2_a1_b16", "int8", [3, 64], 1, 16, "random"),
    ("r2_a-1_b32_short", "uint8", [3, 70], -1, 32, "random"),
    ("r2_a1_b16_short", "int8", [2, 40], 1, 16, "random"),
    ("r2_a0_b2", "int8", [6, 8], 0, 2, "random"),
    ("r2_a1_b12_whole", "int8", [5, 12], 1, 12, "random"),
    ("r2_a0_b16_whole", "uint8", [16, 4], 0, 16, "random"),
    ("r2_a-2_b4_short", "uint8", [9, 3], -2, 4, "random"),
    ("r2_a1_b4_ties_pow2", "int8", [6, 20], 1, 4, "ties_pow2"),
    ("r2_a0_b2_ties_pow2", "uint8", [7, 5], 0, 2, "ties_pow2"),
    ("r2_a1_b3_ties", "int8", [5, 11], 1, 3, "ties"),
    ("r3_a2_b4_ties", "uint8", [2, 3, 10], 2, 4, "ties"),
    ("r2_a1_b4_saturate", "int8", [4, 12], 1, 4, "saturate"),
    ("r2_a0_b3_saturate", "uint8", [7, 6], 0, 3, "saturate"),
    ("r2_a1_b2_tiny_huge", "int8", [4, 8], 1, 2, "tiny_huge"),
    ("r3_a1_b2_short", "int8", [2, 5, 6], 1, 2, "random"),
    ("r3_a2_b3_short", "uint8", [2, 3, 7], 2, 3, "random"),
    ("r3_a0_b3_short", "int8", [4, 3, 5], 0, 3, "random"),
    ("r3_a-2_b4_short", "uint8", [2, 6, 4], -2, 4, "random"),
    ("r3_a-1_b32", "int8", [2, 2, 64], -1, 32, "random"),
    ("r4_a1_b2_short", "int8", [2, 3, 4, 5], 1, 2, "random"),
    ("r4_a0_b1", "uint8", [2, 3, 4, 5], 0, 1, "random"),
    ("r4_a-1_b3_short", "int8", [2, 3, 4, 5], -1, 3, "random"),
    ("r4_a2_b2_whole", "uint8", [3, 4, 2, 6], 2, 2, "random"),
    ("r4_a3_b32_short", "int8", [1, 2, 3, 33], 3, 32, "random"),
    ("r4_a-3_b3", "uint8", [2, 6, 3, 3], -3, 3, "random"),
    ("r4_a1_b4_ties", "int8", [1, 8, 2, 3], 1, 4, "ties"),
    ("r4_a3_b16_saturate", "uint8", [1, 2, 2, 20], 3, 16, "saturate"),
    ("r2_a1_b8_one_block", "int8", [1, 8], 1, 8, "random"),
]

BLOCKED_DQ_SPECS = [
    ("r1_a0_b4_short", "int8", [10], 0, 4, "random"),
    ("r1_a-1_b5_whole", "uint8", [5], -1, 5, "random"),
    ("r1_a0_b1", "uint8", [6], 0, 1, "random"),
    ("r2_a1_b3_short", "int8", [4, 10], 1, 3, "random"),
    ("r2_a0_b3_short", "uint8", [5, 7], 0, 3, "random"),
    ("r2_a1_b16", "uint8", [3, 48], 1, 16, "random"),
    ("r2_a-1_b32_short", "int8", [2, 70], -1, 32, "random"),
    ("r2_a0_b16_short", "int8", [20, 3], 0, 16, "random"),
    ("r2_a1_b8_whole", "int8", [3, 8], 1, 8, "random"),
    ("r2_a-2_b2", "uint8", [8, 3], -2, 2, "random"),
    ("r2_a1_b4_all_int8", "int8", [4, 64], 1, 4, "all_values"),
    ("r2_a1_b16_all_uint8", "uint8", [2, 128], 1, 16, "all_values"),
    ("r2_a0_b2_tiny_huge", "int8", [8, 5], 0, 2, "tiny_huge"),
    ("r2_a1_b3_tiny_huge", "uint8", [3, 12], 1, 3, "tiny_huge"),
    ("r3_a1_b2_short", "int8", [2, 5, 4], 1, 2, "random"),
    ("r3_a2_b3_short", "uint8", [3, 2, 8], 2, 3, "random"),
    ("r3_a0_b2", "uint8", [4, 3, 2], 0, 2, "random"),
    ("r3_a-1_b32", "int8", [2, 3, 32], -1, 32, "random"),
    ("r4_a1_b2_short", "uint8", [2, 5, 3, 3], 1, 2, "random"),
    ("r4_a0_b1", "int8", [3, 2, 2, 4], 0, 1, "random"),
    ("r4_a-1_b3_short", "int8", [2, 2, 3, 7], -1, 3, "random"),
    ("r4_a2_b4_whole", "uint8", [2, 2, 4, 3], 2, 4, "random"),
    ("r4_a-4_b2_short", "int8", [3, 2, 2, 2], -4, 2, "random"),
    ("r3_a2_b6_one_block", "uint8", [1, 1, 6], 2, 6, "random"),
]


def blocked_params(rng, kind, dtype, ps):
    if kind == "ties_pow2":
        return f32(2.0 ** rng.integers(-8, 3, ps)), rand_zp(rng, dtype, ps)
    if kind == "tiny_huge":
        return f32(10.0 ** rng.choice([-38.0, -30.0, -7.0, 0.0, 5.0, 30.0, 38.0], ps)) * rand_scale(rng, ps, 0, 0.3), \
            rand_zp(rng, dtype, ps, wide=True)
    return rand_scale(rng, ps), rand_zp(rng, dtype, ps, wide=kind == "saturate")


def make_blocked_section():
    rng = np.random.default_rng(20261203)
    quant, dequant, refused = [], [], []
    qbad = dqbad = 0
    for name, dtype, shape, axis, block, kind in BLOCKED_Q_SPECS:
        err = blocked_probe(dtype, shape, axis, block)
        if err:
            refused.append(f"{name} ({dtype}, shape {shape}, axis {axis}, block {block}): {err}")
            continue
        ps = block_shape(shape, axis, block)
        scale, zp = blocked_params(rng, kind, dtype, ps)
        s_full, z_full = expand_blocks(scale, shape, axis, block), expand_blocks(zp, shape, axis, block)
        if kind == "ties_pow2":
            qmin, qmax = RANGE[dtype]
            k = rng.integers(qmin - z_full.astype(np.int64), qmax - z_full.astype(np.int64))
            x = f32((k + 0.5) * s_full)
        elif kind == "ties":
            x = tie_tensor(rng, s_full, z_full, dtype)
        elif kind == "saturate":
            mult = rng.choice([-1e30, -1e4, -300.0, -129.5, -128.5, 127.5, 128.5, 255.5, 256.5, 300.0, 1e4, 1e30],
                              shape)
            x = f32(mult * s_full)
            x.reshape(-1)[:4] = f32([np.inf, -np.inf, 3e38, -3e38])
        elif kind == "tiny_huge":
            v = rng.standard_normal(shape) * s_full * 10.0 ** rng.choice([-40.0, -3.0, 0.0, 1.5, 3.0, 40.0], shape)
            x = f32(np.clip(v, -3e38, 3e38))  # finite (the saturate cases have the infinities)
        else:
            x = f32(rng.standard_normal(shape) * s_full * 60.0)
        c, b = blocked_quantize_case(name, dtype, x, axis, block, scale, zp)
        quant.append(c)
        qbad += b
    for name, dtype, shape, axis, block, kind in BLOCKED_DQ_SPECS:
        err = blocked_probe(dtype, shape, axis, block)
        if err:
            refused.append(f"{name} ({dtype}, shape {shape}, axis {axis}, block {block}): {err}")
            continue
        ps = block_shape(shape, axis, block)
        scale, zp = blocked_params(rng, kind, dtype, ps)
        qmin, qmax = RANGE[dtype]
        if kind == "all_values":
            q = np.resize(np.arange(qmin, qmax + 1), shape)
        else:
            q = rng.integers(qmin, qmax + 1, shape)
        c, b = blocked_dequantize_case(name, dtype, q, axis, block, scale, zp)
        dequant.append(c)
        dqbad += b
    # blocks longer than the whole axis (one block), and zero_point omitted, for the notes
    extra = []
    err = blocked_probe("int8", [3, 5], 1, 8)
    extra.append("block_size 8 on an axis of length 5 (one block of 5): "
                 + ("accepted" if err is None else "refused: " + err))
    return quant, dequant, qbad, dqbad, refused, extra


def blocked_notes(quant, dequant, qbad, dqbad, refused, extra):
    return [
        "Floats are uint32 bit patterns (x_bits, scale_bits); tensors are flat row-major lists; scale and "
        "zero_point have shape scale_shape = shape with shape[axis] replaced by ceil(shape[axis] / block_size) "
        "(the ONNX opset-21 blocked layout); axis is recorded as given to the node (negative axes included).",
        f"quantize: one QuantizeLinear(x, scale, zero_point, axis, block_size) node (opset 21) run by onnxruntime "
        f"{ort.__version__} CPUExecutionProvider (graph optimizations off), x float32, y int8/uint8 = the zero point "
        "dtype; dequantize: one DequantizeLinear(q, scale, zero_point, axis, block_size) node, x float32. Scale and "
        "zero point are initializers. Element i along axis uses block floor(i / block_size); the last block is short "
        "when block_size does not divide the axis.",
        "Rule checked in numpy: quantize y = saturate(round_half_even(float32(x / s)) + z), dequantize "
        "x = float32(q - z) * s (float32 product), with s, z the element's block parameters.",
        "Cases: random (x = N(0,1) * s * 60, so some saturate), ties (x with float32(x / s) exactly k + 0.5, random "
        "scales found by search), ties_pow2 (power-of-two scales, x = (k + 0.5) * s), saturate (x = +-1e30 .. +-128.5 "
        "times s, and +-inf, +-3e38), tiny_huge (scales 1e-38 .. 1e38, x from 1e-40 to 1e40 times s); zero points "
        "random, negative for int8. NaN inputs are deliberately absent.",
        "onnxruntime CPU ran int8 and uint8, ranks 1-4, positive and negative axes, block sizes 1, 2, 3, 4, 16, 32 "
        "and whole-axis blocks (rank >= 2), and short last blocks. "
        + ("It refused (left out, probed on every run): " + "; ".join(refused) + ". That is: when the blocked scale "
           "is a 1-element 1-D tensor (a rank-1 x whose axis is one block) onnxruntime takes the per-tensor path, "
           "which requires block_size 0; a single-element scale of rank >= 2 (r2_a1_b8_one_block, r3_a2_b6_one_block) "
           "is accepted." if refused else "It refused nothing that was tried."),
        "; ".join(extra) + " (not a case).",
        f"numpy cross-check mismatches: quantize {qbad} (of {sum(len(c['y']) for c in quant)} values), "
        f"dequantize {dqbad} (of {sum(len(c['q']) for c in dequant)} values).",
    ]


# ----------------------------------------------------------------------------------------------
# QLinearConv (asymmetric pads) / QLinearMatMul (batched, broadcast) -- qlinear.json's layout
# ----------------------------------------------------------------------------------------------


def ref_conv_acc(x, w, xz, pads, stride=1):
    """Exact sum (x - xz) w over an NCHW conv, w zero point 0, pads [top, left, bottom, right] holding xz,
    strides [stride, stride]."""
    t, l, b, r = pads
    x = x.astype(np.int64) - int(xz)
    w = w.astype(np.int64)
    N, C, H, W = x.shape
    M, _, kh, kw = w.shape
    xp = np.zeros((N, C, H + t + b, W + l + r), dtype=np.int64)
    xp[:, :, t:t + H, l:l + W] = x
    OH, OW = (H + t + b - kh) // stride + 1, (W + l + r - kw) // stride + 1
    acc = np.zeros((N, M, OH, OW), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            win = xp[:, :, i:i + stride * (OH - 1) + 1:stride, j:j + stride * (OW - 1) + 1:stride]
            acc += np.einsum("nchw,mc->nmhw", win, w[:, :, i, j])
    return acc


def pick_scales(rng, style, n_w):
    if style == "pow2":
        return np.float32(2.0 ** -int(rng.integers(3, 8))), f32(2.0 ** -rng.integers(4, 7, n_w))
    if style == "natural":
        return np.float32(rng.uniform(0.003, 0.05)), f32(10 ** rng.uniform(-3.5, -1.5, n_w))
    return np.float32(0.02), (f32(np.linspace(0.004, 0.02, n_w)) if n_w > 1 else f32([0.01]))


def conv_integer_ort(x, w, xz, dtype, pads, stride=1):
    """ConvInteger(x, w, x_zp, w_zp=0) from onnxruntime; returns (acc, how)."""
    def run(xx, ww, xzz, wzz, xt, wt):
        node = helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], pads=pads, strides=[stride, stride])
        inits = [numpy_helper.from_array(ww, "w"), numpy_helper.from_array(np.asarray(xzz, dtype=xt).reshape(()), "xz"),
                 numpy_helper.from_array(np.asarray(wzz, dtype=wt).reshape(()), "wz")]
        return run_model([node], [("x", xx)], inits, [("y", TensorProto.INT32)])[0]
    try:
        return run(x, w, xz, 0, NP_OF[dtype], np.int8), "direct"
    except Exception as e:  # noqa: BLE001
        err = first_line(e)[:160]
    # Fallback: shift both operands to uint8 (q + 128, zp + 128): (q - z) is unchanged, so acc is identical.
    xs = x.astype(np.int16) + (128 if dtype == "int8" else 0)
    return run(xs.astype(np.uint8), (w.astype(np.int16) + 128).astype(np.uint8),
               int(xz) + (128 if dtype == "int8" else 0), 128, np.uint8, np.uint8), "u8-shift (" + err + ")"


def qlinearconv_case(rng, name, dtype, N, C, H, W, M, k, pads, per_channel, style, x_zp=None, stride=1):
    qmin, qmax = RANGE[dtype]
    x = rng.integers(qmin, qmax + 1, (N, C, H, W)).astype(NP_OF[dtype])
    if x_zp is None:
        x_zp = int(rng.integers(qmin + 20, qmax - 20))
    w = rng.integers(-127, 128, (M, C, k, k)).astype(np.int8)
    if style == "pow2":  # small operands: with power-of-two scales many float32(acc) * mult land on .5
        x = np.clip(x_zp + rng.integers(-6, 7, x.shape), qmin, qmax).astype(NP_OF[dtype])
        w = rng.integers(-5, 6, w.shape).astype(np.int8)
    if name.endswith("m128"):
        w.reshape(-1)[0] = -128
    x_scale, w_scale = pick_scales(rng, style, M if per_channel else 1)
    acc0 = ref_conv_acc(x, w, x_zp, pads, stride)
    bias = (rng.standard_normal(M) * acc0.std() * 0.5).astype(np.int64)
    bias[0] = 0
    acc_ref = acc0 + bias.reshape(1, M, 1, 1)
    real = acc_ref * (x_scale.astype(np.float64) * (w_scale.astype(np.float64).reshape(1, -1, 1, 1)))
    fs = float(x_scale) * float(w_scale.max()) * 2.0 ** int(rng.integers(1, 3)) if style == "pow2" else None
    y_scale, y_zp = pick_output_qparams(real, dtype, rng, style, fs)
    pc = per_channel
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"], pads=pads,
                            kernel_shape=[k, k], strides=[stride, stride], dilations=[1, 1], group=1)
    inits = [
        param_tensor("xs", [x_scale], np.float32, False), param_tensor("xz", [x_zp], NP_OF[dtype], False),
        numpy_helper.from_array(w, "w"),
        param_tensor("ws", w_scale, np.float32, pc), param_tensor("wz", [0] * w_scale.size, np.int8, pc),
        param_tensor("ys", [y_scale], np.float32, False), param_tensor("yz", [y_zp], NP_OF[dtype], False),
        numpy_helper.from_array(bias.astype(np.int32), "b"),
    ]
    (y,) = run_model([node], [("x", x)], inits, [("y", TP_OF[dtype])])
    acc_ort, how = conv_integer_ort(x, w, x_zp, dtype, pads, stride)
    acc = acc_ort.astype(np.int64) + bias.reshape(1, M, 1, 1)
    n_acc_bad = int((acc != acc_ref).sum())
    if n_acc_bad:
        warn(f"qlinearconv {name}: {n_acc_bad} accumulators differ between ORT ConvInteger+bias and numpy")
    y_ref = requant(acc, x_scale, w_scale, y_scale, y_zp, dtype, 1)
    n_y_bad = int((y_ref != y.astype(np.int64)).sum())
    if n_y_bad:
        warn(f"qlinearconv {name}: {n_y_bad}/{y.size} outputs differ from numpy requantization")
    frac = inside_fraction(y, dtype)
    if frac < 0.5:
        warn(f"qlinearconv {name}: only {frac:.2f} of outputs strictly inside the range")
    case = {
        "name": name, "x_dtype": dtype, "x_shape": list(x.shape), "x": ints(x), "x_scale_bits": bits(x_scale),
        "x_zero_point": int(x_zp), "w_shape": list(w.shape), "w": ints(w), "w_scale_bits": bits(w_scale),
        "w_zero_point": [0] * w_scale.size, "y_scale_bits": bits(y_scale), "y_zero_point": int(y_zp),
        "bias": ints(bias), "pads": list(pads), "y_shape": list(y.shape), "y": ints(y), "acc": ints(acc),
    }
    if stride != 1:
        case["stride"] = stride
    return case, n_acc_bad, n_y_bad, y.size, how


def qlinearmatmul_node(a, a_scale, a_zp, b, b_scale_ort, y_scale, y_zp, dtype):
    node = helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])
    inits = [
        param_tensor("as", [a_scale], np.float32, False), param_tensor("az", [a_zp], NP_OF[dtype], False),
        numpy_helper.from_array(b, "b"),
        numpy_helper.from_array(f32(b_scale_ort), "bs"),
        numpy_helper.from_array(np.zeros(b_scale_ort.shape, np.int8), "bz"),
        param_tensor("ys", [y_scale], np.float32, False), param_tensor("yz", [y_zp], NP_OF[dtype], False),
    ]
    return run_model([node], [("a", a)], inits, [("y", TP_OF[dtype])])[0]


def b_scale_for_ort(b_scale, b_shape):
    """Scalar (per-tensor); [M] for a 1-D/2-D b; for a batched b, the length-M scale tiled to
    b_shape[:-2] + [1, M], the only per-column shape onnxruntime's QLinearMatMul takes there."""
    if b_scale.size == 1:
        return b_scale.reshape(())
    if len(b_shape) <= 2:
        return b_scale
    return np.broadcast_to(b_scale, tuple(b_shape[:-2]) + (1, b_scale.size)).copy()


def qlinearmatmul_case(rng, name, a_dtype, a_shape, b_shape, per_column, style, a_zp=None):
    qmin, qmax = RANGE[a_dtype]
    a = rng.integers(qmin, qmax + 1, a_shape).astype(NP_OF[a_dtype])
    if a_zp is None:
        a_zp = int(rng.integers(qmin + 20, qmax - 20))
    b = rng.integers(-127, 128, b_shape).astype(np.int8)
    if style == "pow2":  # see qlinearconv_case
        a = np.clip(a_zp + rng.integers(-6, 7, a.shape), qmin, qmax).astype(NP_OF[a_dtype])
        b = rng.integers(-5, 6, b.shape).astype(np.int8)
    M = b_shape[-1] if len(b_shape) > 1 else 1
    assert not (per_column and len(b_shape) == 1)
    a_scale, b_scale = pick_scales(rng, style, M if per_column else 1)
    acc_ref = np.matmul(a.astype(np.int64) - a_zp, b.astype(np.int64))
    col = b_scale.astype(np.float64) if b_scale.size > 1 else b_scale.astype(np.float64).reshape(())
    real = acc_ref * (a_scale.astype(np.float64) * col)
    fs = float(a_scale) * float(b_scale.max()) * 2.0 ** int(rng.integers(1, 3)) if style == "pow2" else None
    y_scale, y_zp = pick_output_qparams(real, a_dtype, rng, style, fs)
    y = qlinearmatmul_node(a, a_scale, a_zp, b, b_scale_for_ort(b_scale, b_shape), y_scale, y_zp, a_dtype)
    mm = helper.make_node("MatMulInteger", ["a", "b", "az", "bz"], ["y"])
    (acc,) = run_model([mm], [("a", a)], [numpy_helper.from_array(b, "b"),
                                          param_tensor("az", [a_zp], NP_OF[a_dtype], False),
                                          param_tensor("bz", [0], np.int8, False)], [("y", TensorProto.INT32)])
    acc = acc.astype(np.int64)
    n_acc_bad = int((acc.shape != acc_ref.shape) or (acc != acc_ref).sum())
    if n_acc_bad:
        warn(f"qlinearmatmul {name}: {n_acc_bad} accumulators differ between ORT MatMulInteger and numpy")
    if y.shape != acc_ref.shape:
        warn(f"qlinearmatmul {name}: y shape {y.shape} != numpy matmul shape {acc_ref.shape}")
    y_ref = requant(acc, a_scale, b_scale, y_scale, y_zp, a_dtype, -1)
    n_y_bad = int((y_ref != y.astype(np.int64)).sum())
    if n_y_bad:
        warn(f"qlinearmatmul {name}: {n_y_bad}/{y.size} outputs differ from numpy requantization")
    frac = inside_fraction(y, a_dtype)
    if frac < 0.5:
        warn(f"qlinearmatmul {name}: only {frac:.2f} of outputs strictly inside the range")
    case = {
        "name": name, "a_dtype": a_dtype, "a_shape": list(a_shape), "a": ints(a), "a_scale_bits": bits(a_scale),
        "a_zero_point": int(a_zp), "b_shape": list(b_shape), "b": ints(b), "b_scale_bits": bits(b_scale),
        "b_zero_point": [0] * b_scale.size, "y_scale_bits": bits(y_scale), "y_zero_point": int(y_zp),
        "y_shape": list(y.shape), "y": ints(y), "acc": ints(acc),
    }
    return case, n_acc_bad, n_y_bad, y.size


def qlinearmatmul_probes():
    """What onnxruntime's QLinearMatMul accepts / refuses among the b_scale layouts one might try (for the notes)."""
    accepted, refused = [], {}
    for a_shape, b_shape, bs_shape in (((3, 4), (2, 4, 5), (5,)), ((3, 4), (2, 4, 5), (1, 5)),
                                       ((3, 4), (2, 4, 5), (1, 1, 5)), ((3, 4), (2, 4, 5), (2, 1, 5)),
                                       ((3, 4), (4, 5), (5,)), ((4,), (4, 5), (5,)), ((3, 4), (4,), ()),
                                       ((4,), (4,), ())):
        what = f"a {list(a_shape)} x b {list(b_shape)} with b_scale/b_zero_point shape {list(bs_shape)}"
        try:
            qlinearmatmul_node(np.zeros(a_shape, np.uint8), np.float32(0.02), 3, np.zeros(b_shape, np.int8),
                               np.full(bs_shape, 0.01, np.float32), np.float32(0.05), 5, "uint8")
            accepted.append(what)
        except Exception as e:  # noqa: BLE001
            refused.setdefault(first_line(e), []).append(what)
    return ("accepted: " + ", ".join(accepted) + "; refused: "
            + ("; ".join(", ".join(w) + f" ({msg})" for msg, w in refused.items()) if refused else "nothing"))


CONV_SPECS = [
    # name, dtype, N, C, H, W, M, k, pads [top, left, bottom, right], per_channel, style, x_zp
    ("u8_k3_p0110_pt", "uint8", 1, 1, 5, 5, 2, 3, [0, 1, 1, 0], False, "plain", None),
    ("u8_k2_p1001_pc_natural", "uint8", 2, 3, 5, 6, 3, 2, [1, 0, 0, 1], True, "natural", None),
    ("i8_k3_p2101_pc", "int8", 1, 2, 6, 5, 4, 3, [2, 1, 0, 1], True, "plain", None),
    ("i8_k1_p0011_pt_natural", "int8", 2, 3, 4, 4, 2, 1, [0, 0, 1, 1], False, "natural", None),
    ("u8_k3_p1020_pc_pow2", "uint8", 1, 3, 6, 6, 4, 3, [1, 0, 2, 0], True, "pow2", None),
    ("i8_k2_p0101_pt_pow2", "int8", 1, 2, 5, 5, 3, 2, [0, 1, 0, 1], False, "pow2", None),
    ("u8_k1_p2000_pc", "uint8", 1, 2, 4, 5, 3, 1, [2, 0, 0, 0], True, "plain", None),
    ("i8_k3_p0201_pc_natural", "int8", 2, 3, 5, 6, 5, 3, [0, 2, 0, 1], True, "natural", None),
    ("u8_k2_p1100_pt_zp0", "uint8", 1, 1, 6, 4, 2, 2, [1, 1, 0, 0], False, "plain", 0),
    ("i8_k3_p0012_pc_zp-128_m128", "int8", 1, 2, 5, 5, 3, 3, [0, 0, 1, 2], True, "plain", -128),
    ("u8_k3_p2211_pc_natural", "uint8", 1, 3, 4, 4, 4, 3, [2, 2, 1, 1], True, "natural", None),
    ("i8_k2_p1000_pt", "int8", 2, 1, 6, 6, 2, 2, [1, 0, 0, 0], False, "plain", None),
]

MATMUL_SPECS = [
    # name, a_dtype, a_shape, b_shape, per_column, style, a_zp
    ("u8_a3d_b2d_pt", "uint8", [2, 3, 16], [16, 5], False, "plain", None),
    ("i8_a3d_b2d_pc_natural", "int8", [3, 4, 20], [20, 6], True, "natural", None),
    ("u8_a2d_b3d_pt_natural", "uint8", [4, 12], [2, 12, 5], False, "natural", None),
    ("i8_a2d_b3d_pc", "int8", [3, 10], [3, 10, 4], True, "plain", None),
    ("u8_a3d_b3d_pt_pow2", "uint8", [2, 3, 8], [2, 8, 4], False, "pow2", None),
    ("i8_a3d_b3d_pc_natural", "int8", [2, 5, 16], [2, 16, 3], True, "natural", None),
    ("u8_a3d_b3d_pc_pow2", "uint8", [3, 4, 9], [3, 9, 6], True, "pow2", None),
    ("u8_a1nk_b3km_pt", "uint8", [1, 3, 9], [3, 9, 4], False, "plain", None),
    ("i8_a1nk_b3km_pc", "int8", [1, 4, 11], [3, 11, 5], True, "plain", None),
    ("u8_a21nk_b3km_pt_natural", "uint8", [2, 1, 3, 7], [3, 7, 4], False, "natural", None),
    ("i8_a21nk_b3km_pc_natural", "int8", [2, 1, 3, 13], [3, 13, 3], True, "natural", None),
    ("i8_a21nk_b3km_pt_zp-128", "int8", [2, 1, 2, 10], [3, 10, 4], False, "plain", -128),
    ("u8_a1d_b2d_pt", "uint8", [16], [16, 12], False, "plain", None),
    ("i8_a1d_b2d_pc_natural", "int8", [24], [24, 10], True, "natural", None),
    ("u8_a2d_b1d_pt", "uint8", [12, 20], [20], False, "plain", None),
    ("i8_a2d_b1d_pt_natural", "int8", [10, 17], [17], False, "natural", None),
    ("i8_a3d_b1d_pt", "int8", [2, 6, 9], [9], False, "plain", None),
    ("u8_a1d_b3d_pt", "uint8", [8], [2, 8, 5], False, "plain", None),
]


STRIDED_SPECS = [
    # name, dtype, N, C, H, W, M, k, pads, per_channel, style, x_zp, stride: the strided convs of
    # PyTorch models (3x3/2 pad 1, 5x5/2 pad 2, 2x2/2, 1x1/2 projections, 3x3/3), odd sizes.
    ("u8_k3_s2_p1111_pc", "uint8", 1, 3, 9, 9, 4, 3, [1, 1, 1, 1], True, "plain", None, 2),
    ("i8_k3_s2_p1111_pt_natural", "int8", 2, 2, 8, 7, 3, 3, [1, 1, 1, 1], False, "natural", None, 2),
    ("u8_k5_s2_p2222_pc_natural", "uint8", 1, 2, 11, 10, 5, 5, [2, 2, 2, 2], True, "natural", None, 2),
    ("i8_k2_s2_p0000_pc_pow2", "int8", 1, 4, 8, 8, 3, 2, [0, 0, 0, 0], True, "pow2", None, 2),
    ("u8_k1_s2_p0000_pt", "uint8", 2, 5, 7, 6, 4, 1, [0, 0, 0, 0], False, "plain", None, 2),
    ("i8_k3_s3_p2222_pc_zp-128", "int8", 1, 2, 10, 9, 3, 3, [2, 2, 2, 2], True, "plain", -128, 3),
    ("u8_k3_s2_p0101_pc", "uint8", 1, 3, 7, 8, 2, 3, [0, 1, 0, 1], True, "natural", None, 2),
    ("i8_k4_s2_p1111_pt_pow2", "int8", 1, 3, 9, 9, 4, 4, [1, 1, 1, 1], False, "pow2", None, 2),
]


def make_strided_section():
    """QLinearConv with strides, its own seed so the other files do not change."""
    rng = np.random.default_rng(20261205)
    conv, acc_bad, y_bad, total = [], 0, 0, 0
    for spec in STRIDED_SPECS:
        c, na, nb, tot, _ = qlinearconv_case(rng, *spec)
        conv.append(c)
        acc_bad, y_bad, total = acc_bad + na, y_bad + nb, total + tot
    notes = [
        "Same case layout as qlinear_132.json's qlinearconv, plus 'stride' (ONNX strides [stride, stride]); "
        "y_shape = [N, M, (H + top + bottom - k) // stride + 1, (W + left + right - k) // stride + 1].",
        f"acc = ConvInteger(x, w, x_zp, 0, strides) from onnxruntime + bias ({acc_bad} accumulators differ from an exact "
        f"int64 numpy sum); {y_bad} of {total} outputs differ from numpy requantization.",
    ]
    return conv, notes


def make_qlinear132_section():
    rng = np.random.default_rng(20261204)
    conv, mm = [], []
    conv_acc_bad = conv_bad = conv_total = 0
    hows = set()
    for spec in CONV_SPECS:
        c, na, nb, tot, how = qlinearconv_case(rng, *spec)
        conv.append(c)
        conv_acc_bad += na
        conv_bad += nb
        conv_total += tot
        hows.add(how if how == "direct" else how.split(" ")[0])
    mm_acc_bad = mm_bad = mm_total = 0
    refused = []
    for spec in MATMUL_SPECS:
        try:
            c, na, nb, tot = qlinearmatmul_case(rng, *spec)
        except Exception as e:  # noqa: BLE001
            refused.append(f"{spec[0]} (a {spec[2]}, b {spec[3]}): {first_line(e)}")
            continue
        mm.append(c)
        mm_acc_bad += na
        mm_bad += nb
        mm_total += tot
    notes = [
        "Same case layout as tests/golden/qlinear.json (make_golden.py); ints are plain, float32 are uint32 bit "
        "patterns in *_bits, tensors flat row-major.",
        "QLinearConv: NCHW, group 1, stride 1, dilation 1, kernel k x k (k = 1..3), ASYMMETRIC pads "
        "[top, left, bottom, right] (ONNX [x1_begin, x2_begin, x1_end, x2_end]); w int8 with zero point 0 "
        "(per-tensor, or per-channel along axis 0); int32 bias; y has the x dtype; y_shape = [N, M, H + top + bottom "
        "- k + 1, W + left + right - k + 1].",
        "acc = ConvInteger(x, w, x_zp, 0) from onnxruntime + bias (padding holds x_zp, i.e. contributes 0); "
        + ("ConvInteger ran directly on the uint8/int8 operands for every case; " if hows == {"direct"} else
           f"ConvInteger path: {', '.join(sorted(hows))} (u8-shift = both operands shifted by +128 into uint8 with "
           "the zero points shifted too, which leaves every (q - z) and acc unchanged; used where ORT has no int8 "
           "ConvInteger kernel); ")
        + f"{conv_acc_bad} accumulators differ from an exact int64 numpy sum.",
        "QLinearMatMul: ONNX MatMul (numpy matmul) broadcasting: a [B,N,K] x b [K,M], a [N,K] x b [B,K,M], "
        "a [B,N,K] x b [B,K,M], a [1,N,K] x b [3,K,M], a [2,1,N,K] x b [3,K,M] (y [2,3,N,M]), 1-D a [K] x b [K,M] "
        "(y [M]), a [N,K] / [B,N,K] x 1-D b [K] (y [N] / [B,N]), 1-D a x batched b; a_shape, b_shape, y_shape are "
        "the real ranks. b int8 with zero point 0; a_scale, y_scale, zero points per tensor.",
        "b_scale_bits has 1 entry (per tensor) or M entries (per column, applied to column m of every batch). "
        "For a 1-D / 2-D b onnxruntime takes the per-column scale as a 1-D [M] tensor; for a batched b it refuses "
        "[M] (and [1,M], [1,1,M]) and takes only b.shape[:-2] + [1, M], so those cases fed it the length-M scale "
        "tiled over the batch (same values for every batch). 1-D a x 1-D b (scalar y) also runs but is not a case. "
        "Probes: " + qlinearmatmul_probes() + ".",
        (f"onnxruntime refused (left out): {'; '.join(refused)}" if refused else
         "onnxruntime CPU ran every listed QLinearMatMul shape combination, including both 1-D forms."),
        f"acc = MatMulInteger(a, b, a_zp, 0) from onnxruntime ({mm_acc_bad} accumulators differ from an exact "
        "int64 numpy matmul).",
        "Requantization check: y == saturate(rint(float32(acc) * float32(float32(x_scale*w_scale[m])/y_scale)) "
        f"+ y_zp): QLinearConv {conv_bad} of {conv_total} outputs differ from onnxruntime, QLinearMatMul {mm_bad} "
        f"of {mm_total} differ (machine {platform.machine()}).",
        "y_scale/y_zero_point were chosen from the 2nd..98th percentile of the real outputs so that most outputs "
        "are not saturated; 'natural' cases use random scales, 'pow2' cases power-of-two scales (many exact .5 ties).",
    ]
    return conv, mm, notes


# ----------------------------------------------------------------------------------------------
# QLinearAveragePool / QLinearGlobalAveragePool (com.microsoft, 1.32)
# ----------------------------------------------------------------------------------------------

POOL_SPECS = [
    # name, op, dtype, N, C, H, W, kernel (AveragePool), stride, same params as the input, x_zp
    ("avg_i8_k2_s2_same", "avg", "int8", 1, 3, 8, 8, 2, 2, True, None),
    ("avg_u8_k2_s2_own", "avg", "uint8", 2, 2, 7, 9, 2, 2, False, None),
    ("avg_i8_k3_s2_same", "avg", "int8", 1, 4, 9, 8, 3, 2, True, None),
    ("avg_i8_k3_s1_own", "avg", "int8", 1, 2, 6, 7, 3, 1, False, None),
    ("avg_u8_k5_s3_same", "avg", "uint8", 1, 3, 11, 12, 5, 3, True, None),
    ("avg_i8_k2_s1_same_zp-128", "avg", "int8", 1, 5, 5, 6, 2, 1, True, -128),
    ("avg_i8_k4_s4_own_zp127", "avg", "int8", 1, 3, 9, 9, 4, 4, False, 127),
    ("avg_i8_k7_whole_same", "avg", "int8", 1, 6, 7, 7, 7, 1, True, None),
    ("avg_u8_k4_whole_own", "avg", "uint8", 2, 3, 4, 4, 4, 4, False, None),
    ("gap_i8_same", "global", "int8", 1, 8, 5, 5, 0, 0, True, None),
    ("gap_i8_own", "global", "int8", 2, 5, 7, 6, 0, 0, False, None),
    ("gap_u8_same", "global", "uint8", 1, 7, 3, 4, 0, 0, True, None),
    ("gap_i8_1x1_same", "global", "int8", 1, 4, 1, 1, 0, 0, True, None),
    ("gap_i8_same_zp-128", "global", "int8", 1, 16, 4, 4, 0, 0, True, -128),
    ("gap_i8_12x12_own", "global", "int8", 1, 3, 12, 12, 0, 0, False, None),
    # 2x2 windows with the input's parameters: a quarter of the averages are exact ties (x.5), where
    # the float sum's rounding and the integer sum part ways.
    ("gap_i8_2x2_ties_same", "global", "int8", 1, 64, 2, 2, 0, 0, True, None),
    ("avg_i8_k2_s2_ties_same", "avg", "int8", 1, 32, 4, 4, 2, 2, True, None),
]


def pool_case(rng, name, op, dtype, N, C, H, W, k, stride, same, x_zp):
    info = np.iinfo(NP_OF[dtype])
    x = rng.integers(info.min, info.max + 1, size=(N, C, H, W)).astype(NP_OF[dtype])
    if "k2_s1" in name:
        x[0, 0] = info.min  # a saturated channel
    xs = np.float32(2.0 ** rng.uniform(-8, -2))
    xz = NP_OF[dtype](x_zp if x_zp is not None else rng.integers(info.min // 2, info.max // 2))
    if same:
        ys, yz = xs, xz
    else:
        ys = np.float32(xs * 2.0 ** rng.uniform(-1.5, 1.5))
        yz = NP_OF[dtype](rng.integers(info.min // 2, info.max // 2))
    inputs = [("x", x)]
    inits = [numpy_helper.from_array(np.array(v), n) for n, v in
             [("xs", xs), ("xz", xz), ("ys", ys), ("yz", yz)]]
    if op == "avg":
        node = helper.make_node("QLinearAveragePool", ["x", "xs", "xz", "ys", "yz"], ["y"], domain="com.microsoft",
                                kernel_shape=[k, k], strides=[stride, stride], channels_last=0)
    else:
        node = helper.make_node("QLinearGlobalAveragePool", ["x", "xs", "xz", "ys", "yz"], ["y"],
                                domain="com.microsoft", channels_last=0)
    g_in = [helper.make_tensor_value_info("x", TP_OF[dtype], list(x.shape))]
    g_out = [helper.make_tensor_value_info("y", TP_OF[dtype], None)]
    graph = helper.make_graph([node], "g", g_in, g_out, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 10
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    y = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    # numpy cross-checks of both onnxruntime paths.
    kh, kw = (H, W) if op == "global" or k == H == W else (k, k)
    st = 1 if op == "global" else stride
    oh, ow = (H - kh) // st + 1, (W - kw) // st + 1
    want = np.zeros((N, C, oh, ow), np.int64)
    xi = x.astype(np.int64)
    for n in range(N):
        for c in range(C):
            for i in range(oh):
                for j in range(ow):
                    win = xi[n, c, i * st:i * st + kh, j * st:j * st + kw]
                    if (kh, kw) == (H, W):
                        # integer sum, float32 requantization (MLAS)
                        acc = np.float32(win.sum() - int(xz) * kh * kw)
                        m = np.float32(xs / np.float32(ys * np.float32(kh * kw)))
                        v = int(np.rint(np.float32(acc * m))) + int(yz)
                    else:
                        tot = np.float32(0)
                        for q in win.reshape(-1):
                            tot = np.float32(tot + np.float32(xs * np.float32(int(q) - int(xz))))
                        avg = np.float32(tot / np.float32(kh * kw))
                        v = int(np.rint(np.float32(np.float32(avg / ys) + np.float32(yz))))
                    want[n, c, i, j] = min(max(v, info.min), info.max)
    bad = int((want != y.astype(np.int64)).sum())
    case = {"name": name, "op": op, "dtype": dtype, "x_shape": list(x.shape), "x": x.reshape(-1).tolist(),
            "x_scale_bits": int(np.array(xs, np.float32).view(np.uint32)), "x_zero_point": int(xz),
            "y_scale_bits": int(np.array(ys, np.float32).view(np.uint32)), "y_zero_point": int(yz),
            "kernel": [kh, kw], "stride": st, "y_shape": list(y.shape), "y": y.reshape(-1).tolist()}
    return case, bad, y.size


def make_pool_section():
    rng = np.random.default_rng(20261206)
    cases, bad, total = [], 0, 0
    for spec in POOL_SPECS:
        c, b, t = pool_case(rng, *spec)
        cases.append(c)
        bad, total = bad + b, total + t
    notes = [
        "NCHW, no pads, floor; x_shape [N, C, H, W]; 'kernel' [kh, kw] is the window actually pooled "
        "(QLinearGlobalAveragePool: [H, W], stride 1); y_shape [N, C, (H - kh) // stride + 1, (W - kw) // stride + 1].",
        "A window smaller than the image: y = saturate(nearbyintf(avg / y_scale + y_zp)), avg = float32 sum in "
        "row-major window order of x_scale * (x - x_zp), divided by float32(kh * kw) (onnxruntime's "
        "QLinearAveragePool). A window covering the image (QLinearGlobalAveragePool, and QLinearAveragePool's "
        "fallback to it): y = saturate(rint(float32(sum(x) - x_zp * N) * (x_scale / (y_scale * N))) + y_zp), N = kh * kw "
        "(MLAS's integer global pool).",
        f"numpy following those two formulas differs from onnxruntime on {bad} of {total} outputs.",
        "'same' cases give the output the input's scale and zero point (TFLite's AVERAGE_POOL_2D rule, "
        "and quantlab's); 'own' cases give it others.",
    ]
    return cases, notes


def main():
    gold = ROOT / "tests" / "golden"
    pool, notes_p = make_pool_section()
    write_json(gold / "qlinear_pool_132.json", {"generator": GENERATOR, "versions": VERSIONS, "notes": notes_p,
                                                "pool": pool})
    print(f"qlinear pool {len(pool)}")
    if "--pool-only" in sys.argv:
        return
    conv_s, notes_s = make_strided_section()
    write_json(gold / "qlinear_strided_132.json", {"generator": GENERATOR, "versions": VERSIONS, "notes": notes_s,
                                                   "qlinearconv": conv_s})
    print(f"qlinearconv strided {len(conv_s)}")
    if "--strided-only" in sys.argv:
        return
    dq = dynamic_cases()
    path = ROOT / "tests" / "golden" / "dynamic_quantize.json"
    path.write_text(json.dumps({"how": "scripts/golden/make_golden_ort132.py: onnxruntime %s DynamicQuantizeLinear (opset 21)" % ort.__version__,
                                "onnxruntime": ort.__version__, "cases": dq}) + "\n")
    print(f"wrote {path}: {len(dq)} cases")
    x = inputs()
    out = {"how": "scripts/golden/make_golden_ort132.py: onnxruntime %s, ONNX Cast (opset 21) float32 -> FLOAT16 / BFLOAT16 -> float32" % ort.__version__,
           "onnxruntime": ort.__version__, "x": x.view(np.uint32).tolist()}
    for name, to in [("float16", TensorProto.FLOAT16), ("bfloat16", TensorProto.BFLOAT16)]:
        y = cast_round_trip(to).run(None, {"x": x})[0]
        out[name] = y.view(np.uint32).tolist()
    path = ROOT / "tests" / "golden" / "float_formats.json"
    path.write_text(json.dumps(out) + "\n")
    print(f"wrote {path}: {len(x)} inputs, onnxruntime {ort.__version__}")

    gold = ROOT / "tests" / "golden"
    cases, nbad, diff, tries, raised, odd = make_scale_zp_section()
    write_json(gold / "scale_zp_132.json", {"generator": GENERATOR, "versions": VERSIONS,
                                            "notes": scale_zp_notes(cases, nbad, diff, tries, raised, odd),
                                            "cases": cases})
    quant, dequant, qbad, dqbad, refused, extra = make_blocked_section()
    write_json(gold / "blocked_quantize.json", {"generator": GENERATOR, "versions": VERSIONS,
                                                "notes": blocked_notes(quant, dequant, qbad, dqbad, refused, extra),
                                                "quantize": quant, "dequantize": dequant})
    conv, mm, notes = make_qlinear132_section()
    write_json(gold / "qlinear_132.json", {"generator": GENERATOR, "versions": VERSIONS, "notes": notes,
                                           "qlinearconv": conv, "qlinearmatmul": mm})
    print(f"scale_zp {len(cases)} ({sum(1 for c in cases if c.get('error'))} errors), blocked quantize {len(quant)}, "
          f"dequantize {len(dequant)}, qlinearconv {len(conv)}, qlinearmatmul {len(mm)}")
    print(f"{len(MISMATCHES)} mismatch lines" + (":" if MISMATCHES else ""))
    for m in MISMATCHES:
        print("  " + m)


if __name__ == "__main__":
    main()
