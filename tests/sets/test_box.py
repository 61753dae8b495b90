"""Tests of nncs/sets/box.py: hand-computed answers, sampled soundness, and argument errors."""

import numpy as np
import pytest
from hypothesis import given, settings

import nncs
from tests.sets.strategies import boxes, random_affine, seeds

SETTINGS = settings(max_examples=30, deadline=None)


def test_known_values():
    b = nncs.Box([0, -1], [2, 3])
    assert b.dim == 2
    np.testing.assert_array_equal(b.center, [1, 1])
    np.testing.assert_array_equal(b.radius, [1, 2])
    assert b.volume() == 8.0
    assert b.contains([[0, -1], [2, 3], [1, 0], [2.1, 0]]).tolist() == [True, True, True, False]
    np.testing.assert_array_equal(b.support_function([[1, 1], [-1, 0]]), [5, 0])
    assert sorted(map(tuple, b.vertices())) == [(0, -1), (0, 3), (2, -1), (2, 3)]


def test_intersection_hull_split():
    a = nncs.Box([0, 0], [2, 2])
    b = nncs.Box([1, -1], [3, 1])
    inter = a.intersection(b)
    np.testing.assert_array_equal(inter.lb, [1, 0])
    np.testing.assert_array_equal(inter.ub, [2, 1])
    assert a.intersection(nncs.Box([5, 5], [6, 6])) is None
    hull = a.hull(b)
    np.testing.assert_array_equal(hull.lb, [0, -1])
    np.testing.assert_array_equal(hull.ub, [3, 2])
    parts = a.split(1, 4)
    assert len(parts) == 4
    assert sum(p.volume() for p in parts) == pytest.approx(a.volume())
    assert parts[0].lb[1] == 0 and parts[-1].ub[1] == 2
    for p, q in zip(parts[:-1], parts[1:]):
        assert p.ub[1] == q.lb[1]


@SETTINGS
@given(boxes(), seeds)
def test_samples_inside_and_affine_map_sound(box, seed):
    rng = np.random.default_rng(seed)
    pts = box.sample(200, rng)
    assert box.contains(pts).all()
    W, b = random_affine(rng, box.dim, 3)
    image = box.affine_map(W, b)
    assert isinstance(image, nncs.Zonotope)
    assert image.contains(pts @ W.T + b).all()
    assert image.contains(box.vertices() @ W.T + b).all()


@SETTINGS
@given(boxes())
def test_conversions_are_exact(box):
    z = box.to_zonotope()
    s = box.to_star()
    for other in (z, s):
        lo, hi = other.bounds()
        np.testing.assert_allclose(lo, box.lb, atol=1e-9)
        np.testing.assert_allclose(hi, box.ub, atol=1e-9)
    assert z.contains(box.vertices()).all()
    assert s.contains(box.vertices()).all()


def test_degenerate_side_is_allowed():
    b = nncs.Box([1, 0], [1, 2])
    assert b.volume() == 0
    assert b.to_zonotope().ngens == 1


@pytest.mark.parametrize(
    "lb, ub, word",
    [
        ([0, 2], [1, 1], "lb > ub"),
        ([0, np.nan], [1, 1], "lb"),
        ([0, 0], [1, np.inf], "ub"),
        ([0, 0], [1, 1, 1], "ub"),
        ([[0, 0]], [[1, 1]], "lb"),
    ],
)
def test_bad_arguments(lb, ub, word):
    with pytest.raises(ValueError, match=word):
        nncs.Box(lb, ub)


def test_bad_operations():
    b = nncs.Box([0, 0], [1, 1])
    with pytest.raises(ValueError, match="dimensions"):
        b.intersection(nncs.Box([0], [1]))
    with pytest.raises(ValueError, match="split dimension"):
        b.split(2)
    with pytest.raises(ValueError, match="points"):
        b.contains([[0, 0, 0]])
    with pytest.raises(ValueError, match="W"):
        b.affine_map(np.ones((2, 3)))


def test_immutable():
    b = nncs.Box([0], [1])
    with pytest.raises(AttributeError):
        b.lb = np.array([5.0])
    with pytest.raises(ValueError):
        b.lb[0] = 5.0


def test_to_zonotope_holds_every_corner_in_exact_arithmetic():
    from fractions import Fraction as F

    rng = np.random.default_rng(5)
    for _ in range(500):
        lb = rng.uniform(-10, 10, 3)
        ub = lb + rng.uniform(0, 5, 3)
        z = nncs.Box(lb, ub).to_zonotope()
        radius = np.abs(z.G).sum(axis=1)
        for i in range(3):
            c, r = F(float(z.c[i])), F(float(radius[i]))
            assert c - r <= F(float(lb[i])) and c + r >= F(float(ub[i]))


@SETTINGS
@given(boxes(), seeds)
def test_polygon_2d_is_the_exact_projection(box, seed):
    from tests.sets.strategies import check_polygon_2d

    rng = np.random.default_rng(seed)
    if box.dim < 2:
        box = nncs.Box(np.append(box.lb, 0.0), np.append(box.ub, 1.0))
    # uniform points and random corners, drawn here (not by Box.sample)
    points = rng.uniform(box.lb, box.ub, (300, box.dim))
    corners = np.where(rng.random((50, box.dim)) < 0.5, box.lb, box.ub)
    dims = tuple(rng.choice(box.dim, 2, replace=False))
    poly = check_polygon_2d(box, dims, rng, np.vstack([points, corners]), exact=True)
    assert len(poly) == 4


def test_interface_operations_on_boxes():
    b = nncs.Box([0, 0], [1, 2])
    cut = b.intersect_halfspace([1.0, 1.0], 1.0)  # the triangle (0,0), (1,0), (0,1)
    assert isinstance(cut, nncs.Star)
    assert cut.contains([[0.2, 0.2], [0.6, 0.6], [0, 1]]).tolist() == [True, False, True]
    moved = b.translate([1.0, -1.0])
    assert moved.contains([[1, -1], [2, 1]]).all() and not moved.contains([[0.9, 0]]).any()
    np.testing.assert_array_equal(
        b.support_function_outer([[1, 1], [-1, 0]]), b.support_function([[1, 1], [-1, 0]])
    )
    assert not b.is_empty()
    with pytest.raises(ValueError, match="Box.minkowski_sum is not available"):
        b.minkowski_sum(b)
