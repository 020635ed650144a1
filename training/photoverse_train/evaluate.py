"""Evaluation of PhotoVerse-mini on held-out identities: the paper's ablation, one table.

    python -m photoverse_train.evaluate --config training/configs/mini_stage2.yaml \
        --base training/work/export/mini-base --work training/work --out training/RESULTS.md
        [--threads 1] [--set eval.identities=8 ...]
    (run with training/ on PYTHONPATH)

Setup (numbers from the config's `eval` section):
- identities: the first `identities` held-out identities (never seen in stage 1 or 2); each one's
  reference is its neutral rendering sample_reference(seed, identity, 0), masked as in training.
  With `data_seed` set (v2), identities 0..identities-1 drawn with THAT seed instead: people
  the training's data seed never produced (references and real renderings use it too).
- prompts: `prompts` (attribute sets -> the data set's captions, subject S* or "a person");
  identity i gets `prompts_per_identity` of them, rotating, so every prompt is used equally.
- seeds: every (identity, prompt) is generated once per seed; the initial latents depend on
  (seed, identity, prompt) only, so every row of the table sees the same noise.
- sampling: DDIM, `steps` steps, classifier-free guidance s_T = `guidance` (two rows: empty
  negative prompt with zero image tokens, the prompt with the reference), at the data size (v1 64x64, v2 128x128); gamma = alpha = 1.
- ID similarity: cosine of the EVALUATOR network (a different architecture and seed from the
  identity network of the training loss; never optimised against) between the reference's face
  (its true box) and the generated image's face region (the median face box of the held-out
  images: generated faces come without a box; the evaluator was trained with +-6% box jitter).
- prompt accuracy: per generation, the fraction of the prompt's requested attributes (those that
  differ from the neutral Attributes()) that the attribute classifiers predict.
- each metric: the mean over all generations of one seed; the table gives mean +- std (ddof 1)
  of those per-seed means.
- paired differences (a second table): full PhotoVerse minus each other row, generation by
  generation on the same (identity, prompt, noise), averaged per seed; mean +- std (ddof 1) of
  those per-seed mean differences. Row-to-row noise is shared, so this spread is the one to
  judge a difference by (the first table's spreads include the seeds' common variation).
Rows: the base model without personalisation (prompt with "a person", no adapter: sigma = 0,
alpha = 0, bit-exact the plain UNet); text branch only (S*, sigma = 0); image branch only ("a
person", sigma = 1); full PhotoVerse (S*, sigma = 1); without the identity loss; without the
regularisers (the last two: the no_face / no_reg adapters, used like full). Three reference
points give the scale: real renderings of the identity with the prompt's attributes (what a
perfect model would draw, scored with their true face box), the same renderings through the
base's VAE (encoded, the latent mean decoded: what the latent space lets any UNet draw) and the
evaluator's cosine between two different held-out identities."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .colour_match import colour_features, identification
from .common import dist
from .common.checkpoint import is_done, mark_done, write_json
from .common.config import TRAINING_DIR, load_config, resolve_path
from .common.datacache import to_float
from .common.masking import mask_reference, mask_u8
from .common.progress import setup_logging
from .data.synthetic_faces import (ATTRIBUTE_CLASSES, ATTRIBUTE_NAMES, Attributes, IdentityParams, caption, image_rng,
                                   render, sample_image, sample_reference, split_identities)
from .identity.train import load_net
from .model import apply_adapter, config_from_metadata, load_adapter
from .model.photoverse import PhotoVerseModel
from .stage1.common import save_grid
from .stage2.base import ddim_scheduler, load_base, reference_pixels
from .stage2.sampling import generate_batch, noise_for
from .stage2.train import ADAPTER_FILE

DEFAULT_PROMPTS = [
    {"expression": "smiling", "glasses": "sunglasses"},
    {"style": "cartoon", "headwear": "crown", "background": "space"},
    {"style": "painting", "background": "forest"},
    {"expression": "surprised", "headwear": "cap", "background": "beach"},
    {"style": "sketch", "glasses": "glasses"},
    {"background": "snow", "lighting": "night"},
]

# (row key, label, adapter variant or None, subject, sigma, alpha)
ROWS = [
    ("base", "No personalisation (base model, \"a person\")", "full", "a person", 0.0, 0.0),
    ("text_only", "Text branch only (S*, σ = 0)", "full", "S*", 0.0, 1.0),
    ("image_only", "Image branch only (\"a person\", σ = 1)", "full", "a person", 1.0, 1.0),
    ("full", "PhotoVerse (S*, σ = 1)", "full", "S*", 1.0, 1.0),
    ("no_face", "PhotoVerse without L_face", "no_face", "S*", 1.0, 1.0),
    ("no_reg", "PhotoVerse without L_Treg, L_Sreg", "no_reg", "S*", 1.0, 1.0),
]


@dataclass
class Job:
    identity: int
    prompt_index: int
    seed: int


def requested_attributes(attrs) -> dict:
    """{attribute name: class index} of the attributes a prompt asks for (non-neutral)."""
    neutral = Attributes()
    return {n: ATTRIBUTE_CLASSES[n].index(getattr(attrs, n)) for n in ATTRIBUTE_NAMES
            if getattr(attrs, n) != getattr(neutral, n)}


def attribute_hits(logits: dict, requested: list) -> list:
    """logits {attribute: [N, classes]}, requested [N] dicts -> per generation {"attribute: class":
    whether the attribute classifiers predict it}."""
    pred = {k: v.argmax(1) for k, v in logits.items()}
    return [{f"{k}: {ATTRIBUTE_CLASSES[k][c]}": int(pred[k][i]) == c for k, c in req.items()}
            for i, req in enumerate(requested)]


def prompt_accuracy(logits: dict, requested: list) -> np.ndarray:
    """logits {attribute: [N, classes]}, requested [N] dicts -> [N] fraction found."""
    return np.asarray([np.mean(list(h.values())) if h else 0.0 for h in attribute_hits(logits, requested)])


def tally_hits(counts: dict, hits: list):
    """Adds per-generation hits to counts {"attribute: class": [found, asked]}."""
    for h in hits:
        for name, found in h.items():
            c = counts.setdefault(name, [0, 0])
            c[0] += int(found)
            c[1] += 1


# the rows whose requested attributes the tables show, found / asked
ATTRIBUTE_COLUMNS = (("base", "Base"), ("full", "PhotoVerse"), ("real", "Real renderings"),
                     ("vae_round_trip", "Real through the VAE"))


def attribute_columns(hits: dict) -> list:
    """hits {row key: counts} -> [(column label, counts)] for format_attribute_table."""
    return [(label, hits[key]) for key, label in ATTRIBUTE_COLUMNS if key in hits]


ATTRIBUTE_TABLE_CAPTION = "Each requested attribute, found by the attribute classifiers (found / asked, all seeds):"


def format_attribute_table(columns: list) -> str:
    """columns [(label, counts)] -> one row per requested attribute, "found/asked" per column."""
    names = sorted({n for _, counts in columns for n in counts})
    lines = ["| Requested attribute | " + " | ".join(label for label, _ in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for n in names:
        cells = [f"{counts[n][0]}/{counts[n][1]}" if n in counts else "–" for _, counts in columns]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summarize(per_seed: dict) -> tuple:
    """{seed: [values]} -> (mean, std over the per-seed means (ddof 1; 0 for one seed))."""
    means = np.asarray([np.mean(v) for v in per_seed.values()], np.float64)
    return float(means.mean()), float(means.std(ddof=1)) if len(means) > 1 else 0.0


COLOUR_KEYS = ("correct", "own_distance", "other_distance")


def add_colour(per_seed: dict, found: dict, batch_jobs: list):
    """Appends identification()'s per-generation values to {key: {seed: [values]}}."""
    for name in COLOUR_KEYS:
        for j, v in zip(batch_jobs, found[name]):
            per_seed[name][j.seed].append(float(v))


