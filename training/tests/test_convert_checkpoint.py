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


def test_nested_ip_adapter_bin_is_flattened(tmp_path):
    # IP-Adapter's published .bin: {"image_proj": {...}, "ip_adapter": {...}}
    proj, k_ip = torch.randn(8, 4), torch.randn(6, 2)
    src = tmp_path / "ip-adapter.bin"
    torch.save({"image_proj": {"proj.weight": proj}, "ip_adapter": {"1.to_k_ip.weight": k_ip, "note": "x"}}, src)
    dst = tmp_path / "ip-adapter.safetensors"
    dropped = convert_checkpoint.convert(str(src), str(dst))
    assert dropped == ["ip_adapter.note"]
    loaded = load_file(str(dst))
    assert set(loaded) == {"image_proj.proj.weight", "ip_adapter.1.to_k_ip.weight"}
    assert torch.equal(loaded["image_proj.proj.weight"], proj) and torch.equal(loaded["ip_adapter.1.to_k_ip.weight"], k_ip)
