"""Lighting and art styles, applied to the rendered image at its final size.

Arrays are float32 HxWx3 in [0, 255]. Filter sizes scale with the image size so a 256-pixel
preview looks like an enlarged 64-pixel training image.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def luminance(img: np.ndarray) -> np.ndarray:
    return img @ _LUMA


def saturate(img: np.ndarray, k: float) -> np.ndarray:
    lum = luminance(img)[..., None]
    return lum + (img - lum) * k


_GRIDS: dict = {}


def _grid(h: int, w: int):
    g = _GRIDS.get((h, w))
    if g is None:
        g = _GRIDS[(h, w)] = tuple(np.mgrid[0:h, 0:w].astype(np.float32))
    return g


def _blur(arr: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of an HxW or HxWx3 float array in [0, 255] (through Pillow)."""
    if radius <= 0:
        return arr
    u8 = np.clip(arr + 0.5, 0, 255).astype(np.uint8)
    img = Image.fromarray(u8, "L" if arr.ndim == 2 else "RGB").filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(img, dtype=np.float32)


def _edges(img: np.ndarray, k: float, threshold: float, ramp: float) -> np.ndarray:
    """Outline strength in [0, 1] from the luminance gradient (per 64-pixel-image pixel)."""
    lum = luminance(_blur(img, 0.4 * k))
    gx = np.abs(np.diff(lum, axis=1, append=lum[:, -1:]))
    gy = np.abs(np.diff(lum, axis=0, append=lum[-1:, :]))
    return np.clip((np.maximum(gx, gy) * k - threshold) / ramp, 0.0, 1.0)


def _soften(img: np.ndarray) -> np.ndarray:
    """A light 3x3 blur (what a 0.4-pixel Gaussian does), edges replicated."""
    p = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
    return 0.6 * img + 0.1 * (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:])


def _median3(img: np.ndarray) -> np.ndarray:
    """3x3 median per channel (edges replicated): paint-like blobs."""
    h, w, _ = img.shape
    p = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
    stack = np.stack([p[i:i + h, j:j + w] for i in range(3) for j in range(3)])
    return np.partition(stack, 4, axis=0)[4]


def apply_lighting(img: np.ndarray, name: str, rng: np.random.Generator) -> np.ndarray:
    h, w, _ = img.shape
    if name == "normal":
        return img
    if name == "warm":
        return img * np.array([1.1, 0.98, 0.72], np.float32) + np.array([18, 6, 0], np.float32)
    if name == "cold":
        return img * np.array([0.78, 0.93, 1.12], np.float32) + np.array([0, 6, 22], np.float32)
    if name == "night":
        return img * np.array([0.36, 0.42, 0.62], np.float32) + np.array([2, 4, 16], np.float32)
    if name == "side":
        t = np.linspace(0.0, 1.0, w, dtype=np.float32)
        if rng.random() < 0.5:
            t = t[::-1]
        f = 0.35 + 1.0 * t * t * (3 - 2 * t)
        return img * f[None, :, None]
    raise ValueError(f"unknown lighting {name!r}")


def apply_style(img: np.ndarray, name: str, mask: np.ndarray, head: tuple[float, float, float, float],
                rng: np.random.Generator) -> np.ndarray:
    """`head` = (centre x, centre y, half width, half height) of the face in pixels."""
    h, w, _ = img.shape
    k = w / 64.0
    if name == "photo":
        cx, cy, rx, ry = head
        yy, xx = _grid(h, w)
        # light from the upper left: a rounded shading of the head, plus a soft vignette
        dx = (xx - (cx - 0.35 * rx)) / (1.6 * rx)
        dy = (yy - (cy - 0.4 * ry)) / (1.6 * ry)
        shade = 1.08 - 0.32 * np.minimum(dx * dx + dy * dy, 1.5)
        f = 1.0 + mask * (shade - 1.0)
        vx, vy = (xx / w - 0.5), (yy / h - 0.5)
        f = f * (1.0 - 0.35 * (vx * vx + vy * vy))
        out = img * f[..., None]
        out = _soften(out) if k <= 1.0 else _blur(out, 0.4 * min(k, 2.0))
        return out + rng.normal(0.0, 3.0, size=(h, w, 1)).astype(np.float32)
    if name == "sketch":
        grey = luminance(img)
        edge = _edges(img, k, 22.0, 30.0)
        # pencil: dark outlines over light greyscale shading, hatching-like grain, tinted paper
        shade = 255.0 - 0.5 * (255.0 - grey)
        out = shade * (1.0 - 0.9 * edge) * (1.0 + 0.035 * rng.standard_normal((h, w)).astype(np.float32))
        paper = np.array([250, 246, 236], np.float32) / 255.0
        return np.clip(out, 0, 255)[..., None] * paper
    if name == "cartoon":
        out = saturate(img, 1.3)
        out = np.round(np.clip(out, 0, 255) / 24.0) * 24.0
        edge = _edges(img, k, 26.0, 30.0)
        return out * (1.0 - 0.85 * edge[..., None]) + 20.0 * 0.85 * edge[..., None]
    if name == "painting":
        out = _median3(saturate(img, 1.25))
        if k > 1.5:
            out = _blur(out, 0.5 * k)
        out = np.round(out / 32.0) * 32.0 * 0.6 + out * 0.4
        # brush strokes: noise stretched along a random direction, canvas tint
        sh = (max(2, h // 6), max(2, w // 2)) if rng.random() < 0.5 else (max(2, h // 2), max(2, w // 6))
        noise = rng.standard_normal(sh).astype(np.float32)
        nimg = Image.fromarray(np.clip(noise * 40 + 128, 0, 255).astype(np.uint8), "L").resize((w, h), Image.BICUBIC)
        strokes = (np.asarray(nimg, dtype=np.float32) - 128.0) / 40.0
        out = out * (1.0 + 0.045 * strokes[..., None])
        return out * np.array([1.03, 1.0, 0.92], np.float32) + np.array([6, 4, 0], np.float32)
    raise ValueError(f"unknown style {name!r}")
