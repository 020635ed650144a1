"""torch.distributed for torchrun launches (gloo on CPU, nccl on CUDA); a no-op otherwise.

Every rank computes the same global batch indices and noise from (seed, step), takes its share
of the batch (`shard`), and gradients are averaged over ranks (`average_gradients`), so a run on
N processes follows the same trajectory as a run on one (up to float summation order)."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def init_distributed() -> bool:
    """Initialise the process group when launched by torchrun (WORLD_SIZE > 1)."""
    if dist.is_available() and not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return is_distributed()


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    return rank() == 0


def barrier():
    if is_distributed():
        dist.barrier()


def device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def shard(x, r: int | None = None, n: int | None = None):
    """This rank's contiguous share of a global batch (tensor, array or list); the global batch
    size must be divisible by the world size."""
    r = rank() if r is None else r
    n = world_size() if n is None else n
    size = len(x)
    if size % n:
        raise ValueError(f"global batch {size} not divisible by {n} processes")
    k = size // n
    return x[r * k:(r + 1) * k]


def average_gradients(params):
    """All-reduce (mean) the gradients of `params` in one flat buffer."""
    if not is_distributed():
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    i = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[i:i + n].view_as(g))
        i += n


def all_gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenate `x` from every rank (rank order); gradients flow back to each rank's part."""
    if not is_distributed():
        return x
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x), dim=0)


def broadcast_object(obj):
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def cleanup():
    if is_distributed():
        dist.destroy_process_group()
