"""Stage 2: the PhotoVerse adapters on the frozen stage-1 base.

    python -m photoverse_train.stage2.train --config training/configs/mini_stage2.yaml \
        --variant full --base training/work/export/mini-base --work training/work [--threads 1]
        [--no-resume] [--set train.steps=10 ...] [--checkpoint-minutes 5]
    (run with training/ on PYTHONPATH; --variant takes a comma list: full,no_face,no_reg)

Trained: text adapter (pseudo-words), image adapter (image tokens), every attn2's to_k_ip/to_v_ip
and the LoRA of to_k/to_v. Frozen: UNet, VAE, text encoder, vision encoder, identity network.

Per step (global batch B, every draw from the step's generator, so a resumed run is the
uninterrupted one): training images i (with their cached VAE posteriors), t ~ U{0..999}, noise,
random fusion (fusion.py: uncond / text-only / image-only / both), for every image one of its
identity's neutral references (a DIFFERENT rendering: plain background, neutral attributes),
masked (base.py) at the vision encoder's size; the pseudo-word count k ~ U{1..m} for the step
(train.num_words: random) or k = m (all). Loss (losses.py):
    L = L_diff + w_face L_face + w_Treg L_Treg + w_Sreg L_Sreg        (paper: 0.01, 0.01, 0.001)
Variants (the ablation): full; no_face (w_face = 0); no_reg (w_Treg = w_Sreg = 0).

Inputs: <work>/data/train.npz (+ heldout.npz for sample grids), <work>/nets/identity/, the base
folder; or (data.kind folder, identity.kind arcface: configs/sd15_stage2.yaml) a folder of real
photos and user-supplied ArcFace weights (stage2/inputs.py).
Outputs: <work>/stage2/<variant>/photoverse-adapter.safetensors (fp16, the project's
layout), DONE.json (steps, timing, final loss terms), train.log, samples.png. A variant whose
DONE.json exists is skipped. Checkpoints: <work>/checkpoints/stage2-<variant>.pt (atomic,
every --checkpoint-minutes; resumed by default)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..common import dist
from ..common.checkpoint import is_done, load_checkpoint, mark_done
from ..common.config import TRAINING_DIR, load_config, merge
from ..common.datacache import load, to_float
from ..common.loop import Task, batch_indices, run
from ..common.masking import mask_reference
from ..common.progress import LOG, setup_logging
from ..common.worklock import lock_units
from ..data.synthetic_faces import Attributes, caption
from ..model import save_adapter
from ..stage1.common import save_grid
from .base import Trainable, build_model, ddim_scheduler, load_base, reference_pixels, train_alphas_cumprod
from .fusion import FusionConfig, draw_fusion
from .inputs import Stage2Data, load_identity_net, load_train_split, stage2_data, train_latents
from .losses import diffusion_loss, face_loss, predicted_x0, sreg_loss, treg_loss
from .sampling import generate_batch, noise_for

__all__ = ["ADAPTER_FILE", "VARIANTS", "Stage2Data", "check_supported", "make_loss_fn", "train_latents",
           "train_stage2", "variant_train_config"]

VARIANTS = ("full", "no_face", "no_reg")
ADAPTER_FILE = "photoverse-adapter.safetensors"


# ------------------------------------------------------------------------------------ config

DATA_KINDS = ("synthetic_cache", "folder")
IDENTITY_KINDS = ("trained", "arcface")


def check_supported(cfg: dict) -> None:
    """The inputs stage 2 has loaders for (stage2/inputs.py): data.kind synthetic_cache (default,
    <work>/data/train.npz) or folder (data.path/<person>/<photo>.jpg, real photos); identity.kind
    trained (default, <work>/nets/identity) or arcface (identity.weights, a .safetensors file)."""
    data = cfg.get("data") or {}
    ident = cfg.get("identity") or {}
    data_kind = data.get("kind", "synthetic_cache")
    id_kind = ident.get("kind", "trained")
    if data_kind not in DATA_KINDS:
        raise SystemExit(f"data.kind {data_kind!r}: stage 2 reads synthetic_cache (<work>/data/train.npz) or folder "
                         "(data.path/<person>/<photo>.jpg)")
    if id_kind not in IDENTITY_KINDS:
        raise SystemExit(f"identity.kind {id_kind!r}: stage 2 uses trained (<work>/nets/identity) or arcface "
                         "(identity.weights: an IResNet .safetensors file)")
    if data_kind == "folder" and not data.get("path"):
        raise SystemExit("data.kind folder needs data.path (a folder with one sub-folder of photos per person)")
    if id_kind == "arcface" and not ident.get("weights"):
        raise SystemExit("identity.kind arcface needs identity.weights (an insightface IResNet .safetensors file)")


def variant_train_config(cfg: dict, variant: str) -> dict:
    """cfg['train'] with cfg['variants'][variant] merged over it."""
    variants = cfg.get("variants", {v: {} for v in VARIANTS})
    if variant not in variants:
        raise SystemExit(f"unknown variant {variant!r}; the config has {', '.join(variants)}")
    return merge(cfg["train"], variants[variant] or {})


# -------------------------------------------------------------------------------------- data

# ---------------------------------------------------------------------------------- training

def make_loss_fn(model, parts, id_net, data: Stage2Data, tc: dict, seed: int):
    """loss_fn(step, generator) -> (loss, logs) for common.loop.run."""
    vae = parts["vae"]
    sf = float(vae.config.scaling_factor)
    acp = train_alphas_cumprod(parts.get("scheduler_config"))
    fcfg = FusionConfig.from_dict(tc.get("fusion"))
    w = {"face": 0.01, "treg": 0.01, "sreg": 0.001, **(tc.get("loss") or {})}
    face_max_t = int(w.pop("face_max_t", len(acp)))
    batch = int(tc["batch"])
    m = model.config.num_tokens
    words_mode = str(tc.get("num_words", "random"))
    n = len(data)

    def loss_fn(step, g):
        # every draw on the CPU generator (a resumed run is the uninterrupted one on any device),
        # then onto the UNet's device
        dev = parts["unet"].device
        idx = batch_indices(seed, step, batch, n)
        mean = torch.from_numpy(data.lat_mean[idx]).float()
        std = torch.from_numpy(data.lat_std[idx]).float()
        z0 = (mean + std * torch.randn(mean.shape, generator=g)) * sf
        noise = torch.randn(z0.shape, generator=g)
        t = torch.randint(0, len(acp), (batch,), generator=g)
        fusion = draw_fusion(batch, g, fcfg)
        ref_choice = torch.randint(0, data.refs_per_identity, (batch,), generator=g).numpy()
        k = int(torch.randint(1, m + 1, (1,), generator=g)) if words_mode == "random" else m
        # this rank's share of the global batch
        sl = dist.shard(np.arange(batch))
        idx, ref_choice = idx[sl], ref_choice[sl]
        z0, noise, t = z0[sl], noise[sl], t[sl]
        mode, gamma, sigma = fusion.mode[sl], fusion.gamma[sl], fusion.sigma[sl]
        fusion = type(fusion)(mode, gamma, sigma, fusion.empty_caption[sl])

        a = acp[t].view(-1, 1, 1, 1).to(dev)
        z0, noise, gamma, sigma = z0.to(dev), noise.to(dev), gamma.to(dev), sigma.to(dev)
        zt = a.sqrt() * z0 + (1 - a).sqrt() * noise
        feats, _ = model.features(data.reference_pixels(idx, ref_choice).to(dev))
        pw = model.pseudo_words(feats)[:, :k]
        # dropped rows: zero image tokens (their sigma is 0 as well, so the image attention adds 0)
        tokens = model.image_tokens(feats) * fusion.conditioned.view(-1, 1, 1).to(feats[0])
        prompts = fusion.captions([data.captions[i] for i in idx], [data.placeholder_captions[i] for i in idx])
        enc = model.encode_prompts(prompts, pw, k)
        model.state.record_image_values = []
        try:
            eps_hat = model(zt, t.to(dev), enc, tokens, gamma, sigma, 1.0)
            values = model.state.record_image_values
        finally:
            model.state.record_image_values = None
        l_diff = diffusion_loss(eps_hat, noise)
        l_treg = treg_loss(pw, fusion.uses_words.to(dev))
        l_sreg = sreg_loss(values, fusion.uses_image.to(dev))
        loss = l_diff + w["treg"] * l_treg + w["sreg"] * l_sreg
        logs = {"diff": l_diff.item(), "treg": l_treg.item(), "sreg": l_sreg.item()}
        if w["face"] > 0:
            rows = fusion.conditioned & (t < face_max_t)
            if bool(rows.any()):
                on = rows.to(dev)
                x0 = predicted_x0(zt[on], eps_hat[on], acp[t[rows]].to(dev))
                decoded = vae.decode(x0 / sf).sample
                target = _to_float(data.images[idx[rows.numpy()]]).to(dev)
                boxes = torch.from_numpy(data.boxes[idx[rows.numpy()]]).to(dev)
                l_face = face_loss(id_net, target, decoded, boxes)
                loss = loss + w["face"] * l_face
                logs["face"] = l_face.item()
        return loss, logs

    return loss_fn


def _to_float(u8):
    return to_float(u8)


def _sample_grid(model, parts, held: dict | None, tc: dict, path: Path, seed: int = 0):
    """Held-out references (first column) and generations for a few prompts, full PhotoVerse."""
    if held is None or "ref_images" not in held:
        return

    n_ids = min(4, len(held["ref_identities"]))
    refs = mask_reference(held["ref_images"][:n_ids, 0], held["ref_masks"][:n_ids, 0])
    attrs = [Attributes(), Attributes(expression="smiling", glasses="sunglasses", background="beach"),
             Attributes(style="cartoon", headwear="crown", background="space")]
    prompts = [caption(a, "S*") for a in attrs]
    cfg = model.config
    pix = reference_pixels(refs, cfg.image_size, cfg.image_mean, cfg.image_std)
    s = parts["unet"].config.sample_size
    c = parts["unet"].config.in_channels
    rows = [_to_float(refs)]
    for j, p in enumerate(prompts):
        noise = torch.cat([noise_for(seed, int(i), j, (1, c, s, s)) for i in held["ref_identities"][:n_ids]])
        rows.append(generate_batch(model, parts["vae"], ddim_scheduler(parts.get("scheduler_config")), [p] * n_ids,
                                   noise, pix, guidance=float(tc.get("sample_guidance", 7.5)),
                                   steps=int(tc.get("sample_steps", 25)), num_words=int(tc.get("default_num_words", 1))))
    imgs = torch.stack(rows, 1)  # [n_ids, 1 + prompts, 3, H, W]: one grid row per identity
    save_grid(path, list(imgs), scale=3)


def train_stage2(cfg: dict, variant: str, base_dir, work_dir, resume: bool = True, checkpoint_seconds: float = 300.0,
                 stop_after: int | None = None, parts: dict | None = None) -> Path:
    """Trains one variant; returns its output folder (<work>/stage2/<variant>). Skipped when its
    DONE.json exists. stop_after: stop after that many steps of this call (tests)."""
    check_supported(cfg)
    work_dir, base_dir = Path(work_dir), Path(base_dir)
    out_dir = work_dir / "stage2" / variant
    if is_done(out_dir):
        LOG.info(f"[stage2 {variant}] done already: {out_dir}")
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    LOG.addHandler(handler)
    if LOG.level == logging.NOTSET or LOG.level > logging.INFO:
        LOG.setLevel(logging.INFO)
    try:
        tc = variant_train_config(cfg, variant)
        seed = int(cfg.get("seed", 0))
        parts = parts or load_base(base_dir)
        model = build_model(parts, cfg["model"], cfg.get("base_model", ""), seed)
        trainable = Trainable(model)
        id_net = load_identity_net(cfg, work_dir)  # trained: <work>/nets/identity; arcface: identity.weights
        mc = model.config
        train = load_train_split(cfg, work_dir, mc.image_size)  # folder: built from data.path when missing
        # GPUs (torchrun: one per process, dist.device()); the CPU path is unchanged. The VAE moves
        # first: without stage 1's latent cache (a restored work folder) it encodes the images here
        dev = dist.device()
        if dev.type != "cpu":
            parts["vae"].to(dev)
        latents = train_latents(parts["vae"], train, work_dir)
        data = stage2_data(cfg, train, latents, mc.image_size, mc.image_mean, mc.image_std)
        if dev.type != "cpu":
            model.to(dev)
            id_net.to(dev)
        params = model.trainable_parameters()
        LOG.info(f"[stage2 {variant}] {sum(p.numel() for p in params) / 1e6:.3f}M trainable parameters; "
                 f"{len(data)} images; batch {tc['batch']}, {tc['steps']} steps; loss weights {tc.get('loss')}")
        heldout_path = work_dir / "data" / "heldout.npz"
        held = load(heldout_path) if heldout_path.exists() else None
        name = f"stage2-{variant}"
        task = Task(name, trainable, params, make_loss_fn(model, parts, id_net, data, tc, seed), int(tc["steps"]),
                    float(tc.get("lr", 1e-4)), warmup=int(tc.get("warmup", 0)),
                    min_lr_ratio=float(tc.get("min_lr_ratio", 1.0)), weight_decay=float(tc.get("weight_decay", 0.01)),
                    grad_clip=float(tc.get("grad_clip", 1.0)), log_every=int(tc.get("log_every", 50)), seed=seed)
        ckpt = work_dir / "checkpoints" / f"{name}.pt"
        t0 = time.time()
        state0 = load_checkpoint(ckpt) if resume else None
        step0 = int(state0["step"]) if state0 is not None else 0
        del state0
        run(task, ckpt, checkpoint_seconds, resume, stop_after)
        state = load_checkpoint(ckpt)
        step = int(state["step"]) if state is not None else 0
        if step < int(tc["steps"]):
            return out_dir
        minutes = (time.time() - t0) / 60
        s_per_step = minutes * 60 / max(1, step - step0) if step > step0 else None
        model.eval()
        model.to("cpu")  # the adapter is saved and the sample grid drawn from CPU tensors
        parts["vae"].to("cpu")
        if dist.is_main():
            meta = {"base_model": cfg.get("base_model", ""), "default_num_words": str(tc.get("default_num_words", 1)),
                    "source": f"PhotoVerse-mini stage 2, variant {variant}, {step} steps x batch {tc['batch']}"}
            # adapter_metadata (v2): the UI's default prompt ("example_prompt") and the model's "domain"
            meta.update({str(k): str(v) for k, v in (cfg.get("adapter_metadata") or {}).items()})
            save_adapter(str(out_dir / ADAPTER_FILE), model, meta)
            if tc.get("samples", True):
                _sample_grid(model, parts, held, tc, out_dir / "samples.png", seed)
            mark_done(out_dir, {"variant": variant, "steps": step, "batch": int(tc["batch"]),
                                "minutes_this_run": round(minutes, 2), "s_per_step": s_per_step,
                                "loss_weights": {k: v for k, v in (tc.get("loss") or {}).items()},
                                "fusion": tc.get("fusion"), "num_words": tc.get("num_words", "random"),
                                "lr": float(tc.get("lr", 1e-4))})
        LOG.info(f"[stage2 {variant}] -> {out_dir / ADAPTER_FILE}")
        dist.barrier()
        return out_dir
    finally:
        LOG.removeHandler(handler)
        handler.close()


# --------------------------------------------------------------------------------------- CLI

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(TRAINING_DIR / "configs" / "mini_stage2.yaml"))
    ap.add_argument("--variant", default="full", help="full, no_face, no_reg, or a comma list")
    ap.add_argument("--base", default=str(TRAINING_DIR / "work" / "export" / "mini-base"))
    ap.add_argument("--work", default=str(TRAINING_DIR / "work"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--resume", dest="resume", action="store_true", default=True)
    ap.add_argument("--no-resume", dest="resume", action="store_false")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--checkpoint-minutes", type=float, default=5.0)
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="cuda = cuda:LOCAL_RANK; auto (default) = cuda when torch sees a GPU")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    dist.set_device(args.device)
    dist.init_distributed()
    work = Path(args.work).resolve()
    log = setup_logging(work / "train.log")
    variants = [v for v in args.variant.split(",") if v]
    lock = None
    if dist.is_main():
        lock = lock_units(work, [f"stage2-{v}" for v in variants], log)  # the units train_mini takes
        if lock is None:
            return 2
    cfg = load_config(args.config, args.set)
    for v in variants:
        t = time.time()
        log.info(f"--- stage2 {v}")
        train_stage2(cfg, v, args.base, work, args.resume, args.checkpoint_minutes * 60)
        log.info(f"--- stage2 {v} finished in {(time.time() - t) / 60:.1f} min")
    dist.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
