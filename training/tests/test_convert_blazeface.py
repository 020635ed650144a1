"""The BlazeFace converter, reader and reference detector (training/convert_blazeface.py & co).

Most tests need no download: a tiny BlazeFace-shaped .tflite is written here with a minimal
FlatBuffers writer (so the reader, the graph matcher and the NHWC -> NCHW weight layout are
checked on every run), and the committed Models/face-detector files are checked against the
committed goldens. Tests that need MediaPipe's real .tflite skip unless its wheel is in
training/data/wheels (convert_blazeface.py fetches it there).
"""

import glob
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
import blazeface_reference as ref  # noqa: E402
import convert_blazeface  # noqa: E402
import tflite_numpy  # noqa: E402
from tflite_reader import TFLiteFormatError, read_model  # noqa: E402

MODEL = ROOT / "Models" / "face-detector"
FACES = ROOT / "Tests" / "Fixtures" / "faces"


# --- a minimal FlatBuffers writer (children placed after their parents: offsets are forward) ---

class Table:
    def __init__(self, *fields):  # each: None, ("s", fmt, value) or ("o", child)
        self.fields = fields


class Vec:
    def __init__(self, fmt, values):
        self.fmt, self.values = fmt, values


class Tables:
    def __init__(self, items):
        self.items = items


class Blob:
    def __init__(self, data: bytes):
        self.data = data


def _place(buf: bytearray, obj) -> int:
    while len(buf) % 4:
        buf.append(0)
    if isinstance(obj, Table):
        sizes = [0 if f is None else (struct.calcsize(f[1]) if f[0] == "s" else 4) for f in obj.fields]
        offsets, at = [], 4
        for size in sizes:
            offsets.append(at if size else 0)
            at += size
        vtable = len(buf)
        buf += struct.pack(f"<HH{len(sizes)}H", 4 + 2 * len(sizes), at, *offsets)
        while len(buf) % 4:
            buf.append(0)
        table = len(buf)
        buf += struct.pack("<i", table - vtable)
        pending = []
        for field in obj.fields:
            if field is None:
                continue
            if field[0] == "s":
                buf += struct.pack("<" + field[1], field[2])
            else:
                pending.append((len(buf), field[1]))
                buf += b"\0\0\0\0"
        for position, child in pending:
            struct.pack_into("<I", buf, position, _place(buf, child) - position)
        return table
    position = len(buf)
    if isinstance(obj, Vec):
        buf += struct.pack(f"<I{len(obj.values)}{obj.fmt}", len(obj.values), *obj.values)
    elif isinstance(obj, Blob):
        buf += struct.pack("<I", len(obj.data)) + obj.data
    elif isinstance(obj, Tables):
        buf += struct.pack("<I", len(obj.items)) + b"\0" * 4 * len(obj.items)
        for i, item in enumerate(obj.items):
            element = position + 4 + 4 * i
            struct.pack_into("<I", buf, element, _place(buf, item) - element)
    return position


OPCODES = {"DEQUANTIZE": 6, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4, "MAX_POOL_2D": 17, "PAD": 34, "ADD": 0,
           "RELU": 19, "RESHAPE": 22, "CONCATENATION": 2}


