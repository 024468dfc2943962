#!/usr/bin/env python3
"""Export quantlab's baseline CNN to ONNX (FP32) and quantize it to INT8 with onnxruntime.

Reads   www/models/baseline-cnn.safetensors   (float32, PyTorch names and layouts)
Writes  www/models/baseline-cnn.onnx          FP32: Conv, Relu, MaxPool 2x2, ..., Flatten, Gemm
        www/models/baseline-cnn.int8.onnx     INT8, QOperator format (QLinearConv, QGemm)

`make bench` (scripts/bench.mjs) runs both files in onnxruntime-web next to quantlab's own paths.
CI never runs this script: it needs Python and onnxruntime, which the Rust/wasm build does not.
Rerun it whenever the weights file changes, then commit the two .onnx files (together < 250 KB).

How to rerun (from the repository root; one command once the venv exists):

    python3 -m venv /tmp/onnxvenv
    /tmp/onnxvenv/bin/pip install onnxruntime==1.31.1 onnx==1.23.2 numpy==2.4.6 safetensors
    /tmp/onnxvenv/bin/python scripts/onnx/export.py

Options: --format qdq writes the QDQ form instead (for comparison; the bench expects QOperator),
--out-dir DIR writes both files elsewhere.

The graph follows the layer list in the file's `__metadata__` ("layers", as src/model/file.rs
reads it): conv2d (3x3, stride 1, padding 0 or 1), relu, maxpool2d (2x2, stride 2), flatten, linear.
Input "input" is [N, 1, 32, 32] float32 with a dynamic batch N; output "logits" is [N, 10].

Quantization choices, and why:
  * weights int8, symmetric, per output channel (zero point 0), MinMax ranges: as quantlab does.
  * activations uint8, asymmetric (QuantType.QUInt8), MinMax over the 512 calibration digits of
    www/data/digits-calib.bin. onnxruntime-web's wasm backend runs quantized convolutions and
    matrix products through MLAS, whose WebAssembly QGEMM kernels (qgemm_kernel_wasmsimd.cpp and
    the relaxed-SIMD variant) exist only for an *unsigned* A operand: MlasGemmQuantGetDispatch
    has no S8S8 entry for MLAS_TARGET_WASM_SIMD. So u8 activations x s8 weights (U8S8) is the
    pair that runs on integer kernels there; int8 activations would either fail ("Quant GEMM
    format: AIsSigned(1) ... is not supported") or, in QDQ form, not be fused and fall back to
    DequantizeLinear + float Conv.
  * QOperator format: the integer operators are in the file itself, so what runs does not depend
    on onnxruntime-web's graph optimizer fusing DQ -> Conv -> Q patterns. Relu disappears into the
    uint8 output range of QLinearConv; MaxPool and Flatten run on uint8 directly; the linear layer
    becomes com.microsoft QGemm (registered in the wasm build).
  * no reduce_range: the wasm kernel widens to 16 bits before multiplying (no vpmaddubsw-style
    saturation), so the full 8-bit range is safe there. On x86 CPUs without VNNI, Python's
    onnxruntime may saturate rarely; the accuracy check below would show it.

Preprocessing (as src/model/digits.rs): x = pixel / 255, the 28x28 digit centred on the 32x32
canvas with zero padding (2 pixels on every side).

Checks, printed at the end: accuracy of both models on the first 200 digits of
www/data/digits-test.bin with onnxruntime (CPU), agreement between them, max |logit difference|.
"""

import argparse
import json
import logging
import os
import struct
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
from safetensors.numpy import load_file

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WEIGHTS = os.path.join(REPO, "www", "models", "baseline-cnn.safetensors")
CALIB = os.path.join(REPO, "www", "data", "digits-calib.bin")
TEST = os.path.join(REPO, "www", "data", "digits-test.bin")
OPSET = 21  # onnxruntime-web 1.30 and onnxruntime 1.31 both run opset 21
IR_VERSION = 10
CHECK_COUNT = 200


