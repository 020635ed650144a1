"""A check that uses no network: do a generation's skin and hair colours match its reference's?

The evaluator network scores identity, but it is one of the project's own networks. This
measure reads pixels only: the median CIELAB colour of two cheek patches and of the top strip
of the face box (hair, or the headwear over it), in the reference (its true face box) and in the
generation (the box the evaluator uses too: the median held-out face box). A generation is
identified correctly when its own reference is the nearest of all references in that colour
space (chance: one over the number of references); the mean distance (ΔE, CIE76) to its own
reference against the mean to the others says by how much.

Regions (CHEEKS, HAIR) are fractions of the face box (x, y, w, h), chosen on renderings at 128 px
so that they fall on the cheeks and on the hair above the forehead (or on headwear)."""

from __future__ import annotations

import numpy as np

# (x0, y0, x1, y1) in face-box units
CHEEKS = ((0.15, 0.55, 0.35, 0.70), (0.65, 0.55, 0.85, 0.70))
HAIR = ((0.30, 0.02, 0.70, 0.14),)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """[..., 3] sRGB in 0..1 -> CIELAB (D65)."""
    rgb = np.clip(np.asarray(rgb, np.float64), 0.0, 1.0)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    eps = 216 / 24389
    f = np.where(xyz > eps, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def _patch_pixels(image: np.ndarray, box, patches) -> np.ndarray:
    h_img, w_img = image.shape[:2]
    x, y, w, h = (float(v) for v in box)
    parts = []
    for x0, y0, x1, y1 in patches:
        c0 = int(np.clip(round(x + x0 * w), 0, w_img - 1))
        c1 = int(np.clip(round(x + x1 * w), c0 + 1, w_img))
        r0 = int(np.clip(round(y + y0 * h), 0, h_img - 1))
        r1 = int(np.clip(round(y + y1 * h), r0 + 1, h_img))
        parts.append(image[r0:r1, c0:c1].reshape(-1, 3))
    return np.concatenate(parts)


def colour_features(images, boxes) -> np.ndarray:
    """images [N, H, W, 3] (uint8, or float in 0..1; a torch tensor [N, 3, H, W] in 0..1 also),
    boxes [N, 4] or one [4] for all -> [N, 6]: median LAB of the cheeks, then of the hair strip."""
    if hasattr(images, "detach"):
        images = images.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float64) / 255.0
    boxes = np.broadcast_to(np.asarray(boxes, np.float64), (len(images), 4))
    out = np.empty((len(images), 6))
    for i, (img, box) in enumerate(zip(images, boxes)):
        for k, patches in enumerate((CHEEKS, HAIR)):
            out[i, 3 * k:3 * k + 3] = srgb_to_lab(np.median(_patch_pixels(img, box, patches), axis=0))
    return out


def identification(generated: np.ndarray, references: np.ndarray, own: np.ndarray) -> dict:
    """generated [J, 6], references [I, 6], own [J] (each generation's reference index) ->
    per generation: correct (own reference nearest), own distance, mean distance to the others."""
    d = np.linalg.norm(generated[:, None, :] - references[None, :, :], axis=-1)  # [J, I]
    own = np.asarray(own)
    rows = np.arange(len(own))
    own_d = d[rows, own]
    others = d.copy()
    others[rows, own] = np.nan
    return {"correct": (d.argmin(1) == own).astype(np.float64), "own_distance": own_d,
            "other_distance": np.nanmean(others, axis=1) if d.shape[1] > 1 else np.full(len(own), np.nan)}
