"""Times PyTorch on the same work as `photoverse bench` in the same run and prints
the ratio Swift/PyTorch against PyTorch's best configuration (PyTorch = 1.0). Medians of
repeated runs. Convolutional work (conv, unet, vae) is timed in PyTorch's default layout, with
flush-denormal, and channels_last with flush-denormal; the best of the three is the bar.

    .venv/bin/python training/bench/bench_torch.py [gemm|conv|unet|vae|text ...] [--repeats N]

Never run it while another job holds a core: both figures would halve unevenly.
"""
import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".build" / "release" / "photoverse"


def median_seconds(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_gemm(repeats, **_):
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    return median_seconds(lambda: a @ b, repeats)


CONFIGURATIONS = ("default", "flush-denormal", "channels_last")


def configured(model, inputs, configuration):
    """The model and inputs in one of PyTorch's configurations (see CONFIGURATIONS)."""
    torch.set_flush_denormal(configuration != "default")
    if configuration == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        inputs = [x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in inputs]
    return model, inputs


def best_of_configurations(make, call, repeats):
    """{configuration: median seconds} for a fresh model in each configuration."""
    results = {}
    for configuration in CONFIGURATIONS:
        model, inputs = make()
        model, inputs = configured(model, inputs, configuration)
        results[configuration] = median_seconds(lambda: call(model, inputs), repeats)
    torch.set_flush_denormal(False)
    return results


def torch_conv(repeats, batch, **_):
    def make():
        torch.manual_seed(0)
        return torch.nn.Conv2d(320, 320, 3, padding=1), [torch.rand(batch, 320, 64, 64)]
    return best_of_configurations(make, lambda conv, x: conv(x[0]), repeats)


def sd15_unet():
    return UNet2DConditionModel(
        sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=768, attention_head_dim=8).eval()


def torch_unet(repeats, batch, size, **_):
    def make():
        torch.manual_seed(0)
        return sd15_unet(), [torch.randn(batch, 4, size // 8, size // 8), torch.randn(batch, 77, 768)]
    return best_of_configurations(make, lambda unet, x: unet(x[0], 500, encoder_hidden_states=x[1]), repeats)


def torch_vae(repeats, size, **_):
    def make():
        torch.manual_seed(0)
        vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 4,
                            up_block_types=("UpDecoderBlock2D",) * 4).eval()
        return vae, [torch.randn(1, 4, size // 8, size // 8)]
    return best_of_configurations(make, lambda vae, z: vae.decode(z[0]), repeats)


def torch_text(repeats, **_):
    model = CLIPTextModel(CLIPTextConfig()).eval()
    ids = torch.full((2, 77), 49407, dtype=torch.long)
    return median_seconds(lambda: model(ids), repeats)


def swift_seconds(subject, repeats, batch, size):
    cmd = [str(BINARY), "bench", subject, "--repeats", str(repeats), "--batch", str(batch), "--size", str(size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    match = re.search(r"median ([0-9.]+) ms", out)
    if not match:
        sys.exit(f"bench_torch: could not read a median from: {out.strip()}")
    return float(match.group(1)) / 1000, out.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("subjects", nargs="*", default=["gemm", "conv"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    if not BINARY.exists():
        sys.exit(f"bench_torch: {BINARY} not built; run `make build` first")
    torch.set_num_threads(torch.get_num_threads())
    torch.set_grad_enabled(False)
    timers = {"gemm": torch_gemm, "conv": torch_conv, "unet": torch_unet, "vae": torch_vae, "text": torch_text}
    for subject in args.subjects:
        if subject not in timers:
            sys.exit(f"bench_torch: unknown subject '{subject}' (choose from {', '.join(timers)})")
        swift, line = swift_seconds(subject, args.repeats, args.batch, args.size)
        timed = timers[subject](repeats=args.repeats, batch=args.batch, size=args.size)
        if not isinstance(timed, dict):
            timed = {"default": timed}
        best = min(timed, key=timed.get)
        print(line)
        for configuration, seconds in timed.items():
            print(f"torch {subject} {configuration}: median {seconds * 1000:.2f} ms ({torch.get_num_threads()} threads)")
        print(f"ratio swift/torch {subject}: {swift / timed[best]:.2f} (against torch's best, {best})")


if __name__ == "__main__":
    main()
