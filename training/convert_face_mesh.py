"""Converts MediaPipe's face mesh (face_landmark.tflite, 468 landmarks) to safetensors + config.json.

The model ships in the same mediapipe wheel as the BlazeFace detector (Apache-2.0):
    mediapipe/modules/face_landmark/face_landmark.tflite
The graph is a plain feed-forward net (convolutions, depthwise convolutions, PReLU, residual
adds, 2x2 max-pools, channel padding) that forks into two heads: 468 x 3 landmark coordinates in
the 192x192 input's pixels and a face-presence logit. It is written as a list of layers in the
.tflite's execution order, each naming the values it reads and writes, so the Swift model
(Sources/Models/FaceMesh) builds whatever this graph is from the config alone:

    Models/face-mesh/face-landmark.safetensors   (fp16, as stored in the .tflite)
    Models/face-mesh/config.json

Weights are re-laid out for NCHW: conv kernels [O, kh, kw, I] -> [O, I, kh, kw], depthwise
[1, kh, kw, C] -> [C, 1, kh, kw], PReLU slopes [1, 1, C] -> [C]. The config also carries what
MediaPipe's face_landmark_front graph does around the network (the region of interest from a
detection: box scaled 1.5x, square on its long side, rotated so the eyes are level; input range
[0, 1]; the presence threshold), and the landmark index lists the project uses, taken from
mediapipe.python.solutions.face_mesh_connections: the face oval as an ordered polygon, the eye
contours and the points the ArcFace alignment needs.

Run from the repository root:  .venv/bin/python training/convert_face_mesh.py
"""

import argparse
import os
import zipfile

import numpy as np

from convert_blazeface import DEFAULT_WHEEL_DIR, MEDIAPIPE_VERSION, GraphMismatch, find_or_fetch_wheel, save_converted
from tflite_reader import TFLiteModel, read_model

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TFLITE_MEMBER = "mediapipe/modules/face_landmark/face_landmark.tflite"
DEFAULT_OUT = os.path.join(ROOT, "Models", "face-mesh")
WEIGHTS_NAME = "face-landmark.safetensors"

# face_detection_front_detection_to_roi.pbtxt and face_landmark_cpu.pbtxt, mediapipe v0.10.21.
ROI_OPTIONS = {"rotation_keypoints": [0, 1], "target_angle_degrees": 0.0, "scale": 1.5, "square_long": True}
PRESENCE_THRESHOLD = 0.5

# mediapipe/python/solutions/face_mesh_connections.py (v0.10.21), copied so the converter needs
# only the wheel's .tflite. FACEMESH_FACE_OVAL as its 36 edges, in the file's order.
FACE_OVAL_EDGES = [(10, 338), (338, 297), (297, 332), (332, 284), (284, 251), (251, 389), (389, 356), (356, 454),
                   (454, 323), (323, 361), (361, 288), (288, 397), (397, 365), (365, 379), (379, 378), (378, 400),
                   (400, 377), (377, 152), (152, 148), (148, 176), (176, 149), (149, 150), (150, 136), (136, 172),
                   (172, 58), (58, 132), (132, 93), (93, 234), (234, 127), (127, 162), (162, 21), (21, 54),
                   (54, 103), (103, 67), (67, 109), (109, 10)]
# FACEMESH_RIGHT_EYE / FACEMESH_LEFT_EYE (the subject's right eye is on the image's left).
RIGHT_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173]
LEFT_EYE = [263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398]
NOSE_TIP = 1
MOUTH_CORNERS = [61, 291]  # the subject's right corner (image left), then left


def ordered_polygon(edges):
    """The edges' cycle as a vertex list, starting from the first edge's start."""
    following = dict(edges)
    if len(following) != len(edges) or set(following) != set(following.values()):
        raise ValueError("the face-oval edges are not one cycle")
    start = edges[0][0]
    polygon, vertex = [start], following[start]
    while vertex != start:
        polygon.append(vertex)
        vertex = following[vertex]
    if len(polygon) != len(edges):
        raise ValueError("the face-oval edges are not one cycle")
    return polygon


