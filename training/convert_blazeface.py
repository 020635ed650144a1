"""Converts MediaPipe's short-range BlazeFace face detector to safetensors + config.json.

The weights ship inside the mediapipe wheel on PyPI (Apache-2.0):
    mediapipe/modules/face_detection/face_detection_short_range.tflite
This script finds `mediapipe-0.10.21-*.whl` in training/data/wheels (or the folder given by
--wheel-dir), downloads it there with `pip download --no-deps` when it is absent, reads the
TFLite flatbuffer with our own reader (training/tflite_reader.py), checks that the graph is
the BlazeFace layout the Swift model builds (stem conv, BlazeBlocks, two SSD heads), and writes

    Models/face-detector/blazeface-short-range.safetensors   (fp16, as stored in the .tflite)
    Models/face-detector/config.json

Weights are re-laid out for NCHW (PyTorch/Swift): conv kernels [O, kh, kw, I] -> [O, I, kh, kw],
depthwise kernels [1, kh, kw, C] -> [C, 1, kh, kw]. The anchor, decoding and NMS parameters are
those of mediapipe/modules/face_detection/face_detection_short_range.pbtxt (SsdAnchorsCalculator,
TensorsToDetectionsCalculator, NonMaxSuppressionCalculator) for that release.

Run from the repository root:  .venv/bin/python training/convert_blazeface.py [--check IMAGE]
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
from safetensors.numpy import save_file

from tflite_reader import TFLiteModel, read_model

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MEDIAPIPE_VERSION = "0.10.21"
TFLITE_MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
DEFAULT_WHEEL_DIR = os.path.join(ROOT, "training", "data", "wheels")
DEFAULT_OUT = os.path.join(ROOT, "Models", "face-detector")
WEIGHTS_NAME = "blazeface-short-range.safetensors"

# face_detection_short_range.pbtxt, mediapipe v0.10.21.
ANCHOR_OPTIONS = {
    "num_layers": 4, "min_scale": 0.1484375, "max_scale": 0.75,
    "input_size_height": 128, "input_size_width": 128,
    "anchor_offset_x": 0.5, "anchor_offset_y": 0.5,
    "strides": [8, 16, 16, 16], "aspect_ratios": [1.0],
    "fixed_anchor_size": True, "interpolated_scale_aspect_ratio": 1.0,
    "reduce_boxes_in_lowest_layer": False,
}
DECODING_OPTIONS = {
    "num_classes": 1, "num_boxes": 896, "num_coords": 16,
    "box_coord_offset": 0, "keypoint_coord_offset": 4, "num_keypoints": 6, "num_values_per_keypoint": 2,
    "sigmoid_score": True, "score_clipping_thresh": 100.0, "reverse_output_order": True,
    "x_scale": 128.0, "y_scale": 128.0, "w_scale": 128.0, "h_scale": 128.0,
    "min_score_thresh": 0.5,
}
NMS_OPTIONS = {"min_suppression_threshold": 0.3, "overlap_type": "INTERSECTION_OVER_UNION", "algorithm": "WEIGHTED"}
# Keypoint order of the model's output (the subject's right and left).
KEYPOINTS = ["right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion"]


class GraphMismatch(ValueError):
    pass


def find_or_fetch_wheel(wheel_dir: str) -> str:
    pattern = os.path.join(wheel_dir, f"mediapipe-{MEDIAPIPE_VERSION}-*.whl")
    found = sorted(glob.glob(pattern))
    if found:
        return found[0]
    os.makedirs(wheel_dir, exist_ok=True)
    # Any platform's wheel holds the same model file; pin one so the download is the same everywhere.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
               "-d", wheel_dir, f"mediapipe=={MEDIAPIPE_VERSION}"]
    print("fetching:", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True)
    found = sorted(glob.glob(pattern))
    if not found:
        raise SystemExit(f"{wheel_dir}: pip download did not produce mediapipe-{MEDIAPIPE_VERSION}-*.whl")
    return found[0]


def extract_tflite(wheel: str, dest_dir: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        if TFLITE_MEMBER not in archive.namelist():
            raise SystemExit(f"{wheel}: has no {TFLITE_MEMBER}")
        path = os.path.join(dest_dir, os.path.basename(TFLITE_MEMBER))
        with open(path, "wb") as f:
            f.write(archive.read(TFLITE_MEMBER))
    return path


class _Walker:
    """Follows the operator list in order, resolving DEQUANTIZE outputs to their constants."""

    def __init__(self, model: TFLiteModel):
        self.model = model
        self.constants = {t.index: t.data for t in model.tensors if t.data is not None}
        self.ops = []
        for op in model.operators:
            if op.op == "DEQUANTIZE":
                self.constants[op.outputs[0]] = self.constants[op.inputs[0]]
            else:
                self.ops.append(op)
        self.position = 0

    def peek(self):
        return self.ops[self.position] if self.position < len(self.ops) else None

    def take(self, kind, consumes=None):
        op = self.peek()
        if op is None or op.op != kind:
            found = "the end of the graph" if op is None else f"{op.op} (operator {op.index})"
            raise GraphMismatch(f"expected {kind}, found {found}")
        if consumes is not None and op.inputs[0] != consumes:
            raise GraphMismatch(f"{kind} (operator {op.index}) reads tensor {op.inputs[0]}, expected {consumes}")
        self.position += 1
        return op

    def const(self, index):
        if index not in self.constants:
            raise GraphMismatch(f"tensor {index} ({self.model.tensor(index).name}) is not a constant")
        return self.constants[index]


def _same_padding(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return [total // 2, total - total // 2]


def _conv_weights(walker, op, prefix, tensors):
    kernel = walker.const(op.inputs[1])  # [O, kh, kw, I]
    tensors[f"{prefix}.weight"] = np.ascontiguousarray(kernel.transpose(0, 3, 1, 2))
    tensors[f"{prefix}.bias"] = walker.const(op.inputs[2]).copy()
    return kernel.shape


def parse_graph(model: TFLiteModel):
    """Matches the graph to stem -> BlazeBlocks -> heads; returns (architecture, tensors)."""
    w = _Walker(model)
    tensors = {}
    size = model.tensor(model.inputs[0]).shape[1]
    stem = w.take("CONV_2D", consumes=model.inputs[0])
    o, kh, kw, i = _conv_weights(w, stem, "stem", tensors)
    if stem.options["padding"] != "SAME" or kh != kw:
        raise GraphMismatch("the stem must be a square SAME convolution")
    relu = w.take("RELU", consumes=stem.outputs[0])
    arch = {"stem": {"in_channels": i, "out_channels": o, "kernel": kh, "stride": stem.options["stride_h"],
                     "padding": _same_padding(size, kh, stem.options["stride_h"])}, "blocks": []}
    size = -(-size // stem.options["stride_h"])
    current, channels = relu.outputs[0], o
    block_of_tensor = {current: -1}
    while w.peek() is not None and w.peek().op == "DEPTHWISE_CONV_2D":
        index = len(arch["blocks"])
        dw = w.take("DEPTHWISE_CONV_2D", consumes=current)
        stride = dw.options["stride_h"]
        kernel = w.const(dw.inputs[1])  # [1, kh, kw, C]
        tensors[f"blocks.{index}.depthwise.weight"] = np.ascontiguousarray(kernel.transpose(3, 0, 1, 2))
        tensors[f"blocks.{index}.depthwise.bias"] = w.const(dw.inputs[2]).copy()
        # The converter interleaves the skip path's ops with the main path's: gather the
        # block's ops (up to its RELU) and match them by kind and by the tensors they read.
        ops = {}
        while w.peek() is not None and w.peek().op != "RELU":
            op = w.take(w.peek().op)
            if op.op in ops:
                raise GraphMismatch(f"block {index}: two {op.op} ops (operators {ops[op.op].index}, {op.index})")
            ops[op.op] = op
        unknown = set(ops) - {"CONV_2D", "MAX_POOL_2D", "PAD", "ADD"}
        if unknown or "CONV_2D" not in ops or "ADD" not in ops:
            raise GraphMismatch(f"block {index}: ops {sorted(ops)} are not a BlazeBlock")
        pw = ops["CONV_2D"]
        if pw.inputs[0] != dw.outputs[0]:
            raise GraphMismatch(f"block {index}: the pointwise convolution does not read the depthwise output")
        out_channels, pkh, _, _ = _conv_weights(w, pw, f"blocks.{index}.pointwise", tensors)
        if pkh != 1:
            raise GraphMismatch(f"block {index}: the pointwise convolution is {pkh}x{pkh}, expected 1x1")
        skip = current
        if stride == 2:
            pool = ops.get("MAX_POOL_2D")
            if pool is None or pool.inputs[0] != current or pool.options["filter_h"] != 2:
                raise GraphMismatch(f"block {index}: a stride-2 block needs a 2x2 max-pool on its skip path")
            skip = pool.outputs[0]
        elif "MAX_POOL_2D" in ops:
            raise GraphMismatch(f"block {index}: max-pool in a stride-1 block")
        if out_channels != channels:
            pad = ops.get("PAD")
            if pad is None or pad.inputs[0] != skip:
                raise GraphMismatch(f"block {index}: {channels}->{out_channels} channels without a channel PAD on the skip")
            paddings = w.const(pad.inputs[1]).tolist()
            if paddings[:3] != [[0, 0]] * 3 or paddings[3] != [0, out_channels - channels]:
                raise GraphMismatch(f"block {index}: channel padding {paddings} is not zeros after the channels")
            skip = pad.outputs[0]
        add = ops["ADD"]
        if sorted(add.inputs) != sorted([skip, pw.outputs[0]]):
            raise GraphMismatch(f"block {index}: the ADD (operator {add.index}) does not join skip and pointwise")
        relu = w.take("RELU", consumes=add.outputs[0])
        arch["blocks"].append({"in_channels": channels, "out_channels": out_channels, "stride": stride,
                               "kernel": kernel.shape[1],
                               "padding": _same_padding(size, kernel.shape[1], stride)})
        size = -(-size // stride)
        current, channels = relu.outputs[0], out_channels
        block_of_tensor[current] = index

    heads = {}
    while w.peek() is not None and w.peek().op == "CONV_2D":
        op = w.take("CONV_2D")
        name = model.tensor(op.outputs[0]).name  # classificator_8, regressor_16, ...
        if op.inputs[0] not in block_of_tensor:
            raise GraphMismatch(f"head {name} does not read a block output")
        out_channels, _, _, in_channels = _conv_weights(w, op, name, tensors)
        heads[name] = {"block": block_of_tensor[op.inputs[0]], "in_channels": in_channels,
                       "out_channels": out_channels, "grid": model.tensor(op.outputs[0]).shape[1]}
    # The rest reshapes and concatenates: classificators then regressors, stride 8 grid first.
    arch["heads"] = []
    for stride in (8, 16):
        scores, boxes = heads.get(f"classificator_{stride}"), heads.get(f"regressor_{stride}")
        if scores is None or boxes is None or scores["block"] != boxes["block"]:
            raise GraphMismatch(f"missing or mismatched heads for stride {stride}: {sorted(heads)}")
        anchors = scores["out_channels"]
        arch["heads"].append({"stride": stride, "block": scores["block"], "grid": scores["grid"],
                              "anchors_per_cell": anchors, "in_channels": scores["in_channels"],
                              "coords": boxes["out_channels"] // anchors,
                              "classifier": f"classificator_{stride}", "regressor": f"regressor_{stride}"})
    rest = [op.op for op in w.ops[w.position:]]
    if rest != ["RESHAPE"] * 4 + ["CONCATENATION"] * 2:
        raise GraphMismatch(f"unexpected tail after the heads: {rest}")
    return arch, tensors


def build_config(arch, model: TFLiteModel):
    boxes = sum(h["grid"] ** 2 * h["anchors_per_cell"] for h in arch["heads"])
    if boxes != DECODING_OPTIONS["num_boxes"]:
        raise GraphMismatch(f"the heads give {boxes} boxes, the decoding options expect {DECODING_OPTIONS['num_boxes']}")
    return {
        "architecture": "BlazeFace",
        "source": f"mediapipe {MEDIAPIPE_VERSION} wheel, {TFLITE_MEMBER} ({model.description})",
        "license": "Apache-2.0 (MediaPipe)",
        "weights_file": WEIGHTS_NAME,
        "input_size": model.tensor(model.inputs[0]).shape[1],
        "input_range": [-1.0, 1.0],
        "letterbox_fill": [0, 0, 0],
        "stem": arch["stem"], "blocks": arch["blocks"], "heads": arch["heads"],
        "anchors": ANCHOR_OPTIONS, "decoding": DECODING_OPTIONS, "nms": NMS_OPTIONS,
        "keypoints": KEYPOINTS,
    }


def convert(tflite_path: str, out_dir: str, dtype=np.float16):
    model = read_model(tflite_path)
    arch, tensors = parse_graph(model)
    config = build_config(arch, model)
    return config, save_converted(out_dir, WEIGHTS_NAME, tensors, config, dtype, indent=2)


def save_converted(out_dir: str, weights_name: str, tensors: dict, config: dict, dtype, indent: int) -> dict:
    """A converted model folder: the tensors in `dtype` under sorted names (what the committed
    files hold, byte for byte) and config.json; returns the tensors as written."""
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: np.ascontiguousarray(v.astype(dtype)) for k, v in sorted(tensors.items())}
    save_file(tensors, os.path.join(out_dir, weights_name), metadata={"source": config["source"], "format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=indent)
        f.write("\n")
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel-dir", default=DEFAULT_WHEEL_DIR)
    parser.add_argument("--tflite", help="use this .tflite instead of the one in the wheel")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--fp32", action="store_true", help="store float32 (the .tflite holds fp16 already)")
    args = parser.parse_args()
    tflite = args.tflite
    if tflite is None:
        os.makedirs(os.path.join(ROOT, "training", "data"), exist_ok=True)
        tflite = extract_tflite(find_or_fetch_wheel(args.wheel_dir), os.path.join(ROOT, "training", "data"))
    config, tensors = convert(tflite, args.out, np.float32 if args.fp32 else np.float16)
    count = sum(t.size for t in tensors.values())
    print(f"wrote {args.out}: {len(config['blocks'])} blocks, {len(tensors)} tensors, {count} parameters")


if __name__ == "__main__":
    main()
