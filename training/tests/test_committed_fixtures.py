"""The committed fixtures are what the scripts in training/fixtures produce with the pinned
libraries, and the independent oracles still agree with them (so a dependency bump or a script
change that alters behaviour is caught here, not as a mysterious Swift parity failure).

Every fixture family is regenerated into a temporary folder by its own script and compared with
Tests/Fixtures (regenerate.py-style, one script run per family, ~5-20 s each on one thread):

  family              script                                   compared
  clip-tokenizer      make_tokenizer_fixtures.py --out         every file, bytes
  sampling            make_sampling_fixtures.py --out          every file, bytes
  formats             make_format_fixtures.py --out            every file, bytes (safetensors: tensors
                                                               and metadata exactly; the header's key
                                                               order is not fixed)
  faces               make_face_fixtures.py --goldens-only     the detector and resampling goldens, from
                                                               the committed photos (the photos themselves
                                                               come from PyPI wheels: not re-fetched here)
  tiny-sd             make_sd_fixtures.py --out                weights, configs and single file (exact),
                                                               tiny-sd-golden (values)
  photoverse-golden   make_photoverse_fixtures.py --out        every file (values)
  img2img-golden      make_img2img_fixtures.py --out           every file (values)
  lora-golden         make_lora_fixtures.py --out              every file (values)
  mini-golden         make_mini_golden.py --out                every file (values), against Models/mini
  ip-adapter-variants make_ip_adapter_variants.py --out        every file (values): each IP-Adapter SD1.5
                                                               variant in both layouts, diffusers' goldens,
                                                               FaceID's companion LoRA as diffusers saves it
  tiny-taesd,         make_taesd_fixtures.py --out             weights and config (exact), taesd-golden
  taesd-golden                                                 (values)
  dlib-face           make_dlib_face_fixtures.py --out         every file (values; the .dat files bytes)
  mini-evaluator      make_evaluator_fixtures.py --out         every file (values)
  tiny-sd-8ch,        make_wide_latent_fixtures.py --out       weights and configs (exact), the golden
  tiny-sd-8ch-golden                                           (values)

"Values": safetensors with the same names, shapes, dtypes and metadata and every float within
1e-4 of the tensor's largest magnitude (at least 1); JSON equal with the same relative slack on
floats; PNG the same pixels; anything else the same bytes. The slack is for float summation
order on another CPU (observed: 3e-6 relative on tiny-sd's LCM latents, 1.3e-5 on a decoded
mini-golden image; most files regenerate bit for bit), ten times below the Swift parity bars.

Independent oracles checked here as well: transformers' CLIPTokenizer on the tokenizer goldens,
diffusers' UNet on the tiny UNet golden, diffusers' StableDiffusionPipeline on the embedded
model's plain text-to-image golden (the Swift side is held to that golden).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import CLIPTextModel, CLIPTokenizer

import clip_vocab

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures"
SCRIPTS = ROOT / "training" / "fixtures"
RELATIVE = 1e-4


def test_vocab_and_merges_rebuild_identically(tmp_path):
    clip_vocab.write_tokenizer_files(str(tmp_path))
    for name in ("vocab.json", "merges.txt"):
        assert (tmp_path / name).read_bytes() == (FIXTURES / "clip-tokenizer" / name).read_bytes(), name
    vocab = json.loads((tmp_path / "vocab.json").read_text())
    assert len(vocab) == 49408
    assert vocab["<|startoftext|>"] == 49406 and vocab["<|endoftext|>"] == 49407


def test_transformers_tokenizer_matches_golden_ids():
    folder = FIXTURES / "clip-tokenizer"
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)
    golden = json.loads((folder / "tokenizer_golden.json").read_text())
    cases = golden["cases"]
    checked = 0
    for case in cases:
        expected = case["transformers"]["input_ids"]
        if expected is None:
            continue
        ids = tokenizer(case["text"], padding="max_length", max_length=77, truncation=True).input_ids
        assert ids == expected, case["text"]
        checked += 1
    assert checked >= 30


def test_tiny_unet_reproduces_golden():
    unet = UNet2DConditionModel.from_pretrained(str(FIXTURES / "tiny-sd" / "unet")).eval()
    golden = load_file(str(FIXTURES / "tiny-sd-golden" / "unet.safetensors"))
    with torch.no_grad():
        out = unet(golden["sample"], int(golden["timestep"].item()),
                   encoder_hidden_states=golden["encoder_hidden_states"]).sample
    assert (out - golden["output"]).abs().max().item() < 1e-4


# ------------------------------------------------------------------------------------------------
# regeneration


def _run(script, *args, env=None):
    """Runs a fixture script on one thread; its output is shown only if it fails."""
    environment = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0", **(env or {}))
    done = subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _files(folder: Path):
    """Regular files under `folder`, relative; symlinks (tiny-sd/tokenizer) are not followed."""
    out = []
    for base, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(base, d))]
        out += [Path(base, n).relative_to(folder) for n in names if not os.path.islink(os.path.join(base, n))]
    return sorted(out)


def _close_json(new, old, where=""):
    if isinstance(old, dict):
        assert isinstance(new, dict) and sorted(new) == sorted(old), f"{where}: keys {sorted(new)} != {sorted(old)}"
        for key in old:
            _close_json(new[key], old[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), f"{where}: length"
        for i, (a, b) in enumerate(zip(new, old)):
            _close_json(a, b, f"{where}[{i}]")
    elif isinstance(old, float) and isinstance(new, (int, float)) and not isinstance(new, bool):
        assert abs(new - old) <= RELATIVE * max(1.0, abs(old)), f"{where}: {new} != {old}"
    else:
        assert new == old, f"{where}: {new!r} != {old!r}"


def _close_safetensors(new: Path, old: Path, relative: float):
    with safe_open(str(new), "pt") as a, safe_open(str(old), "pt") as b:
        assert a.metadata() == b.metadata(), "metadata"
        assert sorted(a.keys()) == sorted(b.keys()), f"tensor names {sorted(a.keys())} != {sorted(b.keys())}"
        for key in b.keys():
            x, y = a.get_tensor(key), b.get_tensor(key)
            assert (x.dtype, tuple(x.shape)) == (y.dtype, tuple(y.shape)), key
            if not y.is_floating_point():
                assert torch.equal(x, y), key
                continue
            nan, finite = torch.isnan(y), torch.isfinite(y)
            assert torch.equal(torch.isnan(x), nan) and torch.equal(torch.isfinite(x), finite), f"{key}: NaN/inf differ"
            assert torch.equal(x[~finite & ~nan], y[~finite & ~nan]), f"{key}: infinities differ"
            x, y = x[finite].double(), y[finite].double()
            if y.numel():
                scale = max(1.0, y.abs().max().item())
                worst = (x - y).abs().max().item()
                assert worst <= relative * scale, f"{key}: differs by {worst:.3g} (largest value {scale:.3g})"


def _same_file(new: Path, old: Path, exact: bool):
    if new.read_bytes() == old.read_bytes():
        return
    if old.suffix == ".safetensors":
        # the header's key order is not fixed (safetensors writes its metadata from a hash map)
        _close_safetensors(new, old, 0.0 if exact else RELATIVE)
    elif exact:
        raise AssertionError("bytes differ")
    elif old.suffix == ".json":
        _close_json(json.loads(new.read_text()), json.loads(old.read_text()))
    elif old.suffix == ".png":
        a, b = Image.open(new), Image.open(old)
        assert (a.mode, a.size) == (b.mode, b.size)
        assert np.array_equal(np.asarray(a), np.asarray(b)), "pixels differ"
    else:
        raise AssertionError("bytes differ")


def _compare(new_root: Path, parts, exact=False, subset=False):
    """Each part (a folder or file under Tests/Fixtures) as regenerated under new_root.
    subset: the script writes only some of the committed files (faces: not the photos)."""
    problems, compared = [], 0
    for part in parts:
        new, old = new_root / part, FIXTURES / part
        pairs = [(Path(part), new, old)] if old.is_file() else \
            [(Path(part) / f, new / f, old / f) for f in sorted(set(_files(old)) | set(_files(new)))]
        for name, a, b in pairs:
            if not a.exists():
                if not subset:
                    problems.append(f"{name}: committed, not regenerated")
                continue
            if not b.exists():
                problems.append(f"{name}: regenerated, not committed")
                continue
            try:
                _same_file(a, b, exact)
                compared += 1
            except AssertionError as error:
                problems.append(f"{name}: {error}")
    assert not problems, "regenerated fixtures differ from the committed ones:\n  " + "\n  ".join(problems)
    return compared


def test_tokenizer_fixtures_regenerate(tmp_path):
    _run("make_tokenizer_fixtures.py", "--out", tmp_path / "clip-tokenizer")
    assert _compare(tmp_path, ["clip-tokenizer"], exact=True) == 3


def test_sampling_fixtures_regenerate(tmp_path):
    _run("make_sampling_fixtures.py", "--out", tmp_path / "sampling")
    assert _compare(tmp_path, ["sampling"], exact=True) == 6


def test_format_fixtures_regenerate(tmp_path):
    _run("make_format_fixtures.py", "--out", tmp_path / "formats")
    assert _compare(tmp_path, ["formats"], exact=True) == 24


def test_face_goldens_regenerate_from_the_committed_photos(tmp_path):
    _run("make_face_fixtures.py", "--goldens-only", "--out", tmp_path / "faces")
    assert _compare(tmp_path, ["faces"], subset=True) == 13


def test_tiny_sd_model_and_goldens_regenerate(tmp_path):
    _run("make_sd_fixtures.py", "--out", tmp_path)
    assert _compare(tmp_path, ["tiny-sd", "tiny-sd-single.safetensors"], exact=True) == 9
    assert _compare(tmp_path, ["tiny-sd-golden"]) == 6


def test_photoverse_goldens_regenerate(tmp_path):
    _run("make_photoverse_fixtures.py", "--out", tmp_path / "photoverse-golden")
    assert _compare(tmp_path, ["photoverse-golden"]) == 19


def test_img2img_goldens_regenerate(tmp_path):
    _run("make_img2img_fixtures.py", "--out", tmp_path / "img2img-golden")
    assert _compare(tmp_path, ["img2img-golden"]) == 3


def test_ip_adapter_variant_fixtures_regenerate(tmp_path):
    _run("make_ip_adapter_variants.py", "--out", tmp_path / "ip-adapter-variants")
    assert _compare(tmp_path, ["ip-adapter-variants"]) == 21


def test_lora_files_and_goldens_regenerate(tmp_path):
    _run("make_lora_fixtures.py", "--out", tmp_path / "lora-golden")
    assert _compare(tmp_path, ["lora-golden"]) == 6


def test_taesd_fixtures_regenerate(tmp_path):
    _run("make_taesd_fixtures.py", "--out", tmp_path)
    assert _compare(tmp_path, ["tiny-taesd"], exact=True) == 2
    assert _compare(tmp_path, ["taesd-golden"]) == 2


def test_dlib_face_fixtures_regenerate(tmp_path):
    # the script itself asserts that dlib (the dlib-bin wheel) runs the tiny shape predictor
    # file as the reference does and that its face chips are dlib.get_face_chip's
    _run("make_dlib_face_fixtures.py", "--out", tmp_path / "dlib-face")
    assert _compare(tmp_path, ["dlib-face"]) == 12


def test_mini_evaluator_fixtures_regenerate(tmp_path):
    _run("make_evaluator_fixtures.py", "--out", tmp_path / "mini-evaluator")
    assert _compare(tmp_path, ["mini-evaluator"]) == 4


def test_mini_goldens_regenerate_from_the_embedded_model(tmp_path):
    _run("make_mini_golden.py", "--out", tmp_path / "mini-golden")
    assert _compare(tmp_path, ["mini-golden"]) == 2


# ------------------------------------------------------------------------------------------------
# diffusers' own pipeline as the oracle of the embedded model's plain case


def test_mini_plain_golden_is_diffusers_pipeline():
    """The plain text-to-image golden of Models/mini (made with the project's PyTorch reference)
    is what diffusers' StableDiffusionPipeline makes from the same folder and noise."""
    golden_dir = FIXTURES / "mini-golden"
    doc = json.loads((golden_dir / "cases.json").read_text())
    case = next((c for c in doc["cases"] if c["name"] == "plain_ddim"), None)
    assert case is not None, "mini-golden has no plain_ddim case"
    assert case["references"] == [] and case["sampler"] == "ddim" and case["s_image"] == case["s_text"]
    model = ROOT / doc["model"]
    torch.set_num_threads(1)
    scheduler = DDIMScheduler.from_config(json.loads((model / "scheduler" / "scheduler_config.json").read_text()))
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL.from_pretrained(model / "vae", torch_dtype=torch.float32).eval(),
        text_encoder=CLIPTextModel.from_pretrained(model / "text_encoder", dtype=torch.float32).eval(),
        tokenizer=CLIPTokenizer.from_pretrained(model / "tokenizer"),
        unet=UNet2DConditionModel.from_pretrained(model / "unet", torch_dtype=torch.float32).eval(),
        scheduler=scheduler, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    golden = load_file(str(golden_dir / "golden.safetensors"))
    size = doc["size"]
    with torch.no_grad():
        latents = pipe(case["prompt"], negative_prompt=case["negative_prompt"], num_inference_steps=case["steps"],
                       guidance_scale=case["s_text"], latents=golden[case["noise"]].clone(), height=size, width=size,
                       output_type="latent").images
        image = pipe.vae.decode(latents / pipe.vae.config.scaling_factor).sample.clamp(-1, 1)
    expected = golden[case["latents"]]
    scale = max(1.0, expected.abs().max().item())
    assert (latents - expected).abs().max().item() / scale < 1e-4
    assert (image - golden[case["image"]]).abs().max().item() < 1e-3


def test_wide_latent_fixtures_regenerate(tmp_path):
    _run("make_wide_latent_fixtures.py", "--out", tmp_path)
    assert _compare(tmp_path, ["tiny-sd-8ch"], exact=True) == 5
    assert _compare(tmp_path, ["tiny-sd-8ch-golden"]) == 2
