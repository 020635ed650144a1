"""Reference image -> CLIP vision features of chosen layers (the input of both adapters).

Preprocessing (what transformers' CLIPImageProcessor does, written out so the Swift engine can
follow it step by step):
  1. RGB, 8 bits per channel.
  2. Resize so the SHORTER side is `image_size` (the other side: int(image_size * long / short)),
     PIL BICUBIC (a = -0.5, antialiased: the kernel support grows with the downscale factor),
     on the uint8 image; the result is uint8 again (PIL rounds and clamps).
  3. Center crop image_size x image_size: top = (h - size) // 2, left = (w - size) // 2.
  4. x / 255, then (x - mean[c]) / std[c] with CLIP's mean/std; CHW, float32.

Feature list (order matters: adapter i reads entry i):
    [last_hidden_state, hidden_states[l] for l in layers]      (layer -1 = last_hidden_state)
where hidden_states[0] is the embedding output after pre_layrnorm and hidden_states[k] the output
of encoder layer k (1-based), as transformers' CLIPVisionModel(output_hidden_states=True) returns
them. last_hidden_state has NO post_layernorm (it equals hidden_states[num_layers]).
SD1.x / the paper: layers [4, 8, 12, 16] of ViT-L/14 -> encoder_layers "-1,4,8,12,16" (m = 5).

IP-Adapter instead reads CLIPVisionModelWithProjection's image_embeds
= visual_projection(post_layernorm(last_hidden_state[:, 0])).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def resize_and_crop(image, image_size: int):
    """PIL image -> PIL RGB image_size x image_size (steps 1-3 above)."""
    image = image.convert("RGB")
    w, h = image.size
    if w <= h:
        nw, nh = image_size, int(image_size * h / w)
    else:
        nw, nh = int(image_size * w / h), image_size
    if (nw, nh) != (w, h):
        image = image.resize((nw, nh), Image.Resampling.BICUBIC)
    top = (nh - image_size) // 2
    left = (nw - image_size) // 2
    return image.crop((left, top, left + image_size, top + image_size))


def preprocess(images, image_size: int, mean: Sequence[float] = CLIP_MEAN, std: Sequence[float] = CLIP_STD) -> torch.Tensor:
    """PIL image or list of them -> pixel_values [N, 3, image_size, image_size] float32."""
    if not isinstance(images, (list, tuple)):
        images = [images]
    out = []
    for im in images:
        arr = np.asarray(resize_and_crop(im, image_size), dtype=np.float32) / 255.0
        arr = (arr - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
        out.append(torch.from_numpy(arr.transpose(2, 0, 1).copy()))
    return torch.stack(out)


def _vision_tower(encoder: nn.Module) -> nn.Module:
    """CLIPVisionModelWithProjection keeps the tower in .vision_model; CLIPVisionModel is the tower."""
    return getattr(encoder, "vision_model", encoder)


class VisionFeatures(nn.Module):
    """A frozen CLIP vision encoder returning the feature list (and image_embeds when the encoder
    has a visual_projection)."""

    def __init__(self, encoder: nn.Module, layers: Iterable[int]):
        super().__init__()
        self.encoder = encoder
        self.layers = [int(l) for l in layers]
        if not self.layers:
            raise ValueError("at least one encoder layer")
        n = _vision_tower(encoder).config.num_hidden_layers
        for l in self.layers:
            if l != -1 and not 0 <= l <= n:
                raise ValueError(f"encoder layer {l} out of range (-1 or 0..{n})")
        encoder.requires_grad_(False)
        encoder.eval()

    def train(self, mode: bool = True):  # the encoder stays frozen and in eval mode
        super().train(mode)
        self.encoder.eval()
        return self

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @torch.no_grad()
    def forward(self, pixel_values: torch.Tensor, with_embeds: bool = False):
        tower = _vision_tower(self.encoder)
        out = tower(pixel_values=pixel_values, output_hidden_states=True)
        feats = [out.last_hidden_state if l == -1 else out.hidden_states[l] for l in self.layers]
        if not with_embeds:
            return feats
        proj = getattr(self.encoder, "visual_projection", None)
        if proj is None:
            raise ValueError("image_embeds need CLIPVisionModelWithProjection (visual_projection)")
        return feats, proj(out.pooler_output)

    def image_embeds(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.forward(pixel_values, with_embeds=True)[1]


def average_references(features: Sequence[torch.Tensor]) -> list:
    """Several reference photos of one person: features of R images (each tensor [R, N, C]) ->
    their mean over the R images, per layer ([1, N, C]). The adapters then run once."""
    return [f.mean(dim=0, keepdim=True) for f in features]


def encoder_layers_string(layers: Sequence[int]) -> str:
    return ",".join(str(int(l)) for l in layers)


def parse_encoder_layers(text: str) -> list:
    return [int(x) for x in text.split(",") if x.strip()]
