"""Stage 2's SD1.5-scale inputs (configs/sd15_stage2.yaml) on small stand-ins: a folder of photos
(common/photo_folder.py: training rows and references prepared as the Swift engine prepares one,
common/reference.py), a user-supplied ArcFace (identity/arcface.py), and two stage-2 steps on the
tiny base with both."""
import logging
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
torch.set_num_threads(1)

import convert_arcface  # noqa: E402
from photoverse_train.common import datacache  # noqa: E402
from photoverse_train.common.checkpoint import is_done  # noqa: E402
from photoverse_train.common.datacache import load  # noqa: E402
from photoverse_train.common.photo_folder import build_from_folder, detect, load_detector  # noqa: E402
from photoverse_train.common.progress import LOG  # noqa: E402
from photoverse_train.common.reference import (  # noqa: E402
    apply_mask, crop_square, ellipse_mask, largest_face, prepare_reference, square_around, swift_round)
from photoverse_train.data.synthetic_faces import sample_image  # noqa: E402
from photoverse_train.identity.arcface import DEPTHS, IResNet, load_arcface  # noqa: E402
from photoverse_train.identity.nets import face_crop  # noqa: E402
from photoverse_train.common.masking import MASK_FILL, mask_reference, mask_u8  # noqa: E402
from photoverse_train.stage2.inputs import FolderStage2Data  # noqa: E402
from photoverse_train.stage2.tiny import make_tiny_work, tiny_config  # noqa: E402
from photoverse_train.stage2.train import ADAPTER_FILE, Stage2Data, check_supported, train_stage2  # noqa: E402

FACES = ROOT / "Tests" / "Fixtures" / "faces"
DETECTOR = ROOT / "Models" / "face-detector"
PEOPLE = {"ada": 0, "ben": 1, "cy": 2, "dee": 3}  # name -> synthetic identity; dee is held out


def _one_line_exit(excinfo, *mentions):
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    for m in mentions:
        assert m in msg, (m, msg)
    return msg


# ---------------------------------------------------------------------------- reference preparation

def test_ellipse_mask_is_the_engines():
    """The facts Tests/PipelineTests/ReferencePreparationTests.swift checks on ReferenceMask."""
    m = ellipse_mask(100)
    assert m.shape == (100, 100) and m.dtype == np.float32
    assert m[50, 50] == 1 and m[0, 0] == 0
    assert m[50, 11] == 1 and m[50, 3] == 0
    ray = m[50, 3:12]
    assert list(ray) == sorted(ray) and ((ray > 0) & (ray < 1)).any()
    assert m[50, 7] == m[50, 92] and m[7, 50] == m[92, 50]
    # one edge pixel from the formula: ellipse 40 x 48 px around (50, 50), smoothstep over 15%
    r = math.hypot((7.5 - 50) / 40, (50.5 - 50) / 48)
    t = (r - 1) / 0.15
    assert abs(m[50, 7] - (1 - t * t * (3 - 2 * t))) < 1e-5
    assert tuple(MASK_FILL) == (123, 117, 104)  # ReferenceMask.backgroundColor
    red = np.zeros((100, 100, 3), np.uint8)
    red[..., 0] = 255
    out = mask_reference(red, mask_u8(m))
    assert tuple(out[50, 50]) == (255, 0, 0) and tuple(out[0, 0]) == (123, 117, 104)


def test_astronaut_prepared_as_the_engine_does():
    """ReferencePreparationTests.testAstronautFaceCroppedAndMasked's numbers, in Python."""
    img = Image.open(FACES / "astronaut.png").convert("RGB")
    det = load_detector({"face_detector": str(DETECTOR)})
    box = largest_face(detect(det, img))
    assert np.allclose(box, (177.3, 80.6, 271.8, 175.1), atol=1)
    crop, mask, (left, top, side) = prepare_reference(img, box, 224)
    assert side == 123  # 1.3 x the longer side (94.5)
    assert abs(left + side / 2 - (box[0] + box[2]) / 2) <= 1 and abs(top + side / 2 - (box[1] + box[3]) / 2) <= 1
    masked = apply_mask(crop, mask)
    assert masked.shape == (224, 224, 3)
    assert tuple(masked[0, 0]) == (123, 117, 104) and tuple(masked[223, 223]) == (123, 117, 104)
    by_hand = np.asarray(img.crop((left, top, left + 123, top + 123)).resize((224, 224), Image.Resampling.BICUBIC))
    assert (masked[112, 112] == by_hand[112, 112]).all() and (masked[60, 80] == by_hand[60, 80]).all()
    # what stage 2 feeds (mask stored as bytes) is the engine's image to within 1
    diff = np.abs(mask_reference(crop, mask_u8(mask)).astype(int) - masked.astype(int))
    assert diff.max() <= 1
    # a square leaving the photo is padded with the background colour
    pad = np.asarray(crop_square(img, -6, -6, 52))
    assert tuple(pad[0, 0]) == (123, 117, 104) and (pad[10, 10] == np.asarray(img)[4, 4]).all()


