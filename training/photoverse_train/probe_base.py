"""The base model judged while its UNet still trains: the evaluation's base row (no
personalisation), per requested attribute, beside real renderings and their VAE round trip (the
ceiling any UNet on these latents can reach), on the evaluation's new people.

    cd training && PYTHONPATH=. ../.venv/bin/python -m photoverse_train.probe_base \
        [--config configs/mini.yaml] [--work work] [--unet work/checkpoints/unet.pt] \
        [--vae DIR] [--vae-only] [--identities 16] [--seeds 0] [--threads 1]

--vae-only: no UNet, only the real renderings and their round trip through --vae (e.g. a
decoder stage's output, stage1/vae-refined, before it is shipped) -> <work>/probe/vae-<folder>/.

--unet: the UNet trainer's checkpoint (its EMA weights; the default while it exists, which is also
after the stage has finished) or a UNet folder such as stage1/unet (the default when there is no
checkpoint). The VAE is the one the UNet trains on
(train_mini.vae_folders); a checkpoint of another latent space is refused. Needs the clip stage and
the attribute and evaluator networks. Writes <work>/probe/base-<step>/: PROBE.md (the tables),
results.json, grid.png (references, real renderings, base generations); the temporary model folder
it builds is removed. Costs what the evaluation's base row costs (16 people x 6 prompts x 1 seed:
~2-4 min on one thread at the v2 size)."""

from __future__ import annotations

import argparse
import copy
import shlex
import shutil
import sys
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel

from .common.checkpoint import load_checkpoint, read_done, write_json
from .common.config import TRAINING_DIR, load_config, resolve_path
from .common.progress import setup_logging
from .evaluate import ROWS, evaluate
from .export import export_base
from .model.adapter_file import save_adapter
from .stage1.models import build_unet
from .stage2.base import build_model, load_base
from .train_mini import vae_folders

BASE_ROW = [r for r in ROWS if r[0] == "base"]


def probe_unet(model_cfg: dict, source) -> tuple:
    """(UNet, step, latent-space fingerprint or None) from a trainer checkpoint (EMA weights when it
    has them) or a saved UNet folder."""
    source = Path(source)
    if source.is_dir():
        done = read_done(source)
        return UNet2DConditionModel.from_pretrained(source), int(done.get("steps", 0)), done.get("vae")
    state = load_checkpoint(source)
    if state is None:
        raise SystemExit(f"{source}: no UNet checkpoint there")
    unet = build_unet(model_cfg)
    weights = dict(state["module"])
    if state.get("ema") is not None:
        weights.update(state["ema"]["shadow"])
    try:
        unet.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 else str(error)
        raise SystemExit(f"{source}: not a checkpoint of the config's UNet (unet.model): {first}") from None
    return unet.eval(), int(state["step"]), (state.get("extra") or {}).get("inputs", {}).get("vae")


