"""Issue 14's hard closed-loop case studies: verdict, time and initial-set parts of `nncs.verify` (one run each,
with the case file's own options, workers included), the final set's summed widths against the simulated spread
(proven cases), next to the published verdicts and partitions.

Run with `python -m benchmarks hard_cases [NAME ...]`; the published figures come from the shared benchmark
README (other tools, other hardware: compare parts and verdicts, not seconds).
"""

from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np

import nncs
from nncs import case_studies
from nncs.loop.simulate import simulate_closed_loop

PUBLISHED = {  # name -> what the leading tools report (shared/benchmarks/closed_loop/README.md)
    "double_pendulum_less_robust": "JuliaReach: safe on 72 parts; CROWN-Reach: 225 parts",
    "double_pendulum_more_robust": "JuliaReach, NNV: falsified",
    "nav_set": "JuliaReach: safe; CROWN-Reach: 25 parts",
    "nav_point": "CROWN-Reach: 640 parts; JuliaReach: not attempted",
    "quad_small": "JuliaReach: safe (1 % X0)",
    "tora": "CROWN-Reach: 12 parts; JuliaReach: safe on 240",
    "cartpole_small": "no verdict on record (CORA runs this X0)",
    "cartpole": "no verdict on record",
    "docking_reduced": "JuliaReach: safe",
    "docking": "no verdict on record",
}

DEFAULT = ["tora", "double_pendulum_more_robust", "quad_small", "nav_set", "double_pendulum_less_robust"]


def run_case(name: str, timeout: float | None = None) -> dict:
    """One verify of the case (its own options; `timeout` seconds when given): verdict, seconds, parts."""
    problem = nncs.load_problem(case_studies.path(name))
    options = dataclasses.replace(problem.options, progress=False)
    if timeout is not None:
        options = dataclasses.replace(options, timeout=timeout)
    start = time.perf_counter()
    verdict = nncs.verify(problem, options)
    seconds = time.perf_counter() - start
    width = spread = float("nan")
    finals = [X.box() for r in verdict.results if r.complete for X in r.final]
    if verdict.status == "safe" and finals:
        width = float((np.max([b.ub for b in finals], 0) - np.min([b.lb for b in finals], 0)).sum())
        x0 = problem.initial.sample(2000, np.random.default_rng(0))
        _, xs = simulate_closed_loop(
            problem.system, x0, problem.steps, w=problem.system.plant.nominal_disturbance
        )
        spread = float((xs[:, -1].max(axis=0) - xs[:, -1].min(axis=0)).sum())
    return {
        "name": name,
        "verdict": verdict.status,
        "seconds": seconds,
        "width": width,
        "spread": spread,
        "parts": len(verdict.parts),
        "proven": sum(1 for _, s, _ in verdict.parts if s == "proven"),
        "methods": verdict.method_counts(),
    }


def main(names: list[str] | None = None) -> None:
    names = names or DEFAULT
    print(
        f"{'case':30s} {'verdict':8s} {'seconds':>8s} {'parts':>6s} {'proven':>6s} {'width':>8s} {'spread':>8s}"
        "   published"
    )
    for name in names:
        r = run_case(name)
        print(
            f"{name:30s} {r['verdict']:8s} {r['seconds']:8.1f} {r['parts']:6d} {r['proven']:6d} "
            f"{r['width']:8.4g} {r['spread']:8.4g}   {PUBLISHED.get(name, '-')}"
        )
        for method, count in r["methods"].items():
            print(f"{'':30s} {count:4d} part(s) by {method}")


if __name__ == "__main__":
    main(sys.argv[1:])
