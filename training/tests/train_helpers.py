"""Shared bits of the training-pipeline tests: the tiny config and a small rendered data set."""

import functools
import sys
import tempfile
from pathlib import Path

TRAINING = Path(__file__).resolve().parents[1]
REPO = TRAINING.parent
if str(TRAINING) not in sys.path:
    sys.path.insert(0, str(TRAINING))

import torch  # noqa: E402

from photoverse_train.common import datacache  # noqa: E402
from photoverse_train.common.config import load_config  # noqa: E402

# One thread: the tiny models gain nothing from more, and a second thread fights whatever else
# runs on a 2-core machine (a background training run) and is many times slower then.
torch.set_num_threads(1)

TINY_CONFIG = TRAINING / "configs" / "tiny.yaml"
TOKENIZER = REPO / "Tests" / "Fixtures" / "clip-tokenizer"


def tiny_config(*overrides):
    return load_config(TINY_CONFIG, overrides)


@functools.lru_cache(maxsize=1)
def _tiny_data(folder: str):
    cfg = tiny_config()["data"]
    paths = datacache.build(cfg, folder)
    return datacache.load(paths["train"]), datacache.load(paths["heldout"])


def tiny_data(tmp_path_factory=None):
    """(train, heldout) dicts of the tiny config's data set (rendered once per session)."""
    folder = Path(tempfile.gettempdir()) / "photoverse-tiny-data-v1"
    return _tiny_data(str(folder))