def summarize_colour(per_seed: dict) -> dict:
    """{key: {seed: [values]}} -> colour_mean/std (rank-1), de_own_mean/std, de_other_mean/std."""
    out = {}
    for name, prefix in zip(COLOUR_KEYS, ("colour", "de_own", "de_other")):
        out[f"{prefix}_mean"], out[f"{prefix}_std"] = summarize(per_seed[name])
    return out


def paired_differences(per_job: dict, jobs: list, reference: str = "full") -> list:
    """per_job {row key: (id values [J], accuracy values [J])} on the same jobs -> rows of
    reference minus each other row: per-seed means of the per-generation differences, then
    mean +- std (ddof 1) over the seeds."""
    if reference not in per_job:
        return []
    seeds = sorted({j.seed for j in jobs})
    seed_of = np.asarray([j.seed for j in jobs])
    out = []
    ref_id, ref_acc = (np.asarray(v, np.float64) for v in per_job[reference])
    for key, (ids, acc) in per_job.items():
        if key == reference:
            continue
        d_id = ref_id - np.asarray(ids, np.float64)
        d_acc = ref_acc - np.asarray(acc, np.float64)
        m_id, s_id = summarize({s: d_id[seed_of == s] for s in seeds})
        m_acc, s_acc = summarize({s: d_acc[seed_of == s] for s in seeds})
        out.append({"key": key, "id_mean": m_id, "id_std": s_id, "acc_mean": m_acc, "acc_std": s_acc})
    return out


