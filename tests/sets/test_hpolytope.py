"""Tests of nncs/sets/hpolytope.py: containment of points and sets, emptiness, bounds, affine maps."""

import numpy as np
import pytest
from hypothesis import given, settings

import nncs
from nncs.sets import lp
from tests.sets.strategies import hpolytopes, seeds, stars

SETTINGS = settings(max_examples=25, deadline=None)

TRIANGLE = nncs.HPolytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])  # x >= 0, y >= 0, x + y <= 1


def test_known_values():
    assert TRIANGLE.dim == 2
    assert TRIANGLE.contains([[0.2, 0.2], [0.6, 0.6], [0, 0]]).tolist() == [True, False, True]
    lo, hi = TRIANGLE.bounds()
    np.testing.assert_allclose(lo, [0, 0], atol=1e-8)
    np.testing.assert_allclose(hi, [1, 1], atol=1e-8)
    assert TRIANGLE.support_function([1, 2])[0] == pytest.approx(2.0, abs=1e-8)
    assert not TRIANGLE.is_empty()
    assert TRIANGLE.intersection(nncs.HPolytope([[1, 0]], [-0.5])).is_empty()


def test_unbounded_halfspace():
    half = nncs.HPolytope([[1.0, 0.0]], [2.0])
    lo, hi = half.bounds()
    assert lo[0] == -np.inf and hi[0] == pytest.approx(2.0) and hi[1] == np.inf
    with pytest.raises(ValueError, match="unbounded"):
        half.box()


def test_contains_set():
    inside = nncs.Box([0.1, 0.1], [0.4, 0.4])
    crossing = nncs.Box([0.1, 0.1], [0.6, 0.6])
    assert TRIANGLE.contains_set(inside)
    assert TRIANGLE.contains_set(inside.to_zonotope())
    assert TRIANGLE.contains_set(inside.to_star())
    assert not TRIANGLE.contains_set(crossing)
    assert not TRIANGLE.contains_set(crossing.to_star())
    # a star that leaves the triangle only through a corner cut away by its own constraint: inside
    cut = crossing.to_star().intersect_halfspace([1.0, 1.0], 0.9)
    assert TRIANGLE.contains_set(cut)


@SETTINGS
@given(stars(max_dim=3), seeds)
def test_contains_set_agrees_with_samples(star, seed):
    rng = np.random.default_rng(seed)
    lo, hi = star.bounds()
    mid = (lo + hi) / 2
    # a polytope cutting the star through its middle cannot contain it; one around its bounds must
    around = nncs.HPolytope.from_box(nncs.Box(lo - 1e-6, hi + 1e-6))
    assert around.contains_set(star)
    normal = rng.normal(size=star.dim)
    offset = normal @ mid
    half = nncs.HPolytope(normal[None, :], [offset])
    pts = star.sample(300, rng)
    if np.any(pts @ normal > offset + 1e-9):
        assert not half.contains_set(star)
    if half.contains_set(star):
        assert half.contains(pts).all()


def test_affine_maps():
    rng = np.random.default_rng(0)
    pts = TRIANGLE.sample(200, rng)
    assert TRIANGLE.contains(pts).all()
    W = np.array([[2.0, 1.0], [0.0, 1.0]])
    b = np.array([1.0, -1.0])
    image = TRIANGLE.affine_map(W, b)
    assert isinstance(image, nncs.HPolytope)
    assert image.contains(pts @ W.T + b).all()
    assert not image.contains(np.array([[10.0, 10.0]])).any()
    flat = TRIANGLE.affine_map(np.array([[1.0, 1.0]]))
    assert isinstance(flat, nncs.Star)
    lo, hi = flat.bounds()
    assert lo[0] == pytest.approx(0.0, abs=1e-7) and hi[0] == pytest.approx(1.0, abs=1e-8)


def test_bad_arguments():
    with pytest.raises(ValueError, match="g"):
        nncs.HPolytope([[1, 0]], [1, 2])
    with pytest.raises(ValueError, match="H"):
        nncs.HPolytope([[1, np.nan]], [1])
    with pytest.raises(ValueError, match="dimensions"):
        TRIANGLE.contains_set(nncs.Box([0], [1]))
    with pytest.raises(lp.InfeasibleLP):
        nncs.HPolytope([[1.0], [-1.0]], [0.0, -1.0]).bounds()


@SETTINGS
@given(hpolytopes(), seeds)
def test_polygon_2d_inner_against_samples_and_support(poly, seed):
    from tests.sets.strategies import check_polygon_2d

    rng = np.random.default_rng(seed)
    if poly.dim < 2:
        poly = nncs.HPolytope(np.hstack([poly.H, np.zeros((poly.nconstraints, 1))]), poly.g).intersection(
            nncs.HPolytope([[0.0, 1.0], [0.0, -1.0]], [1.0, 0.0])
        )
    dims = tuple(rng.choice(poly.dim, 2, replace=False))
    check_polygon_2d(poly, dims, rng, poly.sample(200, rng), exact=False, tol=1e-4)


def test_interface_operations_on_hpolytopes():
    cut = TRIANGLE.intersect_halfspace([1.0, 0.0], 0.5)
    assert isinstance(cut, nncs.HPolytope)
    assert cut.contains([[0.4, 0.4], [0.6, 0.1]]).tolist() == [True, False]
    moved = TRIANGLE.translate([1.0, 1.0])
    assert moved.contains([[1.2, 1.2], [1, 1]]).all() and not moved.contains([[0.9, 1.0]]).any()
    z = TRIANGLE.to_zonotope()  # the interval hull: outer
    assert z.contains(TRIANGLE.sample(100, 0)).all()
    lo, hi = z.bounds()
    np.testing.assert_allclose(lo, [0, 0], atol=1e-7)
    np.testing.assert_allclose(hi, [1, 1], atol=1e-7)