def read_metadata(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return header.get("__metadata__", {})


def read_digits(path):
    """QLDG file -> (labels [n] uint8, pixels [n, rows, cols] uint8)."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:4] != b"QLDG":
        sys.exit(f"{path}: not a QLDG digit file")
    n, rows, cols = struct.unpack("<III", b[4:16])
    labels = np.frombuffer(b, np.uint8, n, 16)
    pixels = np.frombuffer(b, np.uint8, n * rows * cols, 16 + n).reshape(n, rows, cols)
    return labels, pixels


def preprocess(pixels, size):
    """pixel/255, centred on a size x size canvas with zeros: [n, 1, size, size] float32."""
    n, rows, cols = pixels.shape
    out = np.zeros((n, 1, size, size), np.float32)
    oy, ox = (size - rows) // 2, (size - cols) // 2
    out[:, 0, oy : oy + rows, ox : ox + cols] = pixels.astype(np.float32) / 255.0
    return out


def build_fp32(weights, meta):
    """onnx.ModelProto from the safetensors tensors and the metadata layer list."""
    c, h, w = json.loads(meta.get("input", "[1,32,32]"))
    layers = json.loads(meta["layers"]) if "layers" in meta else [
        {"type": "conv2d", "name": "conv1", "padding": 0}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
        {"type": "conv2d", "name": "conv2", "padding": 0}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
        {"type": "flatten"}, {"type": "linear", "name": "fc"}]
    nodes, inits = [], []
    x = "input"
    for i, layer in enumerate(layers):
        kind = layer["type"]
        y = f"{kind}{i}_out"
        if kind == "conv2d":
            name = layer["name"]
            wt, bt = weights[f"{name}.weight"], weights[f"{name}.bias"]
            p = int(layer.get("padding", 0))
            inits += [numpy_helper.from_array(wt, f"{name}.weight"), numpy_helper.from_array(bt, f"{name}.bias")]
            nodes.append(helper.make_node("Conv", [x, f"{name}.weight", f"{name}.bias"], [y], name=name,
                                          kernel_shape=list(wt.shape[2:]), pads=[p] * 4, strides=[1, 1]))
        elif kind == "relu":
            nodes.append(helper.make_node("Relu", [x], [y], name=f"relu{i}"))
        elif kind == "maxpool2d":
            k = int(layer.get("kernel", 2))
            nodes.append(helper.make_node("MaxPool", [x], [y], name=f"maxpool{i}", kernel_shape=[k, k], strides=[k, k]))
        elif kind == "flatten":
            nodes.append(helper.make_node("Flatten", [x], [y], name=f"flatten{i}", axis=1))
        elif kind == "linear":
            name = layer["name"]
            inits += [numpy_helper.from_array(weights[f"{name}.weight"], f"{name}.weight"),
                      numpy_helper.from_array(weights[f"{name}.bias"], f"{name}.bias")]
            nodes.append(helper.make_node("Gemm", [x, f"{name}.weight", f"{name}.bias"], [y], name=name, transB=1))
        else:
            sys.exit(f"layer {i}: unknown type {kind!r}")
        x = y
    nodes[-1].output[0] = "logits"
    classes = weights[f"{layers[-1]['name']}.weight"].shape[0]
    graph = helper.make_graph(
        nodes, "quantlab-baseline-cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", c, h, w])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="quantlab scripts/onnx/export.py")
    model.ir_version = IR_VERSION
    model.doc_string = "quantlab baseline CNN; input pixel/255 on a zero-padded 32x32 canvas"
    onnx.checker.check_model(model, full_check=True)
    return onnx.shape_inference.infer_shapes(model)


class DigitsReader(CalibrationDataReader):
    def __init__(self, x, batch=64):
        self.batches = iter([{"input": x[i : i + batch]} for i in range(0, len(x), batch)])

    def get_next(self):
        return next(self.batches, None)


def run(path, x):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    return sess.run(["logits"], {"input": x})[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--format", choices=["qoperator", "qdq"], default="qoperator")
    ap.add_argument("--out-dir", default=os.path.join(REPO, "www", "models"))
    args = ap.parse_args()

    meta = read_metadata(WEIGHTS)
    weights = {k: np.ascontiguousarray(v, np.float32) for k, v in load_file(WEIGHTS).items()}
    fp32 = build_fp32(weights, meta)
    size = fp32.graph.input[0].type.tensor_type.shape.dim[2].dim_value

    os.makedirs(args.out_dir, exist_ok=True)
    fp32_path = os.path.join(args.out_dir, "baseline-cnn.onnx")
    int8_path = os.path.join(args.out_dir, "baseline-cnn.int8.onnx")
    onnx.save(fp32, fp32_path)

    logging.getLogger().setLevel(logging.ERROR)  # quantize_static's "consider pre-processing" advice
    _, calib_px = read_digits(CALIB)
    calib = preprocess(calib_px, size)
    with tempfile.TemporaryDirectory() as tmp:
        # quantize_static writes augmented models next to its working files; keep them out of www/.
        src = os.path.join(tmp, "fp32.onnx")
        onnx.save(fp32, src)
        quantize_static(
            src, int8_path, DigitsReader(calib),
            quant_format=QuantFormat.QOperator if args.format == "qoperator" else QuantFormat.QDQ,
            per_channel=True,
            reduce_range=False,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
        )
    q = onnx.load(int8_path)
    q.producer_name = "quantlab scripts/onnx/export.py (onnxruntime.quantization.quantize_static)"
    q.doc_string = (f"INT8 {args.format}: weights int8 symmetric per channel, activations uint8 asymmetric, "
                    f"MinMax over {len(calib)} calibration digits")
    onnx.save(q, int8_path)

    labels, test_px = read_digits(TEST)
    labels, x = labels[:CHECK_COUNT], preprocess(test_px[:CHECK_COUNT], size)
    y32, y8 = run(fp32_path, x), run(int8_path, x)
    p32, p8 = y32.argmax(1), y8.argmax(1)
    ops = sorted({f"{n.domain + '.' if n.domain else ''}{n.op_type}" for n in q.graph.node})
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")
    print(f"wrote {os.path.relpath(fp32_path, REPO)} ({os.path.getsize(fp32_path):,} bytes)")
    print(f"wrote {os.path.relpath(int8_path, REPO)} ({os.path.getsize(int8_path):,} bytes), "
          f"{args.format}, ops: {', '.join(ops)}")
    print(f"on the first {CHECK_COUNT} test digits: FP32 accuracy {np.mean(p32 == labels):.2%}, "
          f"INT8 accuracy {np.mean(p8 == labels):.2%}, agreement {np.mean(p32 == p8):.2%}, "
          f"max |logit diff| {np.abs(y32 - y8).max():.4f}")


if __name__ == "__main__":
    main()
