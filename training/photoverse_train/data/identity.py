"""Identity parameters of a synthetic face.

Everything that makes one synthetic person recognisable (face shape, skin tone, eyes, brows,
nose, mouth, ears, hair, beard, marks) is drawn once from (seed, identity index) and never
changes between that person's images; per-image variation lives in `attributes.Attributes`.

Geometry is in frame units (1.0 = the image side) relative to the centre of the face oval,
y pointing down, so the renderer can draw it at any size.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from functools import lru_cache

import numpy as np

RGB = tuple[int, int, int]

FACE_SHAPES = ["oval", "round", "long", "square", "heart"]
# height/width ratio, lower-half superellipse power, chin taper, forehead widening
_FACE_SHAPE_GEOMETRY = {
    "oval": (1.30, 2.0, 0.22, 0.00),
    "round": (1.06, 2.1, 0.05, 0.00),
    "long": (1.50, 2.2, 0.14, 0.00),
    "square": (1.14, 4.5, 0.02, 0.02),
    "heart": (1.24, 1.8, 0.38, 0.08),
}

SKIN_TONES: list[RGB] = [
    (255, 226, 200), (246, 205, 175), (236, 188, 150), (224, 170, 130), (205, 145, 105),
    (180, 120, 82), (150, 95, 62), (120, 74, 48), (95, 58, 38), (250, 215, 185),
]

EYE_SHAPES = ["round", "almond", "narrow", "large"]
# (half width in face half-widths, height/width)
_EYE_SHAPE_GEOMETRY = {
    "round": (0.20, 0.78),
    "almond": (0.22, 0.52),
    "narrow": (0.22, 0.36),
    "large": (0.25, 0.68),
}
EYE_COLORS: dict[str, RGB] = {
    "brown": (110, 62, 30), "dark brown": (58, 34, 20), "blue": (60, 125, 210),
    "green": (60, 150, 80), "grey": (125, 135, 150), "hazel": (150, 115, 50),
    "amber": (190, 125, 40),
}

BROW_SHAPES = ["straight", "arched", "angled", "curved"]
NOSE_SHAPES = ["button", "pointed", "wide", "long", "hooked"]
LIP_COLORS: list[RGB] = [
    (222, 118, 128), (190, 55, 65), (205, 100, 110), (150, 78, 70), (214, 150, 140), (120, 52, 55),
]

HAIR_STYLES = [
    "bald", "buzz", "short", "side part", "long", "bob", "fringe", "curly", "bun", "mohawk",
    "ponytail", "spiky",
]
_HAIR_STYLE_WEIGHTS = [4, 6, 12, 9, 12, 8, 8, 9, 7, 5, 8, 7]
HAIR_COLORS: dict[str, RGB] = {
    "black": (30, 25, 25), "dark brown": (62, 40, 28), "brown": (110, 72, 42),
    "light brown": (160, 118, 72), "auburn": (128, 48, 28), "ginger": (205, 105, 45),
    "blonde": (230, 198, 118), "platinum": (242, 234, 205), "grey": (150, 150, 152),
    "white": (238, 238, 238), "blue": (50, 95, 210), "pink": (235, 110, 175),
    "green": (55, 165, 90), "purple": (125, 60, 180),
}
_HAIR_COLOR_WEIGHTS = [16, 14, 13, 9, 7, 7, 9, 4, 5, 3, 3, 3, 3, 3]

BEARDS = ["none", "stubble", "goatee", "full"]
_BEARD_WEIGHTS = [70, 10, 8, 12]
MARKS = ["none", "freckles", "mole", "rosy cheeks"]
_MARK_WEIGHTS = [55, 17, 15, 13]

#: Categorical identity traits and their class names (for identity-attribute classifiers).
IDENTITY_CLASSES: dict[str, list[str]] = {
    "face_shape": FACE_SHAPES,
    "eye_shape": EYE_SHAPES,
    "eye_color": list(EYE_COLORS),
    "brow_shape": BROW_SHAPES,
    "nose_shape": NOSE_SHAPES,
    "hair_style": HAIR_STYLES,
    "hair_color": list(HAIR_COLORS),
    "beard": BEARDS,
    "marks": MARKS,
}

_IDENTITY_STREAM = 0x1D  # keeps identity draws apart from the image streams of the same seed


def _choice(rng: np.random.Generator, names, weights=None) -> str:
    names = list(names)
    if weights is None:
        return names[int(rng.integers(len(names)))]
    cum = np.cumsum(weights, dtype=np.float64)
    return names[int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))]


def _clamp(v: float) -> int:
    v = int(round(v))
    return 0 if v < 0 else 255 if v > 255 else v


def _jitter(rng: np.random.Generator, color: RGB, amount: int) -> RGB:
    d = rng.integers(-amount, amount + 1, size=3)
    return tuple(_clamp(c + int(x)) for c, x in zip(color, d))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """(1 - t) * a + t * b, rounded."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def scale(c: RGB, f: float) -> RGB:
    return tuple(_clamp(x * f) for x in c)


