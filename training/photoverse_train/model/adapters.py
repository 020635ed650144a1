"""MultiAdapter: the ELITE "global mapper" shape, used for both PhotoVerse branches.

For every encoder layer i (i = 0..m-1, in the order of the feature list, see image_features.py)
two MLPs of the same shape

    Linear(in, h) - LayerNorm(h) - LeakyReLU(0.01) - Linear(h, h) - LayerNorm(h) - LeakyReLU(0.01) - Linear(h, out)

(Sequential indices 0..6; the parameters live at 0, 1, 3, 4, 6):

    mapping_{i}        applied to the CLS token            features_i[:, :1]
    mapping_patch_{i}  applied to every patch token        features_i[:, 1:], then averaged over the
                       tokens AFTER the MLP (mean over dim 1, keepdim)

    token_i = mapping_i(cls) + mean(mapping_patch_i(patches))          -> [B, 1, out]
    output  = cat(token_0 .. token_{m-1}, dim=1)                       -> [B, m, out]

This is ELITE's `Mapper` (csyxwei/ELITE, train_global.py), whose hidden width is fixed at 1024;
here h is a parameter (the paper: in 1024, h 1024, out 768). LeakyReLU uses PyTorch's default
negative slope 0.01, LayerNorm eps 1e-5 (PyTorch's default), as ELITE does.
"""

from __future__ import annotations

import re
from typing import Sequence

import torch
from torch import nn

LEAKY_SLOPE = 0.01
LAYER_NORM_EPS = 1e-5


def mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        nn.LayerNorm(hidden_dim, eps=LAYER_NORM_EPS),
        nn.LeakyReLU(LEAKY_SLOPE),
        nn.Linear(hidden_dim, hidden_dim),
        nn.LayerNorm(hidden_dim, eps=LAYER_NORM_EPS),
        nn.LeakyReLU(LEAKY_SLOPE),
        nn.Linear(hidden_dim, out_dim),
    )


class MultiAdapter(nn.Module):
    """m per-layer adapters; features (a list of m tensors [B, 1+N, in]) -> [B, m, out]."""

    def __init__(self, num_layers: int, in_dim: int, hidden_dim: int, out_dim: int):
        super().__init__()
        if num_layers < 1:
            raise ValueError("num_layers must be >= 1")
        self.num_layers = num_layers
        self.in_dim, self.hidden_dim, self.out_dim = in_dim, hidden_dim, out_dim
        for i in range(num_layers):
            setattr(self, f"mapping_{i}", mlp(in_dim, hidden_dim, out_dim))
            setattr(self, f"mapping_patch_{i}", mlp(in_dim, hidden_dim, out_dim))

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(features) != self.num_layers:
            raise ValueError(f"expected {self.num_layers} feature tensors, got {len(features)}")
        tokens = []
        for i, emb in enumerate(features):
            cls = getattr(self, f"mapping_{i}")(emb[:, :1])
            patches = getattr(self, f"mapping_patch_{i}")(emb[:, 1:]).mean(dim=1, keepdim=True)
            tokens.append(cls + patches)
        return torch.cat(tokens, dim=1)

    @staticmethod
    def shape_from_state_dict(sd: dict, prefix: str = "") -> tuple:
        """(num_layers, in_dim, hidden_dim, out_dim) read from a state dict with keys
        `{prefix}mapping_{i}.{0,1,3,4,6}.{weight,bias}` (and mapping_patch_{i})."""
        pat = re.compile(re.escape(prefix) + r"mapping_(\d+)\.0\.weight$")
        idx = sorted(int(m.group(1)) for k in sd if (m := pat.match(k)))
        if not idx:
            raise ValueError(f"no '{prefix}mapping_<i>.0.weight' in the state dict")
        if idx != list(range(len(idx))):
            raise ValueError(f"mapping indices are not 0..{len(idx) - 1}: {idx}")
        w0 = sd[f"{prefix}mapping_0.0.weight"]
        w6 = sd[f"{prefix}mapping_0.6.weight"]
        return len(idx), int(w0.shape[1]), int(w0.shape[0]), int(w6.shape[0])

    @classmethod
    def from_state_dict(cls, sd: dict, prefix: str = "") -> "MultiAdapter":
        n, i, h, o = cls.shape_from_state_dict(sd, prefix)
        module = cls(n, i, h, o)
        own = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
        module.load_state_dict({k: v.float() for k, v in own.items()}, strict=True)
        return module
