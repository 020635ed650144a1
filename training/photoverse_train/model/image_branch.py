"""Image branch: reference features -> image tokens f (the keys/values source of the decoupled
cross-attention, width = the UNet's cross_attention_dim).

- PhotoVerse: an image adapter of the MultiAdapter shape (adapters.py): m tokens, one per encoder
  layer of the feature list.
- IP-Adapter (SD1.5 "ip-adapter_sd15" layout): image_proj = Linear(image_embed_dim, T*C) then
  reshape [B, T, C] then LayerNorm(C) (eps 1e-5), T = 4, fed with CLIPVisionModelWithProjection's
  image_embeds. Its state dict keys here are the IP-Adapter file's: proj.weight/bias,
  norm.weight/bias (diffusers renames proj -> image_embeds in its ImageProjection).
"""

from __future__ import annotations

import torch
from torch import nn

from .adapters import MultiAdapter

ImageAdapter = MultiAdapter  # same shape, output width = cross_attention_dim


class IPAdapterImageProjection(nn.Module):
    def __init__(self, image_embed_dim: int, cross_attention_dim: int, num_tokens: int = 4):
        super().__init__()
        self.num_tokens = num_tokens
        self.proj = nn.Linear(image_embed_dim, num_tokens * cross_attention_dim)
        self.norm = nn.LayerNorm(cross_attention_dim)

    def forward(self, image_embeds: torch.Tensor) -> torch.Tensor:
        x = self.proj(image_embeds.to(self.proj.weight.dtype))
        return self.norm(x.reshape(image_embeds.shape[0], self.num_tokens, -1))

    @classmethod
    def from_state_dict(cls, sd: dict) -> "IPAdapterImageProjection":
        c = sd["norm.weight"].shape[0]
        out, d = sd["proj.weight"].shape
        module = cls(d, c, out // c)
        module.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
        return module
