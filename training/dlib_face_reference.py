"""A plain re-implementation (numpy + torch) of dlib's face descriptor pipeline on the files
convert_dlib_face.py writes: the 5-point shape predictor, get_face_chip_details +
extract_image_chip (bilinear, through dlib's image pyramid when the face is large) and the
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


# ---------------------------------------------------------------- dlib's image pyramid


def pyramid_down(image: np.ndarray) -> np.ndarray:
    """dlib's pyramid_down<2> on an RGB image: a [1 4 6 4 1] filter along rows then columns in
    integers, every other pixel, (H - 3) / 2 x (W - 3) / 2 out, the sum / 256 truncated."""
    img = image.astype(np.int64)
    h, w, _ = img.shape
    tw = (w - 3) // 2
    cols = 2 * np.arange(tw)
    temp = img[:, cols] + 4 * img[:, cols + 1] + 6 * img[:, cols + 2] + 4 * img[:, cols + 3] + img[:, cols + 4]
    rows = np.arange(2, h - 2, 2)
    out = temp[rows - 2] + 4 * temp[rows - 1] + 6 * temp[rows] + 4 * temp[rows + 1] + temp[rows + 2]
    return (out // 256).astype(np.uint8)[: (h - 3) // 2]


def _rect_down(rect):
    l, t, r, b = rect
    return (l / 2 - 1.25, t / 2 - 0.75, r / 2 - 1.25, b / 2 - 0.75)


def _area(rect):
    l, t, r, b = rect
    return max(0.0, r - l + 1) * max(0.0, b - t + 1)


def face_chip(image: np.ndarray, parts: np.ndarray, size: int = 150, padding: float = 0.25) -> np.ndarray:
    """get_face_chip_details + extract_image_chips as dlib runs them: the similarity transform
    onto dlib's mean 5-point face, a rectangle around it (dlib's rectangles span width - 1),
    bilinear samples (black where the 2x2 neighbourhood leaves the image, truncated to bytes).
    When the face region is more than about twice the chip, the photo (cut to the region plus
    a margin) is shrunk by pyramid_down first and the chip sampled from the level that is just
    large enough."""
    template = (padding + CHIP_TEMPLATE) / (2 * padding + 1) * size
    m, t = similarity_transform(template, parts)
    angle = math.atan2(m[1, 0], m[0, 0])
    scale = math.hypot(m[0, 0], m[1, 0])
    centre = m @ np.array([size / 2, size / 2]) + t
    half = (size * scale - 1) / 2
    rect = (centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half)
    chip_area = size * size
    depth, grow, r = 0, 2.0, _rect_down(rect)
    while _area(r) > chip_area:
        r = _rect_down(r)
        depth += 1
        grow = grow * 2 + 2
    cos, sin = math.cos(angle), math.sin(angle)

    def rot(c, x, y):
        dx, dy = x - c[0], y - c[1]
        return np.array([c[0] + cos * dx - sin * dy, c[1] + sin * dx + cos * dy])

    cr = ((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2)
    corners = np.array([rot(cr, rect[0], rect[1]), rot(cr, rect[2], rect[1]), rot(cr, rect[0], rect[3]), rot(cr, rect[2], rect[3])])
    h, w, _ = image.shape
    gl, gt = max(corners[:, 0].min() - grow, 0), max(corners[:, 1].min() - grow, 0)
    gr, gb = min(corners[:, 0].max() + grow, w - 1), min(corners[:, 1].max() + grow, h - 1)
    bl, bt, br, bb = (int(math.floor(v + 0.5)) for v in (gl, gt, gr, gb))
    levels = []
    for _ in range(depth):
        levels.append(pyramid_down(levels[-1] if levels else image[bt:bb + 1, bl:br + 1]))
    rect2 = (rect[0] - bl, rect[1] - bt, rect[2] - bl, rect[3] - bt)
    level = -1
    while _area(_rect_down(rect2)) > chip_area:
        level += 1
        rect2 = _rect_down(rect2)
    sample = image[bt:bb + 1, bl:br + 1] if level == -1 else levels[level]
    c2 = ((rect2[0] + rect2[2]) / 2, (rect2[1] + rect2[3]) / 2)
    tl, tr, bl_ = rot(c2, rect2[0], rect2[1]), rot(c2, rect2[2], rect2[1]), rot(c2, rect2[0], rect2[3])
    a = np.stack([(tr - tl) / (size - 1), (bl_ - tl) / (size - 1)], 1)
    return _bilinear(sample, a, tl, size)


def _bilinear(image, a, b, size):
    h, w, _ = image.shape
    rows, cols = np.mgrid[0:size, 0:size]
    pts = np.stack([cols.ravel(), rows.ravel()], 0).astype(np.float64)
    x, y = a @ pts + b[:, None]
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