def format_differences(diffs: list, labels: dict) -> str:
    lines = ["| PhotoVerse (S*, σ = 1) minus | ID similarity difference | Prompt accuracy difference |",
             "|---|---|---|"]
    for d in diffs:
        lines.append(f"| {labels.get(d['key'], d['key'])} | {d['id_mean']:+.3f} ± {d['id_std']:.3f} | "
                     f"{d['acc_mean']:+.3f} ± {d['acc_std']:.3f} |")
    return "\n".join(lines)


def format_table(rows: list) -> str:
    """rows: dicts with label, id_mean, id_std, acc_mean, acc_std -> a Markdown table."""
    lines = ["| Method | ID similarity (evaluator cos) | Prompt accuracy |", "|---|---|---|"]
    def cell(m, s):
        return "–" if m is None or m != m else f"{m:.3f} ± {s:.3f}"

    for r in rows:
        lines.append(f"| {r['label']} | {cell(r['id_mean'], r['id_std'])} | {cell(r['acc_mean'], r['acc_std'])} |")
    return "\n".join(lines)


def format_colour_table(rows: list) -> str:
    """Rows that carry colour_mean (see summarize_colour) -> a Markdown table; the others are left out."""
    lines = ["| Method | Colour match, rank-1 | ΔE to its own reference | ΔE to the others |", "|---|---|---|---|"]
    for r in (r for r in rows if "colour_mean" in r):
        lines.append(f"| {r['label']} | {r['colour_mean']:.3f} ± {r['colour_std']:.3f} | "
                     f"{r['de_own_mean']:.1f} ± {r['de_own_std']:.1f} | {r['de_other_mean']:.1f} ± {r['de_other_std']:.1f} |")
    return "\n".join(lines)


def write_results(path, rows: list, setup: dict, command: str, extra_rows: list | None = None,
                  notes: list | None = None, diffs: list | None = None, attributes: list | None = None) -> str:
    """RESULTS.md: the table, the command that reproduces it, the setup."""
    text = ["# PhotoVerse-mini: evaluation on held-out identities", "",
            f"Reproduce (from the repository root; {setup.get('minutes', 0):.1f} min on "
            f"{setup.get('threads', 1)} CPU thread(s) when this file was written):", "",
            "```", command, "```", ""]
    if rows:  # none when only the reference points were asked for (probe_base --vae-only)
        text += [format_table(rows), ""]
    if diffs:
        text += ["Paired differences (same identity, prompt and noise; mean ± std over the per-seed means):", "",
                 format_differences(diffs, {r["key"]: r["label"] for r in rows}), ""]
    if extra_rows:
        text += ["Reference points (not models):", "", format_table(extra_rows), ""]
    if any("colour_mean" in r for r in [*rows, *(extra_rows or [])]):
        text += ["Skin and hair colour against the reference, a measure that uses no network "
                 "(photoverse_train/colour_match.py; mean ± std over the per-seed means):", "",
                 format_colour_table([*rows, *(extra_rows or [])]), ""]
    if attributes:  # [(column label, counts)], see attribute_columns
        text += [ATTRIBUTE_TABLE_CAPTION, "", format_attribute_table(attributes), ""]
    text += ["Setup:", ""]
    text += [f"- {k}: {v}" for k, v in setup.items() if k not in ("minutes", "threads")]
    if notes:
        text += ["", *notes]
    out = "\n".join(text) + "\n"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(out)
    return out


