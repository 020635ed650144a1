"""Batched guided sampling of many (reference, prompt, noise) triples at once: what evaluation
and the training sample grids use. Per row the same math as PhotoVerseModel.generate with
s_I = s_T = guidance, uncond_image "zero_tokens" (two UNet rows per sample: [negative prompt +
zero image tokens, prompt + image tokens]), but each sample has its own reference (no averaging)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def noise_for(seed: int, identity: int, prompt_index: int, shape) -> torch.Tensor:
    """The initial latents of one evaluation sample: the same for every row of the table, so
    rows are compared on identical noise."""
    s = int(np.random.default_rng([int(seed), int(identity), int(prompt_index), 0xE7A1]).integers(2**62))
    return torch.randn(tuple(shape), generator=torch.Generator().manual_seed(s))


@torch.no_grad()
def generate_batch(model, vae, scheduler, prompts: Sequence[str], noise: torch.Tensor,
                   reference_pixels: torch.Tensor | None = None, negative_prompt: str = "",
                   gamma: float = 1.0, sigma: float = 1.0, alpha: float = 1.0, guidance: float = 7.5,
                   steps: int = 25, num_words: int | None = None, decode: bool = True) -> torch.Tensor:
    """prompts [N] (with or without S*), noise [N, C, h, w] (unscaled standard normal),
    reference_pixels [N, 3, S, S] or None. Returns images [N, 3, H, W] in [-1, 1] (or the final
    latents with decode=False), on the CPU; the work runs on the UNet's device."""
    dev = next(model.unet.parameters()).device
    noise = noise.to(dev)
    if reference_pixels is not None:
        reference_pixels = reference_pixels.to(dev)
    n = len(prompts)
    pw = tokens = None
    if reference_pixels is not None:
        feats, embeds = model.features(reference_pixels)
        if model.text_adapter is not None and any(model.config.placeholder in p for p in prompts):
            pw = model.pseudo_words(feats)
        if sigma != 0:
            tokens = model.image_tokens(feats, embeds)
    cond = model.encode_prompts(list(prompts), pw, num_words)
    two = guidance > 1.0
    if two:
        uncond = model.encode_prompts([negative_prompt] * n)
        text = torch.cat([uncond, cond])
        img = torch.cat([torch.zeros_like(tokens), tokens]) if tokens is not None else None
    else:
        text, img = cond, tokens
    scheduler.set_timesteps(steps)
    latents = noise * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        x = torch.cat([latents, latents]) if two else latents
        x = scheduler.scale_model_input(x, t)
        eps = model(x, t, text, img, gamma, sigma if img is not None else 0.0, alpha)
        if two:
            e0, e1 = eps.chunk(2)
            eps = e0 + guidance * (e1 - e0)
        latents = scheduler.step(eps, t, latents).prev_sample
    if not decode:
        return latents.cpu()
    vae.to(dev)
    return vae.decode(latents / vae.config.scaling_factor).sample.clamp(-1, 1).cpu()
