"""The BlazeFace goldens (Tests/Fixtures/faces/blazeface_golden.json, which the Swift detector is
held to) against MediaPipe's own runtime: `mp.solutions.face_detection.FaceDetection` of the
pinned mediapipe 0.10.21 (training/requirements-nodeps.txt, installed --no-deps: its numpy<2,
jax and opencv-contrib pins are not needed for the face-detection graph), whose
face_detection_short_range.tflite is also the file Models/face-detector was converted from.

Tolerances, relative to the image side:
  - the 128x128 letterboxed inputs the goldens' detector saw (MediaPipe's own resize is then the
    identity): network, anchors, decoding and NMS alone -> boxes and keypoints 1e-5, scores 1e-5
    (observed 7e-8);
  - the original photos: MediaPipe resizes with OpenCV's bilinear warp, the project (and Pillow)
    with an antialiased bilinear filter -> boxes 1e-2, keypoints 2e-2, scores 0.02 (observed
    6e-3 / 1.3e-2 / 8e-3); the face count must match exactly.
"""

import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
import convert_blazeface  # noqa: E402

FACES = ROOT / "Tests" / "Fixtures" / "faces"
MODEL = ROOT / "Models" / "face-detector"
LETTERBOXED = {"astronaut.png": "astronaut_letterbox128.png", "grace_hopper.jpg": "grace_hopper_letterbox128.png"}


def _mediapipe():
    if importlib.util.find_spec("mediapipe") is None:
        pytest.fail("mediapipe is not installed: it is pinned in training/requirements-nodeps.txt "
                    "(make venv, or .venv/bin/pip install --no-deps -r training/requirements-nodeps.txt)")
    stubbed = []
    try:
        import matplotlib.pyplot  # noqa: F401  (optional: only probed; a stand-in replaces it below)
    except ImportError:
        # mediapipe's drawing helpers import pyplot at import time; the detector never uses it.
        stub = types.ModuleType("matplotlib")
        stub.pyplot = types.ModuleType("matplotlib.pyplot")
        for name, module in (("matplotlib", stub), ("matplotlib.pyplot", stub.pyplot)):
            if name not in sys.modules:
                sys.modules[name] = module
                stubbed.append(name)
    try:
        import mediapipe  # here: needs the stand-in above, and its absence fails only these tests
    finally:
        # The stand-in must not outlive the import: transformers and diffusers ask importlib
        # whether matplotlib exists, and a module without a spec makes that raise.
        for name in stubbed:
            sys.modules.pop(name, None)

    assert mediapipe.__version__ == convert_blazeface.MEDIAPIPE_VERSION, mediapipe.__version__
    return mediapipe


@pytest.fixture(scope="module")
def detections():
    """MediaPipe's detections (relative coordinates) of every golden photo and letterboxed input."""
    mp = _mediapipe()
    out = {}
    names = list(json.loads((FACES / "blazeface_golden.json").read_text())["images"]) + list(LETTERBOXED.values())
    with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5) as detector:
        for name in names:
            rgb = np.ascontiguousarray(np.asarray(Image.open(FACES / name).convert("RGB")))
            found = detector.process(rgb).detections or []
            rows = []
            for d in sorted(found, key=lambda d: -d.score[0]):
                box = d.location_data.relative_bounding_box
                rows.append((d.score[0], [box.xmin, box.ymin, box.xmin + box.width, box.ymin + box.height],
                             [[k.x, k.y] for k in d.location_data.relative_keypoints]))
            out[name] = rows
    return out


def _golden(name, letterboxed=False):
    image = json.loads((FACES / "blazeface_golden.json").read_text())["images"][name]
    w, h = image["width"], image["height"]
    left, top, right, bottom = image["padding"]
    sx, sy = 1 - left - right, 1 - top - bottom
    rows = []
    for d in image["detections"]:
        box = [d["box"][0] / w, d["box"][1] / h, d["box"][2] / w, d["box"][3] / h]
        keypoints = [[x / w, y / h] for x, y in d["keypoints"]]
        if letterboxed:
            box = [box[0] * sx + left, box[1] * sy + top, box[2] * sx + left, box[3] * sy + top]
            keypoints = [[x * sx + left, y * sy + top] for x, y in keypoints]
        rows.append((d["score"], box, keypoints))
    return rows


def _compare(ours, theirs, score_tol, box_tol, keypoint_tol, label):
    assert len(ours) == len(theirs), f"{label}: golden {len(ours)} faces, MediaPipe {len(theirs)}"
    for (score, box, keypoints), (their_score, their_box, their_keypoints) in zip(ours, theirs):
        assert abs(score - their_score) < score_tol, (label, score, their_score)
        np.testing.assert_allclose(box, their_box, atol=box_tol, rtol=0, err_msg=f"{label}: box")
        np.testing.assert_allclose(keypoints, their_keypoints, atol=keypoint_tol, rtol=0, err_msg=f"{label}: keypoints")


@pytest.mark.parametrize("name", sorted(LETTERBOXED))
def test_goldens_equal_mediapipe_on_the_same_input(detections, name):
    _compare(_golden(name, letterboxed=True), detections[LETTERBOXED[name]], 1e-5, 1e-5, 1e-5, LETTERBOXED[name])


def test_goldens_agree_with_mediapipe_on_the_photos(detections):
    names = json.loads((FACES / "blazeface_golden.json").read_text())["images"]
    assert len(names) == 5
    for name in names:
        _compare(_golden(name), detections[name], 0.02, 1e-2, 2e-2, name)
    assert detections["coffee.png"] == [], "no face in a cup of coffee"
    assert len(detections["two_faces.png"]) == 2


def test_committed_weights_are_mediapipes_tflite_converted(tmp_path):
    mp = _mediapipe()
    tflite = Path(mp.__file__).parent / "modules" / "face_detection" / "face_detection_short_range.tflite"
    assert tflite.is_file(), tflite
    config, tensors = convert_blazeface.convert(str(tflite), str(tmp_path / "out"))
    assert config == json.loads((MODEL / "config.json").read_text())
    committed = load_file(str(MODEL / config["weights_file"]))
    assert sorted(committed) == sorted(tensors)
    for key, value in tensors.items():
        np.testing.assert_array_equal(committed[key], value, err_msg=key)
