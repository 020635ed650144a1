"""Evaluation (photoverse_train/evaluate.py) and the Models/mini export (export_mini.py) on a tiny
random base: metric helpers by hand, the table writer, batched sampling = the reference sampling
loop, a whole evaluation run, and the export round trip through diffusers/transformers."""
import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
from PIL import Image
from safetensors.torch import load_file
from transformers import CLIPImageProcessor, CLIPTextModel, CLIPTokenizer, CLIPVisionModelWithProjection

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))

from photoverse_train.colour_match import colour_features, identification, srgb_to_lab  # noqa: E402
from photoverse_train.common.checkpoint import load_checkpoint  # noqa: E402
from photoverse_train.data.synthetic_faces import (  # noqa: E402
    ATTRIBUTE_CLASSES, Attributes, IdentityParams, image_rng, render, sample_reference)
from photoverse_train.evaluate import (  # noqa: E402
    ROWS,
    Job,
    attribute_hits,
    evaluate,
    evaluate_once,
    format_attribute_table,
    format_differences,
    format_table,
    load_adapter_model,
    paired_differences,
    plan_jobs,
    prompt_accuracy,
    requested_attributes,
    summarize,
    tally_hits,
    write_results,
)
from photoverse_train.export_mini import export_mini  # noqa: E402
from photoverse_train.identity.nets import EvaluatorNet  # noqa: E402
from photoverse_train.model import PhotoVerseModel, apply_adapter, config_from_metadata, load_adapter  # noqa: E402
from photoverse_train.common.masking import mask_reference  # noqa: E402
from photoverse_train.stage2.base import (  # noqa: E402
    Trainable, build_model, ddim_scheduler, load_base, reference_pixels)
from photoverse_train.stage2.sampling import generate_batch  # noqa: E402
from photoverse_train.stage2.tiny import make_tiny_work, tiny_config  # noqa: E402
from photoverse_train.stage2.train import ADAPTER_FILE, train_stage2  # noqa: E402


def test_requested_attributes_and_prompt_accuracy():
    req = requested_attributes(Attributes(style="cartoon", headwear="crown", background="space"))
    assert req == {"headwear": ATTRIBUTE_CLASSES["headwear"].index("crown"),
                   "background": ATTRIBUTE_CLASSES["background"].index("space"),
                   "style": ATTRIBUTE_CLASSES["style"].index("cartoon")}
    assert requested_attributes(Attributes()) == {}
    logits = {"glasses": torch.tensor([[0.0, 0.0, 5.0], [5.0, 0.0, 0.0]]),
              "expression": torch.tensor([[0.0, 3.0, 0, 0, 0, 0], [0.0, 3.0, 0, 0, 0, 0]])}
    want = [{"glasses": 2, "expression": 1}, {"glasses": 2, "expression": 1}]
    assert prompt_accuracy(logits, want).tolist() == [1.0, 0.5]
    hits = attribute_hits(logits, want)
    assert hits == [{"glasses: sunglasses": True, "expression: smiling": True},
                    {"glasses: sunglasses": False, "expression: smiling": True}]
    counts = {}
    tally_hits(counts, hits)
    tally_hits(counts, [{"glasses: sunglasses": True}])
    assert counts == {"glasses: sunglasses": [2, 3], "expression: smiling": [2, 2]}
    assert format_attribute_table([("Base", counts), ("Real", {"glasses: sunglasses": [3, 3]})]).splitlines() == [
        "| Requested attribute | Base | Real |", "|---|---|---|",
        "| expression: smiling | 2/2 | – |", "| glasses: sunglasses | 2/3 | 3/3 |"]


def test_summarize_is_mean_and_sample_std_of_per_seed_means():
    m, s = summarize({0: [0.5, 0.7], 1: [0.2, 0.4], 2: [0.9, 0.9]})  # per-seed means 0.6, 0.3, 0.9
    assert m == pytest.approx(0.6)
    assert s == pytest.approx(0.3)  # sqrt(((0)^2 + 0.3^2 + 0.3^2) / 2)
    assert summarize({0: [0.25, 0.75]}) == (0.5, 0.0)


def test_plan_rotates_prompts_over_identities():
    jobs = plan_jobs([10, 11, 12], 6, 2, [0, 1])
    assert len(jobs) == 12
    assert [(j.identity, j.prompt_index) for j in jobs[:6]] == [(10, 0), (10, 1), (11, 1), (11, 2), (12, 2), (12, 3)]
    assert {j.seed for j in jobs} == {0, 1}


