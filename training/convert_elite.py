"""Convert ELITE's global mapper (csyxwei/ELITE, `global_mapper.pt`) into a PhotoVerse adapter file
(text branch only; see training/photoverse_train/FORMAT.md).

ELITE's Mapper state dict:
    mapping_{i}.{0,1,3,4,6}.{weight,bias}, mapping_patch_{i}.{...}   i = 0..4 for ViT-L/14 layers
        (the last hidden state, then hidden_states[4, 8, 12, 16]); width 1024 -> 1024 -> 768
    <attn2 path with '.' -> '_'>_to_k.weight, ..._to_v.weight    (optional) ELITE's to_k_global /
        to_v_global, which REPLACE to_k / to_v of every attn2 when the pseudo-word prompt is used.

The mapper becomes text_adapter.* unchanged (same MLP layout and forward). The to_k/to_v
replacements cannot be stored as such (the adapter file never overwrites base weights); with
--kv-base-unet they become an exact LoRA at alpha = 1: lora_A = identity [C, C], lora_B = W_global - W_base
(rank = cross_attention_dim), so to_k(p) + B A p = W_global p. Without it they are left out (the
file still carries the pseudo-word mapper; generation then uses the base to_k/to_v).

The input is read with torch.load(weights_only=True) (no arbitrary unpickling) or as safetensors.

    .venv/bin/python training/convert_elite.py global_mapper.pt out.safetensors \
        [--kv-base-unet MODEL/unet] [--encoder-layers -1,4,8,12,16] [--base-model NAME] [--image-size 224]
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys

import torch
from safetensors.torch import load_file

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from photoverse_train.model.adapter_file import FORMAT, FORMAT_VERSION, write_safetensors  # noqa: E402
from photoverse_train.model.adapters import MultiAdapter  # noqa: E402
from photoverse_train.model.image_features import CLIP_MEAN, CLIP_STD  # noqa: E402

_KV = re.compile(r"^(.*attn2)_to_([kv])\.weight$")
_PATH = re.compile(r"^(down_blocks|up_blocks)_(\d+)_attentions_(\d+)_transformer_blocks_(\d+)_attn2$|^mid_block_attentions_(\d+)_transformer_blocks_(\d+)_attn2$")


def elite_module_path(flat: str) -> str:
    """'down_blocks_0_attentions_1_transformer_blocks_0_attn2' -> 'down_blocks.0.attentions.1.transformer_blocks.0.attn2'."""
    m = _PATH.match(flat)
    if not m:
        raise ValueError(f"not an ELITE attn2 name: {flat!r}")
    if m.group(1):
        return f"{m.group(1)}.{m.group(2)}.attentions.{m.group(3)}.transformer_blocks.{m.group(4)}.attn2"
    return f"mid_block.attentions.{m.group(5)}.transformer_blocks.{m.group(6)}.attn2"


def read_state_dict(path: str) -> dict:
    if path.endswith(".safetensors"):
        sd = load_file(path)
    else:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"{path}: not a flat tensor state dict")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}


def read_base_unet(folder: str) -> dict:
    files = sorted(glob.glob(os.path.join(folder, "*.safetensors")))
    if not files:
        raise SystemExit(f"{folder}: no *.safetensors (the base UNet in diffusers layout)")
    sd = {}
    for f in files:
        sd.update(load_file(f))
    return sd


def convert(sd: dict, base_unet: dict | None = None, encoder_layers=(-1, 4, 8, 12, 16), base_model: str = "",
            image_size: int = 224, dtype=torch.float16) -> tuple:
    """ELITE state dict -> (tensors, metadata, notes)."""
    n, in_dim, hidden, out_dim = MultiAdapter.shape_from_state_dict(sd)
    if n != len(encoder_layers):
        raise ValueError(f"{n} mappings but encoder layers {list(encoder_layers)}")
    probe = MultiAdapter(n, in_dim, hidden, out_dim)
    want = set(probe.state_dict())
    mapper = {k: v for k, v in sd.items() if k.split(".")[0].startswith("mapping")}
    if set(mapper) != want:
        raise ValueError(f"mapper keys differ from the MultiAdapter layout: {sorted(set(mapper) ^ want)[:6]}")
    tensors = {f"text_adapter.{k}": v.to(dtype).contiguous() for k, v in mapper.items()}
    kv = {k: v for k, v in sd.items() if k not in mapper}
    notes = []
    rank = 0
    unknown = [k for k in kv if not _KV.match(k)]
    if unknown:
        raise ValueError(f"unexpected keys: {unknown[:6]}")
    if kv and base_unet is None:
        notes.append(f"{len(kv)} to_k/to_v_global weights left out (no --kv-base-unet given)")
    elif kv:
        for k, w in sorted(kv.items()):
            flat, which = _KV.match(k).groups()
            path = elite_module_path(flat)
            base = base_unet.get(f"{path}.to_{which}.weight")
            if base is None:
                raise ValueError(f"base UNet has no {path}.to_{which}.weight")
            if base.shape != w.shape:
                raise ValueError(f"{k}: shape {tuple(w.shape)} vs base {tuple(base.shape)}")
            delta = w.float() - base.float()
            rank = w.shape[1]
            tensors[f"unet.{path}.to_{which}.lora_A.weight"] = torch.eye(rank).to(dtype)
            tensors[f"unet.{path}.to_{which}.lora_B.weight"] = delta.to(dtype).contiguous()
        notes.append(f"{len(kv)} to_k/to_v_global weights stored as exact LoRA deltas (rank {rank}, use alpha = 1)")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "base_model": base_model,
        "encoder_layers": ",".join(str(int(x)) for x in encoder_layers),
        "tokens": str(n),
        "lora_rank": str(rank),
        "lora_targets": "to_k,to_v" if rank else "",
        "adapter_hidden": str(hidden),
        "branches": "text",
        "placeholder": "S*",
        "identity_prompt": "a photo of S*",
        "image_size": str(image_size),
        "image_mean": ",".join(repr(x) for x in CLIP_MEAN),
        "image_std": ",".join(repr(x) for x in CLIP_STD),
        "image_resample": "bicubic",
        "image_encoder": "image_encoder",
        "uncond_image": "zero_tokens",
        "default_num_words": "1",
        "source": "ELITE global mapper (csyxwei/ELITE), converted by training/convert_elite.py",
    }
    return tensors, meta, notes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="ELITE global_mapper.pt (or .safetensors)")
    ap.add_argument("output", help="adapter .safetensors to write")
    ap.add_argument("--kv-base-unet", help="base UNet folder (diffusers layout) to turn to_k/to_v_global into LoRA deltas")
    ap.add_argument("--encoder-layers", default="-1,4,8,12,16")
    ap.add_argument("--base-model", default="CompVis/stable-diffusion-v1-4")
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    a = ap.parse_args(argv)
    sd = read_state_dict(a.input)
    base = read_base_unet(a.kv_base_unet) if a.kv_base_unet else None
    layers = [int(x) for x in a.encoder_layers.split(",")]
    tensors, meta, notes = convert(sd, base, layers, a.base_model, a.image_size, getattr(torch, a.dtype))
    write_safetensors(a.output, tensors, meta)
    for n in notes:
        print(n)
    print(f"wrote {a.output}: {len(tensors)} tensors, tokens {meta['tokens']}, hidden {meta['adapter_hidden']}")


if __name__ == "__main__":
    main()
