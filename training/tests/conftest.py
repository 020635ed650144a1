import sys
from pathlib import Path

# The fixture scripts are plain modules under training/fixtures.
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training" / "fixtures"))
sys.modules.setdefault("torchvision", None)  # see training/requirements-nodeps.txt
