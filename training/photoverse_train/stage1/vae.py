"""Stage 1a: the tiny AutoencoderKL (factor 2^(blocks-1): v1 64x64x3 <-> 16x16x4 with 3 blocks,
v2 128x128x3 <-> 16x16x8 with 4 blocks, SD's factor 8 and 8 latent channels).

Loss: L1 reconstruction + kl_weight * KL (summed over latent elements, mean over the batch)
+ grad_weight * L1 of image gradients (optional edge sharpening); face_weight > 0 weights both
image terms by (1 + face_weight * face mask).
Most steps train on random crops (`crop` pixels; the VAE is convolutional, so a crop costs a
fraction of a full image), the last `full_steps` on whole 64x64 images. At the end the latent
scaling factor is measured (1 / std of posterior samples over `scale_images` train images) and
written into vae/config.json, and the held-out reconstruction PSNR is reported."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKL

from ..common import dist
from ..common.checkpoint import checkpoint_reached, is_done, mark_done
from ..common.datacache import to_float
from ..common.loop import Task, batch_indices, run
from ..common.progress import LOG
from .common import param_count, save_grid
from .models import build_vae


def _random_crops(x: torch.Tensor, crop: int, g: torch.Generator, factor: int = 4, mask: torch.Tensor | None = None):
    """Random crops at multiples of the VAE factor; with `mask` (N, 1, H, W) returns (crops, mask crops)."""
    n, _, h, w = x.shape
    if crop >= h:
        return x if mask is None else (x, mask)
    ys = torch.randint(0, (h - crop) // factor + 1, (n,), generator=g) * factor
    xs = torch.randint(0, (w - crop) // factor + 1, (n,), generator=g) * factor
    out = torch.stack([x[i, :, ys[i]:ys[i] + crop, xs[i]:xs[i] + crop] for i in range(n)])
    if mask is None:
        return out
    return out, torch.stack([mask[i, :, ys[i]:ys[i] + crop, xs[i]:xs[i] + crop] for i in range(n)])


def edge_l1(a: torch.Tensor, b: torch.Tensor, weight=1.0) -> torch.Tensor:
    """Mean L1 distance of horizontal and vertical finite differences (optionally weighted per
    pixel: `weight` (N, 1, H, W) or a number)."""
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    if isinstance(weight, torch.Tensor):
        wx, wy = weight[..., :, 1:], weight[..., 1:, :]
    else:
        wx = wy = weight
    return 0.5 * (((dx(a) - dx(b)).abs() * wx).mean() + ((dy(a) - dy(b)).abs() * wy).mean())


def reconstruction_loss(rec: torch.Tensor, x: torch.Tensor, weight, grad_weight: float, post=None,
                        kl_weight: float = 0.0) -> tuple:
    """The VAE's reconstruction terms, shared with the adversarial stage: L1 (+ kl_weight * KL of
    the posterior `post`, when given) (+ grad_weight * edge L1), the image terms weighted per pixel
    by `weight`. Returns (loss, logs)."""
    l1 = ((rec - x).abs() * weight).mean()
    loss, logs = l1, {"l1": float(l1.detach())}
    if post is not None:
        kl = post.kl().mean()  # summed over latent elements, mean over the batch
        loss = loss + kl_weight * kl
        logs["kl"] = float(kl.detach())
    if grad_weight:  # L1 between image gradients: sharper edges, no perceptual network needed
        edge = edge_l1(rec, x, weight)
        loss = loss + grad_weight * edge
        logs["edge"] = float(edge.detach())
    return loss, logs


@torch.no_grad()
def psnr(vae, images: torch.Tensor, batch: int = 64) -> float:
    errs = []
    dev = next(vae.parameters()).device
    for a in range(0, len(images), batch):
        x = images[a:a + batch].to(dev)
        rec = vae.decode(vae.encode(x).latent_dist.mode()).sample.clamp(-1, 1)
        errs.append(((rec - x) * 0.5).pow(2).flatten(1).mean(1).cpu())
    mse = torch.cat(errs)
    return float((10 * torch.log10(1.0 / mse.clamp_min(1e-10))).mean())


@torch.no_grad()
def measure_scaling_factor(vae, images: torch.Tensor, batch: int = 64, seed: int = 0) -> float:
    g = torch.Generator().manual_seed(seed)
    zs = []
    dev = next(vae.parameters()).device
    for a in range(0, len(images), batch):
        dist_ = vae.encode(images[a:a + batch].to(dev)).latent_dist
        mean, std = dist_.mean.cpu(), dist_.std.cpu()
        zs.append(mean + std * torch.randn(mean.shape, generator=g))
    return float(1.0 / torch.cat(zs).std())


def train_vae(cfg: dict, train: dict, heldout: dict, out_dir, work_dir, resume=True, checkpoint_seconds=300,
              stop_after=None):
    """cfg: the `vae` section. Writes out_dir (diffusers AutoencoderKL folder + DONE.json)."""
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    if is_done(out_dir):
        LOG.info(f"[vae] done already: {out_dir}")
        return AutoencoderKL.from_pretrained(out_dir)
    tc = cfg["train"]
    seed = int(tc.get("seed", 0))
    torch.manual_seed(seed)
    vae = build_vae(cfg["model"])
    dev = dist.device()
    LOG.info(f"[vae] {param_count(vae) / 1e6:.2f}M parameters on {dev}")
    images = train["images"]
    n = len(images)
    batch, crop = int(tc["batch"]), int(tc.get("crop", 0) or images.shape[1])
    full_steps, steps = int(tc.get("full_steps", 0)), int(tc["steps"])
    kl_weight = float(tc.get("kl_weight", 1e-6))
    grad_weight = float(tc.get("grad_weight", 0.0))
    # face_weight: the L1 (and edge) error inside the face mask counts (1 + face_weight) times, so
    # the latents spend their capacity on eyes, mouth and brows rather than on backgrounds
    face_weight = float(tc.get("face_weight", 0.0))
    factor = 2 ** (len(cfg["model"]["block_out_channels"]) - 1)
    masks = train.get("masks") if face_weight else None
    per = max(1, len(heldout["images"]) // 8)
    fixed = to_float(heldout["images"][::per][:8])  # 8 different held-out identities

    def loss_fn(step, g):
        idx = batch_indices(seed, step, batch, n)
        x = to_float(images[idx])
        m = torch.from_numpy(masks[idx]).float().div_(255.0)[:, None] if masks is not None else None
        # crop phase, then full images; crops and noise are drawn for the global batch, then
        # each rank takes its share, so every world size follows the same trajectory
        if step < steps - full_steps:
            if m is None:
                x = _random_crops(x, crop, g, factor)
            else:
                x, m = _random_crops(x, crop, g, factor, m)
        x = dist.shard(x).to(dev)
        weight = 1.0 if m is None else 1.0 + face_weight * dist.shard(m).to(dev)
        post = vae.encode(x).latent_dist
        eps = torch.randn((batch,) + tuple(post.mean.shape[1:]), generator=g)
        z = post.mean + post.std * dist.shard(eps).to(dev)
        return reconstruction_loss(vae.decode(z).sample, x, weight, grad_weight, post, kl_weight)

    def sample_fn(step):
        rec = vae.decode(vae.encode(fixed.to(dev)).latent_dist.mode()).sample
        save_grid(work_dir / "samples" / f"vae-{step:06d}.png", [fixed, rec], scale=3)

    task = Task("vae", vae, list(vae.parameters()), loss_fn, steps, float(tc["lr"]), warmup=int(tc.get("warmup", 100)),
                sample_fn=sample_fn, sample_every=int(tc.get("sample_every", 500)), log_every=int(tc.get("log_every", 50)),
                seed=seed)
    run(task, work_dir / "checkpoints" / "vae.pt", checkpoint_seconds, resume, stop_after)
    if stop_after is not None and not checkpoint_reached(work_dir / "checkpoints" / "vae.pt", steps):
        return vae.to("cpu")
    vae.eval()
    held = to_float(heldout["images"][: int(tc.get("eval_images", 256))])
    scale_imgs = to_float(images[: int(tc.get("scale_images", 1024))])
    sf = measure_scaling_factor(vae, scale_imgs, seed=seed)
    p = psnr(vae, held)
    vae.register_to_config(scaling_factor=sf)
    vae.to("cpu")  # saved and handed on as CPU modules; the next stage moves what it uses
    if dist.is_main():
        vae.save_pretrained(out_dir, safe_serialization=True)
        mark_done(out_dir, {"psnr_heldout_db": p, "scaling_factor": sf, "steps": steps})
    LOG.info(f"[vae] held-out PSNR {p:.2f} dB, scaling_factor {sf:.4f} -> {out_dir}")
    dist.barrier()
    return vae
