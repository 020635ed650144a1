"""torch.distributed for torchrun launches (gloo on CPU, nccl on CUDA); a no-op otherwise.

Every rank computes the same global batch indices and noise from (seed, step), takes its share
of the batch (`shard`), and gradients are averaged over ranks (`average_gradients`), so a run on
N processes follows the same trajectory as a run on one (up to float summation order)."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch.distributed.nn.functional import all_gather


def init_distributed() -> bool:
    """Initialise the process group when launched by torchrun (WORLD_SIZE > 1)."""
    if dist.is_available() and not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        backend = "nccl" if device().type == "cuda" else "gloo"
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


_DEVICE = os.environ.get("PHOTOVERSE_DEVICE", "auto")


def set_device(spec: str) -> torch.device:
    """--device: "cpu", "cuda" (cuda:LOCAL_RANK; an error when no GPU is visible) or "auto"
    (cuda when available, else cpu). Every trainer places its work on `device()`; draws stay on
    the CPU generator and checkpoints hold CPU tensors, so a run may move between CPU and GPU."""
    global _DEVICE
    if spec not in ("cpu", "cuda", "auto"):
        raise SystemExit(f"--device {spec!r}: expected cpu, cuda or auto")
    if spec == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: this torch sees no CUDA GPU "
                         f"(torch {torch.__version__}, cuda build {torch.version.cuda})")
    _DEVICE = spec
    if device().type == "cuda":  # TF32 matmuls/convolutions: fp32 weights and checkpoints, H100 speed
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return device()


def device() -> torch.device:
    """Where this process computes (set_device; default auto)."""
    if _DEVICE != "cpu" and torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def to_cpu(obj):
    """A copy of a (nested) state dict with every tensor on the CPU: checkpoints are device-free."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


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
