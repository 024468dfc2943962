#!/usr/bin/env python3
"""Generate quantlab's golden test vectors from real onnxruntime (CPU).

Writes two files, which are committed and read by the Rust tests:

  tests/golden/quantize.json  QuantizeLinear / DequantizeLinear outputs, and the (scale, zero point)
                              that onnxruntime.quantization.quantize_static (MinMax calibration)
                              chooses for activations (asym uint8, asym int8, sym int8) and for
                              per-channel symmetric int8 weights.
  tests/golden/qlinear.json   QLinearConv and QLinearMatMul outputs, plus the exact int32
                              accumulators (ConvInteger + bias, MatMulInteger) from onnxruntime.

CI NEVER runs this script: it needs Python + onnxruntime, which the Rust/wasm build does not.
The JSON files are the source of truth for the tests; rerun this only to regenerate them, and
review the diff. Everything is seeded, so a rerun with the same versions on x86_64 reproduces
the files byte for byte.

How to rerun by hand (from the repository root):

    python3 -m venv /tmp/goldenvenv
    /tmp/goldenvenv/bin/pip install onnxruntime==1.31.1 onnx==1.23.2 numpy==2.4.6
    /tmp/goldenvenv/bin/python scripts/golden/make_golden.py

(The files in the repository were made with exactly those versions, on x86_64 Linux; each
output file records the versions in its "versions" field.)

Conventions in the output:
  * every float32 value is stored as its IEEE-754 uint32 bit pattern in a field whose name ends
    in `_bits` (so inf, nan, -0.0 and exact values survive JSON); integers are plain JSON ints;
  * tensors are flat lists in row-major (C) order, with their shape in a `*shape` field;
  * `axis` is null for per-tensor parameters; per-tensor scale/zero point are lists of length 1.

The script also cross-checks onnxruntime against independent numpy reimplementations
(QuantizeLinear, DequantizeLinear, compute_scale_zp, exact accumulators, requantization) and
prints every mismatch; mismatch counts are written into the "notes" of each file.
"""

import json
import os
import platform
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.quant_utils import compute_scale_zp, get_qmin_qmax_for_qType

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "tests", "golden")
GENERATOR = "scripts/golden/make_golden.py"
OPSET = 21  # QuantizeLinear/DequantizeLinear opset 21; QLinear*/*Integer are opset-10 ops, still current.
IR_VERSION = 10

VERSIONS = {
    "onnxruntime": ort.__version__,
    "onnx": onnx.__version__,
    "numpy": np.__version__,
    "python": platform.python_version(),
    "machine": platform.machine(),
}

NP_OF = {"int8": np.int8, "uint8": np.uint8, "int32": np.int32}
TP_OF = {"int8": TensorProto.INT8, "uint8": TensorProto.UINT8, "int32": TensorProto.INT32}
RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int32": (-(2**31), 2**31 - 1)}

MISMATCHES = []  # human-readable lines, printed at the end


def warn(msg):
    MISMATCHES.append(msg)
    print("MISMATCH: " + msg, file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def f32(x):
    return np.asarray(x, dtype=np.float32)


def bits(x):
    """float32 array/scalar -> flat list of uint32 bit patterns."""
    return f32(x).reshape(-1).view(np.uint32).tolist()


def ints(x):
    return [int(v) for v in np.asarray(x).reshape(-1)]


def param_tensor(name, arr, dtype, per_axis):
    """Initializer for a scale/zero point: scalar if per-tensor, 1-D if per-axis."""
    arr = np.asarray(arr, dtype=dtype).reshape(-1)
    if not per_axis:
        arr = arr.reshape(())
    return numpy_helper.from_array(arr, name)


def run_model(nodes, inputs, initializers, outputs):
    """inputs: list of (name, np.ndarray); outputs: list of (name, TensorProto type).
    Builds a model, runs it on the CPU EP with graph optimizations off, returns output arrays."""
    g_inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape))
        for n, a in inputs
    ]
    g_outputs = [helper.make_tensor_value_info(n, t, None) for n, t in outputs]
    graph = helper.make_graph(nodes, "g", g_inputs, g_outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    # (no onnx.checker here: onnx 1.23's checker insists on output shapes; onnxruntime validates the model)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run([n for n, _ in outputs], {n: a for n, a in inputs})


def bshape(shape, axis):
    """Shape that broadcasts a 1-D per-axis parameter along `axis`."""
    s = [1] * len(shape)
    s[axis] = shape[axis]
    return s


# ----------------------------------------------------------------------------------------------
# QuantizeLinear / DequantizeLinear
# ----------------------------------------------------------------------------------------------


def ref_quantize(x, scale, zp, dtype, axis):
    x = f32(x)
    s = f32(scale)
    z = np.asarray(zp, dtype=np.float64)
    if axis is not None:
        s = s.reshape(bshape(x.shape, axis))
        z = z.reshape(bshape(x.shape, axis))
    lo, hi = RANGE[dtype]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        r = np.rint(x / s).astype(np.float64) + z  # float32 division, round half to even, then + z
    return np.clip(r, lo, hi).astype(np.int64)


def ref_dequantize(q, scale, zp, axis):
    q = np.asarray(q, dtype=np.int64)
    s = f32(scale)
    z = np.asarray(zp, dtype=np.int64)
    if axis is not None:
        s = s.reshape(bshape(q.shape, axis))
        z = z.reshape(bshape(q.shape, axis))
    with np.errstate(over="ignore"):
        return (q - z).astype(np.float32) * s


def quantize_case(name, dtype, x, scale, zp, axis=None):
    x = f32(x)
    scale = f32(scale).reshape(-1)
    zp = np.asarray(zp).reshape(-1)
    per_axis = axis is not None
    attrs = {"axis": axis} if per_axis else {}
    node = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], **attrs)
    inits = [param_tensor("s", scale, np.float32, per_axis), param_tensor("z", zp, NP_OF[dtype], per_axis)]
    (y,) = run_model([node], [("x", x)], inits, [("y", TP_OF[dtype])])
    ref = ref_quantize(x, scale, zp, dtype, axis)
    bad = np.nonzero(ref.reshape(-1) != y.astype(np.int64).reshape(-1))[0]
    for i in bad[:10]:
        warn(f"quantize {name}[{i}]: x={x.reshape(-1)[i]!r} ort={y.reshape(-1)[i]} numpy={ref.reshape(-1)[i]}")
    return {
        "name": name,
        "dtype": dtype,
        "shape": list(x.shape),
        "axis": axis,
        "x_bits": bits(x),
        "scale_bits": bits(scale),
        "zero_point": ints(zp),
        "y": ints(y),
    }, len(bad)


