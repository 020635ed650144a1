"""The project's adapter file (safetensors) and the IP-Adapter SD1.5 layout. See ../FORMAT.md.

Keys (photoverse-adapter, format_version 1):
    text_adapter.mapping_{i}.{0,1,3,4,6}.{weight,bias}          i = 0..m-1
    text_adapter.mapping_patch_{i}.{0,1,3,4,6}.{weight,bias}
    image_adapter.mapping_{i}... / image_adapter.mapping_patch_{i}...
    unet.{P}.to_k_ip.weight, unet.{P}.to_v_ip.weight             P = an attn2 module path
    unet.{P}.to_k.lora_A.weight [r, C], unet.{P}.to_k.lora_B.weight [out, r]  (same for to_v)
"""

from __future__ import annotations

import json
import re

import torch
from safetensors import safe_open

from .adapters import MultiAdapter
from .image_features import parse_encoder_layers
from .photoverse import PhotoVerseConfig

FORMAT = "photoverse-adapter"
FORMAT_VERSION = "1"

# processor parameter name <-> file key suffix
_PROC_KEYS = {
    "to_k_ip.weight": "to_k_ip.weight",
    "to_v_ip.weight": "to_v_ip.weight",
    "to_k_lora_A.weight": "to_k.lora_A.weight",
    "to_k_lora_B.weight": "to_k.lora_B.weight",
    "to_v_lora_A.weight": "to_v.lora_A.weight",
    "to_v_lora_B.weight": "to_v.lora_B.weight",
}
_FILE_TO_PROC = {v: k for k, v in _PROC_KEYS.items()}


_DTYPES = {torch.float16: "F16", torch.float32: "F32", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}


