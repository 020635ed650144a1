"""Identity, evaluator and attribute networks: the differentiable face crop, the metrics, the
margin heads and a tiny training run of each network."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from train_helpers import tiny_config, tiny_data
from photoverse_train.common import datacache
from photoverse_train.identity.nets import EvaluatorNet, IdentityNet, MarginHead, face_crop
from photoverse_train.identity.train import (load_net, pk_indices, roc_auc, supcon_loss, train_attribute_net,
                                             train_identity_net, verification_metrics)


def test_face_crop_samples_the_box_and_is_differentiable():
    img = torch.arange(2 * 3 * 64 * 64, dtype=torch.float32).reshape(2, 3, 64, 64).requires_grad_()
    # a 16x16 box at (8, 24), crop of the same size, enlarge 1: exactly the pixels of the box
    crop = face_crop(img, torch.tensor([[8.0, 24, 16, 16], [0, 0, 64, 64]]), size=16, enlarge=1.0)
    assert torch.allclose(crop[0], img[0, :, 24:40, 8:24], atol=1e-3)
    crop.sum().backward()
    assert img.grad[0, :, 24:40, 8:24].sum() > 0 and img.grad[0, :, :20].abs().sum() == 0


def test_roc_auc_matches_pair_counting():
    g = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(30, generator=g) + 1, torch.randn(50, generator=g)
    pos[3] = neg[7]  # a tie counts half
    want = sum((p > n) + 0.5 * (p == n) for p in pos.tolist() for n in neg.tolist()) / (30 * 50)
    assert roc_auc(pos, neg) == pytest.approx(float(want))


def test_verification_metrics_on_separable_embeddings():
    ids = np.repeat(np.arange(5), 4)
    centers = torch.nn.functional.normalize(torch.randn(5, 16), dim=-1)
    emb = torch.nn.functional.normalize(centers[ids] + 0.01 * torch.randn(20, 16), dim=-1)
    m = verification_metrics(emb, ids)
    assert m["roc_auc"] == pytest.approx(1.0) and m["top1_retrieval"] == 1.0
    assert m["mean_cos_same"] > m["mean_cos_different"]


@pytest.mark.parametrize("kind", ["cosface", "arcface"])
def test_margin_head_penalises_the_target(kind):
    head = MarginHead(8, 3, scale=10, margin=0.3, kind=kind)
    emb = torch.nn.functional.normalize(head.weight.detach()[[0, 1]], dim=-1)
    loss_margin, acc = head(emb, torch.tensor([0, 1]))
    head.margin = 0.0
    loss_plain, _ = head(emb, torch.tensor([0, 1]))
    assert float(loss_margin) > float(loss_plain) and float(acc) == 1.0


def test_networks_differ_and_embed_to_unit_vectors():
    x = torch.randn(2, 3, 64, 64)
    a, b = IdentityNet(widths=(8, 16), dim=16), EvaluatorNet(widths=(8, 8, 16), dim=16)
    assert type(a.trunk) is not type(b.features)
    for net in (a, b):
        e = net(x)
        assert e.shape == (2, 16) and torch.allclose(e.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_tiny_training_and_reload(tmp_path):
    train, held = tiny_data()
    cfg = tiny_config()
    net = train_identity_net("IdentityNet", cfg["identity"], train, held, tmp_path / "identity", tmp_path)
    ev = train_identity_net("EvaluatorNet", cfg["evaluator"], train, held, tmp_path / "evaluator", tmp_path)
    att = train_attribute_net(cfg["attributes"], train, held, tmp_path / "attributes", tmp_path)
    for folder, trained in (("identity", net), ("evaluator", ev), ("attributes", att)):
        meta = json.loads((tmp_path / folder / "config.json").read_text())
        assert meta["metrics"]
        again = load_net(tmp_path / folder)
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            o1, o2 = trained.eval()(x), again(x)
        if isinstance(o1, dict):
            assert all(torch.equal(o1[k], o2[k]) for k in o1)
        else:
            assert torch.equal(o1, o2)
    # done stages are skipped and return the saved network
    assert isinstance(train_identity_net("IdentityNet", cfg["identity"], train, held, tmp_path / "identity",
                                         tmp_path), IdentityNet)


def test_folder_of_photos_data(tmp_path):
    """The SD1.5-scale data path: one sub-folder per person, captions beside the photos."""
    rng = np.random.default_rng(0)
    for person in ("ann", "bob", "cy"):
        (tmp_path / "photos" / person).mkdir(parents=True)
        for k in range(2):
            Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(
                tmp_path / "photos" / person / f"{k}.png")
    (tmp_path / "photos" / "ann" / "0.txt").write_text("a photo of a person at the beach\n")
    cfg = {"path": str(tmp_path / "photos"), "size": 32, "held_out": ["cy"], "detect_faces": False}
    paths = datacache.build_from_folder(cfg, tmp_path / "data")
    train, held = datacache.load(paths["train"]), datacache.load(paths["heldout"])
    assert train["images"].shape == (4, 32, 32, 3) and held["images"].shape == (2, 32, 32, 3)
    assert list(train["captions"]).count("a photo of a person at the beach") == 1
    assert len(set(train["identities"])) == 2 and set(train["identities"]).isdisjoint(held["identities"])
    assert EvaluatorNet(widths=(8, 8, 16), dim=16, crop_size=112)(torch.randn(1, 3, 112, 112)).shape == (1, 16)


def test_supcon_and_pk_batches():
    by_class = [np.arange(0, 5), np.arange(5, 7), np.arange(7, 20)]
    idx = pk_indices(0, 3, by_class, 2, 4)
    assert len(idx) == 8 and np.array_equal(idx, pk_indices(0, 3, by_class, 2, 4))
    owners = [next(c for c, b in enumerate(by_class) if i in b) for i in idx]
    assert len(set(owners[:4])) == 1 and len(set(owners[4:])) == 1 and owners[0] != owners[4]
    labels = torch.tensor([0, 0, 1, 1])
    good = torch.nn.functional.normalize(torch.tensor([[1.0, 0], [1, 0.01], [0, 1], [0.01, 1]]), dim=-1)
    bad = good[[0, 2, 1, 3]]
    assert float(supcon_loss(good, labels)) < float(supcon_loss(bad, labels))
    # hand-computed: anchor 0 of `good` with temperature 1
    sim = good @ good.t()
    want0 = -(sim[0, 1] - torch.logsumexp(sim[0, 1:], 0))
    per = []
    for a in range(4):
        others = [j for j in range(4) if j != a]
        pos = [j for j in others if labels[j] == labels[a]]
        per.append(-(sim[a, pos].mean() - torch.logsumexp(sim[a, others], 0)))
    assert float(supcon_loss(good, labels, 1.0)) == pytest.approx(float(torch.stack(per).mean()), rel=1e-5)
    assert float(per[0]) == pytest.approx(float(want0), rel=1e-5)
