"""Stage 1b: the tiny CLIP text and vision encoders, trained together contrastively on
(image, caption) pairs (transformers CLIPModel's recipe: projections, a learned logit scale,
symmetric cross-entropy). Captions that repeat within a batch are positives of each other
(soft targets), since the synthetic captions repeat. Half the captions name the identity's
look (describe()), so the towers learn appearance, not only the prompt attributes.
Saved separately: text_encoder/ (CLIPTextModel) and image_encoder/ (CLIPVisionModelWithProjection)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ..common import dist
from ..common.checkpoint import checkpoint_reached, is_done, mark_done
from ..common.datacache import to_float
from ..common.loop import Task, batch_indices, run
from ..common.progress import LOG
from .common import choose_captions, param_count
from .models import ClipPair, clip_pixels, tokenize


class TokenCache:
    """Captions -> token ids, tokenised once per distinct caption; sequences are cut to the
    longest caption seen (all later tokens are EOS padding, which a causal text encoder's
    pooled EOS output never sees)."""

    def __init__(self, tokenizer, captions, max_length: int = 77):
        uniq = sorted(set(str(c) for c in captions))
        ids = tokenize(tokenizer, uniq, max_length)
        eos = tokenizer.eos_token_id
        length = int((ids != eos).sum(1).max()) + 1
        self.ids = ids[:, :length].clone()
        self.index = {c: i for i, c in enumerate(uniq)}

    def __call__(self, captions) -> tuple[torch.Tensor, torch.Tensor]:
        k = torch.tensor([self.index[str(c)] for c in captions])
        return self.ids[k], k


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Small random translations (up to 4 px, edge padding)."""
    n = x.shape[0]
    pad = 4
    xp = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=g)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=g)
    h, w = x.shape[-2:]
    return torch.stack([xp[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def contrastive_loss(model: ClipPair, input_ids, caption_keys, pixel_values):
    """Symmetric InfoNCE over the GLOBAL batch (features gathered from every rank)."""
    t = dist.all_gather_with_grad(model.encode_text(input_ids))
    v = dist.all_gather_with_grad(model.encode_image(pixel_values))
    keys = dist.all_gather_with_grad(caption_keys.float()).long() if dist.is_distributed() else caption_keys
    logits = model.logit_scale.clamp(max=4.6052).exp() * v @ t.t()
    keys = keys.to(logits.device)
    same = (keys[:, None] == keys[None, :]).float()
    target = same / same.sum(1, keepdim=True)
    loss = 0.5 * (-(target * logits.log_softmax(1)).sum(1).mean() - (target * logits.t().log_softmax(1)).sum(1).mean())
    with torch.no_grad():
        acc = (same[torch.arange(len(keys), device=logits.device), logits.argmax(1)] > 0).float().mean()
    return loss, float(acc)


@torch.no_grad()
def retrieval_accuracy(model: ClipPair, tokens: TokenCache, images: np.ndarray, captions, image_size: int,
                       batch: int = 128) -> float:
    """Image -> caption top-1 over the distinct captions of the set (a hit when the best caption
    equals the image's own)."""
    model.eval()
    dev = model.logit_scale.device
    uniq = sorted(set(str(c) for c in captions))
    ids, _ = tokens(uniq)
    tf = torch.cat([model.encode_text(ids[a:a + batch].to(dev)) for a in range(0, len(ids), batch)])
    hits = 0
    for a in range(0, len(images), batch):
        v = model.encode_image(clip_pixels(to_float(images[a:a + batch]), image_size).to(dev))
        best = (v @ tf.t()).argmax(1).cpu()
        hits += sum(uniq[int(b)] == str(c) for b, c in zip(best, captions[a:a + batch]))
    return hits / len(images)


def train_clip(cfg: dict, tokenizer, train: dict, heldout: dict, out_dir, work_dir, resume=True,
               checkpoint_seconds=300, stop_after=None):
    """cfg: the `clip` section. Writes out_dir/text_encoder, out_dir/image_encoder (+ DONE.json)."""
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    if is_done(out_dir):
        LOG.info(f"[clip] done already: {out_dir}")
        return None
    tc = cfg["train"]
    seed = int(tc.get("seed", 0))
    torch.manual_seed(seed)
    model = ClipPair(cfg["text"], cfg["vision"], int(cfg["projection_dim"]))
    dev = dist.device()
    image_size = int(cfg["vision"]["image_size"])
    LOG.info(f"[clip] text {param_count(model.text) / 1e6:.2f}M, vision {param_count(model.vision) / 1e6:.2f}M parameters")
    tokens = TokenCache(tokenizer, list(train["captions"]) + list(train["describe_captions"])
                        + list(heldout["captions"]) + list(heldout["describe_captions"]))
    LOG.info(f"[clip] {len(tokens.index)} distinct captions, {tokens.ids.shape[1]} tokens")
    images = train["images"]
    n, batch = len(images), int(tc["batch"])
    p_describe = float(tc.get("p_describe", 0.5))

    def loss_fn(step, g):
        idx = batch_indices(seed, step, batch, n)
        caps = choose_captions(train, idx, g, p_describe)
        ids, keys = tokens(caps)
        px = clip_pixels(_augment(to_float(images[idx]), g), image_size)
        loss, acc = contrastive_loss(model, dist.shard(ids).to(dev), dist.shard(keys).to(dev), dist.shard(px).to(dev))
        return loss, {"acc": acc, "scale": float(model.logit_scale.exp())}

    task = Task("clip", model, list(model.parameters()), loss_fn, int(tc["steps"]), float(tc["lr"]),
                warmup=int(tc.get("warmup", 200)), weight_decay=float(tc.get("weight_decay", 0.1)),
                betas=(0.9, 0.98), log_every=int(tc.get("log_every", 50)), seed=seed)
    run(task, work_dir / "checkpoints" / "clip.pt", checkpoint_seconds, resume, stop_after)
    if stop_after is not None and not checkpoint_reached(work_dir / "checkpoints" / "clip.pt", int(tc["steps"])):
        return model
    m = int(tc.get("eval_images", 512))
    acc_person = retrieval_accuracy(model, tokens, heldout["images"][:m], heldout["captions"][:m], image_size)
    acc_describe = retrieval_accuracy(model, tokens, heldout["images"][:m], heldout["describe_captions"][:m], image_size)
    model.to("cpu")
    if dist.is_main():
        save_clip(model, out_dir)
        mark_done(out_dir, {"heldout_top1_caption": acc_person, "heldout_top1_describe_caption": acc_describe,
                            "steps": int(tc["steps"])})
    LOG.info(f"[clip] held-out image->caption top-1: {acc_person:.3f} ('a person' captions), "
             f"{acc_describe:.3f} (describing captions) -> {out_dir}")
    dist.barrier()
    return model


def save_clip(model: ClipPair, out_dir):
    """text_encoder/ as CLIPTextModel (the text projection is not part of SD's text encoder) and
    image_encoder/ as CLIPVisionModelWithProjection."""
    out_dir = Path(out_dir)
    model.text.save_pretrained(out_dir / "text_encoder", safe_serialization=True)
    model.vision.save_pretrained(out_dir / "image_encoder", safe_serialization=True)
    # the text projection and logit scale, kept for completeness (CLIPModel-style scoring)
    save_file({"text_projection.weight": model.text_projection.weight.detach().contiguous(),
               "logit_scale": model.logit_scale.detach().reshape(1)}, str(out_dir / "clip_heads.safetensors"))
