"""Reference BlazeFace face detector in PyTorch + numpy, built from the converted files.

The oracle the Swift detector (Sources/Models/FaceDetection) is checked against, step by
step as MediaPipe's face_detection_short_range graph does it:

1. letterbox: pad the photo to a square (black, centred; the odd pixel after), resize it to
   128x128 with Pillow's antialiased bilinear filter, map bytes to [-1, 1];
2. the network (stem, BlazeBlocks, two SSD heads) -> 896 scores and 896 x 16 regressors;
3. SSD anchors (SsdAnchorsCalculator), box/keypoint decoding and score sigmoid with
   clipping (TensorsToDetectionsCalculator);
4. weighted non-max suppression (NonMaxSuppressionCalculator, WEIGHTED, IoU);
5. letterbox removal (DetectionLetterboxRemovalCalculator), then source pixels.

MediaPipe samples its input with OpenCV's bilinear warp (no antialiasing); we resize with
Pillow's antialiased filter instead, so that big photos do not alias (and so the Swift code
uses one resampler). `verify_with_mediapipe.py` measures what that changes.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    weights = load_file(os.path.join(folder, "blazeface-short-range.safetensors"))
    return BlazeFace(config, {k: v.float() for k, v in weights.items()}), config


class BlazeFace(torch.nn.Module):
    """The network, NCHW, with TensorFlow's asymmetric SAME padding made explicit."""

    def __init__(self, config, weights):
        super().__init__()
        self.config = config
        self.w = weights

    @staticmethod
    def _pad(x, before, after, value=0.0):
        return F.pad(x, (before, after, before, after), value=value)

    def forward(self, x):
        w, c = self.w, self.config
        stem = c["stem"]
        x = F.relu(F.conv2d(self._pad(x, *stem["padding"]), w["stem.weight"], w["stem.bias"], stride=stem["stride"]))
        taps = {}
        for i, block in enumerate(c["blocks"]):
            p = f"blocks.{i}"
            h = F.conv2d(self._pad(x, *block["padding"]), w[f"{p}.depthwise.weight"], w[f"{p}.depthwise.bias"],
                         stride=block["stride"], groups=block["in_channels"])
            h = F.conv2d(h, w[f"{p}.pointwise.weight"], w[f"{p}.pointwise.bias"])
            skip = F.max_pool2d(x, 2) if block["stride"] == 2 else x
            if block["out_channels"] > block["in_channels"]:
                skip = F.pad(skip, (0, 0, 0, 0, 0, block["out_channels"] - block["in_channels"]))
            x = F.relu(h + skip)
            taps[i] = x
        scores, boxes = [], []
        for head in c["heads"]:
            feature = taps[head["block"]]
            s = F.conv2d(feature, w[f"{head['classifier']}.weight"], w[f"{head['classifier']}.bias"])
            b = F.conv2d(feature, w[f"{head['regressor']}.weight"], w[f"{head['regressor']}.bias"])
            # NHWC order: cell by cell (row-major), anchors of a cell together.
            scores.append(s.permute(0, 2, 3, 1).reshape(x.shape[0], -1))
            boxes.append(b.permute(0, 2, 3, 1).reshape(x.shape[0], -1, head["coords"]))
        return torch.cat(scores, 1), torch.cat(boxes, 1)


def ssd_anchors(o):
    """SsdAnchorsCalculator; returns [N, 4] (x_center, y_center, w, h), normalised."""

    def scale(index, count):
        if count == 1:
            return (o["min_scale"] + o["max_scale"]) * 0.5
        return o["min_scale"] + (o["max_scale"] - o["min_scale"]) * index / (count - 1.0)

    strides, anchors, layer = o["strides"], [], 0
    while layer < o["num_layers"]:
        ratios, scales = [], []
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            s = scale(last, len(strides))
            if last == 0 and o["reduce_boxes_in_lowest_layer"]:
                ratios += [1.0, 2.0, 0.5]
                scales += [0.1, s, s]
            else:
                for r in o["aspect_ratios"]:
                    ratios.append(r)
                    scales.append(s)
                if o["interpolated_scale_aspect_ratio"] > 0:
                    nxt = 1.0 if last == len(strides) - 1 else scale(last + 1, len(strides))
                    scales.append(math.sqrt(s * nxt))
                    ratios.append(o["interpolated_scale_aspect_ratio"])
            last += 1
        sizes = [(sc * math.sqrt(r), sc / math.sqrt(r)) for sc, r in zip(scales, ratios)]
        fh = math.ceil(o["input_size_height"] / strides[layer])
        fw = math.ceil(o["input_size_width"] / strides[layer])
        for y in range(fh):
            for x in range(fw):
                for aw, ah in sizes:
                    if o["fixed_anchor_size"]:
                        aw = ah = 1.0
                    anchors.append(((x + o["anchor_offset_x"]) / fw, (y + o["anchor_offset_y"]) / fh, aw, ah))
        layer = last
    return np.array(anchors, dtype=np.float32)


