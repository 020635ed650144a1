"""Atomic checkpoint files. A training checkpoint is a torch.save of plain tensors, numbers and
dicts, read back with weights_only=True (no arbitrary unpickling); exported models are
safetensors only."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from . import dist


def atomic_write(path, write_fn):
    """write_fn(tmp_path) writes the file; it then replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write_fn(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_npz(path, **arrays):
    """np.savez, atomically."""
    def w(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    atomic_write(path, w)


def save_checkpoint(path, state: dict):
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path) -> dict | None:
    path = Path(path)
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def write_json(path, obj):
    def w(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")

    atomic_write(path, w)


def mark_done(folder, info: dict | None = None):
    """A stage's final output is complete once its DONE file exists. It records where the stage
    ran ("ran_on": the device, torch's thread count), which the model card reports."""
    dev = dist.device()
    ran_on = f"{torch.cuda.get_device_name(dev)} ({dev})" if dev.type == "cuda" else \
        f"CPU, {torch.get_num_threads()} thread(s)"
    write_json(Path(folder) / "DONE.json", {"ran_on": ran_on, **(info or {})})


def is_done(folder) -> bool:
    return (Path(folder) / "DONE.json").exists()


def read_done(folder) -> dict:
    """What mark_done recorded ({} when the stage has not finished)."""
    path = Path(folder) / "DONE.json"
    return json.loads(path.read_text()) if path.exists() else {}


def model_fingerprint(module, *extra) -> str:
    """A short hash of a model's weights (and of `extra`, e.g. its scaling factor): what a cache,
    checkpoint or finished stage computed FROM, so a later run can tell the inputs have changed.
    Weights are hashed at float16, the precision models ship at, so a float32 model and its
    float16 export have the same fingerprint."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        t = t.detach().to("cpu")
        h.update((t.half() if t.is_floating_point() else t).contiguous().numpy().tobytes())
    for e in extra:
        h.update(repr(e).encode())
    return h.hexdigest()[:16]


def checkpoint_reached(ckpt, steps) -> bool:
    """The run checkpointed at `ckpt` has reached `steps` (a stop_after run may end before)."""
    s = load_checkpoint(ckpt)
    return s is not None and int(s["step"]) >= steps
