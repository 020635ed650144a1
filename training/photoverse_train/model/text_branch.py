"""Text branch: the CLIP text encoder run on token embeddings where the placeholder slots hold the
pseudo-words S_1..S_k.

    e = token_embedding(input_ids)               [B, 77, D]
    e[b, position] = pseudo_words[b, word_index]  for every slot (see placeholder.py)
    h = e + position_embedding(0..76)
    h = encoder(h, causal mask)                   (CLIP's pre-LN transformer, unchanged)
    out = final_layer_norm(h)                     -> encoder_hidden_states for the UNet

With no slots this is exactly CLIPTextModel(input_ids).last_hidden_state.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.masking_utils import create_causal_mask

from .placeholder import PlaceholderBatch


def _tower(text_encoder: nn.Module) -> nn.Module:
    # transformers >= 5.6 flattened CLIPTextModel; older versions keep it in .text_model
    return getattr(text_encoder, "text_model", text_encoder)


def replace_slots(embeds: torch.Tensor, batch: PlaceholderBatch, pseudo_words: torch.Tensor | None) -> torch.Tensor:
    if batch.position.numel() == 0:
        return embeds
    if pseudo_words is None:
        raise ValueError("the prompt has S* slots but no pseudo-words were given")
    if int(batch.word_index.max()) >= pseudo_words.shape[1]:
        raise ValueError(f"slot wants pseudo-word {int(batch.word_index.max()) + 1}, only {pseudo_words.shape[1]} given")
    values = pseudo_words[batch.batch_index, batch.word_index].to(embeds.dtype)
    return embeds.index_put((batch.batch_index, batch.position), values)


def encode_with_pseudo_words(text_encoder: nn.Module, batch: PlaceholderBatch, pseudo_words: torch.Tensor | None) -> torch.Tensor:
    tower = _tower(text_encoder)
    ids = batch.input_ids.to(tower.embeddings.token_embedding.weight.device)
    embeds = tower.embeddings.token_embedding(ids)
    embeds = replace_slots(embeds, batch, pseudo_words)
    hidden = tower.embeddings(inputs_embeds=embeds)
    mask = create_causal_mask(config=tower.config, inputs_embeds=hidden, attention_mask=None, past_key_values=None)
    out = tower.encoder(inputs_embeds=hidden, attention_mask=mask, is_causal=True)
    return tower.final_layer_norm(out.last_hidden_state)


class TextBranch(nn.Module):
    """The frozen CLIP text encoder + tokenizer; differentiable w.r.t. the pseudo-words."""

    def __init__(self, text_encoder: nn.Module, tokenizer):
        super().__init__()
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        text_encoder.requires_grad_(False)
        text_encoder.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        self.text_encoder.eval()
        return self

    def forward(self, batch: PlaceholderBatch, pseudo_words: torch.Tensor | None = None) -> torch.Tensor:
        return encode_with_pseudo_words(self.text_encoder, batch, pseudo_words)
