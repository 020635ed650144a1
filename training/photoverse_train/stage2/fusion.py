"""Random fusion (PhotoVerse's per-sample branch choice) and the unconditional drop.

Per sample, two independent uniforms d, u (drawn in that order from the step's generator):

  d < p_uncond            UNCOND  no reference at all: zero image tokens (sigma = 0) and a caption
                                  without S*: "" with probability uncond_empty (the guidance's
                                  unconditional row, whose negative prompt is usually empty),
                                  otherwise the "a person" caption (plain prompts keep working
                                  with the LoRA on)                         gamma 1, sigma 0
  else u < p_text         TEXT    text branch only: S* caption (pseudo-words), image branch off
                                                                            gamma text_gamma (2), sigma 0
  else u > 1 - p_image    IMAGE   image branch only: the "a person" caption (no pseudo-words),
                                  image tokens on                           gamma image_gamma (1), sigma image_sigma (2)
  else                    BOTH    S* caption + image tokens                 gamma 1, sigma 1

The paper (DESIGN.md section 1): u < 1/3 text only with gamma = 2, u > 2/3 image only with
sigma = 2, else both with gamma = sigma = 1. "Text branch" = the pseudo-words in the prompt,
"image branch" = the image tokens of the decoupled attention; so text-only switches the image
attention off and image-only keeps the prompt's text attention (gamma 1) on a caption without
S*: the prompt still says what the picture shows, only the identity comes from the image
tokens. This is exactly the evaluation's "image branch only" row (prompt with "a person",
sigma = 1) and text-only is its "text branch only" row (S*, sigma = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

UNCOND, TEXT, IMAGE, BOTH = 0, 1, 2, 3
MODE_NAMES = ("uncond", "text", "image", "both")


@dataclass
class FusionConfig:
    p_uncond: float = 0.1
    p_text: float = 1.0 / 3.0
    p_image: float = 1.0 / 3.0
    text_gamma: float = 2.0
    image_sigma: float = 2.0
    image_gamma: float = 1.0
    uncond_empty: float = 0.5

    @classmethod
    def from_dict(cls, d: dict | None) -> "FusionConfig":
        d = dict(d or {})
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fusion keys {sorted(unknown)}")
        return cls(**{k: float(v) for k, v in d.items()})


@dataclass
class Fusion:
    mode: torch.Tensor          # [B] long: UNCOND / TEXT / IMAGE / BOTH
    gamma: torch.Tensor         # [B] float
    sigma: torch.Tensor         # [B] float
    empty_caption: torch.Tensor  # [B] bool (only UNCOND rows can be True)

    @property
    def uses_words(self) -> torch.Tensor:
        return (self.mode == TEXT) | (self.mode == BOTH)

    @property
    def uses_image(self) -> torch.Tensor:
        return (self.mode == IMAGE) | (self.mode == BOTH)

    @property
    def conditioned(self) -> torch.Tensor:
        return self.mode != UNCOND

    def counts(self) -> dict:
        return {n: int((self.mode == i).sum()) for i, n in enumerate(MODE_NAMES)}

    def captions(self, person_captions, placeholder_captions) -> list:
        """The caption of every row: S* caption where the pseudo-words are used, "" for dropped
        rows that chose the empty caption, the "a person" caption otherwise."""
        out = []
        for i, (p, s) in enumerate(zip(person_captions, placeholder_captions)):
            m = int(self.mode[i])
            if m in (TEXT, BOTH):
                out.append(s)
            elif m == UNCOND and bool(self.empty_caption[i]):
                out.append("")
            else:
                out.append(p)
        return out


def draw_fusion(n: int, generator: torch.Generator, cfg: FusionConfig | None = None) -> Fusion:
    cfg = cfg or FusionConfig()
    d = torch.rand(n, generator=generator)
    u = torch.rand(n, generator=generator)
    e = torch.rand(n, generator=generator)
    mode = torch.full((n,), BOTH, dtype=torch.long)
    mode[u < cfg.p_text] = TEXT
    mode[u > 1.0 - cfg.p_image] = IMAGE
    mode[d < cfg.p_uncond] = UNCOND
    gamma = torch.ones(n)
    sigma = torch.zeros(n)
    gamma[mode == TEXT] = cfg.text_gamma
    gamma[mode == IMAGE] = cfg.image_gamma
    sigma[mode == IMAGE] = cfg.image_sigma
    sigma[mode == BOTH] = 1.0
    empty = (mode == UNCOND) & (e < cfg.uncond_empty)
    return Fusion(mode, gamma, sigma, empty)
