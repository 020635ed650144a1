"""PhotoVerse model: adapters, placeholder handling, text/image branches, decoupled cross-attention
and the guided sampling loop; the PyTorch reference the Swift engine is checked against and the
modules the trainer trains. Formats: ../FORMAT.md."""

from .adapter_file import (
    FORMAT,
    FORMAT_VERSION,
    adapter_state_dict,
    apply_adapter,
    apply_ip_adapter,
    config_from_metadata,
    ip_adapter_key_map,
    ip_adapter_state_dict,
    load_adapter,
    load_ip_adapter_file,
    save_adapter,
)
from .adapters import MultiAdapter
from .decoupled_attention import BranchState, DecoupledCrossAttnProcessor
from .image_branch import ImageAdapter, IPAdapterImageProjection
from .image_features import CLIP_MEAN, CLIP_STD, VisionFeatures, average_references, preprocess
from .photoverse import PhotoVerseConfig, PhotoVerseModel, attn2_names, image_to_latents
from .placeholder import IDENTITY_PROMPT, PLACEHOLDER, batch_with_placeholder, tokenize_with_placeholder
from .text_branch import TextBranch, encode_with_pseudo_words

__all__ = [n for n in dir() if not n.startswith("_")]
