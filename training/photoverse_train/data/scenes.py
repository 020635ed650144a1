"""Background scenes: simple, recognisable drawings (beach, forest, city, ...) with random
details from the image's own random stream. Drawn straight onto the supersampled canvas."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .identity import scale

PLAIN_COLORS = [
    (235, 235, 235), (200, 200, 205), (120, 125, 135), (170, 205, 235), (60, 80, 130),
    (235, 200, 200), (200, 230, 200), (245, 230, 180), (210, 190, 230), (150, 190, 170),
    (240, 215, 190), (90, 100, 90),
]


def _jit(rng, c, a=12):
    d = rng.integers(-a, a + 1, size=3)
    return tuple(min(255, max(0, int(v) + int(x))) for v, x in zip(c, d))


def vertical_gradient(size: int, stops: list[tuple[float, tuple]]) -> np.ndarray:
    """(size, 3) colours along y, piecewise linear between (position, colour) stops."""
    y = (np.arange(size) + 0.5) / size
    pos = np.array([p for p, _ in stops])
    cols = np.array([c for _, c in stops], dtype=np.float64)
    return np.stack([np.interp(y, pos, cols[:, k]) for k in range(3)], axis=1)


def gradient_image(size: int, stops) -> Image.Image:
    col = np.ascontiguousarray(vertical_gradient(size, stops).astype(np.uint8)[:, None, :])
    return Image.fromarray(col, "RGB").resize((size, size), Image.NEAREST)


class _D:
    """ImageDraw in frame units."""

    def __init__(self, img, S):
        self.d = ImageDraw.Draw(img)
        self.S = S

    def rect(self, x0, y0, x1, y1, fill):
        S = self.S
        self.d.rectangle([x0 * S, y0 * S, x1 * S - 1, y1 * S - 1], fill=fill)

    def ell(self, cx, cy, rx, ry, fill=None, outline=None, width=0.0):
        S = self.S
        self.d.ellipse([(cx - rx) * S, (cy - ry) * S, (cx + rx) * S, (cy + ry) * S], fill=fill,
                       outline=outline, width=max(1, int(width * S)) if outline else 1)

    def poly(self, pts, fill):
        S = self.S
        self.d.polygon([(x * S, y * S) for x, y in pts], fill=fill)

    def line(self, pts, fill, width):
        S = self.S
        self.d.line([(x * S, y * S) for x, y in pts], fill=fill, width=max(1, int(width * S)))


def _side(rng) -> float:
    """A horizontal position away from the centre (where the head is)."""
    return float(rng.choice([-1, 1]) * rng.uniform(0.3, 0.42) + 0.5)


def _plain(S, rng):
    c = _jit(rng, PLAIN_COLORS[int(rng.integers(len(PLAIN_COLORS)))], 15)
    return gradient_image(S, [(0.0, scale(c, 1.06)), (1.0, scale(c, 0.9))]), None


def _beach(S, rng):
    h = float(rng.uniform(0.5, 0.6))
    img = gradient_image(S, [(0, _jit(rng, (110, 180, 245))), (h, (205, 232, 250)),
                             (h + 0.001, (35, 115, 195)), (h + 0.13, (70, 160, 215)),
                             (h + 0.131, (238, 214, 155)), (1, (220, 190, 128))])
    d = _D(img, S)
    sx = _side(rng)
    d.ell(sx, 0.12, 0.075, 0.075, fill=(255, 230, 90))
    d.ell(1 - sx + rng.uniform(-0.05, 0.05), 0.2, 0.1, 0.035, fill=(250, 250, 252))
    for _ in range(3):
        x = rng.uniform(0.0, 0.9)
        y = h + rng.uniform(0.02, 0.11)
        d.line([(x, y), (x + 0.08, y)], (225, 240, 250), 0.008)
    # palm tree on one side
    px = 1 - sx
    base = 0.98
    d.poly([(px - 0.015, base), (px + 0.015, base), (px + 0.045, h - 0.18), (px + 0.025, h - 0.18)], (130, 90, 50))
    top = (px + 0.035, h - 0.19)
    for a in np.linspace(-2.8, -0.3, 5):
        ex, ey = top[0] + 0.13 * math.cos(a), top[1] + 0.09 * math.sin(a) + 0.05
        d.poly([top, (ex, ey), (top[0] + 0.06 * math.cos(a + 0.3), top[1] + 0.06 * math.sin(a + 0.3) + 0.03)],
               (40, 140, 60))
    return img, d


def _forest(S, rng):
    g = float(rng.uniform(0.68, 0.76))
    img = gradient_image(S, [(0, _jit(rng, (175, 215, 205))), (g, (215, 235, 215)),
                             (g + 0.001, (85, 130, 60)), (1, (60, 100, 45))])
    d = _D(img, S)
    for layer, (shade, size) in enumerate([((120, 165, 120), 0.7), ((45, 105, 55), 1.0)]):
        for _ in range(5 + layer):
            x = float(rng.uniform(-0.05, 1.05))
            w = 0.03 * size
            d.rect(x - w / 2, g - 0.25 * size, x + w / 2, g + 0.02 + 0.04 * layer, scale((110, 75, 45), 0.8 + 0.2 * layer))
            if rng.random() < 0.5:  # pine
                top = g - rng.uniform(0.55, 0.7) * size
                d.poly([(x, top), (x - 0.13 * size, g - 0.12 * size), (x + 0.13 * size, g - 0.12 * size)],
                       _jit(rng, scale(shade, 0.9), 10))
            else:
                cy = g - rng.uniform(0.35, 0.5) * size
                d.ell(x, cy, 0.13 * size, 0.16 * size, fill=_jit(rng, shade, 12))
    return img, d


def _city(S, rng):
    dusk = rng.random() < 0.35
    sky = [(0, (70, 70, 130)), (0.7, (240, 150, 110))] if dusk else [(0, (120, 175, 235)), (0.7, (205, 225, 245))]
    img = gradient_image(S, sky + [(1, (200, 210, 225))])
    d = _D(img, S)
    x = -0.02
    while x < 1.0:
        w = float(rng.uniform(0.13, 0.22))
        top = float(rng.uniform(0.12, 0.5))
        col = _jit(rng, [(125, 130, 140), (150, 120, 100), (95, 100, 115), (170, 165, 155)][int(rng.integers(4))], 10)
        d.rect(x, top, x + w - 0.008, 1.0, col)
        win = (250, 225, 120) if dusk else (185, 215, 240)
        for wy in np.arange(top + 0.03, 0.92, 0.075):
            for wx in np.arange(x + 0.025, x + w - 0.035, 0.05):
                d.rect(wx, wy, wx + 0.025, wy + 0.035, win)
        x += w
    d.rect(0, 0.93, 1, 1, (75, 75, 80))
    return img, d


def _snow(S, rng):
    g = float(rng.uniform(0.62, 0.7))
    img = gradient_image(S, [(0, _jit(rng, (175, 195, 225))), (g, (230, 236, 246)),
                             (g + 0.001, (245, 248, 252)), (1, (225, 232, 242))])
    d = _D(img, S)
    for _ in range(3):
        x = float(rng.uniform(0.0, 1.0))
        hgt = float(rng.uniform(0.25, 0.4))
        w = float(rng.uniform(0.22, 0.35))
        d.poly([(x - w, g), (x, g - hgt), (x + w, g)], _jit(rng, (125, 140, 170), 10))
        d.poly([(x - w * 0.33, g - hgt * 0.67), (x, g - hgt), (x + w * 0.33, g - hgt * 0.67)], (250, 250, 255))
    px = _side(rng)
    d.poly([(px, g - 0.3), (px - 0.08, g + 0.05), (px + 0.08, g + 0.05)], (40, 90, 60))
    d.rect(px - 0.012, g + 0.05, px + 0.012, g + 0.09, (100, 70, 45))
    for _ in range(28):
        r = float(rng.uniform(0.005, 0.011))
        d.ell(float(rng.uniform(0, 1)), float(rng.uniform(0, 1)), r, r, fill=(255, 255, 255))
    return img, d


def _space(S, rng):
    img = gradient_image(S, [(0, _jit(rng, (8, 6, 25), 5)), (1, _jit(rng, (30, 15, 50), 8))])
    d = _D(img, S)
    for _ in range(40):
        r = float(rng.uniform(0.003, 0.008))
        b = int(rng.integers(180, 256))
        d.ell(float(rng.uniform(0, 1)), float(rng.uniform(0, 1)), r, r, fill=(b, b, min(255, b + 20)))
    sx = _side(rng)
    if rng.random() < 0.5:  # moon with craters
        r = float(rng.uniform(0.1, 0.14))
        d.ell(sx, 0.2, r, r, fill=(200, 200, 195))
        for _ in range(4):
            cr = r * rng.uniform(0.12, 0.25)
            a, dd = rng.uniform(0, 2 * math.pi), rng.uniform(0, r * 0.6)
            d.ell(sx + dd * math.cos(a), 0.2 + dd * math.sin(a), cr, cr, fill=(160, 160, 158))
    else:  # ringed planet
        r = float(rng.uniform(0.08, 0.11))
        col = _jit(rng, (215, 150, 80), 25)
        d.ell(sx, 0.22, r * 2.1, r * 0.45, outline=scale(col, 1.15), width=0.012)
        d.ell(sx, 0.22, r, r, fill=col)
    if rng.random() < 0.5:  # lunar ground
        d.ell(0.5, 1.25, 0.9, 0.45, fill=(120, 120, 125))
    return img, d


def _indoors(S, rng):
    f = float(rng.uniform(0.7, 0.78))
    wall = _jit(rng, [(225, 210, 180), (200, 220, 200), (205, 215, 235), (230, 200, 190)][int(rng.integers(4))], 10)
    img = gradient_image(S, [(0, wall), (f, scale(wall, 0.9)), (f + 0.001, (150, 105, 70)), (1, (120, 80, 50))])
    d = _D(img, S)
    d.rect(0, f - 0.02, 1, f, scale(wall, 0.7))
    wx = _side(rng)
    # window with sky
    d.rect(wx - 0.13, 0.12, wx + 0.13, 0.46, (245, 245, 245))
    d.rect(wx - 0.115, 0.135, wx + 0.115, 0.445, (150, 200, 240))
    d.rect(wx - 0.007, 0.135, wx + 0.007, 0.445, (245, 245, 245))
    d.rect(wx - 0.115, 0.285, wx + 0.115, 0.3, (245, 245, 245))
    # picture frame on the other side
    px = 1 - wx
    d.rect(px - 0.09, 0.18, px + 0.09, 0.36, (120, 80, 40))
    d.rect(px - 0.075, 0.195, px + 0.075, 0.345, _jit(rng, (120, 160, 110), 40))
    # lamp
    lx = px + float(rng.uniform(-0.05, 0.05))
    d.rect(lx - 0.006, 0.5, lx + 0.006, f, (60, 60, 60))
    d.poly([(lx - 0.06, 0.5), (lx + 0.06, 0.5), (lx + 0.035, 0.42), (lx - 0.035, 0.42)], (245, 225, 160))
    return img, d


def _desert(S, rng):
    g = float(rng.uniform(0.58, 0.66))
    img = gradient_image(S, [(0, _jit(rng, (245, 190, 120))), (g, (255, 232, 185)),
                             (g + 0.001, (232, 185, 105)), (1, (205, 150, 75))])
    d = _D(img, S)
    sx = _side(rng)
    d.ell(sx, 0.15, 0.09, 0.09, fill=(255, 245, 200))
    x = np.linspace(0, 1, 20)
    for k, (off, col) in enumerate([(0.0, (222, 170, 95)), (0.12, (200, 145, 75))]):
        ph = rng.uniform(0, 6.28)
        y = g + off + 0.04 * np.sin(x * 7 + ph)
        d.poly(list(zip(x, y)) + [(1, 1), (0, 1)], col)
    cx = 1 - sx
    green = (60, 135, 65)
    d.rect(cx - 0.02, g - 0.22, cx + 0.02, g + 0.1, green)
    d.rect(cx - 0.075, g - 0.1, cx - 0.02, g - 0.075, green)
    d.rect(cx - 0.075, g - 0.17, cx - 0.05, g - 0.075, green)
    d.rect(cx + 0.02, g - 0.06, cx + 0.07, g - 0.035, green)
    d.rect(cx + 0.045, g - 0.14, cx + 0.07, g - 0.035, green)
    return img, d


def _underwater(S, rng):
    img = gradient_image(S, [(0, _jit(rng, (40, 150, 195))), (0.85, (15, 60, 115)), (0.851, (190, 170, 120)),
                             (1, (160, 140, 95))])
    d = _D(img, S)
    for _ in range(3):
        x = float(rng.uniform(0, 1))
        d.poly([(x - 0.03, 0), (x + 0.03, 0), (x + 0.15, 0.85), (x + 0.05, 0.85)], (60, 165, 205))
    for _ in range(4):  # seaweed
        x = float(rng.uniform(0, 1))
        ys = np.linspace(0.98, rng.uniform(0.45, 0.7), 7)
        xs = x + 0.025 * np.sin(np.arange(7) * 1.7)
        d.line(list(zip(xs, ys)), (40, 140, 70), 0.022)
    for _ in range(2):  # fish
        fx, fy = _side(rng), float(rng.uniform(0.15, 0.6))
        col = _jit(rng, (250, 150, 40), 20)
        dirn = float(rng.choice([-1, 1]))
        d.ell(fx, fy, 0.055, 0.03, fill=col)
        d.poly([(fx - dirn * 0.045, fy), (fx - dirn * 0.09, fy - 0.03), (fx - dirn * 0.09, fy + 0.03)], col)
    for _ in range(9):  # bubbles
        r = float(rng.uniform(0.01, 0.022))
        d.ell(float(rng.uniform(0, 1)), float(rng.uniform(0, 0.8)), r, r, outline=(220, 245, 255), width=0.006)
    return img, d


def _field(S, rng):
    g = float(rng.uniform(0.6, 0.68))
    img = gradient_image(S, [(0, _jit(rng, (95, 165, 240))), (g, (190, 225, 250)),
                             (g + 0.001, (110, 175, 70)), (1, (75, 145, 50))])
    d = _D(img, S)
    for _ in range(2):
        cx, cy = float(rng.uniform(0.05, 0.95)), float(rng.uniform(0.08, 0.3))
        for dx in (-0.05, 0.0, 0.05):
            d.ell(cx + dx, cy + (0.0 if dx == 0 else 0.012), 0.05, 0.035, fill=(252, 252, 255))
    cols = [(230, 50, 60), (250, 210, 40), (255, 255, 255), (235, 120, 190), (150, 90, 220)]
    for _ in range(45):
        y = float(rng.uniform(g + 0.01, 1.0))
        r = 0.006 + 0.012 * (y - g) / (1 - g)
        d.ell(float(rng.uniform(0, 1)), y, r, r, fill=cols[int(rng.integers(len(cols)))])
    return img, d


SCENES = {
    "plain": _plain, "beach": _beach, "forest": _forest, "city": _city, "snow": _snow,
    "space": _space, "indoors": _indoors, "desert": _desert, "underwater": _underwater,
    "field": _field,
}


def draw_background(name: str, S: int, rng: np.random.Generator) -> Image.Image:
    """An S x S RGB image of the scene `name`."""
    img, _ = SCENES[name](S, rng)
    return img
