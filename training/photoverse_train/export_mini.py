"""Export of the finished PhotoVerse-mini to Models/mini (the model the app embeds):

    python -m photoverse_train.export_mini --config training/configs/mini_stage2.yaml \
        --base training/work/export/mini-base --work training/work --out Models/mini [--variant full]
    (run with training/ on PYTHONPATH)

Models/mini/ = the stage-1 base folder as exported (diffusers layout, fp16 safetensors:
model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/, image_encoder/ with a
CLIPImageProcessor preprocessor_config.json added) + photoverse-adapter.safetensors (stage 2's
`variant`, fp16, the project's layout, written by save_adapter) + references/*.png (masked neutral
renderings of held-out identities at the image encoder's input size: `photoverse generate --crop
none --reference ...`) + evaluator/ (the evaluation's identity network: FORMAT.md section 12) + a
model card README.md (data, sizes, training time, the evaluation table) + samples.png (the
evaluation's first generations, when present). The folder is written beside the target and
renamed into place."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file

from .common.checkpoint import write_json
from .common.config import REPO_ROOT, TRAINING_DIR, load_config, resolve_path
from .data.attributes import (ATTRIBUTE_CLASSES, BACKGROUND_PHRASE, DEFAULT_WEIGHTS, EXPRESSION_PHRASE, GLASSES_PHRASE,
                              HEADWEAR_PHRASE, LIGHTING_PHRASE, POSE_PHRASE, STYLE_PREFIX)
from .data.synthetic_faces import sample_reference
from .evaluate import (ATTRIBUTE_TABLE_CAPTION, attribute_columns, data_seed_and_size, format_attribute_table, format_colour_table,
                       format_differences, format_table, heldout_identities)
from .identity.train import load_net
from .model import load_adapter
from .model.image_features import CLIP_MEAN, CLIP_STD
from .common.masking import mask_reference, mask_u8
from .stage2.train import ADAPTER_FILE


def preprocessor_config(image_size: int, mean, std) -> dict:
    """transformers' CLIPImageProcessor settings equal to FORMAT.md section 3 at image_size."""
    return {
        "crop_size": {"height": image_size, "width": image_size},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": [float(x) for x in mean],
        "image_processor_type": "CLIPImageProcessor",
        "image_std": [float(x) for x in std],
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": image_size},
    }


