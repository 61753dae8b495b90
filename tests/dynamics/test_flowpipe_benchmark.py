"""Smoke test of benchmarks/flowpipes.py on the cheapest plant (no timing asserted)."""

import math

import nncs  # noqa: F401
from benchmarks import flowpipes


def test_measure_reports_positive_times_and_memory():
    r = flowpipes.measure("double_integrator")
    assert r["plant"] == "double_integrator" and r["method"] == "linear" and r["segments"] == 10
    for key in ("cold_s", "warm_s", "star_s", "peak_kib", "max_width"):
        assert r[key] > 0 and math.isfinite(r[key])
