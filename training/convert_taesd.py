"""Converts TAESD's own release files into the diffusers AutoencoderTiny folder PhotoVerse loads.

madebyollin/taesd publishes an encoder and a decoder as two separate `nn.Sequential` state dicts
(`taesd_encoder.pth` / `taesd_decoder.pth`, or `.safetensors` as ComfyUI ships them). PhotoVerse
reads diffusers' layout: a folder with config.json and diffusion_pytorch_model.safetensors.

    .venv/bin/python training/convert_taesd.py taesd_encoder.pth taesd_decoder.pth OUT_DIR [--fp16]

Then put OUT_DIR in the model folder as `taesd/`, or pass `--taesd OUT_DIR`.

The mapping is diffusers': encoder keys move under `encoder.layers.`; the release decoder's
Sequential starts with its parameterless tanh clamp, which diffusers' DecoderTiny applies outside
its Sequential, so decoder key `i.*` becomes `decoder.layers.(i-1).*`. The config (latent
channels, widths, blocks per level) is read from the tensors, and the result is loaded into
diffusers' AutoencoderTiny with strict=True before anything is written. `.pth` files are read
with torch.load(weights_only=True): a malicious pickle cannot run code here.
"""
import argparse
import os
import re
import shutil
import sys

import torch
from diffusers import AutoencoderTiny
from safetensors.torch import load_file


def read_state(path: str) -> dict:
    if path.endswith(".safetensors"):
        return load_file(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise SystemExit(f"convert_taesd: {path}: no state dict inside")
    return {k: v for k, v in state.items() if torch.is_tensor(v)}


def layers(state: dict, path: str) -> list:
    """The Sequential's parameterised entries in order: (index, kind, tensors), kind 'conv' or 'block'."""
    entries = {}
    for name, tensor in state.items():
        match = re.fullmatch(r"(\d+)\.(conv\.\d+\.)?(weight|bias)", name) or re.fullmatch(r"(\d+)\.skip\.weight", name)
        if match is None:
            raise SystemExit(f"convert_taesd: {path}: unexpected tensor {name!r} (not a TAESD Sequential)")
        index = int(match.group(1))
        kind = "block" if ".conv." in name or ".skip." in name else "conv"
        entries.setdefault(index, (kind, {}))[1][name] = tensor
    return [(i, *entries[i]) for i in sorted(entries)]


def encoder_config(entries: list, path: str) -> dict:
    widths, blocks = [], []
    for position, (index, kind, tensors) in enumerate(entries):
        if kind == "block":
            if not blocks:
                raise SystemExit(f"convert_taesd: {path}: a block before the first convolution")
            blocks[-1] += 1
        elif position < len(entries) - 1:  # a convolution that opens a level
            widths.append(tensors[f"{index}.weight"].shape[0])
            blocks.append(0)
    last_index, last_kind, last = entries[-1]
    if last_kind != "conv" or not widths:
        raise SystemExit(f"convert_taesd: {path}: does not end with the latent convolution")
    return {"encoder_block_out_channels": widths, "num_encoder_blocks": blocks,
            "latent_channels": last[f"{last_index}.weight"].shape[0], "in_channels": entries[0][2][f"{entries[0][0]}.weight"].shape[1]}


def decoder_config(entries: list, path: str) -> dict:
    first_index, first_kind, first = entries[0]
    if first_kind != "conv":
        raise SystemExit(f"convert_taesd: {path}: does not start with the latent convolution")
    widths, blocks, count = [], [], 0
    for index, kind, tensors in entries[1:]:
        if kind == "block":
            count += 1
            continue
        weight = tensors[f"{index}.weight"]
        widths.append(weight.shape[1])  # a level's convolution reads the level's width
        blocks.append(count)
        count = 0
    if not widths:
        raise SystemExit(f"convert_taesd: {path}: no level convolutions")
    last_index, _, last = entries[-1]
    return {"decoder_block_out_channels": widths, "num_decoder_blocks": blocks,
            "out_channels": last[f"{last_index}.weight"].shape[0], "decoder_latent_channels": first[f"{first_index}.weight"].shape[1]}


def convert(encoder_path: str, decoder_path: str, out: str, fp16: bool = False) -> dict:
    if os.path.exists(out):
        raise SystemExit(f"convert_taesd: {out} already exists; choose another output folder")
    encoder, decoder = read_state(encoder_path), read_state(decoder_path)
    config = encoder_config(layers(encoder, encoder_path), encoder_path)
    config.update(decoder_config(layers(decoder, decoder_path), decoder_path))
    if config.pop("decoder_latent_channels") != config["latent_channels"]:
        raise SystemExit(f"convert_taesd: {encoder_path} and {decoder_path} have different latent channels")
    config.update(act_fn="relu", upsample_fn="nearest", upsampling_scaling_factor=2, latent_magnitude=3,
                  latent_shift=0.5, scaling_factor=1.0)
    state = {f"encoder.layers.{name}": tensor for name, tensor in encoder.items()}
    for name, tensor in decoder.items():
        index, rest = name.split(".", 1)
        state[f"decoder.layers.{int(index) - 1}.{rest}"] = tensor
    model = AutoencoderTiny(**config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        raise SystemExit(f"convert_taesd: the files do not make a diffusers AutoencoderTiny: {' '.join(first[:3])}")
    if fp16:
        model = model.to(torch.float16)
    partial = out + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    os.replace(partial, out)
    return config


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("encoder", help="taesd_encoder.pth or .safetensors")
    parser.add_argument("decoder", help="taesd_decoder.pth or .safetensors")
    parser.add_argument("out", help="the diffusers folder to write (must not exist)")
    parser.add_argument("--fp16", action="store_true", help="store the weights as F16")
    args = parser.parse_args()
    config = convert(args.encoder, args.decoder, args.out, args.fp16)
    print(f"{args.out}: latent channels {config['latent_channels']}, widths {config['decoder_block_out_channels']}", file=sys.stderr)
    print(args.out)


if __name__ == "__main__":
    main()