def write_tiny_blazeface(path, rng):
    """input 8x8x3 -> stem 3x3/2 (3->4) -> block s2 (4->6, interleaved ops like MediaPipe's)
    -> block s1 (6->6) -> heads on both blocks -> reshapes -> concatenations."""
    tensors, buffers, ops = [], [Blob(b"")], []

    def tensor(name, shape, data=None):
        buffer = 0
        if data is not None:
            buffers.append(Blob(data.astype("<f2").tobytes()))
            buffer = len(buffers) - 1
        tensors.append((name, shape, 1 if data is not None else 0, buffer))
        return len(tensors) - 1

    def op(kind, inputs, outputs, options=None):
        ops.append((kind, inputs, outputs, options))

    def const(name, shape):
        stored = tensor(name, shape, rng.standard_normal(shape).astype(np.float32) * 0.5)
        out = tensor(name + "_dequantize", shape)
        op("DEQUANTIZE", [stored], [out])
        return out

    def conv(x, name, shape_out, cout, cin, k, stride, padding):
        w, b = const(f"{name}/Kernel", [cout, k, k, cin]), const(f"{name}/Bias", [cout])
        y = tensor(name, shape_out)
        op("CONV_2D", [x, w, b], [y], ("conv", padding, stride))
        return y

    x = tensor("input", [1, 8, 8, 3])
    h = conv(x, "conv2d", [1, 4, 4, 4], 4, 3, 3, 2, 0)
    a0 = tensor("activation", [1, 4, 4, 4])
    op("RELU", [h], [a0])
    # Block 0, stride 2, 4 -> 6 channels: DW, MAX_POOL, CONV, PAD, ADD, RELU (MediaPipe's order).
    dw = tensor("depthwise_conv2d", [1, 2, 2, 4])
    op("DEPTHWISE_CONV_2D", [a0, const("dw0/Kernel", [1, 3, 3, 4]), const("dw0/Bias", [4])], [dw], ("dw", 0, 2))
    pool = tensor("max_pooling2d", [1, 2, 2, 4])
    op("MAX_POOL_2D", [a0], [pool], ("pool",))
    pw = conv(dw, "conv2d_1", [1, 2, 2, 6], 6, 4, 1, 1, 1)
    paddings = tensor("channel_padding/Paddings", [4, 2])
    buffers.append(Blob(np.array([[0, 0], [0, 0], [0, 0], [0, 2]], "<i4").tobytes()))
    tensors[paddings] = ("channel_padding/Paddings", [4, 2], 2, len(buffers) - 1)
    padded = tensor("channel_padding", [1, 2, 2, 6])
    op("PAD", [pool, paddings], [padded])
    added = tensor("add", [1, 2, 2, 6])
    op("ADD", [padded, pw], [added], ("add",))
    a1 = tensor("activation_1", [1, 2, 2, 6])
    op("RELU", [added], [a1])
    # Block 1, stride 1, 6 -> 6.
    dw1 = tensor("depthwise_conv2d_1", [1, 2, 2, 6])
    op("DEPTHWISE_CONV_2D", [a1, const("dw1/Kernel", [1, 3, 3, 6]), const("dw1/Bias", [6])], [dw1], ("dw", 0, 1))
    pw1 = conv(dw1, "conv2d_2", [1, 2, 2, 6], 6, 6, 1, 1, 1)
    added1 = tensor("add_1", [1, 2, 2, 6])
    op("ADD", [a1, pw1], [added1], ("add",))
    a2 = tensor("activation_2", [1, 2, 2, 6])
    op("RELU", [added1], [a2])
    c8 = conv(a1, "classificator_8", [1, 2, 2, 2], 2, 6, 1, 1, 0)
    c16 = conv(a2, "classificator_16", [1, 2, 2, 3], 3, 6, 1, 1, 0)
    r8 = conv(a1, "regressor_8", [1, 2, 2, 8], 8, 6, 1, 1, 0)
    r16 = conv(a2, "regressor_16", [1, 2, 2, 12], 12, 6, 1, 1, 0)
    shapes = [(c8, [1, 8, 1]), (c16, [1, 12, 1]), (r8, [1, 8, 4]), (r16, [1, 12, 4])]
    flat = []
    for source, shape in shapes:
        flat.append(tensor(f"reshape_{len(flat)}", shape))
        op("RESHAPE", [source], [flat[-1]])
    scores, boxes = tensor("classificators", [1, 20, 1]), tensor("regressors", [1, 20, 4])
    op("CONCATENATION", [flat[0], flat[1]], [scores], ("concat",))
    op("CONCATENATION", [flat[2], flat[3]], [boxes], ("concat",))

    def options(spec):
        if spec is None:
            return 0, None
        kind = spec[0]
        if kind == "conv":  # padding, stride_w, stride_h, activation, dilation_w, dilation_h
            return 1, Table(("s", "b", spec[1]), ("s", "i", spec[2]), ("s", "i", spec[2]), ("s", "b", 0), ("s", "i", 1), ("s", "i", 1))
        if kind == "dw":
            return 2, Table(("s", "b", spec[1]), ("s", "i", spec[2]), ("s", "i", spec[2]), ("s", "i", 1), ("s", "b", 0))
        if kind == "pool":
            return 5, Table(("s", "b", 0), ("s", "i", 2), ("s", "i", 2), ("s", "i", 2), ("s", "i", 2), ("s", "b", 0))
        if kind == "add":
            return 11, Table(("s", "b", 0))
        return 10, Table(("s", "i", 1), ("s", "b", 0))  # concatenation on axis 1

    codes = sorted(set(kind for kind, *_ in ops))
    operator_tables = []
    for kind, inputs, outputs, spec in ops:
        union_type, table = options(spec)
        fields = [("s", "I", codes.index(kind)), ("o", Vec("i", inputs)), ("o", Vec("i", outputs))]
        if table is not None:
            fields += [("s", "B", union_type), ("o", table)]
        operator_tables.append(Table(*fields))
    model = Table(
        ("s", "I", 3),
        ("o", Tables([Table(("s", "b", OPCODES[k]), None, ("s", "i", 1), ("s", "i", OPCODES[k])) for k in codes])),
        ("o", Tables([Table(
            ("o", Tables([Table(("o", Vec("i", shape)), ("s", "b", kind), ("s", "I", buffer), ("o", Blob(name.encode())))
                          for name, shape, kind, buffer in tensors])),
            ("o", Vec("i", [x])), ("o", Vec("i", [boxes, scores])),
            ("o", Tables(operator_tables)))])),
        ("o", Blob(b"tiny blazeface")),
        ("o", Tables([Table(("o", b)) for b in buffers])))
    buf = bytearray(b"\0\0\0\0TFL3")
    struct.pack_into("<I", buf, 0, _place(buf, model))
    path.write_bytes(bytes(buf))


