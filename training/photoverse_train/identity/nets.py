"""Small CNNs (GroupNorm, so per-sample results do not depend on the batch) and the
differentiable face crop they read.

IdentityNet: residual CNN, 64x64 face crop -> 128-d L2-normalised embedding (CosFace-trained).
EvaluatorNet: plain VGG-style CNN with max-pooling and different widths, ArcFace-trained with
another seed: a second opinion that the stage-2 loss never optimised against.
AttributeNet: residual CNN on the whole 64x64 image with one linear head per attribute."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def face_crop(images: torch.Tensor, boxes: torch.Tensor, size: int = 64, enlarge: float = 1.3,
              jitter: torch.Tensor | None = None) -> torch.Tensor:
    """Square crops around face boxes (x, y, w, h in pixels), side = enlarge * max(w, h),
    resampled bilinearly to size x size; differentiable in `images` (the stage-2 face loss runs
    through it). jitter (N, 3): (dx, dy, log-scale) relative to the side, for augmentation."""
    n, _, h, w = images.shape
    boxes = boxes.to(images.dtype)
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    side = enlarge * torch.maximum(boxes[:, 2], boxes[:, 3])
    if jitter is not None:
        cx = cx + jitter[:, 0] * side
        cy = cy + jitter[:, 1] * side
        side = side * jitter[:, 2].exp()
    theta = torch.zeros(n, 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0] = side / w
    theta[:, 0, 2] = 2 * cx / w - 1
    theta[:, 1, 1] = side / h
    theta[:, 1, 2] = 2 * cy / h - 1
    grid = F.affine_grid(theta, (n, images.shape[1], size, size), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _gn(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, c // 4), c)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.n1, self.c1 = _gn(cin), nn.Conv2d(cin, cout, 3, stride, 1)
        self.n2, self.c2 = _gn(cout), nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1, stride) if (cin != cout or stride != 1) else nn.Identity()

    def forward(self, x):
        h = self.c1(F.silu(self.n1(x)))
        h = self.c2(F.silu(self.n2(h)))
        return self.skip(x) + h


class ResNetTrunk(nn.Module):
    """stem conv (stride 2) then, per width, a downsampling block (after the first) + `depth`
    blocks; global average pool."""

    def __init__(self, widths=(24, 48, 96), depth: int = 1):
        super().__init__()
        self.stem = nn.Conv2d(3, widths[0], 3, 2, 1)
        layers = []
        cin = widths[0]
        for i, c in enumerate(widths):
            if i:
                layers.append(ResBlock(cin, c, 2))
                cin = c
            layers += [ResBlock(c, c) for _ in range(depth)]
        self.blocks = nn.Sequential(*layers)
        self.norm = _gn(cin)
        self.out_channels = cin

    def forward(self, x):
        return F.silu(self.norm(self.blocks(self.stem(x)))).mean((2, 3))


class IdentityNet(nn.Module):
    def __init__(self, widths=(24, 48, 96), depth: int = 1, dim: int = 128, crop_size: int = 64):
        super().__init__()
        self.crop_size = crop_size
        self.trunk = ResNetTrunk(widths, depth)
        self.fc = nn.Linear(self.trunk.out_channels, dim)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        """Face crops in [-1, 1] (N, 3, S, S) -> (N, dim) unit vectors."""
        return F.normalize(self.fc(self.trunk(crops)), dim=-1)

    def embed_faces(self, images, boxes, enlarge: float = 1.3) -> torch.Tensor:
        return self(face_crop(images, boxes, self.crop_size, enlarge))


def vgg_features(widths, in_size: int, first_pool: bool = True) -> tuple[nn.Sequential, int]:
    """2x average pool first (cheap; first_pool), then per width conv-GN-ReLU-maxpool, a last
    conv; returns the module and the flattened feature size (position-aware, unlike a global
    pool)."""
    layers, cin = [], 3
    for c in widths:
        layers += [nn.Conv2d(cin, c, 3, 1, 1), _gn(c), nn.ReLU(), nn.MaxPool2d(2)]
        cin = c
    layers += [nn.Conv2d(cin, cin, 3, 1, 1), _gn(cin), nn.ReLU()]
    side = in_size // (2 if first_pool else 1) // 2 ** len(widths)
    return nn.Sequential(nn.AvgPool2d(2) if first_pool else nn.Identity(), *layers), cin * side * side


class EvaluatorNet(nn.Module):
    def __init__(self, widths=(32, 64, 128), dim: int = 128, crop_size: int = 64):
        super().__init__()
        self.crop_size = crop_size
        self.features, flat = vgg_features(widths, crop_size)
        self.fc = nn.Sequential(nn.Flatten(), nn.Dropout(0.0), nn.Linear(flat, dim))

    def forward(self, crops):
        return F.normalize(self.fc(self.features(crops)), dim=-1)

    def embed_faces(self, images, boxes, enlarge: float = 1.3) -> torch.Tensor:
        return self(face_crop(images, boxes, self.crop_size, enlarge))


class AttributeNet(nn.Module):
    """backbone "resnet": ResNetTrunk + global pool; "vgg": vgg_features + flatten + a hidden
    layer (keeps where things are: pose, glasses, headwear are local)."""

    def __init__(self, classes: dict, widths=(24, 48, 96), depth: int = 1, backbone: str = "resnet",
                 image_size: int = 64, hidden: int = 256, first_pool: bool = True, face_region=None,
                 face_widths=(32, 64, 128)):
        super().__init__()
        self.names = list(classes)
        self.face_region = list(face_region) if face_region else None  # [top, left, size] in pixels
        if backbone == "vgg":
            feats, flat = vgg_features(widths, image_size, first_pool)
            self.trunk = nn.Sequential(feats, nn.Flatten())
            if self.face_region:
                # a second stream at full resolution on the fixed region where the generator puts
                # faces: expression and pose are a few pixels
                self.face_trunk, fflat = vgg_features(face_widths, self.face_region[2], first_pool=False)
                flat += fflat
            self.mlp = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU())
            out = hidden
        else:
            self.trunk = ResNetTrunk(widths, depth)
            out = self.trunk.out_channels
        self.heads = nn.ModuleDict({k: nn.Linear(out, len(v)) for k, v in classes.items()})

    def forward(self, images) -> dict:
        f = self.trunk(images)
        if hasattr(self, "mlp"):
            if self.face_region:
                t, l, n = self.face_region
                f = torch.cat([f, self.face_trunk(images[:, :, t:t + n, l:l + n]).flatten(1)], 1)
            f = self.mlp(f)
        return {k: h(f) for k, h in self.heads.items()}


class MarginHead(nn.Module):
    """Cosine classifier with an additive margin: CosFace (cos - m) or ArcFace (cos(theta + m))."""

    def __init__(self, dim: int, classes: int, scale: float = 30.0, margin: float = 0.35, kind: str = "cosface"):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * 0.01)
        self.scale, self.margin, self.kind = scale, margin, kind

    def forward(self, emb, labels):
        cos = emb @ F.normalize(self.weight, dim=-1).t()
        onehot = F.one_hot(labels, cos.shape[1]).bool()
        if self.kind == "arcface":
            theta = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
            target = torch.cos(theta + self.margin)
        else:
            target = cos - self.margin
        logits = self.scale * torch.where(onehot, target, cos)
        return F.cross_entropy(logits, labels), (cos.argmax(1) == labels).float().mean()
