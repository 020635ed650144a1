"""The face renderer: one identity + one set of attributes -> an image, its face box and mask.

Drawn with Pillow ImageDraw at `supersample` times the output size and reduced with a box
filter (anti-aliasing); lighting and style are applied at the output size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .attributes import Attributes
from .identity import IdentityParams, mix, scale
from .painter import Painter, arc_points, ellipse_points
from .scenes import draw_background
from .styles import apply_lighting, apply_style

FACE_CENTER = (0.5, 0.48)  # frame units, before the per-image shift
BASE_ZOOM = 1.1
DARK = (38, 28, 28)
MOUTH_INSIDE = (95, 30, 38)
TEETH = (248, 246, 240)
SHIRT_COLORS = [(60, 90, 160), (170, 50, 50), (50, 130, 80), (230, 230, 230), (40, 40, 45),
                (200, 160, 60), (120, 70, 150), (90, 90, 100), (220, 120, 60), (70, 160, 180)]
HAT_COLORS = [(60, 45, 35), (30, 30, 35), (120, 120, 125), (180, 150, 100), (40, 50, 90), (140, 40, 40)]
BRIGHT_COLORS = [(210, 40, 40), (40, 90, 200), (40, 150, 70), (235, 200, 40), (240, 240, 240),
                 (30, 30, 35), (230, 120, 30), (150, 60, 170)]
FRAME_COLORS = [(25, 25, 28), (90, 55, 30), (200, 165, 70), (170, 40, 40), (40, 60, 140)]


@dataclass
class RenderedImage:
    image: np.ndarray  # uint8 HxWx3
    face_box: tuple[int, int, int, int]  # x, y, w, h in pixels (the face oval, hair excluded)
    face_mask: np.ndarray  # float32 HxW in [0, 1]: face, ears and hair; not headwear, not background
    attributes: Attributes
    identity: IdentityParams


def default_supersample(size: int) -> int:
    return 4 if size <= 64 else 3 if size <= 128 else 2


# ----------------------------------------------------------------------------------- geometry

def outline_at(ip: IdentityParams, t, grow: float = 1.0) -> np.ndarray:
    """Points of the face outline at parameter t (0 = right, pi/2 = chin, 3pi/2 = top)."""
    t = np.asarray(t, dtype=np.float64)
    c, s = np.cos(t), np.sin(t)  # noqa: E741
    p = np.where(s > 0, ip.jaw_power, 2.3)
    x = ip.face_width * np.sign(c) * np.abs(c) ** (2.0 / p)
    y = ip.face_height * np.sign(s) * np.abs(s) ** (2.0 / p)
    x = x * np.where(s > 0, 1.0 - ip.chin_taper * s * s, 1.0 - ip.forehead_widen * s)
    return np.stack([x, y], axis=1) * grow


def face_outline(ip: IdentityParams, n: int = 48, grow: float = 1.0) -> np.ndarray:
    return outline_at(ip, np.linspace(0.0, 2 * math.pi, n, endpoint=False), grow)


def hair_cap(ip: IdentityParams, grow: float, hairline: float, side_drop: float, part: float = 0.0,
             n: int = 24) -> np.ndarray:
    """Hair over the top of the head: outer arc from the left temple over the top to the right
    one (dropping `side_drop` radians below the middle), back along a hairline `hairline` face
    heights above the centre; `part` > 0 raises the hairline at x = 0 into a centre parting."""
    fw, fh = ip.face_width, ip.face_height
    outer = outline_at(ip, np.linspace(math.pi - side_drop, 2 * math.pi + side_drop, n), grow)
    side_y = outer[-1, 1]
    edge = abs(outer[-1, 0]) * 0.97
    x = np.linspace(edge, -edge, 11)
    u = np.abs(x) / edge
    y = hairline * fh + (side_y - hairline * fh) * u ** 2.5 - part * fh * np.exp(-(x / (0.12 * fw)) ** 2)
    return np.concatenate([outer, np.stack([x, y], axis=1)])


# --------------------------------------------------------------------------------- the parts

def _pose(attrs: Attributes, rng: np.random.Generator) -> dict:
    shift = rng.uniform(-0.03, 0.03, size=2)
    tilt = float(rng.uniform(-0.06, 0.06))
    yaw = float(rng.uniform(-0.1, 0.1))
    zoom = BASE_ZOOM * float(rng.uniform(0.95, 1.05))
    side = float(rng.choice([-1.0, 1.0]))
    if attrs.pose == "left":
        yaw = -float(rng.uniform(0.5, 0.65))
    elif attrs.pose == "right":
        yaw = float(rng.uniform(0.5, 0.65))
    elif attrs.pose == "tilted":
        tilt = side * float(rng.uniform(0.2, 0.28))
    origin = (FACE_CENTER[0] + shift[0], FACE_CENTER[1] + shift[1])
    return {"origin": origin, "tilt": tilt, "yaw": yaw, "zoom": zoom}


def _shirt(p: Painter, ip: IdentityParams, rng):
    shirt = SHIRT_COLORS[int(rng.integers(len(SHIRT_COLORS)))]
    p.ellipse(0.0, ip.face_height + 0.3, 0.44, 0.22, shirt, n=40)


def _neck(p: Painter, ip: IdentityParams):
    fh, fw = ip.face_height, ip.face_width
    bottom = fh + 0.1
    pts = np.array([[-0.5 * fw, 0.3 * fh], [0.5 * fw, 0.3 * fh], [0.55 * fw, bottom]])
    collar = arc_points(0.0, bottom, 0.55 * fw, 0.06, 0.0, math.pi, 9)
    p.polygon(np.concatenate([pts, collar[1:]]), scale(ip.skin, 0.84))


def _hair_extra_height(ip: IdentityParams) -> float:
    return {"curly": 0.25, "long": 0.1, "bob": 0.12, "fringe": 0.1, "side part": 0.08,
            "short": 0.06, "spiky": 0.06}.get(ip.hair_style, 0.03) * ip.hair_volume


def _hair_back(p: Painter, ip: IdentityParams, covered: bool):
    fw, fh, v = ip.face_width, ip.face_height, ip.hair_volume
    col, dark = ip.hair_color, scale(ip.hair_color, 0.85)
    st = ip.hair_style
    if st in ("long", "bob", "fringe"):
        bottom = {"long": 1.6, "bob": 0.72, "fringe": 1.05}[st] * fh
        width = fw * (1.16 + 0.06 * v)
        top = outline_at(ip, np.linspace(math.pi, 2 * math.pi, 14), 1.1 + 0.05 * v)
        if st == "long":
            tail = [[width, 0.2 * fh], [width * 1.06, bottom - 0.25 * fh], [width * 0.85, bottom],
                    [-width * 0.85, bottom], [-width * 1.06, bottom - 0.25 * fh], [-width, 0.2 * fh]]
        else:
            tail = [[width, 0.2 * fh], [width * 1.04, bottom], [-width * 1.04, bottom], [-width, 0.2 * fh]]
        p.polygon(np.concatenate([top, tail]), dark, depth=-0.5, mask=255)
    elif st == "curly":
        rx, ry, cy = fw * (1.35 + 0.12 * v), fh * (1.0 + 0.1 * v), -0.22 * fh
        p.ellipse(0.0, cy, rx, ry, col, depth=-0.4, mask=255)
        for a in np.linspace(0, 2 * math.pi, 13, endpoint=False):
            if math.sin(a) > 0.75:
                continue
            p.ellipse(rx * math.cos(a), cy + ry * math.sin(a), 0.3 * fw, 0.3 * fw, col, depth=-0.4, mask=255, n=14)
    elif st == "bun" and not covered:
        p.ellipse(0.0, -fh * 1.12, 0.36 * fw, 0.3 * fw, col, depth=-0.2, mask=255, n=20)
    elif st == "ponytail":
        s = ip.hair_side
        p.ellipse(s * fw * 1.02, 0.25 * fh, 0.25 * fw, 0.72 * fh, dark, depth=-0.6, mask=255, n=20, rot=-s * 0.3)


def _ears(p: Painter, ip: IdentityParams):
    fw, fh = ip.face_width, ip.face_height
    rx = 0.16 * fw * ip.ear_size * (1 + 0.5 * ip.ear_protrusion)
    ry = 0.3 * fw * ip.ear_size
    y = ip.eye_y + 0.2 * fh
    for s in (-1, 1):
        x = s * (fw * 0.96 + rx * 0.35)
        p.ellipse(x, y, rx, ry, scale(ip.skin, 0.95), depth=-0.6, mask=255, n=16)
        p.ellipse(x + s * rx * 0.1, y, rx * 0.5, ry * 0.6, scale(ip.skin, 0.8), depth=-0.6, n=12)


def _marks(p: Painter, ip: IdentityParams):
    fw, fh = ip.face_width, ip.face_height
    if ip.marks == "rosy cheeks":
        for s in (-1, 1):
            p.ellipse(s * 0.55 * fw, 0.28 * fh, 0.2 * fw, 0.13 * fw, mix(ip.skin, (235, 85, 100), 0.35), depth=0.3, n=14)
    elif ip.marks == "freckles":
        c = scale(ip.skin, 0.7)
        for x, y in ip.mark_points:
            p.ellipse(x * fw, y * fh, 0.009, 0.009, c, depth=0.4, n=8)
    elif ip.marks == "mole":
        (x, y), = ip.mark_points
        p.ellipse(x * fw, y * fh, 0.012, 0.012, (70, 42, 32), depth=0.4, n=10)


def _beard(p: Painter, ip: IdentityParams):
    if ip.beard == "none":
        return
    fw, fh, mw, my, lt = ip.face_width, ip.face_height, ip.mouth_width, ip.mouth_y, ip.lip_thickness
    col = ip.facial_hair_color if ip.beard != "stubble" else mix(ip.skin, ip.facial_hair_color, 0.38)
    if ip.beard in ("full", "stubble"):
        lower = outline_at(ip, np.linspace(0.1, math.pi - 0.1, 17), 1.04)
        inner = np.array([[-0.86 * fw, lower[-1, 1] - 0.02], [-mw * 1.3, my - 0.35 * fh],
                          [0.0, ip.nose_y + 0.09 * fh], [mw * 1.3, my - 0.35 * fh],
                          [0.86 * fw, lower[0, 1] - 0.02]])
        p.polygon(np.concatenate([lower, inner]), col, depth=0.2, mask=255)
    else:  # goatee
        chin = outline_at(ip, np.linspace(math.pi / 2 - 0.45, math.pi / 2 + 0.45, 7), 1.03)
        top = np.array([[-mw * 0.75, my + 0.6 * lt], [mw * 0.75, my + 0.6 * lt]])
        p.polygon(np.concatenate([chin, top]), col, depth=0.4, mask=255)


def _moustache(p: Painter, ip: IdentityParams, expression: str):
    if not (ip.moustache or ip.beard == "full"):
        return
    mw, my, lt = ip.mouth_width, ip.mouth_y, ip.lip_thickness
    lift = {"smiling": 0.6, "laughing": 0.8}.get(expression, 0.0) * lt
    top = arc_points(0.0, my - lift + 0.3 * lt, mw * 1.1, lt * 2.6, math.pi, 2 * math.pi, 9)
    bot = arc_points(0.0, my - lift + 0.3 * lt, mw * 0.9, lt * 1.2, 2 * math.pi, math.pi, 7)
    p.polygon(np.concatenate([top, bot]), ip.facial_hair_color, depth=0.8, mask=255)


def _nose(p: Painter, ip: IdentityParams):
    fh = ip.face_height
    s = ip.nose_size
    nw = ip.face_width * 0.19 * s
    ny = ip.nose_y
    top = ip.eye_y + 0.08 * fh
    shade, dark = scale(ip.skin, 0.8), scale(ip.skin, 0.5)
    st = ip.nose_shape
    if st == "button":
        p.ellipse(0.0, ny - 0.25 * nw, nw * 0.8, nw * 0.6, scale(ip.skin, 0.88), depth=1.0, n=14)
    elif st == "pointed":
        p.polygon([[0.0, top], [0.25 * nw, top], [0.6 * nw, ny + 0.1 * nw], [-0.5 * nw, ny + 0.2 * nw]], shade, depth=1.0)
    elif st == "wide":
        for k in (-1, 1):
            p.ellipse(k * nw * 0.95, ny, nw * 0.6, nw * 0.5, shade, depth=0.9, n=12)
        p.ellipse(0.0, ny - 0.2 * nw, nw * 0.7, nw * 0.5, scale(ip.skin, 0.9), depth=1.0, n=12)
        nw *= 1.3
    elif st == "long":
        p.stroke([[0.0, top - 0.08 * fh], [0.25 * nw, 0.5 * (top + ny)], [0.35 * nw, ny]], shade, 0.4 * nw, depth=1.0)
        p.ellipse(0.1 * nw, ny - 0.1 * nw, nw * 0.6, nw * 0.45, shade, depth=1.0, n=12)
    else:  # hooked
        k = ip.hair_side
        pts = np.array([[0.0, top], [k * 0.55 * nw, 0.5 * (top + ny)], [k * 0.6 * nw, ny + 0.35 * nw],
                        [-k * 0.3 * nw, ny + 0.25 * nw], [-k * 0.1 * nw, 0.5 * (top + ny)]])
        p.polygon(pts, shade, depth=1.0)
    for k in (-1, 1):
        p.ellipse(k * nw * 0.45, ny + 0.3 * nw, nw * 0.3, nw * 0.2, dark, depth=1.0, n=10)


def _mouth(p: Painter, ip: IdentityParams, expression: str):
    mw, my, lt = ip.mouth_width, ip.mouth_y, ip.lip_thickness
    lip, lip_dark = ip.lip_color, scale(ip.lip_color, 0.55)
    x = np.linspace(-mw, mw, 13)
    u = x / mw
    bump = np.sqrt(np.clip(1 - u * u, 0, 1))
    d = 0.75
    if expression == "neutral":
        top = my - lt * (0.85 * bump - 0.3 * np.exp(-(u / 0.2) ** 2))
        bottom = my + lt * 1.1 * bump
        mid = np.full_like(x, my)
        p.polygon(np.concatenate([np.stack([x, top], 1), np.stack([x[::-1], mid[::-1]], 1)]), scale(lip, 0.88), d)
        p.polygon(np.concatenate([np.stack([x, mid], 1), np.stack([x[::-1], bottom[::-1]], 1)]), lip, d)
        p.line(np.stack([x, mid], 1), lip_dark, 0.007, d)
    elif expression in ("smiling", "laughing"):
        big = expression == "laughing"
        x = x * (1.12 if big else 1.0)
        c = my - 1.2 * lt * u * u
        top = c - 0.25 * lt * (1 - u * u)
        bottom = c + (3.2 if big else 2.1) * lt * (1 - u * u) ** 0.8
        outline = np.concatenate([np.stack([x, top], 1), np.stack([x[::-1], bottom[::-1]], 1)])
        p.polygon(outline, MOUTH_INSIDE, d)
        teeth_b = top + (1.1 if big else 0.95) * lt * (1 - u * u)
        keep = np.abs(u) < 0.88
        p.polygon(np.concatenate([np.stack([x[keep], top[keep]], 1), np.stack([x[keep][::-1], teeth_b[keep][::-1]], 1)]),
                  TEETH, d)
        if big:
            p.ellipse(0.0, my + 2.3 * lt, 0.45 * mw, 0.8 * lt, (215, 95, 105), d, n=14)
        p.line(outline, lip, 0.55 * lt, d, closed=True)
    elif expression == "surprised":
        p.ellipse(0.0, my + 0.4 * lt, mw * 0.5, lt * 2.3, lip, d, n=20)
        p.ellipse(0.0, my + 0.4 * lt, mw * 0.32, lt * 1.6, MOUTH_INSIDE, d, n=20)
    elif expression == "sad":
        c = my - 0.6 * lt + 1.9 * lt * u * u
        pts = np.stack([x, c], 1)
        p.stroke(pts, lip, 1.8 * lt, d, taper=0.7)
        p.line(pts, lip_dark, 0.012, d)
    else:  # angry: bared, clenched teeth
        x = x * 0.92
        top = my - 0.8 * lt + 0.35 * lt * u * u
        bottom = my + 1.0 * lt + 0.35 * lt * u * u
        outline = np.concatenate([np.stack([x, top], 1), np.stack([x[::-1], bottom[::-1]], 1)])
        p.polygon(outline, TEETH, d)
        p.line(np.stack([x, 0.5 * (top + bottom)], 1), (120, 110, 110), 0.006, d)
        p.line(outline, lip_dark, 0.5 * lt, d, closed=True)


def _clamp_to_ellipse(pts: np.ndarray, rx: float, ry: float) -> np.ndarray:
    lim = ry * np.sqrt(np.clip(1 - (pts[:, 0] / rx) ** 2, 0, 1))
    return np.stack([pts[:, 0], np.clip(pts[:, 1], -lim, lim)], axis=1)


def _place(pts: np.ndarray, cx: float, cy: float, rot: float) -> np.ndarray:
    c, s = math.cos(rot), math.sin(rot)
    x, y = pts[:, 0], pts[:, 1]
    return np.stack([x * c - y * s + cx, x * s + y * c + cy], axis=1)


_EYE_OPEN = {"neutral": 1.0, "smiling": 0.8, "laughing": 0.0, "surprised": 1.5, "sad": 0.85, "angry": 0.72}


def _eyes(p: Painter, ip: IdentityParams, expression: str):
    rx, ry0 = ip.eye_rx, ip.eye_ry
    ry = ry0 * _EYE_OPEN[expression]
    d = 0.6
    for s in (-1, 1):
        cx, cy, rot = s * ip.eye_spacing, ip.eye_y, -s * ip.eye_tilt
        if ry <= 0:
            arc = arc_points(0.0, 0.3 * ry0, rx, 0.9 * ry0, math.pi, 2 * math.pi, 9)
            p.line(_place(arc, cx, cy, rot), DARK, max(0.011, 0.35 * ry0), d)
            continue
        white = ellipse_points(0.0, 0.0, rx, ry, 20)
        p.polygon(_place(white, cx, cy, rot), (246, 246, 242), d)
        ri = rx * (0.42 if expression == "surprised" else 0.55)
        iris = _clamp_to_ellipse(ellipse_points(0.0, 0.0, ri, ri, 16), rx, ry)
        p.polygon(_place(iris, cx, cy, rot), ip.eye_color, d)
        pupil = _clamp_to_ellipse(ellipse_points(0.0, 0.0, ri * 0.5, ri * 0.5, 12), rx, ry)
        p.polygon(_place(pupil, cx, cy, rot), (18, 14, 14), d)
        lid = arc_points(0.0, 0.0, rx * 1.05, ry * 1.05, math.pi - 0.15, 2 * math.pi + 0.15, 11)
        p.line(_place(lid, cx, cy, rot), DARK, max(0.008, 0.25 * ry0), d)


_BROW_PROFILE = {
    "straight": lambda u: 0.15 * u,
    "arched": lambda u: 0.9 * np.sin(math.pi * u),
    "angled": lambda u: np.where(u < 0.65, u / 0.65, 1.0 - (u - 0.65) / 0.35 * 0.8),
    "curved": lambda u: 0.6 * np.sin(math.pi * 0.85 * u),
}


def _brows(p: Painter, ip: IdentityParams, expression: str):
    rx, ry = ip.eye_rx, ip.eye_ry
    u = np.linspace(0.0, 1.0, 7)
    lift = _BROW_PROFILE[ip.brow_shape](u) * rx * 0.45
    base = ip.eye_y - ry - ip.brow_gap - 0.5 * ip.brow_thickness
    if expression == "surprised":
        off = -(0.9 * ry + 0.25 * rx) - 0.15 * rx * np.sin(math.pi * u)
    elif expression == "angry":
        off = 0.55 * rx * (1 - u) - 0.15 * rx * u
    elif expression == "sad":
        off = -0.65 * rx * (1 - u) + 0.25 * rx * u
    elif expression in ("smiling", "laughing"):
        off = -0.12 * rx * np.ones_like(u)
    else:
        off = np.zeros_like(u)
    for s in (-1, 1):
        x = s * (ip.eye_spacing + rx * (-1.05 + 2.4 * u))
        pts = np.stack([x, base - lift + off], axis=1)
        if s < 0:
            pts = pts[::-1]
        p.stroke(pts, ip.brow_color, ip.brow_thickness, depth=0.55, taper=0.55)


def _hair_front(p: Painter, ip: IdentityParams, covered: bool):
    fw, fh, v = ip.face_width, ip.face_height, ip.hair_volume
    col = ip.hair_color
    st = ip.hair_style
    g = 1.0 + 0.08 * v
    if st == "bald":
        p.ellipse(-0.3 * fw, -0.8 * fh, 0.25 * fw, 0.1 * fh, mix(ip.skin, (255, 255, 255), 0.25), n=12)
        return
    if st == "buzz":
        p.polygon(hair_cap(ip, 1.025, -0.62, 0.1), mix(col, ip.skin, 0.4), mask=255)
    elif st == "short":
        p.polygon(hair_cap(ip, g, -0.6, 0.14), col, mask=255)
    elif st == "side part":
        s = ip.hair_side
        p.polygon(hair_cap(ip, g + 0.02, -0.62, 0.16), col, mask=255)
        sweep = np.array([[s * 0.42 * fw, -1.08 * fh], [-s * 1.02 * fw, -0.78 * fh], [-s * 1.0 * fw, -0.32 * fh],
                          [-s * 0.55 * fw, -0.5 * fh], [s * 0.15 * fw, -0.62 * fh]])
        p.polygon(sweep, col, mask=255)
        p.line([[s * 0.42 * fw, -1.05 * fh], [s * 0.38 * fw, -0.66 * fh]], scale(col, 0.7), 0.008)
    elif st in ("long", "bob", "fringe"):
        part = 0.25 if st == "long" else 0.0
        p.polygon(hair_cap(ip, 1.1 + 0.05 * v, -0.6, 0.2, part=part), col, mask=255)
        low = {"long": 1.45, "bob": 0.68, "fringe": 0.95}[st] * fh
        for s in (-1, 1):
            strand = np.array([[s * 1.12 * fw, -0.55 * fh], [s * 0.82 * fw, -0.4 * fh], [s * 0.86 * fw, 0.1 * fh],
                               [s * 0.98 * fw, low], [s * 1.22 * fw, low], [s * 1.2 * fw, 0.0]])
            p.polygon(strand, col, depth=-0.2, mask=255)
        if st == "fringe":
            bottom = ip.eye_y - ip.eye_ry - ip.brow_gap - 0.2 * ip.brow_thickness
            x = np.linspace(0.95 * fw, -0.95 * fw, 9)
            y = bottom - 0.1 * fh * (x / fw) ** 2 + np.where(np.arange(9) % 2 == 0, 0.0, -0.04 * fh)
            top = outline_at(ip, np.linspace(math.pi + 0.15, 2 * math.pi - 0.15, 12), 1.06)
            p.polygon(np.concatenate([top, np.stack([x, y], 1)]), col, mask=255)
    elif st == "curly":
        p.polygon(hair_cap(ip, 1.15, -0.6, 0.25), col, mask=255)
        hx = np.linspace(-0.85, 0.85, 6) * fw
        for x in hx:
            y = -0.6 * fh + 0.55 * fh * (abs(x) / fw) ** 2.5
            p.ellipse(x, y, 0.17 * fw, 0.15 * fw, col, mask=255, n=12)
        dark = scale(col, 0.75)
        for k, a in enumerate(np.linspace(math.pi + 0.4, 2 * math.pi - 0.4, 5)):
            q = outline_at(ip, [a], 1.2 + 0.1 * v)[0]
            p.ellipse(q[0], q[1], 0.09 * fw, 0.07 * fw, dark, n=10)
    elif st == "bun":
        p.polygon(hair_cap(ip, 1.04, -0.62, 0.1), col, mask=255)
        p.line([[0.0, -0.62 * fh], [0.0, -1.0 * fh]], scale(col, 0.75), 0.006)
    elif st == "mohawk":
        p.polygon(hair_cap(ip, 1.02, -0.62, 0.1), mix(col, ip.skin, 0.6), mask=255)
        w = 0.24 * fw
        if covered:
            p.polygon([[-w, -0.62 * fh], [-w, -1.02 * fh], [w, -1.02 * fh], [w, -0.62 * fh]], col, mask=255)
        else:
            h = 0.4 * fh * v
            ys = -1.0 * fh - h * np.array([0.6, 1.0, 0.8, 1.0, 0.6])
            top = np.stack([np.array([-1, -0.5, 0, 0.5, 1]) * w * 1.3, ys], 1)
            spikes = np.concatenate([[[-w, -0.62 * fh]], top, [[w, -0.62 * fh]]])
            p.polygon(spikes, col, mask=255)
    elif st == "ponytail":
        p.polygon(hair_cap(ip, 1.04, -0.64, 0.12), col, mask=255)
        p.line([[ip.hair_side * 0.95 * fw, -0.3 * fh], [ip.hair_side * 1.05 * fw, -0.15 * fh]], scale(col, 0.6), 0.012)
    elif st == "spiky":
        p.polygon(hair_cap(ip, 1.06, -0.58, 0.12), col, mask=255)
        if not covered:
            for a in np.linspace(math.pi + 0.35, 2 * math.pi - 0.35, 7):
                b0 = outline_at(ip, [a - 0.16], 1.04)[0]
                b1 = outline_at(ip, [a + 0.16], 1.04)[0]
                tip = outline_at(ip, [a], 1.0 + 0.32 * v)[0]
                p.polygon([b0, tip, b1], col, mask=255)


def _glasses(p: Painter, ip: IdentityParams, kind: str, rng):
    if kind == "none":
        return
    frame = FRAME_COLORS[int(rng.integers(len(FRAME_COLORS)))]
    sun = kind == "sunglasses"
    rx = ip.eye_rx * (1.5 if sun else 1.35) + 0.008
    ry = max(ip.eye_ry * 1.6, rx * (0.78 if sun else 0.72))
    d, w = 0.65, 0.013
    cy = ip.eye_y + (0.15 * ry if sun else 0.0)
    for s in (-1, 1):
        cx = s * ip.eye_spacing
        lens = ellipse_points(cx, cy, rx, ry, 22)
        if sun:
            p.polygon(lens, (22, 22, 28), d)
            p.line(arc_points(cx - 0.3 * rx, cy - 0.3 * ry, 0.45 * rx, 0.35 * ry, math.pi + 0.5, 1.5 * math.pi, 4),
                   (110, 110, 120), 0.008, d)
        p.line(lens, frame, w, d, closed=True)
        p.line([[s * (ip.eye_spacing + rx), cy - 0.2 * ry], [s * ip.face_width * 1.02, cy - 0.3 * ry]], frame, w, 0.3)
    bx = ip.eye_spacing - rx
    p.line(arc_points(0.0, cy - 0.1 * ry, bx, 0.25 * ry, math.pi, 2 * math.pi, 5), frame, w, d)


def _headwear(p: Painter, ip: IdentityParams, kind: str, rng):
    if kind == "none":
        return
    fw, fh = ip.face_width, ip.face_height
    extra = _hair_extra_height(ip)
    top = -fh * (1.0 + extra)  # top of the hair
    if kind == "hat":
        col = HAT_COLORS[int(rng.integers(len(HAT_COLORS)))]
        brim_y = -0.6 * fh - 0.4 * extra * fh
        crown = np.array([[-0.95 * fw, brim_y], [-0.85 * fw, top - 0.3 * fh], [-0.2 * fw, top - 0.38 * fh],
                          [0.0, top - 0.3 * fh], [0.2 * fw, top - 0.38 * fh], [0.85 * fw, top - 0.3 * fh],
                          [0.95 * fw, brim_y]])
        p.polygon(crown, col, mask=0)
        band = BRIGHT_COLORS[int(rng.integers(len(BRIGHT_COLORS)))]
        p.polygon([[-0.95 * fw, brim_y], [-0.92 * fw, brim_y - 0.2 * fh], [0.92 * fw, brim_y - 0.2 * fh],
                   [0.95 * fw, brim_y]], band, mask=0)
        p.ellipse(0.0, brim_y, 1.75 * fw, 0.14 * fh, scale(col, 0.85), mask=0, n=32)
    elif kind == "cap":
        col = BRIGHT_COLORS[int(rng.integers(len(BRIGHT_COLORS)))]
        base = -0.5 * fh
        dome = outline_at(ip, np.linspace(math.pi, 2 * math.pi, 16), 1.09)
        dome[:, 1] = base + (dome[:, 1] - 0.0) * (1.0 + extra) * 0.95
        p.polygon(dome, col, mask=0)
        p.ellipse(0.0, base + 0.02 * fh, 1.0 * fw, 0.16 * fh, scale(col, 0.75), mask=0, n=24)
        p.ellipse(0.0, dome[:, 1].min() + 0.02, 0.1 * fw, 0.06 * fw, scale(col, 0.8), mask=0, n=10)
    elif kind == "crown":
        gold, base = (235, 185, 40), -0.72 * fh - 0.5 * extra * fh
        n = 5
        xs = np.linspace(-0.85 * fw, 0.85 * fw, 2 * n - 1)
        ys = np.where(np.arange(2 * n - 1) % 2 == 0, top - 0.42 * fh, top - 0.05 * fh)
        pts = np.concatenate([[[-0.85 * fw, base]], np.stack([xs, ys], 1), [[0.85 * fw, base]]])
        p.polygon(pts, gold, mask=0)
        p.polygon([[-0.88 * fw, base], [-0.86 * fw, base - 0.16 * fh], [0.86 * fw, base - 0.16 * fh],
                   [0.88 * fw, base]], (200, 150, 30), mask=0)
        for k, x in enumerate(np.linspace(-0.5, 0.5, 3) * fw):
            p.ellipse(x, base - 0.08 * fh, 0.07 * fw, 0.07 * fw, [(200, 30, 40), (40, 80, 210)][k % 2], mask=0, n=10)
    elif kind == "helmet":  # a hard hat: dome with a ridge, a brim all round, chin straps
        col = [(245, 205, 30), (235, 235, 235), (220, 60, 40), (240, 130, 30), (60, 110, 200)][int(rng.integers(5))]
        base = -0.52 * fh - 0.3 * extra * fh
        strap = scale(col, 0.45)
        for s in (-1, 1):
            p.line([[s * 0.92 * fw, base], [s * 0.9 * fw, 0.2 * fh], [s * 0.45 * fw, 0.85 * fh]], strap, 0.012)
        dome = outline_at(ip, np.linspace(math.pi, 2 * math.pi, 18), 1.08 + 0.3 * extra)
        dome[:, 1] = base + dome[:, 1] * 0.92 * (1.0 + extra)
        p.polygon(dome, col, mask=0)
        top_y = dome[:, 1].min()
        p.polygon([[-0.16 * fw, base], [-0.12 * fw, top_y + 0.01], [0.12 * fw, top_y + 0.01], [0.16 * fw, base]],
                  scale(col, 0.82), mask=0)
        p.ellipse(0.0, base, 1.3 * fw, 0.1 * fh, scale(col, 0.9), mask=0, n=32)
    elif kind == "beanie":
        col = BRIGHT_COLORS[int(rng.integers(len(BRIGHT_COLORS)))]
        dome = outline_at(ip, np.linspace(math.pi - 0.05, 2 * math.pi + 0.05, 16), 1.1 + 0.4 * extra)
        dome[:, 1] = dome[:, 1] * 1.05 - 0.3 * fh
        p.polygon(dome, col, mask=0)
        band = np.array([[-1.12 * fw, -0.32 * fh], [-1.1 * fw, -0.62 * fh], [1.1 * fw, -0.62 * fh], [1.12 * fw, -0.32 * fh]])
        p.polygon(band, scale(col, 0.78), mask=0)
        p.ellipse(0.0, dome[:, 1].min() - 0.1 * fw, 0.24 * fw, 0.24 * fw, mix(col, (255, 255, 255), 0.5), mask=0, n=14)
    elif kind == "party hat":
        col = BRIGHT_COLORS[int(rng.integers(len(BRIGHT_COLORS)))]
        stripe = BRIGHT_COLORS[int(rng.integers(len(BRIGHT_COLORS)))]
        base, apex = top + 0.2 * fh, top - 0.72 * fh
        p.polygon([[-0.6 * fw, base], [0.0, apex], [0.6 * fw, base]], col, mask=0)
        for f in (0.3, 0.65):
            y0, y1 = base + (apex - base) * f, base + (apex - base) * (f + 0.12)
            w0, w1 = 0.6 * fw * (1 - f), 0.6 * fw * (1 - f - 0.12)
            p.polygon([[-w0, y0], [-w1, y1], [w1, y1], [w0, y0]], stripe, mask=0)
        p.ellipse(0.0, apex, 0.15 * fw, 0.15 * fw, stripe, mask=0, n=12)
    else:
        raise ValueError(f"unknown headwear {kind!r}")


# ------------------------------------------------------------------------------- rendering

def render(identity: IdentityParams, attrs: Attributes, size: int = 64, rng: np.random.Generator | None = None,
           supersample: int | None = None) -> RenderedImage:
    """Draw `identity` with `attrs`. All per-image randomness (pose jitter, scene details,
    clothes and accessory colours, grain) comes from `rng`, split into one stream per part so
    that changing one attribute leaves the other parts' randomness unchanged."""
    if rng is None:
        rng = np.random.default_rng(0)
    seeds = rng.integers(0, 2**63 - 1, size=6)
    r_pose, r_bg, r_body, r_acc, r_light, r_style = (np.random.default_rng(int(s)) for s in seeds)
    ss = supersample or default_supersample(size)
    S = size * ss

    canvas = draw_background(attrs.background, S, r_bg)
    mask = Image.new("L", (S, S), 0)
    pose = _pose(attrs, r_pose)
    head = Painter(canvas, mask, S, **pose)
    body = head.with_pose(tilt=0.0, yaw=0.3 * pose["yaw"])
    covered = attrs.headwear != "none"
    expr = attrs.expression

    _shirt(body, identity, r_body)
    body.flush()
    _hair_back(head, identity, covered)
    _neck(head, identity)
    _ears(head, identity)
    outline = face_outline(identity)
    head.polygon(outline, identity.skin, mask=255)
    _marks(head, identity)
    _beard(head, identity)
    _nose(head, identity)
    _mouth(head, identity, expr)
    _moustache(head, identity, expr)
    _eyes(head, identity, expr)
    _brows(head, identity, expr)
    _hair_front(head, identity, covered)
    _glasses(head, identity, attrs.glasses, r_acc)
    _headwear(head, identity, attrs.headwear, r_acc)
    head.flush()

    if ss > 1:
        canvas = canvas.reduce(ss)
        mask = mask.reduce(ss)
    img = np.asarray(canvas, dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32) * (1.0 / 255.0)

    pts = head.transform(outline) / ss
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(size, x1), min(size, y1)
    centre = head.transform(np.zeros((1, 2)))[0] / ss
    zoom = pose["zoom"] * S / ss
    head_geom = (float(centre[0]), float(centre[1]), identity.face_width * zoom, identity.face_height * zoom)

    img = apply_lighting(img, attrs.lighting, r_light)
    img = apply_style(img, attrs.style, m, head_geom, r_style)
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    return RenderedImage(out, (int(x0), int(y0), int(x1 - x0), int(y1 - y0)), m, attrs, identity)


def render_reference(identity: IdentityParams, size: int = 64, rng: np.random.Generator | None = None,
                     supersample: int | None = None) -> RenderedImage:
    """The identity on a plain background with neutral attributes (small pose jitter and a
    random plain colour from `rng`): what a user would upload as the reference photo."""
    return render(identity, Attributes.neutral(), size, rng, supersample)
