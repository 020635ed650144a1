"""Stage 1 at tiny scale: each trainer runs, a resumed trainer ends where an uninterrupted one
does, and the exported diffusers folder loads with diffusers/transformers and reproduces the
trained modules' outputs (fp16-rounded weights)."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
from safetensors import safe_open
from transformers import CLIPTextModel, CLIPTokenizer, CLIPVisionModelWithProjection

from train_helpers import TOKENIZER, tiny_config, tiny_data
from photoverse_train.common.checkpoint import is_done, load_checkpoint
from photoverse_train.export import export_base
from photoverse_train.stage1.clip import contrastive_loss, train_clip
from photoverse_train.stage1.models import ClipPair, load_tokenizer
from photoverse_train.stage1.unet import encode_latents, read_latent_cache, train_unet, vae_fingerprint
from photoverse_train.stage1.vae import train_vae


@pytest.fixture(scope="module")
def data():
    return tiny_data()


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(TOKENIZER)


@pytest.fixture(scope="module")
def stage1(tmp_path_factory, data, tokenizer):
    """A complete tiny stage 1 (vae, clip, unet) trained in a temp work folder."""
    work = tmp_path_factory.mktemp("work")
    cfg = tiny_config()
    train, held = data
    vae = train_vae(cfg["vae"], train, held, work / "stage1" / "vae", work)
    train_clip(cfg["clip"], tokenizer, train, held, work / "stage1" / "clip", work)
    te = CLIPTextModel.from_pretrained(work / "stage1" / "clip" / "text_encoder")
    train_unet(cfg["unet"], vae, te, tokenizer, train, work / "stage1" / "unet", work)
    return work


def test_data_cache_layout(data):
    train, held = data
    assert train["images"].dtype == np.uint8 and train["images"].shape[1:] == (64, 64, 3)
    assert len(train["images"]) == len(train["captions"]) == len(train["labels"]) == len(train["identities"])
    assert set(train["identities"]).isdisjoint(set(held["identities"]))
    assert all(c.startswith(("a photo of a person", "a pencil sketch of a person", "a cartoon of a person",
                             "an oil painting of a person")) for c in train["captions"])
    assert train["ref_images"].shape[:2] == (len(set(train["identities"])), 1)


def test_stage1_outputs_and_samples(stage1):
    for sub in ("vae", "clip", "unet"):
        assert is_done(stage1 / "stage1" / sub), sub
    vcfg = json.loads((stage1 / "stage1" / "vae" / "config.json").read_text())
    assert vcfg["scaling_factor"] != 0.18215 and vcfg["scaling_factor"] > 0  # measured from data
    info = json.loads((stage1 / "stage1" / "vae" / "DONE.json").read_text())
    assert np.isfinite(info["psnr_heldout_db"])
    assert (stage1 / "stage1" / "clip" / "text_encoder" / "model.safetensors").exists()
    assert (stage1 / "stage1" / "clip" / "image_encoder" / "config.json").exists()
    samples = sorted(p.name for p in (stage1 / "samples").iterdir())
    assert any(s.startswith("vae-") for s in samples) and any(s.startswith("unet-") for s in samples)


def test_vae_trainer_resume_equals_uninterrupted(tmp_path, data):
    cfg = tiny_config("vae.train.steps=4", "vae.train.full_steps=1", "vae.train.sample_every=0")["vae"]
    train, held = data
    train_vae(cfg, train, held, tmp_path / "a" / "vae", tmp_path / "a")
    train_vae(cfg, train, held, tmp_path / "b" / "vae", tmp_path / "b", stop_after=2)
    assert not is_done(tmp_path / "b" / "vae")
    assert load_checkpoint(tmp_path / "b" / "checkpoints" / "vae.pt")["step"] == 2
    train_vae(cfg, train, held, tmp_path / "b" / "vae", tmp_path / "b")
    a = AutoencoderKL.from_pretrained(tmp_path / "a" / "vae").state_dict()
    b = AutoencoderKL.from_pretrained(tmp_path / "b" / "vae").state_dict()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_contrastive_loss_treats_repeated_captions_as_positives():
    cfg = tiny_config()["clip"]
    torch.manual_seed(0)
    model = ClipPair(cfg["text"], cfg["vision"], cfg["projection_dim"])
    ids = torch.randint(0, 1000, (4, 8))
    px = torch.randn(4, 3, 64, 64)
    # distinct captions: CLIP's symmetric cross-entropy
    loss, _ = contrastive_loss(model, ids, torch.arange(4), px)
    with torch.no_grad():
        logits = model.logits(ids, px)
    want = 0.5 * (F.cross_entropy(logits, torch.arange(4)) + F.cross_entropy(logits.t(), torch.arange(4)))
    assert float(loss) == pytest.approx(float(want), rel=1e-5)
    # images 0 and 1 share a caption: each of the pair is a positive of the other's caption
    loss_dup, _ = contrastive_loss(model, ids, torch.tensor([0, 0, 1, 2]), px)
    t = torch.tensor([[.5, .5, 0, 0], [.5, .5, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    want_dup = 0.5 * (-(t * logits.log_softmax(1)).sum(1).mean() - (t * logits.t().log_softmax(1)).sum(1).mean())
    assert float(loss_dup) == pytest.approx(float(want_dup), rel=1e-5)


def test_export_round_trip(stage1, tokenizer, tmp_path):
    out = export_base(stage1 / "stage1", TOKENIZER, tmp_path / "mini-base")
    index = json.loads((out / "model_index.json").read_text())
    assert index["unet"] == ["diffusers", "UNet2DConditionModel"]
    assert index["image_encoder"] == ["transformers", "CLIPVisionModelWithProjection"]
    sched = json.loads((out / "scheduler" / "scheduler_config.json").read_text())
    assert (sched["beta_start"], sched["beta_end"], sched["beta_schedule"], sched["num_train_timesteps"]) == \
        (0.00085, 0.012, "scaled_linear", 1000)
    with safe_open(str(out / "unet" / "diffusion_pytorch_model.safetensors"), "pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"F16"}

    def same(a, b):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)

    torch.manual_seed(0)
    s1 = stage1 / "stage1"
    # text encoder: exported fp16 weights loaded as float32 == trained weights rounded to fp16
    ref = CLIPTextModel.from_pretrained(s1 / "clip" / "text_encoder").half().float().eval()
    got = CLIPTextModel.from_pretrained(out / "text_encoder", torch_dtype=torch.float32).eval()
    ids = CLIPTokenizer.from_pretrained(out / "tokenizer")(["a photo of a person"], padding="max_length",
                                                         max_length=77, return_tensors="pt").input_ids
    assert torch.equal(ids, tokenizer(["a photo of a person"], padding="max_length", max_length=77,
                                      return_tensors="pt").input_ids)
    with torch.no_grad():
        same(ref(ids).last_hidden_state, got(ids).last_hidden_state)
        vref = CLIPVisionModelWithProjection.from_pretrained(s1 / "clip" / "image_encoder").half().float().eval()
        vgot = CLIPVisionModelWithProjection.from_pretrained(out / "image_encoder", torch_dtype=torch.float32).eval()
        px = torch.randn(2, 3, 64, 64)
        same(vref(px).image_embeds, vgot(px).image_embeds)
        uref = UNet2DConditionModel.from_pretrained(s1 / "unet").half().float().eval()
        ugot = UNet2DConditionModel.from_pretrained(out / "unet", torch_dtype=torch.float32).eval()
        z, enc = torch.randn(1, 4, 16, 16), torch.randn(1, 77, ugot.config.cross_attention_dim)
        same(uref(z, 500, enc).sample, ugot(z, 500, enc).sample)
        aref = AutoencoderKL.from_pretrained(s1 / "vae").half().float().eval()
        agot = AutoencoderKL.from_pretrained(out / "vae", torch_dtype=torch.float32).eval()
        assert agot.config.scaling_factor == aref.config.scaling_factor
        same(aref.decode(z).sample, agot.decode(z).sample)
        # the whole folder as a diffusers pipeline
        pipe = StableDiffusionPipeline.from_pretrained(out, torch_dtype=torch.float32, safety_checker=None,
                                                       feature_extractor=None)
        img = pipe("a photo of a person", num_inference_steps=2, height=64, width=64, output_type="np").images
    assert img.shape == (1, 64, 64, 3) and np.isfinite(img).all()


def _other_vae(stage1, part="encoder"):
    """Stage 1's VAE with its encoder (other latents) or only its decoder moved."""
    vae = AutoencoderKL.from_pretrained(stage1 / "stage1" / "vae")
    with torch.no_grad():
        (vae.encoder.conv_in if part == "encoder" else vae.decoder.conv_out).bias += 0.05
    return vae


