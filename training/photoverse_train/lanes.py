"""Two lanes for a 2-core machine (`train_mini --lanes 2`, what `make train-mini` runs): every
trainer uses one torch thread, so a second process trains what does not wait on the main line
beside it. The main lane runs stage 1 and the shipped adapter; the second lane trains the
evaluation networks beside the VAE/CLIP/UNet, then the two ablation adapters beside the full one.

    main lane    data | vae, vae_decoder, clip, | stage2 full            | evaluate, publish
                        unet, decoder_refine,   |                        |
                        export                  |                        |
    second lane         attributes, identity,   | stage2 no_reg, no_face |
                        evaluator

Each step is a `train_mini --only ...` child process, so the per-stage locks, resume and logs
are the ordinary ones; a failed step stops the other lane. When one lane's step ends while the
other's runs on, the survivor is told (SPARE_CORES_SIGNAL) to take the freed core too: the
second lane's networks take under an hour beside the UNet's ten, and the UNet runs 1.97x as fast
on two threads (configs/mini.yaml, TIME PLAN). Children start with that signal ignored, so one
that arrives before a child has installed its handler is lost, not fatal; it is sent a few times,
`resend_seconds` apart, to reach a child still starting up."""

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
        Phase(Step("vae,vae_decoder,clip,unet,decoder_refine,export"), Step("attributes,identity,evaluator")),
        Phase(Step("stage2", headline), Step("stage2", ",".join(ablations)) if ablations else None),
        Phase(Step("evaluate,publish")),
    ])


def take_spare_cores(threads_alone: int) -> None:
    """In a child: on SPARE_CORES_SIGNAL, go on with `threads_alone` torch threads. The handler
    only sets the thread count (a C call; the runner logs the hand-over): logging from a handler
    could re-enter a log write the signal interrupted."""

    def widen(signum, frame):
        torch.set_num_threads(threads_alone)

    signal.signal(SPARE_CORES_SIGNAL, widen)
    # Python's shutdown puts a handled signal back to its default action (which ends the process)
    # and the runner may send it once more while this child exits: ignore it from the first
    # exit step on, or a finished lane would be reported killed.
    atexit.register(signal.signal, SPARE_CORES_SIGNAL, signal.SIG_IGN)


def start_child(argv: list) -> subprocess.Popen:
    """One train_mini child."""
    return start_child_command([sys.executable, "-m", "photoverse_train.train_mini", *argv])


def start_child_command(command: list, stdout=None) -> subprocess.Popen:
    """SPARE_CORES_SIGNAL is ignored in the runner, so in the child until it installs its handler
    (an ignored signal stays ignored across fork and exec; its default action would end it)."""
    signal.signal(SPARE_CORES_SIGNAL, signal.SIG_IGN)
    return subprocess.Popen(command, stdout=stdout, text=True)


class Stopped(Exception):
    """The runner was asked to stop (SIGTERM)."""


def run_plan(plan: Plan, common_argv: list, log=print, start=None, poll_seconds: float = 1.0,
             resend_seconds: float = 30.0, max_sends: int = 5) -> int:
    """Runs the phases in order; `start(argv) -> Popen` starts one child (tests replace it).
    Returns 0, the exit status of the lane that failed (a real failure before a deadline's 75),
    or 128 + N for a child ended by signal N. Children still running when the runner itself
    stops (SIGTERM, an error) are terminated and waited for, so no stage lock outlives it."""
    start = start or start_child
    previous = signal.signal(signal.SIGTERM, _raise_stopped)
    children = []
    try:
        for phase in plan.phases:
            log(f"[lanes] {' '.join(phase.main.argv())}"
                + (f"  beside  {' '.join(phase.beside.argv())}" if phase.beside else ""))
            steps = [phase.main] + ([phase.beside] if phase.beside else [])
            children = []
            for step in reversed(steps):  # the beside-lane first: it does not wait on the main one
                children.insert(0, start(common_argv + step.argv()))
            lanes = list(zip(steps, children))
            codes, worst = wait_for_lanes(lanes, log, poll_seconds, resend_seconds, max_sends)
            if worst is not None:
                return exit_status(codes[worst])
        return 0
    except Stopped:
        log("[lanes] stopped by SIGTERM; ending the lanes still running")
        return exit_status(-signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
        for child in children:
            if child.poll() is None:
                child.terminate()
                child.wait()


def _raise_stopped(signum, frame):
    raise Stopped()


def exit_status(code: int) -> int:
    """A child's return code as a process exit status (-N, ended by signal N: 128 + N)."""
    return 128 - code if code < 0 else code


def wait_for_lanes(lanes: list, log, poll_seconds: float, resend_seconds: float, max_sends: int) -> tuple:
    """Waits for every (step, child). A failure terminates the others (a deadline, 75, does not:
    they stop at the same deadline after a save); a success while another runs hands that one
    the freed core (SPARE_CORES_SIGNAL, sent max_sends times resend_seconds apart: enough to
    reach a child still starting up, which ignores it until its handler is in place).
    Returns the exit codes in the order given and the index of the lane whose code the run
    ends with (a real failure wins over a deadline; None: all succeeded)."""
    codes, worst, ended_by_us = [None] * len(lanes), None, set()
    sent_at, sends = None, 0
    while any(c is None for c in codes):
        for n, (step, child) in enumerate(lanes):
            if codes[n] is not None or (rc := child.poll()) is None:
                continue
            codes[n] = rc
            running = [(s, c) for m, (s, c) in enumerate(lanes) if codes[m] is None]
            if n in ended_by_us:
                log(f"[lanes] {' '.join(step.argv())} ended (the other lane failed)")
            elif rc == DEADLINE_EXIT:
                log(f"[lanes] {' '.join(step.argv())} stopped at its deadline (exit {rc})")
            elif rc != 0:
                log(f"[lanes] {' '.join(step.argv())} failed (exit {rc}); stopping")
                for m, (_, other) in enumerate(lanes):
                    if codes[m] is None:
                        other.terminate()
                        ended_by_us.add(m)
            elif running:
                log(f"[lanes] {' '.join(step.argv())} done; {' '.join(running[0][0].argv())} takes its core")
                sent_at, sends = -float("inf"), max_sends
            if rc != 0 and n not in ended_by_us and (worst is None or (codes[worst] == DEADLINE_EXIT and rc != DEADLINE_EXIT)):
                worst = n
        if sends > 0 and any(c is None for c in codes) and time.monotonic() - sent_at >= resend_seconds:
            sent_at, sends = time.monotonic(), sends - 1
            for (_, child), rc in zip(lanes, codes):
                if rc is None:
                    child.send_signal(SPARE_CORES_SIGNAL)
        if any(c is None for c in codes):
            time.sleep(poll_seconds)
    return codes, worst