def dequantize_case(name, dtype, q, scale, zp, axis=None):
    q = np.asarray(q, dtype=NP_OF[dtype])
    scale = f32(scale).reshape(-1)
    zp = np.asarray(zp).reshape(-1)
    per_axis = axis is not None
    attrs = {"axis": axis} if per_axis else {}
    node = helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], **attrs)
    inits = [param_tensor("s", scale, np.float32, per_axis), param_tensor("z", zp, NP_OF[dtype], per_axis)]
    (y,) = run_model([node], [("q", q)], inits, [("y", TensorProto.FLOAT)])
    ref = ref_dequantize(q, scale, zp, axis)
    bad = np.nonzero(np.asarray(bits(ref)) != np.asarray(bits(y)))[0]
    for i in bad[:10]:
        warn(f"dequantize {name}[{i}]: q={q.reshape(-1)[i]} ort={y.reshape(-1)[i]!r} numpy={ref.reshape(-1)[i]!r}")
    return {
        "name": name,
        "dtype": dtype,
        "shape": list(q.shape),
        "axis": axis,
        "q": ints(q),
        "scale_bits": bits(scale),
        "zero_point": ints(zp),
        "y_bits": bits(y),
    }, len(bad)


def exact_tie_inputs(scale, ks):
    """float32 x with float32(x / scale) == k + 0.5 exactly (correctly rounded division), for each
    k where such an x exists near (k + 0.5) * scale."""
    s = np.float32(scale)
    out = []
    for k in ks:
        target = np.float32(k + 0.5)
        x0 = np.float32(np.float64(k + 0.5) * np.float64(s))
        cand = [x0]
        lo = hi = x0
        for _ in range(4):
            lo = np.nextafter(lo, np.float32(-np.inf))
            hi = np.nextafter(hi, np.float32(np.inf))
            cand += [lo, hi]
        for c in cand:
            if np.float32(c / s) == target:
                out.append(c)
                break
    return f32(out)


def make_quantize_section():
    rng = np.random.default_rng(20240601)
    cases = []
    nbad = 0

    def add(*a, **kw):
        nonlocal nbad
        c, b = quantize_case(*a, **kw)
        cases.append(c)
        nbad += b

    # --- exact ties, power-of-two scales (x / s exact) -> round half to even ---
    ks = np.arange(-140, 140)
    add("ties_s1_int8_z0", "int8", ks + 0.5, [1.0], [0])
    add("ties_s0.25_int8_z0", "int8", (np.arange(-130, 130) + 0.5) * 0.25, [0.25], [0])
    add("ties_s0.25_int8_z-7", "int8", (np.arange(-130, 130) + 0.5) * 0.25, [0.25], [-7])
    add("ties_s2_uint8_z0", "uint8", (np.arange(-10, 262) + 0.5) * 2.0, [2.0], [0])
    add("ties_s2_uint8_z128", "uint8", (np.arange(-135, 135) + 0.5) * 2.0, [2.0], [128])
    add("ties_s0.0078125_uint8_z3", "uint8", (np.arange(-8, 256) + 0.5) / 128.0, [1.0 / 128], [3])
    # --- exact ties with non-power-of-two scales (found by search, float32 division) ---
    for s, dtype, zp in [(0.1, "int8", 0), (0.3, "int8", 11), (0.0173, "uint8", 100), (3.7, "uint8", 0)]:
        x = exact_tie_inputs(s, range(-140, 260) if dtype == "uint8" else range(-140, 140))
        add(f"ties_nonpow2_s{s}_{dtype}_z{zp}", dtype, x, [s], [zp])
    # --- saturation at both ends ---
    sat = np.concatenate([np.linspace(-300, 300, 61), [-129.5, -128.5, -128.49, 127.49, 127.5, 128.5, 255.5, 256.5]])
    add("saturate_int8_s1_z0", "int8", sat, [1.0], [0])
    add("saturate_int8_s0.5_z20", "int8", sat / 2, [0.5], [20])
    add("saturate_uint8_s1_z0", "uint8", sat, [1.0], [0])
    add("saturate_uint8_s1.5_z200", "uint8", sat, [1.5], [200])
    # --- huge values, infinities ---
    huge = f32([1e30, -1e30, 3e38, -3e38, np.finfo(np.float32).max, -np.finfo(np.float32).max,
                np.inf, -np.inf, 1e10, -1e10, 65504.0, -65504.0, 2.0**31, -(2.0**31), 0.0])
    for dtype in ("int8", "uint8"):
        for s, zp in [(1.0, 0), (0.01, 0), (1e-3, 5 if dtype == "int8" else 128), (1e30, 0 if dtype == "int8" else 7),
                      (1e-30, 0)]:
            add(f"huge_{dtype}_s{s}_z{zp}", dtype, huge, [s], [zp])
    # --- signed zero ---
    for dtype, zp in [("int8", 0), ("int8", -128), ("int8", 127), ("uint8", 0), ("uint8", 255), ("uint8", 77)]:
        add(f"negzero_{dtype}_z{zp}", dtype, f32([-0.0, 0.0, -0.0]), [0.37], [zp])
    # --- tiny values (subnormals, FLT_MIN region) ---
    fmin = np.finfo(np.float32).tiny
    tiny = f32([1e-45, -1e-45, 1e-40, -1e-40, fmin, -fmin, 1e-38, -1e-38, 3e-38, -3e-38, 1e-20, -1e-20, 1e-7, -1e-7])
    for s in (1.0, 1e-3, float(fmin) * 2, 1e-38):
        add(f"tiny_int8_s{s:g}", "int8", tiny, [s], [0])
        add(f"tiny_uint8_s{s:g}", "uint8", tiny, [s], [128])
    # --- random normals with various scales and zero points ---
    for i, (sigma, s, dtype, zp) in enumerate([
        (1.0, 0.02, "int8", 0), (1.0, 0.0078, "int8", -3), (0.01, 1e-4, "int8", 9), (50.0, 0.4, "int8", 0),
        (3.0, 0.05, "int8", -128), (1.0, 0.02, "uint8", 128), (0.2, 0.003, "uint8", 97), (100.0, 1.9, "uint8", 0),
        (1e-5, 1.3e-7, "uint8", 255), (1.0, 0.0331, "int8", 42)]):
        x = rng.standard_normal(64).astype(np.float32) * np.float32(sigma)
        add(f"normal{i}_{dtype}_sigma{sigma:g}_s{s:g}_z{zp}", dtype, x, [s], [zp])
    # --- per-axis ---
    # 4-D weight-like [M,C,kH,kW], axis 0: channel scales spanning orders of magnitude, symmetric int8
    M, C = 4, 3
    w = rng.standard_normal((M, C, 3, 3)).astype(np.float32) * f32([0.001, 0.1, 2.0, 30.0]).reshape(M, 1, 1, 1)
    sw = f32(np.abs(w).reshape(M, -1).max(axis=1) / 127)
    add("perchannel_4d_axis0_int8_sym", "int8", w, sw, [0] * M, axis=0)
    add("perchannel_4d_axis0_int8_ties", "int8",
        (rng.integers(-130, 130, (M, C, 3, 3)) + 0.5) * f32([0.5, 0.25, 2.0, 1.0]).reshape(M, 1, 1, 1),
        [0.5, 0.25, 2.0, 1.0], [0, 3, -5, 0], axis=0)
    a = rng.standard_normal((2, 3, 4, 4)).astype(np.float32) * f32([0.5, 5.0, 0.05]).reshape(1, 3, 1, 1)
    add("perchannel_4d_axis1_uint8", "uint8", a, [0.01, 0.1, 0.001], [128, 10, 250], axis=1)
    add("perchannel_4d_axis1_int8", "int8", a, [0.01, 0.1, 0.001], [0, -20, 100], axis=1)
    b = rng.standard_normal((6, 5)).astype(np.float32) * 4
    add("perchannel_2d_axis0_int8", "int8", b, [0.01, 0.03, 0.1, 0.5, 1.0, 0.0625], [0, 1, -1, 50, -128, 127], axis=0)
    add("perchannel_2d_axis1_int8", "int8", b, [0.2, 0.03, 0.07, 0.5, 0.125], [0, 0, 0, 0, 0], axis=1)
    add("perchannel_2d_axis1_uint8", "uint8", b, [0.2, 0.03, 0.07, 0.5, 0.125], [128, 0, 255, 60, 128], axis=1)
    add("perchannel_2d_axis0_uint8_huge", "uint8",
        f32([[np.inf, -np.inf, 3e38, -3e38, -0.0], [1.5, 2.5, -0.5, 0.5, 254.5], [1e-40, -1e-40, 0.0, 1.0, -1.0],
             [1e30, -1e30, 7.0, -7.0, 0.25]]),
        [1.0, 1.0, 1.0, 0.5], [0, 1, 128, 255], axis=0)
    return cases, nbad


