"""Stage 1c: the tiny UNet2DConditionModel trained text-to-image on VAE latents with the
frozen text encoder (epsilon prediction, SD1.5's DDPM schedule: scaled_linear betas
0.00085..0.012 over 1000 steps). Latent posteriors (mean, std) and the text encoder's hidden
states of every distinct caption are computed once and cached under <work>/cache; 10% of the
captions are dropped to "" so classifier-free guidance works. EMA of the weights.

train.min_snr_gamma (v2): the min-SNR-gamma weighting (Hang et al. 2023) for epsilon prediction,
per sample w(t) = min(SNR(t), gamma) / SNR(t) with SNR = alpha_bar / (1 - alpha_bar): the nearly
noise-free steps, whose epsilon is hard to learn and matters little, stop dominating the gradient.
The prediction stays epsilon (the Swift engine's parity tests are for epsilon)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, UNet2DConditionModel

from ..common import dist
from ..common.checkpoint import checkpoint_reached, is_done, mark_done, model_fingerprint, read_done, save_npz
from ..common.datacache import to_float
from ..common.loop import Task, batch_indices, run
from ..common.progress import LOG, progress
from .common import choose_captions, param_count, save_grid
from .models import SD15_SCHEDULER, build_scheduler, build_unet, tokenize

SAMPLE_PROMPTS = [
    "a photo of a person",
    "a photo of a person smiling wearing sunglasses on the beach",
    "a cartoon of a person with a black mohawk in space",
    "a pencil sketch of a person with curly blonde hair wearing a hat",
    "an oil painting of a person with a brown ponytail in a forest",
    "a photo of a person with short grey hair and a beard in the snow at night",
]


def min_snr_weights(alphas_cumprod: torch.Tensor, gamma: float) -> torch.Tensor:
    """Per-timestep loss weights of min-SNR-gamma for epsilon prediction: min(SNR, gamma) / SNR
    (all ones when gamma <= 0)."""
    snr = alphas_cumprod / (1 - alphas_cumprod)
    return snr.clamp(max=gamma) / snr if gamma > 0 else torch.ones_like(snr)


def vae_fingerprint(vae) -> str:
    """Which latent space (the VAE's encoder, quant conv and scaling factor) a latent cache, a UNet
    checkpoint or a finished UNet came from: the VAE may be retrained (more channels, the
    adversarial stage) after them. The decoder is left out: a decoder fine-tuned later with the
    encoder frozen leaves them valid."""
    encoder_side = torch.nn.ModuleList([m for m in (vae.encoder, vae.quant_conv) if m is not None])
    return model_fingerprint(encoder_side, float(vae.config.scaling_factor))


def read_latent_cache(path, fingerprint: str, count: int) -> dict | None:
    """The cached posteriors at `path` when that VAE made them for `count` images, else None."""
    path = Path(path)
    if not path.exists():
        return None
    with np.load(path) as z:
        if "vae" in z.files and str(z["vae"]) == fingerprint and len(z["mean"]) == count:
            return {k: z[k] for k in ("mean", "std")}
    LOG.info(f"[latents] {path} was made by another VAE or for other images: not used")
    return None


@torch.no_grad()
def encode_latents(vae, images_uint8: np.ndarray, path, batch: int = 64) -> dict:
    """Posterior mean and std of every image, float16, cached at `path` with the VAE's
    fingerprint; a cache made by another VAE (or without a fingerprint) is computed again."""
    path = Path(path)
    fingerprint = vae_fingerprint(vae)
    cached = read_latent_cache(path, fingerprint, len(images_uint8))
    if cached is not None:
        return cached
    mean, std = [], []
    dev = next(vae.parameters()).device
    bar = progress(len(images_uint8), f"latents {path.stem}", unit="img")
    for a in range(0, len(images_uint8), batch):
        d = vae.encode(to_float(images_uint8[a:a + batch]).to(dev)).latent_dist
        mean.append(d.mean.half().cpu().numpy())
        std.append(d.std.half().cpu().numpy())
        bar.update(min(batch, len(images_uint8) - a))
    bar.close()
    out = {"mean": np.concatenate(mean), "std": np.concatenate(std)}
    if dist.is_main():
        save_npz(path, **out, vae=np.asarray(fingerprint))
    return out


@torch.no_grad()
def encode_texts(text_encoder, tokenizer, captions, path, batch: int = 128) -> tuple[dict, np.ndarray]:
    """last_hidden_state (77 tokens, float16) of every distinct caption (and ""), cached."""
    path = Path(path)
    if path.exists():
        with np.load(path) as z:
            caps, states = list(z["captions"]), z["states"]
        return {str(c): i for i, c in enumerate(caps)}, states
    uniq = [""] + sorted(set(str(c) for c in captions) - {""})
    states = []
    dev = next(text_encoder.parameters()).device
    bar = progress(len(uniq), f"text states {path.stem}", unit="caption")
    for a in range(0, len(uniq), batch):
        ids = tokenize(tokenizer, uniq[a:a + batch])
        states.append(text_encoder(input_ids=ids.to(dev)).last_hidden_state.half().cpu().numpy())
        bar.update(len(ids))
    bar.close()
    states = np.concatenate(states)
    if dist.is_main():
        save_npz(path, captions=np.asarray(uniq), states=states)
    return {c: i for i, c in enumerate(uniq)}, states


@torch.no_grad()
def sample_images(unet, vae, text_encoder, tokenizer, prompts, seed: int = 0, steps: int = 25, guidance: float = 5.0,
                  scheduler_config: dict | None = None) -> torch.Tensor:
    """DDIM text-to-image with classifier-free guidance; images in [-1, 1]."""
    sched = DDIMScheduler.from_config({k: v for k, v in (scheduler_config or SD15_SCHEDULER).items()
                                       if not k.startswith("_")})
    sched.set_timesteps(steps)
    dev = next(unet.parameters()).device
    text_encoder.to(dev)
    vae.to(dev)
    cond = text_encoder(input_ids=tokenize(tokenizer, prompts).to(dev)).last_hidden_state
    uncond = text_encoder(input_ids=tokenize(tokenizer, [""] * len(prompts)).to(dev)).last_hidden_state
    s = unet.config.sample_size
    g = torch.Generator().manual_seed(seed)  # noise drawn on the CPU: the same images on any device
    lat = (torch.randn((len(prompts), unet.config.in_channels, s, s), generator=g) * sched.init_noise_sigma).to(dev)
    for t in sched.timesteps:
        eps = unet(torch.cat([lat, lat]), t, torch.cat([uncond, cond])).sample
        eu, ec = eps.chunk(2)
        lat = sched.step(eu + guidance * (ec - eu), t, lat).prev_sample
    return vae.decode(lat / vae.config.scaling_factor).sample.clamp(-1, 1)


def train_unet(cfg: dict, vae, text_encoder, tokenizer, train: dict, out_dir, work_dir, resume=True,
               checkpoint_seconds=300, stop_after=None):
    """cfg: the `unet` section. Writes out_dir (UNet2DConditionModel folder, EMA weights) + DONE.json."""
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    fingerprint = vae_fingerprint(vae)
    if is_done(out_dir):
        trained_on = read_done(out_dir).get("vae")
        if trained_on not in (None, fingerprint):
            raise SystemExit(f"{out_dir}: trained on another VAE's latents ({trained_on}, this run's {fingerprint}); "
                             "move it and checkpoints/unet.pt aside to train the UNet again")
        LOG.info(f"[unet] done already: {out_dir}")
        return UNet2DConditionModel.from_pretrained(out_dir)
    tc = cfg["train"]
    seed = int(tc.get("seed", 0))
    dev = dist.device()
    vae.eval().to(dev)
    text_encoder.eval().to(dev)
    cache = work_dir / "cache"
    lat = encode_latents(vae, train["images"], cache / "train_latents.npz")
    index, states = encode_texts(text_encoder, tokenizer, list(train["captions"]) + list(train["describe_captions"])
                                 + SAMPLE_PROMPTS, cache / "text_states.npz")
    sf = float(vae.config.scaling_factor)
    torch.manual_seed(seed)
    unet = build_unet(cfg["model"])
    LOG.info(f"[unet] {param_count(unet) / 1e6:.2f}M parameters on {dev}; {len(lat['mean'])} latents, "
             f"{len(index)} captions")
    sched = build_scheduler(cfg.get("scheduler"))
    acp = sched.alphas_cumprod.float()
    loss_weight = min_snr_weights(acp, float(tc.get("min_snr_gamma", 0) or 0))
    n, batch = len(lat["mean"]), int(tc["batch"])
    p_describe, p_drop = float(tc.get("p_describe", 0.5)), float(tc.get("caption_dropout", 0.1))

    def loss_fn(step, g):
        idx = batch_indices(seed, step, batch, n)
        caps = choose_captions(train, idx, g, p_describe)
        drop = torch.rand(batch, generator=g) < p_drop
        k = torch.tensor([0 if d else index[c] for c, d in zip(caps, drop.tolist())])
        mean = torch.from_numpy(lat["mean"][idx]).float()
        std = torch.from_numpy(lat["std"][idx]).float()
        z0 = (mean + std * torch.randn(mean.shape, generator=g)) * sf
        noise = torch.randn(z0.shape, generator=g)
        t = torch.randint(0, len(acp), (batch,), generator=g)
        a = acp[t].view(-1, 1, 1, 1)
        zt = a.sqrt() * z0 + (1 - a).sqrt() * noise
        enc = torch.from_numpy(states[k.numpy()]).float()
        w = loss_weight[t]
        zt, t, enc, noise, w = (dist.shard(v).to(dev) for v in (zt, t, enc, noise, w))
        pred = unet(zt, t, enc).sample
        per_sample = (pred - noise).pow(2).flatten(1).mean(1)
        mse = per_sample.mean()
        return (per_sample * w).mean(), {"mse": float(mse.detach())}

    def sample_fn(step):
        imgs = sample_images(unet, vae, text_encoder, tokenizer, SAMPLE_PROMPTS, seed=0,
                             steps=int(tc.get("sample_steps", 25)))
        imgs2 = sample_images(unet, vae, text_encoder, tokenizer, SAMPLE_PROMPTS, seed=1,
                              steps=int(tc.get("sample_steps", 25)))
        save_grid(work_dir / "samples" / f"unet-{step:06d}.png", [imgs, imgs2], scale=3)

    task = Task("unet", unet, list(unet.parameters()), loss_fn, int(tc["steps"]), float(tc["lr"]),
                warmup=int(tc.get("warmup", 200)), weight_decay=float(tc.get("weight_decay", 0.0)),
                ema_decay=float(tc.get("ema_decay", 0.999)), sample_fn=sample_fn,
                sample_every=int(tc.get("sample_every", 500)), log_every=int(tc.get("log_every", 50)), seed=seed,
                inputs={"vae": fingerprint})
    _, ema = run(task, work_dir / "checkpoints" / "unet.pt", checkpoint_seconds, resume, stop_after)
    if stop_after is not None and not checkpoint_reached(work_dir / "checkpoints" / "unet.pt", int(tc["steps"])):
        return unet
    if ema is not None:
        ema.copy_to(unet)
    unet.eval().to("cpu")
    vae.to("cpu")
    text_encoder.to("cpu")
    if dist.is_main():
        unet.save_pretrained(out_dir, safe_serialization=True)
        mark_done(out_dir, {"steps": int(tc["steps"]), "ema": ema is not None, "vae": fingerprint})
    LOG.info(f"[unet] -> {out_dir}")
    dist.barrier()
    return unet
