"""--device (issue 2.2): every stage places its work on dist.device(); draws stay on the CPU
generator and checkpoints hold CPU tensors, so a run moves between CPU and GPU. The CPU path is
checked here (no GPU on this machine); training/gpu_rebuild.sh smoke-tests cuda first."""

import json
import os
import subprocess
import sys
import tarfile
import time

import pytest
import torch

from train_helpers import REPO, TINY_CONFIG, TRAINING  # noqa: F401  (sys.path)

from photoverse_train import smoke  # noqa: E402
from photoverse_train.common import dist, loop  # noqa: E402
from photoverse_train.common.checkpoint import load_checkpoint, mark_done  # noqa: E402
from photoverse_train.stage1.unet import min_snr_weights  # noqa: E402
from photoverse_train.stage2.tiny import make_tiny_work  # noqa: E402
from test_train_common import _task  # noqa: E402


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)


def test_set_device_choices():
    try:
        assert dist.set_device("cpu") == torch.device("cpu")
        if not torch.cuda.is_available():
            with pytest.raises(SystemExit, match="no CUDA GPU"):
                dist.set_device("cuda")
            assert dist.set_device("auto") == torch.device("cpu")
        with pytest.raises(SystemExit):
            dist.set_device("tpu")
    finally:
        dist.set_device("auto")


def test_to_cpu_is_nested_and_keeps_values():
    state = {"a": torch.ones(2), "b": [torch.zeros(1), {"c": torch.arange(3)}], "step": 4}
    out = dist.to_cpu(state)
    assert out["step"] == 4 and torch.equal(out["b"][1]["c"], torch.arange(3))
    assert all(t.device.type == "cpu" for t in _tensors(out))


def test_min_snr_weights():
    acp = torch.tensor([0.999, 0.9, 0.5, 0.01])
    w = min_snr_weights(acp, 5.0)
    snr = acp / (1 - acp)
    assert torch.allclose(w, torch.where(snr > 5, 5 / snr, torch.ones_like(snr)))
    assert w[0] < 0.01 and w[-1] == 1.0
    assert torch.equal(min_snr_weights(acp, 0.0), torch.ones(4))


