"""Checks the reference detector (blazeface_reference.py) against MediaPipe's own runtime.

MediaPipe cannot live in the project's venv (it pins numpy 1.x and pulls opencv, jax...),
so this script makes a throw-away venv under /tmp with the mediapipe 0.10.21 wheel installed
--no-deps plus the few modules its legacy face-detection solution imports, runs
`mp.solutions.face_detection.FaceDetection(model_selection=0)` there (the same
face_detection_short_range graph and .tflite), and compares in the project's venv:

  1. on the 128x128 letterboxed input our reference makes (MediaPipe's own resize is then
     the identity), so network, anchors, decoding and NMS are compared alone;
  2. on the original photos, which adds the difference between MediaPipe's OpenCV bilinear
     warp and our antialiased resize.

Run from the repository root:  .venv/bin/python training/verify_blazeface_mediapipe.py [IMAGES...]
Not part of `make test` (it installs packages); the numbers it printed are in the README.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

VENV = "/tmp/photoverse-mediapipe-venv"
PINNED = ["numpy==1.26.4", "absl-py==2.5.1", "attrs==26.1.0", "flatbuffers==25.12.19", "protobuf==4.25.9",
          "opencv-python-headless==4.10.0.84", "matplotlib==3.10.0", "pillow==13.0.0"]


def run_mediapipe(out_path, images):
    """Runs inside the mediapipe venv: detections in relative coordinates, per image."""
    import mediapipe as mp  # only in the throw-away mediapipe venv

    results = {}
    with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5) as detector:
        for path in images:
            rgb = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
            found = detector.process(rgb).detections or []
            results[path] = []
            for d in found:
                box = d.location_data.relative_bounding_box
                results[path].append({"score": d.score[0], "box": [box.xmin, box.ymin, box.xmin + box.width, box.ymin + box.height],
                                      "keypoints": [[k.x, k.y] for k in d.location_data.relative_keypoints]})
    with open(out_path, "w") as f:
        json.dump(results, f)


def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    if os.path.exists(os.path.join(VENV, ".ready")):
        return python
    sys.path.insert(0, os.path.dirname(__file__))
    from convert_blazeface import DEFAULT_WHEEL_DIR, find_or_fetch_wheel  # project venv only (safetensors)

    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", find_or_fetch_wheel(DEFAULT_WHEEL_DIR)], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", *PINNED], check=True)
    open(os.path.join(VENV, ".ready"), "w").close()
    return python


def compare(images):
    sys.path.insert(0, os.path.dirname(__file__))
    import blazeface_reference as ref  # project venv only (torch); this file also runs in the mediapipe venv

    root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    model, config = ref.load(os.path.join(root, "Models", "face-detector"))
    tmp = tempfile.mkdtemp(prefix="blazeface-verify-")
    ours, inputs = {}, []
    for path in images:
        image = Image.open(path).convert("RGB")
        found, _, _, boxed = ref.detect(model, config, image)
        letterboxed = os.path.join(tmp, os.path.basename(path) + ".128.png")
        boxed.save(letterboxed)
        inputs += [path, letterboxed]
        w, h = image.size
        ours[path] = [(s, [b[0] / w, b[1] / h, b[2] / w, b[3] / h], [(x / w, y / h) for x, y in k]) for s, b, k in found]
        # Same 128x128 input: compare before letterbox removal.
        with_box = ref.letterbox(image, config["input_size"])[1]
        sx, sy = 1 - with_box[0] - with_box[2], 1 - with_box[1] - with_box[3]
        ours[letterboxed] = [(s, [b[0] * sx + with_box[0], b[1] * sy + with_box[1], b[2] * sx + with_box[0], b[3] * sy + with_box[1]],
                              [(x * sx + with_box[0], y * sy + with_box[1]) for x, y in k]) for s, b, k in ours[path]]
    out = os.path.join(tmp, "mediapipe.json")
    subprocess.run([ensure_venv(), os.path.abspath(__file__), "--run-mediapipe", out, *inputs], check=True)
    with open(out) as f:
        theirs = json.load(f)
    worst = {"same input": 0.0, "original photo": 0.0}
    for path in inputs:
        kind = "same input" if path.endswith(".128.png") else "original photo"
        a, b = ours[path], theirs[path]
        line = f"{os.path.basename(path):32s} {kind:15s} faces ours {len(a)} mediapipe {len(b)}"
        if len(a) == len(b):
            for (s, box, kp), d in zip(sorted(a, key=lambda t: -t[0]), sorted(b, key=lambda t: -t["score"])):
                box_err = float(np.abs(np.array(box) - np.array(d["box"])).max())
                kp_err = float(np.abs(np.array(kp) - np.array(d["keypoints"])).max())
                worst[kind] = max(worst[kind], box_err, kp_err)
                line += f" | score {s:.4f} vs {d['score']:.4f}, box {box_err:.2e}, keypoints {kp_err:.2e} (relative)"
        else:
            worst[kind] = float("inf")
        print(line)
    print("largest difference, relative to the image size:", worst)
    return worst


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--run-mediapipe":
        run_mediapipe(sys.argv[2], sys.argv[3:])
        return
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    faces = os.path.join(root, "Tests", "Fixtures", "faces")
    photos = ["astronaut.png", "grace_hopper.jpg", "coffee.png", "two_faces.png", "tiny_face.png"]
    images = sys.argv[1:] or [os.path.join(faces, f) for f in photos]
    worst = compare(images)
    if worst["same input"] > 1e-3:
        raise SystemExit("the reference disagrees with MediaPipe on identical input")


if __name__ == "__main__":
    main()
