"""Per-stage locks in a work folder (<work>/.lock.<unit>, flock): two runs may share a work folder
and train different stages side by side, never the same one. Units: a stage name, or
stage2-<variant> for one stage-2 adapter; train_mini and stage2.train take the same ones."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def lock_units(work, units, log) -> list | None:
    """Holds every unit's lock (kept while the returned files stay open), or logs which one
    another run holds and returns None (taking none)."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    held = []
    for unit in units:
        f = open(work / f".lock.{unit}", "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            for h in held:
                h.close()
            log.error(f"another training run holds {work / f'.lock.{unit}'} ({unit}); not starting a second one")
            return None
        f.write(str(os.getpid()))
        f.flush()
        held.append(f)
    return held