def test_train_mini_device_cpu_checkpoints_are_cpu_tensors(tmp_path):
    """Every stage-1 stage and network of the tiny config with --device cpu; the checkpoints hold
    CPU tensors only (what a GPU run writes too: loop.run saves dist.to_cpu of its state)."""
    work = tmp_path / "work"
    cmd = [sys.executable, "-m", "photoverse_train.train_mini", "--config", str(TINY_CONFIG), "--work", str(work),
           "--device", "cpu", "--only", "data,vae,clip,unet,attributes,identity,evaluator",
           "--set", "unet.train.min_snr_gamma=5.0"]
    r = subprocess.run(cmd, cwd=TRAINING, env={**os.environ, "PYTHONPATH": str(TRAINING)},
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    log = (work / "train.log").read_text()
    assert "device cpu" in log
    ckpts = sorted((work / "checkpoints").glob("*.pt"))
    assert {p.stem for p in ckpts} >= {"vae", "clip", "unet", "attributes", "identitynet", "evaluatornet"}
    for p in ckpts:
        state = load_checkpoint(p)
        assert all(t.device.type == "cpu" for t in _tensors(state)), p
    assert "mse=" in log  # the UNet logs the unweighted MSE beside the min-SNR-weighted loss


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_device_cuda_without_a_gpu_says_so_in_one_line(tmp_path):
    cmd = [sys.executable, "-m", "photoverse_train.train_mini", "--config", str(TINY_CONFIG), "--work",
           str(tmp_path / "w"), "--device", "cuda", "--only", "data"]
    r = subprocess.run(cmd, cwd=TRAINING, env={**os.environ, "PYTHONPATH": str(TRAINING)},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "no CUDA GPU" in r.stderr


def test_deadline_saves_then_exits_75_and_the_run_resumes(tmp_path):
    """train_mini --stop-at: the first step due after the deadline saves the checkpoint and exits
    with 75; the next run resumes and ends where an uninterrupted run ends."""
    full, _ = loop.run(_task(), tmp_path / "a.pt")
    task = _task()
    loop.run(task, tmp_path / "b.pt", stop_after=2)
    loop.set_stop_at(time.time() - 1)
    try:
        with pytest.raises(loop.DeadlineReached) as e:
            loop.run(_task(), tmp_path / "b.pt")
        assert e.value.code == loop.DEADLINE_EXIT == 75
    finally:
        loop.set_stop_at(None)
    assert load_checkpoint(tmp_path / "b.pt")["step"] == 2
    resumed, _ = loop.run(_task(seed=5), tmp_path / "b.pt")
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k


def test_smoke_module_runs_stage2_and_evaluation_on_cpu(tmp_path):
    """photoverse_train.smoke is what gpu_rebuild.sh runs on cuda before it spends the budget."""
    try:
        assert smoke.main(["--device", "cpu", "--root", str(tmp_path)]) == 0
    finally:
        dist.set_device("auto")
    assert (tmp_path / "stage2" / "work" / "stage2" / "no_face" / "DONE.json").exists()


def test_gpu_rebuild_script_parses_and_stops_in_one_line_without_cuda(tmp_path):
    script = TRAINING / "gpu_rebuild.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    env = {**os.environ, "OUT": str(tmp_path), "PV_PYTHON": sys.executable}
    r = subprocess.run(["bash", str(script), "run", "60"], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 3
    lines = [line for line in r.stdout.splitlines() if line.startswith("gpu_rebuild:")]
    assert len(lines) == 1 and "no CUDA-enabled torch" in lines[0]


def _gpu_rebuild(tmp, budget, extra_env):
    env = {**os.environ, "PV_PYTHON": sys.executable, "PV_DEVICE": "cpu", "PV_THREADS": "1", "PV_DATA_WORKERS": "2",
           "PV_SET": "stage2_config=configs/tiny_stage2.yaml", "PV_SMOKE": "0", "PV_CONFIG": "configs/tiny.yaml",
           **extra_env}
    return subprocess.run(["bash", str(TRAINING / "gpu_rebuild.sh"), "run", str(budget)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)


def test_gpu_rebuild_flow_on_the_cpu_at_the_tiny_size(tmp_path):
    """The script a GPU session runs, driven end to end on the CPU with the tiny configs: a run that
    hits its deadline in the UNet packs the finished stages; a fresh "machine" restores them, skips
    them and finishes: Models/mini + RESULTS.md come back in 15 MiB parts, every file in $OUT."""
    state, out2 = tmp_path / "state", tmp_path / "out2"
    # 1. deadline during the UNet (100k steps): VAE, CLIP and the networks finish and are packed.
    # 120 s are meant for data, VAE and CLIP; on a loaded machine the deadline may come before
    # the UNet, and then the run is simply run again, as a GPU session would (exit 75 = resume),
    # with a longer budget: the python start-up checks alone once took 60-100 s of a 171 s budget
    # with a trainer on both cores, so three equal budgets never reached the UNet
    for attempt, budget in enumerate((51 + 120, 330, 600)):
        out1 = tmp_path / f"out1-{attempt}"
        r = _gpu_rebuild(tmp_path, budget, {
            "OUT": str(out1), "PV_WORK": str(tmp_path / "w1"), "PV_STATE": str(state),
            "PV_PUBLISH": str(tmp_path / "m1"), "PV_RESULTS": str(tmp_path / "r1.md"),
            "PV_SET": "stage2_config=configs/tiny_stage2.yaml unet.train.steps=100000"})
        assert r.returncode == 75, r.stdout[-3000:] + r.stderr[-2000:]
        if "[unet] deadline reached" in (tmp_path / "w1" / "train.log").read_text():
            break
    assert "[unet] deadline reached" in (tmp_path / "w1" / "train.log").read_text()
    parts = sorted(out1.glob("gpu-state.tar.gz.part*"))
    assert parts and not list(out1.glob("models-mini*"))
    state.mkdir()
    for p in parts:
        (state / p.name).write_bytes(p.read_bytes())
    # 2. a fresh machine: restores the finished stages, trains the rest, publishes. The budget is a
    # ceiling (a quiet machine takes ~2 min); 400 s once ran out with the UNet trainer and other
    # tests beside it (the train phases must end 200 s before it, for packing and the evaluation)
    # (on a loaded machine it may still stop at its deadline: run again, as a GPU session would)
    stdout = ""
    for _ in range(3):
        r = _gpu_rebuild(tmp_path, 600, {
            "OUT": str(out2), "PV_WORK": str(tmp_path / "w2"), "PV_STATE": str(state), "PV_SMOKE": "1",
            "PV_PUBLISH": str(tmp_path / "m2"), "PV_RESULTS": str(tmp_path / "r2.md")})
        stdout += r.stdout
        if r.returncode != 75:
            break
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    log = (tmp_path / "w2" / "train.log").read_text()
    assert "[vae] done already" in log and "[clip] done already" in log and "smoke test ok" in stdout
    files = sorted(p.name for p in out2.iterdir())
    assert len(files) <= 8 and all(p.stat().st_size <= 16 * 2**20 for p in out2.iterdir()), files
    archive = tmp_path / "mini.tar"
    archive.write_bytes(b"".join(p.read_bytes() for p in sorted(out2.glob("models-mini.tar.part*"))))
    with tarfile.open(archive) as t:
        names = t.getnames()
    for name in ("Models/mini/README.md", "Models/mini/photoverse-adapter.safetensors", "Models/mini/evaluator/config.json",
                 "training/RESULTS.md", "training/work/eval/grid.png"):
        assert name in names, name
    assert "s/step" in (out2 / "timing.txt").read_text()


def test_set_stage2_keys_reach_the_stage2_config(tmp_path):
    """train_mini --set stage2.train.steps=N: the GPU script's lever for stage 2's length."""
    base, work = make_tiny_work(tmp_path)
    mark_done(base)
    cmd = [sys.executable, "-m", "photoverse_train.train_mini", "--config", str(TINY_CONFIG), "--work", str(work),
           "--device", "cpu", "--only", "stage2", "--variants", "full",
           "--set", "stage2_config=configs/tiny_stage2.yaml", "--set", "stage2.train.steps=2",
           "--set", "stage2.train.samples=false"]
    r = subprocess.run(cmd, cwd=TRAINING, env={**os.environ, "PYTHONPATH": str(TRAINING)},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((work / "stage2" / "full" / "DONE.json").read_text())["steps"] == 2
