"""Set-library timings: all 2n exact bounds of a star, and Girard order reduction of a large zonotope.

Run with `python -m benchmarks sets`. Prints medians; the peer is scipy's linprog (HiGHS, a fresh model per LP).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from scipy.optimize import linprog

import nncs


def random_star(n: int, rng: np.random.Generator) -> nncs.Star:
    """An n-D star over n predicate variables in [-1, 1]^n with 2n random constraints (non-empty: 0 is inside)."""
    C = rng.normal(size=(2 * n, n))
    d = rng.uniform(0.5, 1.5, 2 * n)
    return nncs.Star(rng.normal(size=n), rng.normal(size=(n, n)), C, d, -np.ones(n), np.ones(n))


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scipy_bounds(star: nncs.Star, rows: int) -> None:
    bounds = list(zip(star.lb, star.ub))
    for i in range(rows):
        for sign in (1.0, -1.0):
            res = linprog(sign * star.V[i], A_ub=star.C, b_ub=star.d, bounds=bounds, method="highs")
            assert res.status == 0


def main() -> None:
    rng = np.random.default_rng(0)
    for n, repeats in ((50, 5), (200, 3)):
        stars = [random_star(n, rng) for _ in range(repeats)]
        it = iter(stars)
        ours = median_time(
            lambda it=it: next(it).bounds(), repeats
        )  # a fresh star each time: no cached bounds
        rows = n if n <= 50 else 20
        peer = (
            median_time(lambda stars=stars, rows=rows: scipy_bounds(stars[0], rows), 1 if n > 50 else repeats)
            * n
            / rows
        )
        print(
            f"star bounds n={n:3d} (2n LPs, {2 * n} constraints): nncs {ours:8.3f} s   "
            f"scipy linprog {peer:8.3f} s{' (extrapolated from 40 LPs)' if rows < n else ''}   ratio {peer / ours:5.2f}x"
        )
    z = nncs.Zonotope(rng.normal(size=6), rng.normal(size=(6, 1000)))
    for order in (2, 10, 50):
        t = median_time(lambda order=order: z.reduce_order(order), 21)
        print(f"zonotope 6-D, 1000 generators, reduce_order({order:2d}) (Girard): {t * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
