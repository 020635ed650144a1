"""Stage 1b: the VAE fine-tuned with an adversarial term: the decoder, and with `train_encoder` the
encoder too.

Why: an L1-trained decoder draws the median of what a latent may hold, so thin lines that an 8x
latent cannot place to the pixel come out as smudges: v2's round trip turned the outlined lenses
of sketched glasses into dark ones, cartoon eyes into dark holes and small smiles into straight
mouths, and the attribute classifiers read the round trips of real renderings as wrong (glasses
0/16, cartoon 7/16, smiling 10/16). A patch discriminator (taming-transformers / LDM's
autoencoder recipe: hinge loss, its weight set each step from the ratio of the two terms'
gradients at the decoder's last layer) makes the decoder commit to crisp strokes. By default the
encoder, the quant conv and the latent scaling factor stay as they are, so the latent space, and a
UNet trained on it, are unchanged: only what the latents are drawn as changes (what
stabilityai/sd-vae-ft-* did for SD). With `train_encoder: true` the whole VAE trains (LDM's
autoencoder: the encoder learns to keep what the decoder needs to draw crisp strokes, which a
frozen L1 encoder may have averaged away), the KL term of the VAE stage (`kl_weight`) comes back
and the scaling factor is measured again at the end; the UNet must then train on this stage's
latents (train_mini runs this stage before the UNet and hands it this VAE).

Loss of the decoder: the VAE stage's reconstruction terms (L1 + grad_weight * edge L1, the face
mask weighted) (+ kl_weight * KL with the encoder) + w * adversarial, with w = adversarial_weight *
|grad rec| / |grad adv| from `disc_start` on. The discriminator trains from step 0 on real images
against the decoder's output. Both sit in one optimiser (the discriminator's parameters take no
gradient from the decoder's adversarial term: they are frozen while it is computed).
The same stage runs a second time as `decoder_refine` (train_mini, after the UNet; encoder frozen,
no added resnets), so the decoder keeps improving while the UNet trained on the latents stays valid.
`extra_layers` deepens the decoder first (see `deepen`: the added resnets start as identities, so the latent space and the
starting decoder's output are exactly those of the VAE stage)."""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import AutoencoderKL
from torch import nn

from ..common import dist
from ..common.checkpoint import checkpoint_reached, is_done, mark_done
from ..common.datacache import to_float
from ..common.loop import Task, batch_indices, run
from ..common.progress import LOG
from .common import param_count, save_grid
from .vae import measure_scaling_factor, psnr, reconstruction_loss


