"""The VAE fine-tune with a discriminator (stage1/vae_decoder.py) at tiny scale: by default the
latent space is untouched (encoder, quant conv, scaling factor bit-identical) and the decoder
moves; with train_encoder the encoder moves too, the scaling factor is measured again and
train_mini trains the UNet on that VAE's latents; the discriminator learns only from its own loss,
a resumed run ends where an uninterrupted one does, and the export ships the fine-tuned VAE."""

import json

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL

from train_helpers import TINY_CONFIG, TOKENIZER, tiny_config, tiny_data
from photoverse_train import latent_preview, train_mini
from photoverse_train.common.checkpoint import is_done, load_checkpoint
from photoverse_train.common.datacache import to_float
from photoverse_train.export import export_base
from photoverse_train.stage1.models import build_text_encoder, build_unet, build_vae, build_vision_encoder
from photoverse_train.stage1.vae import measure_scaling_factor, train_vae
from photoverse_train.stage1.vae_decoder import (PatchDiscriminator, adaptive_weight, deepen, freeze_encoder,
                                                 hinge_d_loss, train_vae_decoder)
from photoverse_train.stage2.tiny import TINY_MODELS


@pytest.fixture(scope="module")
def data():
    return tiny_data()


@pytest.fixture(scope="module")
def vae_dir(tmp_path_factory, data):
    work = tmp_path_factory.mktemp("vae")
    train, held = data
    train_vae(tiny_config()["vae"], train, held, work / "stage1" / "vae", work)
    return work / "stage1" / "vae"


def _decoder_cfg(*overrides):
    return tiny_config(*overrides)["vae_decoder"]


def test_fine_tune_keeps_the_latent_space_and_changes_the_decoder(tmp_path, data, vae_dir):
    train, held = data
    out = tmp_path / "stage1" / "vae-decoder"
    train_vae_decoder(_decoder_cfg(), train, held, vae_dir, out, tmp_path)
    assert is_done(out)
    before, after = AutoencoderKL.from_pretrained(vae_dir), AutoencoderKL.from_pretrained(out)
    assert after.config.scaling_factor == before.config.scaling_factor
    a, b = before.state_dict(), after.state_dict()
    latent_side = [k for k in a if k.startswith(("encoder.", "quant_conv."))]
    decoder_side = [k for k in a if k.startswith(("decoder.", "post_quant_conv."))]
    assert latent_side and decoder_side
    for k in latent_side:
        assert torch.equal(a[k], b[k]), k
    assert any(not torch.equal(a[k], b[k]) for k in decoder_side)
    info = json.loads((out / "DONE.json").read_text())
    assert info["steps"] == 3 and info["psnr_heldout_db"] > 0
    assert any(p.name.startswith("vae_decoder-") for p in (tmp_path / "samples").iterdir())


def test_resumed_fine_tune_ends_where_an_uninterrupted_one_does(tmp_path, data, vae_dir):
    cfg = _decoder_cfg("vae_decoder.train.steps=4", "vae_decoder.train.sample_every=0")
    train, held = data
    train_vae_decoder(cfg, train, held, vae_dir, tmp_path / "a" / "out", tmp_path / "a")
    train_vae_decoder(cfg, train, held, vae_dir, tmp_path / "b" / "out", tmp_path / "b", stop_after=2)
    assert not is_done(tmp_path / "b" / "out")
    state = load_checkpoint(tmp_path / "b" / "checkpoints" / "vae_decoder.pt")
    assert state["step"] == 2 and any(k.startswith("disc.") for k in state["module"])  # the critic is checkpointed
    train_vae_decoder(cfg, train, held, vae_dir, tmp_path / "b" / "out", tmp_path / "b")
    a = AutoencoderKL.from_pretrained(tmp_path / "a" / "out").state_dict()
    b = AutoencoderKL.from_pretrained(tmp_path / "b" / "out").state_dict()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_the_adversarial_term_reaches_the_decoder_but_not_the_discriminator():
    torch.manual_seed(0)
    vae = build_vae(tiny_config()["vae"]["model"])
    decoder_params = freeze_encoder(vae)
    assert all(not p.requires_grad for p in vae.encoder.parameters())
    disc = PatchDiscriminator(channels=4, layers=2)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    rec = vae.decode(vae.encode(x).latent_dist.mean).sample
    disc.requires_grad_(False)  # as the stage computes the decoder's adversarial term
    adv = -disc(rec).mean()
    disc.requires_grad_(True)
    adv.backward()
    assert all(p.grad is None for p in disc.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in decoder_params)
    d = hinge_d_loss(disc(x), disc(rec.detach()))
    d.backward()
    assert all(p.grad is not None for p in disc.parameters())


