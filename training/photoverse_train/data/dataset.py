"""Deterministic image streams, the train / held-out identity split and a torch Dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .attributes import DEFAULT_SUBJECT, PLACEHOLDER, Attributes, caption
from .identity import IdentityParams
from .render import RenderedImage, render, render_reference

_IMAGE_STREAM = 1
_REFERENCE_STREAM = 2
_SPLIT_STREAM = 0x5E


def image_rng(seed: int, identity: int, image: int, stream: int = _IMAGE_STREAM) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(identity), int(image), int(stream)])


def split_identities(count: int, held_out_fraction: float = 0.1, seed: int = 0) -> tuple[list[int], list[int]]:
    """(train ids, held-out ids): a disjoint, deterministic split of range(count)."""
    if not 0.0 <= held_out_fraction < 1.0:
        raise ValueError("held_out_fraction must be in [0, 1)")
    perm = np.random.default_rng([int(seed), _SPLIT_STREAM]).permutation(int(count))
    k = int(round(count * held_out_fraction))
    held = sorted(int(i) for i in perm[:k])
    train = sorted(int(i) for i in perm[k:])
    return train, held


@dataclass
class Sample:
    rendered: RenderedImage
    caption: str
    placeholder_caption: str
    identity: int
    image: int


def sample_image(seed: int, identity: int, image: int, size: int = 64, subject: str = DEFAULT_SUBJECT,
                 attribute_weights: dict | None = None) -> Sample:
    """Image `image` of identity `identity`: its attributes and pixels come from
    (seed, identity, image) only."""
    ip = IdentityParams.sample(seed, identity)
    rng = image_rng(seed, identity, image)
    attrs = Attributes.sample(rng, attribute_weights)
    r = render(ip, attrs, size, rng)
    return Sample(r, caption(attrs, subject), caption(attrs, PLACEHOLDER), int(identity), int(image))


def sample_reference(seed: int, identity: int, image: int, size: int = 64) -> RenderedImage:
    """A reference of `identity` drawn with its own stream, so it differs from image `image`."""
    return render_reference(IdentityParams.sample(seed, identity), size,
                            image_rng(seed, identity, image, _REFERENCE_STREAM))


def to_tensor(image: np.ndarray):
    """uint8 HxWx3 -> float32 CHW in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div_(127.5).sub_(1.0)


class SyntheticFaceDataset:
    """Index i -> identity ids[i // images_per_identity], image i % images_per_identity (+ epoch
    offset). Items are dicts of:

      image            float32 (3, H, W) in [-1, 1]
      mask             float32 (H, W) face mask of `image`
      face_box         int64 (4,) x, y, w, h
      caption          "a photo of a person smiling ..." (subject = `subject`)
      placeholder_caption  the same with "S*" as the subject
      identity         int (the identity index within the whole data set)
      labels           int64 (7,) attribute class indices, `ATTRIBUTE_NAMES` order
      reference        float32 (3, R, R) in [-1, 1]: the same identity, neutral, plain background
      reference_mask   float32 (R, R)

    `subject="describe"` uses each identity's `describe()` phrase instead of "a person".
    A map-style data set for torch.utils.data.DataLoader (which needs only __len__ and
    __getitem__); torch is imported when the first item is built, not at import time.
    """

    def __init__(self, identities, images_per_identity: int = 100, size: int = 64, seed: int = 0,
                 reference_size: int | None = None, with_reference: bool = True, subject: str = DEFAULT_SUBJECT,
                 attribute_weights: dict | None = None, epoch: int = 0):
        self.identities = [int(i) for i in identities]
        self.images_per_identity = int(images_per_identity)
        self.size = int(size)
        self.seed = int(seed)
        self.reference_size = int(reference_size or size)
        self.with_reference = with_reference
        self.subject = subject
        self.attribute_weights = attribute_weights
        self.epoch = int(epoch)
        self._params: dict[int, IdentityParams] = {}

    def set_epoch(self, epoch: int):
        """Later epochs draw new images (image index offset by epoch * images_per_identity)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.identities) * self.images_per_identity

    def identity_params(self, identity: int) -> IdentityParams:
        if identity not in self._params:
            self._params[identity] = IdentityParams.sample(self.seed, identity)
        return self._params[identity]

    def render_item(self, index: int) -> tuple[IdentityParams, RenderedImage, RenderedImage | None, int]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        ident = self.identities[index // self.images_per_identity]
        image = index % self.images_per_identity + self.epoch * self.images_per_identity
        ip = self.identity_params(ident)
        rng = image_rng(self.seed, ident, image)
        attrs = Attributes.sample(rng, self.attribute_weights)
        r = render(ip, attrs, self.size, rng)
        ref = None
        if self.with_reference:
            ref = render_reference(ip, self.reference_size, image_rng(self.seed, ident, image, _REFERENCE_STREAM))
        return ip, r, ref, ident

    def __getitem__(self, index: int) -> dict:
        ip, r, ref, ident = self.render_item(int(index))
        subject = ip.describe() if self.subject == "describe" else self.subject
        item = {
            "image": to_tensor(r.image),
            "mask": torch.from_numpy(r.face_mask.copy()),
            "face_box": torch.tensor(r.face_box, dtype=torch.int64),
            "caption": caption(r.attributes, subject),
            "placeholder_caption": caption(r.attributes, PLACEHOLDER),
            "identity": ident,
            "labels": torch.tensor(r.attributes.labels(), dtype=torch.int64),
        }
        if ref is not None:
            item["reference"] = to_tensor(ref.image)
            item["reference_mask"] = torch.from_numpy(ref.face_mask.copy())
        return item

