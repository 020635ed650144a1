"""convert_dlib_face.py: dlib's serialization read and written back, the layer structure it
recognises, and one-line errors naming the byte offset on files it cannot read."""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
import convert_dlib_face as conv  # noqa: E402
from dlib_serialization import DlibReader, DlibWriter  # noqa: E402

FIXTURES = ROOT / "Tests" / "Fixtures" / "dlib-face"


def test_integers_and_floats_round_trip_in_dlibs_encoding():
    w = DlibWriter()
    values = [0, 1, 127, 128, 256, -1, -300, 2 ** 40]
    floats = [0.0, 1.0, -0.04, 0.6, 122.782, 1e-20, -3.5e7]
    for v in values:
        w.int(v)
    for f in floats:
        w.float(f)
    r = DlibReader(w.bytes(), "test")
    assert [r.int() for _ in values] == values
    assert [r.float() for _ in floats] == [float(np.float32(f)) for f in floats]
    assert r.at_end()
    # dlib's own bytes for 0.6 (the loss layer's threshold in the real model): 03 9a 99 99 81 18
    w = DlibWriter()
    w.float(0.6)
    assert w.bytes() == bytes.fromhex("039a99998118")


def test_tiny_network_reads_back_as_written(tmp_path):
    config, tensors = conv.read_resnet(FIXTURES / "tiny-resnet.dat")
    assert [l["op"] for l in config["layers"]][:5] == ["conv", "affine", "relu", "max_pool", "residual_start"]
    assert sum(l["op"] == "residual_add" and l["shortcut_pool"] is not None for l in config["layers"]) == 2
    assert config["input"]["size"] == 32 and config["output_dim"] == 8
    conv.write_resnet(tmp_path / "again.dat", config, tensors)
    assert (tmp_path / "again.dat").read_bytes() == (FIXTURES / "tiny-resnet.dat").read_bytes()


def test_truncated_and_foreign_files_fail_with_the_offset(tmp_path):
    data = (FIXTURES / "tiny-resnet.dat").read_bytes()
    (tmp_path / "cut.dat").write_bytes(data[:5000])
    with pytest.raises(ValueError, match=r"cut.dat: byte \d+: "):
        conv.read_resnet(tmp_path / "cut.dat")
    with pytest.raises(ValueError, match=r"expected 'loss_metric_2'"):
        conv.read_resnet(FIXTURES / "tiny-landmarks.dat")
    (tmp_path / "sp.dat").write_bytes((FIXTURES / "tiny-landmarks.dat").read_bytes()[:-3])
    with pytest.raises(ValueError, match="sp.dat: byte"):
        conv.read_landmarks(tmp_path / "sp.dat")


def test_main_writes_the_folder_and_refuses_bad_input(tmp_path, capsys):
    out = tmp_path / "dlib-face"
    assert conv.main(["--resnet", str(FIXTURES / "tiny-resnet.dat"), "--landmarks", str(FIXTURES / "tiny-landmarks.dat"),
                      "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["landmarks.json", "landmarks.safetensors", "resnet.json", "resnet.safetensors"]
    assert conv.main(["--resnet", str(FIXTURES / "tiny-landmarks.dat"), "--landmarks", str(FIXTURES / "tiny-landmarks.dat"),
                      "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tiny-landmarks.dat: byte" in err[0]
