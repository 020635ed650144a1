"""The frozen base model (a diffusers-layout folder: unet/, vae/, text_encoder/, tokenizer/,
image_encoder/, scheduler/) and the PhotoVerse model built on it; a masked reference
(common/masking.py) as the encoder's pixel values: FORMAT.md section 3, resize/crop to
image_size (a no-op at the data's size), x/255, (x - mean) / std."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKL, DDIMScheduler, DDPMScheduler, UNet2DConditionModel
from PIL import Image
from torch import nn
from transformers import CLIPTextModel, CLIPTokenizer, CLIPVisionModelWithProjection

from ..model import PhotoVerseConfig, PhotoVerseModel
from ..model.image_features import CLIP_MEAN, CLIP_STD, preprocess
from ..stage1.models import SD15_SCHEDULER

def reference_pixels(masked_u8: np.ndarray, image_size: int, mean=CLIP_MEAN, std=CLIP_STD) -> torch.Tensor:
    """uint8 (N, H, W, 3) masked references -> pixel_values (N, 3, S, S), FORMAT.md section 3."""
    if masked_u8.shape[1] != image_size or masked_u8.shape[2] != image_size:
        return preprocess([Image.fromarray(a) for a in masked_u8], image_size, mean, std)
    x = masked_u8.astype(np.float32) / 255.0
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def load_base(base_dir, dtype: torch.dtype = torch.float32) -> dict:
    """All parts of a base folder, frozen, in eval mode, as float32 (the folder may be fp16)."""
    base_dir = Path(base_dir)
    if not (base_dir / "model_index.json").exists():
        raise FileNotFoundError(f"{base_dir}: not a diffusers model folder (no model_index.json); run stage 1 first")
    parts = {
        "unet": UNet2DConditionModel.from_pretrained(base_dir / "unet", torch_dtype=dtype),
        "vae": AutoencoderKL.from_pretrained(base_dir / "vae", torch_dtype=dtype),
        "text_encoder": CLIPTextModel.from_pretrained(base_dir / "text_encoder", dtype=dtype),
        "image_encoder": CLIPVisionModelWithProjection.from_pretrained(base_dir / "image_encoder", dtype=dtype),
        "tokenizer": CLIPTokenizer(str(base_dir / "tokenizer" / "vocab.json"), str(base_dir / "tokenizer" / "merges.txt")),
    }
    for k in ("unet", "vae", "text_encoder", "image_encoder"):
        parts[k].requires_grad_(False)
        parts[k].eval()
    sched = base_dir / "scheduler" / "scheduler_config.json"
    parts["scheduler_config"] = json.loads(sched.read_text()) if sched.exists() else None
    return parts


def photoverse_config(model_cfg: dict, base_model: str = "") -> PhotoVerseConfig:
    """The `model` section of a stage-2 config -> PhotoVerseConfig."""
    return PhotoVerseConfig(
        encoder_layers=[int(x) for x in model_cfg["encoder_layers"]],
        adapter_hidden=int(model_cfg["adapter_hidden"]),
        lora_rank=int(model_cfg.get("lora_rank", 4)),
        base_model=base_model,
        image_size=model_cfg.get("image_size"),
    )


def build_model(parts: dict, model_cfg: dict, base_model: str = "", seed: int = 0) -> PhotoVerseModel:
    """A PhotoVerseModel on the (frozen) base parts, adapters initialised from `seed`. With
    model_cfg["init_ip_from_text"] (default true) every attn2's to_k_ip / to_v_ip starts as a copy
    of its to_k / to_v (IP-Adapter's initialisation: image tokens are read like text tokens from
    the first step); LoRA B starts at zero (the reference's default)."""
    torch.manual_seed(seed)
    model = PhotoVerseModel(parts["unet"], parts["text_encoder"], parts["tokenizer"], parts["image_encoder"],
                            photoverse_config(model_cfg, base_model))
    if model_cfg.get("init_ip_from_text", True):
        with torch.no_grad():
            for path in model.attn2_names:
                attn, proc = parts["unet"].get_submodule(path), model.processor(path)
                if proc.to_k_ip is not None:
                    proc.to_k_ip.weight.copy_(attn.to_k.weight)
                    proc.to_v_ip.weight.copy_(attn.to_v.weight)
    return model


class Trainable(nn.Module):
    """Only what stage 2 trains (so a checkpoint holds the adapters, to_k_ip/to_v_ip and LoRA,
    not the frozen base): text_adapter, image_adapter, processors (every attn2's)."""

    def __init__(self, model: PhotoVerseModel):
        super().__init__()
        self.text_adapter = model.text_adapter
        self.image_adapter = model.image_adapter
        self.processors = model.processors


def base_parameter_ids(parts: dict, model: PhotoVerseModel | None = None) -> set:
    """ids of the frozen base parameters (the attn2 processors installed in the UNet by `model`
    are its trainable parameters, not the base's)."""
    own = {id(p) for p in model.trainable_parameters()} if model is not None else set()
    return {id(p) for k in ("unet", "vae", "text_encoder", "image_encoder") for p in parts[k].parameters()} - own


def ddim_scheduler(scheduler_config: dict | None):
    """DDIM with the base folder's schedule (SD1.5: scaled_linear 0.00085..0.012, leading, offset 1)."""
    cfg = {k: v for k, v in (scheduler_config or SD15_SCHEDULER).items() if not k.startswith("_")}
    return DDIMScheduler.from_config(cfg)


def train_alphas_cumprod(scheduler_config: dict | None) -> torch.Tensor:
    cfg = {k: v for k, v in (scheduler_config or SD15_SCHEDULER).items() if not k.startswith("_")}
    return DDPMScheduler.from_config(cfg).alphas_cumprod.float()
