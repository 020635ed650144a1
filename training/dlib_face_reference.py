"""A plain re-implementation (numpy + torch) of dlib's face descriptor pipeline on the files
convert_dlib_face.py writes: the 5-point shape predictor, get_face_chip_details +
extract_image_chip (bilinear, no pyramid: the face region at most twice the chip) and the
ResNet. check_dlib_face.py holds it to dlib itself on real photos; the tiny fixtures' goldens
for the Swift port come from it (make_dlib_face_fixtures.py)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

# dlib's mean 5-point face (get_face_chip_details): outer/inner corner of the left eye in the
# image's right, outer/inner of the other eye, the bottom of the nose; unit square.
CHIP_TEMPLATE = np.array([[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
                          [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                          [0.4901123135679, 0.6277975316475]])


def resnet_forward(config: dict, tensors: dict, chips: np.ndarray) -> np.ndarray:
    """chips uint8 [N, S, S, 3] RGB -> descriptors [N, D] (float32, as dlib computes them)."""
    inp = config["input"]
    x = torch.from_numpy(chips.astype(np.float32)).permute(0, 3, 1, 2)
    mean = torch.tensor(inp["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    x = (x - mean) / inp["scale"]
    t = {k: torch.from_numpy(np.array(v, np.float32)) for k, v in tensors.items()}
    shortcut = None
    for layer in config["layers"]:
        op = layer["op"]
        if op == "conv":
            x = F.conv2d(x, t[layer["key"] + ".weight"], t[layer["key"] + ".bias"], stride=layer["stride"],
                         padding=layer["padding"])
        elif op == "affine":
            x = x * t[layer["key"] + ".gamma"].view(1, -1, 1, 1) + t[layer["key"] + ".beta"].view(1, -1, 1, 1)
        elif op == "relu":
            x = F.relu(x)
        elif op == "max_pool":
            x = F.max_pool2d(x, layer["size"], layer["stride"])
        elif op == "residual_start":
            shortcut = x
        elif op == "residual_add":
            pool = layer["shortcut_pool"]
            s = F.avg_pool2d(shortcut, pool["size"], pool["stride"]) if pool else shortcut
            # dlib's add_prev: the larger of the two shapes, each added in at the top-left
            shape = [max(a, b) for a, b in zip(x.shape, s.shape)]
            out = torch.zeros(shape)
            out[:, :x.shape[1], :x.shape[2], :x.shape[3]] += x
            out[:, :s.shape[1], :s.shape[2], :s.shape[3]] += s
            x = out
        elif op == "global_avg_pool":
            x = x.mean(dim=(2, 3))
        elif op == "linear":
            x = x @ t[layer["key"] + ".weight"].T
        else:
            raise ValueError(f"unknown op {op}")
    return x.numpy()


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rotation + uniform scale + translation mapping src points onto dst
    (Umeyama; in 2-D: closed form). Returns (M 2x2, t)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    norm = (s ** 2).sum()
    a = (s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1]).sum() / norm
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / norm
    m = np.array([[a, -b], [b, a]])
    return m, md - m @ ms


def dlib_round(v: float) -> int:
    return int(math.floor(v + 0.5))


def shape_predict(tensors: dict, image: np.ndarray, rect) -> np.ndarray:
    """image uint8 [H, W, 3], rect (left, top, right, bottom) inclusive -> [P, 2] integer points."""
    left, top, right, bottom = rect
    gray = image.astype(np.int32).sum(2) // 3
    h, w = gray.shape
    initial = tensors["initial_shape"].astype(np.float32).reshape(-1, 2)
    current = initial.copy()
    sx, sy = right - left, bottom - top
    for c in range(tensors["split_pixels"].shape[0]):
        m, _ = similarity_transform(initial, current)
        m = m.astype(np.float32)
        anchors, deltas = tensors["anchors"][c], tensors["deltas"][c].astype(np.float32)
        feats = np.zeros(len(anchors), np.float32)
        for i, (a, dlt) in enumerate(zip(anchors, deltas)):
            p = m @ dlt + current[a]
            x, y = dlib_round(left + p[0] * sx), dlib_round(top + p[1] * sy)
            if 0 <= x < w and 0 <= y < h:
                feats[i] = gray[y, x]
        splits, thresholds, leaves = tensors["split_pixels"][c], tensors["split_thresholds"][c], tensors["leaf_values"][c]
        n = splits.shape[1]
        for t in range(splits.shape[0]):
            i = 0
            while i < n:
                a, b = splits[t, i]
                i = 2 * i + 1 if feats[a] - feats[b] > thresholds[t, i] else 2 * i + 2
            current = current + leaves[t, i - n].reshape(-1, 2)
    return np.array([[dlib_round(left + x * sx), dlib_round(top + y * sy)] for x, y in current], np.int64)


def chip_transform(parts: np.ndarray, size: int = 150, padding: float = 0.25):
    """get_face_chip_details + extract_image_chips: the affine map from chip pixel (c, r) to
    image coordinates, as (A 2x2, b)."""
    template = (padding + CHIP_TEMPLATE) / (2 * padding + 1) * size
    m, t = similarity_transform(template, parts)
    angle = math.atan2(m[1, 0], m[0, 0])
    scale = math.hypot(m[0, 0], m[1, 0])
    centre = m @ np.array([size / 2, size / 2]) + t
    # centered_drect(centre, size*scale, size*scale): dlib's rectangles hold (width - 1)
    half = (size * scale - 1) / 2
    l, tp, r, b = centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half
    cos, sin = math.cos(angle), math.sin(angle)

    def rot(x, y):
        dx, dy = x - centre[0], y - centre[1]
        return np.array([centre[0] + cos * dx - sin * dy, centre[1] + sin * dx + cos * dy])

    tl, tr, bl = rot(l, tp), rot(r, tp), rot(l, b)
    a = np.stack([(tr - tl) / (size - 1), (bl - tl) / (size - 1)], 1)
    return a, tl


def face_chip(image: np.ndarray, parts: np.ndarray, size: int = 150, padding: float = 0.25) -> np.ndarray:
    """dlib's bilinear chip: samples whose 2x2 neighbourhood leaves the image are black;
    the result is truncated to uint8."""
    a, b = chip_transform(parts, size, padding)
    h, w, _ = image.shape
    rows, cols = np.mgrid[0:size, 0:size]
    pts = np.stack([cols.ravel(), rows.ravel()], 0).astype(np.float64)
    src = a @ pts + b[:, None]
    x, y = src
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    inside = (x0 >= 0) & (y0 >= 0) & (x0 + 1 < w) & (y0 + 1 < h)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    img = image.astype(np.float64)
    xc, yc = np.clip(x0, 0, w - 2), np.clip(y0, 0, h - 2)
    top = (1 - fx) * img[yc, xc] + fx * img[yc, xc + 1]
    bot = (1 - fx) * img[yc + 1, xc] + fx * img[yc + 1, xc + 1]
    val = (1 - fy) * top + fy * bot
    val[~inside] = 0
    return val.astype(np.uint8).reshape(size, size, 3)
