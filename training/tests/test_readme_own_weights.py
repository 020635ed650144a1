"""README.md's "Use your own weights" commands, run as written on tiny random stand-ins.

Every ```sh block of that section runs in order, one command at a time, in the checkout, with
`photoverse` on the PATH (the debug build `make test` has just made; built here when missing) and
the section's variables pointing at the test fixtures or at originals written from them in the
format people download (IP-Adapter's nested .bin via torch.save, an ArcFace .onnx, TAESD's two
release .pth, a CompVis .ckpt). Each command must exit 0 and leave every "$OUT/..." path it names;
each `photoverse inspect` must name the kind. A README edit that breaks a command fails here."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from test_convert_taesd import release_pair

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
from photoverse_train.identity.arcface import IResNet  # noqa: E402

FIXTURES = ROOT / "Tests" / "Fixtures"
VARIANTS = FIXTURES / "ip-adapter-variants"
SECTION = "## Use your own weights"
# What `photoverse inspect TARGET` must say (its first line) for each target the blocks inspect.
INSPECT_NAMES = {
    '"$SD15"': "unet: UNet",
    '"$OUT/sd15-single.safetensors"': "SD1.x single-file checkpoint",
    '"$OUT/ip-adapter.safetensors"': "IP-Adapter",
    '"$IMAGE_ENCODER"': "CLIP image encoder",
    '"$OUT/arcface"': "ArcFace",
    '"$OUT/faceid.safetensors"': "IP-Adapter FaceID (ArcFace embedding)",
    '"$OUT/faceid-plusv2.safetensors"': "IP-Adapter FaceID-Plus",
    '"$LORA"': "LoRA, kohya layout",
    '"$OUT/taesd"': "TAESD",
    '"$OUT/dlib-face"': "dlib face recognition",
}
# The kinds the issue asks the section to cover: each needs a block whose first comment names it.
KINDS = ["SD1.5", "single file", "IP-Adapter plain", "ArcFace", "FaceID", "FaceID-Plus", "LoRA", "TAESD", "dlib"]
# Tiny ArcFace matching the FaceID stand-ins' 64-d embeddings (as make_face_geometry_fixtures.py).
ARCFACE_LAYERS, ARCFACE_WIDTHS, ARCFACE_FEATURES = (2, 1, 2, 1), (8, 16, 16, 16), 64


def readme_blocks():
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION + "\n")
    end = text.find("\n## ", start + len(SECTION))
    return re.findall(r"^```sh\n(.*?)^```", text[start:end if end > 0 else None], re.S | re.M)


def commands(block):
    """The block's commands: comments and blank lines dropped, backslash continuations joined."""
    joined = block.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def photoverse_binary():
    binary = ROOT / ".build" / "debug" / "photoverse"
    if not binary.exists():
        swift = os.environ.get("SWIFT", "swift")
        env = dict(os.environ, PATH=os.environ["PATH"] + ":/opt/swift/usr/bin")
        subprocess.run([swift, "build", "--product", "photoverse"], cwd=ROOT, env=env, check=True)
    return binary


def ip_adapter_bin(published: Path, out: Path):
    """IP-Adapter's released .bin: {"image_proj": {...}, "ip_adapter": {"1.to_k_ip.weight": ...}}."""
    nested = {"image_proj": {}, "ip_adapter": {}}
    for name, tensor in load_file(str(published)).items():
        top, rest = name.split(".", 1)
        nested[top][rest] = tensor
    torch.save(nested, out)
    return out


def arcface_onnx(out: Path):
    torch.manual_seed(3)
    net = IResNet(ARCFACE_LAYERS, ARCFACE_FEATURES, 112, widths=ARCFACE_WIDTHS).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    torch.onnx.export(net, (torch.zeros(1, 3, 112, 112),), str(out), dynamo=False, opset_version=11,
                      input_names=["input.1"], output_names=["embedding"])
    return out