# ----------------------------------------------------------------------------------- photo folder

@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """<root>/<person>/<k>.png: synthetic faces at 192 px (the detector needs faces >= 40 px),
    3 photos each, one caption, and a person with a single photo."""
    root = tmp_path_factory.mktemp("photos")
    for name, ident in {**PEOPLE, "solo": 4}.items():
        (root / name).mkdir()
        for k in range(1 if name == "solo" else 3):
            Image.fromarray(sample_image(0, ident, k, size=192).rendered.image).save(root / name / f"{k}.png")
    (root / "ben" / "1.txt").write_text("a photo of a person smiling\n")
    (root / "ben" / "notes.md").write_text("not a photo")
    return root


def _data_cfg(photos):
    return {"kind": "folder", "path": str(photos), "size": 64, "held_out": ["dee"], "detect_faces": True,
            "face_detector": str(DETECTOR), "references_per_identity": 4, "reference_size": 64}


@pytest.fixture(scope="module")
def built(photos, tmp_path_factory):
    lines = []
    h = logging.Handler()
    h.emit = lambda r: lines.append(r.getMessage())
    LOG.addHandler(h)
    old = LOG.level
    LOG.setLevel(logging.INFO)
    try:
        paths = datacache.build_from_folder(_data_cfg(photos), tmp_path_factory.mktemp("data"))
    finally:
        LOG.removeHandler(h)
        LOG.setLevel(old)
    return datacache.load(paths["train"]), datacache.load(paths["heldout"]), lines


