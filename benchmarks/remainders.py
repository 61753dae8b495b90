"""Flowpipe remainder bounds in the closed loop: "cubic" and "quadratic" against "box" (conservative linearisation).

Run with `python -m benchmarks remainders [NAME ...]`; per case study (on one part of its initial set), the reach
time (warm median of 3), the final set's summed interval widths and their ratio to the simulated spread.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import numpy as np

import nncs
from nncs import case_studies
from nncs.loop.simulate import simulate_closed_loop
from nncs.sets import Box

REPEATS = 3
CASES = {  # name -> the part of the initial set: the fraction of its width about the centre
    "pendulum": 1.0,
    "tora": 1.0,
    "unicycle": 1.0,
    "acc_arch": 1.0,
    "double_pendulum_less_robust": 1 / 3,  # the centre part of its 3x3x3x3 grid
    "double_pendulum_more_robust": 0.25,
}


def _part(problem, fraction: float) -> Box:
    box = problem.initial.box()
    c, r = box.center, (box.ub - box.lb) / 2 * fraction
    return Box(c - r, c + r)


def measure(name: str, remainder: str, fraction: float) -> dict:
    """Warm reach time, final summed width and simulated spread (2000 random initial states) of one case."""
    problem = nncs.load_problem(case_studies.path(name))
    part = _part(problem, fraction)
    opts = dataclasses.replace(problem.options, remainder=remainder, timeout=None, progress=False)
    times, result, error = [], None, ""
    for _ in range(REPEATS + 1):
        t0 = time.perf_counter()
        try:
            result = nncs.reach(problem.system, part, problem.steps, opts)
        except RuntimeError as exc:  # the linearisation error could not be bounded: the set blew up
            error = str(exc).split(";")[0]
            break
        times.append(time.perf_counter() - t0)
    rng = np.random.default_rng(0)
    x0 = rng.uniform(part.lb, part.ub, size=(2000, part.dim))
    _, xs = simulate_closed_loop(problem.system, x0, problem.steps)
    spread = float((xs[:, -1].max(axis=0) - xs[:, -1].min(axis=0)).sum())
    if error:
        return {"name": name, "remainder": remainder, "error": error, "spread": spread}
    final = result.final[0].box()
    width = float((final.ub - final.lb).sum())
    return {
        "name": name,
        "remainder": remainder,
        "seconds": statistics.median(times[1:]),
        "width": width,
        "spread": spread,
        "ratio": width / spread,
    }


def main(names: list[str] | None = None) -> None:
    names = names or list(CASES)
    print(
        f"{'case':30s} {'part':>5s} {'remainder':>10s} {'warm s':>8s} {'final width':>12s} {'sim spread':>11s} ratio"
    )
    for name in names:
        fraction = CASES.get(name, 1.0)
        for remainder in ("box", "quadratic", "cubic"):
            r = measure(name, remainder, fraction)
            if "error" in r:
                print(
                    f"{name:30s} {fraction:5.2f} {remainder:>10s} {'-':>8s} {'blew up':>12s} {r['spread']:11.4g}"
                )
                continue
            print(
                f"{name:30s} {fraction:5.2f} {remainder:>10s} {r['seconds']:8.2f} {r['width']:12.4g} "
                f"{r['spread']:11.4g} {r['ratio']:.2f}"
            )
