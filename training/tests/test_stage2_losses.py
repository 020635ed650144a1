"""Stage-2 loss terms on hand-made inputs (photoverse_train/stage2/losses.py)."""
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))

from photoverse_train.identity.nets import face_crop  # noqa: E402
from photoverse_train.stage1.models import (  # noqa: E402
    build_text_encoder, build_unet, build_vision_encoder, load_tokenizer)
from photoverse_train.stage2.base import build_model  # noqa: E402
from photoverse_train.stage2.losses import (  # noqa: E402
    diffusion_loss,
    face_loss,
    identity_cosine_loss,
    masked_abs_mean,
    predicted_x0,
    sreg_loss,
    treg_loss,
)
from photoverse_train.stage2.tiny import TINY_MODELS, TINY_STAGE2  # noqa: E402


def test_diffusion_loss_is_mean_squared_error():
    eps_hat = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    eps = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    # (1 + 4 + 1 + 4) / 4
    assert float(diffusion_loss(eps_hat, eps)) == pytest.approx(2.5)


def test_predicted_x0_inverts_the_forward_process():
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(3, 4, 2, 2, generator=g)
    eps = torch.randn(3, 4, 2, 2, generator=g)
    a = torch.tensor([0.9, 0.5, 0.01])
    zt = a.sqrt().view(-1, 1, 1, 1) * x0 + (1 - a).sqrt().view(-1, 1, 1, 1) * eps
    assert torch.allclose(predicted_x0(zt, eps, a), x0, atol=1e-5)
    # by hand for one element: a = 0.25, z = 1, eps = 1 -> (1 - sqrt(0.75)) / 0.5
    got = predicted_x0(torch.ones(1, 1), torch.ones(1, 1), torch.tensor([0.25]))
    assert float(got) == pytest.approx((1 - 0.75 ** 0.5) / 0.5)


def test_identity_cosine_loss_values():
    t = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [3.0, 4.0]])
    p = torch.tensor([[2.0, 0.0], [0.0, 5.0], [-1.0, 0.0], [4.0, 3.0]])
    # 1 - cos: 0, 1, 2, 1 - 24/25
    want = (0 + 1 + 2 + (1 - 24 / 25)) / 4
    assert float(identity_cosine_loss(t, p)) == pytest.approx(want, abs=1e-6)
    assert float(identity_cosine_loss(t[:0], p[:0])) == 0.0


class _MeanColourId(nn.Module):
    """A stand-in identity network: the unit vector of the crop's mean colour."""

    def embed_faces(self, images, boxes):
        c = face_crop(images, boxes, 8).mean((2, 3))
        return torch.nn.functional.normalize(c, dim=-1)


def test_face_loss_on_crops_and_gradient_only_to_the_prediction():
    x = torch.zeros(2, 3, 16, 16)
    x[:, 0] = 1.0  # red faces
    boxes = torch.tensor([[4.0, 4.0, 8.0, 8.0], [4.0, 4.0, 8.0, 8.0]])
    same = x.clone().requires_grad_(True)
    assert float(face_loss(_MeanColourId(), x, same, boxes).detach()) == pytest.approx(0.0, abs=1e-6)
    other = torch.zeros(2, 3, 16, 16)
    other[:, 1] = 1.0  # green faces: orthogonal mean colours -> 1 - cos = 1
    other[:, 1, :2, :2] = -5.0  # outside the enlarged box: ignored
    other.requires_grad_(True)
    target = x.clone().requires_grad_(True)
    loss = face_loss(_MeanColourId(), target, other, boxes)
    assert float(loss.detach()) == pytest.approx(1.0, abs=1e-5)
    loss.backward()
    assert target.grad is None and other.grad is not None


def test_treg_is_mean_abs_over_rows_that_use_the_words():
    pw = torch.tensor([[[1.0, -3.0]], [[10.0, 10.0]], [[-2.0, 0.0]]], requires_grad=True)
    rows = torch.tensor([True, False, True])
    assert float(treg_loss(pw, rows).detach()) == pytest.approx((1 + 3 + 2 + 0) / 4)
    treg_loss(pw, rows).backward()
    assert torch.equal(pw.grad[1], torch.zeros(1, 2))
    assert float(masked_abs_mean(pw, torch.zeros(3, dtype=torch.bool)).detach()) == 0.0


def test_sreg_is_per_layer_mean_abs_then_mean_over_layers():
    v1 = torch.tensor([[[1.0, -1.0]], [[100.0, 100.0]]])  # [B=2, T=1, inner=2]
    v2 = torch.tensor([[[2.0, 4.0, -6.0]], [[100.0, 0.0, 0.0]]])  # inner=3
    rows = torch.tensor([True, False])
    assert float(sreg_loss([v1, v2], rows)) == pytest.approx((1.0 + 4.0) / 2)
    assert float(sreg_loss([], rows)) == 0.0
    assert float(sreg_loss([v1], torch.tensor([False, False]))) == 0.0


def test_sreg_reads_the_image_values_the_model_records():
    """model.state.record_image_values holds to_v_ip(f) of every attn2."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    parts = {"unet": build_unet(TINY_MODELS["unet"]), "text_encoder": build_text_encoder(TINY_MODELS["text"]),
             "image_encoder": build_vision_encoder(TINY_MODELS["vision"]),
             "tokenizer": load_tokenizer(ROOT / "Tests" / "Fixtures" / "clip-tokenizer")}
    model = build_model(parts, TINY_STAGE2["model"])
    tokens = torch.randn(2, 2, 16)
    model.state.record_image_values = []
    model(torch.randn(2, 4, 16, 16), torch.tensor([10, 20]), torch.randn(2, 77, 16), tokens, 1.0,
          torch.tensor([1.0, 0.0]), 1.0)
    values = model.state.record_image_values
    model.state.record_image_values = None
    assert len(values) == len(model.attn2_names)
    with torch.no_grad():
        want = torch.stack([model.processor(p).to_v_ip(tokens)[:1].abs().mean() for p in model.attn2_names]).mean()
        got = sreg_loss(values, torch.tensor([True, False]))
    assert float(got) == pytest.approx(float(want), rel=1e-6)