def make_dequantize_section():
    rng = np.random.default_rng(20240602)
    cases = []
    nbad = 0

    def add(*a, **kw):
        nonlocal nbad
        c, b = dequantize_case(*a, **kw)
        cases.append(c)
        nbad += b

    all_i8 = np.arange(-128, 128)
    all_u8 = np.arange(0, 256)
    add("all_int8_s0.05_z0", "int8", all_i8, [0.05], [0])
    add("all_int8_s0.0173_z-3", "int8", all_i8, [0.0173], [-3])
    add("all_int8_s1e-38_z127", "int8", all_i8, [1e-38], [127])
    add("all_int8_s3e38_z0", "int8", all_i8, [3e38], [0])
    add("all_uint8_s0.0123_z131", "uint8", all_u8, [0.0123], [131])
    add("all_uint8_s1_z0", "uint8", all_u8, [1.0], [0])
    add("all_uint8_s0.25_z255", "uint8", all_u8, [0.25], [255])
    i32 = np.concatenate([[-(2**31), 2**31 - 1, 0, 1, -1, 16777216, 16777217, -16777217, 2**24 + 3, 2**30 + 1,
                           -(2**31) + 1], rng.integers(-(2**31), 2**31 - 1, 40), rng.integers(-5000, 5000, 40)])
    add("int32_s1e-4_z0", "int32", i32, [1e-4], [0])
    add("int32_s2^-10_z0", "int32", i32, [2.0**-10], [0])
    add("int32_s0.0037_z0", "int32", i32, [0.0037], [0])
    add("int32_s1e30_z0", "int32", i32, [1e30], [0])
    # per-axis
    add("perchannel_4d_axis0_int8", "int8", rng.integers(-128, 128, (4, 3, 3, 3)), [0.001, 0.1, 2.0, 30.0],
        [0, 0, 0, 0], axis=0)
    add("perchannel_4d_axis1_uint8", "uint8", rng.integers(0, 256, (2, 3, 4, 4)), [0.01, 0.1, 0.001],
        [128, 10, 250], axis=1)
    add("perchannel_2d_axis1_int8", "int8", rng.integers(-128, 128, (6, 5)), [0.2, 0.03, 0.07, 0.5, 0.125],
        [0, 5, -5, 127, -128], axis=1)
    add("perchannel_2d_axis0_uint8", "uint8", rng.integers(0, 256, (4, 7)), [0.2, 0.03, 0.07, 0.5],
        [0, 255, 1, 128], axis=0)
    add("perchannel_1d_axis0_int32_bias", "int32", np.concatenate([rng.integers(-100000, 100000, 4), [2**31 - 1]]),
        [1.3e-4, 2.1e-5, 7.7e-6, 0.5, 1e-3], [0] * 5, axis=0)
    add("perchannel_2d_axis1_int32", "int32", rng.integers(-(2**31), 2**31 - 1, (3, 4)), [1e-6, 1e-3, 2.0**-20, 0.37],
        [0] * 4, axis=1)
    return cases, nbad


# ----------------------------------------------------------------------------------------------
# Calibration (onnxruntime.quantization.quantize_static, MinMax)
# ----------------------------------------------------------------------------------------------


