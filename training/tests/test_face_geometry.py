"""The face mesh converter and goldens, the ArcFace .onnx converter, and MediaPipe's runtime as
the face mesh's independent oracle.

- Models/face-mesh is what training/convert_face_mesh.py makes of the installed mediapipe wheel's
  face_landmark.tflite (bit for bit), and the reference network (training/face_mesh_reference.py)
  agrees with the .tflite run op by op in numpy (training/tflite_numpy.py);
- Tests/Fixtures/face-geometry regenerates from its script (values within 1e-4 relative);
- convert_arcface.py reads an ONNX export of a random IResNet (BatchNorms folded by torch.onnx, an
  in-graph Sub/Mul normalisation) into the same network: PyTorch on the converted weights agrees
  with onnxruntime on the graph (1e-5), and a graph that is no IResNet is refused in one line;
- the reference face mesh, given MediaPipe's own pipeline's job (detector + mesh on the photo),
  lands within 2.5 px (max) and 1 px (mean) of mp.solutions.face_mesh on the real photos
  (observed 1.9 / 0.78 px on grace_hopper.jpg; the detectors' inputs differ: OpenCV's bilinear
  warp vs the project's antialiased resize, and the crops' rounding).
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from PIL import Image
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
import blazeface_reference  # noqa: E402
import convert_arcface  # noqa: E402
import convert_face_mesh  # noqa: E402
import face_mesh_reference  # noqa: E402
import make_face_geometry_fixtures  # noqa: E402  (training/fixtures, on the path through conftest.py)
import tflite_numpy  # noqa: E402
from photoverse_train.identity.arcface import IResNet, load_arcface  # noqa: E402
from test_blazeface_mediapipe import _mediapipe  # noqa: E402
from test_committed_fixtures import _compare, _run  # noqa: E402
from tflite_reader import read_model  # noqa: E402

MESH = ROOT / "Models" / "face-mesh"
FACES = ROOT / "Tests" / "Fixtures" / "faces"


def _tflite():
    return make_face_geometry_fixtures.mediapipe_tflite()


def test_committed_mesh_is_mediapipes_tflite_converted(tmp_path):
    config, tensors = convert_face_mesh.convert(_tflite(), str(tmp_path / "out"))
    assert config == json.loads((MESH / "config.json").read_text())
    committed = load_file(str(MESH / config["weights_file"]))
    assert sorted(committed) == sorted(tensors)
    for key, value in tensors.items():
        np.testing.assert_array_equal(committed[key], value, err_msg=key)
    assert len(config["face_oval"]) == 36 and config["face_oval"][0] == 10


def test_reference_network_equals_the_tflite_graph():
    weights, config = face_mesh_reference.load(str(MESH))
    crop = np.asarray(Image.open(ROOT / "Tests" / "Fixtures" / "face-geometry" / "face_mesh_astronaut_input.png"))
    oracle = tflite_numpy.run(read_model(_tflite()), crop[None].astype(np.float32) / 255.0)
    x = torch.from_numpy(crop.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        raw, logit = face_mesh_reference.network(weights, config, x)
    np.testing.assert_allclose(raw.numpy(), oracle[config["landmarks_output"]].reshape(-1), atol=1e-3)
    assert abs(float(logit) - float(oracle[config["presence_output"]].reshape(-1)[0])) < 1e-3


def test_face_geometry_fixtures_regenerate(tmp_path):
    _run("make_face_geometry_fixtures.py", "--out", tmp_path / "face-geometry")
    assert _compare(tmp_path, ["face-geometry"]) == 7


def _random_iresnet(seed=0):
    torch.manual_seed(seed)
    net = IResNet((1, 2, 1, 1), 8, 32, widths=(8, 8, 16, 16)).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
            elif isinstance(m, torch.nn.PReLU):
                m.weight.uniform_(0.05, 0.4)
    return net


class _Normalised(torch.nn.Module):
    """Takes bytes and normalises inside the graph, as some older insightface packs do."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net((x - 127.5) * (1 / 127.5))


@pytest.mark.parametrize("in_graph_normalisation", [False, True])
def test_onnx_export_converts_to_the_same_network(tmp_path, in_graph_normalisation):
    net = _random_iresnet()
    model = _Normalised(net).eval() if in_graph_normalisation else net
    pixels = torch.randint(0, 256, (1, 3, 32, 32)).float()
    x = (pixels - 127.5) / 127.5
    example = pixels if in_graph_normalisation else x
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, (example,), str(path), dynamo=False, opset_version=11, input_names=["input.1"],
                      output_names=["embedding"])
    kinds = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "Conv" in kinds and "PRelu" in kinds and "Gemm" in kinds
    print(convert_arcface.convert(str(path), str(tmp_path / "folder"), input_size=32))
    config = json.loads((tmp_path / "folder" / "config.json").read_text())
    assert config["layers"] == [1, 2, 1, 1] and config["widths"] == [8, 8, 16, 16] and config["embedding_size"] == 8
    mean, std = config["input_mean"], config["input_std"]
    assert abs(mean - 127.5) < 1e-3 and abs(std - 127.5) < 1e-3
    loaded = load_arcface(tmp_path / "folder" / "arcface.safetensors", 32).net
    ours = loaded((pixels - mean) / std).detach().numpy()
    theirs = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input.1": example.numpy()})[0]
    with torch.no_grad():
        original = net(x).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(ours, original, atol=1e-5)


def test_onnx_that_is_no_iresnet_is_refused(tmp_path):
    path = tmp_path / "other.onnx"
    torch.onnx.export(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()).eval(), (torch.zeros(1, 3, 8, 8),),
                      str(path), dynamo=False, opset_version=11)
    with pytest.raises(SystemExit) as e:
        convert_arcface.convert(str(path), str(tmp_path / "out"))
    message = str(e.value)
    assert "other.onnx" in message and "not an insightface IResNet graph" in message and "\n" not in message


def test_reference_mesh_agrees_with_mediapipes_runtime():
    mp = _mediapipe()
    weights, config = face_mesh_reference.load(str(MESH))
    detector, detector_config = blazeface_reference.load(str(ROOT / "Models" / "face-detector"))
    worst = {}
    for name in ["astronaut.png", "grace_hopper.jpg", "two_faces.png"]:
        image = Image.open(FACES / name).convert("RGB")
        with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=2, refine_landmarks=False) as mesh:
            found = mesh.process(np.ascontiguousarray(np.asarray(image))).multi_face_landmarks or []
        theirs = [np.array([[p.x * image.width, p.y * image.height] for p in face.landmark]) for face in found]
        ours = [face_mesh_reference.landmarks(weights, config, image, box, keypoints)[0]
                for _, box, keypoints in blazeface_reference.detect(detector, detector_config, image)[0]]
        assert len(ours) == len(theirs), name
        for points in ours:
            distance = np.linalg.norm(min(theirs, key=lambda t: np.abs(t - points).mean()) - points, axis=1)
            worst[name] = max(worst.get(name, (0, 0)), (float(distance.max()), float(distance.mean())))
    print("landmark distance to MediaPipe (max, mean) px:", worst)
    for name, (largest, mean) in worst.items():
        assert largest < 2.5 and mean < 1.0, (name, largest, mean)
