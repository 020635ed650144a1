"""Stage-2 trainer on a tiny random base: gradients only on the trainable parameters, the loss
goes down on a repeated batch, a resumed run equals an uninterrupted one, finished variants are
skipped, variant configs (photoverse_train/stage2/train.py)."""
import shutil
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))

from photoverse_train.common.checkpoint import is_done, load_checkpoint  # noqa: E402
from photoverse_train.common.config import load_config  # noqa: E402
from photoverse_train.common.datacache import load  # noqa: E402
from photoverse_train.common.loop import step_generator  # noqa: E402
from photoverse_train.identity.train import load_net  # noqa: E402
from photoverse_train.model import load_adapter  # noqa: E402
from photoverse_train.stage2.base import base_parameter_ids, build_model, load_base, photoverse_config  # noqa: E402
from photoverse_train.stage2.tiny import make_tiny_work, tiny_config  # noqa: E402
from photoverse_train.stage2.train import (  # noqa: E402
    ADAPTER_FILE, Stage2Data, check_supported, make_loss_fn, train_latents, train_stage2, variant_train_config)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("stage2")
    base, work = make_tiny_work(root)
    return root, base, work


def _setup(base, work, cfg):
    parts = load_base(base)
    model = build_model(parts, cfg["model"])
    id_net = load_net(work / "nets" / "identity")
    id_net.requires_grad_(False)
    train = load(work / "data" / "train.npz")
    mc = model.config
    data = Stage2Data(train, train_latents(parts["vae"], train, work), mc.image_size, mc.image_mean, mc.image_std)
    tc = variant_train_config(cfg, "full")
    return parts, model, id_net, make_loss_fn(model, parts, id_net, data, tc, 0), base_parameter_ids(parts, model)


def test_variant_configs():
    cfg = tiny_config()
    assert variant_train_config(cfg, "full")["loss"] == {"face": 0.01, "treg": 0.01, "sreg": 0.001}
    assert variant_train_config(cfg, "no_face")["loss"] == {"face": 0.0, "treg": 0.01, "sreg": 0.001}
    assert variant_train_config(cfg, "no_reg")["loss"] == {"face": 0.01, "treg": 0.0, "sreg": 0.0}
    with pytest.raises(SystemExit):
        variant_train_config(cfg, "nope")


def test_sd15_config_describes_the_paper_setting():
    cfg = load_config(ROOT / "training" / "configs" / "sd15_stage2.yaml")
    pc = photoverse_config(cfg["model"], cfg["base_model"])
    assert list(pc.encoder_layers) == [-1, 4, 8, 12, 16] and pc.num_tokens == 5 and pc.adapter_hidden == 1024
    assert variant_train_config(cfg, "full")["loss"] == {"face": 0.01, "treg": 0.01, "sreg": 0.001}
    check_supported(cfg)  # photo folder + ArcFace: stage2/inputs.py (tests/test_sd15_path.py)
    assert cfg["data"]["kind"] == "folder" and cfg["identity"]["kind"] == "arcface"
    sd15 = load_config(ROOT / "training" / "configs" / "sd15.yaml")
    assert sd15["data"]["kind"] == cfg["data"]["kind"] and sd15["data"]["path"] == cfg["data"]["path"]
    for bad in ({"data": {"kind": "photo_folder", "path": "/x"}}, {"identity": {"kind": "facenet"}},
                {"identity": {"kind": "arcface"}}):
        with pytest.raises(SystemExit):
            check_supported(bad)
    mini = load_config(ROOT / "training" / "configs" / "mini_stage2.yaml")
    check_supported(mini)
    assert variant_train_config(mini, "no_reg")["loss"] == {"face": 0.01, "treg": 0.0, "sreg": 0.0}


