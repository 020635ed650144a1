"""The two-lane schedule of `train_mini --lanes 2` (lanes.py): what runs beside what, and that a
failure stops both lanes."""

from train_helpers import TRAINING  # noqa: F401  (puts training/ on sys.path)

from photoverse_train.lanes import run_plan, two_lane_plan
from photoverse_train.train_mini import STAGES, STAGE2_VARIANTS


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
    def __init__(self, events, argv, rc):
        self.argv, self.rc, self.events = argv, rc, events
        self.terminated = False

    def wait(self):
        self.events.append(("end", self.argv[-1]))
        return -15 if self.terminated else self.rc

    def terminate(self):
        self.terminated = True


def test_lanes_run_side_by_side_in_phase_order():
    events = []

    def start(argv):
        events.append(("start", argv[-1]))
        return FakeChild(events, argv, 0)

    assert run_plan(two_lane_plan(), ["--config", "c"], log=lambda _: None, start=start) == 0
    starts = [e[1] for e in events if e[0] == "start"]
    assert starts == ["data", "attributes,identity,evaluator", "vae,clip,unet,export", "no_reg,no_face", "full",
                      "evaluate,publish"]
    # the beside-process of a phase is started before the main one finishes
    assert events.index(("start", "attributes,identity,evaluator")) < events.index(("end", "vae,clip,unet,export"))


def test_a_failure_stops_both_lanes_and_is_the_exit_status():
    events, children = [], []

    def start(argv):
        events.append(("start", argv[-1]))
        child = FakeChild(events, argv, 3 if argv[-1] == "vae,clip,unet,export" else 0)
        children.append(child)
        return child

    logged = []
    assert run_plan(two_lane_plan(), [], log=logged.append, start=start) == 3
    assert [c.argv[-1] for c in children if c.terminated] == ["attributes,identity,evaluator"]
    assert "evaluate,publish" not in [e[1] for e in events]
    assert "failed (exit 3)" in logged[-1]
