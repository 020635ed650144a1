"""A seconds-long check that stage 2 and the evaluation run on a device (gpu_rebuild.sh runs it
with --device cuda before it spends the budget; the tests run it on the CPU):

    cd training && PYTHONPATH=. python -m photoverse_train.smoke --device cuda --root /tmp/pv-smoke

Builds the tiny random base of stage2/tiny.py, trains two adapter variants a few steps, resumes
one from its checkpoint, and evaluates; exits non-zero on any error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .common import dist
from .common.checkpoint import load_checkpoint
from .evaluate import evaluate
from .stage2.tiny import make_tiny_work, tiny_config
from .stage2.train import ADAPTER_FILE, train_stage2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--root", default="/tmp/pv-smoke")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    dev = dist.set_device(args.device)
    cfg = tiny_config()
    base, work = make_tiny_work(Path(args.root) / "stage2")
    train_stage2(cfg, "full", base, work, stop_after=2)          # interrupted ...
    assert int(load_checkpoint(work / "checkpoints" / "stage2-full.pt")["step"]) == 2
    train_stage2(cfg, "full", base, work)                        # ... and resumed
    train_stage2(cfg, "no_face", base, work)
    payload = evaluate(cfg, base, work, Path(args.root) / "RESULTS.md", "smoke",
                       adapters={"full": work / "stage2" / "full" / ADAPTER_FILE}, log=lambda *_: None)
    rows = {r["key"]: r for r in payload["rows"]}
    print(f"smoke on {dev}: stage 2 (full, no_face) and evaluation ok; rows {sorted(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