def test_adaptive_weight_is_the_ratio_of_gradient_norms():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    rec, adv = (w * torch.tensor([3.0, 4.0])).sum(), (w * 10.0).sum()  # gradients (3, 4) and (10, 10)
    got = adaptive_weight(rec, adv, w)
    assert float(got) == pytest.approx(5.0 / (200 ** 0.5 + 1e-4), rel=1e-6)
    assert not got.requires_grad
    assert hinge_d_loss(torch.full((1, 1, 2, 2), 2.0), torch.full((1, 1, 2, 2), -2.0)) == 0  # both beyond the margin


def test_export_ships_the_given_vae(tmp_path, data, vae_dir):
    """export_base(vae_dir=...) takes the fine-tuned VAE, the rest from the stage-1 folder."""
    train, held = data
    s1 = tmp_path / "stage1"
    train_vae_decoder(_decoder_cfg(), train, held, vae_dir, s1 / "vae-decoder", tmp_path)
    # a stage-1 folder whose other parts are stand-ins: only the VAE's provenance is checked here
    (s1 / "vae").symlink_to(vae_dir)
    build_unet(TINY_MODELS["unet"]).save_pretrained(s1 / "unet")
    build_text_encoder(TINY_MODELS["text"]).save_pretrained(s1 / "clip" / "text_encoder")
    build_vision_encoder(TINY_MODELS["vision"]).save_pretrained(s1 / "clip" / "image_encoder")
    out = export_base(s1, TOKENIZER, tmp_path / "base", vae_dir=s1 / "vae-decoder")
    got = AutoencoderKL.from_pretrained(out / "vae", torch_dtype=torch.float32).state_dict()
    want = AutoencoderKL.from_pretrained(s1 / "vae-decoder").half().float().state_dict()
    old = AutoencoderKL.from_pretrained(vae_dir).half().float().state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want)
    assert any(not torch.equal(got[k], old[k]) for k in old)


def test_deepened_vae_encodes_and_decodes_exactly_as_before(vae_dir):
    vae = AutoencoderKL.from_pretrained(vae_dir).eval()
    deeper = deepen(vae, 1).eval()
    assert deeper.config.layers_per_block == vae.config.layers_per_block + 1
    assert sum(p.numel() for p in deeper.decoder.parameters()) > sum(p.numel() for p in vae.decoder.parameters())
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        z, z2 = vae.encode(x).latent_dist.mean, deeper.encode(x).latent_dist.mean
        assert torch.equal(z, z2)
        assert torch.equal(vae.decode(z).sample, deeper.decode(z).sample)


def test_deepened_fine_tune_keeps_the_latents(tmp_path, data, vae_dir):
    train, held = data
    out = tmp_path / "vae-decoder"
    train_vae_decoder(_decoder_cfg("vae_decoder.extra_layers=1"), train, held, vae_dir, out, tmp_path)
    before, after = AutoencoderKL.from_pretrained(vae_dir).eval(), AutoencoderKL.from_pretrained(out).eval()
    assert after.config.layers_per_block == before.config.layers_per_block + 1
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.equal(before.encode(x).latent_dist.mean, after.encode(x).latent_dist.mean)


def test_with_train_encoder_the_whole_vae_trains_and_its_scale_is_measured_again(tmp_path, data, vae_dir):
    train, held = data
    out = tmp_path / "vae-decoder"
    cfg = _decoder_cfg("vae_decoder.train_encoder=true", "vae_decoder.train.scale_images=8")
    train_vae_decoder(cfg, train, held, vae_dir, out, tmp_path)
    before, after = AutoencoderKL.from_pretrained(vae_dir).state_dict(), AutoencoderKL.from_pretrained(out)
    moved = [k for k, v in after.state_dict().items() if k in before and not torch.equal(before[k], v)]
    assert any(k.startswith("encoder.") for k in moved) and any(k.startswith("decoder.") for k in moved)
    info = json.loads((out / "DONE.json").read_text())
    assert info["encoder"].startswith("trained from ")
    assert after.config.scaling_factor == pytest.approx(info["scaling_factor"])
    assert info["scaling_factor"] == pytest.approx(measure_scaling_factor(after.eval(), to_float(train["images"][:8])),
                                                   rel=1e-5)


