"""The resumable step loop every stage uses.

Everything random in a step is a function of (seed, step): batch indices (`batch_indices`) and
a torch.Generator (`step_generator`), so resuming from a checkpoint continues exactly where an
uninterrupted run would be, and every rank of a distributed run draws the same global batch.
A checkpoint (model, EMA, optimizer, step) is written atomically every `checkpoint_seconds`
and at the end; the learning rate is a pure function of the step (warm-up then cosine)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import dist
from .checkpoint import load_checkpoint, save_checkpoint
from .progress import LOG, progress


DEADLINE_EXIT = 75  # exit status of a run stopped by its deadline (EX_TEMPFAIL: run it again)
_STOP_AT: float | None = None


def set_stop_at(unix_time: float | None):
    """A wall-clock deadline (train_mini --stop-at): the first step that would begin after it
    saves the checkpoint and exits with DEADLINE_EXIT, so a budgeted run (gpu_rebuild.sh) loses
    no finished step and resumes where it stopped."""
    global _STOP_AT
    _STOP_AT = float(unix_time) if unix_time else None


class DeadlineReached(SystemExit):
    def __init__(self, name: str, step: int):
        super().__init__(DEADLINE_EXIT)
        self.name, self.step = name, step


def batch_indices(seed: int, step: int, batch: int, n: int) -> np.ndarray:
    """Indices of global batch `step`: consecutive slices of per-epoch permutations of range(n)."""
    out = []
    start = step * batch
    while len(out) < batch:
        epoch, pos = divmod(start + len(out), n)
        perm = _perm(seed, epoch, n)
        take = min(batch - len(out), n - pos)
        out.extend(perm[pos:pos + take].tolist())
    return np.asarray(out, dtype=np.int64)


_PERM_CACHE: dict = {}


def _perm(seed, epoch, n):
    key = (seed, epoch, n)
    if key not in _PERM_CACHE:
        if len(_PERM_CACHE) > 4:
            _PERM_CACHE.clear()
        _PERM_CACHE[key] = np.random.default_rng([int(seed), int(epoch), 0xB47C]).permutation(n)
    return _PERM_CACHE[key]


def step_generator(seed: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(np.random.default_rng([int(seed), int(step), 0x5E9]).integers(2**62)))


def lr_at(step: int, total: int, base_lr: float, warmup: int = 0, min_ratio: float = 0.1) -> float:
    if warmup and step < warmup:
        return base_lr * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base_lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


class EMA:
    """Exponential moving average of a module's floating-point parameters."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = float(decay)
        self.shadow = {k: v.detach().clone() for k, v in module.state_dict().items() if v.dtype.is_floating_point}
        self.device = next(iter(self.shadow.values())).device if self.shadow else torch.device("cpu")

    @torch.no_grad()
    def update(self, module: nn.Module, step: int):
        d = min(self.decay, (1 + step) / (10 + step))  # warm-up of the decay
        for k, v in module.state_dict().items():
            if k in self.shadow:
                self.shadow[k].mul_(d).add_(v.detach(), alpha=1 - d)

    def copy_to(self, module: nn.Module):
        sd = module.state_dict()
        sd.update(self.shadow)
        module.load_state_dict(sd)

    def state_dict(self):
        return {"decay": self.decay, "shadow": self.shadow}

    def load_state_dict(self, state):
        self.decay = float(state["decay"])
        self.shadow = {k: v.to(self.device, copy=True) for k, v in state["shadow"].items()}


@dataclass
class Task:
    """What a stage supplies to `run`.

    loss_fn(step, generator) -> (loss, {name: float}) computes THIS rank's share of global batch
    `step` (use dist.shard) and returns its mean loss.
    sample_fn(step) (main rank only) writes a sample grid; called every `sample_every` steps and
    at the end."""

    name: str
    module: nn.Module                  # everything trained (its state_dict is checkpointed)
    params: list                       # the parameters the optimizer updates
    loss_fn: Callable
    steps: int
    lr: float
    warmup: int = 0
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.0
    betas: tuple = (0.9, 0.999)
    sample_fn: Callable | None = None
    sample_every: int = 0
    log_every: int = 50
    seed: int = 0
    extra_state: dict = field(default_factory=dict)
    # what the run trains FROM (e.g. {"vae": fingerprint}): kept in the checkpoint, and a
    # checkpoint made from other inputs is refused rather than silently continued
    inputs: dict = field(default_factory=dict)


class CheckpointMismatch(SystemExit):
    """A checkpoint was trained from other inputs than this run's (one line, names the file)."""