# ------------------------------------------------------------------------------------ pieces

def heldout_identities(cfg: dict, work: Path) -> list:
    """The held-out identities: from the data cache when present, else the config's split."""
    p = work / "data" / "heldout.npz"
    if p.exists():
        with np.load(p) as z:
            return sorted(int(i) for i in z["ref_identities"])
    d = load_config(resolve_path(cfg["data_config"]))["data"]
    return split_identities(int(d["identities"]), float(d.get("held_out_fraction", 0.1)), int(d.get("seed", 0)))[1]


def data_seed_and_size(cfg: dict) -> tuple:
    if "data" in cfg:
        d = cfg["data"]
    else:
        d = load_config(resolve_path(cfg["data_config"]))["data"]
    return int(d.get("seed", 0)), int(d.get("size", 64))


def canonical_face_box(work: Path, seed: int, size: int, identities: list) -> np.ndarray:
    """Median face box (x, y, w, h) of held-out images (the data cache's, else 64 renderings)."""
    p = work / "data" / "heldout.npz"
    if p.exists():
        with np.load(p) as z:
            return np.median(z["face_boxes"].astype(np.float32), axis=0)
    boxes = [sample_image(seed, identities[i % len(identities)], 9000 + i, size).rendered.face_box for i in range(64)]
    return np.median(np.asarray(boxes, np.float32), axis=0)


def load_adapter_model(parts: dict, path, model=None):
    """A PhotoVerseModel on the base parts with the adapter file's weights. `model`: a model
    built before on the same parts; reused when the file's config matches (the UNet's attention
    processors belong to the last model built on it, so models on one UNet must not coexist)."""
    tensors, meta = load_adapter(str(path))
    cfg = config_from_metadata(meta, tensors)
    if model is None or _shape_key(model.config) != _shape_key(cfg):
        model = PhotoVerseModel(parts["unet"], parts["text_encoder"], parts["tokenizer"], parts["image_encoder"], cfg)
    apply_adapter(model, tensors)
    return model.eval(), meta


def _shape_key(c) -> tuple:
    return (tuple(c.encoder_layers), c.adapter_hidden, c.lora_rank, c.text_branch, c.image_branch, c.image_size)


def plan_jobs(identities: list, n_prompts: int, per_identity: int, seeds: list) -> list:
    jobs = []
    for s in seeds:
        for a, ident in enumerate(identities):
            for j in range(per_identity):
                jobs.append(Job(int(ident), (a + j) % n_prompts, int(s)))
    return jobs


# -------------------------------------------------------------------------------------- main

