"""Training learns: short runs of the real trainers at the tiny configuration (stage 1's VAE and
UNet, stage 2's adapters) make the model better on held-out data it never trained on (held-out
identities), by more than the spread of the result over training seeds.

For each of three seeds the held-out figure is measured on the model as the trainer starts it
(the same seeded initialisation) and on the model it returns. The check: every seed gains more
than the spread over seeds of either figure (max - min), so the gain is not seed noise. The
held-out evaluations use their own fixed noise, timesteps and references, the same before and
after. Budget: about a minute of one CPU thread per stage (a busy 2-core machine: ~2-3 min in all).

  VAE (250 steps, batch 8)        held-out PSNR       observed ~10.1 -> ~15.7 dB, spread < 1 dB
  UNet (100 steps, batch 8)       held-out eps MSE    observed ~1.13 -> ~0.46, spread < 0.03
  stage 2 "full" (100 steps, 8)   held-out eps MSE    observed ~1.155 -> ~0.98, spread < 0.03
                                  with each held-out person's own reference and S* caption
"""
import copy
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from train_helpers import TOKENIZER, tiny_config, tiny_data
from photoverse_train.common.datacache import load, to_float
from photoverse_train.evaluate import load_adapter_model
from photoverse_train.stage1.models import (build_scheduler, build_text_encoder, build_unet, build_vae, load_tokenizer,
                                            tokenize)
from photoverse_train.stage1.unet import encode_latents, train_unet
from photoverse_train.stage1.vae import measure_scaling_factor, psnr, train_vae
from photoverse_train.stage2.base import build_model, load_base, train_alphas_cumprod
from photoverse_train.stage2.inputs import Stage2Data
from photoverse_train.stage2.tiny import make_tiny_work, tiny_config as tiny_stage2
from photoverse_train.stage2.train import train_stage2

SEEDS = (0, 1, 2)


def assert_learns(before, after, what, higher_is_better=False):
    gains = [(a - b) if higher_is_better else (b - a) for b, a in zip(before, after)]
    spread = max(max(before) - min(before), max(after) - min(after))
    summary = f"{what}: before {[round(x, 4) for x in before]}, after {[round(x, 4) for x in after]}"
    assert min(gains) > spread, f"{summary}: smallest gain {min(gains):.4f} is not above the spread over seeds {spread:.4f}"
    print(summary)


@pytest.fixture(scope="module")
def data():
    return tiny_data()


def test_vae_reconstructs_held_out_faces_better(data):
    train, held = data
    images = to_float(held["images"])
    before, after = [], []
    for seed in SEEDS:
        cfg = tiny_config("vae.train.steps=250", "vae.train.full_steps=60", f"vae.train.seed={seed}", "vae.train.batch=8",
                          "vae.train.warmup=5", "vae.train.sample_every=0", "vae.train.log_every=1000")["vae"]
        torch.manual_seed(seed)   # what train_vae starts from
        before.append(psnr(build_vae(cfg["model"]).eval(), images))
        with tempfile.TemporaryDirectory() as work:
            vae = train_vae(cfg, train, held, Path(work) / "vae", work)
        after.append(psnr(vae.eval(), images))
    assert_learns(before, after, "VAE held-out PSNR (dB)", higher_is_better=True)


@torch.no_grad()
def _unet_held_out_mse(unet, vae, text_encoder, tokenizer, held, draws=8):
    """Epsilon MSE on the held-out images with their captions; fixed noise and timesteps."""
    z0 = vae.encode(to_float(held["images"])).latent_dist.mean * vae.config.scaling_factor
    states = text_encoder(input_ids=tokenize(tokenizer, [str(c) for c in held["captions"]])).last_hidden_state
    acp = build_scheduler().alphas_cumprod.float()
    g = torch.Generator().manual_seed(1234)
    errors = []
    for _ in range(draws):
        noise = torch.randn(z0.shape, generator=g)
        t = torch.randint(0, len(acp), (len(z0),), generator=g)
        a = acp[t].view(-1, 1, 1, 1)
        eps = unet(a.sqrt() * z0 + (1 - a).sqrt() * noise, t, states).sample
        errors.append((eps - noise).pow(2).flatten(1).mean(1))
    return float(torch.cat(errors).mean())