def probe(cfg2: dict, work, unet, out, clip_dir, vae_dir, tokenizer_dir, command: str = "",
          trained_on: str | None = None, log=print, rows: list = BASE_ROW) -> dict:
    """Builds a base folder (this UNet, clip_dir's encoders, vae_dir's VAE) in `out`, runs the
    evaluation's `rows` (the base row; none: the reference points alone) and reference points
    there, and removes the folder again; returns the evaluation's payload."""
    work, out = Path(work), Path(out)
    stage1, base = out / "stage1", out / "base"
    if stage1.exists():
        shutil.rmtree(stage1)
    try:
        unet.save_pretrained(stage1 / "unet", safe_serialization=True)
        # recorded as the UNet stage records it, so the export refuses a VAE of another latent space
        write_json(stage1 / "unet" / "DONE.json", {"vae": trained_on})
        (stage1 / "clip").symlink_to(Path(clip_dir).resolve(), target_is_directory=True)
        export_base(stage1, tokenizer_dir, base, vae_dir=vae_dir)
        # the base row runs sigma = 0, alpha = 0 (the plain UNet, bit for bit): any adapter will do
        adapter = out / "untrained-adapter.safetensors"
        save_adapter(str(adapter), build_model(load_base(base), cfg2["model"]), {"default_num_words": "1"})
        return evaluate(cfg2, base, work, out / "PROBE.md", command, adapters={"full": adapter}, log=log,
                        rows=rows, eval_dir=out)
    finally:
        for p in (stage1, base, out / "base.tmp", out / "untrained-adapter.safetensors"):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(TRAINING_DIR / "configs" / "mini.yaml"))
    ap.add_argument("--work", default=str(TRAINING_DIR / "work"))
    ap.add_argument("--unet", help="a UNet checkpoint (.pt) or folder (default: the trainer's checkpoint, else stage1/unet)")
    ap.add_argument("--vae", help="the VAE folder (default: the one the UNet trains on)")
    ap.add_argument("--vae-only", action="store_true", help="only the real renderings and their round trip through --vae")
    ap.add_argument("--stage2-config", help="the config whose eval section to use (default: the config's stage2_config)")
    ap.add_argument("--identities", type=int, help="how many of the evaluation's people (default: the eval section's)")
    ap.add_argument("--seeds", default="0", help="comma-separated noise seeds (default 0)")
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    work, s1 = Path(args.work), Path(args.work) / "stage1"
    log = setup_logging(work / "probe" / "probe.log")
    source = Path(args.unet) if args.unet else next(
        (p for p in (work / "checkpoints" / "unet.pt", s1 / "unet") if p.exists()), s1 / "unet")
    if not args.vae_only and not source.exists():
        raise SystemExit(f"{source}: no UNet yet (run the unet stage first, or give --vae-only)")
    vae_dir = Path(args.vae) if args.vae else vae_folders(cfg, s1)[0]
    if not (vae_dir / "config.json").exists():
        raise SystemExit(f"{vae_dir}: no VAE (config.json) there")
    for need in (s1 / "clip", work / "nets" / "attributes", work / "nets" / "evaluator"):
        if not need.exists():
            raise SystemExit(f"{need}: missing (the probe needs the clip stage and the attribute and evaluator networks)")
    stage2_config = args.stage2_config or cfg.get("stage2_config")
    if not stage2_config:
        raise SystemExit(f"{args.config}: names no stage2_config (its eval section says what to probe); give --stage2-config")
    cfg2 = copy.deepcopy(load_config(resolve_path(stage2_config, TRAINING_DIR)))
    ec = cfg2.setdefault("eval", {})
    try:
        ec["seeds"] = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        raise SystemExit(f"--seeds {args.seeds!r}: expected comma-separated whole numbers, e.g. 0,1") from None
    if args.identities:
        ec["identities"] = args.identities
    command = "cd training && PYTHONPATH=. ../.venv/bin/python -m photoverse_train.probe_base " + shlex.join(
        (argv if argv is not None else sys.argv[1:]))
    tokenizer = resolve_path(cfg["tokenizer"])
    if args.vae_only:  # the evaluation needs a base folder; its UNet draws nothing here
        out = work / "probe" / f"vae-{vae_dir.name}"
        payload = probe(cfg2, work, build_unet(cfg["unet"]["model"]), out, s1 / "clip", vae_dir, tokenizer, command,
                        log=log.info, rows=[])
        trip = next(r for r in payload["reference_rows"] if r["key"] == "vae_round_trip")
        log.info(f"[probe] {vae_dir}: round-trip prompt accuracy {trip['acc_mean']:.3f} -> {out / 'PROBE.md'}")
        return 0
    unet, step, trained_on = probe_unet(cfg["unet"]["model"], source)
    log.info(f"[probe] UNet step {step} from {source}")
    out = work / "probe" / f"base-{step:06d}"
    payload = probe(cfg2, work, unet, out, s1 / "clip", vae_dir, tokenizer, command, trained_on, log=log.info)
    log.info(f"[probe] step {step}: base prompt accuracy {payload['rows'][0]['acc_mean']:.3f} -> {out / 'PROBE.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
