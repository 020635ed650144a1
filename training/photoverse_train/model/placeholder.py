"""Prompt with the placeholder `S*` -> CLIP token ids + the slots that receive pseudo-words.

The rule (the Swift engine implements the same):
  1. Split the prompt text on the literal string `S*` (case-sensitive, no word-boundary rule:
     "S*'s" splits into "", "'s").
  2. Tokenize every piece with the CLIP BPE tokenizer WITHOUT BOS/EOS (the usual lower-casing and
     whitespace clean-up apply per piece; an empty or all-blank piece gives no tokens).
  3. content = piece_0 + [k slots] + piece_1 + [k slots] + ... + piece_n, where k is the number of
     pseudo-words in use (1..m); slot j of each occurrence receives pseudo-word S_{j+1}.
  4. Keep the first max_length - 2 = 75 content tokens (slots beyond are dropped with the rest),
     then ids = BOS 49406 + content + EOS 49407, padded to 77 with 49407.
     This is exactly what tokenizer(prompt, padding="max_length", max_length=77, truncation=True)
     gives for a prompt without `S*`.
  5. A slot's token id before replacement is irrelevant (its token embedding is replaced before
     the position embeddings are added); the id of `*</w>` (265 in CLIP's vocabulary) is used.
Slots are (position, word index) pairs, word index 0-based.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch

PLACEHOLDER = "S*"
IDENTITY_PROMPT = "a photo of S*"
BOS_ID = 49406
EOS_ID = 49407
MAX_LENGTH = 77


@dataclass
class PlaceholderTokens:
    input_ids: list
    slots: list = field(default_factory=list)  # [(position, word_index)]

    @property
    def positions(self) -> list:
        return [p for p, _ in self.slots]


def slot_token_id(tokenizer) -> int:
    tid = tokenizer.convert_tokens_to_ids("*</w>")
    return int(tid) if tid is not None and tid != tokenizer.unk_token_id else EOS_ID


def tokenize_with_placeholder(
    tokenizer,
    prompt: str,
    num_words: int,
    placeholder: str = PLACEHOLDER,
    max_length: int = MAX_LENGTH,
) -> PlaceholderTokens:
    if num_words < 1 and placeholder in prompt:
        raise ValueError("num_words must be >= 1")
    slot_id = slot_token_id(tokenizer)
    content: list = []
    slots: list = []
    for j, piece in enumerate(prompt.split(placeholder)):
        if j > 0:
            for k in range(num_words):
                slots.append((len(content) + 1, k))
                content.append(slot_id)
        if piece.strip():
            content += list(tokenizer(piece, add_special_tokens=False).input_ids)
    content = content[: max_length - 2]
    slots = [(p, k) for p, k in slots if p <= len(content)]
    ids = [BOS_ID] + content + [EOS_ID]
    ids += [EOS_ID] * (max_length - len(ids))
    return PlaceholderTokens(ids, slots)


@dataclass
class PlaceholderBatch:
    input_ids: torch.Tensor  # [B, 77] long
    batch_index: torch.Tensor  # [S] long: row of each slot
    position: torch.Tensor  # [S] long: token position of each slot
    word_index: torch.Tensor  # [S] long: which pseudo-word (0-based) goes there


def batch_with_placeholder(tokenizer, prompts: Sequence[str], num_words: int, placeholder: str = PLACEHOLDER, max_length: int = MAX_LENGTH) -> PlaceholderBatch:
    ids, b, p, w = [], [], [], []
    for row, prompt in enumerate(prompts):
        t = tokenize_with_placeholder(tokenizer, prompt, num_words, placeholder, max_length)
        ids.append(t.input_ids)
        for pos, k in t.slots:
            b.append(row)
            p.append(pos)
            w.append(k)
    as_long = lambda x: torch.tensor(x, dtype=torch.long)  # noqa: E731
    return PlaceholderBatch(as_long(ids), as_long(b), as_long(p), as_long(w))
