"""Export of the mini model to a diffusers-layout folder (fp16 safetensors by default):

  model_index.json, unet/, vae/, text_encoder/, image_encoder/,
  tokenizer/{vocab.json,merges.txt,tokenizer_config.json},
  scheduler/scheduler_config.json (SD1.5's PNDMScheduler config, as in every SD1.x folder)

Stage 1 goes to <work>/export/mini-base/; the final Models/mini/ (with the adapters) comes after
stage 2. The folder loads with diffusers.StableDiffusionPipeline.from_pretrained and in the Swift
engine unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import diffusers
import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPVisionModelWithProjection

from . import latent_preview
from .common.checkpoint import read_done, write_json
from .stage1.models import SD15_SCHEDULER
from .stage1.unet import vae_fingerprint

MODEL_INDEX = {
    "_class_name": "StableDiffusionPipeline",
    "feature_extractor": [None, None],
    "image_encoder": ["transformers", "CLIPVisionModelWithProjection"],
    "requires_safety_checker": False,
    "safety_checker": [None, None],
    "scheduler": ["diffusers", "PNDMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}


# SD1.5's tokenizer/tokenizer_config.json: makes CLIPTokenizer.from_pretrained (and so diffusers
# pipelines) pad and truncate to 77 tokens with <|endoftext|>.
TOKENIZER_CONFIG = {
    "add_prefix_space": False, "bos_token": "<|startoftext|>", "do_lower_case": True, "eos_token": "<|endoftext|>",
    "errors": "replace", "model_max_length": 77, "pad_token": "<|endoftext|>", "tokenizer_class": "CLIPTokenizer",
    "unk_token": "<|endoftext|>",
}

STAGE1_PATHS = {"vae": "vae", "unet": "unet", "text_encoder": "clip/text_encoder",
                "image_encoder": "clip/image_encoder"}


def scheduler_config() -> dict:
    cfg = {k: v for k, v in SD15_SCHEDULER.items() if k not in ("prediction_type",)}
    cfg["_class_name"] = "PNDMScheduler"
    cfg["_diffusers_version"] = diffusers.__version__
    return cfg


def export_base(stage1_dir, tokenizer_dir, out_dir, dtype: torch.dtype = torch.float16, vae_dir=None,
                preview_images: torch.Tensor | None = None) -> Path:
    """stage1_dir holds vae/, unet/, clip/text_encoder/, clip/image_encoder/ as the trainers
    saved them (float32); vae_dir (default stage1_dir/vae) is the VAE to ship (the fine-tuned
    decoder's folder when there is one); preview_images (N, 3, H, W) in [-1, 1], when given, fit
    the VAE's latent preview colours (vae/latent_preview.json, latent_preview.py); out_dir is
    replaced atomically (written to a sibling, then renamed)."""
    stage1_dir, out_dir = Path(stage1_dir), Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for name, cls in (("vae", AutoencoderKL), ("unet", UNet2DConditionModel), ("text_encoder", CLIPTextModel),
                      ("image_encoder", CLIPVisionModelWithProjection)):
        src = Path(vae_dir) if name == "vae" and vae_dir is not None else stage1_dir / STAGE1_PATHS[name]
        if not src.exists():
            raise FileNotFoundError(f"{src}: stage 1 has not produced {name} yet")
        m = cls.from_pretrained(src)
        if name == "vae":  # the UNet's DONE.json names the latent space it learned (older ones do not)
            trained_on = read_done(stage1_dir / STAGE1_PATHS["unet"]).get("vae")
            if trained_on not in (None, vae_fingerprint(m)):
                shutil.rmtree(tmp)
                raise SystemExit(f"{src}: not the latent space the UNet was trained on ({trained_on}, this VAE's "
                                 f"{vae_fingerprint(m)}); ship the VAE the UNet trained on, or one whose decoder "
                                 "alone was fine-tuned from it")
        m = m.to(dtype)
        m.save_pretrained(tmp / name, safe_serialization=True)
        if name == "vae" and preview_images is not None:
            latent_preview.fit_and_write(m, preview_images, tmp / name, f"{len(preview_images)} held-out images")
    (tmp / "tokenizer").mkdir()
    for f in ("vocab.json", "merges.txt"):
        shutil.copyfile(Path(tokenizer_dir) / f, tmp / "tokenizer" / f)
    write_json(tmp / "tokenizer" / "tokenizer_config.json", TOKENIZER_CONFIG)
    write_json(tmp / "scheduler" / "scheduler_config.json", scheduler_config())
    write_json(tmp / "model_index.json", {**MODEL_INDEX, "_diffusers_version": diffusers.__version__})
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return out_dir


def folder_size(path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
