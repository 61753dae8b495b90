"""Split rules of `verify`: initial-set parts and wall time with "widest" against "sensitivity", on the
problems that need many parts (benchmarks/distributed.py's SPLIT_VARIANTS).

Run with `python -m benchmarks splitting [NAME ...]`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from benchmarks.distributed import SPLIT_VARIANTS, split_problem


def main(names: list[str] | None = None) -> None:
    from nncs.verify import verify

    print(f"{'problem':22s} {'rule':12s} {'verdict':8s} {'parts':>5s} {'seconds':>8s}")
    for name in names or list(SPLIT_VARIANTS):
        problem = split_problem(name)
        verify(problem)  # warm: JAX compiled once before the timed runs
        for rule in ("widest", "sensitivity"):
            start = time.perf_counter()
            v = verify(problem, replace(problem.options, split_rule=rule))
            print(f"{name:22s} {rule:12s} {v.status:8s} {len(v.parts):5d} {time.perf_counter() - start:8.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
