"""Two lanes for a 2-core machine (`train_mini --lanes 2`, what `make train-mini` runs): every
trainer uses one torch thread, so a second process trains what does not wait on the main line
beside it. The main lane runs stage 1 and the shipped adapter; the second lane trains the
evaluation networks beside the VAE/CLIP/UNet, then the two ablation adapters beside the full one.

    main lane    data | vae, clip, unet, export | stage2 full            | evaluate, publish
    second lane         attributes, identity,   | stage2 no_reg, no_face |
                        evaluator

Each step is a `train_mini --only ...` child process, so the per-stage locks, resume and logs
are the ordinary ones; a failed step stops the other lane. When one lane's step ends while the
other's runs on, the survivor is told (SPARE_CORES_SIGNAL) to take the freed core too: the
second lane's networks take under an hour beside the UNet's ten, and the UNet runs 1.97x as fast
on two threads (configs/mini.yaml, TIME PLAN). Children start with that signal ignored, so one
that arrives before a child has installed its handler is lost, not fatal; it is sent again every
`resend_seconds` until the survivor ends."""

from __future__ import annotations

import atexit
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import torch

from .common.loop import DEADLINE_EXIT

# SIGUSR1: "the other lane has ended: use its threads too" (train_mini installs the handler).
SPARE_CORES_SIGNAL = signal.SIGUSR1


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


def take_spare_cores(threads_alone: int, log=print) -> None:
    """In a child: on SPARE_CORES_SIGNAL, go on with `threads_alone` torch threads (the handler
    runs between two Python bytecodes, so never inside a torch operation)."""

    def widen(signum, frame):
        if torch.get_num_threads() != threads_alone:
            torch.set_num_threads(threads_alone)
            log(f"[lanes] the other lane has ended: {threads_alone} torch threads from now on")

    signal.signal(SPARE_CORES_SIGNAL, widen)
    # Python's shutdown puts a handled signal back to its default action (which ends the process)
    # and the runner may send it once more while this child exits: ignore it from the first
    # exit step on, or a finished lane would be reported killed.
    atexit.register(signal.signal, SPARE_CORES_SIGNAL, signal.SIG_IGN)


def start_child(argv: list) -> subprocess.Popen:
    """One train_mini child."""
    return start_child_command([sys.executable, "-m", "photoverse_train.train_mini", *argv])


def start_child_command(command: list, stdout=None) -> subprocess.Popen:
    """SPARE_CORES_SIGNAL is ignored in the child until it installs its handler (an ignored
    signal stays ignored across exec; its default action would end the process)."""
    return subprocess.Popen(command, stdout=stdout, text=True,
                            preexec_fn=lambda: signal.signal(SPARE_CORES_SIGNAL, signal.SIG_IGN))


def run_plan(plan: Plan, common_argv: list, log=print, start=None, poll_seconds: float = 1.0,
             resend_seconds: float = 30.0) -> int:
    """Runs the phases in order; `start(argv) -> Popen` starts one child (tests replace it)."""
    start = start or start_child
    for phase in plan.phases:
        log(f"[lanes] {' '.join(phase.main.argv())}" + (f"  beside  {' '.join(phase.beside.argv())}" if phase.beside else ""))
        beside = start(common_argv + phase.beside.argv()) if phase.beside else None
        main = start(common_argv + phase.main.argv())
        lanes = [(phase.main, main)] + ([(phase.beside, beside)] if beside is not None else [])
        codes, first_failure = wait_for_lanes(lanes, log, poll_seconds, resend_seconds)
        if first_failure is not None:
            step, rc = lanes[first_failure][0], codes[first_failure]
            log(f"[lanes] {' '.join(step.argv())} failed (exit {rc}); stopping")
            return rc
    return 0


def wait_for_lanes(lanes: list, log, poll_seconds: float, resend_seconds: float) -> tuple:
    """Waits for every (step, child); a failure terminates the others; a success while another runs
    hands that one the freed core (SPARE_CORES_SIGNAL, repeated every resend_seconds).
    Returns the exit codes in the order given (a terminated child's is minus its signal) and the
    index of the first child that failed (None: all succeeded)."""
    codes, first_failure = [None] * len(lanes), None
    widened_at = None
    while any(c is None for c in codes):
        for n, (step, child) in enumerate(lanes):
            if codes[n] is not None or (rc := child.poll()) is None:
                continue
            codes[n] = rc
            running = [(s, c) for m, (s, c) in enumerate(lanes) if codes[m] is None]
            if rc != 0:
                first_failure = n if first_failure is None else first_failure
                if rc != DEADLINE_EXIT:  # at --stop-at the others stop by themselves, after a save
                    for _, other in running:
                        other.terminate()
            elif running:
                log(f"[lanes] {' '.join(step.argv())} done; {' '.join(running[0][0].argv())} takes its core")
                widened_at = -float("inf")
        if widened_at is not None and any(c is None for c in codes) and time.monotonic() - widened_at >= resend_seconds:
            widened_at = time.monotonic()
            for (_, child), rc in zip(lanes, codes):
                if rc is None:
                    child.send_signal(SPARE_CORES_SIGNAL)
        if any(c is None for c in codes):
            time.sleep(poll_seconds)
    return codes, first_failure
