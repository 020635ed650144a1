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

from .train import Stage2Data


def data_kind(cfg: dict) -> str:
    return str((cfg.get("data") or {}).get("kind", "synthetic_cache"))


def identity_kind(cfg: dict) -> str:
    return str((cfg.get("identity") or {}).get("kind", "trained"))


def load_identity_net(cfg: dict, work_dir):
    """The frozen identity network of L_face."""
    if identity_kind(cfg) == "arcface":
        from ..common.config import resolve_path
        from ..identity.arcface import load_arcface

        ic = cfg["identity"]
        net = load_arcface(resolve_path(ic["weights"]), int(ic.get("input_size", 112)), float(ic.get("enlarge", 1.3)))
    else:
        from ..identity.train import load_net

        net = load_net(Path(work_dir) / "nets" / "identity")
    net.requires_grad_(False)
    return net


def load_train_split(cfg: dict, work_dir, reference_size: int | None = None) -> dict:
    """<work>/data/train.npz; for data.kind folder built first when missing (references at
    data.reference_size, else `reference_size`, the encoder's)."""
    from ..common.datacache import load

    path = Path(work_dir) / "data" / "train.npz"
    if data_kind(cfg) == "folder":
        from ..common import dist

        if dist.is_main():
            from ..common.photo_folder import build_from_folder

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
