"""Masked references for the synthetic faces (training, evaluation and the PNGs shipped in
Models/mini/references/ all use it, so `photoverse generate --crop none` on a shipped PNG feeds
the encoder exactly what training fed it):
  masked = round(image * m + MASK_FILL * (1 - m)),  m = face mask (uint8 / 255; face, ears, hair)
MASK_FILL is the CLIP mean colour, the colour the engine's elliptical mask fills with (it
normalises to ~0). In common/ because the photo-folder data and stage 2 both use it."""

from __future__ import annotations

import numpy as np

MASK_FILL = (123, 117, 104)


def mask_reference(images_u8: np.ndarray, masks_u8: np.ndarray) -> np.ndarray:
    """uint8 (..., H, W, 3) and uint8 masks (..., H, W) -> uint8 masked references."""
    m = masks_u8.astype(np.float32)[..., None] * (1.0 / 255.0)
    fill = np.asarray(MASK_FILL, np.float32)
    out = images_u8.astype(np.float32) * m + fill * (1.0 - m)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def mask_u8(face_mask: np.ndarray) -> np.ndarray:
    """A renderer's float mask -> the uint8 mask the data cache stores."""
    return np.clip(np.round(face_mask * 255), 0, 255).astype(np.uint8)
