"""The `fit` method's residual bound on saturating tanh controllers: one back-substitution of `net - A z - b`
(the affine part as an input term of the objective) against the previous bound (the net's bound on each sub-box
minus the exact range of `A z` there), with DeepZ's output width and the sampled residual range beside them.

Run with `python -m benchmarks fit_residual`; the Docking and NAV (point) networks from the shared benchmarks,
over boxes of a fraction of each case study's initial set around its centre (the controller's input there).
"""

from __future__ import annotations

import time

import numpy as np

from nncs import case_studies
from nncs.nn.bounds import bisect_boxes, bound_objectives
from nncs.nn.methods import reach
from nncs.nn.methods.fit import bound_residual, fit_affine
from nncs.problem import load_problem
from nncs.sets import Box

CASES = [("docking_reduced", (0.1, 0.25, 0.5)), ("nav_point", (0.125, 0.5))]
BOXES = (1, 64, 512)


def apart(net, A, b, lo, hi, boxes: int) -> np.ndarray:
    """The previous residual bound: uniform bisection into about `boxes` sub-boxes (widest first), each
    bounded as `[net_lo - max A z, net_hi - min A z]`; its width per output."""
    L, U = lo[None].copy(), hi[None].copy()
    while 2 * L.shape[0] <= boxes:
        L, U = bisect_boxes(L, U, np.argmax(U - L, axis=1))
    n = A.shape[0]
    C = np.vstack([np.eye(n), -np.eye(n)])
    low = bound_objectives(net.layers, L, U, C, np.zeros(2 * n))[0]
    pos, neg = np.maximum(A, 0), np.minimum(A, 0)
    r_lo = (low[:, :n] - (U @ pos.T + L @ neg.T + b)).min(axis=0)
    r_hi = (-low[:, n:] - (L @ pos.T + U @ neg.T + b)).max(axis=0)
    return r_hi - r_lo


def main(argv: list[str] | None = None) -> None:
    print(
        "case, part of X0 | output | DeepZ width | sampled residual | sub-boxes: new bound / previous bound (s)"
    )
    for name, fractions in CASES:
        problem = load_problem(case_studies.path(name))
        net = problem.system.controller
        c, r = problem.initial.center, (problem.initial.ub - problem.initial.lb) / 2
        W, bias = problem.system.input_W, problem.system.input_b
        for frac in fractions:
            X = Box(c - frac * r, c + frac * r).to_zonotope().affine_map(W, bias)
            lo, hi = X.bounds()
            zonotope = reach(net, X, "approx-zono")[0]
            z_lo, z_hi = zonotope.bounds()
            A, b0, _, _ = fit_affine(net, lo, hi, 2000, 0)
            cells = {}
            for boxes in BOXES:
                t = time.perf_counter()
                fit = bound_residual(net, A, b0, lo, hi, tol=0.2, max_boxes=boxes)
                seconds = time.perf_counter() - t
                old = apart(net, A, b0, lo, hi, boxes)
                cells[boxes] = (fit.r_hi - fit.r_lo, old, seconds, fit.s_hi - fit.s_lo)
            for k in range(net.n_outputs):
                sampled = cells[BOXES[0]][3][k]
                parts = []
                for boxes in BOXES:
                    new, old, seconds, _ = cells[boxes]
                    parts.append(f"{boxes}: {new[k]:.4f} / {old[k]:.4f} ({seconds:.2f} s)")
                print(
                    f"{name}, {frac:g} | y{k} | {z_hi[k] - z_lo[k]:.4f} | {sampled:.4f} | " + "; ".join(parts)
                )


if __name__ == "__main__":
    main()
