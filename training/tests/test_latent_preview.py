"""The latent preview's colour map (photoverse_train/latent_preview.py): the fit, the file the
export writes, and the embedded model's map against SD's on people it never saw."""

import json

import pytest
import torch
from diffusers import AutoencoderKL

from train_helpers import REPO, tiny_config
from photoverse_train import latent_preview
from photoverse_train.data.dataset import to_tensor
from photoverse_train.data.synthetic_faces import sample_image

# SD1.x's map, the Swift engine's default for 4-channel latents without a file (LatentPreview.swift)
SD_FACTORS = [[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]]


def test_the_fit_recovers_a_linear_map_with_its_bias():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2000, 8, generator=g, dtype=torch.float64)
    w, b = torch.randn(8, 3, generator=g, dtype=torch.float64), torch.tensor([0.1, -0.3, 0.2], dtype=torch.float64)
    factors, bias = latent_preview.fit(z, z @ w + b)
    torch.testing.assert_close(factors, w, rtol=0, atol=1e-9)
    torch.testing.assert_close(bias, b, rtol=0, atol=1e-9)


def _renderings(data_cfg: dict, seed: int, count: int) -> torch.Tensor:
    size = int(data_cfg.get("size", 64))
    return torch.stack([to_tensor(sample_image(seed, i, 0, size=size).rendered.image) for i in range(count)])


def test_fit_and_write_writes_one_row_per_channel_and_beats_a_flat_colour(tmp_path):
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(16, 32), down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=8, norm_num_groups=8,
                        layers_per_block=1)
    images = _renderings(tiny_config()["data"], 0, 16)
    error = latent_preview.fit_and_write(vae, images, tmp_path, "16 test renderings")
    doc = json.loads((tmp_path / latent_preview.FILE_NAME).read_text())
    assert len(doc["latent_rgb_factors"]) == 8 and all(len(r) == 3 for r in doc["latent_rgb_factors"])
    assert len(doc["latent_rgb_factors_bias"]) == 3 and doc["fitted_on"] == "16 test renderings"
    assert doc["rms_error"] == pytest.approx(error, abs=1e-5)
    z, t = latent_preview.latents_and_targets(vae, images)
    flat = latent_preview.rms_error(z, t, torch.zeros(8, 3, dtype=z.dtype), t.mean(0))
    assert error < flat


def test_the_embedded_models_map_beats_sds_on_new_people():
    """Models/mini/vae/latent_preview.json was fitted on held-out renderings (data seed 0); on
    people drawn with data seed 1000 it must still draw the picture's colours, better than SD's."""
    model = REPO / "Models" / "mini"
    vae = AutoencoderKL.from_pretrained(model / "vae", torch_dtype=torch.float32)
    doc = json.loads((model / "vae" / latent_preview.FILE_NAME).read_text())
    factors = torch.tensor(doc["latent_rgb_factors"], dtype=torch.float64)
    bias = torch.tensor(doc["latent_rgb_factors_bias"], dtype=torch.float64)
    assert factors.shape == (vae.config.latent_channels, 3)
    size = int(json.loads((model / "vae" / "config.json").read_text())["sample_size"])
    z, t = latent_preview.latents_and_targets(vae, _renderings({"size": size}, 1000, 32))
    shipped = latent_preview.rms_error(z, t, factors, bias)
    assert shipped < 0.12
    if vae.config.latent_channels == len(SD_FACTORS):
        sd = latent_preview.rms_error(z, t, torch.tensor(SD_FACTORS, dtype=torch.float64),
                                      torch.zeros(3, dtype=torch.float64))
        assert shipped < 0.5 * sd, (shipped, sd)