def test_table_writer(tmp_path):
    rows = [{"label": "A", "id_mean": 0.5, "id_std": 0.01234, "acc_mean": 0.25, "acc_std": 0.0},
            {"label": "B", "id_mean": 0.125, "id_std": 0.1, "acc_mean": float("nan"), "acc_std": float("nan")}]
    table = format_table(rows)
    assert table.splitlines() == [
        "| Method | ID similarity (evaluator cos) | Prompt accuracy |",
        "|---|---|---|",
        "| A | 0.500 ± 0.012 | 0.250 ± 0.000 |",
        "| B | 0.125 ± 0.100 | – |",
    ]
    out = tmp_path / "RESULTS.md"
    text = write_results(out, rows, {"seeds": "[0, 1]", "minutes": 3.14, "threads": 1}, "python -m x --flag", rows[:1])
    assert out.read_text() == text
    assert "```\npython -m x --flag\n```" in text and "| A | 0.500 ± 0.012 |" in text
    assert "3.1 min on 1 CPU thread" in text and "- seeds: [0, 1]" in text and "minutes:" not in text


def test_paired_differences_are_per_seed_means_of_per_generation_differences():
    jobs = [Job(1, 0, 0), Job(2, 1, 0), Job(1, 0, 1), Job(2, 1, 1)]
    per_job = {"full": ([0.5, 0.7, 0.4, 0.6], [1.0, 0.5, 1.0, 1.0]),
               "base": ([0.1, 0.1, 0.2, 0.0], [1.0, 1.0, 0.5, 1.0])}
    (d,) = paired_differences(per_job, jobs)
    # seed 0: (0.4 + 0.6) / 2 = 0.5; seed 1: (0.2 + 0.6) / 2 = 0.4
    assert d["key"] == "base" and d["id_mean"] == pytest.approx(0.45) and d["id_std"] == pytest.approx(0.0707107)
    assert d["acc_mean"] == pytest.approx(0.0) and d["acc_std"] == pytest.approx(0.3535534)
    assert "| Base | +0.450 ± 0.071 | +0.000 ± 0.354 |" in format_differences([d], {"base": "Base"})
    assert paired_differences({"base": per_job["base"]}, jobs) == []


# ------------------------------------------------------------------------------ tiny model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("eval")
    base, work = make_tiny_work(root)
    cfg = tiny_config()
    cfg["train"]["steps"] = 1
    cfg["eval"]["prompts_per_identity"] = 1
    for v in ("full", "no_face", "no_reg"):
        train_stage2(cfg, v, base, work)
    return cfg, base, work, root


def test_generate_batch_equals_the_reference_sampling_loop(trained):
    cfg, base, work, _ = trained
    parts = load_base(base)
    model, _ = load_adapter_model(parts, work / "stage2" / "full" / ADAPTER_FILE)
    for p in model.processors.parameters():
        torch.nn.init.normal_(p, std=0.2)  # LoRA B is ~0 after 1 step: make it matter
    held = np.load(work / "data" / "heldout.npz")
    refs = mask_reference(held["ref_images"][:2, 0], held["ref_masks"][:2, 0])
    pix = reference_pixels(refs, model.config.image_size)
    noise = torch.randn(2, 4, 16, 16, generator=torch.Generator().manual_seed(0))
    prompts = ["a photo of S* smiling", "a cartoon of S* in space"]
    kw = dict(sigma=0.7, alpha=0.8, gamma=1.2, guidance=5.0, steps=3, num_words=1)
    lat = generate_batch(model, parts["vae"], ddim_scheduler(parts["scheduler_config"]), prompts, noise, pix,
                         decode=False, **kw)
    for i in range(2):
        ref = model.generate(ddim_scheduler(parts["scheduler_config"]), prompts[i], noise[i:i + 1], pix[i:i + 1],
                             gamma=1.2, sigma=0.7, alpha=0.8, s_image=5.0, s_text=5.0, steps=3, num_words=1)
        assert torch.allclose(lat[i:i + 1], ref["latents"], atol=1e-5, rtol=1e-4)


