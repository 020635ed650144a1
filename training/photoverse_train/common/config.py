"""YAML configs (training/configs/*.yaml) with dotted command-line overrides."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

TRAINING_DIR = Path(__file__).resolve().parents[2]
REPO_ROOT = TRAINING_DIR.parent


def load_config(path, overrides=()) -> dict:
    """Read a YAML config; `overrides` are "a.b.c=value" strings (value parsed as YAML)."""
    with open(path) as f:
        cfg = yaml.safe_load(f) or {}
    return apply_overrides(cfg, overrides)


def apply_overrides(cfg: dict, overrides=()) -> dict:
    cfg = copy.deepcopy(cfg)
    for item in overrides:
        key, _, value = item.partition("=")
        if not _:
            raise ValueError(f"override {item!r} is not key=value")
        node = cfg
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = yaml.safe_load(value)
    return cfg


def merge(base: dict, extra: dict) -> dict:
    """Recursive dict merge (extra wins)."""
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def resolve_path(p, base: Path = REPO_ROOT) -> Path:
    """Relative paths in configs are relative to the repository root."""
    p = Path(p)
    return p if p.is_absolute() else base / p