def write_safetensors(path: str, tensors: dict, metadata: dict | None = None) -> None:
    """safetensors writer with a deterministic byte layout (tensors in sorted key order, metadata
    keys sorted; safetensors' own save_file orders metadata by hash, so re-running it changes the
    bytes). Readable by any safetensors reader."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {k: str(metadata[k]) for k in sorted(metadata)}
    blobs, offset = [], 0
    for k in sorted(tensors):
        t = tensors[k].detach().to("cpu").contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[k] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for b in blobs:
            f.write(b)


def _csv(values) -> str:
    return ",".join(repr(float(v)) if isinstance(v, float) else str(v) for v in values)


def adapter_state_dict(model) -> dict:
    sd = {}
    for prefix, mod in (("text_adapter.", model.text_adapter), ("image_adapter.", model.image_adapter)):
        if mod is not None:
            sd.update({prefix + k: v for k, v in mod.state_dict().items()})
    for path in model.attn2_names:
        for k, v in model.processor(path).state_dict().items():
            sd[f"unet.{path}.{_PROC_KEYS[k]}"] = v
    return sd


def default_metadata(model) -> dict:
    c = model.config
    branches = (["text"] if model.text_adapter is not None else []) + (["image"] if model.image_adapter is not None else [])
    ad = model.text_adapter or model.image_adapter
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "base_model": c.base_model,
        "encoder_layers": _csv(c.encoder_layers),
        "tokens": str(c.num_tokens),
        "lora_rank": str(c.lora_rank),
        "lora_targets": "to_k,to_v" if c.lora_rank > 0 else "",
        "adapter_hidden": str(ad.hidden_dim if ad is not None else 0),
        "branches": ",".join(branches),
        "placeholder": c.placeholder,
        "identity_prompt": c.identity_prompt,
        "image_size": str(c.image_size),
        "image_mean": _csv(c.image_mean),
        "image_std": _csv(c.image_std),
        "image_resample": "bicubic",
        "image_encoder": "image_encoder",
        "uncond_image": "zero_tokens",
        "default_num_words": "1",
    }


def save_adapter(path: str, model, metadata: dict | None = None, dtype: torch.dtype = torch.float16) -> dict:
    """Writes the trainable PhotoVerse weights + metadata (defaults from the model, overridden by
    `metadata`; every value is converted to str). Returns the metadata written."""
    meta = default_metadata(model)
    meta.update({k: str(v) for k, v in (metadata or {}).items()})
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in adapter_state_dict(model).items()}
    write_safetensors(path, tensors, meta)
    return meta


def load_adapter(path: str) -> tuple:
    """-> (tensors {key: float32 tensor}, metadata {str: str}). Checks format/format_version."""
    with safe_open(path, framework="pt") as f:
        meta = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: metadata format is {meta.get('format')!r}, not {FORMAT!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported format_version {meta.get('format_version')!r}")
    return tensors, meta


def config_from_metadata(meta: dict, tensors: dict):
    """A PhotoVerseConfig matching an adapter file (shapes read from the tensors)."""
    layers = parse_encoder_layers(meta["encoder_layers"])
    has_text = any(k.startswith("text_adapter.") for k in tensors)
    has_image = any(k.startswith("image_adapter.") for k in tensors)
    prefix = "text_adapter." if has_text else "image_adapter."
    n, _, h, _ = MultiAdapter.shape_from_state_dict(tensors, prefix)
    if n != len(layers):
        raise ValueError(f"{n} adapters but encoder_layers {layers}")
    ranks = {int(v.shape[0]) for k, v in tensors.items() if k.endswith(".lora_A.weight")}
    if len(ranks) > 1:
        raise ValueError(f"LoRA ranks differ between layers: {sorted(ranks)}")
    kw = dict(
        encoder_layers=layers,
        adapter_hidden=h,
        lora_rank=ranks.pop() if ranks else 0,
        text_branch=has_text,
        image_branch="photoverse" if has_image else "none",
        placeholder=meta.get("placeholder", "S*"),
        identity_prompt=meta.get("identity_prompt", "a photo of S*"),
        base_model=meta.get("base_model", ""),
        image_size=int(meta["image_size"]) if meta.get("image_size") else None,
    )
    for name in ("image_mean", "image_std"):
        if meta.get(name):
            kw[name] = [float(x) for x in meta[name].split(",")]
    return PhotoVerseConfig(**kw)


def apply_adapter(model, tensors: dict, strict: bool = True) -> None:
    """Loads adapter-file tensors into a PhotoVerseModel built with a matching config."""
    pending = dict(tensors)
    for prefix, mod in (("text_adapter.", model.text_adapter), ("image_adapter.", model.image_adapter)):
        own = {k[len(prefix):]: pending.pop(k) for k in list(pending) if k.startswith(prefix)}
        if mod is not None:
            mod.load_state_dict(own, strict=strict)
        elif own and strict:
            raise ValueError(f"the file has {prefix}* but the model has no such branch")
    pat = re.compile(r"^unet\.(.+\.attn2)\.(to_k_ip\.weight|to_v_ip\.weight|to_[kv]\.lora_[AB]\.weight)$")
    per_proc: dict = {}
    for k in list(pending):
        m = pat.match(k)
        if m:
            per_proc.setdefault(m.group(1), {})[_FILE_TO_PROC[m.group(2)]] = pending.pop(k)
    if strict and pending:
        raise ValueError(f"unknown keys: {sorted(pending)[:5]}")
    for path in model.attn2_names:
        sd = per_proc.pop(path, {})
        model.processor(path).load_state_dict(sd, strict=strict)
    if strict and per_proc:
        raise ValueError(f"attn2 paths not in this UNet: {sorted(per_proc)[:5]}")


# ---------------------------------------------------------------------------------- IP-Adapter


def ip_adapter_key_map(model_or_names) -> dict:
    """{ip-adapter index (odd): attn2 path}: ip_adapter.{2j+1} belongs to the j-th attn2 in
    unet.attn_processors order."""
    names = model_or_names if isinstance(model_or_names, (list, tuple)) else model_or_names.attn2_names
    return {2 * j + 1: p for j, p in enumerate(names)}


def load_ip_adapter_file(path: str) -> dict:
    """IP-Adapter SD1.5 safetensors -> {'image_proj': {...}, 'ip_adapter': {...}} (float32),
    the structure diffusers' load_ip_adapter builds from the file."""
    out = {"image_proj": {}, "ip_adapter": {}}
    with safe_open(path, framework="pt") as f:
        for k in f.keys():
            head, _, rest = k.partition(".")
            if head not in out:
                raise ValueError(f"{path}: unexpected key {k!r} (want image_proj.* / ip_adapter.*)")
            out[head][rest] = f.get_tensor(k).float()
    return out


def apply_ip_adapter(model, state: dict) -> None:
    """Loads an IP-Adapter state ({'image_proj', 'ip_adapter'}) into a model built with
    image_branch='ip-adapter' (lora_rank 0)."""
    model.image_proj.load_state_dict(state["image_proj"], strict=True)
    keymap = ip_adapter_key_map(model)
    want = {f"{i}.{w}.weight" for i in keymap for w in ("to_k_ip", "to_v_ip")}
    if set(state["ip_adapter"]) != want:
        raise ValueError(f"ip_adapter keys do not match this UNet: {sorted(set(state['ip_adapter']) ^ want)[:6]}")
    for i, path in keymap.items():
        proc = model.processor(path)
        proc.to_k_ip.weight.data.copy_(state["ip_adapter"][f"{i}.to_k_ip.weight"])
        proc.to_v_ip.weight.data.copy_(state["ip_adapter"][f"{i}.to_v_ip.weight"])


def ip_adapter_state_dict(model) -> dict:
    """The inverse of apply_ip_adapter: flat IP-Adapter-layout keys."""
    sd = {f"image_proj.{k}": v for k, v in model.image_proj.state_dict().items()}
    for i, path in ip_adapter_key_map(model).items():
        proc = model.processor(path)
        sd[f"ip_adapter.{i}.to_k_ip.weight"] = proc.to_k_ip.weight
        sd[f"ip_adapter.{i}.to_v_ip.weight"] = proc.to_v_ip.weight
    return sd
