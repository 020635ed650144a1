"""Stage 1 model builders: every part is a diffusers/transformers class built from a config
dict (the `model` section of a stage in training/configs/*.yaml), so the saved folders load in
diffusers, transformers and the Swift engine unchanged."""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from torch import nn
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, CLIPVisionConfig, CLIPVisionModelWithProjection

# openai CLIP image normalisation (CLIPImageProcessor defaults)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# SD1.5's scheduler/scheduler_config.json (DDPMScheduler / PNDM-family keys diffusers reads).
SD15_SCHEDULER = {
    "_class_name": "DDPMScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "trained_betas": None,
}


def build_vae(cfg: dict):
    n = len(cfg["block_out_channels"])
    kw = dict(cfg)
    kw.setdefault("down_block_types", ["DownEncoderBlock2D"] * n)
    kw.setdefault("up_block_types", ["UpDecoderBlock2D"] * n)
    return AutoencoderKL(**kw)


def build_text_encoder(cfg: dict):
    return CLIPTextModel(CLIPTextConfig(**cfg))


def build_vision_encoder(cfg: dict):
    return CLIPVisionModelWithProjection(CLIPVisionConfig(**cfg))


def build_unet(cfg: dict):
    return UNet2DConditionModel(**cfg)


def build_scheduler(cfg: dict | None = None):
    return DDPMScheduler.from_config({k: v for k, v in (cfg or SD15_SCHEDULER).items() if not k.startswith("_")})


def load_tokenizer(folder):
    """transformers CLIPTokenizer from a folder holding the real CLIP BPE vocab.json + merges.txt."""
    folder = Path(folder)
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))


def tokenize(tokenizer, texts, max_length: int = 77) -> torch.Tensor:
    return tokenizer(list(texts), padding="max_length", max_length=max_length, truncation=True,
                     return_tensors="pt").input_ids


class ClipPair(nn.Module):
    """The contrastive pair trained together (transformers CLIPModel's recipe): text tower +
    text_projection, vision tower + visual_projection, a learned logit scale. Saved separately as
    text_encoder/ (CLIPTextModel) and image_encoder/ (CLIPVisionModelWithProjection)."""

    def __init__(self, text_cfg: dict, vision_cfg: dict, projection_dim: int, logit_scale_init: float = 2.6592):
        super().__init__()
        self.text = build_text_encoder(text_cfg)
        self.vision = build_vision_encoder({**vision_cfg, "projection_dim": projection_dim})
        self.text_projection = nn.Linear(self.text.config.hidden_size, projection_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(float(logit_scale_init)))

    def encode_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        pooled = self.text(input_ids=input_ids).pooler_output
        return nn.functional.normalize(self.text_projection(pooled), dim=-1)

    def encode_image(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.vision(pixel_values=pixel_values).image_embeds, dim=-1)

    def logits(self, input_ids, pixel_values) -> torch.Tensor:
        t = self.encode_text(input_ids)
        v = self.encode_image(pixel_values)
        return self.logit_scale.clamp(max=4.6052).exp() * v @ t.t()


def clip_pixels(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """Images in [-1, 1] (N, 3, H, W) -> CLIP-normalised pixel values at image_size."""
    x = (images + 1.0) * 0.5
    if x.shape[-1] != image_size or x.shape[-2] != image_size:
        x = nn.functional.interpolate(x, size=(image_size, image_size), mode="bicubic", align_corners=False,
                                      antialias=True).clamp(0, 1)
    mean = torch.tensor(CLIP_MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std