def write_references(folder: Path, identities, seed: int, size: int, encoder_size: int | None = None) -> list:
    """Masked neutral references (what stage 2 trained with) of the given identities as PNG, at
    the encoder's input size (bicubic when the data size differs)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for ident in identities:
        r = sample_reference(seed, int(ident), 0, size)
        masked = Image.fromarray(mask_reference(r.image[None], mask_u8(r.face_mask)[None])[0])
        if encoder_size and encoder_size != size:
            masked = masked.resize((encoder_size, encoder_size), Image.Resampling.BICUBIC)
        name = f"heldout-{int(ident):04d}.png"
        masked.save(folder / name, optimize=True)
        names.append(name)
    return names


EVALUATOR_FORMAT = "photoverse-evaluator"


def export_evaluator(src: Path, dst: Path, face_box=None, image_size: int | None = None) -> dict:
    """<work>/nets/evaluator -> dst/{config.json, model.safetensors (fp16), golden.safetensors}
    (FORMAT.md section 12). face_box (x, y, w, h at image_size): where generations put the
    face (the median held-out box), written as `face_box` so the app can score without a
    detector. Returns the config written."""
    src, dst = Path(src), Path(dst)
    saved = json.loads((src / "config.json").read_text())
    if saved["class"] != "EvaluatorNet":
        raise ValueError(f"{src}: a {saved['class']}, not an EvaluatorNet")
    net = load_net(src)
    dst.mkdir(parents=True, exist_ok=True)
    half = {k: v.detach().to(torch.float16).contiguous() for k, v in net.state_dict().items()}
    save_file(half, str(dst / "model.safetensors"), metadata={"format": EVALUATOR_FORMAT, "format_version": "1"})
    # the golden pair is computed with the fp16-rounded weights, in fp32
    net.load_state_dict({k: v.float() for k, v in half.items()})
    kw = saved["kwargs"]
    crop = int(kw.get("crop_size", 64))
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, crop, crop, generator=g) * 2 - 1
    with torch.no_grad():
        y = net(x)
    save_file({"crops": x.contiguous(), "embeddings": y.contiguous()}, str(dst / "golden.safetensors"))
    widths = [int(w) for w in kw.get("widths", (32, 64, 128))]
    cfg = {
        "format": EVALUATOR_FORMAT, "format_version": 1, "class": "EvaluatorNet", "kwargs": kw,
        "crop": {"size": crop, "enlarge": 1.3, "center": "face box centre", "side": "enlarge * max(w, h)",
                 "resample": "bilinear", "padding": "border", "align_corners": False},
        "input": "RGB in [-1, 1], NCHW",
        "layers": (["avg_pool 2"] + [f"conv3x3 {w} (features.{1 + 4 * i}), group_norm {min(8, w // 4)} groups eps 1e-5 "
                                     f"(features.{2 + 4 * i}), relu, max_pool 2" for i, w in enumerate(widths)]
                   + [f"conv3x3 {widths[-1]} (features.{1 + 4 * len(widths)}), group_norm {min(8, widths[-1] // 4)} "
                      f"groups (features.{2 + 4 * len(widths)}), relu", "flatten C,H,W", "linear (fc.2)",
                      "l2 normalise"]),
        "output_dim": int(kw.get("dim", 128)),
        "metrics": saved.get("metrics", {}),
    }
    if face_box is not None:
        cfg["face_box"] = {"image_size": int(image_size), "box": [round(float(v), 3) for v in face_box]}
    write_json(dst / "config.json", cfg)
    return cfg


def _heldout_face_box(work_dir: Path) -> tuple:
    """(median face box, image size) of the held-out data cache, as the evaluation crops
    generations; (None, None) without the cache."""
    path = Path(work_dir) / "data" / "heldout.npz"
    if not path.exists():
        return None, None
    with np.load(path) as z:
        return np.median(z["face_boxes"].astype(np.float32), axis=0), int(z["images"].shape[1])


STAGE_FOLDERS = (("data", "data"), ("VAE", "stage1/vae"), ("CLIP text + vision", "stage1/clip"),
                 ("UNet", "stage1/unet"), ("VAE decoder fine-tune", "stage1/vae-decoder"),
                 ("attribute classifiers", "nets/attributes"),
                 ("identity network", "nets/identity"), ("evaluator network", "nets/evaluator"),
                 ("stage 2 full", "stage2/full"), ("stage 2 without L_face", "stage2/no_face"),
                 ("stage 2 without regularisers", "stage2/no_reg"), ("evaluation", "eval"))


def where_stages_ran(work_dir: Path) -> list:
    """Model-card lines: the device each finished stage's DONE.json records."""
    rows = []
    for label, rel in STAGE_FOLDERS:
        p = Path(work_dir) / rel / "DONE.json"
        if p.exists():
            rows.append(f"| {label} | {json.loads(p.read_text()).get('ran_on', 'CPU (not recorded)')} |")
    return ["| Stage | Ran on |", "|---|---|", *rows] if rows else []


def vocabulary(data_cfg: dict) -> str:
    """The prompt words the data set draws (attribute_weights > 0), for the model card."""
    w = {**DEFAULT_WEIGHTS, **(data_cfg.get("attribute_weights") or {})}
    phrases = {"style": STYLE_PREFIX, "expression": EXPRESSION_PHRASE, "headwear": HEADWEAR_PHRASE,
               "glasses": GLASSES_PHRASE, "background": BACKGROUND_PHRASE, "lighting": LIGHTING_PHRASE,
               "pose": POSE_PHRASE}
    parts = []
    for name in ("style", "expression", "headwear", "glasses", "background", "lighting", "pose"):
        words = [phrases[name][c] for c, x in zip(ATTRIBUTE_CLASSES[name], w[name]) if x > 0 and phrases[name][c]]
        if words:
            parts.append(f"{name}: " + " / ".join(f"\"{p} ...\"" if name == "style" else p for p in words))
    return "; ".join(parts)