class ListReader(CalibrationDataReader):
    def __init__(self, name, batches):
        self._it = iter([{name: b} for b in batches])

    def get_next(self):
        return next(self._it, None)


def save_model(nodes, inputs, outputs, inits, path, opset=17):
    graph = helper.make_graph(nodes, "calib", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = IR_VERSION
    onnx.save(model, path)


def read_qparams(model, tensor, node_type="QuantizeLinear"):
    """(scale array, zero point array, axis or None, node) of the Q/DQ node that takes `tensor`."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == node_type and n.input[0] == tensor:
            axis = None
            for a in n.attribute:
                if a.name == "axis":
                    axis = a.i
            return inits[n.input[1]], inits[n.input[2]], axis, n
    raise KeyError(f"no {node_type} on {tensor}")


CONFIGS = {
    "asym_uint8": dict(activation_type=QuantType.QUInt8, extra_options={}),
    "asym_int8": dict(activation_type=QuantType.QInt8, extra_options={}),
    "sym_int8": dict(activation_type=QuantType.QInt8, extra_options={"ActivationSymmetric": True}),
}


def calibrate_activation(tmp, name, batches, config):
    shape = list(batches[0].shape)
    k = shape[-1]
    w = numpy_helper.from_array(np.linspace(-1, 1, k * 3, dtype=np.float32).reshape(k, 3), "W")
    path = os.path.join(tmp, "act.onnx")
    save_model(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        [w],
        path,
    )
    out = os.path.join(tmp, f"act_{name}_{config}.onnx")
    cfg = CONFIGS[config]
    quantize_static(
        path,
        out,
        ListReader("X", batches),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=["MatMul"],
        per_channel=False,
        reduce_range=False,
        activation_type=cfg["activation_type"],
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options=dict(cfg["extra_options"]),
    )
    s, z, _, _ = read_qparams(onnx.load(out), "X")
    allv = np.concatenate([b.reshape(-1) for b in batches])
    rmin, rmax = f32(allv.min()), f32(allv.max())
    # cross-check with compute_scale_zp
    qt = TensorProto.UINT8 if config == "asym_uint8" else TensorProto.INT8
    sym = config == "sym_int8"
    qmin, qmax = get_qmin_qmax_for_qType(qt, reduce_range=False, symmetric=sym)
    z_ref, s_ref = compute_scale_zp(rmin, rmax, qmin, qmax, symmetric=sym)
    if bits(s) != bits(s_ref) or int(z) != int(z_ref):
        warn(f"calibration {name}/{config}: ORT s={s!r} z={z!r} vs compute_scale_zp s={s_ref!r} z={z_ref!r}")
    return {
        "name": name,
        "config": config,
        "shape_per_batch": shape,
        "batches_bits": [bits(b) for b in batches],
        "rmin_bits": bits(rmin),
        "rmax_bits": bits(rmax),
        "scale_bits": bits(s),
        "zero_point": int(z),
    }


def calibrate_weight(tmp, name, op, w, x_shape, bias=None, rng=None):
    """quantize_static(per_channel=True, weight_type=QInt8) on a Conv/MatMul with weight `w`."""
    path = os.path.join(tmp, "w.onnx")
    inits = [numpy_helper.from_array(w, "W")]
    ins = ["X", "W"]
    if bias is not None:
        inits.append(numpy_helper.from_array(bias, "B"))
        ins.append("B")
    save_model(
        [helper.make_node(op, ins, ["Y"])],
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        inits,
        path,
    )
    batches = [rng.standard_normal(x_shape).astype(np.float32) for _ in range(3)]
    out = os.path.join(tmp, f"w_{name}.onnx")
    quantize_static(
        path,
        out,
        ListReader("X", batches),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=[op],
        per_channel=True,
        reduce_range=False,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    m = onnx.load(out)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    # the weight is stored pre-quantized: DequantizeLinear(W_quantized, scale, zp, axis) -> W'
    dq = [n for n in m.graph.node if n.op_type == "DequantizeLinear" and inits.get(n.input[0]) is not None
          and inits[n.input[0]].dtype == np.int8 and inits[n.input[0]].shape == w.shape]
    assert len(dq) == 1, dq
    n = dq[0]
    wq, s, z = inits[n.input[0]], inits[n.input[1]], inits[n.input[2]]
    axis = next((a.i for a in n.attribute if a.name == "axis"), None)
    case = {
        "name": name,
        "op": op,
        "weight_type": "int8",
        "w_shape": list(w.shape),
        "w_bits": bits(w),
        "axis": axis,
        "scale_bits": bits(s),
        "zero_point": ints(z),
        "w_q": ints(wq),
    }
    # cross-check: per-channel compute_scale_zp(symmetric) with get_qmin_qmax_for_qType(INT8, symmetric=True)
    qmin, qmax = get_qmin_qmax_for_qType(TensorProto.INT8, reduce_range=False, symmetric=True)
    wm = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    for c in range(wm.shape[0]):
        z_ref, s_ref = compute_scale_zp(f32(wm[c].min()), f32(wm[c].max()), qmin, qmax, symmetric=True)
        if bits(s[c]) != bits(s_ref) or int(z[c]) != int(z_ref):
            warn(f"weight {name} ch{c}: ORT s={s[c]!r} z={z[c]} vs compute_scale_zp s={s_ref!r} z={z_ref}")
    q_ref = np.clip(np.rint(w / s.reshape(bshape(w.shape, axis))) + z.reshape(bshape(w.shape, axis)), qmin, qmax)
    nq = int((q_ref.astype(np.int64) != wq.astype(np.int64)).sum())
    if nq:
        warn(f"weight {name}: {nq} quantized weights differ from clip(rint(w/s)+z, -127, 127)")
    if bias is not None:
        sx, _, _, _ = read_qparams(m, "X")
        bq_name = next(nn.input[0] for nn in m.graph.node if nn.op_type == "DequantizeLinear"
                       and inits.get(nn.input[0]) is not None and inits[nn.input[0]].dtype == np.int32)
        bdq = next(nn for nn in m.graph.node if nn.op_type == "DequantizeLinear" and nn.input[0] == bq_name)
        bq, bs = inits[bq_name], inits[bdq.input[1]]
        bs_ref = f32(sx) * s  # float32 product
        bq_ref = np.rint(bias.astype(np.float64) / bs_ref.astype(np.float64))
        if bits(bs) != bits(bs_ref) or (bq_ref != bq).any():
            warn(f"bias {name}: ORT bias scale/ints differ from s_x*s_w / rint(b/(s_x*s_w))")
        case.update({"x_scale_bits": bits(sx), "bias_bits": bits(bias), "bias_scale_bits": bits(bs), "bias_q": ints(bq)})
    return case


def make_calibration_section():
    rng = np.random.default_rng(20240603)
    shape = (2, 8)
    nb = 4

    def gen(f):
        return [f32(f(i)).reshape(shape) for i in range(nb)]

    datasets = [
        ("normal", gen(lambda i: rng.standard_normal(shape) * 1.3 + 0.2)),
        ("all_positive", gen(lambda i: rng.uniform(0.5, 3.0, shape))),
        ("all_negative", gen(lambda i: rng.uniform(-4.0, -0.25, shape))),
        ("constant_zero", gen(lambda i: np.zeros(shape))),
        ("relu_like", gen(lambda i: np.maximum(rng.standard_normal(shape) * 2.0, 0.0))),
        ("outliers", gen(lambda i: rng.standard_normal(shape) * 0.1 + np.eye(2, 8) * [57.0, -12.0, 0.0, 3.0][i])),
        ("tiny_range", gen(lambda i: rng.standard_normal(shape) * 1e-6)),
        ("mixed_scale_batches", gen(lambda i: rng.standard_normal(shape) * 10.0 ** (i - 2))),
        # zero point lands exactly on .5 in float64: uint8 z = round(255/102) = round(2.5) -> 2 (half even)
        ("zp_tie_uint8", gen(lambda i: np.concatenate([[-1.0, 101.0], np.linspace(-0.5, 100, 14)]))),
        # int8 z = round(-128 + 1.5) = round(-126.5) -> -126 (half even; half-away would give -127)
        ("zp_tie_int8", gen(lambda i: np.concatenate([[-1.0, 169.0], np.linspace(-0.5, 168, 14)]))),
    ]
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, batches in datasets:
            for config in CONFIGS:
                cases.append(calibrate_activation(tmp, name, batches, config))
        wcases = []
        M, C = 4, 3
        w = rng.standard_normal((M, C, 3, 3)).astype(np.float32) * f32([0.002, 0.3, 5.0, 0.0]).reshape(M, 1, 1, 1)
        w[1, 0, 0, 0] = -1.25  # negative extreme wins in channel 1
        wcases.append(calibrate_weight(tmp, "conv_3x3_perchannel", "Conv", w, [1, C, 6, 6],
                                       bias=f32([0.01, -0.5, 2.0, 0.125]), rng=rng))
        w1 = rng.standard_normal((5, 4, 1, 1)).astype(np.float32) * f32([1.0, 0.01, 100.0, 0.5, 3.0]).reshape(5, 1, 1, 1)
        wcases.append(calibrate_weight(tmp, "conv_1x1_perchannel", "Conv", w1, [1, 4, 3, 3],
                                       bias=f32([0.0, 1e-3, -7.0, 0.3, 0.0]), rng=rng))
        wm = rng.standard_normal((8, 5)).astype(np.float32) * f32([0.05, 1.0, 20.0, 0.001, 0.4])
        wcases.append(calibrate_weight(tmp, "matmul_perchannel", "MatMul", wm, [2, 8], rng=rng))
    return cases, wcases


# ----------------------------------------------------------------------------------------------
# QLinearConv / QLinearMatMul
# ----------------------------------------------------------------------------------------------


def ref_conv_acc(x, w, xz, wz, pad):
    """Exact sum (x - xz)(w - wz[m]) over an NCHW conv, padding = xz (i.e. contributes 0)."""
    x = x.astype(np.int64) - int(xz)
    wz = np.asarray(wz, dtype=np.int64).reshape(-1)
    w = w.astype(np.int64) - (wz.reshape(-1, 1, 1, 1) if wz.size > 1 else wz[0])
    N, C, H, W = x.shape
    M, _, kh, kw = w.shape
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.int64)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    OH, OW = H + 2 * pad - kh + 1, W + 2 * pad - kw + 1
    acc = np.zeros((N, M, OH, OW), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + OH, j:j + OW]  # N C OH OW
            acc += np.einsum("nchw,mc->nmhw", patch, w[:, :, i, j])
    return acc


def requant(acc, x_scale, w_scale, y_scale, y_zp, dtype, ch_axis):
    """y = saturate(rint(float32(acc) * float32(float32(x_scale*w_scale)/y_scale)) + y_zp)."""
    ws = f32(w_scale).reshape(-1)
    mult = f32(f32(f32(x_scale) * ws) / f32(y_scale))
    if mult.size > 1:
        shp = [1] * acc.ndim
        shp[ch_axis] = mult.size
        mult = mult.reshape(shp)
    lo, hi = RANGE[dtype]
    v = np.rint(acc.astype(np.float32) * mult).astype(np.float64) + int(y_zp)
    return np.clip(v, lo, hi).astype(np.int64)


def pick_output_qparams(real, dtype, rng, style, force_scale=None):
    """(y_scale, y_zp) covering most of `real` so that many outputs are not saturated."""
    lo, hi = np.percentile(real, 2), np.percentile(real, 98)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo <= 0:
        hi = lo + 1.0
    qmin, qmax = RANGE[dtype]
    s = (hi - lo) / (qmax - qmin)
    if style == "natural":
        s *= rng.uniform(0.8, 1.25)
    if style == "pow2":
        s = 2.0 ** np.ceil(np.log2(s))
    if force_scale is not None:
        s = force_scale
    s = np.float32(s)
    z = int(np.clip(np.rint(qmin - lo / s), qmin, qmax))
    return s, z


def inside_fraction(y, dtype):
    lo, hi = RANGE[dtype]
    y = np.asarray(y)
    return float(((y > lo) & (y < hi)).mean())


def conv_integer_ort(x, w, xz, dtype, pads):
    """ConvInteger(x, w, x_zp, w_zp=0) from onnxruntime; returns (acc, how)."""
    def run(xx, ww, xzz, wzz, xt, wt):
        node = helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], pads=pads)
        inits = [numpy_helper.from_array(ww, "w"), numpy_helper.from_array(np.asarray(xzz, dtype=xt).reshape(()), "xz"),
                 numpy_helper.from_array(np.asarray(wzz, dtype=wt).reshape(()), "wz")]
        return run_model([node], [("x", xx)], inits, [("y", TensorProto.INT32)])[0]
    try:
        return run(x, w, xz, 0, NP_OF[dtype], np.int8), "direct"
    except Exception as e:  # noqa: BLE001
        err = str(e).splitlines()[0][:160]
    # Fallback: shift both operands to uint8 (q + 128, zp + 128): (q - z) is unchanged, so acc is identical.
    xs = x.astype(np.int16) + (128 if dtype == "int8" else 0)
    return run(xs.astype(np.uint8), (w.astype(np.int16) + 128).astype(np.uint8),
               int(xz) + (128 if dtype == "int8" else 0), 128, np.uint8, np.uint8), "u8-shift (" + err + ")"


def qlinearconv_case(rng, name, dtype, N, C, H, W, M, k, pad, per_channel, style, x_zp=None):
    qmin, qmax = RANGE[dtype]
    x = rng.integers(qmin, qmax + 1, (N, C, H, W)).astype(NP_OF[dtype])
    if x_zp is None:
        x_zp = int(rng.integers(qmin + 20, qmax - 20))
    w = rng.integers(-127, 128, (M, C, k, k)).astype(np.int8)
    if style == "pow2":
        # small operands, so that with power-of-two scales the multiplier is 2^-1..2^-4 without saturating
        # everything: many float32(acc) * M land exactly on .5 (ties-to-even in requantization)
        x = np.clip(x_zp + rng.integers(-6, 7, x.shape), qmin, qmax).astype(NP_OF[dtype])
        w = rng.integers(-5, 6, w.shape).astype(np.int8)
    w.reshape(-1)[0] = -128 if name.endswith("m128") else w.reshape(-1)[0]
    if style == "pow2":
        x_scale = np.float32(2.0 ** -int(rng.integers(3, 8)))
        w_scale = f32(2.0 ** -rng.integers(4, 7, M if per_channel else 1))
    elif style == "natural":
        x_scale = np.float32(rng.uniform(0.003, 0.05))
        w_scale = f32(10 ** rng.uniform(-3.5, -1.5, M if per_channel else 1))
    else:
        x_scale = np.float32(0.02)
        w_scale = f32(np.linspace(0.004, 0.02, M)) if per_channel else f32([0.01])
    acc0 = ref_conv_acc(x, w, x_zp, [0], pad)
    bias = (rng.standard_normal(M) * acc0.std() * 0.5).astype(np.int64)
    bias[0] = 0
    acc_ref = acc0 + bias.reshape(1, M, 1, 1)
    real = acc_ref * (x_scale.astype(np.float64) * (w_scale.astype(np.float64).reshape(1, -1, 1, 1)))
    # pow2: y_scale = 2^j * x_scale * max(w_scale), so the multipliers are 2^-1 .. 2^-4
    fs = float(x_scale) * float(w_scale.max()) * 2.0 ** int(rng.integers(1, 3)) if style == "pow2" else None
    y_scale, y_zp = pick_output_qparams(real, dtype, rng, style, fs)
    pads = [pad] * 4
    pc = per_channel
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"], pads=pads,
                            kernel_shape=[k, k], strides=[1, 1], dilations=[1, 1], group=1)
    inits = [
        param_tensor("xs", [x_scale], np.float32, False), param_tensor("xz", [x_zp], NP_OF[dtype], False),
        numpy_helper.from_array(w, "w"),
        param_tensor("ws", w_scale, np.float32, pc), param_tensor("wz", [0] * w_scale.size, np.int8, pc),
        param_tensor("ys", [y_scale], np.float32, False), param_tensor("yz", [y_zp], NP_OF[dtype], False),
        numpy_helper.from_array(bias.astype(np.int32), "b"),
    ]
    (y,) = run_model([node], [("x", x)], inits, [("y", TP_OF[dtype])])
    acc_ort, how = conv_integer_ort(x, w, x_zp, dtype, pads)
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
        "bias": ints(bias), "pads": pads, "y_shape": list(y.shape), "y": ints(y), "acc": ints(acc),
    }
    return case, n_y_bad, y.size, how, frac


def qlinearmatmul_case(rng, name, a_dtype, N, K, M, per_column, style, a_zp=None):
    qmin, qmax = RANGE[a_dtype]
    a = rng.integers(qmin, qmax + 1, (N, K)).astype(NP_OF[a_dtype])
    if a_zp is None:
        a_zp = int(rng.integers(qmin + 20, qmax - 20))
    b = rng.integers(-127, 128, (K, M)).astype(np.int8)
    if style == "pow2":  # see qlinearconv_case
        a = np.clip(a_zp + rng.integers(-6, 7, a.shape), qmin, qmax).astype(NP_OF[a_dtype])
        b = rng.integers(-5, 6, b.shape).astype(np.int8)
    if style == "pow2":
        a_scale = np.float32(2.0 ** -int(rng.integers(3, 8)))
        b_scale = f32(2.0 ** -rng.integers(4, 7, M if per_column else 1))
    elif style == "natural":
        a_scale = np.float32(rng.uniform(0.003, 0.05))
        b_scale = f32(10 ** rng.uniform(-3.5, -1.5, M if per_column else 1))
    else:
        a_scale = np.float32(0.02)
        b_scale = f32(np.linspace(0.004, 0.02, M)) if per_column else f32([0.01])
    acc_ref = (a.astype(np.int64) - a_zp) @ b.astype(np.int64)
    real = acc_ref * (a_scale.astype(np.float64) * b_scale.astype(np.float64).reshape(1, -1))
    fs = float(a_scale) * float(b_scale.max()) * 2.0 ** int(rng.integers(1, 3)) if style == "pow2" else None
    y_scale, y_zp = pick_output_qparams(real, a_dtype, rng, style, fs)
    pc = per_column
    node = helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])
    inits = [
        param_tensor("as", [a_scale], np.float32, False), param_tensor("az", [a_zp], NP_OF[a_dtype], False),
        numpy_helper.from_array(b, "b"),
        param_tensor("bs", b_scale, np.float32, pc), param_tensor("bz", [0] * b_scale.size, np.int8, pc),
        param_tensor("ys", [y_scale], np.float32, False), param_tensor("yz", [y_zp], NP_OF[a_dtype], False),
    ]
    (y,) = run_model([node], [("a", a)], inits, [("y", TP_OF[a_dtype])])
    mm = helper.make_node("MatMulInteger", ["a", "b", "az", "bz"], ["y"])
    (acc,) = run_model([mm], [("a", a)], [numpy_helper.from_array(b, "b"),
                                          param_tensor("az", [a_zp], NP_OF[a_dtype], False),
                                          param_tensor("bz", [0], np.int8, False)], [("y", TensorProto.INT32)])
    acc = acc.astype(np.int64)
    n_acc_bad = int((acc != acc_ref).sum())
    if n_acc_bad:
        warn(f"qlinearmatmul {name}: {n_acc_bad} accumulators differ between ORT MatMulInteger and numpy")
    y_ref = requant(acc, a_scale, b_scale, y_scale, y_zp, a_dtype, 1)
    n_y_bad = int((y_ref != y.astype(np.int64)).sum())
    if n_y_bad:
        warn(f"qlinearmatmul {name}: {n_y_bad}/{y.size} outputs differ from numpy requantization")
    frac = inside_fraction(y, a_dtype)
    if frac < 0.5:
        warn(f"qlinearmatmul {name}: only {frac:.2f} of outputs strictly inside the range")
    case = {
        "name": name, "a_dtype": a_dtype, "a_shape": [N, K], "a": ints(a), "a_scale_bits": bits(a_scale),
        "a_zero_point": int(a_zp), "b_shape": [K, M], "b": ints(b), "b_scale_bits": bits(b_scale),
        "b_zero_point": [0] * b_scale.size, "y_scale_bits": bits(y_scale), "y_zero_point": int(y_zp),
        "y_shape": list(y.shape), "y": ints(y), "acc": ints(acc),
    }
    return case, n_y_bad, y.size, frac


def make_qlinear_section():
    rng = np.random.default_rng(20240604)
    conv, mm = [], []
    conv_bad = conv_total = 0
    hows = set()
    specs = [
        # name, dtype, N, C, H, W, M, k, pad, per_channel, style, x_zp
        ("u8_k3_p0_pt", "uint8", 1, 1, 5, 5, 2, 3, 0, False, "plain", None),
        ("u8_k3_p1_pc", "uint8", 2, 3, 6, 6, 4, 3, 1, True, "plain", None),
        ("u8_k1_p0_pc", "uint8", 1, 4, 5, 5, 3, 1, 0, True, "plain", None),
        ("u8_k1_p1_pt", "uint8", 1, 2, 5, 5, 3, 1, 1, False, "plain", None),
        ("u8_k3_p1_pt_zp0", "uint8", 1, 2, 6, 6, 3, 3, 1, False, "plain", 0),
        ("u8_k3_p1_pc_zp255", "uint8", 1, 2, 5, 5, 2, 3, 1, True, "plain", 255),
        ("u8_k3_p1_pc_pow2", "uint8", 1, 3, 7, 7, 4, 3, 1, True, "pow2", None),
        ("u8_k3_p0_pc_natural", "uint8", 2, 4, 7, 7, 5, 3, 0, True, "natural", None),
        ("u8_k1_p0_pt_natural", "uint8", 1, 3, 6, 6, 2, 1, 0, False, "natural", None),
        ("u8_k3_p1_pc_natural_m128", "uint8", 1, 4, 6, 6, 3, 3, 1, True, "natural", None),
        ("i8_k3_p1_pt", "int8", 1, 2, 7, 7, 5, 3, 1, False, "plain", None),
        ("i8_k3_p0_pc", "int8", 2, 4, 6, 6, 3, 3, 0, True, "plain", None),
        ("i8_k1_p1_pc", "int8", 1, 3, 5, 5, 4, 1, 1, True, "plain", None),
        ("i8_k1_p0_pt", "int8", 2, 1, 5, 5, 2, 1, 0, False, "plain", None),
        ("i8_k3_p1_pc_zp-128", "int8", 1, 3, 6, 6, 4, 3, 1, True, "plain", -128),
        ("i8_k3_p1_pt_zp0", "int8", 1, 1, 5, 5, 2, 3, 1, False, "plain", 0),
        ("i8_k3_p1_pc_pow2", "int8", 2, 2, 6, 6, 3, 3, 1, True, "pow2", None),
        ("i8_k3_p0_pt_pow2", "int8", 1, 4, 5, 5, 2, 3, 0, False, "pow2", None),
        ("i8_k3_p1_pc_natural", "int8", 2, 3, 7, 7, 5, 3, 1, True, "natural", None),
        ("i8_k1_p1_pc_natural", "int8", 1, 4, 6, 6, 5, 1, 1, True, "natural", None),
        ("i8_k3_p0_pc_natural_m128", "int8", 1, 2, 7, 7, 4, 3, 0, True, "natural", 7),
    ]
    for spec in specs:
        c, nb, tot, how, _ = qlinearconv_case(rng, *spec)
        conv.append(c)
        conv_bad += nb
        conv_total += tot
        hows.add(how.split(" ")[0])
        if how != "direct":
            print(f"note: ConvInteger {spec[0]}: {how}", file=sys.stderr)
    mm_bad = mm_total = 0
    per_col_note = None
    mspecs = [
        # name, a_dtype, N, K, M, per_column, style, a_zp
        ("u8_pt", "uint8", 4, 16, 6, False, "plain", None),
        ("u8_pt_natural", "uint8", 3, 64, 10, False, "natural", None),
        ("u8_pt_pow2", "uint8", 8, 32, 5, False, "pow2", None),
        ("u8_pt_zp0", "uint8", 2, 24, 3, False, "plain", 0),
        ("i8_pt", "int8", 4, 16, 6, False, "plain", None),
        ("i8_pt_natural", "int8", 5, 48, 7, False, "natural", None),
        ("i8_pt_pow2", "int8", 1, 40, 9, False, "pow2", None),
        ("i8_pt_zp-128", "int8", 6, 20, 4, False, "plain", -128),
        ("u8_pc", "uint8", 4, 16, 6, True, "plain", None),
        ("u8_pc_natural", "uint8", 3, 64, 10, True, "natural", None),
        ("u8_pc_pow2", "uint8", 2, 33, 5, True, "pow2", None),
        ("i8_pc", "int8", 4, 16, 6, True, "plain", None),
        ("i8_pc_natural", "int8", 7, 50, 8, True, "natural", None),
        ("i8_pc_pow2", "int8", 3, 27, 4, True, "pow2", None),
    ]
    for spec in mspecs:
        try:
            c, nb, tot, _ = qlinearmatmul_case(rng, *spec)
        except Exception as e:  # noqa: BLE001
            if spec[5]:
                per_col_note = f"onnxruntime rejected per-column b_scale in QLinearMatMul: {str(e).splitlines()[0][:200]}"
                print("note: " + per_col_note, file=sys.stderr)
                continue
            raise
        mm.append(c)
        mm_bad += nb
        mm_total += tot
    if per_col_note is None:
        per_col_note = "onnxruntime CPU accepts a 1-D per-column b_scale (length = columns of b) in QLinearMatMul."
    return conv, mm, (conv_bad, conv_total), (mm_bad, mm_total), hows, per_col_note


# ----------------------------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------------------------


def write_json(path, top):
    """One case per line: compact, but diffable."""
    parts = []
    for key, val in top.items():
        if isinstance(val, list) and val and isinstance(val[0], dict):
            body = ",\n".join("  " + json.dumps(c, separators=(",", ":")) for c in val)
            parts.append(f"{json.dumps(key)}: [\n{body}\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(val)}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    json.loads(text)  # sanity
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {path}: {len(text)} bytes")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    q, q_bad = make_quantize_section()
    dq, dq_bad = make_dequantize_section()
    calib, wcalib = make_calibration_section()
    n_calib_mismatch = sum(1 for m in MISMATCHES if m.startswith(("calibration", "weight", "bias")))
    write_json(os.path.join(OUT_DIR, "quantize.json"), {
        "generator": GENERATOR,
        "versions": VERSIONS,
        "notes": [
            "Float32 values are uint32 bit patterns (fields ending in _bits); tensors are flat row-major lists.",
            "quantize: one QuantizeLinear node (opset 21) run by onnxruntime CPUExecutionProvider. NaN inputs are "
            "deliberately absent: ONNX leaves QuantizeLinear(NaN) unspecified for integer outputs.",
            "dequantize: one DequantizeLinear node (opset 21); int32 inputs use zero point 0.",
            "calibration: onnxruntime.quantization.quantize_static, QDQ format, CalibrationMethod.MinMax, "
            "reduce_range=False, on X -> MatMul(X, W); scale/zero point read from the QuantizeLinear on X. "
            "asym_uint8 = activation_type QUInt8; asym_int8 = QInt8; sym_int8 = QInt8 + ActivationSymmetric=True. "
            "rmin/rmax are the float32 min/max over all batches (before widening to include 0).",
            "weight_calibration: quantize_static(per_channel=True, weight_type=QInt8, activation QUInt8); "
            "w_q are the int8 weights stored in the quantized model; for Conv also the int32 bias (bias_q) with "
            "bias_scale = float32(x_scale * w_scale[m]) and bias_q = round_half_even(float64(b)/float64(bias_scale)).",
            f"numpy cross-check mismatches: quantize {q_bad}, dequantize {dq_bad}, "
            f"calibration/weights vs compute_scale_zp+get_qmin_qmax_for_qType {n_calib_mismatch}.",
        ],
        "quantize": q,
        "dequantize": dq,
        "calibration": calib,
        "weight_calibration": wcalib,
    })
    conv, mm, (cb, ct), (mb, mt), hows, per_col_note = make_qlinear_section()
    write_json(os.path.join(OUT_DIR, "qlinear.json"), {
        "generator": GENERATOR,
        "versions": VERSIONS,
        "notes": [
            "QLinearConv: NCHW, group 1, stride 1, dilation 1, pads [top,left,bottom,right] all equal; w int8 with "
            "zero point 0 (per-tensor or per-channel along axis 0); int32 bias; y has the x dtype.",
            "acc = ConvInteger(x, w, x_zp, 0) from onnxruntime + bias (padding contributes 0, i.e. pads hold x_zp); "
            "for QLinearMatMul acc = MatMulInteger(a, b, a_zp, 0). Both also equal an exact int64 numpy sum.",
            ("ConvInteger ran directly on the uint8/int8 operands in onnxruntime for every case."
             if hows == {"direct"} else
             "ConvInteger path: " + ", ".join(sorted(hows)) + " (u8-shift = operands shifted by +128 into uint8 "
             "with zero points shifted too, which leaves every (q - z) and hence acc unchanged; used where ORT has "
             "no int8 ConvInteger kernel)."),
            per_col_note,
            "Requantization check: y == saturate(rint(float32(acc) * float32(float32(x_scale*w_scale[m])/y_scale)) "
            f"+ y_zp): QLinearConv {cb} of {ct} outputs differ from onnxruntime, QLinearMatMul {mb} of {mt} differ "
            f"(machine {platform.machine()}).",
            "y_scale/y_zero_point were chosen from the 2nd..98th percentile of the real outputs so that most outputs "
            "are not saturated; 'natural' cases use random scales, 'pow2' cases power-of-two scales (many exact .5 ties).",
        ],
        "qlinearconv": conv,
        "qlinearmatmul": mm,
    })
    print(f"quantize {len(q)}, dequantize {len(dq)}, calibration {len(calib)}, weight_calibration {len(wcalib)}, "
          f"qlinearconv {len(conv)}, qlinearmatmul {len(mm)}")
    print(f"requant mismatches: conv {cb}/{ct}, matmul {mb}/{mt}")
    print(f"{len(MISMATCHES)} mismatch lines" + (":" if MISMATCHES else ""))
    for m in MISMATCHES:
        print("  " + m)


if __name__ == "__main__":
    main()
