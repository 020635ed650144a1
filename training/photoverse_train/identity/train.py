"""Training and held-out evaluation of the identity, evaluator and attribute networks.

Saved as <out>/model.safetensors + <out>/config.json ({"class", "kwargs", metrics}); load with
`load_net(folder)`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ..common import dist
from ..common.checkpoint import checkpoint_reached, is_done, mark_done, write_json
from ..common.datacache import to_float
from ..common.loop import Task, batch_indices, run
from ..common.progress import LOG
from ..data.synthetic_faces import ATTRIBUTE_CLASSES, ATTRIBUTE_NAMES
from .nets import AttributeNet, EvaluatorNet, IdentityNet, MarginHead, face_crop

CLASSES = {"IdentityNet": IdentityNet, "EvaluatorNet": EvaluatorNet, "AttributeNet": AttributeNet}


def _build(kind: str, kwargs: dict):
    return CLASSES[kind](**kwargs)


def load_net(folder):
    """A saved network, in eval mode."""
    folder = Path(folder)
    cfg = json.loads((folder / "config.json").read_text())
    net = _build(cfg["class"], cfg["kwargs"])
    net.load_state_dict(load_file(str(folder / "model.safetensors")))
    return net.eval()


def _save_net(net, kind, kwargs, folder, metrics):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "model.safetensors"))
    write_json(folder / "config.json", {"class": kind, "kwargs": kwargs, "metrics": metrics})


def _jitter(n, g, amount):
    j = (torch.rand(n, 3, generator=g) * 2 - 1) * torch.tensor([amount, amount, amount])
    return j


def _random_blur(x, g, p: float, max_sigma: float):
    """With probability p per image, a separable Gaussian blur of random sigma in (0, max_sigma]
    pixels: the face loss of stage 2 compares sharp references with decoded, blurrier images."""
    if p <= 0 or max_sigma <= 0:
        return x
    n = x.shape[0]
    on = torch.rand(n, generator=g) < p
    sigma = torch.rand(n, generator=g) * max_sigma + 1e-3
    r = int(np.ceil(2 * max_sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t[None, :] / sigma[:, None]) ** 2)
    k = k / k.sum(1, keepdim=True)                                     # (n, 2r+1)
    c = x.shape[1]
    xb = F.pad(x, (r, r, r, r), mode="replicate").reshape(1, n * c, x.shape[2] + 2 * r, x.shape[3] + 2 * r)
    kh = k.repeat_interleave(c, 0)
    xb = F.conv2d(xb, kh.view(n * c, 1, 1, -1), groups=n * c)
    xb = F.conv2d(xb, kh.view(n * c, 1, -1, 1), groups=n * c).view_as(x)
    return torch.where(on.view(-1, 1, 1, 1), xb, x)


def _color_jitter(x, g, amount=0.1):
    n = x.shape[0]
    gain = 1 + (torch.rand(n, 3, 1, 1, generator=g) * 2 - 1) * amount
    bias = (torch.rand(n, 3, 1, 1, generator=g) * 2 - 1) * amount
    return (x * gain + bias).clamp(-1, 1)


@torch.no_grad()
def embed_all(net, data: dict, batch: int = 256) -> torch.Tensor:
    net.eval()
    dev = next(net.parameters()).device
    out = []
    for a in range(0, len(data["images"]), batch):
        x = to_float(data["images"][a:a + batch]).to(dev)
        boxes = torch.from_numpy(data["face_boxes"][a:a + batch].astype(np.float32)).to(dev)
        out.append(net.embed_faces(x, boxes).cpu())
    return torch.cat(out)


def roc_auc(pos: torch.Tensor, neg: torch.Tensor) -> float:
    """P(score of a random positive > score of a random negative), ties counted half."""
    scores = torch.cat([pos, neg]).double()
    order = scores.argsort()
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.float64)
    # average ranks of ties
    uniq, inv, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    if len(uniq) < len(scores):
        sums = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inv, ranks)
        ranks = (sums / counts)[inv]
    r_pos = ranks[: len(pos)].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def verification_metrics(emb: torch.Tensor, identities) -> dict:
    """Same/different-identity ROC-AUC over all pairs, and leave-one-out top-1 retrieval."""
    ids = torch.as_tensor(np.asarray(identities))
    sim = emb @ emb.t()
    same = ids[:, None] == ids[None, :]
    iu = torch.triu_indices(len(ids), len(ids), 1)
    s, m = sim[iu[0], iu[1]], same[iu[0], iu[1]]
    sim.fill_diagonal_(-2)
    top1 = float((ids[sim.argmax(1)] == ids).float().mean())
    return {"roc_auc": roc_auc(s[m], s[~m]), "top1_retrieval": top1,
            "mean_cos_same": float(s[m].mean()), "mean_cos_different": float(s[~m].mean())}


def pk_indices(seed: int, step: int, by_class, p: int, k: int) -> np.ndarray:
    """P random classes, K random images of each (without replacement where possible)."""
    rng = np.random.default_rng([int(seed), int(step), 0x1D])
    out = []
    for c in rng.choice(len(by_class), size=p, replace=False):
        pool = by_class[c]
        out.extend(rng.choice(pool, size=k, replace=len(pool) < k).tolist())
    return np.asarray(out, dtype=np.int64)


def supcon_loss(emb: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020) on unit embeddings: every other sample of
    the same identity is a positive of the anchor."""
    n = len(labels)
    sim = emb @ emb.t() / temperature
    eye = torch.eye(n, dtype=torch.bool, device=emb.device)
    sim = sim.masked_fill(eye, float("-inf"))
    logp = sim.log_softmax(1).masked_fill(eye, 0.0)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    has = pos.any(1)
    per_anchor = -(logp * pos).sum(1)[has] / pos.sum(1)[has]
    return per_anchor.mean()


