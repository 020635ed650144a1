"""Random fusion: proportions, per-sample gamma/sigma, captions, and what text-only / image-only
mean inside the model (photoverse_train/stage2/fusion.py)."""
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))

from photoverse_train.stage1.models import (  # noqa: E402
    build_text_encoder, build_unet, build_vision_encoder, load_tokenizer)
from photoverse_train.stage2.base import build_model  # noqa: E402
from photoverse_train.stage2.fusion import BOTH, IMAGE, TEXT, UNCOND, FusionConfig, draw_fusion  # noqa: E402
from photoverse_train.stage2.tiny import TINY_MODELS, TINY_STAGE2  # noqa: E402


def test_proportions_over_many_draws():
    f = draw_fusion(60000, torch.Generator().manual_seed(0))
    frac = {k: v / 60000 for k, v in f.counts().items()}
    assert frac["uncond"] == pytest.approx(0.1, abs=0.005)
    for k in ("text", "image", "both"):
        assert frac[k] == pytest.approx(0.9 / 3, abs=0.006)
    empty = f.empty_caption[f.mode == UNCOND].float().mean()
    assert float(empty) == pytest.approx(0.5, abs=0.02)
    assert not bool(f.empty_caption[f.mode != UNCOND].any())


def test_gamma_sigma_per_mode():
    f = draw_fusion(5000, torch.Generator().manual_seed(1))
    want = {UNCOND: (1.0, 0.0), TEXT: (2.0, 0.0), IMAGE: (1.0, 2.0), BOTH: (1.0, 1.0)}
    for mode, (g, s) in want.items():
        rows = f.mode == mode
        assert bool(rows.any())
        assert torch.all(f.gamma[rows] == g) and torch.all(f.sigma[rows] == s)
    assert torch.equal(f.uses_words, (f.mode == TEXT) | (f.mode == BOTH))
    assert torch.equal(f.uses_image, (f.mode == IMAGE) | (f.mode == BOTH))


def test_draw_is_a_function_of_the_generator_and_config():
    a = draw_fusion(64, torch.Generator().manual_seed(7))
    b = draw_fusion(64, torch.Generator().manual_seed(7))
    assert torch.equal(a.mode, b.mode) and torch.equal(a.gamma, b.gamma) and torch.equal(a.empty_caption, b.empty_caption)
    c = draw_fusion(1000, torch.Generator().manual_seed(7), FusionConfig(p_uncond=0.0, p_text=1.0, p_image=0.0))
    assert torch.all(c.mode == TEXT)
    with pytest.raises(ValueError):
        FusionConfig.from_dict({"p_txt": 0.3})


def test_captions_follow_the_branch():
    f = draw_fusion(400, torch.Generator().manual_seed(2))
    person = [f"a photo of a person {i}" for i in range(400)]
    star = [f"a photo of S* {i}" for i in range(400)]
    caps = f.captions(person, star)
    for i, c in enumerate(caps):
        m = int(f.mode[i])
        if m in (TEXT, BOTH):
            assert c == star[i]
        elif m == IMAGE:
            assert c == person[i]  # image branch only: no pseudo-words
        else:
            assert c == ("" if bool(f.empty_caption[i]) else person[i])
            assert "S*" not in c


@pytest.fixture(scope="module")
def tiny_model():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    parts = {"unet": build_unet(TINY_MODELS["unet"]), "text_encoder": build_text_encoder(TINY_MODELS["text"]),
             "image_encoder": build_vision_encoder(TINY_MODELS["vision"]),
             "tokenizer": load_tokenizer(ROOT / "Tests" / "Fixtures" / "clip-tokenizer")}
    model = build_model(parts, TINY_STAGE2["model"])
    for p in model.processors.parameters():  # LoRA B starts at 0: make every path matter
        torch.nn.init.normal_(p, std=0.3)
    return model


def test_text_only_ignores_the_image_and_image_only_ignores_the_pseudo_words(tiny_model):
    """One batch with every mode; changing the image tokens moves only IMAGE/BOTH rows, changing
    the pseudo-words moves only TEXT/BOTH rows (exactly)."""
    model = tiny_model
    f = draw_fusion(64, torch.Generator().manual_seed(3))
    order = [int(torch.nonzero(f.mode == m)[0]) for m in (UNCOND, TEXT, IMAGE, BOTH)]
    mode, gamma, sigma = f.mode[order], f.gamma[order], f.sigma[order]
    sub = type(f)(mode, gamma, sigma, torch.tensor([True, False, False, False]))
    caps = sub.captions(["a photo of a person smiling"] * 4, ["a photo of S* smiling"] * 4)
    g = torch.Generator().manual_seed(4)
    z = torch.randn(4, 4, 16, 16, generator=g)
    t = torch.tensor([500, 500, 500, 500])
    pw = torch.randn(4, 2, 16, generator=g)
    tok = torch.randn(4, 2, 16, generator=g)

    def eps(pw, tok):
        with torch.no_grad():
            return model(z, t, model.encode_prompts(caps, pw, 2), tok, gamma, sigma, 1.0)

    e0 = eps(pw, tok)
    e_img = eps(pw, tok + 1.0)
    e_txt = eps(pw + 1.0, tok)
    moved_by_image = [not torch.equal(e0[i], e_img[i]) for i in range(4)]
    moved_by_words = [not torch.equal(e0[i], e_txt[i]) for i in range(4)]
    assert moved_by_image == [False, False, True, True]   # uncond, text, image, both
    assert moved_by_words == [False, True, False, True]
    # gamma = 2 on the text-only row changes its output against gamma = 1
    with torch.no_grad():
        e_g1 = model(z, t, model.encode_prompts(caps, pw, 2), tok, torch.ones(4), sigma, 1.0)
    assert not torch.equal(e_g1[1], e0[1]) and torch.equal(e_g1[0], e0[0])
