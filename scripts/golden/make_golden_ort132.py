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
  MatMulInteger): tests/golden/qlinear_132.json.

Usage (by hand, never in CI; needs PyPI; `make golden` does this):
  python3 -m venv /tmp/ort132 && /tmp/ort132/bin/pip install onnxruntime==1.32.0 onnx numpy
  /tmp/ort132/bin/python scripts/golden/make_golden_ort132.py
Floats are stored as uint32 bit patterns (in the three newer files: in fields ending `_bits`; tensors
are flat row-major lists). Everything is seeded; numpy cross-checks print every mismatch and write
the counts into each file's "notes".
"""import json
import pathlib
import platform
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


def main():
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


if __name__ == "__main__":
    main()
