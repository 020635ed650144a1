"""The synthetic data set generated once into uint8 .npz files under <work>/data (not in git).

Files (one per split, "train" and "heldout"):
  images      uint8 (N, S, S, 3)
  masks       uint8 (N, S, S)     face mask * 255
  face_boxes  int16 (N, 4)        x, y, w, h
  labels      int8  (N, 7)        attribute classes, data.ATTRIBUTE_NAMES order
  identities  int32 (N,)          identity index in the whole data set
  image_ids   int32 (N,)          image index within the identity's stream
  captions    str   (N,)          "a photo of a person ..."
  describe_captions str (N,)      the same with the identity's describe() phrase as subject
                                  ("a photo of a person with a brown ponytail ...")
  ref_images  uint8 (I, R, S, S, 3)  R neutral references per identity (sample_reference)
  ref_masks   uint8 (I, R, S, S)
  ref_identities int32 (I,)
Generation goes in chunks (each an atomic .npz), so an interrupted run resumes; data.workers > 1
renders chunks in that many processes (the result does not depend on it).
data.attribute_weights narrows the vocabulary (v2): {attribute: [weight per class]} over
data.ATTRIBUTE_CLASSES, a zero weight drops a class (attributes.py DEFAULT_WEIGHTS otherwise)."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from ..data.synthetic_faces import IdentityParams, caption, sample_image, sample_reference, split_identities
from .checkpoint import save_npz
from .photo_folder import build_from_folder as build_photos
from .progress import LOG, progress

SPLITS = ("train", "heldout")


def split_ids(cfg: dict):
    return split_identities(int(cfg["identities"]), float(cfg.get("held_out_fraction", 0.1)), int(cfg.get("seed", 0)))


_savez = save_npz


def _render_chunk(cfg, items):
    seed, size = int(cfg.get("seed", 0)), int(cfg.get("size", 64))
    weights = cfg.get("attribute_weights") or None
    imgs, masks, boxes, labels, idents, image_ids, caps, dcaps = [], [], [], [], [], [], [], []
    for ident, img in items:
        s = sample_image(seed, ident, img, size=size, attribute_weights=weights)
        r = s.rendered
        imgs.append(r.image)
        masks.append(np.clip(np.round(r.face_mask * 255), 0, 255).astype(np.uint8))
        boxes.append(np.asarray(r.face_box, dtype=np.int16))
        labels.append(np.asarray(r.attributes.labels(), dtype=np.int8))
        idents.append(ident)
        image_ids.append(img)
        caps.append(s.caption)
        dcaps.append(caption(r.attributes, IdentityParams.sample(seed, ident).describe()))
    return dict(images=np.stack(imgs), masks=np.stack(masks), face_boxes=np.stack(boxes), labels=np.stack(labels),
                identities=np.asarray(idents, np.int32), image_ids=np.asarray(image_ids, np.int32),
                captions=np.asarray(caps), describe_captions=np.asarray(dcaps))


def _render_chunk_to(cfg, job) -> int:
    path, items = job
    _savez(path, **_render_chunk(cfg, items))
    return len(items)


def _render_refs(cfg, identities, per_identity):
    seed, size = int(cfg.get("seed", 0)), int(cfg.get("size", 64))
    imgs = np.zeros((len(identities), per_identity, size, size, 3), np.uint8)
    masks = np.zeros((len(identities), per_identity, size, size), np.uint8)
    for i, ident in enumerate(identities):
        for k in range(per_identity):
            r = sample_reference(seed, ident, k, size)
            imgs[i, k] = r.image
            masks[i, k] = np.clip(np.round(r.face_mask * 255), 0, 255).astype(np.uint8)
    return imgs, masks


def build(cfg: dict, folder, chunk: int = 1000) -> dict:
    """Generate (or finish generating) both splits into `folder`; returns {split: path}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    train, held = split_ids(cfg)
    plan = {"train": (train, int(cfg["train_images_per_identity"])),
            "heldout": (held, int(cfg["held_out_images_per_identity"]))}
    refs_per = int(cfg.get("references_per_identity", 2))
    out = {}
    for split, (ids, per) in plan.items():
        final = folder / f"{split}.npz"
        out[split] = final
        if final.exists():
            continue
        items = [(i, k) for i in ids for k in range(per)]
        chunks = [items[a:a + chunk] for a in range(0, len(items), chunk)]
        bar = progress(len(items), f"data {split}", unit="img")
        parts = [folder / f".{split}-chunk{c:04d}-of{len(chunks):04d}.npz" for c in range(len(chunks))]
        todo = [(p, part) for p, part in zip(parts, chunks) if not p.exists()]
        bar.update(len(items) - sum(len(part) for _, part in todo))
        workers = int(cfg.get("workers", 1) or 1)
        if workers > 1 and len(todo) > 1:
            with ProcessPoolExecutor(min(workers, len(todo))) as pool:
                for n in pool.map(_render_chunk_to, [cfg] * len(todo), todo):
                    bar.update(n)
        else:
            for job in todo:
                bar.update(_render_chunk_to(cfg, job))
        bar.close()
        LOG.info(f"[data] {split}: {len(items)} images of {len(ids)} identities; rendering {refs_per} references each")
        ref_imgs, ref_masks = _render_refs(cfg, ids, refs_per)
        merged: dict = {}
        for p in parts:
            with np.load(p) as z:
                for k in z.files:
                    merged.setdefault(k, []).append(z[k])
        arrays = {k: np.concatenate(v) for k, v in merged.items()}
        _savez(final, **arrays, ref_images=ref_imgs, ref_masks=ref_masks, ref_identities=np.asarray(ids, np.int32))
        for p in parts:
            os.unlink(p)
        LOG.info(f"[data] wrote {final} ({final.stat().st_size / 2**20:.0f} MiB)")
    return out


def load(path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def to_float(images_uint8) -> "torch.Tensor":
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images_uint8)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


# ---- a folder of real photos (SD1.5-scale runs) ------------------------------------------------

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def _face_box(detector, img) -> tuple[int, int, int, int] | None:
    """The most confident BlazeFace box (x, y, w, h in source pixels), or None."""
    import blazeface_reference as bf  # training/ is on sys.path only after photo_folder.load_detector

    model, config = detector
    dets = bf.detect(model, config, img)[0]
    if not dets:
        return None
    _, (x0, y0, x1, y1), _ = max(dets, key=lambda d: d[0])
    return int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))


def build_from_folder(cfg: dict, folder) -> dict:
    """Photos under cfg["path"] (data.kind folder): one sub-folder per person, each photo with an
    optional caption beside it (.txt). Same .npz layout as `build`, with each person's references
    prepared as the engine prepares a reference; see common/photo_folder.py."""
    return build_photos(cfg, folder)