@dataclass(frozen=True)
class IdentityParams:
    """The fixed look of one synthetic person. Build with `IdentityParams.sample(seed, index)`."""

    seed: int
    index: int
    face_shape: str
    face_width: float  # half width of the face oval, frame units
    face_height: float  # half height of the face oval, frame units
    jaw_power: float  # superellipse power of the lower half (2 = ellipse, larger = squarer)
    chin_taper: float  # how much the lower half narrows towards the chin
    forehead_widen: float
    skin: RGB
    eye_shape: str
    eye_rx: float  # half width of an eye, frame units
    eye_ry: float
    eye_tilt: float  # radians, outer corner up when > 0
    eye_color_name: str
    eye_color: RGB
    eye_spacing: float  # distance of each eye from the face centre line, frame units
    eye_y: float  # eye line, frame units below the face centre (negative = above)
    brow_shape: str
    brow_thickness: float
    brow_gap: float
    brow_color: RGB
    nose_shape: str
    nose_size: float
    nose_y: float  # nose tip
    mouth_width: float  # half width
    mouth_y: float
    lip_thickness: float
    lip_color: RGB
    ear_size: float
    ear_protrusion: float
    hair_style: str
    hair_color_name: str
    hair_color: RGB
    hair_volume: float
    hair_side: int  # -1 or 1: side of the parting / ponytail
    beard: str
    moustache: bool
    facial_hair_color: RGB
    marks: str
    mark_points: tuple[tuple[float, float], ...]  # freckle / mole positions, face units

    @classmethod
    def sample(cls, seed: int, index: int) -> "IdentityParams":
        """The identity `index` of the data set drawn with `seed` (deterministic; cached)."""
        return _sample_cached(cls, int(seed), int(index))

    @classmethod
    def _sample(cls, seed: int, index: int) -> "IdentityParams":
        rng = np.random.default_rng([int(seed), int(index), _IDENTITY_STREAM])
        face_shape = _choice(rng, FACE_SHAPES)
        ratio, power, taper, widen = _FACE_SHAPE_GEOMETRY[face_shape]
        fw = float(rng.uniform(0.165, 0.205))
        fh = float(np.clip(fw * ratio * rng.uniform(0.95, 1.05), 0.18, 0.285))
        skin = _jitter(rng, SKIN_TONES[int(rng.integers(len(SKIN_TONES)))], 8)

        eye_shape = _choice(rng, EYE_SHAPES)
        ew, eh = _EYE_SHAPE_GEOMETRY[eye_shape]
        eye_rx = fw * ew * float(rng.uniform(0.9, 1.1))
        eye_ry = eye_rx * eh * float(rng.uniform(0.9, 1.1))
        eye_color_name = _choice(rng, EYE_COLORS, [20, 18, 14, 10, 8, 8, 5])

        hair_color_name = _choice(rng, HAIR_COLORS, _HAIR_COLOR_WEIGHTS)
        hair_color = _jitter(rng, HAIR_COLORS[hair_color_name], 10)
        hair_style = _choice(rng, HAIR_STYLES, _HAIR_STYLE_WEIGHTS)
        # bald people keep a natural brow colour
        natural = hair_color if hair_color_name not in ("blue", "pink", "green", "purple") else (60, 42, 30)
        brow_color = mix(scale(natural, 0.8), skin, 0.15) if hair_color_name not in (
            "platinum", "white", "blonde") else mix(natural, (120, 95, 60), 0.5)

        beard = _choice(rng, BEARDS, _BEARD_WEIGHTS)
        moustache = bool(rng.random() < (0.55 if beard in ("goatee", "full") else 0.1))
        facial_hair_color = scale(natural, 0.9)

        marks = _choice(rng, MARKS, _MARK_WEIGHTS)
        if marks == "freckles":
            pts = [(float(rng.uniform(0.15, 0.65)) * s, float(rng.uniform(0.02, 0.35)))
                   for s in (-1, 1) for _ in range(5)]
        elif marks == "mole":
            pts = [(float(rng.uniform(0.25, 0.6)) * float(rng.choice([-1, 1])), float(rng.uniform(0.1, 0.6)))]
        else:
            pts = []

        return cls(
            seed=int(seed),
            index=int(index),
            face_shape=face_shape,
            face_width=fw,
            face_height=fh,
            jaw_power=power * float(rng.uniform(0.92, 1.08)),
            chin_taper=float(np.clip(taper + rng.uniform(-0.04, 0.04), 0.0, 0.5)),
            forehead_widen=widen,
            skin=skin,
            eye_shape=eye_shape,
            eye_rx=eye_rx,
            eye_ry=eye_ry,
            eye_tilt=float(rng.uniform(-0.12, 0.18)),
            eye_color_name=eye_color_name,
            eye_color=_jitter(rng, EYE_COLORS[eye_color_name], 10),
            eye_spacing=fw * float(rng.uniform(0.36, 0.52)),
            eye_y=-fh * float(rng.uniform(0.02, 0.16)),
            brow_shape=_choice(rng, BROW_SHAPES),
            brow_thickness=fw * float(rng.choice([0.07, 0.10, 0.14])) * float(rng.uniform(0.9, 1.1)),
            brow_gap=fw * float(rng.uniform(0.10, 0.2)),
            brow_color=brow_color,
            nose_shape=_choice(rng, NOSE_SHAPES),
            nose_size=float(rng.uniform(0.8, 1.25)),
            nose_y=fh * float(rng.uniform(0.22, 0.34)),
            mouth_width=fw * float(rng.uniform(0.30, 0.50)),
            mouth_y=fh * float(rng.uniform(0.52, 0.62)),
            lip_thickness=fw * float(rng.uniform(0.06, 0.11)),
            lip_color=mix(_jitter(rng, LIP_COLORS[int(rng.integers(len(LIP_COLORS)))], 8), skin, 0.25),
            ear_size=float(rng.uniform(0.8, 1.25)),
            ear_protrusion=float(rng.uniform(0.0, 1.0)),
            hair_style=hair_style,
            hair_color_name=hair_color_name,
            hair_color=hair_color,
            hair_volume=float(rng.uniform(0.8, 1.25)),
            hair_side=int(rng.choice([-1, 1])),
            beard=beard,
            moustache=moustache,
            facial_hair_color=facial_hair_color,
            marks=marks,
            mark_points=tuple(pts),
        )

    def labels(self) -> dict[str, int]:
        """Class index of every categorical trait (see `IDENTITY_CLASSES`)."""
        values = {
            "face_shape": self.face_shape, "eye_shape": self.eye_shape,
            "eye_color": self.eye_color_name, "brow_shape": self.brow_shape,
            "nose_shape": self.nose_shape, "hair_style": self.hair_style,
            "hair_color": self.hair_color_name, "beard": self.beard, "marks": self.marks,
        }
        return {k: IDENTITY_CLASSES[k].index(v) for k, v in values.items()}

    def vector(self) -> np.ndarray:
        """The fixed-length numeric parameters flattened (categorical ones as class indices)."""
        out: list[float] = []
        for f in fields(self):
            if f.name in ("seed", "index", "mark_points"):
                continue
            v = getattr(self, f.name)
            if isinstance(v, str):
                key = {"eye_color_name": "eye_color", "hair_color_name": "hair_color"}.get(f.name, f.name)
                out.append(float(IDENTITY_CLASSES[key].index(v)))
            elif isinstance(v, tuple):
                out.extend(float(x) for x in np.asarray(v, dtype=np.float64).ravel())
            else:
                out.append(float(v))
        return np.asarray(out, dtype=np.float64)

    def describe(self) -> str:
        """A short subject phrase naming the most visible traits, e.g.
        "a person with short ginger hair and a beard"."""
        c = self.hair_color_name
        hair = {
            "bald": "a bald person", "mohawk": f"a person with a {c} mohawk",
            "bun": f"a person with {c} hair in a bun", "ponytail": f"a person with a {c} ponytail",
            "bob": f"a person with a {c} bob", "fringe": f"a person with {c} hair and a fringe",
            "buzz": f"a person with very short {c} hair", "side part": f"a person with short {c} hair",
        }.get(self.hair_style, f"a person with {self.hair_style} {c} hair")
        beard = {"full": "a beard", "goatee": "a goatee", "stubble": "stubble"}.get(self.beard)
        if beard:
            hair += (" and " if " with " in hair and " and " not in hair else " with ") + beard
        return hair

    def key(self) -> tuple:
        return astuple(self)[2:]


@lru_cache(maxsize=16384)
def _sample_cached(cls, seed: int, index: int) -> IdentityParams:
    return cls._sample(seed, index)