@pytest.fixture()
def tiny(tmp_path):
    path = tmp_path / "tiny.tflite"
    write_tiny_blazeface(path, np.random.default_rng(0))
    return path


def test_reader_parses_the_tiny_graph(tiny):
    model = read_model(str(tiny))
    assert model.description == "tiny blazeface"
    kinds = [op.op for op in model.operators if op.op != "DEQUANTIZE"]
    assert kinds[:3] == ["CONV_2D", "RELU", "DEPTHWISE_CONV_2D"] and kinds[-2:] == ["CONCATENATION"] * 2
    dw = next(op for op in model.operators if op.op == "DEPTHWISE_CONV_2D")
    assert dw.options["padding"] == "SAME" and dw.options["stride_h"] == 2 and dw.options["activation"] == "NONE"
    kernel = model.tensor(model.operators[0].inputs[0])
    assert kernel.dtype == np.float16 and kernel.data.shape == tuple(kernel.shape)


def test_converted_layout_reproduces_the_tflite_graph(tiny):
    """parse_graph's NCHW weights in the PyTorch reference == the numpy run of the NHWC graph."""
    model = read_model(str(tiny))
    arch, tensors = convert_blazeface.parse_graph(model)
    assert [(b["in_channels"], b["out_channels"], b["stride"]) for b in arch["blocks"]] == [(4, 6, 2), (6, 6, 1)]
    assert arch["stem"]["padding"] == [0, 1]
    assert [(h["block"], h["anchors_per_cell"], h["coords"]) for h in arch["heads"]] == [(0, 2, 4), (1, 3, 4)]
    assert tensors["blocks.0.depthwise.weight"].shape == (4, 1, 3, 3)
    net = ref.BlazeFace(arch, {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()})
    image = np.random.default_rng(1).uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)
    expected = tflite_numpy.run(model, image)
    with torch.no_grad():
        scores, boxes = net(torch.from_numpy(image).permute(0, 3, 1, 2))
    np.testing.assert_allclose(scores[0].numpy(), expected["classificators"][0, :, 0], atol=1e-4)
    np.testing.assert_allclose(boxes[0].numpy(), expected["regressors"][0], atol=1e-4)


