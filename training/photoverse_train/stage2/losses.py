"""The stage-2 loss terms (PhotoVerse): L = L_diff + w_face L_face + w_Treg L_Treg + w_Sreg L_Sreg.

  L_diff   mean (eps_hat - eps)^2 over every element of the batch
  L_face   mean over the face rows of 1 - cos(ID(x), ID(x0_hat)): x0_hat is the predicted clean
           latent (z_t - sqrt(1 - a_t) eps_hat) / sqrt(a_t) decoded by the frozen VAE, ID the
           identity network on the face crop (the generator's face box of x, enlarged 1.3x:
           the crop the identity network was trained on); ID(x) has no gradient
  L_Treg   mean |S| over the pseudo-words actually placed in a prompt (L1)
  L_Sreg   mean |V_S| over the rows whose image branch is on: per attn2 layer the mean absolute
           value of v_S = to_v_ip(f) over those rows, then the mean over layers
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def diffusion_loss(eps_hat: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(eps_hat, eps)


def predicted_x0(z_t: torch.Tensor, eps_hat: torch.Tensor, alphas_cumprod_t: torch.Tensor) -> torch.Tensor:
    """x0_hat = (z_t - sqrt(1 - a) eps_hat) / sqrt(a); alphas_cumprod_t [B]."""
    a = alphas_cumprod_t.view(-1, *([1] * (z_t.dim() - 1))).to(z_t.dtype)
    return (z_t - (1 - a).sqrt() * eps_hat) / a.sqrt()


def identity_cosine_loss(emb_target: torch.Tensor, emb_pred: torch.Tensor) -> torch.Tensor:
    """mean(1 - cos) of two [N, D] embedding batches (normalised here, whatever they come as)."""
    if emb_pred.shape[0] == 0:
        return emb_pred.sum() * 0.0
    return (1.0 - F.cosine_similarity(emb_target, emb_pred, dim=-1)).mean()


def face_loss(id_net, target_images: torch.Tensor, decoded: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """1 - cos(ID(x), ID(x0_hat)) on the face crops (same box for both: x0_hat should show x)."""
    with torch.no_grad():
        e_t = id_net.embed_faces(target_images, boxes)
    return identity_cosine_loss(e_t, id_net.embed_faces(decoded, boxes))


def masked_abs_mean(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """mean |x[rows]| (rows: [B] bool); 0 (with a graph) when no row is selected."""
    if not bool(rows.any()):
        return x.sum() * 0.0
    return x[rows].abs().mean()


def treg_loss(pseudo_words: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """pseudo_words [B, k, D] (the k words placed in the prompts); rows: rows that use them."""
    return masked_abs_mean(pseudo_words, rows)


def sreg_loss(values: Sequence[torch.Tensor], rows: torch.Tensor) -> torch.Tensor:
    """values: every attn2's v_S [B, T, inner] of one UNet call; rows: image branch on."""
    if not values or not bool(rows.any()):
        return torch.zeros(())
    return torch.stack([v[rows].abs().mean() for v in values]).mean()
