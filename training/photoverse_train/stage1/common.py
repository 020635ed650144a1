"""Helpers shared by the stage-1 trainers: image grids, fixed sample sets, caption choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


def save_grid(path, rows, scale: int = 2):
    """rows: list of float tensors (N, 3, H, W) in [-1, 1] (or uint8 NHWC arrays); one grid row
    each, written as PNG (nearest-neighbour upscaled by `scale`)."""
    arrs = []
    for r in rows:
        if isinstance(r, torch.Tensor):
            r = ((r.detach().cpu().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        arrs.append(np.concatenate(list(r), axis=1))
    width = max(a.shape[1] for a in arrs)
    arrs = [np.pad(a, ((0, 0), (0, width - a.shape[1]), (0, 0))) for a in arrs]
    grid = np.concatenate(arrs, axis=0)
    img = Image.fromarray(grid)
    if scale != 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def choose_captions(data: dict, idx, generator: torch.Generator, p_describe: float) -> list[str]:
    """Per sample: the identity-describing caption with probability p_describe, else the
    "a person" caption."""
    u = torch.rand(len(idx), generator=generator)
    return [str(data["describe_captions"][i]) if u[j] < p_describe else str(data["captions"][i])
            for j, i in enumerate(idx)]


def param_count(m) -> int:
    return sum(p.numel() for p in m.parameters())
