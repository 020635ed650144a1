"""Write a grid of synthetic faces to look at.

    PYTHONPATH=training python -m photoverse_train.data.preview --out grid.png [--size 64]
        [--identities 8] [--images 8] [--seed 0] [--random] [--masks]

Rows are identities. Columns are, by default, the reference rendering followed by a fixed
list of attribute sets (the same for every row, so identity consistency and attribute
visibility are easy to judge); with --random every cell is the data set's own image i of that
identity (random attributes). Captions go to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from PIL import Image, ImageDraw

from .attributes import Attributes, caption
from .dataset import image_rng, sample_image, split_identities
from .identity import IdentityParams
from .render import render, render_reference

SHOWCASE = [
    Attributes(expression="smiling", glasses="sunglasses", background="beach"),
    Attributes(expression="surprised", headwear="hat", background="forest"),
    Attributes(expression="laughing", headwear="cap", background="city"),
    Attributes(expression="sad", headwear="crown", background="snow", lighting="cold"),
    Attributes(expression="angry", headwear="helmet", background="space", lighting="night"),
    Attributes(headwear="beanie", glasses="glasses", background="indoors", lighting="warm", pose="left"),
    Attributes(style="sketch", expression="smiling", background="field"),
    Attributes(style="cartoon", headwear="party hat", background="desert", pose="right"),
    Attributes(style="painting", background="underwater", lighting="side", pose="tilted"),
    Attributes(expression="smiling", glasses="glasses", pose="tilted"),
    Attributes(style="cartoon", expression="surprised", headwear="crown", background="space"),
    Attributes(style="painting", expression="laughing", headwear="hat", background="field", lighting="warm"),
]


def build_grid(seed: int, identities: list[int], images: int, size: int, random: bool = False,
               masks: bool = False, log=print) -> Image.Image:
    gap = max(1, size // 32)
    cols = images * (2 if masks else 1)
    grid = Image.new("RGB", (cols * (size + gap) + gap, len(identities) * (size + gap) + gap), (255, 255, 255))
    if not random:
        log(f"column 0: reference: {caption(Attributes.neutral())}")
        for j, a in enumerate(SHOWCASE[: images - 1], start=1):
            log(f"column {j}: {caption(a)}")
    for r, ident in enumerate(identities):
        ip = IdentityParams.sample(seed, ident)
        log(f"row {r}: identity {ident}: {ip.describe()} ({ip.face_shape} face, {ip.eye_shape} {ip.eye_color_name} eyes,"
            f" {ip.nose_shape} nose, {ip.marks})")
        for c in range(images):
            if random:
                s = sample_image(seed, ident, c, size)
                out = s.rendered
                log(f"  [{r},{c}] {s.caption}")
            elif c == 0:
                out = render_reference(ip, size, image_rng(seed, ident, c, 2))
            else:
                a = SHOWCASE[(c - 1) % len(SHOWCASE)]
                out = render(ip, a, size, image_rng(seed, ident, c))
            x = gap + c * (2 if masks else 1) * (size + gap)
            y = gap + r * (size + gap)
            grid.paste(Image.fromarray(out.image), (x, y))
            if masks:
                m = (out.face_mask * 255).astype(np.uint8)
                mimg = Image.fromarray(np.stack([m] * 3, axis=-1))
                bx, by, bw, bh = out.face_box
                ImageDraw.Draw(mimg).rectangle([bx, by, bx + bw - 1, by + bh - 1], outline=(255, 0, 0))
                grid.paste(mimg, (x + size + gap, y))
    return grid


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="PNG file to write")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--identities", type=int, default=8)
    ap.add_argument("--images", type=int, default=8, help="columns per identity")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--first", type=int, default=0, help="first identity index")
    ap.add_argument("--held-out", action="store_true", help="take the identities from the held-out split (of 1000)")
    ap.add_argument("--random", action="store_true", help="random attributes (the data set's own images)")
    ap.add_argument("--masks", action="store_true", help="show each face mask and box next to its image")
    ap.add_argument("--scale", type=int, default=1, help="enlarge the grid (nearest) for viewing")
    args = ap.parse_args(argv)
    if args.held_out:
        ids = split_identities(1000, 0.1, args.seed)[1][args.first:args.first + args.identities]
    else:
        ids = list(range(args.first, args.first + args.identities))
    t0 = time.perf_counter()
    grid = build_grid(args.seed, ids, args.images, args.size, args.random, args.masks)
    dt = time.perf_counter() - t0
    if args.scale > 1:
        grid = grid.resize((grid.width * args.scale, grid.height * args.scale), Image.NEAREST)
    grid.save(args.out)
    print(f"wrote {args.out} ({grid.width}x{grid.height}, {len(ids) * args.images} images in {dt:.2f}s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
