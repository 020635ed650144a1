"""The whole PhotoVerse model on a frozen SD1.x: vision encoder (frozen), text adapter (pseudo-words),
image adapter (image tokens), per-attn2 decoupled cross-attention with to_k_ip/to_v_ip + LoRA, and
the three-term guided sampling loop.

Guidance (one batched UNet call per step):
    rows  [ (negative prompt, unconditional image input),
            (identity prompt "a photo of S*", reference image tokens),
            (full prompt, reference image tokens) ]
    eps = eps0 + s_I * (eps_id - eps0) + s_T * (eps_full - eps_id)
When s_I == s_T = s: two rows [negative/uncond, full], eps = eps0 + s * (eps_full - eps0) (the usual
classifier-free guidance); when s <= 1 one row (the full prompt), as diffusers' StableDiffusionPipeline.
Unconditional image input ("uncond_image"):
    "zero_tokens"   f = 0  -> the image attention adds exactly 0 (default)
    "zero_features" the image branch applied to all-zero features (IP-Adapter / diffusers: zero image_embeds)
    "zero_image"    the image branch applied to the encoder's features of an all-zero pixel_values input
The image branch is active at step index i (0-based, of the n steps actually run) iff
image_start <= i / n < image_end; when inactive no image attention is computed in any row.
Several references: per-layer features (and image_embeds) averaged over the photos first.
img2img: latents = scheduler.add_noise(init_latents, noise, timesteps[t_start]) with the diffusers
img2img timestep rule (init_timestep = min(int(steps * strength), steps), t_start = steps - init_timestep);
init_latents = vae.encode(image).latent_dist.mean * scaling_factor (the mean, not a sample).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn

from .adapters import MultiAdapter
from .decoupled_attention import BranchState, DecoupledCrossAttnProcessor
from .image_branch import IPAdapterImageProjection
from .image_features import CLIP_MEAN, CLIP_STD, VisionFeatures, _vision_tower, average_references
from .placeholder import IDENTITY_PROMPT, PLACEHOLDER, batch_with_placeholder
from .text_branch import TextBranch

UNCOND_IMAGE_MODES = ("zero_tokens", "zero_features", "zero_image")


@dataclass
class PhotoVerseConfig:
    encoder_layers: Sequence[int] = (-1, 4, 8, 12, 16)
    adapter_hidden: int = 1024
    lora_rank: int = 4
    text_branch: bool = True
    image_branch: str = "photoverse"  # "photoverse" | "ip-adapter" | "none"
    ip_num_tokens: int = 4
    placeholder: str = PLACEHOLDER
    identity_prompt: str = IDENTITY_PROMPT
    base_model: str = ""
    image_size: int | None = None  # default: the vision encoder's config.image_size
    image_mean: Sequence[float] = field(default_factory=lambda: list(CLIP_MEAN))
    image_std: Sequence[float] = field(default_factory=lambda: list(CLIP_STD))

    @property
    def num_tokens(self) -> int:
        return len(self.encoder_layers)


def attn2_names(unet) -> list:
    """Module paths of every attn2 in unet.attn_processors order (down_blocks, up_blocks,
    mid_block for SD1.x): the j-th one is IP-Adapter's ip_adapter.{2j+1}."""
    return [k[: -len(".processor")] for k in unet.attn_processors if k.endswith("attn2.processor")]


def image_to_latents(vae, image: torch.Tensor) -> torch.Tensor:
    """image [B,3,H,W] in [-1, 1] -> init latents for img2img (mean of the posterior, scaled)."""
    return vae.encode(image).latent_dist.mean * vae.config.scaling_factor


