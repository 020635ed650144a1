"""A user-supplied ArcFace as the identity network of the stage-2 face loss
(identity: {kind: arcface, weights: FILE.safetensors, input_size: 112}).

The network is insightface's IResNet (recognition/arcface_torch/backbones/iresnet.py): conv1,
bn1, prelu, layer1..4 of IBasicBlock (bn1, conv1, bn2, prelu, conv2, bn3, downsample.0/.1 on a
block that changes width or stride), bn2, dropout, fc, features (BatchNorm1d). Widths 64, 128,
256, 512, every layer halves the resolution, so a 112 px input ends 7 x 7; the blocks per layer
are read from the keys (r18 [2,2,2,2], r34 [3,4,6,3], r50 [3,4,14,3], r100 [3,13,30,3], r200
[6,26,60,6]), the embedding size from fc.weight.

Weights are read from a safetensors file only, never a pickle: convert a backbone.pth once with
`python training/convert_arcface.py backbone.pth arcface.safetensors`.

ArcFaceIdentity wraps it with the interface the stage-2 face loss calls on the trained identity
network: embed_faces(images in [-1, 1] (N, 3, H, W), boxes x, y, w, h) -> (N, D) unit vectors,
from the face box enlarged 1.3x, resampled to input_size (identity.nets.face_crop). [-1, 1] RGB is
ArcFace's own normalisation ((x / 255 - 0.5) / 0.5, RGB). Frozen and in eval mode (BatchNorm
running statistics, no dropout); gradients still flow to the images."""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from .nets import face_crop

WIDTHS = (64, 128, 256, 512)
DEPTHS = {"r18": (2, 2, 2, 2), "r34": (3, 4, 6, 3), "r50": (3, 4, 14, 3), "r100": (3, 13, 30, 3),
          "r200": (6, 26, 60, 6)}
CONVERT_HINT = ("convert it once: python training/convert_arcface.py FILE.pth FILE.safetensors "
                "(torch.load(..., weights_only=True), then safetensors.torch.save_file)")


def _conv(cin, cout, k, stride=1):
    return nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)


class IBasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=1e-5)
        self.conv1 = _conv(cin, cout, 3)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5)
        self.prelu = nn.PReLU(cout)
        self.conv2 = _conv(cout, cout, 3, stride)
        self.bn3 = nn.BatchNorm2d(cout, eps=1e-5)
        self.downsample = (nn.Sequential(_conv(cin, cout, 1, stride), nn.BatchNorm2d(cout, eps=1e-5))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (self.downsample(x) if self.downsample is not None else x)


class IResNet(nn.Module):
    def __init__(self, layers=DEPTHS["r50"], num_features: int = 512, input_size: int = 112, dropout: float = 0.0,
                 widths=WIDTHS):
        super().__init__()
        self.layers_per_stage = tuple(int(n) for n in layers)
        self.widths = tuple(int(w) for w in widths)  # insightface's 64..512; narrower for test fixtures
        self.input_size = int(input_size)
        self.conv1 = _conv(3, self.widths[0], 3)
        self.bn1 = nn.BatchNorm2d(self.widths[0], eps=1e-5)
        self.prelu = nn.PReLU(self.widths[0])
        cin = self.widths[0]
        for i, (c, n) in enumerate(zip(self.widths, self.layers_per_stage)):
            setattr(self, f"layer{i + 1}", nn.Sequential(*[IBasicBlock(cin if j == 0 else c, c, 2 if j == 0 else 1)
                                                           for j in range(n)]))
            cin = c
        self.bn2 = nn.BatchNorm2d(self.widths[-1], eps=1e-5)
        self.dropout = nn.Dropout(dropout)
        side = self.input_size // 16
        self.fc = nn.Linear(self.widths[-1] * side * side, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=1e-5)

    def forward(self, x):
        """(N, 3, input_size, input_size) RGB in [-1, 1] -> (N, num_features), not normalised."""
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(torch.flatten(self.bn2(x), 1))
        return self.features(self.fc(x))


def depth_name(layers) -> str:
    for k, v in DEPTHS.items():
        if tuple(layers) == v:
            return k
    return "custom " + "/".join(str(n) for n in layers)


class ArcFaceIdentity(nn.Module):
    """The stage-2 identity-network interface around an IResNet (see the module docstring)."""

    def __init__(self, net: IResNet, enlarge: float = 1.3):
        super().__init__()
        self.net = net
        self.crop_size = net.input_size
        self.enlarge = float(enlarge)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        """Face crops in [-1, 1] (N, 3, S, S) -> (N, D) unit vectors (S = input_size)."""
        return F.normalize(self.net(crops), dim=-1)

    def embed_faces(self, images, boxes, enlarge: float | None = None) -> torch.Tensor:
        return self(face_crop(images, boxes, self.crop_size, self.enlarge if enlarge is None else enlarge))


def _fail(path, msg):
    raise SystemExit(f"ArcFace weights {path}: {msg}")


def read_state_dict(path) -> dict:
    """The tensors of a safetensors file (a leading "module." / "backbone." on every key, as
    DataParallel and some exports write, is dropped); one-line errors for anything else."""
    path = Path(path)
    if path.suffix.lower() in (".pth", ".pt", ".pkl", ".bin", ".ckpt"):
        _fail(path, f"a pickle is never loaded here; {CONVERT_HINT}")
    if path.suffix.lower() == ".onnx":
        _fail(path, "an ONNX graph, not weights this trainer reads; convert it once: "
              "python training/convert_arcface.py FILE.onnx FILE.safetensors")
    if not path.is_file():
        _fail(path, "no such file (identity.weights)")
    try:
        sd = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        _fail(path, f"not a readable safetensors file ({str(e).splitlines()[0] if str(e) else type(e).__name__}); "
              + CONVERT_HINT)
    for prefix in ("module.", "backbone."):
        if sd and all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix):]: v for k, v in sd.items()}
    return sd