def test_evaluate_writes_the_table(trained):
    cfg, base, work, root = trained
    out = root / "RESULTS.md"
    payload = evaluate(cfg, base, work, out, "cd training && python -m photoverse_train.evaluate ...", log=lambda m: None)
    text = out.read_text()
    assert [r["key"] for r in payload["rows"]] == [r[0] for r in ROWS]
    for _, label, *_ in ROWS:
        assert f"| {label} |" in text
    for r in payload["rows"]:
        assert -1.0 <= r["id_mean"] <= 1.0 and 0.0 <= r["acc_mean"] <= 1.0
    assert "python -m photoverse_train.evaluate" in text
    assert json.loads((work / "eval" / "results.json").read_text())["rows"][0]["key"] == "base"
    assert (work / "eval" / "grid.png").exists()
    assert [d["key"] for d in payload["paired_differences"]] == [r[0] for r in ROWS if r[0] != "full"]
    assert "Paired differences" in text and "| PhotoVerse (S*, σ = 1) minus |" in text
    assert "| Colour match, rank-1 |" in text
    real = next(r for r in payload["reference_rows"] if r["key"] == "real")
    for r in [*payload["rows"], real]:
        assert 0.0 <= r["colour_mean"] <= 1.0 and r["de_own_mean"] >= 0.0
    assert f"| {real['label']} | {real['colour_mean']:.3f}" in text
    # the VAE round trip of the same renderings: scored like them, shown beside them
    trip = next(r for r in payload["reference_rows"] if r["key"] == "vae_round_trip")
    assert 0.0 <= trip["acc_mean"] <= 1.0 and -1.0 <= trip["id_mean"] <= 1.0
    assert trip["id_mean"] != real["id_mean"]  # the decoded images, not the renderings again
    assert f"| {trip['label']} |" in text
    # every requested attribute, found or not, per row: each prompt is asked once per seed here
    # (two identities, one prompt each, two seeds)
    hits = payload["attribute_hits"]
    assert set(hits) == {r[0] for r in ROWS} | {"real", "vae_round_trip"}
    asked = {"expression: smiling", "glasses: sunglasses", "style: cartoon", "headwear: crown", "background: space"}
    for key, counts in hits.items():
        assert set(counts) == asked and all(n == 2 and 0 <= found <= n for found, n in counts.values()), key
    assert "| Requested attribute | Base | PhotoVerse | Real renderings | Real through the VAE |" in text
    cells = [f"{hits[k]['style: cartoon'][0]}/2" for k in ("base", "full", "real", "vae_round_trip")]
    assert "| style: cartoon | " + " | ".join(cells) + " |" in text
    before = out.stat().st_mtime_ns
    assert evaluate_once(cfg, base, work, out, "x", log=lambda m: None)["rows"] == payload["rows"]
    assert out.stat().st_mtime_ns == before  # done: not run again


def test_evaluation_on_a_data_seed_the_training_never_used(trained, tmp_path):
    """eval.data_seed: identities 0..n-1 drawn with another seed (new people)."""
    cfg, base, work, _ = trained
    cfg = copy.deepcopy(cfg)
    cfg["eval"].update(data_seed=1234, seeds=[0])
    payload = evaluate(cfg, base, work, tmp_path / "R.md", "x", adapters={
        "full": work / "stage2" / "full" / "photoverse-adapter.safetensors"}, log=lambda m: None)
    assert "drawn with data seed 1234" in payload["setup"]["held-out identities"]
    assert [r["key"] for r in payload["rows"]] == ["base", "text_only", "image_only", "full"]


