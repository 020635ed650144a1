"""Decoupled cross-attention for every attn2 of the UNet (attn1 is left alone).

    q   = to_q(h)
    k_T = to_k(p) + alpha * lora_B_k(lora_A_k(p))          p = text encoder states [B, 77, C]
    v_T = to_v(p) + alpha * lora_B_v(lora_A_v(p))
    k_S = to_k_ip(f),  v_S = to_v_ip(f)                     f = image tokens [B, T, C]
    O   = to_out( gamma * SDPA(q, k_T, v_T) + sigma * SDPA(q, k_S, v_S) )

SDPA = softmax(q k^T / sqrt(head_dim)) v per head, as diffusers' AttnProcessor2_0. LoRA: rank r
read from the weights (lora_A [r, C], lora_B [out, r]); no extra scaling besides alpha (no
lora_alpha / r factor); applied without merging, so alpha can change between calls.
gamma, sigma, alpha: Python numbers (one value for the batch) or tensors of shape [B] (one per
sample, as the trainer's random fusion needs). With sigma = 0 (or no image tokens) the image
attention is not computed at all; with gamma = 1 and alpha = 0 the text path runs exactly the
operations of AttnProcessor2_0, so the UNet output is bit-identical to the plain UNet's.
Zero image tokens give k_S = v_S = 0, so SDPA(q, 0, 0) = 0 exactly: the unconditional image
input of guidance contributes nothing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BranchState:
    """Per-call settings shared by all decoupled processors of one UNet (set by PhotoVerseModel
    before each UNet call)."""

    def __init__(self):
        self.image_tokens = None  # [B or 1, T, C] or None: image branch off
        self.gamma = 1.0
        self.sigma = 1.0
        self.alpha = 1.0
        self.record_image_values = None  # a list: processors append v_S (for L_Sreg)

    def set(self, image_tokens=None, gamma=1.0, sigma=1.0, alpha=1.0):
        self.image_tokens, self.gamma, self.sigma, self.alpha = image_tokens, gamma, sigma, alpha


def _coef(x, batch: int, like: torch.Tensor):
    """A Python number stays a float; a tensor becomes [B, 1, 1] (a 0-d tensor: a float)."""
    if isinstance(x, torch.Tensor):
        if x.dim() == 0:
            return float(x)
        x = x.reshape(-1).to(device=like.device, dtype=like.dtype)
        if x.shape[0] != batch:
            if x.shape[0] == 1:
                return float(x[0])
            raise ValueError(f"per-sample coefficient has {x.shape[0]} values for a batch of {batch}")
        return x.view(batch, 1, 1)
    return float(x)


def _is_zero(c) -> bool:
    return (isinstance(c, float) and c == 0.0) or (isinstance(c, torch.Tensor) and not bool(torch.any(c != 0)))


class DecoupledCrossAttnProcessor(nn.Module):
    """Attention processor for one attn2; owns to_k_ip/to_v_ip (image branch) and the LoRA of
    to_k/to_v (text branch). Parameter names inside: to_k_ip, to_v_ip, to_k_lora_A, to_k_lora_B,
    to_v_lora_A, to_v_lora_B (each an nn.Linear without bias); None where absent."""

    def __init__(self, state: BranchState, inner_dim: int, cross_attention_dim: int, image_branch: bool = True, lora_rank: int = 0):
        super().__init__()
        self.state = state
        self.to_k_ip = nn.Linear(cross_attention_dim, inner_dim, bias=False) if image_branch else None
        self.to_v_ip = nn.Linear(cross_attention_dim, inner_dim, bias=False) if image_branch else None
        self.lora_rank = int(lora_rank)
        if lora_rank > 0:
            self.to_k_lora_A = nn.Linear(cross_attention_dim, lora_rank, bias=False)
            self.to_k_lora_B = nn.Linear(lora_rank, inner_dim, bias=False)
            self.to_v_lora_A = nn.Linear(cross_attention_dim, lora_rank, bias=False)
            self.to_v_lora_B = nn.Linear(lora_rank, inner_dim, bias=False)
            nn.init.zeros_(self.to_k_lora_B.weight)  # standard LoRA init: starts as the identity change
            nn.init.zeros_(self.to_v_lora_B.weight)
        else:
            self.to_k_lora_A = self.to_k_lora_B = self.to_v_lora_A = self.to_v_lora_B = None

    @classmethod
    def for_attention(cls, attn, state: BranchState, image_branch: bool = True, lora_rank: int = 0):
        inner, cross = attn.to_k.weight.shape
        return cls(state, inner, cross, image_branch=image_branch, lora_rank=lora_rank)

    def forward(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        st = self.state
        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        input_ndim = hidden_states.ndim
        if input_ndim == 4:
            batch_size, channel, height, width = hidden_states.shape
            hidden_states = hidden_states.view(batch_size, channel, height * width).transpose(1, 2)
        batch_size, sequence_length, _ = hidden_states.shape if encoder_hidden_states is None else encoder_hidden_states.shape
        if attention_mask is not None:
            attention_mask = attn.prepare_attention_mask(attention_mask, sequence_length, batch_size)
            attention_mask = attention_mask.view(batch_size, attn.heads, -1, attention_mask.shape[-1])
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)

        query = attn.to_q(hidden_states)
        if encoder_hidden_states is None:
            encoder_hidden_states = hidden_states
        elif attn.norm_cross:
            encoder_hidden_states = attn.norm_encoder_hidden_states(encoder_hidden_states)

        key = attn.to_k(encoder_hidden_states)
        value = attn.to_v(encoder_hidden_states)
        alpha = _coef(st.alpha, batch_size, key)
        if self.to_k_lora_A is not None and not _is_zero(alpha):
            key = key + alpha * self.to_k_lora_B(self.to_k_lora_A(encoder_hidden_states))
            value = value + alpha * self.to_v_lora_B(self.to_v_lora_A(encoder_hidden_states))

        inner_dim = key.shape[-1]
        head_dim = inner_dim // attn.heads
        query = query.view(batch_size, -1, attn.heads, head_dim).transpose(1, 2)
        key = key.view(batch_size, -1, attn.heads, head_dim).transpose(1, 2)
        value = value.view(batch_size, -1, attn.heads, head_dim).transpose(1, 2)
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)

        hidden_states = F.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, dropout_p=0.0, is_causal=False)
        hidden_states = hidden_states.transpose(1, 2).reshape(batch_size, -1, attn.heads * head_dim)
        hidden_states = hidden_states.to(query.dtype)

        gamma = _coef(st.gamma, batch_size, hidden_states)
        if not (isinstance(gamma, float) and gamma == 1.0):
            hidden_states = gamma * hidden_states

        sigma = _coef(st.sigma, batch_size, hidden_states)
        tokens = st.image_tokens
        if self.to_k_ip is not None and tokens is not None and not _is_zero(sigma):
            tokens = tokens.to(dtype=query.dtype, device=query.device)
            if tokens.shape[0] != batch_size:
                if tokens.shape[0] != 1:
                    raise ValueError(f"image tokens batch {tokens.shape[0]} vs hidden batch {batch_size}")
                tokens = tokens.expand(batch_size, -1, -1)
            ip_key = self.to_k_ip(tokens)
            ip_value = self.to_v_ip(tokens)
            if st.record_image_values is not None:
                st.record_image_values.append(ip_value)
            ip_key = ip_key.view(batch_size, -1, attn.heads, head_dim).transpose(1, 2)
            ip_value = ip_value.view(batch_size, -1, attn.heads, head_dim).transpose(1, 2)
            ip_states = F.scaled_dot_product_attention(query, ip_key, ip_value, attn_mask=None, dropout_p=0.0, is_causal=False)
            ip_states = ip_states.transpose(1, 2).reshape(batch_size, -1, attn.heads * head_dim).to(query.dtype)
            hidden_states = hidden_states + sigma * ip_states

        hidden_states = attn.to_out[0](hidden_states)
        hidden_states = attn.to_out[1](hidden_states)
        if input_ndim == 4:
            hidden_states = hidden_states.transpose(-1, -2).reshape(batch_size, channel, height, width)
        if attn.residual_connection:
            hidden_states = hidden_states + residual
        hidden_states = hidden_states / attn.rescale_output_factor
        return hidden_states