def extract_tflite(wheel: str, dest_dir: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        if TFLITE_MEMBER not in archive.namelist():
            raise SystemExit(f"{wheel}: has no {TFLITE_MEMBER}")
        path = os.path.join(dest_dir, os.path.basename(TFLITE_MEMBER))
        with open(path, "wb") as f:
            f.write(archive.read(TFLITE_MEMBER))
    return path


def _same_padding(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return [total // 2, total - total // 2]


def parse_graph(model: TFLiteModel):
    """The operators as config layers (in execution order) and the NCHW weights they name."""
    constants = {t.index: t.data for t in model.tensors if t.data is not None}
    for op in model.operators:
        if op.op == "DEQUANTIZE":
            constants[op.outputs[0]] = constants[op.inputs[0]]

    def const(index, what):
        if index not in constants:
            raise GraphMismatch(f"{what}: tensor {index} ({model.tensor(index).name}) is not a constant")
        return constants[index]

    name = lambda index: model.tensor(index).name  # noqa: E731
    input_index = model.inputs[0]
    shapes = {name(input_index): model.tensor(input_index).shape}  # NHWC
    layers, tensors = [], {}
    for op in model.operators:
        if op.op == "DEQUANTIZE":
            continue
        out = name(op.outputs[0])
        where = f"operator {op.index} ({op.op} -> {out})"
        x = name(op.inputs[0])
        if x not in shapes:
            raise GraphMismatch(f"{where}: reads {x}, which no earlier layer writes")
        _, h, w, c = shapes[x]
        o = op.options
        if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            if o["activation"] != "NONE" or o["dilation_h"] != 1 or o["dilation_w"] != 1 or o["stride_h"] != o["stride_w"]:
                raise GraphMismatch(f"{where}: only plain convolutions (no fused activation, no dilation, square stride)")
            kernel, bias = const(op.inputs[1], where), const(op.inputs[2], where)
            _, kh, kw, _ = kernel.shape
            stride = o["stride_h"]
            pad = _same_padding(h, kh, stride) + _same_padding(w, kw, stride) if o["padding"] == "SAME" else [0, 0, 0, 0]
            if op.op == "CONV_2D":
                tensors[f"{out}.weight"] = np.ascontiguousarray(kernel.transpose(0, 3, 1, 2))
                channels = kernel.shape[0]
                if kernel.shape[3] != c:
                    raise GraphMismatch(f"{where}: kernel takes {kernel.shape[3]} channels, its input has {c}")
                kind = "conv"
            else:
                if o["depth_multiplier"] not in (0, 1) or kernel.shape[3] != c:
                    raise GraphMismatch(f"{where}: a depthwise convolution must keep its {c} channels")
                tensors[f"{out}.weight"] = np.ascontiguousarray(kernel.transpose(3, 0, 1, 2))
                channels, kind = c, "depthwise"
            tensors[f"{out}.bias"] = bias.copy()
            layers.append({"op": kind, "name": out, "inputs": [x], "in_channels": c, "out_channels": channels,
                           "kernel": kh, "stride": stride, "padding": pad})
        elif op.op == "PRELU":
            alpha = const(op.inputs[1], where)
            if alpha.size != c:
                raise GraphMismatch(f"{where}: {alpha.size} slopes for {c} channels")
            tensors[f"{out}.alpha"] = alpha.reshape(c).copy()
            layers.append({"op": "prelu", "name": out, "inputs": [x], "channels": c})
        elif op.op == "ADD":
            y = name(op.inputs[1])
            if o["activation"] != "NONE" or shapes.get(y) != shapes[x]:
                raise GraphMismatch(f"{where}: adds {x} {shapes[x]} and {y} {shapes.get(y)}")
            layers.append({"op": "add", "name": out, "inputs": [x, y]})
        elif op.op == "MAX_POOL_2D":
            if (o["padding"], o["filter_h"], o["filter_w"], o["stride_h"], o["stride_w"]) != ("VALID", 2, 2, 2, 2):
                raise GraphMismatch(f"{where}: only 2x2 stride-2 VALID max-pooling")
            layers.append({"op": "max_pool", "name": out, "inputs": [x]})
        elif op.op == "PAD":
            paddings = const(op.inputs[1], where).tolist()
            if paddings[:3] != [[0, 0]] * 3 or paddings[3][0] != 0:
                raise GraphMismatch(f"{where}: only zero channels appended ({paddings})")
            layers.append({"op": "channel_pad", "name": out, "inputs": [x], "extra_channels": paddings[3][1]})
        else:
            raise GraphMismatch(f"{where}: operator {op.op} is not part of the face mesh the Swift model builds")
        shapes[out] = model.tensor(op.outputs[0]).shape
    return layers, tensors, shapes


def build_config(model: TFLiteModel, layers, shapes):
    outputs = [model.tensor(i).name for i in model.outputs]
    by_size = {int(np.prod(shapes[n])): n for n in outputs}
    if sorted(by_size) != [1, 1404] or len(outputs) != 2:
        raise GraphMismatch(f"expected a 1404-value landmark output and a 1-value face flag, found {outputs}")
    size = model.tensor(model.inputs[0]).shape[1]
    return {
        "architecture": "FaceMesh",
        "source": f"mediapipe {MEDIAPIPE_VERSION} wheel, {TFLITE_MEMBER} ({model.description})",
        "license": "Apache-2.0 (MediaPipe)",
        "weights_file": WEIGHTS_NAME,
        "input_size": size,
        "input_range": [0.0, 1.0],
        "input": model.tensor(model.inputs[0]).name,
        "layers": layers,
        "landmarks_output": by_size[1404],
        "presence_output": by_size[1],
        "num_landmarks": 468,
        "roi": ROI_OPTIONS,
        "presence_threshold": PRESENCE_THRESHOLD,
        "face_oval": ordered_polygon(FACE_OVAL_EDGES),
        "right_eye": RIGHT_EYE,
        "left_eye": LEFT_EYE,
        "nose_tip": NOSE_TIP,
        "mouth_corners": MOUTH_CORNERS,
    }


def convert(tflite_path: str, out_dir: str, dtype=np.float16):
    model = read_model(tflite_path)
    layers, tensors, shapes = parse_graph(model)
    config = build_config(model, layers, shapes)
    return config, save_converted(out_dir, WEIGHTS_NAME, tensors, config, dtype, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel-dir", default=DEFAULT_WHEEL_DIR)
    parser.add_argument("--tflite", help="use this .tflite instead of the one in the wheel")
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    tflite = args.tflite
    if tflite is None:
        os.makedirs(os.path.join(ROOT, "training", "data"), exist_ok=True)
        tflite = extract_tflite(find_or_fetch_wheel(args.wheel_dir), os.path.join(ROOT, "training", "data"))
    config, tensors = convert(tflite, args.out)
    count = sum(t.size for t in tensors.values())
    print(f"wrote {args.out}: {len(config['layers'])} layers, {len(tensors)} tensors, {count} parameters")


if __name__ == "__main__":
    main()