def train_identity_net(kind: str, cfg: dict, train: dict, heldout: dict, out_dir, work_dir, resume=True,
                       checkpoint_seconds=300, stop_after=None):
    """kind "IdentityNet" (cfg: the `identity` section) or "EvaluatorNet" (`evaluator`)."""
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    name = cfg.get("name", kind.lower())
    if is_done(out_dir):
        LOG.info(f"[{name}] done already: {out_dir}")
        return load_net(out_dir)
    tc = cfg["train"]
    seed = int(tc.get("seed", 0))
    torch.manual_seed(seed)
    kwargs = dict(cfg.get("model", {}))
    net = _build(kind, kwargs)
    ids = train["identities"]
    classes, labels = np.unique(ids, return_inverse=True)
    head = MarginHead(int(kwargs.get("dim", 128)), len(classes), float(tc.get("scale", 30.0)),
                      float(tc.get("margin", 0.35)), tc.get("loss", "cosface"))
    module = torch.nn.ModuleDict({"net": net, "head": head})
    dev = dist.device()
    n, batch = len(ids), int(tc["batch"])
    crop = int(kwargs.get("crop_size", 64))
    jit = float(tc.get("jitter", 0.06))

    margin, margin_warmup = float(tc.get("margin", 0.35)), int(tc.get("margin_warmup", 0))
    # P identities x K images per batch (batch = P * K) when ids_per_batch is set, else uniform
    per_batch = int(tc.get("ids_per_batch", 0))
    by_class = [np.flatnonzero(labels == c) for c in range(len(classes))] if per_batch else None
    supcon_weight = float(tc.get("supcon_weight", 0.0))
    head_weight = float(tc.get("head_weight", 1.0))
    temperature = float(tc.get("temperature", 0.1))

    def loss_fn(step, g):
        # the margin ramps up from 0 over margin_warmup steps (plain cosine softmax first)
        head.margin = margin * min(1.0, step / margin_warmup) if margin_warmup else margin
        if per_batch:
            idx = pk_indices(seed, step, by_class, per_batch, batch // per_batch)
        else:
            idx = batch_indices(seed, step, batch, n)
        x = _color_jitter(to_float(train["images"][idx]), g, float(tc.get("color_jitter", 0.1)))
        x = _random_blur(x, g, float(tc.get("blur_p", 0.0)), float(tc.get("blur_sigma", 1.0)))
        boxes = torch.from_numpy(train["face_boxes"][idx].astype(np.float32))
        jitter = _jitter(batch, g, jit)
        flip = torch.rand(batch, generator=g) < 0.5
        # the draws above are all on the CPU generator; the crops are computed on the device
        crops = face_crop(x.to(dev), boxes.to(dev), crop, 1.3, jitter.to(dev))
        crops = torch.where(flip.to(dev).view(-1, 1, 1, 1), crops.flip(-1), crops)
        y = dist.shard(torch.from_numpy(labels[idx])).to(dev)
        emb = net(dist.shard(crops))
        loss, logs = 0.0, {}
        if head_weight:
            l_head, acc = head(emb, y)
            loss = loss + head_weight * l_head
            logs = {"head": float(l_head.detach()), "acc": float(acc)}
        if supcon_weight:
            l_sc = supcon_loss(dist.all_gather_with_grad(emb), dist.all_gather_with_grad(y.float()).long()
                               if dist.is_distributed() else y, temperature)
            loss = loss + supcon_weight * l_sc
            logs["supcon"] = float(l_sc.detach())
        return loss, logs

    task = Task(name, module, list(module.parameters()), loss_fn, int(tc["steps"]), float(tc["lr"]),
                warmup=int(tc.get("warmup", 100)), weight_decay=float(tc.get("weight_decay", 5e-4)),
                log_every=int(tc.get("log_every", 50)), seed=seed)
    run(task, work_dir / "checkpoints" / f"{name}.pt", checkpoint_seconds, resume, stop_after)
    if stop_after is not None and not checkpoint_reached(work_dir / "checkpoints" / f"{name}.pt", int(tc["steps"])):
        return net
    metrics = verification_metrics(embed_all(net, heldout), heldout["identities"])
    net.to("cpu")
    if dist.is_main():
        _save_net(net, kind, kwargs, out_dir, metrics)
        mark_done(out_dir, metrics)
    LOG.info(f"[{name}] held-out identities: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    dist.barrier()
    return net.eval()


@torch.no_grad()
def attribute_accuracy(net: AttributeNet, data: dict, batch: int = 256) -> dict:
    net.eval()
    dev = next(net.parameters()).device
    correct = {k: 0 for k in net.names}
    for a in range(0, len(data["images"]), batch):
        out = net(to_float(data["images"][a:a + batch]).to(dev))
        y = torch.from_numpy(data["labels"][a:a + batch].astype(np.int64))
        for j, k in enumerate(net.names):
            correct[k] += int((out[k].argmax(1).cpu() == y[:, j]).sum())
    return {k: v / len(data["images"]) for k, v in correct.items()}


def train_attribute_net(cfg: dict, train: dict, heldout: dict, out_dir, work_dir, resume=True,
                        checkpoint_seconds=300, stop_after=None):
    """cfg: the `attributes` section."""
    out_dir, work_dir = Path(out_dir), Path(work_dir)
    if is_done(out_dir):
        LOG.info(f"[attributes] done already: {out_dir}")
        return load_net(out_dir)
    tc = cfg["train"]
    seed = int(tc.get("seed", 0))
    torch.manual_seed(seed)
    kwargs = {"classes": {k: list(ATTRIBUTE_CLASSES[k]) for k in ATTRIBUTE_NAMES}, **cfg.get("model", {})}
    net = _build("AttributeNet", kwargs)
    dev = dist.device()
    n, batch = len(train["images"]), int(tc["batch"])

    def loss_fn(step, g):
        idx = batch_indices(seed, step, batch, n)
        x = _color_jitter(to_float(train["images"][idx]), g, float(tc.get("color_jitter", 0.05)))
        y = torch.from_numpy(train["labels"][idx].astype(np.int64))
        out = net(dist.shard(x).to(dev))
        y = dist.shard(y).to(dev)
        losses = [F.cross_entropy(out[k], y[:, j]) for j, k in enumerate(net.names)]
        return sum(losses) / len(losses), {}

    task = Task("attributes", net, list(net.parameters()), loss_fn, int(tc["steps"]), float(tc["lr"]),
                warmup=int(tc.get("warmup", 100)), weight_decay=float(tc.get("weight_decay", 5e-4)),
                log_every=int(tc.get("log_every", 50)), seed=seed)
    run(task, work_dir / "checkpoints" / "attributes.pt", checkpoint_seconds, resume, stop_after)
    if stop_after is not None and not checkpoint_reached(work_dir / "checkpoints" / "attributes.pt", int(tc["steps"])):
        return net
    acc = attribute_accuracy(net, heldout)
    net.to("cpu")
    if dist.is_main():
        _save_net(net, "AttributeNet", kwargs, out_dir, acc)
        mark_done(out_dir, acc)
    LOG.info("[attributes] held-out accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()))
    dist.barrier()
    return net.eval()
