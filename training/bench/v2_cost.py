"""FLOPs and one-thread CPU time of one optimizer step of each v2 network (issue 2.2's time plan).

    cd training && PYTHONPATH=. ../.venv/bin/python bench/v2_cost.py [--config configs/mini.yaml]
        [--steps 5] [--set unet.model.block_out_channels=[64,128,128] ...] [--only unet,vae]

For each network: parameters, FLOPs of forward + backward at the config's batch (torch's
FlopCounterMode; matmuls and convolutions, what a GPU spends its time on), and the median seconds
of `--steps` timed CPU steps (forward, backward, AdamW) after one warm-up step. The H100 column
is an estimate, FLOPs / (an assumed sustained 25 TFLOP/s with bf16 autocast on these narrow
layers, about 3% of the card's dense bf16 peak) with a floor of launch-bound time; gpu_rebuild.sh
measures the real thing."""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from photoverse_train.common.config import load_config
from photoverse_train.identity.nets import AttributeNet, EvaluatorNet, IdentityNet
from photoverse_train.stage1.models import ClipPair, build_unet, build_vae
from photoverse_train.data.synthetic_faces import ATTRIBUTE_CLASSES, ATTRIBUTE_NAMES

ASSUMED_TFLOPS = 25.0


def _cases(cfg):
    d = int(cfg["data"]["size"])
    u, v, c = cfg["unet"], cfg["vae"], cfg["clip"]

    def unet():
        m = build_unet(u["model"])
        b, s = int(u["train"]["batch"]), int(u["model"]["sample_size"])
        x = torch.randn(b, int(u["model"].get("in_channels", 4)), s, s)   # 8 latent channels in v2
        t = torch.randint(0, 1000, (b,))
        enc = torch.randn(b, 77, int(u["model"]["cross_attention_dim"]))
        return m, lambda: F.mse_loss(m(x, t, enc).sample, x)

    def vae(full):
        def make():
            m = build_vae(v["model"])
            tc = v["train"]
            side = d if full else int(tc.get("crop", d))
            x = torch.randn(int(tc["batch"]), 3, side, side)

            def loss():
                post = m.encode(x).latent_dist
                return (m.decode(post.sample()).sample - x).abs().mean() + 1e-6 * post.kl().mean()
            return m, loss
        return make

    def clip():
        m = ClipPair(c["text"], c["vision"], int(c["projection_dim"]))
        b = int(c["train"]["batch"])
        ids = torch.randint(0, 49406, (b, 24))
        px = torch.randn(b, 3, int(c["vision"]["image_size"]), int(c["vision"]["image_size"]))
        return m, lambda: m.logits(ids, px).logsumexp(1).mean()

    def net(kind, section):
        def make():
            kw = dict(cfg[section]["model"])
            b = int(cfg[section]["train"]["batch"])
            if kind is AttributeNet:
                kw["classes"] = {k: list(ATTRIBUTE_CLASSES[k]) for k in ATTRIBUTE_NAMES}
                m = kind(**kw)
                x = torch.randn(b, 3, d, d)
                return m, lambda: sum(o.logsumexp(1).mean() for o in m(x).values())
            m = kind(**kw)
            x = torch.randn(b, 3, int(kw.get("crop_size", 64)), int(kw.get("crop_size", 64)))
            return m, lambda: m(x).pow(2).mean()
        return make

    return {"unet": unet, "vae_crop": vae(False), "vae_full": vae(True), "clip": clip,
            "attributes": net(AttributeNet, "attributes"), "identity": net(IdentityNet, "identity"),
            "evaluator": net(EvaluatorNet, "evaluator")}


def measure(make, steps: int):
    torch.manual_seed(0)
    m, loss_fn = make()
    params = sum(p.numel() for p in m.parameters())
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    with FlopCounterMode(display=False) as fc:
        loss_fn().backward()
    flops = fc.get_total_flops()
    opt.zero_grad()
    times = []
    for i in range(steps + 1):
        t = time.perf_counter()
        loss = loss_fn()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t)
    return params, flops, statistics.median(times) if times else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/mini.yaml")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--only", default="")
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(args.config, args.set)
    only = [s for s in args.only.split(",") if s]
    print(f"{'network':<11} {'params':>8} {'GFLOP/step':>11} {'CPU s/step':>10} {'H100 est ms':>11}")
    for name, make in _cases(cfg).items():
        if only and name not in only and name.split("_")[0] not in only:
            continue
        params, flops, sec = measure(make, args.steps)
        gpu_ms = max(8.0, flops / (ASSUMED_TFLOPS * 1e12) * 1e3)
        print(f"{name:<11} {params / 1e6:7.2f}M {flops / 1e9:11.1f} {sec:10.2f} {gpu_ms:11.1f}", flush=True)


if __name__ == "__main__":
    main()
