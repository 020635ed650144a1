"""Converts dlib's face recognition model (the files of the `face_recognition_models` wheel,
public domain) into a `dlib-face/` folder PhotoVerse's Swift side scores identity with.

    python training/convert_dlib_face.py --resnet dlib_face_recognition_resnet_model_v1.dat \
        --landmarks shape_predictor_5_face_landmarks.dat --out Models/dlib-face

Writes:
- `resnet.safetensors` + `resnet.json`: the ResNet of dlib's dnn_face_recognition_ex.cpp
  (input_rgb_image_sized<150>, conv/affine/relu stem, residual blocks whose shortcut is the
  block input, average-pooled 2x2 and zero-padded in channels where the block downsamples, a
  global average pool, fc_no_bias 128). `layers` lists every operation in order with the key of
  its weights (`layers.{i}.weight/bias` for conv, `.gamma/.beta` for affine: dlib's inference
  network stores batch norm already folded into a per-channel scale and shift; `.weight`
  [out, in] for the linear layer).
- `landmarks.safetensors` + `landmarks.json`: the 5-point shape predictor (a cascade of
  regression-tree forests on pixel-difference features): `initial_shape` [2P] (x, y in the face
  rectangle's unit square), per cascade C, tree T, split S: `split_pixels` [C, T, S, 2] (I32),
  `split_thresholds` [C, T, S], `leaf_values` [C, T, S+1, 2P], and the feature pixels
  `anchors` [C, F] (I32, a landmark index) and `deltas` [C, F, 2] (offsets from it).

The reader follows dlib's serialization (dlib_serialization.py) layer by layer and fails with
the byte offset and what it expected on anything else; `write_resnet` / `write_landmarks` are
its inverse (the tiny fixtures of the tests are written with them, so dlib's own reader can run
the tiny shape predictor).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dlib_serialization import DlibReader, DlibWriter  # noqa: E402

RESNET_FORMAT = "dlib-face-resnet"
LANDMARKS_FORMAT = "dlib-shape-predictor"
CHIP = {"size": 150, "padding": 0.25}


# ---------------------------------------------------------------- ResNet


def _tail(r: DlibReader, first: bool) -> None:
    """What add_layer writes after a layer's details: three flags, x_grad, cached_output,
    params_grad (grad_final and the sample expansion factor for the layer on the input)."""
    for _ in range(3):
        r.bool()
    for _ in range(3):
        r.tensor()
    if first:
        r.int()


def _raw_layers(r: DlibReader):
    """The file's layers in forward order: (name, details dict)."""
    version = r.int()
    if version != 1:
        r.fail(f"add_loss_layer version {version}, expected 1")
    r.expect("loss_metric_2")
    loss = {"margin": r.float(), "distance_threshold": r.float()}
    # add_layer / add_tag_layer / add_skip_layer versions (1 to 3), one per layer, outermost first
    marker = bytes([1, len("input_rgb_image_sized")]) + b"input_rgb_image_sized"
    while r.data[r.pos:r.pos + len(marker)] != marker:
        if r.int() not in (1, 2, 3):
            r.fail("expected a layer version (1 to 3) before the input layer")
    r.expect("input_rgb_image_sized")
    mean = [r.float() for _ in range(3)]
    rows, cols = r.int(), r.int()
    inp = {"mean": mean, "rows": rows, "cols": cols}
    layers = []
    while not r.at_end():
        name = r.string()
        if name == "con_4":
            params = r.tensor().reshape(-1)
            filters, kr, kc, sy, sx, py, px = (r.int() for _ in range(7))
            fdims, bdims = r.alias_tensor(), r.alias_tensor()
            [r.float() for _ in range(4)]
            n = int(np.prod(fdims))
            layers.append(("conv", {"weight": params[:n].reshape(fdims), "bias": params[n:n + filters],
                                    "kernel": [kr, kc], "stride": [sy, sx], "padding": [py, px]}))
            if bdims[1] != filters or kr != kc or sy != sx or py != px:
                r.fail(f"con_4 with {filters} filters, {kr}x{kc}, stride {sy}x{sx}, padding {py}x{px}: "
                       "only square kernels, strides and paddings are supported")
        elif name == "affine_":
            params = r.tensor().reshape(-1)
            gdims, _ = r.alias_tensor(), r.alias_tensor()
            mode = r.int()
            if mode != 0:
                r.fail(f"affine_ in mode {mode}: only the per-channel (conv) mode 0 is supported")
            k = int(np.prod(gdims))
            layers.append(("affine", {"gamma": params[:k], "beta": params[k:2 * k]}))
        elif name == "relu_":
            layers.append(("relu", {}))
        elif name in ("max_pool_2", "avg_pool_2"):
            kr, kc, sy, sx, py, px = (r.int() for _ in range(6))
            if py or px or kr != kc or sy != sx:
                r.fail(f"{name} {kr}x{kc} stride {sy}x{sx} padding {py}x{px}: only square, unpadded pools are supported")
            layers.append((name[:3] + "_pool", {"size": kr, "stride": sy}))
        elif name == "add_prev_":
            layers.append(("add_prev", {}))
        elif name == "fc_2":
            outputs, inputs = r.int(), r.int()
            params = r.tensor().reshape(-1)
            r.alias_tensor()
            r.alias_tensor()
            bias_mode = r.int()
            [r.float() for _ in range(4)]
            if bias_mode != 1 or params.size != inputs * outputs:
                r.fail(f"fc_2 with a bias (mode {bias_mode}): dlib's face model has fc_no_bias")
            # dlib: output = input (1 x in) * W (in x out)
            layers.append(("linear", {"weight": params.reshape(inputs, outputs).T.copy()}))
        else:
            r.fail(f"layer '{name}' is not one dlib's face recognition ResNet uses")
        _tail(r, first=len(layers) == 1)
    return loss, inp, layers