def check_inputs(task: Task, state: dict, checkpoint_path):
    """Refuses a checkpoint whose recorded inputs differ from the task's (one without a record,
    written before inputs were kept, is continued)."""
    saved = state.get("extra", {}).get("inputs")
    if saved is None:
        return
    changed = sorted(k for k in set(saved) | set(task.inputs) if saved.get(k) != task.inputs.get(k))
    if changed:
        k = changed[0]
        raise CheckpointMismatch(f"{checkpoint_path}: trained from another {k} ({saved.get(k)}, this run's "
                                 f"{task.inputs.get(k)}); move it aside to train from the start")


def run(task: Task, checkpoint_path, checkpoint_seconds: float = 300.0, resume: bool = True,
        stop_after: int | None = None):
    """Train `task` to task.steps (or stop early after `stop_after` steps of this call, for
    tests); returns (module, ema or None). Resumes from `checkpoint_path` when present.

    The module trains on dist.device() (loss_fn moves its batch there); the checkpoint holds CPU
    tensors whatever the device, so a run started on a GPU resumes on the CPU and vice versa."""
    checkpoint_path = Path(checkpoint_path)
    task.module.to(dist.device())
    opt = torch.optim.AdamW(task.params, lr=task.lr, betas=tuple(task.betas), weight_decay=task.weight_decay)
    ema = EMA(task.module, task.ema_decay) if task.ema_decay else None
    step = 0
    state = load_checkpoint(checkpoint_path) if resume else None
    if state is not None:
        check_inputs(task, state, checkpoint_path)
        task.module.load_state_dict(state["module"])
        opt.load_state_dict(state["optimizer"])
        if ema is not None and state.get("ema") is not None:
            ema.load_state_dict(state["ema"])
        task.extra_state.update({k: v for k, v in state.get("extra", {}).items() if k != "inputs"})
        step = int(state["step"])
        LOG.info(f"[{task.name}] resumed at step {step}/{task.steps} from {checkpoint_path}")

    def save():
        if dist.is_main():
            save_checkpoint(checkpoint_path, dist.to_cpu({
                "step": step, "module": task.module.state_dict(), "optimizer": opt.state_dict(),
                "ema": ema.state_dict() if ema is not None else None, "extra": {**task.extra_state, "inputs": task.inputs}}))

    task.module.train()
    bar = progress(task.steps, task.name, initial=step)
    last_ckpt = time.time()
    t0, s0 = time.time(), step
    running: dict = {}  # name -> (sum, steps) since the last log line (a resumed run starts mid-interval)
    done_now = 0
    while step < task.steps:
        if stop_after is not None and done_now >= stop_after:
            break
        if _STOP_AT is not None and time.time() >= _STOP_AT:
            bar.close()
            save()
            LOG.info(f"[{task.name}] deadline reached at step {step}/{task.steps}: checkpoint saved, stopping "
                     f"(exit {DEADLINE_EXIT}; run again to resume)")
            raise DeadlineReached(task.name, step)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, task.steps, task.lr, task.warmup, task.min_lr_ratio)
        loss, logs = task.loss_fn(step, step_generator(_seed_of(task), step))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        dist.average_gradients(task.params)
        if task.grad_clip:
            torch.nn.utils.clip_grad_norm_(task.params, task.grad_clip)
        opt.step()
        if ema is not None:
            ema.update(task.module, step)
        step += 1
        done_now += 1
        bar.update(1)
        logs = {"loss": float(loss.detach()), **logs}
        for k, v in logs.items():
            total, n = running.get(k, (0.0, 0))
            running[k] = (total + float(v), n + 1)
        if step % task.log_every == 0 or step == task.steps:
            rate = (time.time() - t0) / max(1, step - s0)
            msg = " ".join(f"{k}={total / n:.4g}" for k, (total, n) in running.items())
            LOG.info(f"[{task.name}] step {step}/{task.steps} {msg} lr={opt.param_groups[0]['lr']:.3g} "
                     f"{rate:.2f}s/step eta={(task.steps - step) * rate / 60:.1f}min")
            running = {}
        if task.sample_fn is not None and task.sample_every and step % task.sample_every == 0 and step < task.steps:
            _sample(task, ema, step)
        if time.time() - last_ckpt >= checkpoint_seconds and step < task.steps:
            save()
            last_ckpt = time.time()
    bar.close()
    save()
    dist.barrier()
    if step >= task.steps and task.sample_fn is not None:
        _sample(task, ema, step)
    return task.module, ema


def _seed_of(task: Task) -> int:
    return int(task.seed)


def _sample(task: Task, ema, step):
    if not dist.is_main():
        return
    task.module.eval()
    with torch.no_grad():
        if ema is not None:
            backup = {k: v.clone() for k, v in task.module.state_dict().items()}
            ema.copy_to(task.module)
            task.sample_fn(step)
            task.module.load_state_dict(backup)
        else:
            task.sample_fn(step)
    task.module.train()