def test_graph_mismatch_is_reported(tiny):
    model = read_model(str(tiny))
    add = next(op for op in model.operators if op.op == "ADD")
    add.inputs = [add.inputs[1], add.inputs[1]]  # drop the skip connection
    with pytest.raises(convert_blazeface.GraphMismatch, match="block 0: the ADD"):
        convert_blazeface.parse_graph(model)


def test_reader_rejects_non_tflite(tmp_path):
    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"\x10\0\0\0NOPE" + b"\0" * 16)
    with pytest.raises(TFLiteFormatError, match="x.tflite: not a TFLite model"):
        read_model(str(bad))
    truncated = tmp_path / "t.tflite"
    truncated.write_bytes(b"\xff\0\0\0TFL3")
    with pytest.raises(TFLiteFormatError, match="outside the 8-byte file"):
        read_model(str(truncated))


def test_anchors_match_mediapipe_layout():
    anchors = ref.ssd_anchors(convert_blazeface.ANCHOR_OPTIONS)
    assert anchors.shape == (896, 4)
    np.testing.assert_allclose(anchors[0], [0.5 / 16, 0.5 / 16, 1, 1])
    np.testing.assert_allclose(anchors[512], [0.5 / 8, 0.5 / 8, 1, 1])
    np.testing.assert_allclose(anchors[895], [7.5 / 8, 7.5 / 8, 1, 1])


def test_weighted_nms_blends_a_cluster():
    a = (0.9, [0, 0, 1, 1], [(0, 0)])
    b = (0.6, [0.1, 0, 1.1, 1], [(0.1, 0)])
    c = (0.7, [5, 5, 6, 6], [(5, 5)])
    out = ref.weighted_nms([b, c, a], 0.3)
    assert [d[0] for d in out] == [0.9, 0.7]
    assert out[0][1][0] == pytest.approx(0.04) and out[0][2][0][0] == pytest.approx(0.04)


def test_committed_model_reproduces_committed_goldens():
    model, config = ref.load(str(MODEL))
    weights = load_file(str(MODEL / config["weights_file"]))
    assert len(weights) == 74 and all(v.dtype == np.float16 for v in weights.values())
    golden = json.loads((FACES / "blazeface_golden.json").read_text())["images"]
    for name in ["astronaut.png", "two_faces.png", "coffee.png"]:
        found = ref.detect(model, config, Image.open(FACES / name))[0]
        expected = golden[name]["detections"]
        assert len(found) == len(expected), name
        for (score, box, _), want in zip(found, expected):
            assert score == pytest.approx(want["score"], abs=1e-5)
            np.testing.assert_allclose(box, want["box"], atol=1e-3)


def _real_tflite(tmp_path):
    wheels = glob.glob(str(ROOT / "training" / "data" / "wheels" / "mediapipe-0.10.21-*.whl"))
    if not wheels:
        pytest.skip("the mediapipe wheel is not in training/data/wheels (run training/convert_blazeface.py)")
    return convert_blazeface.extract_tflite(wheels[0], str(tmp_path))


def test_real_conversion_matches_committed_files(tmp_path):
    config, tensors = convert_blazeface.convert(_real_tflite(tmp_path), str(tmp_path / "out"))
    assert config == json.loads((MODEL / "config.json").read_text())
    committed = load_file(str(MODEL / config["weights_file"]))
    assert sorted(committed) == sorted(tensors)
    for name, value in tensors.items():
        np.testing.assert_array_equal(committed[name], value)


def test_real_graph_oracle_agrees_with_reference(tmp_path):
    model = read_model(_real_tflite(tmp_path))
    net, _ = ref.load(str(MODEL))
    raw = load_file(str(FACES / "blazeface_astronaut_raw.safetensors"))
    expected = tflite_numpy.run(model, raw["input"].transpose(0, 2, 3, 1))
    np.testing.assert_allclose(raw["scores"], expected["classificators"][0, :, 0], atol=1e-3)
    np.testing.assert_allclose(raw["regressors"], expected["regressors"][0], atol=1e-3)