def test_step_gives_finite_gradients_only_on_trainable_parameters(tiny):
    _, base, work = tiny
    cfg = tiny_config()
    cfg["train"]["batch"] = 8
    parts, model, id_net, loss_fn, base_ids = _setup(base, work, cfg)
    for q in model.attn2_names:  # IP-Adapter's initialisation of the image keys/values
        attn = parts["unet"].get_submodule(q)
        assert torch.equal(model.processor(q).to_k_ip.weight, attn.to_k.weight)
        assert torch.equal(model.processor(q).to_v_ip.weight, attn.to_v.weight)
    loss, logs = loss_fn(0, step_generator(0, 0))
    assert torch.isfinite(loss) and {"diff", "treg", "sreg", "face"} <= set(logs)
    loss.backward()
    trainable = model.trainable_parameters()
    assert {id(p) for p in trainable}.isdisjoint(base_ids)
    for p in trainable:
        assert p.requires_grad and p.grad is not None and torch.isfinite(p.grad).all()
    assert len(base_ids) > 0
    for name in ("unet", "vae", "text_encoder", "image_encoder"):
        for n, p in parts[name].named_parameters():
            if id(p) in base_ids:
                assert p.grad is None and not p.requires_grad, f"{name}.{n}"
            else:
                assert name == "unet" and ".processor." in n, n  # the installed attn2 processors
    assert all(p.grad is None for p in id_net.parameters())
    # every trainable group got some signal
    assert any(float(p.grad.abs().sum()) > 0 for p in model.text_adapter.parameters())
    assert any(float(p.grad.abs().sum()) > 0 for p in model.image_adapter.parameters())
    lora_b = [model.processor(q).to_k_lora_B.weight for q in model.attn2_names]
    assert any(float(w.grad.abs().sum()) > 0 for w in lora_b)


def test_loss_goes_down_on_a_repeated_batch(tiny):
    _, base, work = tiny
    cfg = tiny_config()
    cfg["train"]["batch"] = 8
    cfg["train"]["fusion"] = {"p_uncond": 0.0}  # every row conditioned
    _, model, _, loss_fn, _ = _setup(base, work, cfg)
    opt = torch.optim.Adam(model.trainable_parameters(), lr=3e-3)
    losses = []
    for _ in range(6):
        loss, _ = loss_fn(0, step_generator(0, 0))  # the same batch, noise and draws every time
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_resume_equals_an_uninterrupted_run_and_done_is_skipped(tiny, tmp_path):
    _, base, work = tiny
    cfg = tiny_config()
    cfg["train"]["steps"] = 3
    works = []
    for name in ("straight", "resumed"):
        w = tmp_path / name
        shutil.copytree(work / "data", w / "data")
        shutil.copytree(work / "nets", w / "nets")
        works.append(w)
    parts = load_base(base)  # shared: each call builds a fresh PhotoVerseModel on it
    train_stage2(cfg, "full", base, works[0], parts=parts)
    train_stage2(cfg, "full", base, works[1], stop_after=1, parts=parts)
    ck = load_checkpoint(works[1] / "checkpoints" / "stage2-full.pt")
    assert ck["step"] == 1 and not is_done(works[1] / "stage2" / "full")
    train_stage2(cfg, "full", base, works[1], parts=parts)
    a = load_checkpoint(works[0] / "checkpoints" / "stage2-full.pt")
    b = load_checkpoint(works[1] / "checkpoints" / "stage2-full.pt")
    assert a["step"] == b["step"] == 3
    for k, v in a["module"].items():
        assert torch.equal(v, b["module"][k]), k
    ta, meta = load_adapter(str(works[0] / "stage2" / "full" / ADAPTER_FILE))
    tb, _ = load_adapter(str(works[1] / "stage2" / "full" / ADAPTER_FILE))
    assert all(torch.equal(ta[k], tb[k]) for k in ta)
    assert meta["default_num_words"] == "1" and meta["base_model"] == "photoverse-tiny"
    # done: a second call does nothing (the file is not rewritten)
    f = works[0] / "stage2" / "full" / ADAPTER_FILE
    before = f.stat().st_mtime_ns
    train_stage2(cfg, "full", base, works[0])
    assert f.stat().st_mtime_ns == before
    assert (works[0] / "stage2" / "full" / "train.log").read_text().count("stage2-full") > 0
