"""A small drawing helper: Pillow ImageDraw on a supersampled canvas plus a face mask, with the
head pose (shift, tilt, yaw squash with depth parallax, zoom) applied to every point.

Shapes are given in frame units relative to an origin (the face centre); `depth` > 0 moves a
shape towards the turn direction when the head yaws (nose 1, eyes ~0.6, ears < 0).

Shapes are recorded and drawn in order by `flush()`, which transforms all their points with
one matrix product: per-shape numpy overhead, not pixel filling, is what costs time here.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import ImageDraw

_CIRCLES: dict[int, np.ndarray] = {}
DEPTH_SHIFT = 0.09  # frame units of sideways shift per unit depth and unit sin(yaw)


def unit_circle(n: int) -> np.ndarray:
    """(n, 2) points on the unit circle."""
    c = _CIRCLES.get(n)
    if c is None:
        t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
        c = _CIRCLES[n] = np.stack([np.cos(t), np.sin(t)], axis=1)
    return c


def ellipse_points(cx, cy, rx, ry, n=28, rot=0.0) -> np.ndarray:
    pts = unit_circle(n) * (rx, ry)
    if rot:
        cr, sr = math.cos(rot), math.sin(rot)
        pts = pts @ np.array([[cr, sr], [-sr, cr]])
    return pts + (cx, cy)


_RAMPS: dict[int, np.ndarray] = {}


def ramp(n: int) -> np.ndarray:
    """np.linspace(0, 1, n), cached (read only)."""
    r = _RAMPS.get(n)
    if r is None:
        r = _RAMPS[n] = np.linspace(0.0, 1.0, n)
        r.flags.writeable = False
    return r


def arc_points(cx, cy, rx, ry, t0, t1, n=12) -> np.ndarray:
    t = t0 + (t1 - t0) * ramp(n)
    out = np.empty((n, 2))
    out[:, 0] = np.cos(t)
    out[:, 1] = np.sin(t)
    return out * (rx, ry) + (cx, cy)


_POLY, _LINE = 0, 1


class Painter:
    """Draws on `canvas` (RGB) and optionally `mask` (L) at `px` pixels per frame unit.
    Call `flush()` (or use the painter as a context manager) to put the shapes on the canvas."""

    def __init__(self, canvas, mask, px: float, origin=(0.5, 0.5), tilt=0.0, yaw=0.0, zoom=1.0):
        self.draw = ImageDraw.Draw(canvas)
        self.mdraw = ImageDraw.Draw(mask) if mask is not None else None
        self.px = float(px)
        self.zoom = float(zoom)
        self.ox, self.oy = origin
        self.tilt, self.yaw = float(tilt), float(yaw)
        self._ops: list = []

    def with_pose(self, origin=None, tilt=None, yaw=None) -> "Painter":
        """A painter on the same canvas with another pose (its own shape list)."""
        p = Painter.__new__(Painter)
        p.__dict__.update(self.__dict__)
        p._ops = []
        if origin is not None:
            p.ox, p.oy = origin
        if tilt is not None:
            p.tilt = float(tilt)
        if yaw is not None:
            p.yaw = float(yaw)
        return p

    def _matrix(self):
        z = self.zoom * self.px
        c, s = math.cos(self.tilt) * z, math.sin(self.tilt) * z
        sq = math.cos(self.yaw)
        a = np.array([[sq * c, sq * s], [-s, c]])
        par = math.sin(self.yaw) * DEPTH_SHIFT
        return a, np.array([par * c, par * s]), np.array([self.ox * self.px, self.oy * self.px])

    def transform(self, pts, depth=0.0) -> np.ndarray:
        """Frame-unit points relative to the origin -> canvas pixels (`depth` scalar or per point)."""
        a, dvec, off = self._matrix()
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        d = np.asarray(depth, dtype=np.float64).reshape(-1, 1)
        return pts @ a + d * dvec + off

    # ------------------------------------------------------------------ recording
    def polygon(self, pts, fill, depth=0.0, mask=None):
        self._ops.append((_POLY, np.asarray(pts, dtype=np.float64), depth, fill, mask, 0.0))

    def ellipse(self, cx, cy, rx, ry, fill, depth=0.0, mask=None, n=28, rot=0.0):
        self._ops.append((_POLY, ellipse_points(cx, cy, rx, ry, n, rot), depth, fill, mask, 0.0))

    def line(self, pts, fill, width, depth=0.0, mask=None, closed=False):
        """A stroke `width` frame units wide."""
        pts = np.asarray(pts, dtype=np.float64)
        if closed:
            pts = np.concatenate([pts, pts[:1]])
        self._ops.append((_LINE, pts, depth, fill, mask, float(width)))

    def stroke(self, pts, fill, width, depth=0.0, mask=None, taper=0.0):
        """A filled band around a left-to-right polyline, `width` thick (vertical offsets),
        thinner at the ends by `taper` (0..1)."""
        pts = np.asarray(pts, dtype=np.float64)
        n = len(pts)
        half = 0.5 * width * (1.0 - taper * np.abs(np.linspace(-1.0, 1.0, n)) ** 2)
        top = pts.copy()
        top[:, 1] -= half
        bot = pts[::-1].copy()
        bot[:, 1] += half[::-1]
        self.polygon(np.concatenate([top, bot]), fill, depth, mask)

    # ------------------------------------------------------------------ drawing
    def flush(self):
        ops, self._ops = self._ops, []
        if not ops:
            return
        counts = [len(op[1]) for op in ops]
        pts = np.concatenate([op[1] for op in ops])
        depth = np.repeat(np.array([op[2] for op in ops], dtype=np.float64), counts)
        flat = self.transform(pts, depth).ravel().tolist()
        draw, mdraw = self.draw, self.mdraw
        wscale = self.px * self.zoom
        i = 0
        for (kind, _, _, fill, mask, width), n in zip(ops, counts):
            xy = flat[i:i + 2 * n]
            i += 2 * n
            if kind == _POLY:
                draw.polygon(xy, fill=fill)
                if mask is not None and mdraw is not None:
                    mdraw.polygon(xy, fill=mask)
            else:
                w = max(1, int(round(width * wscale)))
                draw.line(xy, fill=fill, width=w, joint="curve")
                if mask is not None and mdraw is not None:
                    mdraw.line(xy, fill=mask, width=w, joint="curve")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.flush()
