"""The latent preview's colour map for a model folder: vae/latent_preview.json.

The app's cheapest step preview (`--preview latent`) multiplies each latent pixel by a
(channels x 3) matrix and adds a bias, so it costs nothing per step. SD1.x's community-measured
matrix only fits SD's own latent space; a model with its own VAE (PhotoVerse-mini) needs its own,
and an 8-channel latent has no SD matrix at all. This fits it by least squares: latents as the
UNet sees them (the encoder's mean times scaling_factor) against the image averaged over each
latent pixel's patch, in [-1, 1]. The Swift side shows (rgb + 1) / 2 clamped to [0, 1].

File (the key names are ComfyUI's for the same matrix; the app needs only the first, the bias
defaults to 0):
  {"latent_rgb_factors": [[r, g, b], ... one row per latent channel],
   "latent_rgb_factors_bias": [r, g, b], "fitted_on": "...", "rms_error": e}
The export fits it on the data cache's held-out images; the command below, for a folder exported
before, on fresh renderings of the config's held-out identities (the same people and drawing).

Command (adds the file to a model folder that was exported before it existed):
  python -m photoverse_train.latent_preview --model ../Models/mini --config configs/mini_v1.yaml"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL

from .common.checkpoint import write_json
from .common.config import REPO_ROOT, load_config
from .common.datacache import split_ids
from .data.dataset import to_tensor
from .data.synthetic_faces import sample_image

FILE_NAME = "latent_preview.json"

@torch.no_grad()
def latents_and_targets(vae: AutoencoderKL, images: torch.Tensor, batch: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """images (N, 3, H, W) in [-1, 1] -> latents (N*h*w, C) as the UNet sees them and the
    images averaged over each latent pixel's patch (N*h*w, 3). Turns `vae` into float32 in place."""
    vae = vae.float().eval()
    zs, ts = [], []
    for i in range(0, len(images), batch):
        x = images[i:i + batch].float()
        z = vae.encode(x).latent_dist.mean * vae.config.scaling_factor
        t = F.adaptive_avg_pool2d(x, z.shape[-2:])
        zs.append(z.permute(0, 2, 3, 1).reshape(-1, z.shape[1]))
        ts.append(t.permute(0, 2, 3, 1).reshape(-1, 3))
    return torch.cat(zs).double(), torch.cat(ts).double()


def fit(latents: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least squares rgb ~ latents @ factors + bias: factors (C, 3), bias (3,)."""
    design = torch.cat([latents, torch.ones(len(latents), 1, dtype=latents.dtype)], dim=1)
    solution = torch.linalg.lstsq(design, targets).solution
    return solution[:-1], solution[-1]


def rms_error(latents: torch.Tensor, targets: torch.Tensor, factors: torch.Tensor, bias: torch.Tensor) -> float:
    """Root mean square error of the preview in display units ([0, 1], after clamping)."""
    shown = ((latents @ factors + bias).clamp(-1, 1) + 1) / 2
    return float((shown - (targets + 1) / 2).pow(2).mean().sqrt())


def write(vae_folder, factors: torch.Tensor, bias: torch.Tensor, fitted_on: str, error: float) -> Path:
    path = Path(vae_folder) / FILE_NAME
    write_json(path, {"latent_rgb_factors": [[round(float(v), 6) for v in row] for row in factors],
                      "latent_rgb_factors_bias": [round(float(v), 6) for v in bias],
                      "fitted_on": fitted_on, "rms_error": round(error, 5)})
    return path


def fit_and_write(vae: AutoencoderKL, images: torch.Tensor, vae_folder, fitted_on: str) -> float:
    """Fits the map on `images` and writes vae_folder/latent_preview.json; returns the RMS error."""
    z, t = latents_and_targets(vae, images)
    factors, bias = fit(z, t)
    error = rms_error(z, t, factors, bias)
    write(vae_folder, factors, bias, fitted_on, error)
    return error


def heldout_images(data_cfg: dict, count: int) -> torch.Tensor:
    """`count` renderings of the config's held-out identities (one image each, round robin)."""
    _, held = split_ids(data_cfg)
    seed, size = int(data_cfg.get("seed", 0)), int(data_cfg.get("size", 64))
    weights = data_cfg.get("attribute_weights") or None
    picks = [(held[i % len(held)], i // len(held)) for i in range(count)]
    return torch.stack([to_tensor(sample_image(seed, ident, img, size=size, attribute_weights=weights).rendered.image)
                        for ident, img in picks])


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO_ROOT / "Models" / "mini"), help="diffusers-layout model folder")
    ap.add_argument("--config", required=True, help="the training config whose data section made the model")
    ap.add_argument("--images", type=int, default=256, help="held-out renderings to fit on")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    vae_folder = Path(args.model) / "vae"
    if not (vae_folder / "config.json").exists():
        raise SystemExit(f"{vae_folder}: no VAE (config.json) in this model folder")
    vae = AutoencoderKL.from_pretrained(vae_folder, torch_dtype=torch.float32)
    images = heldout_images(load_config(args.config)["data"], args.images)
    error = fit_and_write(vae, images, vae_folder, f"{args.images} held-out renderings of {Path(args.config).name}")
    print(f"{vae_folder / FILE_NAME}: rms error {error:.4f} (display units)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