class PhotoVerseModel(nn.Module):
    def __init__(self, unet, text_encoder, tokenizer, image_encoder, config: PhotoVerseConfig):
        super().__init__()
        self.config = config
        unet.requires_grad_(False)
        unet.eval()
        self.unet = unet
        self.text = TextBranch(text_encoder, tokenizer)
        self.vision = VisionFeatures(image_encoder, config.encoder_layers) if image_encoder is not None else None
        tower_cfg = _vision_tower(image_encoder).config if image_encoder is not None else None
        text_dim = text_encoder.config.hidden_size
        cross = unet.config.cross_attention_dim
        m = config.num_tokens
        self.text_adapter = MultiAdapter(m, tower_cfg.hidden_size, config.adapter_hidden, text_dim) if config.text_branch else None
        self.image_adapter = None
        self.image_proj = None
        if config.image_branch == "photoverse":
            self.image_adapter = MultiAdapter(m, tower_cfg.hidden_size, config.adapter_hidden, cross)
        elif config.image_branch == "ip-adapter":
            self.image_proj = IPAdapterImageProjection(tower_cfg.projection_dim, cross, config.ip_num_tokens)
        elif config.image_branch != "none":
            raise ValueError(f"image_branch {config.image_branch!r}")
        if self.config.image_size is None and tower_cfg is not None:
            self.config.image_size = tower_cfg.image_size

        self.state = BranchState()
        self.attn2_names = attn2_names(unet)
        procs = {}
        self.processors = nn.ModuleDict()
        for name, proc in unet.attn_processors.items():
            path = name[: -len(".processor")]
            if path in self.attn2_names:
                attn = unet.get_submodule(path)
                p = DecoupledCrossAttnProcessor.for_attention(
                    attn, self.state, image_branch=config.image_branch != "none", lora_rank=config.lora_rank
                )
                procs[name] = p
                self.processors[path.replace(".", "__")] = p
            else:
                procs[name] = proc
        unet.set_attn_processor(procs)

    # ------------------------------------------------------------------ parts

    def processor(self, path: str) -> DecoupledCrossAttnProcessor:
        return self.processors[path.replace(".", "__")]

    def trainable_parameters(self):
        mods = [m for m in (self.text_adapter, self.image_adapter, self.image_proj) if m is not None]
        params = [p for m in mods for p in m.parameters()]
        return params + [p for p in self.processors.parameters()]

    def features(self, pixel_values: torch.Tensor, average: bool = False):
        """pixel_values [B,3,S,S] -> (feature list, image_embeds or None). average=True: the B
        images are references of one person; everything is averaged to batch 1."""
        want_embeds = self.image_proj is not None
        out = self.vision(pixel_values, with_embeds=want_embeds)
        feats, embeds = out if want_embeds else (out, None)
        if average:
            feats = average_references(feats)
            embeds = embeds.mean(dim=0, keepdim=True) if embeds is not None else None
        return feats, embeds

    def pseudo_words(self, feats) -> torch.Tensor:
        if self.text_adapter is None:
            raise ValueError("this model has no text branch")
        return self.text_adapter(feats)

    def image_tokens(self, feats, embeds=None) -> torch.Tensor | None:
        if self.image_adapter is not None:
            return self.image_adapter(feats)
        if self.image_proj is not None:
            return self.image_proj(embeds)
        return None

    def uncond_image_tokens(self, tokens, feats, embeds, mode: str, pixel_shape=None):
        if tokens is None:
            return None
        if mode == "zero_tokens":
            return torch.zeros_like(tokens)
        if mode == "zero_features":
            return self.image_tokens([torch.zeros_like(f) for f in feats], None if embeds is None else torch.zeros_like(embeds))
        if mode == "zero_image":
            zf, ze = self.features(torch.zeros(pixel_shape, dtype=feats[0].dtype, device=feats[0].device))
            return self.image_tokens(zf, ze)
        raise ValueError(f"uncond_image must be one of {UNCOND_IMAGE_MODES}")

    def encode_prompts(self, prompts: Sequence[str], pseudo_words: torch.Tensor | None = None, num_words: int | None = None) -> torch.Tensor:
        """prompts (with S*) -> encoder_hidden_states [B, 77, D]. pseudo_words [B or 1, m, D];
        the first num_words (default: all) of them fill each S*."""
        k = num_words if num_words is not None else (pseudo_words.shape[1] if pseudo_words is not None else 1)
        if pseudo_words is not None:
            if not 1 <= k <= pseudo_words.shape[1]:
                raise ValueError(f"num_words must be in 1..{pseudo_words.shape[1]}")
            pseudo_words = pseudo_words[:, :k]
            if pseudo_words.shape[0] == 1 and len(prompts) > 1:
                pseudo_words = pseudo_words.expand(len(prompts), -1, -1)
        elif any(self.config.placeholder in p for p in prompts):
            raise ValueError(f"a prompt contains {self.config.placeholder!r} but there are no pseudo-words (no text branch)")
        batch = batch_with_placeholder(self.text.tokenizer, prompts, k, self.config.placeholder)
        return self.text(batch, pseudo_words)

    # ------------------------------------------------------------------ the UNet with both branches

    def forward(self, latents, timestep, encoder_hidden_states, image_tokens=None, gamma=1.0, sigma=1.0, alpha=1.0):
        """Predicted noise. gamma/sigma/alpha: numbers or [B] tensors (per sample)."""
        self.state.set(image_tokens, gamma, sigma, alpha)
        try:
            return self.unet(latents, timestep, encoder_hidden_states=encoder_hidden_states).sample
        finally:
            self.state.set(None, 1.0, 1.0, 1.0)

    # ------------------------------------------------------------------ sampling

    @torch.no_grad()
    def generate(
        self,
        scheduler,
        prompt: str,
        noise: torch.Tensor,
        reference_pixels: torch.Tensor | None = None,
        negative_prompt: str = "",
        identity_prompt: str | None = None,
        num_words: int | None = None,
        gamma: float = 1.0,
        sigma: float = 1.0,
        alpha: float = 1.0,
        s_image: float = 7.5,
        s_text: float = 7.5,
        steps: int = 25,
        image_start: float = 0.0,
        image_end: float = 1.0,
        uncond_image: str = "zero_tokens",
        init_latents: torch.Tensor | None = None,
        strength: float = 1.0,
        callback: Callable | None = None,
    ) -> dict:
        """noise: [1,4,h,w] unscaled standard normal. reference_pixels: [R,3,S,S] (R photos of one
        person, averaged) or None (no personalisation). Returns latents, step_latents, timesteps."""
        identity_prompt = identity_prompt if identity_prompt is not None else self.config.identity_prompt
        pw = tokens = uncond = None
        if reference_pixels is not None:
            feats, embeds = self.features(reference_pixels, average=True)
            pw = self.pseudo_words(feats) if self.text_adapter is not None else None
            tokens = self.image_tokens(feats, embeds)
            uncond = self.uncond_image_tokens(tokens, feats, embeds, uncond_image, (1,) + tuple(reference_pixels.shape[1:]))

        if s_image != s_text:
            prompts = [negative_prompt, identity_prompt, prompt]
            tok_rows = [uncond, tokens, tokens]
        elif s_text > 1.0:
            prompts = [negative_prompt, prompt]
            tok_rows = [uncond, tokens]
        else:
            prompts = [prompt]
            tok_rows = [tokens]
        text = self.encode_prompts(prompts, pw, num_words)
        img = torch.cat(tok_rows) if tokens is not None else None

        scheduler.set_timesteps(steps)
        timesteps = scheduler.timesteps
        if init_latents is not None:
            init_t = min(int(steps * strength), steps)
            t_start = max(steps - init_t, 0)
            timesteps = timesteps[t_start * scheduler.order :]
            if hasattr(scheduler, "set_begin_index"):
                scheduler.set_begin_index(t_start * scheduler.order)
            latents = scheduler.add_noise(init_latents, noise, timesteps[:1])
        else:
            latents = noise * scheduler.init_noise_sigma

        n = len(timesteps)
        step_latents = []
        for i, t in enumerate(timesteps):
            active = img is not None and image_start <= i / n < image_end
            x = scheduler.scale_model_input(torch.cat([latents] * len(prompts)), t)
            eps = self.forward(x, t, text, img if active else None, gamma, sigma if active else 0.0, alpha)
            if len(prompts) == 3:
                e0, e1, e2 = eps.chunk(3)
                e = e0 + s_image * (e1 - e0) + s_text * (e2 - e1)
            elif len(prompts) == 2:
                e0, e2 = eps.chunk(2)
                e = e0 + s_text * (e2 - e0)
            else:
                e = eps
            latents = scheduler.step(e, t, latents).prev_sample
            step_latents.append(latents)
            if callback is not None:
                callback(i, t, latents)
        return {"latents": latents, "step_latents": torch.stack(step_latents), "timesteps": timesteps}
