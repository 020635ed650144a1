"""The one command that rebuilds PhotoVerse-mini from nothing:

    .venv/bin/python -m photoverse_train.train_mini [--config training/configs/mini.yaml]
        [--work training/work] [--threads 1] [--no-resume] [--only data,vae,...] [--set key=value ...]
        [--device auto|cpu|cuda] [--stop-at UNIX_TIME] [--results FILE] [--publish-dir DIR]
    (run with training/ on PYTHONPATH; `make train-mini` does it)

Stages, in order; each is skipped when its final output exists (a DONE.json beside it) and
resumes from its last checkpoint (<work>/checkpoints/*.pt, written atomically every
--checkpoint-minutes) otherwise:

  data        synthetic identities -> <work>/data/{train,heldout}.npz
  vae         <work>/stage1/vae
  vae_decoder <work>/stage1/vae-decoder (the VAE fine-tuned with a discriminator: the decoder, and
              the encoder with vae_decoder.train_encoder; only when the config has a vae_decoder
              section; then the UNet trains on its latents and the export ships it)
  clip        <work>/stage1/clip/{text_encoder,image_encoder}
  unet        <work>/stage1/unet       (latents and text states cached in <work>/cache)
  decoder_refine <work>/stage1/vae-refined (only with a decoder_refine section: the adversarial
              stage again on the decoder alone, encoder frozen, after the UNet, whose latents
              stay valid; the export ships it)
  attributes  <work>/nets/attributes   (prompt accuracy)
  identity    <work>/nets/identity     (ArcFace's part in the stage-2 face loss)
  evaluator   <work>/nets/evaluator    (scores identity similarity; never trained against)
  export      <work>/export/mini-base  (diffusers layout, fp16 safetensors)
  stage2      <work>/stage2/{full,no_face,no_reg}  (PhotoVerse adapters on the frozen base,
              configs/mini_stage2.yaml; the two ablation variants feed the evaluation table)
  evaluate    training/RESULTS.md      (held-out identities; the table of the issue)
  publish     Models/mini              (the embedded model: base + adapter + card + references)

Logs: <work>/train.log; sample grids: <work>/samples/*.png. Under torchrun every trainer runs
data-parallel (gloo on CPU, nccl on GPUs), rank 0 writes files:

    cd training && PYTHONPATH=. ../.venv/bin/torchrun --nproc_per_node 2 \
        -m photoverse_train.train_mini --config configs/tiny.yaml --work /tmp/pv-ddp

On one GPU every stage runs unchanged with --device cuda (default auto: cuda when torch sees one);
checkpoints hold CPU tensors, so CPU and GPU runs continue each other's stages. --stop-at
UNIX_TIME ends a budgeted run at a step boundary (checkpoint saved, exit 75);
training/gpu_rebuild.sh is the budgeted GPU rebuild.

configs/sd15.yaml is the same trainer at SD1.5 scale: a pretrained SD1.5 folder as the frozen
base (stage 1 skipped) and a folder of real photos (one sub-folder per person) as data."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
from transformers import CLIPTextModel

from .common import datacache, dist
from .common.checkpoint import is_done, mark_done
from .common.config import REPO_ROOT, TRAINING_DIR, load_config, resolve_path
from .common.loop import set_stop_at
from .common.progress import setup_logging
from .common.worklock import lock_units
from .lanes import run_plan, take_spare_cores, two_lane_plan
from .stage1.clip import train_clip
from .stage1.models import load_tokenizer
from .stage1.unet import train_unet
from .stage1.vae import train_vae
from .stage1.vae_decoder import train_vae_decoder

STAGES = ("data", "vae", "vae_decoder", "clip", "unet", "decoder_refine", "attributes", "identity", "evaluator", "export",
          "stage2", "evaluate", "publish")
STAGE2_VARIANTS = ("full", "no_face", "no_reg")
# stages a stage trains on the way when they are missing (the UNet needs its VAE): their locks too
PREREQUISITES = {"unet": ("vae", "vae_decoder")}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(TRAINING_DIR / "configs" / "mini.yaml"))
    ap.add_argument("--work", default=str(TRAINING_DIR / "work"))
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads per process (default 1)")
    ap.add_argument("--threads-alone", type=int, default=0, metavar="N",
                    help="a lane's child: N threads once the other lane has ended (set by --lanes 2)")
    ap.add_argument("--resume", dest="resume", action="store_true", default=True,
                    help="continue from the last checkpoints (default)")
    ap.add_argument("--no-resume", dest="resume", action="store_false", help="ignore existing checkpoints")
    ap.add_argument("--only", default="", help="comma-separated stages to run (default: all)")
    ap.add_argument("--variants", default="", help="stage-2 variants to train (default: all); two runs may train "
                    "different variants side by side, one per core")
    ap.add_argument("--lanes", type=int, default=1, choices=(1, 2),
                    help="2: a second process trains beside the main line (lanes.py); whole runs only")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override, e.g. unet.train.steps=10; stage2.KEY=VALUE overrides the stage-2 config")
    ap.add_argument("--checkpoint-minutes", type=float, default=5.0)
    ap.add_argument("--stop-at", type=float, default=0.0, metavar="UNIX_TIME",
                    help="wall-clock deadline: a trainer that reaches it saves its checkpoint and the run exits "
                    "with status 75 (run again to resume); gpu_rebuild.sh uses it to keep a time budget")
    ap.add_argument("--results", default="", help="where the evaluate stage writes its table "
                    "(default training/RESULTS.md)")
    ap.add_argument("--publish-dir", default="", help="where the publish stage writes the model (default Models/mini)")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="where every stage computes: cuda = cuda:LOCAL_RANK, auto = cuda when torch sees a GPU "
                    "(default); checkpoints hold CPU tensors, so a run may continue on the other device")
    return ap.parse_args(argv)


def vae_folders(cfg: dict, s1: Path) -> tuple:
    """(the VAE the UNet trains on, the VAE the export ships): the adversarial stage's when the
    config has one, and the decoder refined after the UNet when it has that too."""
    unet_vae = s1 / ("vae-decoder" if cfg.get("vae_decoder") else "vae")
    return unet_vae, (s1 / "vae-refined" if cfg.get("decoder_refine") else unet_vae)


def lane_argv(args) -> list:
    """The options every child of a two-lane run shares."""
    out = ["--config", args.config, "--work", args.work, "--threads", str(args.threads),
           "--threads-alone", str(min(2 * args.threads, os.cpu_count() or 1)),
           "--checkpoint-minutes", str(args.checkpoint_minutes), "--device", args.device]
    if args.stop_at:
        out += ["--stop-at", repr(args.stop_at)]
    if args.results:
        out += ["--results", args.results]
    if args.publish_dir:
        out += ["--publish-dir", args.publish_dir]
    for kv in args.set:
        out += ["--set", kv]
    return out + ([] if args.resume else ["--no-resume"])


def main(argv=None):
    args = parse_args(argv)
    if args.lanes == 2 and not args.only and os.environ.get("WORLD_SIZE", "1") == "1":
        Path(args.work).mkdir(parents=True, exist_ok=True)
        log = setup_logging(Path(args.work) / "train.log")
        variants = [v for v in args.variants.split(",") if v] or list(STAGE2_VARIANTS)
        t = time.time()
        rc = run_plan(two_lane_plan(variants), lane_argv(args), log=log.info)
        log.info(f"=== train_mini (two lanes) finished in {(time.time() - t) / 60:.1f} min, exit {rc}")
        return rc
    torch.set_num_threads(max(1, args.threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    dist.set_device(args.device)
    dist.init_distributed()
    if args.stop_at:
        set_stop_at(args.stop_at)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    log = setup_logging(work / "train.log")
    if args.threads_alone > args.threads:
        take_spare_cores(args.threads_alone)
    only = [s for s in args.only.split(",") if s] or list(STAGES)
    for s in only:
        if s not in STAGES:
            raise SystemExit(f"unknown stage {s!r}; stages: {', '.join(STAGES)}")
    # one lock per stage: two runs may share the work folder (2 cores: the nets beside the UNet)
    # but never run the same stage twice
    variants = [v for v in args.variants.split(",") if v] or list(STAGE2_VARIANTS)
    for v in variants:
        if v not in STAGE2_VARIANTS:
            raise SystemExit(f"unknown stage-2 variant {v!r}; variants: {', '.join(STAGE2_VARIANTS)}")
    units = [u for s in only for u in ([f"stage2-{v}" for v in variants] if s == "stage2" else [s])]
    units += [p for s in only for p in PREREQUISITES.get(s, ()) if p not in units]
    locks = None
    if dist.is_main():
        locks = lock_units(work, units, log)
        if locks is None:
            return 2
    cfg = load_config(args.config, args.set)
    ckpt_s = args.checkpoint_minutes * 60
    log.info(f"=== train_mini: config {args.config}, work {work}, threads {args.threads}, "
             f"world {dist.world_size()}, device {dist.device()}, stages {','.join(only)}, resume {args.resume}")
    t_all = time.time()
    common = dict(resume=args.resume, checkpoint_seconds=ckpt_s)

    def timed(name, fn):
        t = time.time()
        log.info(f"--- stage {name}")
        out = fn()
        log.info(f"--- stage {name} finished in {(time.time() - t) / 60:.1f} min")
        return out

    # data (rank 0 generates, the others wait)
    data_dir = work / "data"
    data_kind = cfg["data"].get("kind", "synthetic")
    if data_kind not in ("synthetic", "folder"):
        raise SystemExit(f"data.kind {data_kind!r}: expected synthetic (rendered faces) or folder "
                         "(data.path/<person>/<photo>.jpg)")
    if dist.is_main():
        if data_kind == "folder":
            timed("data", lambda: datacache.build_from_folder(cfg["data"], data_dir))
        else:
            timed("data", lambda: datacache.build(cfg["data"], data_dir))
    dist.barrier()
    if only == ["data"]:
        return 0
    train = datacache.load(data_dir / "train.npz")
    held = datacache.load(data_dir / "heldout.npz")
    tok_dir = resolve_path(cfg["tokenizer"])
    tokenizer = load_tokenizer(tok_dir)
    s1 = work / "stage1"
    nets = work / "nets"
    pretrained = (cfg.get("base") or {}).get("pretrained")
    if pretrained:
        # SD1.5 scale: the base model is a pretrained diffusers folder; stage 1 is not trained
        log.info(f"[base] pretrained base model {resolve_path(pretrained)}: skipping vae, clip, unet, export")
        only = [s for s in only if s not in ("vae", "clip", "unet", "vae_decoder", "decoder_refine", "export")]
    vae = None
    if "vae" in only or "unet" in only:
        vae = timed("vae", lambda: train_vae(cfg["vae"], train, held, s1 / "vae", work, **common))
    # the VAE the UNet trains on and the export ships: the fine-tuned one when the config has one
    if cfg.get("vae_decoder") and ("vae_decoder" in only or "unet" in only):
        vae = timed("vae_decoder", lambda: train_vae_decoder(cfg["vae_decoder"], train, held, s1 / "vae",
                                                             s1 / "vae-decoder", work, **common))
    if "clip" in only:
        timed("clip", lambda: train_clip(cfg["clip"], tokenizer, train, held, s1 / "clip", work, **common))
    if "unet" in only:
        if not is_done(s1 / "clip"):
            raise SystemExit("the UNet needs the text encoder: run the clip stage first")
        te = CLIPTextModel.from_pretrained(s1 / "clip" / "text_encoder").eval()
        timed("unet", lambda: train_unet(cfg["unet"], vae, te, tokenizer, train, s1 / "unet", work, **common))
    unet_vae, shipped_vae = vae_folders(cfg, s1)
    if cfg.get("decoder_refine") and "decoder_refine" in only:
        if cfg["decoder_refine"].get("train_encoder"):
            raise SystemExit("decoder_refine.train_encoder: must be false (the refinement comes after the UNet, "
                             "whose latents it must keep)")
        timed("decoder_refine", lambda: train_vae_decoder(cfg["decoder_refine"], train, held, unet_vae, shipped_vae,
                                                          work, name="decoder_refine", **common))
    # The networks after the UNet re-read the config file and import their trainers where they
    # run, so a run that has been going for hours picks up the config and code as they are when
    # it reaches them.
    if any(s in only for s in ("attributes", "identity", "evaluator")):
        fresh = load_config(args.config, args.set)
        for k in ("attributes", "identity", "evaluator"):
            if fresh.get(k) != cfg.get(k):
                log.info(f"[config] {k}: using the config file as it is now: {fresh.get(k)}")
                cfg[k] = fresh.get(k)
    if "attributes" in only and cfg.get("attributes"):
        from .identity.train import train_attribute_net  # at the stage: a long run picks up code edited since

        timed("attributes", lambda: train_attribute_net(cfg["attributes"], train, held, nets / "attributes", work,
                                                        **common))
    if "identity" in only and cfg.get("identity"):
        from .identity.train import train_identity_net  # at the stage: a long run picks up code edited since

        timed("identity", lambda: train_identity_net("IdentityNet", cfg["identity"], train, held, nets / "identity",
                                                     work, **common))
    if "evaluator" in only and cfg.get("evaluator"):
        from .identity.train import train_identity_net  # at the stage: a long run picks up code edited since

        timed("evaluator", lambda: train_identity_net("EvaluatorNet", cfg["evaluator"], train, held,
                                                      nets / "evaluator", work, **common))
    if "export" in only and dist.is_main():
        from .export import export_base, folder_size  # at the stage: a long run picks up code edited since

        out = work / "export" / "mini-base"
        if is_done(out):
            log.info(f"[export] done already: {out}")
        else:
            timed("export", lambda: export_base(s1, tok_dir, out, vae_dir=shipped_vae,
                                                 preview_images=datacache.to_float(held["images"][:256])))
            mark_done(out)
            log.info(f"[export] {out}: {folder_size(out) / 2**20:.1f} MiB")
    dist.barrier()
    base = work / "export" / "mini-base"
    if any(s in only for s in ("stage2", "evaluate", "publish")) and not cfg.get("stage2_config"):
        log.info("[stage2] this config names no stage2_config: stopping after the base model")
        only = [s for s in only if s not in ("stage2", "evaluate", "publish")]
    if any(s in only for s in ("stage2", "evaluate", "publish")):
        stage2_config = resolve_path(cfg["stage2_config"], TRAINING_DIR)
        # --set stage2.KEY=VALUE reaches the stage-2 config (e.g. stage2.train.steps=2000)
        cfg2 = load_config(stage2_config, [kv[len("stage2."):] for kv in args.set if kv.startswith("stage2.")])
        if not is_done(base):
            raise SystemExit(f"stage 2 needs the exported base model {base}: run the earlier stages first")
    if "stage2" in only:
        from .stage2.train import train_stage2  # at the stage: a long run picks up code edited since

        for variant in variants:
            timed(f"stage2 {variant}", lambda: train_stage2(cfg2, variant, base, work, **common))
    if "evaluate" in only and dist.is_main():
        from .evaluate import evaluate_once, reproduce_command  # at the stage: a long run picks up code edited since

        results = Path(args.results).resolve() if args.results else TRAINING_DIR / "RESULTS.md"
        command = reproduce_command(stage2_config, base, work, results, args.threads)
        timed("evaluate", lambda: evaluate_once(cfg2, base, work, results, command, threads=args.threads, log=log.info))
    if "publish" in only and dist.is_main():
        from .export_mini import export_mini  # at the stage: a long run picks up code edited since

        publish_dir = Path(args.publish_dir).resolve() if args.publish_dir else REPO_ROOT / "Models" / "mini"
        timed("publish", lambda: export_mini(cfg2, base, work, publish_dir, "full", 5, cfg))
    dist.barrier()
    log.info(f"=== train_mini finished in {(time.time() - t_all) / 60:.1f} min")
    dist.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