def decode(scores, boxes, anchors, o):
    """TensorsToDetectionsCalculator: [(score, [xmin, ymin, xmax, ymax], [(x, y) * K])] above the threshold."""
    scores = scores.astype(np.float32)
    boxes = boxes.astype(np.float32)
    detections = []
    for i in range(o["num_boxes"]):
        raw = float(scores[i])
        if o["sigmoid_score"]:
            clip = o["score_clipping_thresh"]
            raw = min(max(raw, -clip), clip)
            score = 1.0 / (1.0 + math.exp(-raw))
        else:
            score = raw
        if score < o["min_score_thresh"]:
            continue
        ax, ay, aw, ah = anchors[i]
        r = boxes[i, o["box_coord_offset"]:]
        xc, yc, w, h = (r[0], r[1], r[2], r[3]) if o["reverse_output_order"] else (r[1], r[0], r[3], r[2])
        xc = xc / o["x_scale"] * aw + ax
        yc = yc / o["y_scale"] * ah + ay
        w = w / o["w_scale"] * aw
        h = h / o["h_scale"] * ah
        keypoints = []
        for k in range(o["num_keypoints"]):
            off = o["keypoint_coord_offset"] + k * o["num_values_per_keypoint"]
            kx, ky = (boxes[i, off], boxes[i, off + 1]) if o["reverse_output_order"] else (boxes[i, off + 1], boxes[i, off])
            keypoints.append((kx / o["x_scale"] * aw + ax, ky / o["y_scale"] * ah + ay))
        detections.append((score, [xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], keypoints))
    return detections


def iou(a, b):
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def weighted_nms(detections, threshold):
    """NonMaxSuppressionCalculator, WEIGHTED: each cluster is averaged, weighted by score."""
    remaining = sorted(detections, key=lambda d: -d[0])
    out = []
    while remaining:
        best = remaining[0]
        cluster = [d for d in remaining if iou(d[1], best[1]) > threshold]
        rest = [d for d in remaining if iou(d[1], best[1]) <= threshold]
        total = sum(d[0] for d in cluster)
        box = [sum(d[1][j] * d[0] for d in cluster) / total for j in range(4)]
        keypoints = [(sum(d[2][k][0] * d[0] for d in cluster) / total, sum(d[2][k][1] * d[0] for d in cluster) / total)
                     for k in range(len(best[2]))]
        out.append((best[0], box, keypoints))
        if len(rest) == len(remaining):
            break
        remaining = rest
    return out


def letterbox(image: Image.Image, size: int):
    """Pads to a centred square (black) and resizes; returns the image and the padding
    fractions (left, top, right, bottom) of the square."""
    image = image.convert("RGB")
    w, h = image.size
    side = max(w, h)
    left, top = (side - w) // 2, (side - h) // 2
    square = Image.new("RGB", (side, side), (0, 0, 0))
    square.paste(image, (left, top))
    resized = square.resize((size, size), Image.BILINEAR)
    return resized, (left / side, top / side, (side - w - left) / side, (side - h - top) / side)


def to_input(image: Image.Image):
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)[None]


def remove_letterbox(detections, padding, width, height):
    """Relative square coordinates -> source pixels."""
    left, top, right, bottom = padding
    sx, sy = 1 - left - right, 1 - top - bottom
    out = []
    for score, box, keypoints in detections:
        box = [(box[0] - left) / sx * width, (box[1] - top) / sy * height,
               (box[2] - left) / sx * width, (box[3] - top) / sy * height]
        keypoints = [((x - left) / sx * width, (y - top) / sy * height) for x, y in keypoints]
        out.append((score, box, keypoints))
    return out


def detect(model, config, image: Image.Image):
    """Everything: returns (detections in source pixels, raw scores, raw boxes, the 128x128 input)."""
    size = config["input_size"]
    boxed, padding = letterbox(image, size)
    with torch.no_grad():
        scores, boxes = model(to_input(boxed))
    anchors = ssd_anchors(config["anchors"])
    found = decode(scores[0].numpy(), boxes[0].numpy(), anchors, config["decoding"])
    found = weighted_nms(found, config["nms"]["min_suppression_threshold"])
    return remove_letterbox(found, padding, *image.size), scores[0].numpy(), boxes[0].numpy(), boxed
