"""Flowpipe benchmark: time per control period for each library plant (cold with JAX compilation, and warm).

Run with `python -m benchmarks flowpipes`; prints medians and the peak Python memory of a warm run.
"""

from __future__ import annotations

import resource
import statistics
import time
import tracemalloc

import numpy as np

import nncs  # noqa: F401  (float64 JAX)
from nncs import plants
from nncs.dynamics.flowpipe import flowpipe
from nncs.sets import Box

COLD_REPEATS = 3
WARM_REPEATS = 20


def _problem(name: str):
    ex = plants.example(name)
    return (
        plants.get(name),
        Box(ex["state_lower"], ex["state_upper"]),
        Box(ex["input_lower"], ex["input_upper"]),
        ex["period"],
    )


def measure(name: str) -> dict:
    """Cold (a freshly built plant: JAX tracing and compilation included) and warm medians, in seconds."""
    cold = []
    for _ in range(COLD_REPEATS):
        p, X, U, T = _problem(name)  # a new SymbolicPlant: nothing compiled yet
        t0 = time.perf_counter()
        fp = flowpipe(p, X, U, T)
        cold.append(time.perf_counter() - t0)
    warm = []
    for _ in range(WARM_REPEATS):
        t0 = time.perf_counter()
        fp = flowpipe(p, X, U, T)
        warm.append(time.perf_counter() - t0)
    joint = X.to_star().cartesian_product(U.to_star())  # the loop's form: one Star over [x; u]
    flowpipe(p, joint, None, T)
    star = []
    for _ in range(WARM_REPEATS):
        t0 = time.perf_counter()
        flowpipe(p, joint, None, T)
        star.append(time.perf_counter() - t0)
    tracemalloc.start()
    flowpipe(p, X, U, T)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lo, hi = fp.final.bounds()
    return {
        "plant": name,
        "method": fp.method,
        "segments": len(fp.segments),
        "cold_s": statistics.median(cold),
        "warm_s": statistics.median(warm),
        "star_s": statistics.median(star),
        "peak_kib": peak / 1024,
        "max_width": float(np.max(hi - lo)),
    }


def main() -> None:
    print(
        f"{'plant':28s} {'method':9s} {'segs':>4s} {'cold ms':>9s} {'warm ms':>9s} {'star ms':>9s} "
        f"{'peak KiB':>9s}"
    )
    for name in plants.names():
        r = measure(name)
        print(
            f"{r['plant']:28s} {r['method']:9s} {r['segments']:4d} {1e3 * r['cold_s']:9.1f} "
            f"{1e3 * r['warm_s']:9.2f} {1e3 * r['star_s']:9.2f} {r['peak_kib']:9.0f}"
        )
    print(
        f"(medians of {COLD_REPEATS} cold and {WARM_REPEATS} warm runs of flowpipe() over one control period "
        f"with the default options on plants.example(name): Box inputs; 'star' = warm with the joint [x; u] Star;\n"
        f" peak = tracemalloc peak of one warm run)"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (JAX runtime included): {rss:.0f} MiB")


if __name__ == "__main__":
    main()
