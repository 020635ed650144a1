"""probe_base.py: the base model judged from the UNet trainer's checkpoint while it trains."""
import json

import pytest
import torch
from diffusers import AutoencoderKL

from train_helpers import TOKENIZER
from photoverse_train.common.checkpoint import save_checkpoint
from photoverse_train.evaluate import evaluate
from photoverse_train.model.adapter_file import save_adapter
from photoverse_train.probe_base import BASE_ROW, probe, probe_unet
from photoverse_train.stage1.models import build_unet
from photoverse_train.stage1.unet import vae_fingerprint
from photoverse_train.stage2.base import build_model, load_base
from photoverse_train.stage2.tiny import TINY_MODELS, make_tiny_work, tiny_config


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("probe")
    base, work = make_tiny_work(root)
    cfg = tiny_config()
    cfg["eval"].update(seeds=[0], prompts_per_identity=2)
    return cfg, base, work, root / "stage1"


def test_a_checkpoint_gives_its_ema_weights_and_latent_space(tmp_path):
    torch.manual_seed(0)
    unet = build_unet(TINY_MODELS["unet"])
    raw = unet.state_dict()
    ema = {k: v + 0.5 for k, v in raw.items() if v.dtype.is_floating_point}
    save_checkpoint(tmp_path / "unet.pt", {"step": 7, "module": raw, "optimizer": {}, "ema": {"decay": 0.9, "shadow": ema},
                                           "extra": {"inputs": {"vae": "abc"}}})
    loaded, step, trained_on = probe_unet(TINY_MODELS["unet"], tmp_path / "unet.pt")
    assert (step, trained_on) == (7, "abc")
    key = "conv_in.weight"
    assert torch.equal(loaded.state_dict()[key], ema[key]) and not torch.equal(loaded.state_dict()[key], raw[key])
    # a checkpoint of another UNet (the config changed since): one line naming the file
    wider = {**TINY_MODELS["unet"], "block_out_channels": [16, 32, 32]}
    with pytest.raises(SystemExit) as refused:
        probe_unet(wider, tmp_path / "unet.pt")
    assert str(refused.value).startswith(f"{tmp_path / 'unet.pt'}: not a checkpoint of the config's UNet (unet.model): ")
    assert "\n" not in str(refused.value)


def test_the_probe_is_the_evaluations_base_row_and_leaves_only_its_report(tiny):
    cfg, base, work, s1 = tiny
    unet, step, trained_on = probe_unet(TINY_MODELS["unet"], s1 / "unet")
    out = work / "probe" / "base-000042"
    payload = probe(cfg, work, unet, out, s1 / "clip", s1 / "vae", TOKENIZER, "cmd", log=lambda m: None)
    assert [r["key"] for r in payload["rows"]] == ["base"]
    assert sorted(p.name for p in out.iterdir()) == ["DONE.json", "PROBE.md", "grid.png", "results.json"]
    assert not (work / "eval").exists()  # the real evaluation's folder is not touched
    text = (out / "PROBE.md").read_text()
    assert "| Requested attribute | Base | Real renderings | Real through the VAE |" in text
    assert set(payload["attribute_hits"]) == {"base", "real", "vae_round_trip"}
    # the same numbers as the evaluation's base row on the exported base (any adapter: sigma = alpha = 0)
    adapter = work / "untrained.safetensors"
    save_adapter(str(adapter), build_model(load_base(base), cfg["model"]), {"default_num_words": "1"})
    again = evaluate(cfg, base, work, work / "R.md", "x", adapters={"full": adapter}, rows=BASE_ROW,
                     eval_dir=work / "again", log=lambda m: None)
    for k in ("id_mean", "acc_mean"):
        assert payload["rows"][0][k] == pytest.approx(again["rows"][0][k], abs=1e-6)
    assert json.loads((out / "results.json").read_text())["rows"][0]["key"] == "base"


def test_a_unet_of_another_latent_space_is_refused(tiny):
    cfg, _, work, s1 = tiny
    unet, _, _ = probe_unet(TINY_MODELS["unet"], s1 / "unet")
    real = vae_fingerprint(AutoencoderKL.from_pretrained(s1 / "vae"))
    with pytest.raises(SystemExit, match=r"stage1/vae: not the latent space the UNet was trained on \(0123"):
        probe(cfg, work, unet, work / "probe" / "x", s1 / "clip", s1 / "vae", TOKENIZER, trained_on="0123" + real[4:],
              log=lambda m: None)


def test_vae_only_gives_the_reference_points_alone(tiny):
    """--vae-only: a VAE judged by its round trip before any UNet (the rows' table is left out)."""
    cfg, _, work, s1 = tiny
    payload = probe(cfg, work, build_unet(TINY_MODELS["unet"]), work / "probe" / "vae-vae", s1 / "clip", s1 / "vae",
                    TOKENIZER, "cmd", log=lambda m: None, rows=[])
    assert payload["rows"] == [] and {r["key"] for r in payload["reference_rows"]} >= {"real", "vae_round_trip"}
    text = (work / "probe" / "vae-vae" / "PROBE.md").read_text()
    assert "| No personalisation" not in text
    assert "| Requested attribute | Real renderings | Real through the VAE |" in text
