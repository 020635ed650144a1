"""A folder of real photos as the data cache (SD1.5-scale runs; data.kind folder).

    <path>/<person>/<photo>.jpg|jpeg|png|webp   (+ optional <photo>.txt caption beside it)

-> <work>/data/{train,heldout}.npz in the layout of datacache.build (see its docstring), so that
stage 1's networks and stage 2's Stage2Data read it unchanged:

- one row per photo: centre-cropped square around the detected face (BlazeFace,
  Models/face-detector: the most confident box), resized to data.size (bicubic); face_boxes the
  box in that square (no detection: the central half); masks all 255, labels -1 (real photos
  carry no attribute labels), captions from the .txt or data.default_caption;
- per person, data.references_per_identity (default 4) references prepared as the engine
  prepares one (common/reference.py: largest face, 1.3x square, bicubic to
  data.reference_size (default 224, the encoder's size), soft ellipse): ref_images the crops,
  ref_masks the ellipse as bytes, ref_identities; a person with fewer usable photos repeats
  them in order. ref_image_ids (I, R) int32 names the photo (image_ids) each reference is, so
  stage 2 can give a photo another photo of the same person as its reference
  (stage2/inputs.py: FolderStage2Data).
- A photo is a usable reference when a face is found that is at least 40 px (the engine's
  minimum) on its shorter side; with detect_faces false every photo is, with the central half
  of the photo as its box. A person with one photo, or no usable reference, is skipped (logged).

Held-out split: the persons listed in data.held_out, else the last held_out_fraction of them
(sorted by name); held-out identity numbers are offset by 10**6."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from .masking import mask_u8
from .checkpoint import save_npz
from .config import REPO_ROOT, resolve_path
from .progress import LOG
from .reference import MINIMUM_FACE_SIZE, largest_face, prepare_reference, swift_round

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
SPLITS = ("train", "heldout")


def load_detector(cfg: dict):
    """The BlazeFace reference detector (training/blazeface_reference.py), or None when
    cfg["detect_faces"] is false."""
    if not cfg.get("detect_faces", True):
        return None
    if str(REPO_ROOT / "training") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "training"))
    import blazeface_reference as bf  # training/ is on sys.path only after the insert above

    path = resolve_path(cfg.get("face_detector", "Models/face-detector"))
    if not (path / "config.json").exists():
        raise SystemExit(f"{path}: no BlazeFace detector here (config.json + blazeface-short-range.safetensors); "
                         "set data.face_detector or data.detect_faces: false")
    return bf.load(str(path))


def detect(detector, img) -> list:
    import blazeface_reference as bf  # training/ is on sys.path only once load_detector ran

    model, config = detector
    return bf.detect(model, config, img)[0]


def photo_files(person: Path) -> list:
    return sorted(f for f in person.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)


def _training_row(img, dets, size: int):
    """(uint8 (size, size, 3) image, face box x, y, w, h in it): as build_from_folder always did."""
    w, h = img.size
    box = None
    if dets:
        _, (x0, y0, x1, y1), _ = max(dets, key=lambda d: d[0])
        box = int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))
    side = min(w, h)
    cx, cy = (box[0] + box[2] / 2, box[1] + box[3] / 2) if box else (w / 2, h / 2)
    left = int(min(max(cx - side / 2, 0), w - side))
    top = int(min(max(cy - side / 2, 0), h - side))
    out = img.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)
    s = size / side
    fb = ((box[0] - left) * s, (box[1] - top) * s, box[2] * s, box[3] * s) if box else \
        (size * 0.25, size * 0.25, size * 0.5, size * 0.5)
    return np.asarray(out, np.uint8), fb


def reference_box(img, dets, detector, min_face: int):
    """The box the engine would crop around (x0, y0, x1, y1), or (None, why)."""
    w, h = img.size
    if detector is None:
        s = min(w, h) / 2
        return (w / 2 - s / 2, h / 2 - s / 2, w / 2 + s / 2, h / 2 + s / 2), None
    box = largest_face(dets)
    if box is None:
        return None, "no face found"
    bw, bh = int(swift_round(box[2] - box[0])), int(swift_round(box[3] - box[1]))
    if min(bw, bh) < min_face:
        return None, f"face {bw}x{bh} px, under {min_face}"
    return box, None


def build_from_folder(cfg: dict, folder) -> dict:
    """Both splits into `folder` (a split whose .npz exists is kept); returns {split: path}."""
    src, folder = resolve_path(cfg["path"]), Path(folder)
    size = int(cfg.get("size", 512))
    ref_size = int(cfg.get("reference_size", 224))
    refs_per = int(cfg.get("references_per_identity", 4))
    min_face = int(cfg.get("reference_min_face", MINIMUM_FACE_SIZE))
    if not src.is_dir():
        raise SystemExit(f"data.path {src}: not a folder (expected <path>/<person>/<photo>.jpg)")
    people = sorted(p for p in src.iterdir() if p.is_dir())
    if not people:
        raise SystemExit(f"data.path {src}: expected one sub-folder of photos per person, found none")
    held_names = set(cfg.get("held_out") or [p.name for p in people[len(people) - int(round(
        len(people) * float(cfg.get("held_out_fraction", 0.1)))):]])
    detector = None
    out = {}
    folder.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        final = folder / f"{split}.npz"
        out[split] = final
        if final.exists():
            continue
        if detector is None:
            detector = load_detector(cfg) or False
        rows = {k: [] for k in ("images", "masks", "face_boxes", "labels", "identities", "image_ids", "captions")}
        ref_imgs, ref_masks, ref_ids, ref_image_ids = [], [], [], []
        mask = None
        ident = 0
        for person in (p for p in people if (p.name in held_names) == (split == "heldout")):
            files = photo_files(person)
            if len(files) < 2:
                LOG.info(f"[data] {person}: {len(files)} photo(s), skipped (a reference must be another photo)")
                continue
            p_rows, p_refs = [], []
            for k, f in enumerate(files):
                img = Image.open(f).convert("RGB")
                dets = detect(detector, img) if detector else []
                image, fb = _training_row(img, dets, size)
                cap = f.with_suffix(".txt")
                p_rows.append((image, fb, k, cap.read_text().strip() if cap.exists() else
                               cfg.get("default_caption", "a photo of a person")))
                box, why = reference_box(img, dets, detector or None, min_face)
                if box is None:
                    LOG.info(f"[data] {f}: not a reference ({why})")
                    continue
                crop, m, _ = prepare_reference(img, box, ref_size)
                mask = mask_u8(m) if mask is None else mask
                p_refs.append((crop, k))
            if not p_refs:
                LOG.info(f"[data] {person}: no photo usable as a reference, skipped")
                continue
            number = ident + (10**6 if split == "heldout" else 0)
            for image, fb, k, caption in p_rows:
                rows["images"].append(image)
                rows["masks"].append(np.full((size, size), 255, np.uint8))
                rows["face_boxes"].append(np.asarray(fb, np.int16))
                rows["labels"].append(np.full(7, -1, np.int8))
                rows["identities"].append(number)
                rows["image_ids"].append(k)
                rows["captions"].append(caption)
            picks = [p_refs[r % len(p_refs)] for r in range(refs_per)]
            ref_imgs.append(np.stack([c for c, _ in picks]))
            ref_masks.append(np.stack([mask] * refs_per))
            ref_image_ids.append([k for _, k in picks])
            ref_ids.append(number)
            ident += 1
        if not ref_ids:
            hint = " (see data.held_out / held_out_fraction)" if split == "heldout" else ""
            raise SystemExit(f"data.path {src}: no person with at least two photos and a usable face in the "
                             f"{split} split{hint}")
        arrays = {k: np.stack(v) if k in ("images", "masks", "face_boxes", "labels") else np.asarray(v)
                  for k, v in rows.items()}
        arrays["identities"] = arrays["identities"].astype(np.int32)
        arrays["image_ids"] = arrays["image_ids"].astype(np.int32)
        arrays["describe_captions"] = arrays["captions"]
        save_npz(final, **arrays, ref_images=np.stack(ref_imgs), ref_masks=np.stack(ref_masks),
                 ref_identities=np.asarray(ref_ids, np.int32), ref_image_ids=np.asarray(ref_image_ids, np.int32))
        LOG.info(f"[data] {split}: {len(arrays['images'])} photos of {ident} people, {refs_per} references "
                 f"each at {ref_size} px -> {final}")
    return out
