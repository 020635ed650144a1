"""What stage 2 reads, by config (train.py's check_supported lists the accepted kinds):

data.kind
  synthetic_cache (default)  <work>/data/train.npz as train_mini writes it (mini_stage2.yaml)
  folder                     a folder of real photos, data.path/<person>/<photo>.jpg
                             (common/photo_folder.py); <work>/data/{train,heldout}.npz are built
                             from it when missing (rank 0; references at the encoder's size)
identity.kind
  trained (default)          <work>/nets/identity (identity/train.py load_net)
  arcface                    identity.weights: an insightface IResNet as .safetensors
                             (identity/arcface.py), identity.input_size (112), identity.enlarge (1.3)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..common import dist
from ..common.config import resolve_path
from ..common.datacache import load
from ..common.masking import mask_reference
from ..common.photo_folder import build_from_folder
from ..data.synthetic_faces import to_placeholder
from ..identity.arcface import load_arcface
from ..identity.train import load_net
from ..stage1.unet import encode_latents, read_latent_cache, vae_fingerprint
from .base import reference_pixels


def data_kind(cfg: dict) -> str:
    return str((cfg.get("data") or {}).get("kind", "synthetic_cache"))


def identity_kind(cfg: dict) -> str:
    return str((cfg.get("identity") or {}).get("kind", "trained"))


def load_identity_net(cfg: dict, work_dir):
    """The frozen identity network of L_face."""
    if identity_kind(cfg) == "arcface":
        ic = cfg["identity"]
        net = load_arcface(resolve_path(ic["weights"]), int(ic.get("input_size", 112)), float(ic.get("enlarge", 1.3)))
    else:
        net = load_net(Path(work_dir) / "nets" / "identity")
    net.requires_grad_(False)
    return net


def load_train_split(cfg: dict, work_dir, reference_size: int | None = None) -> dict:
    """<work>/data/train.npz; for data.kind folder built first when missing (references at
    data.reference_size, else `reference_size`, the encoder's)."""
    path = Path(work_dir) / "data" / "train.npz"
    if data_kind(cfg) == "folder":
        if dist.is_main():
            dc = dict(cfg["data"])
            if reference_size and "reference_size" not in dc:
                dc["reference_size"] = int(reference_size)
            build_from_folder(dc, path.parent)
        dist.barrier()
    train = load(path)
    if data_kind(cfg) == "folder" and "ref_images" not in train:
        raise SystemExit(f"{path} has no reference arrays (ref_images): it was built by an older build_from_folder; "
                         "delete train.npz and heldout.npz to rebuild them")
    return train


class Stage2Data:
    """The training split of the data cache (<work>/data/train.npz) for stage 2: posteriors of
    the images, face boxes, "a person" captions and their S* versions, and each identity's
    neutral references (masked)."""

    def __init__(self, train: dict, latents: dict, image_size: int, mean, std):
        self.images = train["images"]
        self.boxes = train["face_boxes"].astype(np.float32)
        self.captions = [str(c) for c in train["captions"]]
        self.placeholder_captions = [to_placeholder(c) for c in self.captions]
        self.identities = train["identities"]
        row = {int(i): r for r, i in enumerate(train["ref_identities"])}
        self.ref_row = np.asarray([row[int(i)] for i in self.identities], np.int64)
        self.refs = mask_reference(train["ref_images"], train["ref_masks"])  # (I, R, S, S, 3) uint8
        self.refs_per_identity = self.refs.shape[1]
        # C order: stage 1's in-memory cache is a strided view (channels-last-like), and torch picks
        # other conv kernels for that layout, so a resumed run (cache read from disk) would differ
        self.lat_mean, self.lat_std = np.ascontiguousarray(latents["mean"]), np.ascontiguousarray(latents["std"])
        if len(self.lat_mean) != len(self.images):
            raise ValueError(f"{len(self.lat_mean)} cached latents for {len(self.images)} images")
        self.image_size, self.mean, self.std = image_size, mean, std

    def __len__(self):
        return len(self.images)

    def reference_pixels(self, idx, choice) -> torch.Tensor:
        return reference_pixels(self.refs[self.ref_row[idx], choice], self.image_size, self.mean, self.std)


def train_latents(vae, train: dict, work: Path) -> dict:
    """Posterior mean/std of every training image: stage 1's cache when the same VAE made it (the
    base ships stage 1's VAE at float16, which has the same fingerprint), else our own."""
    shared = read_latent_cache(work / "cache" / "train_latents.npz", vae_fingerprint(vae), len(train["images"]))
    if shared is not None:
        return shared
    return encode_latents(vae, train["images"], work / "stage2" / "cache" / "train_latents.npz")


class FolderStage2Data(Stage2Data):
    """Stage2Data for a photo folder: a photo's reference is another photo of the same person
    where the person has one (ref_image_ids names each reference's photo): the step's draw c in
    [0, R) picks among the references that are not the photo itself (c modulo their count)."""

    def __init__(self, train: dict, latents: dict, image_size: int, mean, std):
        super().__init__(train, latents, image_size, mean, std)
        ref_photo = np.asarray(train["ref_image_ids"])[self.ref_row]             # (N, R)
        own = np.asarray(train["image_ids"])[:, None]
        r = self.refs_per_identity
        self.choice_map = np.zeros((len(self.images), r), np.int64)
        for n in range(len(self.images)):
            other = np.flatnonzero(ref_photo[n] != own[n]) if (ref_photo[n] != own[n]).any() else np.arange(r)
            self.choice_map[n] = other[np.arange(r) % len(other)]

    def reference_pixels(self, idx, choice):
        idx = np.asarray(idx)
        return super().reference_pixels(idx, self.choice_map[idx, np.asarray(choice)])


def stage2_data(cfg: dict, train: dict, latents: dict, image_size: int, mean, std) -> Stage2Data:
    if data_kind(cfg) == "folder" and "ref_image_ids" in train:
        return FolderStage2Data(train, latents, image_size, mean, std)
    return Stage2Data(train, latents, image_size, mean, std)