def test_unet_denoises_held_out_latents_better(data):
    """The UNet trainer on a frozen VAE (random, its posterior made deterministic and its latents
    scaled to unit variance as stage 1 measures them) and a frozen random text encoder."""
    train, held = data
    base = tiny_config()
    torch.manual_seed(100)
    vae = build_vae(base["vae"]["model"]).eval()
    with torch.no_grad():   # log-variance -30: the posterior is its mean
        half = vae.quant_conv.out_channels // 2
        vae.quant_conv.weight[half:] = 0
        vae.quant_conv.bias[half:] = -30.0
    vae.register_to_config(scaling_factor=measure_scaling_factor(vae, to_float(train["images"])))
    text_encoder = build_text_encoder(base["clip"]["text"]).eval()
    tokenizer = load_tokenizer(TOKENIZER)
    before, after = [], []
    for seed in SEEDS:
        cfg = tiny_config("unet.train.steps=100", f"unet.train.seed={seed}", "unet.train.batch=8", "unet.train.warmup=5",
                          "unet.train.sample_every=0", "unet.train.log_every=1000")["unet"]
        torch.manual_seed(seed)   # what train_unet starts from
        before.append(_unet_held_out_mse(build_unet(cfg["model"]).eval(), vae, text_encoder, tokenizer, held))
        with tempfile.TemporaryDirectory() as work:
            unet = train_unet(cfg, vae, text_encoder, tokenizer, train, Path(work) / "unet", work)
        after.append(_unet_held_out_mse(unet.eval(), vae, text_encoder, tokenizer, held))
    assert_learns(before, after, "UNet held-out epsilon MSE")


@torch.no_grad()
def _stage2_held_out_mse(model, parts, held, latents, draws=8):
    """Full PhotoVerse conditioning (each held-out person's first reference, the caption with S*,
    gamma = sigma = alpha = 1); epsilon MSE with fixed noise and timesteps."""
    mc = model.config
    data = Stage2Data(held, latents, mc.image_size, mc.image_mean, mc.image_std)
    n = len(data)
    idx = np.arange(n)
    z0 = torch.from_numpy(data.lat_mean).float() * float(parts["vae"].config.scaling_factor)
    feats, _ = model.features(data.reference_pixels(idx, np.zeros(n, np.int64)))
    words = model.pseudo_words(feats)[:, :1]
    tokens = model.image_tokens(feats)
    states = model.encode_prompts([data.placeholder_captions[i] for i in idx], words, 1)
    acp = train_alphas_cumprod(parts.get("scheduler_config"))
    g = torch.Generator().manual_seed(1234)
    errors = []
    for _ in range(draws):
        noise = torch.randn(z0.shape, generator=g)
        t = torch.randint(0, len(acp), (n,), generator=g)
        a = acp[t].view(-1, 1, 1, 1)
        eps = model(a.sqrt() * z0 + (1 - a).sqrt() * noise, t, states, tokens, 1.0, 1.0, 1.0)
        errors.append((eps - noise).pow(2).flatten(1).mean(1))
    return float(torch.cat(errors).mean())


def test_stage2_adapters_denoise_held_out_people_better(tmp_path):
    """train_stage2 ("full": diffusion + face + regularisers) on the tiny random base of
    stage2/tiny.py, 12 people of whom 4 are held out."""
    cfg = tiny_stage2()
    cfg["data"].update(identities=12, held_out_fraction=1 / 3, train_images_per_identity=3, held_out_images_per_identity=2)
    cfg["train"].update(steps=100, batch=8, warmup=5, log_every=1000, samples=False)
    base, work = make_tiny_work(tmp_path, cfg)
    held = load(work / "data" / "heldout.npz")
    train_people = set(load(work / "data" / "train.npz")["identities"].tolist())
    assert train_people.isdisjoint(held["identities"].tolist()), "held-out people are not trained on"
    before, after = [], []
    for seed in SEEDS:
        run_cfg = copy.deepcopy(cfg)
        run_cfg["seed"] = seed
        parts = load_base(base)
        latents = encode_latents(parts["vae"], held["images"], tmp_path / "held_latents.npz")
        start = build_model(parts, run_cfg["model"], run_cfg.get("base_model", ""), seed)   # what train_stage2 starts from
        before.append(_stage2_held_out_mse(start.eval(), parts, held, latents))
        run_work = tmp_path / f"seed{seed}"
        shutil.copytree(work, run_work)
        parts = load_base(base)
        out = train_stage2(run_cfg, "full", base, run_work, parts=parts)
        model, _ = load_adapter_model(parts, out / "photoverse-adapter.safetensors")
        after.append(_stage2_held_out_mse(model, parts, held, latents))
    assert_learns(before, after, "stage-2 held-out epsilon MSE")
