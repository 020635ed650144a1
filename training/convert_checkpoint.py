"""Converts a pickled checkpoint (.ckpt / .pt / .pth / .bin) to safetensors, which is the
only weight format PhotoVerse loads (it never unpickles).

    .venv/bin/python training/convert_checkpoint.py model.ckpt [model.safetensors] [--fp16]

Loads with torch.load(weights_only=True), so a malicious pickle cannot run code here
either. A nested "state_dict" (Lightning/CompVis checkpoints) is unwrapped; non-tensor
entries are dropped and listed. Nested dicts of tensors are flattened with dots, as
IP-Adapter's published `.bin` files need: {"image_proj": {"proj.weight": ...}, "ip_adapter":
{"1.to_k_ip.weight": ...}} becomes `image_proj.proj.weight`, `ip_adapter.1.to_k_ip.weight`.
"""
import argparse
import os
import sys

import torch
from safetensors.torch import save_file


def flatten(state: dict, prefix: str = ""):
    """(dotted name, value) pairs of a state dict whose values may be dicts themselves."""
    for name, value in state.items():
        full = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from flatten(value, full + ".")
        else:
            yield full, value


def convert(src: str, dst: str, fp16: bool = False) -> list:
    if os.path.exists(dst):
        raise SystemExit(f"convert_checkpoint: {dst} already exists; choose another output")
    checkpoint = torch.load(src, map_location="cpu", weights_only=True)
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise SystemExit(f"convert_checkpoint: {src}: no state dict inside")
    tensors, dropped = {}, []
    for name, value in flatten(state):
        if not torch.is_tensor(value):
            dropped.append(name)
            continue
        value = value.detach().contiguous()
        if fp16 and value.is_floating_point():
            value = value.half()
        tensors[name] = value.clone()  # shared storage is not allowed in safetensors
    tmp = dst + ".partial"
    save_file(tensors, tmp, metadata={"converted_from": os.path.basename(src)})
    os.replace(tmp, dst)
    return dropped


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source")
    parser.add_argument("destination", nargs="?")
    parser.add_argument("--fp16", action="store_true", help="store floating-point tensors as F16")
    args = parser.parse_args()
    dst = args.destination or os.path.splitext(args.source)[0] + ".safetensors"
    dropped = convert(args.source, dst, args.fp16)
    if dropped:
        print(f"convert_checkpoint: dropped non-tensor entries: {', '.join(dropped)}", file=sys.stderr)
    print(dst)


if __name__ == "__main__":
    main()