def test_the_vae_fingerprint_is_its_latent_space(stage1):
    vae = AutoencoderKL.from_pretrained(stage1 / "stage1" / "vae")
    assert vae_fingerprint(_other_vae(stage1, "decoder")) == vae_fingerprint(vae)  # a decoder fine-tune
    assert vae_fingerprint(_other_vae(stage1, "encoder")) != vae_fingerprint(vae)
    vae.register_to_config(scaling_factor=vae.config.scaling_factor * 1.01)
    assert vae_fingerprint(vae) != vae_fingerprint(AutoencoderKL.from_pretrained(stage1 / "stage1" / "vae"))


def test_the_latent_cache_belongs_to_its_vae_and_the_stage2_base_reuses_it(stage1, data, tmp_path):
    train, _ = data
    vae = AutoencoderKL.from_pretrained(stage1 / "stage1" / "vae").eval()
    cache = stage1 / "cache" / "train_latents.npz"
    with np.load(cache) as z:
        assert str(z["vae"]) == vae_fingerprint(vae)
    # the exported base (float16) has stage 1's fingerprint, so stage 2 reuses stage 1's cache
    base_vae = AutoencoderKL.from_pretrained(export_base(stage1 / "stage1", TOKENIZER, tmp_path / "base") / "vae")
    assert read_latent_cache(cache, vae_fingerprint(base_vae), len(train["images"])) is not None
    # another VAE's cache is not used: it is encoded again and the file says whose it is now
    copy = tmp_path / "train_latents.npz"
    copy.write_bytes(cache.read_bytes())
    other = _other_vae(stage1).eval()  # the encoder moved: other latents
    got = encode_latents(other, train["images"], copy)
    with np.load(cache) as z:
        assert not np.allclose(got["mean"], z["mean"], atol=1e-3)
    with np.load(copy) as z:
        assert str(z["vae"]) == vae_fingerprint(other) and np.array_equal(z["mean"], got["mean"])


def test_a_unet_trained_on_another_vaes_latents_is_refused(stage1, data, tokenizer):
    cfg = tiny_config()
    train, _ = data
    te = CLIPTextModel.from_pretrained(stage1 / "stage1" / "clip" / "text_encoder")
    with pytest.raises(SystemExit, match=r"unet: trained on another VAE's latents .*move it and checkpoints/unet\.pt"):
        train_unet(cfg["unet"], _other_vae(stage1), te, tokenizer, train, stage1 / "stage1" / "unet", stage1)
    vae = AutoencoderKL.from_pretrained(stage1 / "stage1" / "vae")
    assert json.loads((stage1 / "stage1" / "unet" / "DONE.json").read_text())["vae"] == vae_fingerprint(vae)
    train_unet(cfg["unet"], vae, te, tokenizer, train, stage1 / "stage1" / "unet", stage1)  # its own: done already