def test_export_round_trip(trained):
    """Models/mini loads back with diffusers/transformers + load_adapter and gives the outputs of
    the trained model (its fp32 checkpoint rounded to fp16, as the file stores it)."""
    cfg, base, work, root = trained
    out = export_mini(cfg, base, work, root / "Models" / "mini", "full", n_references=2)
    for name in ("model_index.json", "photoverse-adapter.safetensors", "README.md", "unet/config.json",
                 "image_encoder/config.json", "image_encoder/preprocessor_config.json", "tokenizer/vocab.json",
                 "scheduler/scheduler_config.json"):
        assert (out / name).exists(), name
    refs = sorted((out / "references").glob("*.png"))
    assert len(refs) == 2
    card = (out / "README.md").read_text()
    if (work / "eval" / "results.json").exists():
        assert "| PhotoVerse (S*, σ = 1) |" in card and "| Colour match, rank-1 |" in card
        assert "| Requested attribute | Base | PhotoVerse | Real renderings | Real through the VAE |" in card

    # the exported folder through the libraries' own loaders
    unet = UNet2DConditionModel.from_pretrained(out / "unet", torch_dtype=torch.float32)
    te = CLIPTextModel.from_pretrained(out / "text_encoder", dtype=torch.float32)
    enc = CLIPVisionModelWithProjection.from_pretrained(out / "image_encoder", dtype=torch.float32)
    vae = AutoencoderKL.from_pretrained(out / "vae", torch_dtype=torch.float32)
    tok = CLIPTokenizer.from_pretrained(out / "tokenizer")
    tensors, meta = load_adapter(str(out / "photoverse-adapter.safetensors"))
    loaded = PhotoVerseModel(unet, te, tok, enc, config_from_metadata(meta, tensors))
    apply_adapter(loaded, tensors)
    assert StableDiffusionPipeline.from_pretrained(out, safety_checker=None).image_encoder is not None

    # the trained model from the checkpoint (fp32), rounded like the file
    parts = load_base(base)
    trained_model = build_model(parts, cfg["model"])
    state = load_checkpoint(work / "checkpoints" / "stage2-full.pt")["module"]
    Trainable(trained_model).load_state_dict({k: v.half().float() for k, v in state.items()})

    img = np.asarray(Image.open(refs[0]).convert("RGB"))
    pix = reference_pixels(img[None], 64)
    proc = CLIPImageProcessor.from_pretrained(out / "image_encoder")
    assert torch.allclose(proc(images=Image.open(refs[0]), return_tensors="pt").pixel_values, pix, atol=1e-5)
    noise = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(3))
    kw = dict(s_image=7.5, s_text=7.5, steps=2, num_words=1)
    a = loaded.generate(ddim_scheduler(json.loads((out / "scheduler" / "scheduler_config.json").read_text())),
                        "a photo of S* smiling", noise, pix, **kw)["latents"]
    b = trained_model.generate(ddim_scheduler(parts["scheduler_config"]), "a photo of S* smiling", noise, pix,
                               **kw)["latents"]
    assert torch.equal(a, b)
    assert sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) < 8 * 2**20

    # the evaluator network ships beside the model (FORMAT.md section 12) with a golden pair
    ecfg = json.loads((out / "evaluator" / "config.json").read_text())
    assert ecfg["format"] == "photoverse-evaluator" and ecfg["class"] == "EvaluatorNet"
    net = EvaluatorNet(**ecfg["kwargs"])
    net.load_state_dict({k: v.float() for k, v in load_file(str(out / "evaluator" / "model.safetensors")).items()})
    golden = load_file(str(out / "evaluator" / "golden.safetensors"))
    with torch.no_grad():
        assert torch.allclose(net(golden["crops"]), golden["embeddings"], atol=1e-6)
    # where generations put the face (the app crops there: it has no detector for drawn faces)
    with np.load(work / "data" / "heldout.npz") as z:
        median, size = np.median(z["face_boxes"].astype(np.float32), axis=0), z["images"].shape[1]
    assert ecfg["face_box"]["image_size"] == size
    assert np.allclose(ecfg["face_box"]["box"], median, atol=1e-3)
    text = (out / "README.md").read_text()
    assert "| Stage | Ran on |" in text and "CPU, 1 thread(s)" in text
    card = (out / "README.md").stat().st_mtime_ns
    export_mini(cfg, base, work, out, "full", n_references=2)  # same adapter and results: skipped
    assert (out / "README.md").stat().st_mtime_ns == card


def test_colour_match_finds_the_reference_by_skin_and_hair():
    """Renderings of a person with the prompt's attributes are matched to that person's reference
    by cheek and hair colour far above chance; a reference matches itself at distance 0."""
    assert np.allclose(srgb_to_lab(np.array([1.0, 1.0, 1.0])), [100, 0, 0], atol=0.01)
    assert np.allclose(srgb_to_lab(np.array([0.0, 0.0, 0.0])), [0, 0, 0], atol=0.01)
    n = 12
    refs = [sample_reference(77, i, 0, 128) for i in range(n)]
    ref_f = colour_features(np.stack([r.image for r in refs]), np.stack([r.face_box for r in refs]))
    same = identification(ref_f, ref_f, np.arange(n))
    assert same["correct"].all() and np.allclose(same["own_distance"], 0)
    rs = [render(IdentityParams.sample(77, i), Attributes(expression="smiling", background="forest"), 128,
                 image_rng(77, i, 3)) for i in range(n)]
    gen_f = colour_features(torch.from_numpy(np.stack([r.image for r in rs])).permute(0, 3, 1, 2).float() / 255,
                            np.stack([r.face_box for r in rs]))
    found = identification(gen_f, ref_f, np.arange(n))
    assert found["correct"].mean() >= 0.5  # chance 1/12
    assert found["own_distance"].mean() < found["other_distance"].mean()
    shuffled = identification(gen_f, ref_f, np.roll(np.arange(n), 1))
    assert shuffled["correct"].mean() < found["correct"].mean()
