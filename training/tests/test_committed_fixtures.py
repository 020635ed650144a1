"""The committed fixtures are what the scripts in training/fixtures produce, and the
reference libraries still agree with them (so a dependency bump that changes
behaviour is caught here, not as a mysterious Swift parity failure)."""
import json
from pathlib import Path

import torch
from safetensors.torch import load_file

import clip_vocab

FIXTURES = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"


def test_vocab_and_merges_rebuild_identically(tmp_path):
    clip_vocab.write_tokenizer_files(str(tmp_path))
    for name in ("vocab.json", "merges.txt"):
        assert (tmp_path / name).read_bytes() == (FIXTURES / "clip-tokenizer" / name).read_bytes(), name
    vocab = json.loads((tmp_path / "vocab.json").read_text())
    assert len(vocab) == 49408
    assert vocab["<|startoftext|>"] == 49406 and vocab["<|endoftext|>"] == 49407


def test_transformers_tokenizer_matches_golden_ids():
    from transformers import CLIPTokenizer
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
    from diffusers import UNet2DConditionModel
    unet = UNet2DConditionModel.from_pretrained(str(FIXTURES / "tiny-sd" / "unet")).eval()
    golden = load_file(str(FIXTURES / "tiny-sd-golden" / "unet.safetensors"))
    with torch.no_grad():
        out = unet(golden["sample"], int(golden["timestep"].item()),
                   encoder_hidden_states=golden["encoder_hidden_states"]).sample
    assert (out - golden["output"]).abs().max().item() < 1e-4
