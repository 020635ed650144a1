"""Logging to a file (and the console) plus tqdm bars that stay readable in a log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from tqdm import tqdm

from . import dist

LOG = logging.getLogger("photoverse_train")


def setup_logging(logfile=None, level=logging.INFO):
    """Log lines go to stderr and (main rank) to `logfile`, appended."""
    LOG.setLevel(level if dist.is_main() else logging.WARNING)  # one voice per run
    LOG.propagate = False
    fmt = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler) for h in LOG.handlers):
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(fmt)
        LOG.addHandler(h)
    if logfile and dist.is_main():
        logfile = str(Path(logfile).resolve())
        if not any(isinstance(h, logging.FileHandler) and h.baseFilename == logfile for h in LOG.handlers):
            Path(logfile).parent.mkdir(parents=True, exist_ok=True)
            h = logging.FileHandler(logfile)
            h.setFormatter(fmt)
            LOG.addHandler(h)
    return LOG


def progress(total: int, desc: str, initial: int = 0, **kw):
    """A tqdm bar on the main rank; when stderr is not a terminal (nohup, log files) it redraws
    at most every 30 s so the log stays small."""
    tty = sys.stderr.isatty()
    return tqdm(total=total, initial=initial, desc=desc, disable=not dist.is_main() or kw.pop("disable", False),
                mininterval=0.5 if tty else 30.0, dynamic_ncols=tty, ascii=not tty, file=sys.stderr, **kw)