def test_photo_folder_writes_references_prepared_as_the_engine_does(photos, built):
    train, held, lines = built
    assert any("solo" in s and "skipped" in s for s in lines), lines
    assert train["images"].shape == (9, 64, 64, 3) and train["images"].dtype == np.uint8
    assert list(train["identities"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert list(train["image_ids"]) == [0, 1, 2] * 3
    assert train["captions"][4] == "a photo of a person smiling" and train["captions"][0] == "a photo of a person"
    assert (train["labels"] == -1).all()
    assert train["ref_images"].shape == (3, 4, 64, 64, 3) and train["ref_images"].dtype == np.uint8
    assert train["ref_masks"].shape == (3, 4, 64, 64) and train["ref_masks"].dtype == np.uint8
    assert (train["ref_masks"] == mask_u8(ellipse_mask(64))).all()
    assert list(train["ref_identities"]) == [0, 1, 2]
    assert train["ref_image_ids"].tolist() == [[0, 1, 2, 0]] * 3  # three photos, repeated in order
    assert list(held["ref_identities"]) == [10**6] and list(held["identities"]) == [10**6] * 3
    det = load_detector({"face_detector": str(DETECTOR)})
    for i, name in enumerate(["ada", "ben", "cy"]):
        for r, k in enumerate(train["ref_image_ids"][i]):
            img = Image.open(photos / name / f"{k}.png").convert("RGB")
            crop, _, (_, _, side) = prepare_reference(img, largest_face(detect(det, img)), 64)
            assert side >= 52  # a face of >= 40 px, 1.3x
            assert (train["ref_images"][i, r] == crop).all(), (name, r)
    # the face box of each training row lies inside its 64 px image
    b = train["face_boxes"].astype(int)
    assert (b[:, :2] >= 0).all() and (b[:, 0] + b[:, 2] <= 64).all() and (b[:, 2] > 10).all()


def test_without_detection_the_central_half_is_the_face(photos, tmp_path):
    assert swift_round(2.5) == 3 and swift_round(-4.5) == -5  # Swift's rounding, not Python's
    assert square_around((0, 0, 30, 30)) == (-5, -5, 39)
    assert square_around((48, 48, 144, 144)) == (34, 34, 125)  # 192 px photo: central half, 1.3x
    cfg = {**_data_cfg(photos), "detect_faces": False, "references_per_identity": 2}
    with np.load(build_from_folder(cfg, tmp_path)["train"]) as z:
        refs, boxes = z["ref_images"], z["face_boxes"]
    img = Image.open(photos / "ada" / "1.png").convert("RGB")
    by_hand = np.asarray(img.crop((34, 34, 159, 159)).resize((64, 64), Image.Resampling.BICUBIC))
    assert refs.shape == (3, 2, 64, 64, 3) and (refs[0, 1] == by_hand).all()
    assert (boxes == [16, 16, 32, 32]).all()


def test_stage2_data_reads_the_folder_cache_and_gives_another_photo(built):
    train, _, _ = built
    n = len(train["images"])
    latents = {"mean": np.zeros((n, 4, 16, 16), np.float32), "std": np.ones((n, 4, 16, 16), np.float32)}
    mean, std = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
    plain = Stage2Data(train, latents, 64, mean, std)  # the synthetic path's class reads it unchanged
    data = FolderStage2Data(train, latents, 64, mean, std)
    assert plain.refs.shape == data.refs.shape == (3, 4, 64, 64, 3)
    for row in range(n):
        for c in range(4):
            ref = data.choice_map[row, c]
            assert train["ref_image_ids"][data.ref_row[row], ref] != train["image_ids"][row]
    idx, choice = np.arange(4), np.array([0, 1, 2, 3])
    px = data.reference_pixels(idx, choice)
    assert px.shape == (4, 3, 64, 64)
    assert torch.equal(px, plain.reference_pixels(idx, data.choice_map[idx, choice]))


# ---------------------------------------------------------------------------------------- ArcFace

def _random_iresnet(layers, seed=0):
    torch.manual_seed(seed)
    net = IResNet(layers, 512, 112)
    with torch.no_grad():  # running statistics that differ from a fresh BatchNorm's
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
    return net.eval()


def _save(net, path, drop=(), **extra):
    sd = {k: v.contiguous() for k, v in net.state_dict().items() if k not in drop}
    save_file({**sd, **extra}, str(path))
    return path


@pytest.fixture(scope="module")
def arcface_r18(tmp_path_factory):
    net = _random_iresnet(DEPTHS["r18"])
    return net, _save(net, tmp_path_factory.mktemp("arcface") / "r18.safetensors")


def test_arcface_loads_and_embeds_like_the_model_in_memory(arcface_r18):
    net, path = arcface_r18
    loaded = load_arcface(path, 112)
    assert loaded.net.layers_per_stage == (2, 2, 2, 2) and not loaded.training
    assert all(not p.requires_grad for p in loaded.parameters())
    g = torch.Generator().manual_seed(1)
    images = (torch.rand(2, 3, 64, 64, generator=g) * 2 - 1).requires_grad_(True)
    boxes = torch.tensor([[16.0, 14.0, 30.0, 34.0], [10.0, 12.0, 40.0, 38.0]])
    e = loaded.embed_faces(images, boxes)
    with torch.no_grad():
        ref = F.normalize(net(face_crop(images, boxes, 112, 1.3)), dim=-1)
    assert e.shape == (2, 512) and torch.allclose(e, ref, atol=1e-5)
    assert torch.allclose(e.norm(dim=-1), torch.ones(2), atol=1e-5)
    e.sum().backward()  # frozen, but the face loss's gradient reaches the image
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_arcface_weights_errors(tmp_path, arcface_r18):
    net, good = arcface_r18
    torch.save(net.state_dict(), tmp_path / "backbone.pth")
    with pytest.raises(SystemExit) as e:
        load_arcface(tmp_path / "backbone.pth")
    _one_line_exit(e, "backbone.pth", "pickle", "convert_arcface.py", "weights_only=True")
    with pytest.raises(SystemExit) as e:
        load_arcface(tmp_path / "glint.onnx")
    _one_line_exit(e, "glint.onnx", "convert_arcface.py")
    with pytest.raises(SystemExit) as e:
        load_arcface(tmp_path / "missing.safetensors")
    _one_line_exit(e, "missing.safetensors", "no such file")
    (tmp_path / "junk.safetensors").write_bytes(b"\x80\x02not a safetensors file" * 4)
    with pytest.raises(SystemExit) as e:
        load_arcface(tmp_path / "junk.safetensors")
    _one_line_exit(e, "junk.safetensors", "safetensors")
    # a missing key, a wrong shape, an extra key: named with the file
    small = _random_iresnet((1, 1, 1, 1))
    assert "layer2.0.bn3.running_var" in small.state_dict()
    f = _save(small, tmp_path / "nokey.safetensors", drop=("layer2.0.bn3.running_var",))
    with pytest.raises(SystemExit) as e:
        load_arcface(f)
    _one_line_exit(e, "nokey.safetensors", "missing key layer2.0.bn3.running_var")
    f = _save(small, tmp_path / "shape.safetensors", drop=("layer3.0.conv1.weight",),
              **{"layer3.0.conv1.weight": torch.zeros(256, 128, 1, 1)})
    with pytest.raises(SystemExit) as e:
        load_arcface(f)
    _one_line_exit(e, "shape.safetensors", "layer3.0.conv1.weight", "(256, 128, 1, 1)", "(256, 128, 3, 3)")
    with pytest.raises(SystemExit) as e:
        load_arcface(good, input_size=128)  # fc expects 7 x 7 = a 112 px input
    _one_line_exit(e, "r18.safetensors", "fc.weight")
    f = _save(small, tmp_path / "extra.safetensors", **{"head.weight": torch.zeros(3)})
    with pytest.raises(SystemExit) as e:
        load_arcface(f)
    _one_line_exit(e, "extra.safetensors", "unexpected key head.weight")


def test_convert_arcface_from_a_pickled_state_dict(tmp_path):
    net = _random_iresnet((1, 1, 1, 1), seed=3)
    torch.save({f"module.{k}": v for k, v in net.state_dict().items()}, tmp_path / "backbone.pth")
    msg = convert_arcface.convert(tmp_path / "backbone.pth", tmp_path / "out.safetensors")
    assert "custom 1/1/1/1" in msg and "512-d" in msg
    loaded = load_arcface(tmp_path / "out.safetensors")
    x = torch.rand(1, 3, 112, 112) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(loaded(x), F.normalize(net(x), dim=-1), atol=1e-5)


# ---------------------------------------------------------------------------------------- stage 2

def test_stage2_runs_on_the_photo_folder_with_arcface(photos, tmp_path):
    base, _ = make_tiny_work(tmp_path / "tiny")
    weights = _save(_random_iresnet((1, 1, 1, 1), seed=5), tmp_path / "arcface.safetensors")
    cfg = tiny_config()
    cfg["data"] = {k: v for k, v in _data_cfg(photos).items() if k != "reference_size"}  # the encoder's: 64
    cfg["identity"] = {"kind": "arcface", "weights": str(weights), "input_size": 112}
    cfg["train"].update(steps=2, batch=4, log_every=1, samples=True, sample_steps=2)  # grid: held-out references
    cfg["train"]["fusion"]["p_uncond"] = 0.0  # every row conditioned: the face loss sees them all
    check_supported(cfg)
    work = tmp_path / "work"  # no data yet: built from the folder
    out = train_stage2(cfg, "full", base, work)
    assert (out / ADAPTER_FILE).stat().st_size > 0 and is_done(out) and (out / "samples.png").exists()
    train = load(work / "data" / "train.npz")
    assert train["ref_images"].shape == (3, 4, 64, 64, 3)
    faces = [float(v) for v in re.findall(r"\bface=(\S+)", (out / "train.log").read_text())]
    assert len(faces) == 2, (out / "train.log").read_text()
    assert all(math.isfinite(v) and v > 0 for v in faces), faces
    cfg["data"]["kind"] = "photo_folder"
    with pytest.raises(SystemExit) as e:
        check_supported(cfg)
    _one_line_exit(e, "photo_folder", "folder")