class PatchDiscriminator(nn.Module):
    """pix2pix's PatchGAN (as in taming-transformers' NLayerDiscriminator): one logit per
    overlapping patch; `layers` stride-2 convolutions, then two stride-1 ones."""

    def __init__(self, channels: int = 32, layers: int = 3, in_channels: int = 3):
        super().__init__()
        mods = [nn.Conv2d(in_channels, channels, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        width = channels
        for n in range(1, layers + 1):
            out = channels * min(2 ** n, 8)
            stride = 2 if n < layers else 1
            mods += [nn.Conv2d(width, out, 4, stride, 1, bias=False), nn.BatchNorm2d(out), nn.LeakyReLU(0.2, True)]
            width = out
        mods.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.net = nn.Sequential(*mods)
        for m in self.modules():  # pix2pix's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.net(x)


class DecoderAndCritic(nn.Module):
    """What the stage trains and checkpoints: the VAE and its discriminator."""

    def __init__(self, vae: AutoencoderKL, disc: PatchDiscriminator):
        super().__init__()
        self.vae, self.disc = vae, disc


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return 0.5 * (torch.relu(1.0 - real_logits).mean() + torch.relu(1.0 + fake_logits).mean())


def adaptive_weight(rec_loss: torch.Tensor, adv_loss: torch.Tensor, last_layer: torch.Tensor) -> torch.Tensor:
    """|d rec / d last| / |d adv / d last| (taming's calculate_adaptive_weight), so the
    adversarial term never outweighs reconstruction however the discriminator's scale drifts."""
    g_rec = torch.autograd.grad(rec_loss, last_layer, retain_graph=True)[0]
    g_adv = torch.autograd.grad(adv_loss, last_layer, retain_graph=True)[0]
    return (g_rec.norm() / (g_adv.norm() + 1e-4)).clamp(0.0, 1e4).detach()


def deepen(vae: AutoencoderKL, extra: int) -> AutoencoderKL:
    """The same VAE with `extra` more resnets in every encoder and decoder block, each added one
    an exact identity (its last convolution zero: a resnet adds its output to its input), so
    encode and decode are unchanged until training moves them. More room for the decoder (the
    encoder's added resnets are never trained: AutoencoderKL takes one layers_per_block for
    both halves)."""
    if extra <= 0:
        return vae
    cfg = {k: v for k, v in vae.config.items() if not k.startswith("_")}
    cfg["layers_per_block"] = int(cfg["layers_per_block"]) + extra
    deeper = AutoencoderKL(**cfg)
    own = vae.state_dict()
    state = deeper.state_dict()
    for k in state:
        if k in own:
            state[k] = own[k].clone()
        elif ".resnets." in k and ".conv2." in k:
            state[k] = torch.zeros_like(state[k])  # the added resnets start as identities
    deeper.load_state_dict(state)
    return deeper


def freeze_encoder(vae: AutoencoderKL) -> list:
    """Freezes what makes the latents; returns the decoder's parameters (what trains)."""
    vae.encoder.requires_grad_(False)
    vae.quant_conv.requires_grad_(False)
    return [p for p in vae.parameters() if p.requires_grad]


def train_vae_decoder(cfg: dict, train: dict, heldout: dict, vae_dir, out_dir, work_dir, resume=True,
                      checkpoint_seconds=300, stop_after=None, name: str = "vae_decoder"):
    """cfg: the `vae_decoder` section (or `decoder_refine`'s, with name="decoder_refine": the same
    stage run again on the decoder alone after the UNet); vae_dir: the VAE it starts from. Writes
    out_dir (a whole AutoencoderKL folder: the new decoder; the same encoder and scaling factor
    unless cfg["train_encoder"]) + DONE.json; checkpoint <work>/checkpoints/<name>.pt."""
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    if is_done(out_dir):
        LOG.info(f"[{name}] done already: {out_dir}")
        return AutoencoderKL.from_pretrained(out_dir)
    if not is_done(vae_dir):
        raise SystemExit(f"{name} needs the VAE {vae_dir}: run the stage that makes it first")
    tc = cfg["train"]
    seed = int(tc.get("seed", 0))
    torch.manual_seed(seed)
    vae = deepen(AutoencoderKL.from_pretrained(vae_dir), int(cfg.get("extra_layers", 0)))
    train_encoder = bool(cfg.get("train_encoder", False))
    trained = list(vae.parameters()) if train_encoder else freeze_encoder(vae)
    disc = PatchDiscriminator(**cfg.get("discriminator", {}))
    both = DecoderAndCritic(vae, disc)
    dev = dist.device()
    LOG.info(f"[{name}] {'VAE' if train_encoder else 'decoder'} {sum(p.numel() for p in trained) / 1e6:.2f}M, "
             f"discriminator {param_count(disc) / 1e6:.2f}M parameters on {dev}; "
             f"encoder {'trained' if train_encoder else 'frozen'}")
    images, masks = train["images"], train.get("masks")
    n = len(images)
    batch, steps = int(tc["batch"]), int(tc["steps"])
    grad_weight = float(tc.get("grad_weight", 0.0))
    face_weight = float(tc.get("face_weight", 0.0))
    adv_weight = float(tc.get("adversarial_weight", 0.5))
    disc_start = int(tc.get("disc_start", 0))
    kl_weight = float(tc.get("kl_weight", 1e-6))
    if face_weight and masks is None:
        raise SystemExit(f"{name}.train.face_weight needs the data's face masks")
    per = max(1, len(heldout["images"]) // 8)
    fixed = to_float(heldout["images"][::per][:8])
    last_layer = vae.decoder.conv_out.weight

    def loss_fn(step, g):
        idx = batch_indices(seed, step, batch, n)
        x = dist.shard(to_float(images[idx])).to(dev)
        weight = 1.0
        if face_weight:
            m = torch.from_numpy(masks[idx]).float().div_(255.0)[:, None]
            weight = 1.0 + face_weight * dist.shard(m).to(dev)
        with torch.set_grad_enabled(train_encoder):
            post = vae.encode(x).latent_dist
        eps = torch.randn((batch,) + tuple(post.mean.shape[1:]), generator=g)
        rec = vae.decode(post.mean + post.std * dist.shard(eps).to(dev)).sample
        rec_loss, logs = reconstruction_loss(rec, x, weight, grad_weight, post if train_encoder else None, kl_weight)
        disc.requires_grad_(False)
        adv = -disc(rec).mean()
        disc.requires_grad_(True)
        w = adv_weight * adaptive_weight(rec_loss, adv, last_layer) if step >= disc_start else torch.zeros(())
        d_loss = hinge_d_loss(disc(x), disc(rec.detach()))
        loss = rec_loss + w * adv + d_loss
        return loss, {**logs, "adv": float(adv.detach()), "w": float(w), "d": float(d_loss.detach())}

    def sample_fn(step):
        rec = vae.decode(vae.encode(fixed.to(dev)).latent_dist.mode()).sample
        save_grid(work_dir / "samples" / f"{name}-{step:06d}.png", [fixed, rec], scale=3)

    task = Task(name, both, trained + list(disc.parameters()), loss_fn, steps, float(tc["lr"]),
                warmup=int(tc.get("warmup", 50)), grad_clip=0.0, betas=tuple(tc.get("betas", (0.5, 0.9))),
                sample_fn=sample_fn, sample_every=int(tc.get("sample_every", 250)),
                log_every=int(tc.get("log_every", 50)), seed=seed)
    ckpt = work_dir / "checkpoints" / f"{name}.pt"
    run(task, ckpt, checkpoint_seconds, resume, stop_after)
    if stop_after is not None and not checkpoint_reached(ckpt, steps):
        return vae.to("cpu")
    vae.eval()
    held = to_float(heldout["images"][: int(tc.get("eval_images", 256))])
    p = psnr(vae, held)
    info = {"psnr_heldout_db": p, "steps": steps,
            "encoder": ("trained from " if train_encoder else "") + str(vae_dir)}
    if train_encoder:  # the latents moved: the UNet's unit variance is measured again (the VAE stage's way)
        info["scaling_factor"] = measure_scaling_factor(vae, to_float(images[: int(tc.get("scale_images", 1024))]),
                                                        seed=seed)
        vae.register_to_config(scaling_factor=info["scaling_factor"])
    vae.to("cpu")
    if dist.is_main():
        vae.save_pretrained(out_dir, safe_serialization=True)
        mark_done(out_dir, info)
    LOG.info(f"[{name}] held-out PSNR {p:.2f} dB -> {out_dir}")
    dist.barrier()
    return vae
