"""The distributed path at tiny scale: two gloo processes (what torchrun starts) follow the same
trajectory as one process with the same global batch, for a plain data-parallel loss and for
the CLIP-style contrastive loss whose features are gathered across ranks.

The whole pipeline the same way (documented command):
    cd training && PYTHONPATH=. ../.venv/bin/torchrun --nproc_per_node 2 \\
        -m photoverse_train.train_mini --config configs/tiny.yaml --work /tmp/pv-ddp"""

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

from train_helpers import TRAINING  # noqa: F401  (puts training/ on sys.path)
from photoverse_train.common import dist, loop
from photoverse_train.common.dist import shard


def _task():
    torch.manual_seed(0)
    model = nn.ModuleDict({"a": nn.Linear(5, 6), "b": nn.Linear(3, 6)})
    scale = nn.Parameter(torch.tensor(2.0))
    model.register_parameter("scale", scale)
    xa = torch.randn(64, 5, generator=torch.Generator().manual_seed(1))
    xb = torch.randn(64, 3, generator=torch.Generator().manual_seed(2))

    def loss_fn(step, g):
        idx = loop.batch_indices(0, step, 8, 64)
        a = xa[idx] + 0.1 * torch.randn(8, 5, generator=g)
        b = xb[idx]
        a, b = dist.shard(a), dist.shard(b)
        # data-parallel part: mean over this rank's share
        plain = model["a"](a).pow(2).mean()
        # contrastive part over the global batch
        fa = dist.all_gather_with_grad(F.normalize(model["a"](a), dim=-1))
        fb = dist.all_gather_with_grad(F.normalize(model["b"](b), dim=-1))
        logits = model.scale.exp() * fa @ fb.t()
        lab = torch.arange(len(logits))
        return plain + F.cross_entropy(logits, lab) + F.cross_entropy(logits.t(), lab), {}

    return loop.Task("ddp", model, list(model.parameters()), loss_fn, steps=3, lr=1e-2, log_every=100)


def _worker(rank, world, port, folder):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    assert dist.init_distributed() and dist.world_size() == world
    try:
        model, _ = loop.run(_task(), os.path.join(folder, "ddp.pt"), resume=False)
        if dist.is_main():
            torch.save(model.state_dict(), os.path.join(folder, "result.pt"))
    finally:
        dist.cleanup()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one(tmp_path):
    single, _ = loop.run(_task(), tmp_path / "single.pt")
    # fork: the children start in milliseconds instead of re-importing torch (seconds each)
    mp.start_processes(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True, start_method="fork")
    multi = torch.load(tmp_path / "result.pt", weights_only=True)
    for k, v in single.state_dict().items():
        torch.testing.assert_close(multi[k], v, rtol=1e-5, atol=1e-6)
    start = _task().module.state_dict()
    assert any(not torch.equal(start[k], v) for k, v in multi.items())  # it did train


def test_shard_splits_contiguously():
    assert shard(list(range(8)), 1, 2) == [4, 5, 6, 7]
    with pytest.raises(ValueError):
        shard(list(range(7)), 0, 2)
