"""A seconds-sized stand-in for the whole stage-2 input (tests and smoke checks): a tiny random
base folder exported like stage 1's (fp16, diffusers layout, image_encoder/), a tiny data cache,
random identity/evaluator/attribute networks, and a stage-2 config of the mini layout."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from safetensors.torch import save_file

from ..common import datacache
from ..common.checkpoint import write_json
from ..common.config import REPO_ROOT
from ..data.synthetic_faces import ATTRIBUTE_CLASSES, ATTRIBUTE_NAMES
from ..export import export_base
from ..identity.nets import AttributeNet, EvaluatorNet, IdentityNet
from ..stage1.models import build_text_encoder, build_unet, build_vae, build_vision_encoder

TINY_STAGE2 = {
    "seed": 0,
    "base_model": "photoverse-tiny",
    "data": {"seed": 0, "identities": 8, "held_out_fraction": 0.25, "train_images_per_identity": 2,
             "held_out_images_per_identity": 1, "size": 64, "references_per_identity": 2},
    "model": {"encoder_layers": [-1, 1], "adapter_hidden": 16, "lora_rank": 2},
    "train": {"steps": 4, "batch": 4, "lr": 1.0e-3, "warmup": 1, "min_lr_ratio": 1.0, "weight_decay": 0.01,
              "grad_clip": 1.0, "log_every": 1, "num_words": "random", "default_num_words": 1,
              "fusion": {"p_uncond": 0.1, "p_text": 1 / 3, "p_image": 1 / 3, "text_gamma": 2.0, "image_sigma": 2.0,
                         "image_gamma": 1.0, "uncond_empty": 0.5},
              "loss": {"face": 0.01, "treg": 0.01, "sreg": 0.001}, "samples": False, "sample_steps": 2},
    "variants": {"full": {}, "no_face": {"loss": {"face": 0.0}}, "no_reg": {"loss": {"treg": 0.0, "sreg": 0.0}}},
    "eval": {"identities": 2, "seeds": [0, 1], "steps": 2, "guidance": 7.5, "batch": 8, "prompts_per_identity": 2,
             "prompts": [{"expression": "smiling", "glasses": "sunglasses"},
                         {"style": "cartoon", "headwear": "crown", "background": "space"}]},
}

TINY_MODELS = {
    "unet": {"sample_size": 16, "in_channels": 4, "out_channels": 4, "block_out_channels": [16, 16, 32],
             "layers_per_block": 1, "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
             "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], "cross_attention_dim": 16,
             "attention_head_dim": 2, "norm_num_groups": 8},
    "vae": {"in_channels": 3, "out_channels": 3, "block_out_channels": [8, 8, 16], "layers_per_block": 1,
            "norm_num_groups": 4, "latent_channels": 4, "sample_size": 64},
    "text": {"vocab_size": 49408, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
             "num_attention_heads": 2, "max_position_embeddings": 77, "hidden_act": "quick_gelu", "projection_dim": 16,
             "bos_token_id": 49406, "eos_token_id": 49407, "pad_token_id": 1},
    "vision": {"image_size": 64, "patch_size": 16, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
               "num_attention_heads": 2, "hidden_act": "quick_gelu", "projection_dim": 16},
    "identity": {"widths": [8, 16], "depth": 1, "dim": 16},
    "evaluator": {"widths": [8, 8, 16], "dim": 16},
    "attributes": {"widths": [8, 16], "depth": 1},
}


def tiny_config() -> dict:
    return copy.deepcopy(TINY_STAGE2)


def _save_net(net, kind: str, kwargs: dict, folder: Path):
    """The layout identity.train.load_net reads: model.safetensors + config.json."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "model.safetensors"))
    write_json(folder / "config.json", {"class": kind, "kwargs": kwargs, "metrics": {}})


def make_tiny_work(root, cfg: dict | None = None, seed: int = 0) -> tuple:
    """-> (base_dir, work_dir) under `root`: <work>/data/{train,heldout}.npz, <work>/nets/*, and the
    base folder <work>/export/mini-base (fp16)."""
    cfg = cfg or TINY_STAGE2
    root = Path(root)
    work = root / "work"
    datacache.build(cfg["data"], work / "data")
    torch.manual_seed(seed)
    s1 = root / "stage1"
    vae = build_vae(TINY_MODELS["vae"])
    vae.register_to_config(scaling_factor=0.5)
    vae.save_pretrained(s1 / "vae")
    build_unet(TINY_MODELS["unet"]).save_pretrained(s1 / "unet")
    build_text_encoder(TINY_MODELS["text"]).save_pretrained(s1 / "clip" / "text_encoder")
    build_vision_encoder(TINY_MODELS["vision"]).save_pretrained(s1 / "clip" / "image_encoder")
    base = export_base(s1, REPO_ROOT / "Tests" / "Fixtures" / "clip-tokenizer", work / "export" / "mini-base")
    kw = dict(TINY_MODELS["identity"])
    _save_net(IdentityNet(**kw), "IdentityNet", kw, work / "nets" / "identity")
    kw = dict(TINY_MODELS["evaluator"])
    _save_net(EvaluatorNet(**kw), "EvaluatorNet", kw, work / "nets" / "evaluator")
    kw = {"classes": {k: list(ATTRIBUTE_CLASSES[k]) for k in ATTRIBUTE_NAMES}, **TINY_MODELS["attributes"]}
    _save_net(AttributeNet(**kw), "AttributeNet", kw, work / "nets" / "attributes")
    return base, work
