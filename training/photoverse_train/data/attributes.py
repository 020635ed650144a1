"""Per-image attributes (what a prompt may change) and the captions built from them.

Every attribute is categorical; `Attributes.labels()` gives class indices in the order of
`ATTRIBUTE_NAMES`, so attribute classifiers ("prompt accuracy") can be trained on them.
The subject of a caption is a replaceable phrase: `caption(a)` says "a person",
`caption(a, PLACEHOLDER)` says "S*" in the same place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

PLACEHOLDER = "S*"
DEFAULT_SUBJECT = "a person"

ATTRIBUTE_CLASSES: dict[str, list[str]] = {
    "expression": ["neutral", "smiling", "laughing", "surprised", "sad", "angry"],
    "headwear": ["none", "hat", "cap", "crown", "helmet", "beanie", "party hat"],
    "glasses": ["none", "glasses", "sunglasses"],
    "background": ["plain", "beach", "forest", "city", "snow", "space", "indoors", "desert",
                   "underwater", "field"],
    "style": ["photo", "sketch", "cartoon", "painting"],
    "lighting": ["normal", "warm", "cold", "night", "side"],
    # "left"/"right": the face turns towards the viewer's left/right (features shift that way)
    "pose": ["frontal", "left", "right", "tilted"],
}
ATTRIBUTE_NAMES: tuple[str, ...] = tuple(ATTRIBUTE_CLASSES)

#: Default sampling weights, one list per attribute (the neutral class is the most frequent).
DEFAULT_WEIGHTS: dict[str, list[float]] = {
    "expression": [3, 2, 1, 1, 1, 1],
    "headwear": [6, 1, 1, 1, 1, 1, 1],
    "glasses": [6, 2, 2],
    "background": [4, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    "style": [5, 2, 2, 2],
    "lighting": [5, 1, 1, 1, 1],
    "pose": [5, 1, 1, 1],
}

STYLE_PREFIX = {
    "photo": "a photo of",
    "sketch": "a pencil sketch of",
    "cartoon": "a cartoon of",
    "painting": "an oil painting of",
}
EXPRESSION_PHRASE = {
    "neutral": "", "smiling": "smiling", "laughing": "laughing", "surprised": "looking surprised",
    "sad": "looking sad", "angry": "looking angry",
}
HEADWEAR_PHRASE = {
    "none": "", "hat": "a hat", "cap": "a cap", "crown": "a crown", "helmet": "a helmet",
    "beanie": "a beanie", "party hat": "a party hat",
}
GLASSES_PHRASE = {"none": "", "glasses": "glasses", "sunglasses": "sunglasses"}
BACKGROUND_PHRASE = {
    "plain": "", "beach": "on the beach", "forest": "in a forest", "city": "in the city",
    "snow": "in the snow", "space": "in space", "indoors": "in a room", "desert": "in the desert",
    "underwater": "underwater", "field": "in a flower field",
}
LIGHTING_PHRASE = {
    "normal": "", "warm": "in warm light", "cold": "in cold light", "night": "at night",
    "side": "in side light",
}
POSE_PHRASE = {"frontal": "", "left": "facing left", "right": "facing right", "tilted": "with a tilted head"}


@dataclass(frozen=True)
class Attributes:
    expression: str = "neutral"
    headwear: str = "none"
    glasses: str = "none"
    background: str = "plain"
    style: str = "photo"
    lighting: str = "normal"
    pose: str = "frontal"

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if v not in ATTRIBUTE_CLASSES[f.name]:
                raise ValueError(f"unknown {f.name} {v!r}; one of {ATTRIBUTE_CLASSES[f.name]}")

    @classmethod
    def neutral(cls) -> "Attributes":
        return cls()

    @classmethod
    def sample(cls, rng: np.random.Generator, weights: dict[str, list[float]] | None = None,
               **fixed: str) -> "Attributes":
        """Draw every attribute from `weights` (default `DEFAULT_WEIGHTS`); keyword arguments
        fix single attributes. Always consumes the same number of draws from `rng`."""
        w = dict(DEFAULT_WEIGHTS)
        if weights:
            w.update(weights)
        u = rng.random(len(ATTRIBUTE_NAMES))
        values = {}
        for name, x in zip(ATTRIBUTE_NAMES, u):
            cum = np.cumsum(w[name], dtype=np.float64)
            if len(cum) != len(ATTRIBUTE_CLASSES[name]):
                raise ValueError(f"{name}: {len(cum)} weights for {len(ATTRIBUTE_CLASSES[name])} classes")
            k = int(np.searchsorted(cum, x * cum[-1], side="right"))
            values[name] = fixed.get(name, ATTRIBUTE_CLASSES[name][k])
        return cls(**values)

    @classmethod
    def from_labels(cls, labels) -> "Attributes":
        return cls(**{n: ATTRIBUTE_CLASSES[n][int(i)] for n, i in zip(ATTRIBUTE_NAMES, labels)})

    def labels(self) -> tuple[int, ...]:
        """Class indices in `ATTRIBUTE_NAMES` order."""
        return tuple(ATTRIBUTE_CLASSES[n].index(getattr(self, n)) for n in ATTRIBUTE_NAMES)

    def label_dict(self) -> dict[str, int]:
        return dict(zip(ATTRIBUTE_NAMES, self.labels()))

    def replace(self, **changes: str) -> "Attributes":
        return Attributes(**{**{n: getattr(self, n) for n in ATTRIBUTE_NAMES}, **changes})


def caption(attrs: Attributes, subject: str = DEFAULT_SUBJECT) -> str:
    """E.g. "a photo of a person smiling wearing sunglasses on the beach"; with
    subject=PLACEHOLDER: "a photo of S* smiling wearing sunglasses on the beach"."""
    parts = [STYLE_PREFIX[attrs.style], subject]
    if EXPRESSION_PHRASE[attrs.expression]:
        parts.append(EXPRESSION_PHRASE[attrs.expression])
    worn = [p for p in (HEADWEAR_PHRASE[attrs.headwear], GLASSES_PHRASE[attrs.glasses]) if p]
    if worn:
        parts.append("wearing " + " and ".join(worn))
    for phrase in (BACKGROUND_PHRASE[attrs.background], LIGHTING_PHRASE[attrs.lighting],
                   POSE_PHRASE[attrs.pose]):
        if phrase:
            parts.append(phrase)
    return " ".join(parts)


def placeholder_caption(attrs: Attributes) -> str:
    """The caption with `S*` as the subject."""
    return caption(attrs, PLACEHOLDER)


def to_placeholder(text: str, subject: str = DEFAULT_SUBJECT) -> str:
    """Replace the first occurrence of `subject` in a caption with `S*`."""
    if subject not in text:
        raise ValueError(f"{subject!r} not in {text!r}")
    return text.replace(subject, PLACEHOLDER, 1)
