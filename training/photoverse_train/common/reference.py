"""Reference preparation of a real photo, as the Swift engine does it (README "Reference
preparation"; Sources/Pipeline/Reference/ReferencePreparation.swift and ReferenceMask.swift):

  BlazeFace box (the largest face) -> a square of 1.3 x its longer side around its centre, in
  whole pixels (Swift's rounding: half away from zero) -> crop, padding with the background
  colour where the square leaves the photo -> Pillow bicubic resize to the encoder's size ->
  soft ellipse 0.80 x 0.96 of the side, smoothstep to 0 over a further 15% of its radius,
  masked pixels become the CLIP mean colour (123, 117, 104) = common.masking.MASK_FILL.

`prepare_reference` returns the crop before masking and the float mask; the engine's image is
`apply_mask(crop, mask)`. The data cache stores the crop and `common.masking.mask_u8(mask)` (the
layout of the synthetic references), and stage 2 masks with `common.masking.mask_reference`: the
mask quantised to bytes, so a pixel may differ from the engine's by 1 (|m - round(255 m)/255|
<= 0.5/255 of at most 255)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .masking import MASK_FILL

KEEP_WIDTH, KEEP_HEIGHT, FEATHER = 0.80, 0.96, 0.15   # ReferenceMask.keepWidth/keepHeight/feather
ENLARGEMENT = 1.3                                     # ReferencePreparation.Options.enlargement
MINIMUM_FACE_SIZE = 40                                # ... .minimumFaceSize (the box's shorter side)


def swift_round(x: float) -> float:
    """Swift's Float.rounded(): to nearest, ties away from zero."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def square_around(box, scale: float = ENLARGEMENT) -> tuple[int, int, int]:
    """(x0, y0, x1, y1) -> (left, top, side) of the square of side scale x the longer side,
    centred on the box, in whole pixels (ReferencePreparation.square)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(1.0, swift_round(max(x1 - x0, y1 - y0) * scale))
    left = swift_round((x0 + x1) / 2 - side / 2)
    top = swift_round((y0 + y1) / 2 - side / 2)
    return int(left), int(top), int(side)


def ellipse_mask(size: int) -> np.ndarray:
    """float32 (size, size) in [0, 1]: ReferenceMask.ellipse(width: size, height: size)."""
    f = np.float32
    a, b = f(KEEP_WIDTH) * f(size) / f(2), f(KEEP_HEIGHT) * f(size) / f(2)
    c = f(size) / f(2)
    p = np.arange(size, dtype=np.float32) + f(0.5) - c
    dx, dy = (p / a)[None, :], (p / b)[:, None]
    r = np.sqrt(dx * dx + dy * dy)
    t = np.clip((r - f(1)) / f(FEATHER), 0, 1).astype(np.float32)
    return (f(1) - t * t * (f(3) - f(2) * t)).astype(np.float32)


def background_color():
    return tuple(int(v) for v in MASK_FILL)


def crop_square(image, left: int, top: int, side: int, fill=None):
    """PIL image -> the side x side square at (left, top), `fill` (the background colour)
    where it leaves the photo (RGBImage.cropped(x:y:width:height:fill:))."""
    fill = background_color() if fill is None else tuple(fill)
    out = Image.new("RGB", (side, side), fill)
    w, h = image.size
    box = (max(left, 0), max(top, 0), min(left + side, w), min(top + side, h))
    if box[2] > box[0] and box[3] > box[1]:
        out.paste(image.crop(box), (box[0] - left, box[1] - top))
    return out


def largest_face(detections):
    """BlazeFace detections [(score, (x0, y0, x1, y1), keypoints)] -> the largest box by area
    (the engine's choice), or None."""
    if not detections:
        return None
    return max(detections, key=lambda d: (d[1][2] - d[1][0]) * (d[1][3] - d[1][1]))[1]


def prepare_reference(image, box, size: int):
    """PIL RGB photo + face box (x0, y0, x1, y1, source pixels) -> (uint8 (size, size, 3) crop
    before masking, float32 (size, size) mask, (left, top, side) crop region)."""
    left, top, side = square_around(box)
    crop = crop_square(image.convert("RGB"), left, top, side)
    crop = crop.resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(crop, np.uint8), ellipse_mask(size), (left, top, side)


def apply_mask(crop_u8: np.ndarray, mask: np.ndarray, fill=None) -> np.ndarray:
    """The engine's masked reference: round(x m + fill (1 - m)) in float32, ties away from zero
    (ReferenceMask.apply)."""
    fill = np.asarray(background_color() if fill is None else fill, np.float32)
    m = mask.astype(np.float32)[..., None]
    mixed = crop_u8.astype(np.float32) * m + fill * (np.float32(1) - m)
    return np.clip(np.floor(mixed + np.float32(0.5)), 0, 255).astype(np.uint8)