def _train_mini_args(work) -> list:
    return ["--config", str(TINY_CONFIG), "--work", str(work), "--device", "cpu"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """One tiny train_mini run through every stage-1 stage (encoder trained by vae_decoder, the
    decoder refined after the UNet) and the export; its work folder."""
    work = tmp_path_factory.mktemp("pipeline")
    assert train_mini.main(_train_mini_args(work) + [
        "--only", "data,vae,vae_decoder,clip,unet,decoder_refine,export", "--set", "vae_decoder.train_encoder=true",
        "--set", "vae_decoder.train.sample_every=0", "--set", "unet.train.sample_every=0"]) == 0
    return work


def test_train_mini_trains_the_unet_on_the_fine_tuned_vaes_latents(pipeline):
    tmp_path = pipeline
    s1 = tmp_path / "stage1"
    assert is_done(s1 / "vae-decoder") and is_done(s1 / "unet")
    with np.load(tmp_path / "cache" / "train_latents.npz") as z:
        cached = torch.from_numpy(z["mean"][:4]).float()
    images = to_float(np.load(tmp_path / "data" / "train.npz")["images"][:4])
    with torch.no_grad():
        tuned = AutoencoderKL.from_pretrained(s1 / "vae-decoder").eval().encode(images).latent_dist.mean
        plain = AutoencoderKL.from_pretrained(s1 / "vae").eval().encode(images).latent_dist.mean
    assert torch.allclose(cached, tuned, atol=2e-3)  # the cache holds float16
    assert not torch.allclose(cached, plain, atol=2e-3)


def test_the_decoder_refined_after_the_unet_keeps_its_latents_and_is_shipped(pipeline):
    tmp_path = pipeline
    s1 = tmp_path / "stage1"
    tuned = AutoencoderKL.from_pretrained(s1 / "vae-decoder").state_dict()
    refined = AutoencoderKL.from_pretrained(s1 / "vae-refined").state_dict()
    assert json.loads((s1 / "vae-refined" / "DONE.json").read_text())["encoder"] == str(s1 / "vae-decoder")
    for k in tuned:
        if k.startswith(("encoder.", "quant_conv.")):
            assert torch.equal(tuned[k], refined[k]), k  # the latent space the UNet learned
    assert any(not torch.equal(tuned[k], refined[k]) for k in tuned if k.startswith("decoder."))
    shipped = AutoencoderKL.from_pretrained(tmp_path / "export" / "mini-base" / "vae").state_dict()
    key = "decoder.conv_out.weight"
    assert torch.equal(shipped[key], refined[key].half()) and not torch.equal(shipped[key], tuned[key].half())
    # the export refuses a VAE whose latent space the UNet did not learn (the plain VAE: its encoder moved since)
    with pytest.raises(SystemExit, match=r"stage1/vae: not the latent space the UNet was trained on"):
        export_base(s1, TOKENIZER, tmp_path / "wrong", vae_dir=s1 / "vae")
    assert not (tmp_path / "wrong").exists() and not (tmp_path / "wrong.tmp").exists()
    (tmp_path / "stage1" / "vae-refined" / "DONE.json").unlink()
    with pytest.raises(SystemExit, match="decoder_refine.train_encoder: must be false"):
        train_mini.main(_train_mini_args(tmp_path) + ["--only", "decoder_refine", "--set",
                                                      "decoder_refine.train_encoder=true"])


def test_the_export_fits_the_shipped_vaes_latent_preview(pipeline):
    vae = pipeline / "export" / "mini-base" / "vae"
    doc = json.loads((vae / "latent_preview.json").read_text())
    channels = json.loads((vae / "config.json").read_text())["latent_channels"]
    assert len(doc["latent_rgb_factors"]) == channels and doc["fitted_on"].endswith(" held-out images")
    # fitted on the held-out images: better than their mean colour on the same images
    images = to_float(np.load(pipeline / "data" / "heldout.npz")["images"][:256])
    z, t = latent_preview.latents_and_targets(AutoencoderKL.from_pretrained(vae), images)
    flat = latent_preview.rms_error(z, t, torch.zeros(channels, 3, dtype=z.dtype), t.mean(0))
    assert 0 < doc["rms_error"] < flat