def _structure(raw, name: str):
    """Groups the layer sequence into stem, residual blocks and head, or fails naming where;
    returns the layer list (keys = positions in it) and the tensors."""
    ops = [k for k, _ in raw]
    out, i = [], 0

    def take(kind):
        nonlocal i
        if i >= len(raw) or raw[i][0] != kind:
            found = raw[i][0] if i < len(raw) else "the end"
            raise ValueError(f"{name}: layer {i}: expected {kind}, found {found} (sequence {' '.join(ops)})")
        details = raw[i][1]
        i += 1
        if kind == "conv":
            out.append({"op": "conv", "filters": int(details["weight"].shape[0]), "kernel": details["kernel"][0],
                        "stride": details["stride"][0], "padding": details["padding"][0],
                        "_tensors": {"weight": details["weight"], "bias": details["bias"]}})
        elif kind == "affine":
            out.append({"op": "affine", "_tensors": {"gamma": details["gamma"], "beta": details["beta"]}})
        elif kind == "linear":
            out.append({"op": "linear", "outputs": int(details["weight"].shape[0]),
                        "_tensors": {"weight": details["weight"]}})
        elif kind in ("max_pool", "avg_pool"):
            out.append({"op": kind, "size": details["size"], "stride": details["stride"]})
        else:
            out.append({"op": kind})
        return details

    take("conv"), take("affine"), take("relu"), take("max_pool")
    while i < len(raw) and raw[i][0] == "conv":
        out.append({"op": "residual_start"})
        take("conv"), take("affine"), take("relu"), take("conv"), take("affine")
        pool = None
        if i < len(raw) and raw[i][0] == "avg_pool":
            pool = raw[i][1]
            i += 1
        take("add_prev")
        out[-1] = {"op": "residual_add", "shortcut_pool": None if pool is None else
                   {"size": pool["size"], "stride": pool["stride"]}}
        take("relu")
    head = take("avg_pool")
    if head["size"] != 0:
        raise ValueError(f"{name}: layer {i - 1}: expected the global average pool (avg_pool_everything), "
                         f"found a {head['size']}x{head['size']} pool")
    out[-1] = {"op": "global_avg_pool"}
    take("linear")
    if i != len(raw):
        raise ValueError(f"{name}: {len(raw) - i} layers after the final linear layer")
    tensors = {}
    for index, layer in enumerate(out):
        if "_tensors" in layer:
            layer["key"] = f"layers.{index}"
            for suffix, value in layer.pop("_tensors").items():
                tensors[f"layers.{index}.{suffix}"] = value
    return out, tensors


def read_resnet(path: Path) -> tuple[dict, dict]:
    """dlib_face_recognition_resnet_model_v1.dat -> (config, tensors)."""
    path = Path(path)
    r = DlibReader(path.read_bytes(), str(path))
    loss, inp, raw = _raw_layers(r)
    layers, tensors = _structure(raw, str(path))
    config = {
        "format": RESNET_FORMAT, "format_version": 1,
        "input": {"size": inp["rows"], "mean": [float(np.float32(m)) for m in inp["mean"]], "scale": 256.0,
                  "layout": "RGB 0...255, (pixel - mean) / scale, NCHW"},
        "layers": layers,
        "output_dim": layers[-1]["outputs"],
        "distance_threshold": float(np.float32(loss["distance_threshold"])),
        "margin": float(np.float32(loss["margin"])),
        "chip": dict(CHIP, size=inp["rows"]),
        "source": path.name,
    }
    if inp["rows"] != inp["cols"]:
        raise ValueError(f"{path}: input {inp['rows']}x{inp['cols']}: only square inputs are supported")
    return config, {k: np.ascontiguousarray(v, np.float32) for k, v in tensors.items()}


