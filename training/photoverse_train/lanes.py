"""Two lanes for a 2-core machine (`train_mini --lanes 2`, what `make train-mini` runs): every
trainer uses one torch thread, so a second process trains what does not wait on the main line
beside it. The main lane runs stage 1 and the shipped adapter; the second lane trains the
evaluation networks beside the VAE/CLIP/UNet, then the two ablation adapters beside the full one.

    main lane    data | vae, clip, unet, export | stage2 full            | evaluate, publish
    second lane         attributes, identity,   | stage2 no_reg, no_face |
                        evaluator

Each step is a `train_mini --only ...` child process, so the per-stage locks, resume and logs
are the ordinary ones; a failed step stops the other lane."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field


@dataclass
class Step:
    only: str
    variants: str = ""

    def argv(self) -> list:
        return ["--only", self.only] + (["--variants", self.variants] if self.variants else [])


@dataclass
class Phase:
    """`main` runs in the foreground while `beside` runs in a second process."""

    main: Step
    beside: Step | None = None


@dataclass
class Plan:
    phases: list = field(default_factory=list)


def two_lane_plan(variants=("full", "no_face", "no_reg")) -> Plan:
    headline, ablations = variants[0], [v for v in variants[1:]][::-1]
    return Plan([
        Phase(Step("data")),
        Phase(Step("vae,clip,unet,export"), Step("attributes,identity,evaluator")),
        Phase(Step("stage2", headline), Step("stage2", ",".join(ablations)) if ablations else None),
        Phase(Step("evaluate,publish")),
    ])


def run_plan(plan: Plan, common_argv: list, log=print, start=None) -> int:
    """Runs the phases in order; `start(argv) -> Popen` starts one child (tests replace it)."""
    start = start or (lambda argv: subprocess.Popen([sys.executable, "-m", "photoverse_train.train_mini", *argv]))
    for phase in plan.phases:
        log(f"[lanes] {' '.join(phase.main.argv())}" + (f"  beside  {' '.join(phase.beside.argv())}" if phase.beside else ""))
        beside = start(common_argv + phase.beside.argv()) if phase.beside else None
        main = start(common_argv + phase.main.argv())
        rc_main = main.wait()
        if rc_main != 0 and beside is not None:
            beside.terminate()
        rc_beside = beside.wait() if beside is not None else 0
        if rc_main != 0 or rc_beside != 0:
            failed = phase.main if rc_main != 0 else phase.beside
            log(f"[lanes] {' '.join(failed.argv())} failed (exit {rc_main or rc_beside}); stopping")
            return rc_main or rc_beside
    return 0