def evaluate(cfg: dict, base_dir, work_dir, out_path, command: str, adapters: dict | None = None,
             threads: int = 1, log=print, rows: list = ROWS, eval_dir=None) -> dict:
    """Runs the whole evaluation; writes out_path (RESULTS.md) and <eval_dir>/results.json (default
    <work>/eval). adapters: {variant: adapter file} (default
    <work>/stage2/<variant>/photoverse-adapter.safetensors); rows: which of ROWS to run."""
    t_start = time.time()
    work, base_dir = Path(work_dir), Path(base_dir)
    eval_dir = Path(eval_dir) if eval_dir is not None else work / "eval"
    ec = cfg.get("eval", {})
    seeds = [int(s) for s in ec.get("seeds", [0, 1, 2])]
    steps, guidance = int(ec.get("steps", 25)), float(ec.get("guidance", 7.5))
    batch = int(ec.get("batch", 64))
    prompt_attrs = [Attributes(**p) for p in ec.get("prompts", DEFAULT_PROMPTS)]
    per_identity = int(ec.get("prompts_per_identity", len(prompt_attrs)))
    data_seed, size = data_seed_and_size(cfg)
    if ec.get("data_seed") is not None:
        # people drawn with a seed the training's data never used
        data_seed = int(ec["data_seed"])
        identities = list(range(int(ec.get("identities", 40))))
        box = canonical_face_box(work, data_seed, size, identities)
    else:
        identities = heldout_identities(cfg, work)[: int(ec.get("identities", 40))]
        box = canonical_face_box(work, data_seed, size, identities)
    jobs = plan_jobs(identities, len(prompt_attrs), per_identity, seeds)
    requested = [requested_attributes(a) for a in prompt_attrs]
    log(f"[eval] {len(identities)} identities x {per_identity} prompts x {len(seeds)} seeds = {len(jobs)} "
        f"generations per row; face box {box.tolist()}")

    dev = dist.device()  # generations on the device; scoring on the CPU (small networks)
    parts = load_base(base_dir)
    parts["vae"].to(dev)
    evaluator = load_net(work / "nets" / "evaluator")
    attr_net = load_net(work / "nets" / "attributes")
    adapters = adapters or {v: work / "stage2" / v / ADAPTER_FILE for v in ("full", "no_face", "no_reg")}

    refs = {}
    for ident in identities:
        r = sample_reference(data_seed, ident, 0, size)
        refs[ident] = (r.image, mask_u8(r.face_mask), np.asarray(r.face_box, np.float32))
    ref_imgs = np.stack([refs[i][0] for i in identities])
    ref_masked = mask_reference(ref_imgs, np.stack([refs[i][1] for i in identities]))
    with torch.no_grad():
        ref_emb = evaluator.embed_faces(to_float(ref_imgs), torch.from_numpy(np.stack([refs[i][2] for i in identities])))
    ref_index = {ident: a for a, ident in enumerate(identities)}
    gen_box = torch.from_numpy(np.asarray(box, np.float32))
    ref_colour = colour_features(ref_imgs, np.stack([refs[i][2] for i in identities]))

    def colour(images, boxes, batch_jobs) -> dict:
        return identification(colour_features(images, boxes), ref_colour, [ref_index[j.identity] for j in batch_jobs])

    hits = {}  # row key -> {"attribute: class": [found, asked]}

    def score(images, batch_jobs, key, boxes=None):
        with torch.no_grad():
            boxes = gen_box.expand(len(images), 4) if boxes is None else boxes
            emb = evaluator.embed_faces(images, boxes)
            cos = (emb * ref_emb[[ref_index[j.identity] for j in batch_jobs]]).sum(-1).numpy()
            logits, asked = attr_net(images), [requested[j.prompt_index] for j in batch_jobs]
        tally_hits(hits.setdefault(key, {}), attribute_hits(logits, asked))
        return cos, prompt_accuracy(logits, asked)

    model, current = None, None
    results = []
    per_job = {}
    grid_rows = {}
    c, s = parts["unet"].config.in_channels, parts["unet"].config.sample_size
    for key, label, variant, subject, sigma, alpha in rows:
        path = adapters.get(variant)
        if path is None or not Path(path).exists():
            log(f"[eval] {key}: no adapter {path}; row skipped")
            continue
        if variant != current:
            model, meta = load_adapter_model(parts, path, model)
            model.to(dev)
            current = variant
        k = int(meta.get("default_num_words", 1))
        mc = model.config
        t0 = time.time()
        ids_per_seed, acc_per_seed = {s_: [] for s_ in seeds}, {s_: [] for s_ in seeds}
        colour_per_seed = {name: {s_: [] for s_ in seeds} for name in COLOUR_KEYS}
        all_ids, all_acc = [], []
        for a in range(0, len(jobs), batch):
            bj = jobs[a:a + batch]
            prompts = [caption(prompt_attrs[j.prompt_index], subject) for j in bj]
            noise = torch.cat([noise_for(j.seed, j.identity, j.prompt_index, (1, c, s, s)) for j in bj])
            pix = reference_pixels(ref_masked[[ref_index[j.identity] for j in bj]], mc.image_size, mc.image_mean, mc.image_std)
            imgs = generate_batch(model, parts["vae"], ddim_scheduler(parts.get("scheduler_config")), prompts, noise,
                                  pix, sigma=sigma, alpha=alpha, guidance=guidance, steps=steps, num_words=k)
            cos, acc = score(imgs, bj, key)
            add_colour(colour_per_seed, colour(imgs, box, bj), bj)
            for j, cv, av in zip(bj, cos, acc):
                ids_per_seed[j.seed].append(float(cv))
                acc_per_seed[j.seed].append(float(av))
                all_ids.append(float(cv))
                all_acc.append(float(av))
            if a == 0:
                grid_rows[key] = imgs[: min(8, len(imgs))]
        per_job[key] = (all_ids, all_acc)
        id_m, id_s = summarize(ids_per_seed)
        ac_m, ac_s = summarize(acc_per_seed)
        results.append({"key": key, "label": label, "id_mean": id_m, "id_std": id_s, "acc_mean": ac_m, "acc_std": ac_s,
                        **summarize_colour(colour_per_seed), "minutes": (time.time() - t0) / 60})
        log(f"[eval] {key}: ID {id_m:.3f} ± {id_s:.3f}, prompt accuracy {ac_m:.3f} ± {ac_s:.3f} "
            f"({(time.time() - t0) / 60:.1f} min)")

    # reference points: real renderings of the held-out identity with the prompt's attributes
    real_ids, real_acc = {s_: [] for s_ in seeds}, {s_: [] for s_ in seeds}
    real_colour = {name: {s_: [] for s_ in seeds} for name in COLOUR_KEYS}
    # and the same renderings through the base's VAE (encode, decode the mean): what the latent
    # space lets any UNet draw, the ceiling of the generated rows' prompt accuracy
    trip_ids, trip_acc = {s_: [] for s_ in seeds}, {s_: [] for s_ in seeds}
    vae = parts["vae"]
    vae_dtype = next(vae.parameters()).dtype
    for a in range(0, len(jobs), batch):
        bj = jobs[a:a + batch]
        rs = [render(IdentityParams.sample(data_seed, j.identity), prompt_attrs[j.prompt_index], size,
                     image_rng(data_seed, j.identity, 100000 + 10 * j.prompt_index + j.seed)) for j in bj]
        imgs = to_float(np.stack([r.image for r in rs]))
        true_boxes = torch.tensor([r.face_box for r in rs], dtype=torch.float32)
        cos_true, acc = score(imgs, bj, "real", true_boxes)
        add_colour(real_colour, colour(imgs, np.stack([r.face_box for r in rs]), bj), bj)
        for j, cv, av in zip(bj, cos_true, acc):
            real_ids[j.seed].append(float(cv))
            real_acc[j.seed].append(float(av))
        with torch.no_grad():
            trip = vae.decode(vae.encode(imgs.to(dev, vae_dtype)).latent_dist.mean).sample.clamp(-1, 1).float().cpu()
        cos_trip, acc_trip = score(trip, bj, "vae_round_trip", true_boxes)
        for j, cv, av in zip(bj, cos_trip, acc_trip):
            trip_ids[j.seed].append(float(cv))
            trip_acc[j.seed].append(float(av))
        if a == 0:
            grid_rows["real"] = imgs[:8]
    extra = []
    m1, s1 = summarize(real_ids)
    m2, s2 = summarize(real_acc)
    extra.append({"key": "real", "label": "Real renderings of the identity with the prompt (true face box)",
                  "id_mean": m1, "id_std": s1, "acc_mean": m2, "acc_std": s2, **summarize_colour(real_colour)})
    m1, s1 = summarize(trip_ids)
    m2, s2 = summarize(trip_acc)
    extra.append({"key": "vae_round_trip", "label": "The same real renderings through the base's VAE (encode, decode)",
                  "id_mean": m1, "id_std": s1, "acc_mean": m2, "acc_std": s2})
    # different identities: the evaluator's cosine between two different held-out references
    n = len(identities)
    if n > 1:
        sim = (ref_emb @ ref_emb.t()).numpy()
        off = sim[~np.eye(n, dtype=bool)]
        extra.append({"key": "different", "label": "Two different held-out identities (references)",
                      "id_mean": float(off.mean()), "id_std": float(off.std()), "acc_mean": float("nan"),
                      "acc_std": float("nan")})

    minutes = (time.time() - t_start) / 60
    setup = {
        "held-out identities": (f"{len(identities)} new identities 0..{len(identities) - 1} drawn with data seed "
                                f"{data_seed} (the training data's seed is {data_seed_and_size(cfg)[0]}), "
                                "reference = sample_reference(seed, id, 0), masked"
                                if ec.get("data_seed") is not None else
                                f"{len(identities)} (first of the held-out split), reference = "
                                "sample_reference(seed, id, 0), masked"),
        "prompts": "; ".join(f"`{caption(a, 'S*')}`" for a in prompt_attrs) + f" ({per_identity} per identity, rotating)",
        "seeds": f"{seeds} (std over the per-seed means, ddof 1)",
        "generations per row": str(len(jobs)),
        "sampler": f"DDIM {steps} steps, guidance {guidance}, {size}x{size}, γ = α = 1, pseudo-words per S* = the adapter's default_num_words",
        "ID similarity": "cosine of the evaluator network (not the loss's identity network); reference face box vs the median held-out face box on generations",
        "colour match": (f"no network: the median CIELAB colour of two cheek patches and the top strip of the face box "
                         f"(hair, or headwear over it); rank-1 = the generation's own reference is the nearest of the "
                         f"{len(identities)} references (chance {1 / max(1, len(identities)):.3f}); ΔE (CIE76) to its own "
                         "reference and the mean ΔE to the others (photoverse_train/colour_match.py)"),
        "prompt accuracy": "fraction of the prompt's non-neutral attributes that the attribute classifiers predict",
        "evaluation time": f"{minutes:.1f} min",
        "minutes": minutes,
        "threads": threads,
    }
    notes = ["The last reference row's 'ID similarity' is the mean ± std over pairs of different identities; "
             "its prompt accuracy does not apply."]
    diffs = paired_differences(per_job, jobs)
    write_results(out_path, results, setup, command, extra, notes, diffs, attribute_columns(hits))
    if grid_rows:
        keys = [k for k in ["real", *[r[0] for r in ROWS]] if k in grid_rows]
        ref_row = to_float(ref_masked[[ref_index[j.identity] for j in jobs[: len(grid_rows[keys[0]])]]])
        save_grid(eval_dir / "grid.png", [ref_row, *[grid_rows[k] for k in keys]], scale=1)
    payload = {"rows": results, "reference_rows": extra, "paired_differences": diffs, "setup": {k: v for k, v in setup.items()}, "command": command,
               "grid_rows": ["reference", *[k for k in ["real", *[r[0] for r in ROWS]] if k in grid_rows]],
               "attribute_hits": hits}
    write_json(eval_dir / "results.json", payload)
    mark_done(eval_dir, {"results": str(Path(out_path).resolve()), "minutes": round(minutes, 2)})
    return payload