def taesd_release(folder: Path):
    """TAESD's two release state dicts for the tiny model's latents (4 channels, 8 pixels each)."""
    encoder, decoder = release_pair(width=8, latent=4, encoder_blocks=(1, 2, 1, 1), decoder_blocks=(2, 1, 1, 1))
    paths = []
    for name, module in (("taesd_encoder.pth", encoder), ("taesd_decoder.pth", decoder)):
        torch.save({k: v.contiguous() for k, v in module.state_dict().items()}, folder / name)
        paths.append(folder / name)
    return paths


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    originals = tmp_path_factory.mktemp("originals")
    ckpt = originals / "v1-5-pruned-emaonly.ckpt"
    torch.save({"state_dict": load_file(str(FIXTURES / "tiny-sd-single.safetensors")), "global_step": 1}, ckpt)
    encoder, decoder = taesd_release(originals)
    return {
        "SD15": FIXTURES / "tiny-sd",
        "SD15_CKPT": ckpt,
        "PHOTO": FIXTURES / "faces" / "grace_hopper.jpg",
        "PHOTO2": FIXTURES / "faces" / "astronaut.png",
        "IMAGE_ENCODER": FIXTURES / "photoverse-golden" / "ip_image_encoder",
        "IPADAPTER_BIN": ip_adapter_bin(VARIANTS / "plus.safetensors", originals / "ip-adapter-plus-face_sd15.bin"),
        "ARCFACE_ONNX": arcface_onnx(originals / "w600k_r50.onnx"),
        "FACEID_BIN": ip_adapter_bin(VARIANTS / "faceid.safetensors", originals / "ip-adapter-faceid_sd15.bin"),
        "FACEID_PLUS_BIN": ip_adapter_bin(VARIANTS / "faceid-plus.safetensors", originals / "ip-adapter-faceid-plusv2_sd15.bin"),
        "LORA": FIXTURES / "lora-golden" / "kohya.safetensors",
        "LCM_LORA": FIXTURES / "lora-golden" / "kohya.safetensors",
        "TAESD_ENCODER": encoder,
        "TAESD_DECODER": decoder,
        "DLIB_RESNET": FIXTURES / "dlib-face" / "tiny-resnet.dat",
        "DLIB_LANDMARKS": FIXTURES / "dlib-face" / "tiny-landmarks.dat",
    }


def run_block(block, variables, out: Path, bin_dir: Path):
    env = dict(os.environ, **{k: str(v) for k, v in variables.items()}, OUT=str(out))
    env["PATH"] = f"{bin_dir}:{os.environ['PATH']}"
    for command in commands(block):
        # set -u: a variable the README uses but the test does not give is a failure, not "".
        result = subprocess.run(["bash", "-c", "set -euo pipefail; " + command], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{command}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
        for path in re.findall(r'"\$OUT/([^"]+)"', command):
            assert (out / path).exists(), f"{command}\ndid not make $OUT/{path}\n{result.stderr}"
        words = command.split()
        if words[:2] == ["photoverse", "inspect"]:
            target = words[2]
            assert target in INSPECT_NAMES, f"{command}: add what inspect must say for {target} to INSPECT_NAMES"
            assert INSPECT_NAMES[target] in result.stdout, f"{command}\n{result.stdout}"
            if target != '"$SD15"':  # a model folder lists its components; the others say what they need
                assert "needs" in result.stdout, f"{command}\n{result.stdout}"


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bin")
    (folder / "photoverse").symlink_to(photoverse_binary())
    return folder


def test_every_kind_has_a_block():
    titles = [block.splitlines()[0] for block in readme_blocks()]
    assert all(t.startswith("# ") for t in titles), titles
    for kind in KINDS:
        assert any(kind.lower() in t.lower() for t in titles), f"no block for {kind}: {titles}"


def test_readme_commands_run_on_the_stand_ins(stand_ins, bin_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    blocks = readme_blocks()
    assert len(blocks) >= len(KINDS)
    for block in blocks:
        run_block(block, stand_ins, out, bin_dir)


@pytest.mark.parametrize("variant", ["plain", "full-face"])
def test_ip_adapter_block_runs_for_the_other_variants(variant, stand_ins, bin_dir, tmp_path):
    block = next(b for b in readme_blocks() if b.startswith("# IP-Adapter plain"))
    out = tmp_path / "out"
    out.mkdir()
    source = ip_adapter_bin(VARIANTS / f"{variant}.safetensors", tmp_path / f"ip-adapter-{variant}_sd15.bin")
    run_block(block, dict(stand_ins, IPADAPTER_BIN=source), out, bin_dir)
