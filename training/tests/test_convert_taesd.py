"""training/convert_taesd.py against TAESD's own release layout: two nn.Sequential state dicts built
here the way madebyollin/taesd's README and taesd.py describe them (encoder: conv, blocks, stride-2
convs; decoder: tanh clamp, conv, ReLU, blocks, upsampling, convs; the released models work on
images in [0, 1]). The converted folder must load into diffusers' AutoencoderTiny and compute what
the release modules compute: encode(x) = encoder((x + 1) / 2), decode(z) = decoder(z) * 2 - 1."""
import sys
from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderTiny
from diffusers.models.unets.unet_2d_blocks import AutoencoderTinyBlock
from safetensors.torch import save_file
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import convert_taesd  # noqa: E402


class SoftClamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


def release_pair(width=8, latent=4, encoder_blocks=(1, 3, 3, 3), decoder_blocks=(3, 3, 3, 1)):
    def conv(n_in, n_out, **kw):
        return nn.Conv2d(n_in, n_out, 3, padding=1, **kw)

    encoder = [conv(3, width)]
    for level, count in enumerate(encoder_blocks):
        if level > 0:
            encoder.append(conv(width, width, stride=2, bias=False))
        encoder += [AutoencoderTinyBlock(width, width, "relu") for _ in range(count)]
    encoder.append(conv(width, latent))
    decoder = [SoftClamp(), conv(latent, width), nn.ReLU()]
    for level, count in enumerate(decoder_blocks):
        decoder += [AutoencoderTinyBlock(width, width, "relu") for _ in range(count)]
        last = level == len(decoder_blocks) - 1
        if not last:
            decoder.append(nn.Upsample(scale_factor=2))
        decoder.append(conv(width, 3) if last else conv(width, width, bias=False))
    torch.manual_seed(5)
    encoder, decoder = nn.Sequential(*encoder).eval(), nn.Sequential(*decoder).eval()
    with torch.no_grad():
        for p in list(encoder.parameters()) + list(decoder.parameters()):
            p.add_(0.02 * torch.randn(p.shape))
    return encoder, decoder


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_release_files_convert_to_what_diffusers_computes_the_same(tmp_path, suffix):
    encoder, decoder = release_pair()
    paths = []
    for name, module in (("taesd_encoder", encoder), ("taesd_decoder", decoder)):
        path = tmp_path / (name + suffix)
        state = {k: v.contiguous() for k, v in module.state_dict().items()}
        torch.save(state, path) if suffix == ".pth" else save_file(state, str(path))
        paths.append(str(path))
    out = tmp_path / "taesd"
    config = convert_taesd.convert(*paths, str(out))
    assert config["num_encoder_blocks"] == [1, 3, 3, 3] and config["num_decoder_blocks"] == [3, 3, 3, 1]
    assert config["latent_channels"] == 4 and config["decoder_block_out_channels"] == [8, 8, 8, 8]
    model = AutoencoderTiny.from_pretrained(str(out)).eval()
    assert model.config.scaling_factor == 1.0
    gen = torch.Generator().manual_seed(1)
    image = torch.rand(1, 3, 32, 32, generator=gen) * 2 - 1
    latents = 4 * torch.randn(1, 4, 4, 4, generator=gen)
    with torch.no_grad():
        assert torch.allclose(model.encode(image).latents, encoder((image + 1) / 2), atol=1e-6)
        assert torch.allclose(model.decode(latents).sample, decoder(latents) * 2 - 1, atol=1e-6)


def test_refuses_an_existing_folder_and_foreign_files(tmp_path):
    encoder, decoder = release_pair()
    enc, dec = tmp_path / "e.pth", tmp_path / "d.pth"
    torch.save(encoder.state_dict(), enc)
    torch.save(decoder.state_dict(), dec)
    (tmp_path / "taken").mkdir()
    with pytest.raises(SystemExit, match="already exists"):
        convert_taesd.convert(str(enc), str(dec), str(tmp_path / "taken"))
    foreign = tmp_path / "vae.pth"
    torch.save({"decoder.conv_in.weight": torch.zeros(1)}, foreign)
    with pytest.raises(SystemExit, match="unexpected tensor 'decoder.conv_in.weight'"):
        convert_taesd.convert(str(enc), str(foreign), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