def evaluate_once(cfg: dict, base_dir, work_dir, out_path, command: str, force: bool = False, threads: int = 1,
                  log=print) -> dict:
    """evaluate() unless <work>/eval/DONE.json and out_path exist (then the stored results)."""
    work = Path(work_dir)
    if not force and is_done(work / "eval") and Path(out_path).exists() and (work / "eval" / "results.json").exists():
        log(f"[eval] done already: {out_path} (--force to run again)")
        return json.loads((work / "eval" / "results.json").read_text())
    return evaluate(cfg, base_dir, work_dir, out_path, command, threads=threads, log=log)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(TRAINING_DIR / "configs" / "mini_stage2.yaml"))
    ap.add_argument("--base", default=str(TRAINING_DIR / "work" / "export" / "mini-base"))
    ap.add_argument("--work", default=str(TRAINING_DIR / "work"))
    ap.add_argument("--out", default=str(TRAINING_DIR / "RESULTS.md"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--force", action="store_true", help="run again even if <work>/eval/DONE.json exists")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="where the generations run (auto: cuda when torch sees a GPU)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    dist.set_device(args.device)
    work = Path(args.work).resolve()
    log = setup_logging(work / "eval" / "eval.log")
    cfg = load_config(args.config, args.set)
    command = reproduce_command(args.config, args.base, args.work, args.out, args.threads, args.set)
    evaluate_once(cfg, args.base, work, args.out, command, args.force, args.threads, log.info)
    return 0


def reproduce_command(config, base, work, out, threads: int = 1, sets=()) -> str:
    """The shell command (from the repository root) that reruns this evaluation."""
    extra = "".join(f" --set '{s}'" for s in sets)
    return ("cd training && PYTHONPATH=. ../.venv/bin/python -m photoverse_train.evaluate "
            f"--config {_rel(config)} --base {_rel(base)} --work {_rel(work)} --out {_rel(out)} --threads {threads}"
            f" --force{extra}")


def _rel(p) -> str:
    """A path as seen from training/ (the command runs there)."""
    p = Path(p).resolve()
    try:
        return str(p.relative_to(TRAINING_DIR))
    except ValueError:
        return os.path.relpath(p, TRAINING_DIR)


if __name__ == "__main__":
    sys.exit(main())
