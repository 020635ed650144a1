"""The two-lane schedule of `train_mini --lanes 2` (lanes.py): what runs beside what, and that a
failure stops both lanes."""

import os
import signal
import subprocess
import sys

import torch
from train_helpers import TRAINING  # noqa: F401  (puts training/ on sys.path)

from photoverse_train.common.loop import DEADLINE_EXIT
from photoverse_train.lanes import SPARE_CORES_SIGNAL, run_plan, start_child_command, take_spare_cores, two_lane_plan
from photoverse_train.train_mini import STAGE2_VARIANTS, STAGES, lane_argv, parse_args


def _stages(step):
    return step.only.split(",")


def test_plan_covers_every_stage_once_and_respects_dependencies():
    plan = two_lane_plan()
    seen = [s for ph in plan.phases for step in (ph.main, ph.beside) if step for s in _stages(step)]
    assert sorted(set(seen)) == sorted(STAGES)
    assert seen.count("stage2") == 2 and len(seen) == len(STAGES) + 1
    variants = [v for ph in plan.phases for step in (ph.main, ph.beside) if step and step.only == "stage2"
                for v in step.variants.split(",")]
    assert sorted(variants) == sorted(STAGE2_VARIANTS)
    phase_of = {}
    for i, ph in enumerate(plan.phases):
        for step in (ph.main, ph.beside):
            if step:
                for s in _stages(step):
                    phase_of.setdefault(s, i)
    # everything needs the data; stage 2 needs the exported base and the identity net; the
    # evaluation needs every adapter and the evaluator/attribute nets
    assert all(phase_of[s] > phase_of["data"] for s in STAGES if s != "data")
    assert phase_of["stage2"] > max(phase_of["export"], phase_of["identity"])
    assert phase_of["evaluate"] > max(phase_of["stage2"], phase_of["evaluator"], phase_of["attributes"])
    assert plan.phases[2].main.variants == "full"   # the shipped adapter on the main lane


class FakeChild:
    """Ends with `rc` after `polls` polls (a running child answers None); records signals.
    `on_poll` runs at each poll (a test's hook into the runner's loop)."""

    def __init__(self, events, argv, rc, polls=1, on_poll=None):
        self.argv, self.rc, self.events, self.polls, self.on_poll = argv, rc, events, polls, on_poll
        self.terminated, self.signals, self.ended, self.waited = False, [], False, False

    def poll(self):
        if self.on_poll:
            self.on_poll()
        if self.ended:
            return -15 if self.terminated else self.rc
        self.polls -= 1
        if self.polls > 0 and not self.terminated:
            return None
        self.ended = True
        self.events.append(("end", self.argv[-1]))
        return -15 if self.terminated else self.rc

    def wait(self):
        self.waited = True
        return self.poll()

    def terminate(self):
        self.terminated = True

    def send_signal(self, sig):
        self.signals.append(sig)


def _run(plan, start, log=lambda _: None, **kw):
    return run_plan(plan, ["--config", "c"], log=log, start=start, poll_seconds=0, resend_seconds=0, **kw)


UNET, NETS = "vae,vae_decoder,clip,unet,decoder_refine,export", "attributes,identity,evaluator"


def test_lanes_run_side_by_side_in_phase_order():
    events = []

    def start(argv):
        events.append(("start", argv[-1]))
        return FakeChild(events, argv, 0)

    assert _run(two_lane_plan(), start) == 0
    starts = [e[1] for e in events if e[0] == "start"]
    assert starts == ["data", NETS, UNET, "no_reg,no_face", "full", "evaluate,publish"]
    # the beside-process of a phase is started before the main one finishes
    assert events.index(("start", NETS)) < events.index(("end", UNET))


def test_the_lane_that_runs_on_is_given_the_freed_core_a_bounded_number_of_times():
    children, logged = {}, []

    def start(argv):
        # the second lane's nets end first; the UNet lane runs on for many more polls
        child = FakeChild([], argv, 0, polls=40 if argv[-1] == UNET else 1)
        children[argv[-1]] = child
        return child

    assert _run(two_lane_plan(), start, logged.append, max_sends=3) == 0
    # sent again (a child still starting up ignores it), but not for the rest of a 5-hour run
    assert children[UNET].signals == [SPARE_CORES_SIGNAL] * 3
    assert children[NETS].signals == [] and children["data"].signals == []
    assert f"[lanes] --only {NETS} done; --only {UNET} takes its core" in logged


def test_a_failure_stops_both_lanes_and_is_the_exit_status():
    events, children, logged = [], [], []

    def start(argv):
        events.append(("start", argv[-1]))
        child = FakeChild(events, argv, 3 if argv[-1] == UNET else 0, polls=1 if argv[-1] == UNET else 4)
        children.append(child)
        return child

    assert _run(two_lane_plan(), start, logged.append) == 3
    assert [c.argv[-1] for c in children if c.terminated] == [NETS]
    assert "evaluate,publish" not in [e[1] for e in events]
    assert f"[lanes] --only {UNET} failed (exit 3); stopping" in logged
    assert f"[lanes] --only {NETS} ended (the other lane failed)" in logged