def infer_layers(sd: dict, path) -> tuple:
    layers = []
    for i in range(1, 5):
        blocks = {int(m.group(1)) for k in sd for m in [re.match(rf"layer{i}\.(\d+)\.", k)] if m}
        if not blocks:
            _fail(path, f"missing key layer{i}.0.conv1.weight (not an insightface IResNet state dict)")
        layers.append(max(blocks) + 1)
    return tuple(layers)


def infer_widths(sd: dict) -> tuple:
    """The stage widths from the first block of each layer (insightface's are 64, 128, 256, 512)."""
    key = "layer{}.0.conv1.weight"
    if all(key.format(i) in sd and sd[key.format(i)].dim() == 4 for i in range(1, 5)):
        return tuple(int(sd[key.format(i)].shape[0]) for i in range(1, 5))
    return WIDTHS


def load_arcface(path, input_size: int = 112, enlarge: float = 1.3) -> ArcFaceIdentity:
    """IResNet weights from a safetensors file -> a frozen ArcFaceIdentity in eval mode (float32)."""
    path = Path(path)
    sd = read_state_dict(path)
    if "fc.weight" not in sd:
        _fail(path, "missing key fc.weight (not an insightface IResNet state dict)")
    layers = infer_layers(sd, path)
    widths = infer_widths(sd)
    fc = sd["fc.weight"]
    if fc.dim() != 2:
        _fail(path, f"key fc.weight has shape {tuple(fc.shape)}, expected (features, 512 * side * side)")
    side = int(input_size) // 16
    if input_size % 16 or fc.shape[1] != widths[-1] * side * side:
        _fail(path, f"key fc.weight has shape {tuple(fc.shape)}: its input {fc.shape[1]} is not {widths[-1]} x {side} x {side} "
              f"(identity.input_size {input_size})")
    net = IResNet(layers, int(fc.shape[0]), int(input_size), widths=widths)
    expected = net.state_dict()
    for k, v in expected.items():
        if k not in sd:
            if k.endswith("num_batches_tracked"):
                continue
            _fail(path, f"missing key {k} (an IResNet {depth_name(layers)} needs it)")
        if tuple(sd[k].shape) != tuple(v.shape):
            _fail(path, f"key {k} has shape {tuple(sd[k].shape)}, expected {tuple(v.shape)} "
                  f"(IResNet {depth_name(layers)})")
    extra = sorted(k for k in sd if k not in expected)
    if extra:
        _fail(path, f"unexpected key {extra[0]} ({len(extra)} in all; not an IResNet {depth_name(layers)} backbone)")
    with torch.no_grad():
        for k, v in expected.items():
            if k in sd:
                v.copy_(sd[k].to(v.dtype))
    model = ArcFaceIdentity(net, enlarge)
    model.requires_grad_(False)
    return model.eval()