def _mib(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def _params(path: Path) -> int:
    n = 0
    for f in sorted(path.rglob("*.safetensors")):
        with safe_open(str(f), framework="pt") as h:
            for k in h.keys():
                n += int(np.prod(h.get_slice(k).get_shape()))
    return n


def model_card(out: Path, meta: dict, cfg: dict, stage2_info: dict, results: dict | None, refs: list,
               stage1_cfg: dict | None, variant: str, work_dir: Path | None = None) -> str:
    rows = []
    for name in ("unet", "vae", "text_encoder", "image_encoder", "tokenizer", "scheduler"):
        p = out / name
        if p.exists():
            n = _params(p)
            rows.append(f"| `{name}/` | {n / 1e6:.2f}M | {_mib(p):.1f} MiB |")
    a = out / "photoverse-adapter.safetensors"
    rows.append(f"| `photoverse-adapter.safetensors` | {_params_file(a) / 1e6:.2f}M | {_mib(a):.1f} MiB |")
    if (out / "evaluator").exists():
        rows.append(f"| `evaluator/` (scoring only) | {_params(out / 'evaluator') / 1e6:.2f}M | "
                    f"{_mib(out / 'evaluator'):.1f} MiB |")
    data = (stage1_cfg or {}).get("data") or cfg.get("data") or {}
    size = int(data.get("size", 64))
    enc = int(meta.get("image_size", size))
    example = meta.get("example_prompt", "a cartoon of S* wearing a crown in space")
    ran = where_stages_ran(work_dir) if work_dir is not None else []
    lines = [
        "# PhotoVerse-mini",
        "",
        "A small Stable-Diffusion-1.x-family model with PhotoVerse adapters (arXiv 2309.05793), trained from",
        "nothing by this repository on a synthetic identity data set (`training/photoverse_train/data`):",
        "procedurally drawn faces whose identity (face shape, skin, eyes, nose, mouth, hair, ...) is fixed",
        "per person while captions change expression, headwear, glasses, background, style, lighting and",
        "pose. It is the app's embedded default: it runs with no download, on drawn faces only.",
        "",
        "## Use",
        "",
        "```",
        "photoverse generate --model Models/mini \\",
        f"    --reference Models/mini/references/{refs[0] if refs else 'heldout-XXXX.png'} \\",
        f"    --prompt \"{example}\" --steps 25 --guidance 7.5 --seed 1",
        "```",
        "",
        f"Generations are {size}x{size}. The references here are already cut out and masked the way training saw",
        f"them ({enc}x{enc}, the image encoder's input size; background = the CLIP mean colour), so the app",
        "uses them whole (crop none) without being told. Prompts use the data set's words: " + vocabulary(data) + ".",
        f"Domain: {meta.get('domain', 'drawn faces')}.",
        f"`references/`: {len(refs)} held-out identities (never seen in training).",
        "",
        "## Contents",
        "",
        "| Part | Parameters | Size (fp16) |",
        "|---|---|---|",
        *rows,
        "",
        f"Whole folder: {_mib(out):.1f} MiB. Text encoder: CLIP's real 49,408-token vocabulary (most of its size).",
        "",
        "Adapter metadata: " + ", ".join(f"`{k}` = `{meta[k]}`" for k in (
            "encoder_layers", "tokens", "adapter_hidden", "lora_rank", "image_size", "default_num_words", "uncond_image",
            "domain", "example_prompt") if k in meta) + ".",
        "",
        "## Training",
        "",
        f"- Data: {data.get('identities', '?')} synthetic identities ({float(data.get('held_out_fraction', 0.1)):.0%} held out), "
        f"{data.get('train_images_per_identity', '?')} captioned {data.get('size', 64)}x{data.get('size', 64)} images and "
        f"{data.get('references_per_identity', '?')} neutral references per training identity.",
        "- Stage 1 (base): VAE, CLIP text + vision towers (contrastive), UNet (text-to-image, epsilon, SD1.5's",
        "  schedule); an identity network (plays ArcFace), an evaluator network and attribute classifiers;",
        "  `training/configs/mini.yaml` has the sizes and the measured time plan.",
        f"- Stage 2 (this adapter, variant `{variant}`): text adapter, image adapter, LoRA (rank {meta.get('lora_rank')})",
        "  and the image keys/values trained on the frozen base with L = L_diff + 0.01 L_face + 0.01 L_Treg +",
        "  0.001 L_Sreg and random fusion (text only γ = 2 / image only σ = 2 / both, 10% unconditional);",
        f"  {stage2_info.get('steps', '?')} steps x batch {stage2_info.get('batch', '?')}, AdamW lr {stage2_info.get('lr', 1e-4):g}"
        + (f", {stage2_info['s_per_step'] * stage2_info['steps'] / 60:.1f} min on "
           f"{stage2_info.get('ran_on', 'one CPU thread')}" if stage2_info.get("s_per_step") else "") + ".",
        "- Rebuild everything: `make train-mini` (every stage, two lanes; resumable), or on one GPU",
        "  `training/gpu_rebuild.sh`. The single-stage commands are in `training/configs/mini_stage2.yaml`.",
        "",
    ]
    if ran:
        lines += ["Where each stage ran (its DONE.json):", "", *ran, ""]
    if results:
        lines += ["## Evaluation (held-out identities)", "", format_table(results["rows"]), ""]
        if results.get("paired_differences"):
            lines += ["Paired differences (same identity, prompt and noise; mean ± std over the per-seed means):", "",
                      format_differences(results["paired_differences"], {r["key"]: r["label"] for r in results["rows"]}),
                      ""]
        if results.get("reference_rows"):
            lines += ["Reference points:", "", format_table(results["reference_rows"]), ""]
        rows = [*results["rows"], *results.get("reference_rows", [])]
        if any("colour_mean" in r for r in rows):
            lines += ["Skin and hair colour against the reference, measured without a network:", "",
                      format_colour_table(rows), ""]
        if results.get("attribute_hits"):
            lines += [ATTRIBUTE_TABLE_CAPTION, "", format_attribute_table(attribute_columns(results["attribute_hits"])), ""]
        lines += ["Details and the command that reproduces it: `training/RESULTS.md`.", ""]
    if (out / "samples.png").exists():
        lines += ["`samples.png`: rows = masked references, real renderings with the prompt, then the first",
                  "generations of each table row in order (same references, prompts and noise per column).", ""]
    return "\n".join(lines)


def _params_file(path: Path) -> int:
    with safe_open(str(path), framework="pt") as h:
        return sum(int(np.prod(h.get_slice(k).get_shape())) for k in h.keys())


def export_mini(cfg: dict, base_dir, work_dir, out_dir, variant: str = "full", n_references: int = 5,
                stage1_cfg: dict | None = None, force: bool = False) -> Path:
    """Writes out_dir (see the module docstring); skipped (returns at once) when out_dir already
    holds this adapter file and a model card, unless force."""
    base_dir, work_dir, out_dir = Path(base_dir), Path(work_dir), Path(out_dir)
    adapter = work_dir / "stage2" / variant / ADAPTER_FILE
    for p in (base_dir / "model_index.json", adapter):
        if not p.exists():
            raise FileNotFoundError(f"{p} is missing: run stage 1 / stage 2 first")
    _, meta = load_adapter(str(adapter))
    results_path = work_dir / "eval" / "results.json"
    card = out_dir / "README.md"
    if not force and card.exists() and (out_dir / ADAPTER_FILE).exists() \
            and (out_dir / ADAPTER_FILE).read_bytes() == adapter.read_bytes() \
            and (not results_path.exists() or results_path.stat().st_mtime <= card.stat().st_mtime):
        return out_dir  # already exported from this adapter and these results
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(base_dir, tmp, ignore=shutil.ignore_patterns("DONE.json", "*.tmp*"))
    shutil.copyfile(adapter, tmp / ADAPTER_FILE)
    size = int(meta.get("image_size", 64))
    mean = [float(x) for x in meta.get("image_mean", ",".join(map(str, CLIP_MEAN))).split(",")]
    std = [float(x) for x in meta.get("image_std", ",".join(map(str, CLIP_STD))).split(",")]
    write_json(tmp / "image_encoder" / "preprocessor_config.json", preprocessor_config(size, mean, std))
    seed, img_size = data_seed_and_size(cfg)
    ids = heldout_identities(cfg, work_dir)[:n_references]
    refs = write_references(tmp / "references", ids, seed, img_size, size)
    if (work_dir / "nets" / "evaluator" / "config.json").exists():
        export_evaluator(work_dir / "nets" / "evaluator", tmp / "evaluator", *_heldout_face_box(work_dir))
    grid = work_dir / "eval" / "grid.png"
    if grid.exists():
        shutil.copyfile(grid, tmp / "samples.png")
    results = json.loads(results_path.read_text()) if results_path.exists() else None
    info_path = work_dir / "stage2" / variant / "DONE.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    (tmp / "README.md").write_text(model_card(tmp, meta, cfg, info, results, refs, stage1_cfg, variant, work_dir))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return out_dir


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(TRAINING_DIR / "configs" / "mini_stage2.yaml"))
    ap.add_argument("--base", default=str(TRAINING_DIR / "work" / "export" / "mini-base"))
    ap.add_argument("--work", default=str(TRAINING_DIR / "work"))
    ap.add_argument("--out", default=str(REPO_ROOT / "Models" / "mini"))
    ap.add_argument("--variant", default="full")
    ap.add_argument("--references", type=int, default=5)
    ap.add_argument("--force", action="store_true", help="export again even if the folder holds this adapter")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config)
    stage1 = load_config(resolve_path(cfg["data_config"])) if cfg.get("data_config") else None
    out = export_mini(cfg, args.base, args.work, args.out, args.variant, args.references, stage1, args.force)
    print(f"{out}: {_mib(out):.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