def test_a_failure_in_the_second_lane_stops_the_first_and_is_the_one_reported():
    children, logged = [], []

    def start(argv):
        child = FakeChild([], argv, 4 if argv[-1] == "no_reg,no_face" else 0, polls=9 if argv[-1] == "full" else 1)
        children.append(child)
        return child

    assert _run(two_lane_plan(), start, logged.append) == 4
    assert [c.argv[-1] for c in children if c.terminated] == ["full"]
    assert "[lanes] --only stage2 --variants no_reg,no_face failed (exit 4); stopping" in logged


def test_a_deadline_in_one_lane_lets_the_other_save_and_stop_by_itself():
    children, logged = [], []

    def start(argv):
        child = FakeChild([], argv, DEADLINE_EXIT if argv[-1] in (UNET, NETS) else 0, polls=1 if argv[-1] == UNET else 3)
        children.append(child)
        return child

    assert _run(two_lane_plan(), start, logged.append) == DEADLINE_EXIT
    assert not any(c.terminated for c in children)
    assert f"[lanes] --only {UNET} stopped at its deadline (exit {DEADLINE_EXIT})" in logged


def test_a_real_failure_after_a_deadline_is_what_the_run_reports():
    def start(argv):
        return FakeChild([], argv, DEADLINE_EXIT if argv[-1] == UNET else (1 if argv[-1] == NETS else 0),
                         polls=1 if argv[-1] == UNET else 3)

    assert _run(two_lane_plan(), start) == 1  # not 75, which would say "run it again"


def test_a_child_ended_by_a_signal_gives_128_plus_the_signal():
    def start(argv):
        return FakeChild([], argv, -9 if argv[-1] == "data" else 0)

    assert _run(two_lane_plan(), start) == 128 + 9


def test_stopping_the_runner_ends_the_children_it_started():
    children, logged = [], []

    def start(argv):
        fired = []

        def sigterm_once():
            if not fired:
                fired.append(True)
                os.kill(os.getpid(), signal.SIGTERM)

        hook = sigterm_once if argv[-1] == UNET else None
        child = FakeChild([], argv, 0, polls=100, on_poll=hook)
        children.append(child)
        return child

    before = signal.getsignal(signal.SIGTERM)
    assert _run(two_lane_plan(), lambda argv: FakeChild([], argv, 0) if argv[-1] == "data" else start(argv),
                logged.append) == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before
    assert [c.argv[-1] for c in children] == [NETS, UNET]
    assert all(c.terminated and c.waited for c in children)
    assert logged[-1] == "[lanes] stopped by SIGTERM; ending the lanes still running"


def test_a_lane_that_cannot_start_does_not_leave_the_other_running():
    children = []

    def start(argv):
        if argv[-1] == UNET:
            raise OSError("cannot start")
        child = FakeChild([], argv, 0, polls=100 if argv[-1] == NETS else 1)
        children.append(child)
        return child

    try:
        _run(two_lane_plan(), start)
        raise AssertionError("the start failure was swallowed")
    except OSError:
        pass
    nets = [c for c in children if c.argv[-1] == NETS]
    assert len(nets) == 1 and nets[0].terminated and nets[0].waited


def test_a_child_takes_the_spare_cores_when_signalled():
    before_threads, before_handler = torch.get_num_threads(), signal.getsignal(SPARE_CORES_SIGNAL)
    try:
        torch.set_num_threads(1)
        take_spare_cores(2)
        os.kill(os.getpid(), SPARE_CORES_SIGNAL)
        assert torch.get_num_threads() == 2
    finally:
        signal.signal(SPARE_CORES_SIGNAL, before_handler)
        torch.set_num_threads(before_threads)


def test_every_lane_child_is_told_how_many_threads_to_take_and_starts_deaf_to_the_signal():
    argv = lane_argv(parse_args(["--threads", "1", "--lanes", "2"]))
    assert argv[argv.index("--threads-alone") + 1] == str(min(2, os.cpu_count()))
    # a child that has not installed its handler yet must survive the signal
    before = signal.getsignal(SPARE_CORES_SIGNAL)
    try:
        child = start_child_command([sys.executable, "-c", "import os, signal, time; time.sleep(0.5); "
                                     "print(signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN)"], stdout=subprocess.PIPE)
        child.send_signal(SPARE_CORES_SIGNAL)
        out, _ = child.communicate(timeout=60)
    finally:
        signal.signal(SPARE_CORES_SIGNAL, before)
    assert child.returncode == 0 and out.strip() == "True"


def test_a_child_ignores_the_signal_once_it_starts_to_exit():
    # Python's shutdown would put the handler back to the default action (ending the process with
    # -10 after a successful run, seen on a real two-lane run); the child's atexit step prevents it
    script = ("import atexit, signal; from photoverse_train.lanes import take_spare_cores, SPARE_CORES_SIGNAL; "
              "take_spare_cores(2); atexit._run_exitfuncs(); "
              "print(signal.getsignal(SPARE_CORES_SIGNAL) == signal.SIG_IGN)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TRAINING, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr
