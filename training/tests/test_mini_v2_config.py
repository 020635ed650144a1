"""configs/mini.yaml + mini_stage2.yaml (PhotoVerse-mini v2, issue 2.2) agree with themselves:
128x128 images through an 8x VAE into the UNet's 16x16x8 latents, references at the encoder's
input size, the narrowed vocabulary still draws every value the evaluation asks for."""

import torch

from train_helpers import TRAINING

from photoverse_train.common.config import load_config, resolve_path
from photoverse_train.data.attributes import ATTRIBUTE_CLASSES, ATTRIBUTE_NAMES, Attributes
from photoverse_train.stage1.models import ClipPair, build_unet, build_vae

CFG = load_config(TRAINING / "configs" / "mini.yaml")
CFG2 = load_config(TRAINING / "configs" / "mini_stage2.yaml")


def test_make_train_mini_builds_v2_at_128_with_16x16x8_latents():
    size = CFG["data"]["size"]
    assert size >= 128
    vae = build_vae(CFG["vae"]["model"])
    with torch.no_grad():
        z = vae.encode(torch.zeros(1, 3, size, size)).latent_dist.mean
    assert tuple(z.shape) == (1, 8, 16, 16) and 2 ** (len(CFG["vae"]["model"]["block_out_channels"]) - 1) == 8
    unet = CFG["unet"]["model"]
    assert unet["sample_size"] == 16 and unet["in_channels"] == unet["out_channels"] == 8
    assert CFG["vae"]["model"]["sample_size"] == size
    assert CFG["clip"]["vision"]["image_size"] == size  # references at the encoder's input size
    t = CFG["unet"]["train"]
    assert t["ema_decay"] > 0 and t["min_snr_gamma"] > 0 and "prediction_type" not in CFG["unet"]["model"]
    assert resolve_path(CFG2["data_config"]) == TRAINING / "configs" / "mini.yaml"
    assert resolve_path(CFG["stage2_config"], TRAINING) == TRAINING / "configs" / "mini_stage2.yaml"


def test_attribute_network_regions_fit_the_image():
    m = CFG["attributes"]["model"]
    top, left, side = m["face_region"]
    assert m["image_size"] == CFG["data"]["size"] and top + side <= m["image_size"] and left + side <= m["image_size"]


def test_narrowed_vocabulary_draws_everything_the_evaluation_asks_for():
    w = CFG["data"]["attribute_weights"]
    for name in ATTRIBUTE_NAMES:
        assert len(w.get(name, ATTRIBUTE_CLASSES[name])) == len(ATTRIBUTE_CLASSES[name]), name
        assert w[name][0] > 0, f"{name}: the neutral value must stay"
    for prompt in CFG2["eval"]["prompts"]:
        a = Attributes(**prompt)
        for name in prompt:
            assert w[name][ATTRIBUTE_CLASSES[name].index(getattr(a, name))] > 0, (name, prompt)
    example = CFG2["adapter_metadata"]["example_prompt"]
    assert "S*" in example and CFG2["adapter_metadata"]["domain"] == "drawn faces"


def test_evaluation_uses_people_from_an_unused_data_seed():
    assert CFG2["eval"]["data_seed"] != CFG["data"]["seed"]


def test_models_mini_stays_under_64_mib():
    """fp16 weights of every shipped part (the adapter and evaluator estimated from their v1/v2
    sizes: 2.5 + 1.1 MiB) + the tokenizer files (1.4 MiB) + references/card (< 0.5 MiB)."""
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    clip = ClipPair(CFG["clip"]["text"], CFG["clip"]["vision"], int(CFG["clip"]["projection_dim"]))
    extra = int(CFG.get("vae_decoder", {}).get("extra_layers", 0))  # the shipped VAE is the deepened one
    vae = dict(CFG["vae"]["model"], layers_per_block=CFG["vae"]["model"]["layers_per_block"] + extra)
    n = count(build_unet(CFG["unet"]["model"])) + count(build_vae(vae)) + count(clip)
    mib = n * 2 / 2**20 + 2.5 + 1.1 + 1.4 + 0.5
    assert mib <= 64, f"Models/mini would be ~{mib:.1f} MiB"


def test_the_decoder_refined_after_the_unet_keeps_the_latent_space():
    """decoder_refine runs after the UNet: it must train the decoder alone, on the adversarial
    stage's VAE (whose resnets it does not add again)."""
    refine = CFG.get("decoder_refine")
    if refine is None:
        return
    assert not refine.get("train_encoder", False)
    assert CFG.get("vae_decoder") and refine.get("extra_layers", 0) == 0
    assert 0 < refine["train"]["disc_start"] < refine["train"]["steps"]  # a fresh critic learns alone first
