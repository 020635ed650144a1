"""Writes a full-size SD1.5-shaped model folder with seeded random weights (fp16
safetensors, diffusers layout) for memory and speed measurements; no hub needed.

    .venv/bin/python training/bench/make_random_sd15.py OUT_DIR
"""
import json
import os
import shutil
import sys
from pathlib import Path

sys.modules.setdefault("torchvision", None)
import torch  # noqa: E402
from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def save(module_state, folder: Path, filename: str, config: dict):
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in module_state.items()}, str(folder / filename))
    (folder / "config.json").write_text(json.dumps(config, indent=2))


def main():
    out = Path(sys.argv[1])
    if out.exists():
        sys.exit(f"make_random_sd15: {out} already exists")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
    save(unet.state_dict(), out / "unet", "diffusion_pytorch_model.safetensors", dict(unet.config))
    del unet
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        sample_size=512)
    save(vae.state_dict(), out / "vae", "diffusion_pytorch_model.safetensors", dict(vae.config))
    del vae
    # SD1.5's text tower (openai/clip-vit-large-patch14); transformers' defaults are ViT-B's.
    text = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                        num_hidden_layers=12, projection_dim=768))
    state = {("text_model." + k if not k.startswith("text_model.") else k): v for k, v in text.state_dict().items()
             if not k.endswith("position_ids")}
    save(state, out / "text_encoder", "model.safetensors", {**text.config.to_dict(), "hidden_act": "quick_gelu"})
    shutil.copytree(ROOT / "Tests" / "Fixtures" / "clip-tokenizer", out / "tokenizer")
    shutil.copytree(ROOT / "Tests" / "Fixtures" / "tiny-sd" / "scheduler", out / "scheduler")
    (out / "model_index.json").write_text((ROOT / "Tests" / "Fixtures" / "tiny-sd" / "model_index.json").read_text())
    print(out)


if __name__ == "__main__":
    main()
