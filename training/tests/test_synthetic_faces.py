"""The synthetic identity data set: determinism, identities, captions, split, pixels, masks."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TRAINING = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAINING))
sys.path.insert(0, str(TRAINING / "fixtures"))

import clip_vocab  # noqa: E402
from photoverse_train.data.identity import HAIR_STYLES, IdentityParams  # noqa: E402
from photoverse_train.data.synthetic_faces import (  # noqa: E402
    ATTRIBUTE_CLASSES, ATTRIBUTE_NAMES, PLACEHOLDER, Attributes, SyntheticFaceDataset, caption, image_rng, render,
    render_reference, sample_image, split_identities, to_placeholder)
from photoverse_train.data import attributes as attr_mod  # noqa: E402

SEED = 7


def rng(k=0):
    return np.random.default_rng(k)


def lum(img):
    return img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def box_slice(box, y0, y1, x0=0.0, x1=1.0):
    x, y, w, h = box
    return slice(int(y + y0 * h), int(y + y1 * h)), slice(int(x + x0 * w), int(x + x1 * w))


# ----------------------------------------------------------------------------- determinism

def _digest(seed, ident, image, size):
    s = sample_image(seed, ident, image, size)
    return s.rendered.image.tobytes() + s.rendered.face_mask.tobytes() + s.caption.encode()


def test_same_seed_identity_image_gives_same_pixels():
    a = sample_image(SEED, 3, 5)
    b = sample_image(SEED, 3, 5)
    assert a.caption == b.caption
    assert np.array_equal(a.rendered.image, b.rendered.image)
    assert np.array_equal(a.rendered.face_mask, b.rendered.face_mask)
    assert a.rendered.face_box == b.rendered.face_box
    c = sample_image(SEED, 3, 6)
    assert not np.array_equal(a.rendered.image, c.rendered.image)
    d = sample_image(SEED + 1, 3, 5)
    assert not np.array_equal(a.rendered.image, d.rendered.image)


def test_pixels_identical_in_a_fresh_process():
    """Nothing may depend on process state (string hashing, caches, import order)."""
    code = (
        "import sys, hashlib; sys.path.insert(0, sys.argv[1]);"
        "from photoverse_train.data.synthetic_faces import sample_image;"
        "h = hashlib.sha256();"
        "[h.update(sample_image(7, i, j, 64).rendered.image.tobytes()) for i in (0, 11) for j in (0, 1, 2)];"
        "print(h.hexdigest())"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code, str(TRAINING)], capture_output=True, text=True, env=env,
                         check=True).stdout.strip()
    h = hashlib.sha256()
    for i in (0, 11):
        for j in (0, 1, 2):
            h.update(sample_image(7, i, j, 64).rendered.image.tobytes())
    assert out == h.hexdigest()


# ----------------------------------------------------------------------------- identities

def test_identity_parameters_fixed_per_identity_and_different_between():
    a = IdentityParams.sample(SEED, 42)
    assert IdentityParams._sample(SEED, 42) == a  # the uncached draw is the same
    assert IdentityParams.sample(SEED + 1, 42) != a
    ds = SyntheticFaceDataset([42, 43], images_per_identity=5, seed=SEED, with_reference=False)
    for i in range(5):
        ip, r, _, ident = ds.render_item(i)
        assert ident == 42 and r.identity == a
    params = [IdentityParams.sample(SEED, i) for i in range(300)]
    assert len({p.key() for p in params}) == 300
    vecs = np.stack([p.vector() for p in params])
    assert vecs.shape[0] == 300 and np.isfinite(vecs).all()
    # the categorical traits are all in use, and well mixed
    assert {p.hair_style for p in params} == set(HAIR_STYLES)
    assert len({p.face_shape for p in params}) == 5
    assert len({p.skin for p in params}) > 250
    combos = {(p.hair_style, p.hair_color_name, p.face_shape) for p in params}
    assert len(combos) > 200


def test_identity_labels_and_description():
    ip = IdentityParams.sample(SEED, 5)
    labels = ip.labels()
    assert set(labels) >= {"hair_style", "hair_color", "face_shape", "beard"}
    assert HAIR_STYLES[labels["hair_style"]] == ip.hair_style
    text = ip.describe()
    assert text.startswith("a ") and ("bald" in text or ip.hair_color_name in text)


# ----------------------------------------------------------------------------- captions

def test_caption_examples_and_placeholder():
    a = Attributes(expression="smiling", glasses="sunglasses", background="beach")
    assert caption(a) == "a photo of a person smiling wearing sunglasses on the beach"
    assert caption(a, PLACEHOLDER) == "a photo of S* smiling wearing sunglasses on the beach"
    assert to_placeholder(caption(a)) == caption(a, PLACEHOLDER)
    b = Attributes(style="sketch", headwear="hat", glasses="glasses", lighting="night", pose="left")
    assert caption(b) == "a pencil sketch of a person wearing a hat and glasses at night facing left"
    assert caption(Attributes(style="cartoon")) == "a cartoon of a person"
    assert caption(Attributes()) == "a photo of a person"


def test_captions_reflect_every_attribute():
    tables = {"expression": attr_mod.EXPRESSION_PHRASE, "headwear": attr_mod.HEADWEAR_PHRASE,
              "glasses": attr_mod.GLASSES_PHRASE, "background": attr_mod.BACKGROUND_PHRASE,
              "lighting": attr_mod.LIGHTING_PHRASE, "pose": attr_mod.POSE_PHRASE}
    r = rng(1)
    for _ in range(300):
        a = Attributes.sample(r)
        text = caption(a)
        assert text.startswith(attr_mod.STYLE_PREFIX[a.style] + " a person")
        assert text.count("a person") == 1
        for name, table in tables.items():
            phrase = table[getattr(a, name)]
            if phrase:
                assert phrase in text, (name, text)
        # which class is meant can be read back from the caption (no phrase hides another)
        for name, table in tables.items():
            present = [c for c, p in table.items() if p and (" " + p + " ") in (" " + text + " ")]
            assert present == ([getattr(a, name)] if table[getattr(a, name)] else []), (name, text)
        assert caption(a, PLACEHOLDER) == text.replace("a person", "S*")


def test_captions_are_short_in_clip_tokens():
    try:
        tok = clip_vocab.load_open_clip_tokenizer_module().SimpleTokenizer()
        count = lambda t: len(tok.encode(t)) + 2  # noqa: E731  (BOS, EOS)
    except (ImportError, SystemExit, OSError):  # no open_clip here: count words generously
        count = lambda t: int(len(t.split()) * 1.3) + 2  # noqa: E731
    phrases = [attr_mod.STYLE_PREFIX, attr_mod.EXPRESSION_PHRASE, attr_mod.HEADWEAR_PHRASE,
               attr_mod.GLASSES_PHRASE, attr_mod.BACKGROUND_PHRASE, attr_mod.LIGHTING_PHRASE, attr_mod.POSE_PHRASE]
    longest = {}
    for name, table in zip(["style", "expression", "headwear", "glasses", "background", "lighting", "pose"], phrases):
        longest[name] = max(table, key=lambda k: len(table[k]))
    worst = Attributes(**longest)
    assert count(caption(worst)) < 30, caption(worst)
    assert count(caption(worst, PLACEHOLDER)) < 30
    r = rng(2)
    assert max(count(caption(Attributes.sample(r))) for _ in range(200)) < 30


def test_attribute_labels_round_trip_and_sampling_covers_classes():
    r = rng(3)
    seen = {n: set() for n in ATTRIBUTE_NAMES}
    for _ in range(1500):
        a = Attributes.sample(r)
        labels = a.labels()
        assert len(labels) == len(ATTRIBUTE_NAMES)
        assert Attributes.from_labels(labels) == a
        for n, k in zip(ATTRIBUTE_NAMES, labels):
            seen[n].add(k)
    for n in ATTRIBUTE_NAMES:
        assert seen[n] == set(range(len(ATTRIBUTE_CLASSES[n]))), n
    fixed = Attributes.sample(rng(4), style="sketch")
    assert fixed.style == "sketch"
    with pytest.raises(ValueError):
        Attributes(headwear="turban")


# ----------------------------------------------------------------------------- split

def test_split_is_disjoint_deterministic_and_about_ten_percent():
    train, held = split_identities(1000, 0.1, seed=3)
    assert len(held) == 100 and len(train) == 900
    assert set(train).isdisjoint(held)
    assert sorted(train + held) == list(range(1000))
    assert split_identities(1000, 0.1, seed=3) == (train, held)
    assert split_identities(1000, 0.1, seed=4)[1] != held
    assert held != list(range(100)) and held != list(range(900, 1000))  # spread, not a block


# ----------------------------------------------------------------------------- pixels

def test_sunglasses_darken_the_eyes():
    drops = []
    for i in range(6):
        ip = IdentityParams.sample(SEED, i)
        plain = render(ip, Attributes(), 64, rng(i))
        sun = render(ip, Attributes(glasses="sunglasses"), 64, rng(i))
        ys, xs = box_slice(plain.face_box, 0.3, 0.6, 0.1, 0.9)
        drops.append(lum(plain.image)[ys, xs].mean() - lum(sun.image)[ys, xs].mean())
        # nothing changes in the lower face
        ys, xs = box_slice(plain.face_box, 0.75, 0.95, 0.3, 0.7)
        assert np.abs(plain.image[ys, xs].astype(int) - sun.image[ys, xs]).mean() < 3
    assert min(drops) > 15, drops


def test_background_changes_the_rest_not_the_face():
    for i, scene in enumerate(["beach", "city", "space", "forest"]):
        ip = IdentityParams.sample(SEED, 10 + i)
        a = render(ip, Attributes(), 64, rng(i))
        b = render(ip, Attributes(background=scene), 64, rng(i))
        assert np.array_equal(a.face_mask, b.face_mask)
        diff = np.abs(a.image.astype(int) - b.image.astype(int)).mean(axis=2)
        face = a.face_mask > 0.99
        outside = a.face_mask < 0.01
        assert face.sum() > 300
        assert diff[face].mean() < 4, (scene, diff[face].mean())
        assert diff[outside].mean() > 20, (scene, diff[outside].mean())


def test_expression_headwear_style_and_lighting_are_visible():
    for ident in (20, 21, 22):
        ip = IdentityParams.sample(SEED, ident)
        base = render(ip, Attributes(), 64, rng(0))
        ys, xs = box_slice(base.face_box, 0.0, 1.0)
        for e in ATTRIBUTE_CLASSES["expression"][1:]:
            other = render(ip, Attributes(expression=e), 64, rng(0))
            changed = np.abs(base.image[ys, xs].astype(int) - other.image[ys, xs]).max(axis=2) > 30
            assert changed.sum() >= 10, (ident, e, changed.sum())
            assert np.array_equal(base.image[:8], other.image[:8])  # the top rows (background) stay
    ip = IdentityParams.sample(SEED, 20)
    base = render(ip, Attributes(), 64, rng(0))
    for h in ATTRIBUTE_CLASSES["headwear"][1:]:
        other = render(ip, Attributes(headwear=h), 64, rng(0))
        top = slice(0, base.face_box[1] + base.face_box[3] // 4)
        assert np.abs(base.image[top].astype(int) - other.image[top]).mean() > 5, h
        assert other.face_mask.sum() < base.face_mask.sum() - 5, h  # headwear is not face
    sketch = render(ip, Attributes(style="sketch"), 64, rng(0)).image.astype(float)
    assert np.abs(sketch - sketch.mean(axis=2, keepdims=True)).mean() < 6  # grey
    assert np.abs(base.image - base.image.mean(axis=2, keepdims=True)).mean() > 10
    night = render(ip, Attributes(lighting="night"), 64, rng(0)).image
    assert lum(night).mean() < 0.6 * lum(base.image).mean()
    warm = render(ip, Attributes(lighting="warm"), 64, rng(0)).image.astype(float)
    cold = render(ip, Attributes(lighting="cold"), 64, rng(0)).image.astype(float)
    assert warm[..., 0].mean() - warm[..., 2].mean() > cold[..., 0].mean() - cold[..., 2].mean() + 40


def test_pose_moves_the_features_the_named_way():
    shifts = []
    for i in range(6):
        ip = IdentityParams.sample(SEED, 30 + i)
        cx = []
        for pose in ("left", "right"):
            r = render(ip, Attributes(pose=pose), 64, rng(i))
            ys, xs = box_slice(r.face_box, 0.3, 0.85, 0.1, 0.9)
            # where the features are: far from the skin colour, inside the face
            feat = np.abs(r.image.astype(float) - np.array(ip.skin)).sum(axis=2) * r.face_mask
            full = np.zeros_like(feat)
            full[ys, xs] = feat[ys, xs]
            cx.append((full * np.arange(64)[None, :]).sum() / full.sum())
        shifts.append(cx[1] - cx[0])
    assert min(shifts) > 0.5 and np.mean(shifts) > 1.5, shifts
    a = render(IdentityParams.sample(SEED, 1), Attributes(), 64, rng(0))
    t = render(IdentityParams.sample(SEED, 1), Attributes(pose="tilted"), 64, rng(0))
    assert np.abs(a.face_mask - t.face_mask).sum() > 20


def _face_code(r, n=20):
    x, y, w, h = r.face_box
    cx, cy, s = x + w / 2, y + h / 2, 0.65 * max(w, h)
    box = (cx - s, cy - s, cx + s, cy + s)
    img = np.asarray(Image.fromarray(r.image).resize((n, n), Image.BILINEAR, box=box), dtype=np.float64)
    m = np.asarray(Image.fromarray((r.face_mask * 255).astype(np.uint8)).resize((n, n), Image.BILINEAR, box=box),
                   dtype=np.float64)[..., None] / 255.0
    return (img * m).ravel()


def test_same_identity_is_closer_than_different_identities():
    weights = {"style": [1, 0, 0, 0], "lighting": [1, 0, 0, 0, 0]}  # photo, normal light; the rest varies
    codes = {}
    for ident in range(10):
        codes[ident] = [_face_code(sample_image(SEED, ident, j, 64, attribute_weights=weights).rendered)
                        for j in range(4)]
    same, diff = [], []
    for a in range(10):
        for b in range(a, 10):
            for i, ca in enumerate(codes[a]):
                for j, cb in enumerate(codes[b]):
                    if a == b and j <= i:
                        continue
                    (same if a == b else diff).append(np.linalg.norm(ca - cb))
    assert np.mean(same) < 0.75 * np.mean(diff), (np.mean(same), np.mean(diff))
    # nearest neighbour among the others is usually the same identity
    hits = 0
    for a in range(10):
        for i, ca in enumerate(codes[a]):
            best = min(((np.linalg.norm(ca - cb), b) for b in range(10) for j, cb in enumerate(codes[b])
                        if (b, j) != (a, i)))
            hits += best[1] == a
    assert hits >= 28, hits  # of 40


# ----------------------------------------------------------------------------- masks and boxes

def test_face_mask_and_box_are_sane():
    for i in range(12):
        s = sample_image(SEED, 50 + i, i, 64)
        r = s.rendered
        m = r.face_mask
        assert m.dtype == np.float32 and m.shape == (64, 64)
        assert m.min() >= 0.0 and m.max() <= 1.0
        assert ((m > 0.02) & (m < 0.98)).any()  # soft edges
        x, y, w, h = r.face_box
        assert 0 <= x and 0 <= y and x + w <= 64 and y + h <= 64
        assert 0.35 * 64 <= h <= 0.72 * 64 and 0.3 * 64 <= w <= 0.7 * 64, r.face_box
        assert 0.1 < m.mean() < 0.6
        assert m[0, 0] == 0 and m[0, -1] == 0 and m[-1, 0] == 0 and m[-1, -1] == 0
        inner = m[y + h // 2: y + 3 * h // 4, x + w // 4: x + 3 * w // 4]
        assert inner.mean() > 0.95  # the middle of the face is face (headwear may cover the top)
    ref = render_reference(IdentityParams.sample(SEED, 3), 64, rng(5))
    x, y, w, h = ref.face_box
    assert ref.face_mask[y:y + h, x:x + w].mean() > 0.75  # an oval fills 0.785 of its box; hair adds
    assert ref.attributes == Attributes.neutral()


def test_other_sizes_scale_the_same_drawing():
    ip = IdentityParams.sample(SEED, 2)
    a = render(ip, Attributes(), 64, rng(1))
    for size in (128, 256):
        b = render(ip, Attributes(), size, rng(1))
        assert b.image.shape == (size, size, 3) and b.face_mask.shape == (size, size)
        f = size / 64
        assert all(abs(p * f - q) <= 2 * f for p, q in zip(a.face_box, b.face_box)), (a.face_box, b.face_box)
        small = np.asarray(Image.fromarray(b.image).resize((64, 64), Image.BOX), dtype=float)
        assert np.abs(small - a.image).mean() < 12


# ----------------------------------------------------------------------------- dataset

def test_dataset_items():
    torch = pytest.importorskip("torch")
    train, held = split_identities(40, 0.1, SEED)
    ds = SyntheticFaceDataset(train, images_per_identity=3, size=64, seed=SEED)
    assert len(ds) == 3 * len(train)
    item = ds[4]
    img, ref = item["image"], item["reference"]
    assert img.shape == (3, 64, 64) and img.dtype == torch.float32
    assert -1.0 <= float(img.min()) and float(img.max()) <= 1.0 and float(img.std()) > 0.1
    assert ref.shape == (3, 64, 64) and item["reference_mask"].shape == (64, 64)
    assert item["mask"].shape == (64, 64) and item["face_box"].shape == (4,)
    assert item["identity"] == train[1]
    assert item["labels"].shape == (len(ATTRIBUTE_NAMES),)
    attrs = Attributes.from_labels(item["labels"].tolist())
    assert item["caption"] == caption(attrs) and item["placeholder_caption"] == caption(attrs, PLACEHOLDER)
    assert not torch.equal(img, ref)
    again = ds[4]
    assert torch.equal(again["image"], img) and torch.equal(again["reference"], ref)
    # the image matches the stand-alone stream for (seed, identity, image)
    s = sample_image(SEED, train[1], 1, 64)
    assert torch.equal(img, (torch.from_numpy(s.rendered.image).permute(2, 0, 1).float() / 127.5 - 1.0))
    ds.set_epoch(1)
    assert not torch.equal(ds[4]["image"], img)
    described = SyntheticFaceDataset([5], 1, seed=SEED, subject="describe", with_reference=False)[0]
    assert IdentityParams.sample(SEED, 5).describe() in described["caption"] and "reference" not in described
    loader = torch.utils.data.DataLoader(ds, batch_size=4)
    batch = next(iter(loader))
    assert batch["image"].shape == (4, 3, 64, 64) and len(batch["caption"]) == 4


def test_image_rng_streams_are_independent():
    a = image_rng(SEED, 1, 2).random(4)
    assert not np.allclose(a, image_rng(SEED, 1, 2, stream=2).random(4))
    assert not np.allclose(a, image_rng(SEED, 2, 1).random(4))
