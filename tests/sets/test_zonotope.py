"""Tests of nncs/sets/zonotope.py: exact operations, Girard reduction containment, 2-D vertices, errors."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull

import nncs
from tests.sets.strategies import random_affine, random_zonotope, seeds, zonotopes

SETTINGS = settings(max_examples=30, deadline=None)


def corner_points(z: nncs.Zonotope) -> np.ndarray:
    """All 2^m images of the factor corners (for small m): they include every vertex."""
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=z.ngens))).reshape(-1, z.ngens)
    return z.c + signs @ z.G.T


def test_known_values():
    z = nncs.Zonotope([1, 0], [[1, 0, 1], [0, 2, 1]])
    lo, hi = z.bounds()  # exact values, widened outward by at most a rounding slack
    assert np.all(lo <= [-1, -3]) and np.all(hi >= [3, 3])
    np.testing.assert_allclose(lo, [-1, -3], rtol=0, atol=1e-14)
    np.testing.assert_allclose(hi, [3, 3], rtol=0, atol=1e-14)
    h = z.support_function([[1, 1], [0, -1]])
    assert np.all(h >= [1 + 1 + 2 + 2, 3])
    np.testing.assert_allclose(h, [1 + 1 + 2 + 2, 3], rtol=0, atol=1e-13)
    assert z.order == 1.5
    assert z.contains([[3, 3], [1, 0], [3.01, 3], [-1, -3]]).tolist() == [True, True, False, True]


def test_square_vertices():
    z = nncs.Zonotope([0, 0], [[1, 0], [0, 1]])
    v = z.polygon_2d()
    assert sorted(map(tuple, v)) == [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    # counter-clockwise: positive signed area
    x, y = v[:, 0], v[:, 1]
    assert 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) == pytest.approx(4.0)


@SETTINGS
@given(seeds, st.integers(2, 6))
def test_polygon_2d_match_convex_hull_of_corners(seed, m):
    rng = np.random.default_rng(seed)
    z = random_zonotope(rng, 3, m)
    v = z.polygon_2d((0, 2))
    hull = ConvexHull(corner_points(z)[:, [0, 2]])
    area = 0.5 * np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1])
    assert area == pytest.approx(hull.volume, rel=1e-9, abs=1e-12)
    projected_corners = corner_points(z)[:, [0, 2]]
    distance = np.linalg.norm(v[:, None, :] - projected_corners[None, :, :], axis=2).min(axis=1)
    assert np.all(distance <= 1e-9)  # every vertex is the image of a factor corner


@SETTINGS
@given(zonotopes(), seeds)
def test_affine_map_and_bounds_sound(z, seed):
    rng = np.random.default_rng(seed)
    pts = z.sample(300, rng)
    lo, hi = z.bounds()
    assert np.all(pts >= lo - 1e-12) and np.all(pts <= hi + 1e-12)
    assert z.box().contains(pts).all()
    W, b = random_affine(rng, z.dim, 2)
    image = z.affine_map(W, b)
    assert image.contains(pts @ W.T + b).all()
    # the bounds are attained: a corner point reaches each one
    if z.ngens:
        for i in range(z.dim):
            x_hi = z.c + z.G @ np.sign(z.G[i])
            assert x_hi[i] == pytest.approx(hi[i])


@SETTINGS
@given(zonotopes(max_dim=3), zonotopes(max_dim=3), seeds)
def test_minkowski_sum_and_product(a, b, seed):
    rng = np.random.default_rng(seed)
    pa, pb = a.sample(50, rng), b.sample(50, rng)
    prod = a.cartesian_product(b)
    assert prod.dim == a.dim + b.dim
    assert prod.contains(np.hstack([pa, pb])).all()
    if a.dim == b.dim:
        assert a.minkowski_sum(b).contains(pa + pb).all()
    else:
        with pytest.raises(ValueError, match="dimensions"):
            a.minkowski_sum(b)


@SETTINGS
@given(seeds, st.integers(1, 4), st.sampled_from([1, 1.5, 2, 3]))
def test_reduce_order_contains_original(seed, n, order):
    rng = np.random.default_rng(seed)
    z = random_zonotope(rng, n, int(order * n) + 4)
    r = z.reduce_order(order)
    assert r.ngens <= order * n
    np.testing.assert_array_equal(r.c, z.c)
    pts = np.vstack([z.sample(200, rng), corner_points(z) if z.ngens <= 10 else z.sample(500, rng)])
    assert r.contains(pts).all()
    lo, hi = z.bounds()
    rlo, rhi = r.bounds()
    assert np.all(rlo <= lo + 1e-9) and np.all(rhi >= hi - 1e-9)


def test_reduce_order_large_6d():
    rng = np.random.default_rng(1)
    z = random_zonotope(rng, 6, 1000)
    r = z.reduce_order(10)
    assert r.ngens <= 60
    directions = rng.normal(size=(200, 6))
    assert np.all(r.support_function(directions) >= z.support_function(directions) - 1e-9)
    assert r.contains(z.sample(100, rng)).all()


def test_reduce_order_keeps_small_zonotope():
    z = nncs.Zonotope([0, 0], [[1, 0], [0, 1]])
    assert z.reduce_order(2) is z


def test_to_star_is_exact():
    rng = np.random.default_rng(3)
    z = random_zonotope(rng, 3, 4)
    s = z.to_star()
    np.testing.assert_allclose(np.array(s.bounds()), np.array(z.bounds()), atol=1e-9)
    assert s.contains(corner_points(z)).all()


def test_point_zonotope():
    z = nncs.Zonotope([1, 2], np.zeros((2, 0)))
    assert z.contains([[1, 2], [1, 2.1]]).tolist() == [True, False]
    assert z.polygon_2d().shape == (1, 2)


@pytest.mark.parametrize(
    "c, G, word",
    [
        ([0, 0], [[1, 0]], "G"),
        ([0, np.nan], [[1], [0]], "c"),
        ([0, 0], [[1], [np.inf]], "G"),
    ],
)
def test_bad_arguments(c, G, word):
    with pytest.raises(ValueError, match=word):
        nncs.Zonotope(c, G)


def test_bad_operations():
    z = nncs.Zonotope([0, 0, 0], np.eye(3))
    with pytest.raises(ValueError, match="dims"):
        z.polygon_2d((0, 0))
    with pytest.raises(ValueError, match="dims"):
        z.polygon_2d((0, 1, 2))
    with pytest.raises(ValueError, match="dims"):
        z.polygon_2d((0, 3))
    with pytest.raises(ValueError, match="order"):
        z.reduce_order(0.5)
    with pytest.raises(ValueError, match="method"):
        z.reduce_order(2, method="pca-magic")
    with pytest.raises(ValueError, match="directions"):
        z.support_function([1, 0])


def test_batched_contains_survives_unknown_solver_status():
    # regression: a warm-started batch of membership LPs once ended in HiGHS status "Unknown" (points are
    # corner images and samples of this zonotope, so all are inside)
    from pathlib import Path

    data = np.load(Path(__file__).parent / "data" / "zonotope_unknown_status.npz")
    z = nncs.Zonotope(data["c"], data["G"])
    assert z.contains(data["points"]).all()


def test_bounds_support_and_reduction_are_outer_in_exact_arithmetic():
    # floating-point sums can fall an ulp short of the exact maximum; the outward slack must cover that
    from fractions import Fraction as F

    rng = np.random.default_rng(2)
    for _ in range(60):
        c, G, h = rng.uniform(-1, 1, 2), rng.uniform(-1, 1, (2, 20)), rng.uniform(-1, 1, 2)
        z = nncs.Zonotope(c, G)
        signs = np.sign(h @ G)
        vertex = [
            F(float(c[i])) + sum(F(float(G[i, j])) * int(signs[j]) for j in range(20)) for i in range(2)
        ]
        assert F(float(z.support_function(h)[0])) >= F(float(h[0])) * vertex[0] + F(float(h[1])) * vertex[1]
        lo, hi = z.bounds()
        for i in range(2):
            radius = sum(abs(F(float(g))) for g in G[i])
            assert F(float(hi[i])) >= F(float(c[i])) + radius and F(float(lo[i])) <= F(float(c[i])) - radius
        r = z.reduce_order(2)  # boxes all but 2 generators: its box generators must cover their exact sums
        kept = [j for j in range(20) if any(np.array_equal(G[:, j], g) for g in r.G.T)]
        for i in range(2):
            boxed = sum(abs(F(float(G[i, j]))) for j in range(20) if j not in kept)
            covered = sum(
                abs(F(float(g[i]))) for g in r.G.T if not any(np.array_equal(g, G[:, j]) for j in kept)
            )
            assert covered >= boxed


def test_coordinates_without_generators_keep_exact_bounds():
    # constant coordinates (e.g. a controller's set-point input) must stay zero-width: the rounding slack only
    # applies where there are generators
    z = nncs.Zonotope([30.0, 1.4, 2.0], [[0.0, 0.0], [0.0, 0.0], [0.5, 0.25]])
    lo, hi = z.bounds()
    assert lo[0] == hi[0] == 30.0 and lo[1] == hi[1] == 1.4 and lo[2] < 1.25 and hi[2] > 2.75
    s = z.to_star()
    for a, b in (s.box().bounds(), s.intersect_halfspace([0.0, 0.0, 1.0], 2.5).bounds()):
        assert a[0] == b[0] == 30.0 and a[1] == b[1] == 1.4


@SETTINGS
@given(seeds, st.integers(2, 4), st.integers(0, 7))
def test_polygon_2d_is_the_exact_projection(seed, n, m):
    from tests.sets.strategies import check_polygon_2d

    rng = np.random.default_rng(seed)
    z = random_zonotope(rng, n, m)
    # factors drawn here (not by Zonotope.sample): uniform ones and corners of [-1, 1]^m
    e = np.vstack([rng.uniform(-1, 1, (300, m)), np.where(rng.random((100, m)) < 0.5, -1.0, 1.0)])
    points = z.c + e @ z.G.T
    dims = tuple(rng.choice(n, 2, replace=False))
    check_polygon_2d(z, dims, rng, points, exact=True)


@SETTINGS
@given(zonotopes(max_dim=3), seeds)
def test_joint_with_keeps_the_shared_generators(x, seed):
    rng = np.random.default_rng(seed)
    extra = rng.integers(0, 3)
    u = nncs.Zonotope(
        rng.normal(size=2), np.hstack([rng.normal(size=(2, x.ngens)), rng.normal(size=(2, extra))])
    )
    joint = x.joint_with(u)
    assert joint.dim == x.dim + 2 and joint.ngens == u.ngens
    e = rng.uniform(-1, 1, (100, u.ngens))
    pairs = np.hstack([x.c + e[:, : x.ngens] @ x.G.T, u.c + e @ u.G.T])
    assert joint.contains(pairs).all()
    # the joint set is the map of u's factors: its points are exactly these pairs' images (same generators)
    np.testing.assert_array_equal(joint.G[x.dim :], u.G)
    np.testing.assert_array_equal(joint.G[: x.dim, : x.ngens], x.G)
    assert not np.any(joint.G[: x.dim, x.ngens :])
    if x.ngens:
        with pytest.raises(ValueError, match="joint_with"):
            x.joint_with(nncs.Zonotope([0.0], np.zeros((1, x.ngens - 1))))
    with pytest.raises(ValueError, match="joint_with"):
        x.joint_with(x.to_star())


def test_interface_operations_on_zonotopes():
    z = nncs.Zonotope([0, 0], [[1, 0], [0, 1]])
    cut = z.intersect_halfspace([1.0, 0.0], 0.0)
    assert isinstance(cut, nncs.Star)
    assert cut.contains([[-1, 1], [0.5, 0]]).tolist() == [True, False]
    d = np.array([[1.0, 2.0], [-1.0, 0.5]])
    np.testing.assert_array_equal(z.support_function_outer(d), z.support_function(d))
    assert not z.is_empty()
    assert isinstance(z.minkowski_sum(nncs.Box([0, 0], [1, 1])), nncs.Zonotope)
    with pytest.raises(ValueError, match="needs a Zonotope or Box"):
        z.minkowski_sum(z.to_star())