def write_resnet(path: Path, config: dict, tensors: dict) -> None:
    """The inverse of read_resnet: a network of this layout in dlib's own file format."""
    w = DlibWriter()
    w.int(1)
    w.string("loss_metric_2")
    w.float(config.get("margin", 0.04))
    w.float(config["distance_threshold"])
    raw = []
    for layer in config["layers"]:
        op = layer["op"]
        if op == "residual_start":
            continue
        if op == "residual_add":
            if layer["shortcut_pool"]:
                raw.append(("avg_pool", layer["shortcut_pool"]))
            raw.append(("add_prev", None))
        elif op == "global_avg_pool":
            raw.append(("avg_pool", {"size": 0, "stride": 1}))
        else:
            raw.append((op, layer))
    # the nesting, outermost first: one version per add_layer (2; 3 for the one on the input),
    # add_tag_layer and add_skip_layer (1)
    versions = []
    for layer in reversed(config["layers"]):
        op = layer["op"]
        if op == "residual_add":
            versions += [2, 2, 1, 1] if layer["shortcut_pool"] else [2]  # add_prev<avg_pool<skip<tag
        elif op == "residual_start":
            versions.append(1)
        else:
            versions.append(2)
    versions[-1] = 3
    for v in versions:
        w.int(v)
    w.string("input_rgb_image_sized")
    for m in config["input"]["mean"]:
        w.float(m)
    w.int(config["input"]["size"])
    w.int(config["input"]["size"])
    for index, (op, layer) in enumerate(raw):
        # dlib disables the stored output of an affine or add_prev layer that a relu follows
        # (it runs in place): the third flag of its tail
        in_place = op in ("affine", "add_prev") and index + 1 < len(raw) and raw[index + 1][0] == "relu"
        if op == "conv":
            wt, b = tensors[f"{layer['key']}.weight"], tensors[f"{layer['key']}.bias"]
            w.string("con_4")
            w.tensor(np.concatenate([wt.reshape(-1), b.reshape(-1)]), [wt.size + b.size, 1, 1, 1])
            for v in (wt.shape[0], layer["kernel"], layer["kernel"], layer["stride"], layer["stride"],
                      layer["padding"], layer["padding"]):
                w.int(int(v))
            w.alias_tensor(wt.shape)
            w.alias_tensor([1, wt.shape[0], 1, 1])
            for v in (1, 1, 1, 0):  # learning rate and weight decay multipliers (doubles)
                w.float(v, digits=53)
        elif op == "affine":
            g, b = tensors[f"{layer['key']}.gamma"], tensors[f"{layer['key']}.beta"]
            w.string("affine_")
            w.tensor(np.concatenate([g, b]), [2 * g.size, 1, 1, 1])
            w.alias_tensor([1, g.size, 1, 1])
            w.alias_tensor([1, g.size, 1, 1])
            w.int(0)
        elif op == "relu":
            w.string("relu_")
        elif op in ("max_pool", "avg_pool"):
            w.string(f"{op}_2")
            for v in (layer["size"], layer["size"], layer["stride"], layer["stride"], 0, 0):
                w.int(v)
        elif op == "add_prev":
            w.string("add_prev_")
        elif op == "linear":
            wt = tensors[f"{layer['key']}.weight"]  # [out, in]
            w.string("fc_2")
            w.int(wt.shape[0])
            w.int(wt.shape[1])
            w.tensor(wt.T.reshape(-1), [wt.shape[1], wt.shape[0], 1, 1])
            w.alias_tensor([wt.shape[1], wt.shape[0], 1, 1])
            w.alias_tensor([0, 0, 0, 0])  # no biases
            w.int(1)
            for v in (1, 1, 1, 0):  # learning rate and weight decay multipliers (doubles)
                w.float(v, digits=53)
        w.bool(True), w.bool(True), w.bool(in_place)
        for _ in range(3):
            w.tensor(None)
        if layer is raw[0][1]:
            w.int(1)  # the sample expansion factor, after the layer on the input
    Path(path).write_bytes(w.bytes())


# ---------------------------------------------------------------- shape predictor


