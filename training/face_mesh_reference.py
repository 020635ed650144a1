"""Reference face mesh in PyTorch + numpy, built from the converted Models/face-mesh files.

The oracle the Swift face mesh (Sources/Models/FaceMesh) is checked against, step by step as
MediaPipe's face_landmark_front graph does it for one detection:

1. region of interest (DetectionsToRectsCalculator + RectTransformationCalculator): the
   detection's box centre; rotation from the eye keypoints (0 -> 1) to level; the box's long
   side in pixels x 1.5 as the side of a square;
2. the 192x192 input (ImageToTensorCalculator, OpenCV path): the rotated square's corners
   mapped onto the output's corners (output pixel x samples the source at x/192 of the edge),
   bilinear, border replicated, rounded to bytes, then mapped to [0, 1];
3. the network (config "layers", NCHW) -> 468 x 3 values in input pixels and a presence logit;
4. TensorsToLandmarksCalculator (/192) and LandmarkProjectionCalculator (rotate, scale by the
   region, shift by its centre) -> source pixels.

`warp_affine` is our bilinear sampler (the Swift one does the same arithmetic); OpenCV's
fixed-point warp differs from it by a grey level here and there, which the comparison with
MediaPipe's runtime (training/tests/test_face_mesh_mediapipe.py) includes.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    weights = load_file(os.path.join(folder, config["weights_file"]))
    return {k: v.float() for k, v in weights.items()}, config


def network(weights, config, x):
    """x: [1, 3, S, S] in [0, 1] -> (landmarks [468 * 3], presence logit)."""
    values = {config["input"]: x}
    for layer in config["layers"]:
        a = values[layer["inputs"][0]]
        kind, name = layer["op"], layer["name"]
        if kind in ("conv", "depthwise"):
            top, bottom, left, right = layer["padding"]
            a = F.pad(a, (left, right, top, bottom))
            groups = layer["in_channels"] if kind == "depthwise" else 1
            out = F.conv2d(a, weights[f"{name}.weight"], weights[f"{name}.bias"], stride=layer["stride"], groups=groups)
        elif kind == "prelu":
            out = F.prelu(a, weights[f"{name}.alpha"])
        elif kind == "add":
            out = a + values[layer["inputs"][1]]
        elif kind == "max_pool":
            out = F.max_pool2d(a, 2)
        elif kind == "channel_pad":
            out = F.pad(a, (0, 0, 0, 0, 0, layer["extra_channels"]))
        else:
            raise ValueError(f"layer {name}: unknown op {kind}")
        values[name] = out
    return values[config["landmarks_output"]].reshape(-1), values[config["presence_output"]].reshape(-1)[0]


def normalize_radians(angle):
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def region_of_interest(box, keypoints, config):
    """A detection in source pixels -> (centre x, centre y, side, rotation in radians)."""
    roi = config["roi"]
    start, end = roi["rotation_keypoints"]
    (x0, y0), (x1, y1) = keypoints[start], keypoints[end]
    rotation = normalize_radians(math.radians(roi["target_angle_degrees"]) - math.atan2(-(y1 - y0), x1 - x0))
    width, height = box[2] - box[0], box[3] - box[1]
    side = max(width, height) * roi["scale"]
    return (box[0] + width / 2, box[1] + height / 2, side, rotation)


def roi_affine(roi, size):
    """The 2x3 map from output pixel (x, y) to source pixels for MediaPipe's rotated crop."""
    cx, cy, side, r = roi
    c, s = math.cos(r), math.sin(r)
    ux, uy = side * c / size, side * s / size  # one output pixel along x
    vx, vy = -side * s / size, side * c / size  # one output pixel along y
    x0 = cx - side / 2 * c + side / 2 * s
    y0 = cy - side / 2 * s - side / 2 * c
    return np.array([[ux, vx, x0], [uy, vy, y0]], dtype=np.float64)


def warp_affine(image, affine, width, height, border="replicate", fill=(0, 0, 0)):
    """Bilinear sampling of `image` (H, W, 3 uint8) at affine @ (x, y, 1) for every output pixel,
    pixel centres at whole coordinates (OpenCV's convention), rounded to bytes."""
    src = image.astype(np.float64)
    h, w = src.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    sx = affine[0, 0] * xs + affine[0, 1] * ys + affine[0, 2]
    sy = affine[1, 0] * xs + affine[1, 1] * ys + affine[1, 2]
    x0, y0 = np.floor(sx), np.floor(sy)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)

    def tap(yy, xx):
        if border == "replicate":
            return src[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        inside = ((yy >= 0) & (yy < h) & (xx >= 0) & (xx < w))[..., None]
        return np.where(inside, src[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)], np.array(fill, dtype=np.float64))

    top = tap(y0, x0) * (1 - fx) + tap(y0, x0 + 1) * fx
    bottom = tap(y0 + 1, x0) * (1 - fx) + tap(y0 + 1, x0 + 1) * fx
    out = top * (1 - fy) + bottom * fy
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def landmarks(weights, config, image, box, keypoints):
    """One detection (source pixels) -> (468 x 2 landmarks in source pixels, presence score,
    the roi, the 192x192 input as uint8, the raw network outputs)."""
    size = config["input_size"]
    roi = region_of_interest(box, keypoints, config)
    crop = warp_affine(np.asarray(image.convert("RGB")), roi_affine(roi, size), size, size)
    x = torch.from_numpy(crop.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        raw, logit = network(weights, config, x)
    points = raw.numpy().reshape(-1, 3)[:, :2] / size - 0.5
    cx, cy, side, r = roi
    c, s = math.cos(r), math.sin(r)
    projected = np.stack([(c * points[:, 0] - s * points[:, 1]) * side + cx,
                          (s * points[:, 0] + c * points[:, 1]) * side + cy], axis=1)
    presence = 1 / (1 + math.exp(-float(logit)))
    return projected, presence, roi, crop, (raw.numpy(), float(logit))
