"""Sampling points of polytopes `{a : A a <= b, lb <= a <= ub}`, the predicates of stars and H-polytopes.

Rejection from the bounding box when it accepts enough; hit-and-run from an interior point otherwise.
"""

from __future__ import annotations

import numpy as np

from nncs.sets import lp

_SHRINK = 1.0 - 1e-9  # hit-and-run steps stay strictly inside the chord, away from rounding at the faces


def sample_polytope(
    A: np.ndarray, b: np.ndarray, lb: np.ndarray, ub: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Return `n` points of `{a : A a <= b, lb <= a <= ub}` (finite box), shape (n, m).

    Points satisfy every constraint (up to floating-point rounding). They are uniform when rejection
    sampling suffices; otherwise they come from vectorised hit-and-run chains (approximately uniform), or,
    for a polytope with an empty interior, from random convex combinations of LP vertices.
    Raises lp.InfeasibleLP when the polytope is empty.
    """
    n = int(n)
    m = lb.shape[0]
    if n == 0:
        return np.zeros((0, m))
    if A.shape[0] == 0:
        return lb + (ub - lb) * rng.random((n, m))
    tries = lb + (ub - lb) * rng.random((max(4 * n, 256), m))
    inside = tries[np.all(tries @ A.T <= b, axis=1)]
    if inside.shape[0] >= n:
        return inside[:n]
    start, radius = _chebyshev_point(A, b, lb, ub)
    if radius <= 1e-12 * (1.0 + np.abs(ub - lb).max(initial=0.0)):
        return _vertex_combinations(A, b, lb, ub, n, rng)
    return _hit_and_run(A, b, lb, ub, start, n, rng, steps=30 + 2 * m)


def _chebyshev_point(A, b, lb, ub) -> tuple[np.ndarray, float]:
    """Return the centre and radius of a largest ball inside the polytope (box faces included)."""
    m = lb.shape[0]
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    eye = np.eye(m)
    rows = np.vstack(
        [np.hstack([A, norms]), np.hstack([eye, np.ones((m, 1))]), np.hstack([-eye, np.ones((m, 1))])]
    )
    rhs = np.concatenate([b, ub, -lb])
    r_max = float((ub - lb).max(initial=0.0)) / 2 + 1.0
    program = lp.LinearProgram(rows, rhs, np.append(lb, 0.0), np.append(ub, r_max))
    cost = np.zeros(m + 1)
    cost[-1] = -1.0
    x, value = program.argmin(cost)
    return np.clip(x[:m], lb, ub), -value


def _hit_and_run(A, b, lb, ub, start, n, rng, steps) -> np.ndarray:
    m = lb.shape[0]
    p = np.repeat(start[None, :], n, axis=0)
    A_all = np.vstack([A, np.eye(m), -np.eye(m)])
    b_all = np.concatenate([b, ub, -lb])
    for _ in range(steps):
        u = rng.normal(size=(n, m))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        slack = np.maximum(b_all - p @ A_all.T, 0.0)  # (n, rows)
        rate = u @ A_all.T
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = slack / rate
        t_hi = np.where(rate > 0, ratio, np.inf).min(axis=1)
        t_lo = np.where(rate < 0, ratio, -np.inf).max(axis=1)
        t = t_lo + (t_hi - t_lo) * rng.random(n)
        p = p + (_SHRINK * t)[:, None] * u
    return _enforce(p, A, b, lb, ub, start)


def _vertex_combinations(A, b, lb, ub, n, rng) -> np.ndarray:
    m = lb.shape[0]
    program = lp.LinearProgram(A, b, lb, ub)
    count = min(2 * m + 2, 64)
    vertices = np.array([program.argmin(rng.normal(size=m))[0] for _ in range(count)])
    weights = rng.dirichlet(np.full(count, 0.5), size=n)
    return _enforce(weights @ vertices, A, b, lb, ub, vertices.mean(axis=0))


def _enforce(p, A, b, lb, ub, fallback) -> np.ndarray:
    """Replace any point that rounding pushed outside the polytope by a point on its segment to `fallback`."""
    p = np.clip(p, lb, ub)
    bad = np.any(p @ A.T > b, axis=1)
    if np.any(bad):
        p[bad] = 0.5 * (p[bad] + fallback)
        p = np.clip(p, lb, ub)
    return p
