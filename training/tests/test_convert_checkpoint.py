import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import convert_checkpoint  # noqa: E402


def test_round_trip_unwraps_state_dict_and_halves(tmp_path):
    weights = {"a.weight": torch.randn(3, 4), "b.bias": torch.arange(5, dtype=torch.float32), "step": 7}
    src = tmp_path / "model.ckpt"
    torch.save({"state_dict": weights, "global_step": 10}, src)
    dst = tmp_path / "model.safetensors"
    dropped = convert_checkpoint.convert(str(src), str(dst), fp16=True)
    assert dropped == ["step"]
    loaded = load_file(str(dst))
    assert set(loaded) == {"a.weight", "b.bias"}
    assert loaded["a.weight"].dtype == torch.float16
    assert torch.allclose(loaded["a.weight"].float(), weights["a.weight"], atol=1e-3)


def test_refuses_to_overwrite(tmp_path):
    src = tmp_path / "m.pt"
    torch.save({"w": torch.zeros(1)}, src)
    dst = tmp_path / "m.safetensors"
    dst.write_bytes(b"keep me")
    with pytest.raises(SystemExit, match="already exists"):
        convert_checkpoint.convert(str(src), str(dst))
    assert dst.read_bytes() == b"keep me"
