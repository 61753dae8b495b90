"""Shared pytest fixtures: the location of ../shared/benchmarks, skipped cleanly when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_benchmarks_dir() -> Path:
    """Return the benchmark data folder: $NNCS_SHARED_BENCHMARKS or ../shared/benchmarks beside the repo."""
    env = os.environ.get("NNCS_SHARED_BENCHMARKS")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "benchmarks"


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    """The benchmark data folder; skips the test with a clear message when it is missing."""
    path = shared_benchmarks_dir()
    if not path.is_dir():
        pytest.skip(f"benchmark data not found at {path} (set NNCS_SHARED_BENCHMARKS)")
    return path
