"""Training machinery: configs, batch order, learning rate, atomic checkpoints, and that a run
resumed from a checkpoint ends exactly where an uninterrupted run ends."""

import fcntl
import logging

import numpy as np
import pytest
import torch
from torch import nn

from train_helpers import TINY_CONFIG, tiny_config
from photoverse_train import train_mini
from photoverse_train.common import checkpoint, loop
from photoverse_train.common.config import apply_overrides
from photoverse_train.stage2 import train as stage2_train


def test_overrides_are_dotted_yaml_values():
    cfg = apply_overrides({"a": {"b": 1}}, ["a.b=2.5", "a.c=[1, 2]", "d.e=x"])
    assert cfg == {"a": {"b": 2.5, "c": [1, 2]}, "d": {"e": "x"}}
    with pytest.raises(ValueError):
        apply_overrides({}, ["novalue"])
    assert tiny_config("unet.train.steps=7")["unet"]["train"]["steps"] == 7


def test_batch_indices_walk_epoch_permutations():
    n, b = 10, 4
    seq = np.concatenate([loop.batch_indices(3, s, b, n) for s in range(5)])  # 20 = two epochs
    assert sorted(seq[:10]) == list(range(10)) and sorted(seq[10:]) == list(range(10))
    assert not np.array_equal(seq[:10], seq[10:])
    assert np.array_equal(loop.batch_indices(3, 2, b, n), seq[8:12])  # across the epoch boundary


def test_lr_schedule_warmup_then_cosine():
    assert loop.lr_at(0, 100, 1.0, warmup=10) == pytest.approx(0.1)
    assert loop.lr_at(10, 100, 1.0, warmup=10) == pytest.approx(1.0)
    assert loop.lr_at(100, 100, 1.0, warmup=10, min_ratio=0.1) == pytest.approx(0.1)


def test_atomic_checkpoint_leaves_no_temp_files(tmp_path):
    p = tmp_path / "c" / "x.pt"
    checkpoint.save_checkpoint(p, {"step": 3, "w": torch.arange(4.0)})
    checkpoint.save_checkpoint(p, {"step": 4, "w": torch.arange(5.0)})
    assert [f.name for f in p.parent.iterdir()] == ["x.pt"]
    s = checkpoint.load_checkpoint(p)
    assert s["step"] == 4 and torch.equal(s["w"], torch.arange(5.0))
    assert checkpoint.load_checkpoint(tmp_path / "missing.pt") is None


def _task(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.SiLU(), nn.Linear(8, 2))
    data = torch.randn(40, 6, generator=torch.Generator().manual_seed(1))

    def loss_fn(step, g):
        x = data[loop.batch_indices(0, step, 8, len(data))]
        x = x + 0.1 * torch.randn(x.shape, generator=g)  # per-step randomness from (seed, step)
        return model(x).pow(2).mean(), {}

    return loop.Task("toy", model, list(model.parameters()), loss_fn, steps=6, lr=1e-2, warmup=2, ema_decay=0.9,
                     log_every=100)


def test_resume_equals_uninterrupted(tmp_path):
    full, full_ema = loop.run(_task(), tmp_path / "a.pt")
    part = _task()
    loop.run(part, tmp_path / "b.pt", stop_after=4)  # "interrupted" after 4 of 6 steps
    assert checkpoint.load_checkpoint(tmp_path / "b.pt")["step"] == 4
    resumed, resumed_ema = loop.run(_task(seed=123), tmp_path / "b.pt")  # fresh process: other init
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k
    for k in full_ema.shadow:
        assert torch.equal(full_ema.shadow[k], resumed_ema.shadow[k]), k


def test_a_checkpoint_from_other_inputs_is_refused_and_one_without_a_record_continues(tmp_path):
    first = _task()
    first.inputs = {"vae": "aaaa"}
    loop.run(first, tmp_path / "d.pt", stop_after=2)
    assert checkpoint.load_checkpoint(tmp_path / "d.pt")["extra"]["inputs"] == {"vae": "aaaa"}
    other = _task()
    other.inputs = {"vae": "bbbb"}
    with pytest.raises(loop.CheckpointMismatch, match=r"d\.pt: trained from another vae \(aaaa, this run's bbbb\)"):
        loop.run(other, tmp_path / "d.pt")
    assert checkpoint.load_checkpoint(tmp_path / "d.pt")["step"] == 2  # untouched
    same = _task()
    same.inputs = {"vae": "aaaa"}
    loop.run(same, tmp_path / "d.pt", stop_after=1)
    assert checkpoint.load_checkpoint(tmp_path / "d.pt")["step"] == 3
    legacy = checkpoint.load_checkpoint(tmp_path / "d.pt")  # written before checkpoints kept their inputs
    del legacy["extra"]["inputs"]
    checkpoint.save_checkpoint(tmp_path / "d.pt", legacy)
    loop.run(other, tmp_path / "d.pt", stop_after=1)
    assert checkpoint.load_checkpoint(tmp_path / "d.pt")["extra"]["inputs"] == {"vae": "bbbb"}


