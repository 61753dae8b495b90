"""Hypothesis strategies for random sets: non-empty stars, zonotopes, boxes, with their affine maps."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import nncs

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def random_box(rng: np.random.Generator, n: int) -> nncs.Box:
    lb = rng.uniform(-3, 3, n)
    return nncs.Box(lb, lb + rng.uniform(0.1, 2, n))


def random_zonotope(rng: np.random.Generator, n: int, m: int) -> nncs.Zonotope:
    return nncs.Zonotope(rng.uniform(-2, 2, n), rng.normal(size=(n, m)))


def random_star(rng: np.random.Generator, n: int, m: int, k: int) -> nncs.Star:
    """A star with k random constraints, non-empty by construction (a random predicate point satisfies them)."""
    lb = rng.uniform(-2, 0, m)
    ub = lb + rng.uniform(0.2, 2, m)
    C = rng.normal(size=(k, m))
    inner = rng.uniform(lb, ub)
    d = C @ inner + rng.uniform(0.05, 1.0, k)
    return nncs.Star(rng.uniform(-1, 1, n), rng.normal(size=(n, m)), C, d, lb, ub)


@st.composite
def stars(draw, max_dim: int = 4, max_vars: int = 5, max_constraints: int = 5):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, max_dim))
    m = draw(st.integers(1, max_vars))
    k = draw(st.integers(0, max_constraints))
    return random_star(rng, n, m, k)


@st.composite
def zonotopes(draw, max_dim: int = 4, max_gens: int = 6):
    rng = np.random.default_rng(draw(seeds))
    return random_zonotope(rng, draw(st.integers(1, max_dim)), draw(st.integers(0, max_gens)))


@st.composite
def boxes(draw, max_dim: int = 4):
    rng = np.random.default_rng(draw(seeds))
    return random_box(rng, draw(st.integers(1, max_dim)))


def random_affine(rng: np.random.Generator, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)


def random_hpolytope(rng: np.random.Generator, n: int, k: int) -> nncs.HPolytope:
    """A bounded H-polytope: a random box cut by k random half-spaces that keep its centre strictly inside."""
    box = random_box(rng, n)
    H = rng.normal(size=(k, n))
    g = H @ box.center + rng.uniform(0.05, 1.0, k)
    base = nncs.HPolytope.from_box(box)
    return nncs.HPolytope(np.vstack([base.H, H]), np.concatenate([base.g, g]))


@st.composite
def hpolytopes(draw, max_dim: int = 4, max_cuts: int = 4):
    rng = np.random.default_rng(draw(seeds))
    return random_hpolytope(rng, draw(st.integers(1, max_dim)), draw(st.integers(0, max_cuts)))


def random_set(kind: str, rng: np.random.Generator, n: int):
    """A random non-empty bounded set of the type `kind` ("box", "zonotope", "star", "hpolytope") in R^n."""
    if kind == "box":
        return random_box(rng, n)
    if kind == "zonotope":
        return random_zonotope(rng, n, n + 2)
    if kind == "star":
        return random_star(rng, n, n + 1, 2)
    return random_hpolytope(rng, n, 2)


SET_KINDS = ("box", "zonotope", "star", "hpolytope")


def polygon_halfplanes(poly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit outward normals N and offsets h of a counter-clockwise convex polygon (k >= 3 vertices): the
    polygon is {p : N p <= h}. Edges of (near) zero length are skipped."""
    edges = np.roll(poly, -1, axis=0) - poly
    normals = np.column_stack([edges[:, 1], -edges[:, 0]])
    lengths = np.linalg.norm(normals, axis=1)
    ok = lengths > 1e-12 * max(1.0, np.abs(poly).max())
    normals = normals[ok] / lengths[ok, None]
    return normals, np.einsum("ij,ij->i", normals, poly[ok])


def signed_area(poly: np.ndarray) -> float:
    """The shoelace area: positive for a counter-clockwise polygon."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def assert_within_polygon(points: np.ndarray, poly: np.ndarray, slack: float) -> None:
    """Every 2-D point lies in the convex polygon widened by `slack` (points, segments: distance checks)."""
    if len(poly) >= 3 and signed_area(poly) > 1e-12 * max(1.0, np.ptp(poly, axis=0).max()) ** 2:
        N, h = polygon_halfplanes(poly)
        excess = (points @ N.T - h).max(axis=1)
        assert np.all(excess <= slack), f"a point lies {excess.max()} outside the polygon (slack {slack})"
        return
    # degenerate polygon: a point or a segment between its extreme vertices
    a, b = poly[0], poly[np.argmax(np.linalg.norm(poly - poly[0], axis=1))]
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(ab @ ab, 1e-300), 0.0, 1.0)
    distance = np.linalg.norm(points - (a + t[:, None] * ab), axis=1)
    assert np.all(distance <= slack + 1e-12), f"a point lies {distance.max()} from the degenerate polygon"


def check_polygon_2d(
    s, dims: tuple[int, int], rng: np.random.Generator, points: np.ndarray, exact: bool, tol: float = 1e-4
) -> np.ndarray:
    """Check `s.polygon_2d(dims, tol)` against the set's own points `points` (drawn independently of the polygon
    code) and its support function (a second method).

    - every vertex is a point of the projection (the projected set contains it, to 1e-6);
    - every projected point lies in the polygon: to rounding for an exact polygon, within 2 tol * diameter for
      an inner one;
    - in random directions the polygon's support value equals the set's (exact), or lies between it minus
      2 tol * diameter and it (inner).
    Returns the polygon.
    """
    poly = s.polygon_2d(dims, tol=tol)
    assert poly.ndim == 2 and poly.shape[1] == 2 and len(poly) >= 1
    if len(poly) >= 3:
        assert signed_area(poly) >= -1e-12  # counter-clockwise (or flat)
    P = np.eye(s.dim)[list(dims)]
    assert s.affine_map(P).contains(poly, tol=1e-6).all()
    diameter = max(np.ptp(poly, axis=0).max(), 1e-9)
    scale = max(1.0, np.abs(poly).max())
    slack = 1e-9 * scale if exact else 2 * tol * diameter + 1e-9 * scale
    assert_within_polygon(points[:, list(dims)], poly, slack)
    angles = rng.uniform(0, 2 * np.pi, 16)
    D2 = np.column_stack([np.cos(angles), np.sin(angles)])
    from_polygon = (poly @ D2.T).max(axis=0)
    from_set = s.support_function(D2 @ P)
    assert np.all(from_polygon <= from_set + 1e-7 * scale)  # vertices are points of the set
    assert np.all(from_polygon >= from_set - slack - 1e-7 * scale)
    return poly