def read_landmarks(path: Path) -> tuple[dict, dict]:
    """shape_predictor_5_face_landmarks.dat -> (config, tensors)."""
    path = Path(path)
    r = DlibReader(path.read_bytes(), str(path))
    version = r.int()
    if version != 1:
        r.fail(f"shape_predictor version {version}, expected 1")
    initial = r.column()
    cascades = []
    for _ in range(r.int()):
        trees = []
        for _ in range(r.int()):
            splits = [(r.int(), r.int(), r.float()) for _ in range(r.int())]
            leaves = [r.column() for _ in range(r.int())]
            trees.append((splits, leaves))
        cascades.append(trees)
    anchors = [[r.int() for _ in range(r.int())] for _ in range(r.int())]
    deltas = [[(r.float(), r.float()) for _ in range(r.int())] for _ in range(r.int())]
    if not r.at_end():
        r.fail("unexpected bytes after the shape predictor")
    counts = {(len(t), len(t[0][0]), len(t[0][1])) for t in cascades} | set()
    shapes = {(len(s), len(l)) for t in cascades for s, l in t}
    pixels = {len(a) for a in anchors} | {len(d) for d in deltas}
    if len({len(t) for t in cascades}) != 1 or len(shapes) != 1 or len(pixels) != 1 or len(anchors) != len(cascades):
        raise ValueError(f"{path}: cascades of different sizes ({sorted(counts)}, {sorted(pixels)} feature pixels): not supported")
    (splits, leaves), = shapes
    if leaves != splits + 1:
        raise ValueError(f"{path}: trees with {splits} splits and {leaves} leaves (dlib's trees are complete: splits + 1)")
    tensors = {
        "initial_shape": initial,
        "split_pixels": np.array([[[[a, b] for a, b, _ in s] for s, _ in t] for t in cascades], np.int32),
        "split_thresholds": np.array([[[th for _, _, th in s] for s, _ in t] for t in cascades], np.float32),
        "leaf_values": np.array([[l for _, l in t] for t in cascades], np.float32),
        "anchors": np.array(anchors, np.int32),
        "deltas": np.array(deltas, np.float32),
    }
    config = {"format": LANDMARKS_FORMAT, "format_version": 1, "points": int(initial.size // 2),
              "cascades": len(cascades), "trees": len(cascades[0]), "depth": int(np.log2(leaves)),
              "feature_pixels": pixels.pop(), "source": path.name}
    return config, tensors


def write_landmarks(path: Path, tensors: dict) -> None:
    w = DlibWriter()
    w.int(1)
    w.column(tensors["initial_shape"])
    c, t, s, _ = tensors["split_pixels"].shape
    w.int(c)
    for ci in range(c):
        w.int(t)
        for ti in range(t):
            w.int(s)
            for si in range(s):
                a, b = tensors["split_pixels"][ci, ti, si]
                w.int(int(a)), w.int(int(b)), w.float(tensors["split_thresholds"][ci, ti, si])
            w.int(s + 1)
            for leaf in tensors["leaf_values"][ci, ti]:
                w.column(leaf)
    w.int(c)
    for row in tensors["anchors"]:
        w.int(len(row))
        for a in row:
            w.int(int(a))
    w.int(c)
    for row in tensors["deltas"]:
        w.int(len(row))
        for x, y in row:
            w.float(x), w.float(y)
    Path(path).write_bytes(w.bytes())


# ---------------------------------------------------------------- folder


def write_folder(out: Path, resnet: tuple[dict, dict], landmarks: tuple[dict, dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for stem, (config, tensors), fmt in (("resnet", resnet, RESNET_FORMAT), ("landmarks", landmarks, LANDMARKS_FORMAT)):
        save_file(tensors, str(out / f"{stem}.safetensors"), metadata={"format": fmt, "format_version": "1"})
        (out / f"{stem}.json").write_text(json.dumps(config, indent=1) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resnet", required=True, type=Path, help="dlib_face_recognition_resnet_model_v1.dat")
    ap.add_argument("--landmarks", required=True, type=Path, help="shape_predictor_5_face_landmarks.dat")
    ap.add_argument("--out", required=True, type=Path, help="the folder to write (e.g. Models/dlib-face)")
    args = ap.parse_args(argv)
    try:
        resnet, landmarks = read_resnet(args.resnet), read_landmarks(args.landmarks)
    except (OSError, ValueError) as e:
        print(f"convert_dlib_face: {e}", file=sys.stderr)
        return 1
    if landmarks[0]["points"] != 5:
        print(f"convert_dlib_face: {args.landmarks}: {landmarks[0]['points']} landmarks; the face chip needs the 5-point model",
              file=sys.stderr)
        return 1
    write_folder(args.out, resnet, landmarks)
    print(f"{args.out}: resnet ({sum(v.size for v in resnet[1].values()) / 1e6:.2f}M parameters, "
          f"{len(resnet[0]['layers'])} layers), landmarks ({landmarks[0]['cascades']} cascades x {landmarks[0]['trees']} trees)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