def test_model_fingerprint_follows_the_weights_at_shipping_precision():
    torch.manual_seed(0)
    a = nn.Linear(4, 3)
    fp = checkpoint.model_fingerprint(a, 0.5)
    b = nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    assert checkpoint.model_fingerprint(b.half(), 0.5) == fp  # its float16 export
    assert checkpoint.model_fingerprint(b, 0.6) != fp  # another scaling factor
    with torch.no_grad():
        b.weight[0, 0] += 0.01
    assert checkpoint.model_fingerprint(b, 0.5) != fp


def test_no_resume_starts_over(tmp_path):
    loop.run(_task(), tmp_path / "c.pt", stop_after=3)
    m, _ = loop.run(_task(), tmp_path / "c.pt", resume=False, stop_after=1)
    assert checkpoint.load_checkpoint(tmp_path / "c.pt")["step"] == 1


def test_second_run_of_a_stage_refuses_but_other_stages_may_run(tmp_path):
    with open(tmp_path / ".lock.unet", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert train_mini.main(["--config", str(tmp_path / "unused.yaml"), "--work", str(tmp_path)]) == 2
        assert train_mini.main(["--config", str(tmp_path / "unused.yaml"), "--work", str(tmp_path),
                                "--only", "unet"]) == 2
    # --only unet trains a missing VAE (and its adversarial fine-tune) on the way, so it takes their locks
    for prerequisite in ("vae", "vae_decoder"):
        with open(tmp_path / f".lock.{prerequisite}", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            assert train_mini.main(["--config", str(tmp_path / "unused.yaml"), "--work", str(tmp_path),
                                    "--only", "unet"]) == 2
    with open(tmp_path / ".lock.unet", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # another stage takes its own lock and gets as far as reading the (missing) config
        with pytest.raises((FileNotFoundError, SystemExit)):
            train_mini.main(["--config", str(tmp_path / "unused.yaml"), "--work", str(tmp_path),
                             "--only", "identity"])


def test_unknown_stage_is_an_error(tmp_path):
    with pytest.raises(SystemExit):
        train_mini.main(["--config", str(TINY_CONFIG), "--work", str(tmp_path), "--only", "nope"])


def test_unknown_stage2_variant_is_an_error(tmp_path):
    with pytest.raises(SystemExit, match="no_such"):
        train_mini.main(["--config", str(TINY_CONFIG), "--work", str(tmp_path), "--only", "stage2", "--variants", "no_such"])


def test_stage2_cli_and_train_mini_take_the_same_variant_lock(tmp_path):
    with open(tmp_path / ".lock.stage2-no_face", "w") as held:   # what train_mini --variants no_face holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert stage2_train.main(["--config", str(tmp_path / "unused.yaml"), "--variant", "full,no_face",
                                  "--base", str(tmp_path), "--work", str(tmp_path)]) == 2
    # nothing of the refused run is left holding a lock
    with open(tmp_path / ".lock.stage2-full", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_resumed_runs_first_log_line_averages_its_own_steps(tmp_path):
    def task():
        model = nn.Linear(2, 1)
        return loop.Task("avg", model, list(model.parameters()), lambda step, g: (model.weight.sum() * 0, {"x": 2.0}),
                         steps=8, lr=1e-3, log_every=4)

    class Lines(logging.Handler):
        def __init__(self):
            super().__init__(logging.INFO)
            self.lines = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    loop.run(task(), tmp_path / "e.pt", stop_after=1)
    seen = Lines()
    loop.LOG.addHandler(seen)  # directly: train_mini's logging set-up stops propagation to the root
    level = loop.LOG.level
    loop.LOG.setLevel(logging.INFO)
    try:
        loop.run(task(), tmp_path / "e.pt")  # steps 2-4 fall in the first interval: 3 of its 4 steps
    finally:
        loop.LOG.removeHandler(seen)
        loop.LOG.setLevel(level)
    lines = [m for m in seen.lines if "[avg] step" in m]
    assert len(lines) == 2 and all("x=2 " in m for m in lines), lines
