"""Converts an insightface arcface_torch backbone (backbone.pth: a pickled IResNet state dict) to
the .safetensors file stage 2 reads as identity.weights (configs/sd15_stage2.yaml), and checks
that it loads.

    ../.venv/bin/python training/convert_arcface.py backbone.pth arcface_r100.safetensors

The pickle is read with torch.load(..., weights_only=True): tensors and plain containers only,
no code runs. Do this once, on weights you trust; the trainer itself never unpickles."""

import argparse
import sys
from pathlib import Path


def convert(src, dst, input_size: int = 112) -> str:
    import torch
    from safetensors.torch import save_file

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from photoverse_train.identity.arcface import depth_name, load_arcface

    obj = torch.load(str(src), map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise SystemExit(f"{src}: not a state dict of tensors (save backbone.state_dict(), not the module)")
    tensors = {k: v.detach().contiguous() for k, v in obj.items() if isinstance(v, torch.Tensor)}
    save_file(tensors, str(dst))
    net = load_arcface(dst, input_size)
    return f"{dst}: IResNet {depth_name(net.net.layers_per_stage)}, {net.net.fc.out_features}-d embedding"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="backbone.pth (a pickled state dict)")
    ap.add_argument("dst", help="output .safetensors")
    ap.add_argument("--input-size", type=int, default=112)
    args = ap.parse_args(argv)
    print(convert(args.src, args.dst, args.input_size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
