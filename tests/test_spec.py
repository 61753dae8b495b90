"""Tests of nncs/spec.py: sound set checks of always / goal / avoid against sampled points, and trace measures."""

import numpy as np
import pytest
from hypothesis import given, settings

import nncs
from nncs.spec import Always, Avoid, Goal, make_spec
from tests.sets.strategies import seeds, stars

NAMES = ["x1", "x2"]


def test_always_on_sets():
    spec = make_spec("always", ["x1 >= 0", "x1 + x2 <= 2"], NAMES)
    assert isinstance(spec, Always)
    assert spec.holds_on(nncs.Box([0, 0], [1, 1]))
    # a star's checks carry an outward rounding slack, so it is proven strictly inside (a Box's are exact)
    assert spec.holds_on(nncs.Box([1e-9, 0], [1, 1 - 1e-9]).to_star())
    assert not spec.holds_on(nncs.Box([0, 0], [1.5, 1]))
    assert not spec.holds_on(nncs.Box([-0.1, 0], [1, 1]).to_zonotope())


def test_avoid_on_sets():
    spec = make_spec("avoid", ["x1 >= 1", "x2 >= 1"], NAMES)  # the unsafe corner x1 >= 1 and x2 >= 1
    assert isinstance(spec, Avoid)
    assert spec.holds_on(nncs.Box([0, 0], [0.9, 5]))
    assert not spec.holds_on(nncs.Box([0, 0], [2, 2]))
    # a star that touches neither half-space's corner: the triangle x1 + x2 <= 1.5 inside [0, 2]^2
    tri = nncs.Box([0, 0], [2, 2]).to_star().intersect_halfspace([1.0, 1.0], 1.5)
    assert spec.holds_on(tri)  # needs the LP: each half-space alone meets the triangle
    assert not make_spec("avoid", ["x1 >= 1"], NAMES).holds_on(tri)


def test_goal_and_windows():
    spec = make_spec("goal", ["x1 >= -0.1", "x1 <= 0.2"], NAMES)
    assert isinstance(spec, Goal)
    assert spec.holds_on(nncs.Box([0, 0], [0.1, 5]))
    windowed = make_spec("always", ["x1 <= 1"], NAMES, window=(0.5, 1.0))
    assert windowed.applies(0.4, 0.6, 2.0) and not windowed.applies(0.0, 0.45, 2.0) and not windowed.applies(1.1, 2, 2)
    with pytest.raises(ValueError, match="window"):
        make_spec("always", ["x1 <= 1"], NAMES, window=(1.0, 0.5))
    with pytest.raises(ValueError, match="goal"):
        make_spec("goal", ["x1 <= 1"], NAMES, window=(0, 1))
    with pytest.raises(ValueError, match="kind"):
        make_spec("eventually", ["x1 <= 1"], NAMES)
    with pytest.raises(ValueError, match="non-empty"):
        make_spec("always", [], NAMES)


def test_violation_measures():
    always = make_spec("always", ["x1 <= 1"], NAMES)
    avoid = make_spec("avoid", ["x1 >= 1", "x2 >= 1"], NAMES)
    pts = np.array([[0.5, 2.0], [1.5, 2.0], [1.5, 0.0]])
    np.testing.assert_allclose(always.violation(pts), [-0.5, 0.5, 0.5])
    np.testing.assert_allclose(avoid.violation(pts), [-0.5, 0.5, -1.0])  # inside the corner only the second


@settings(max_examples=25, deadline=None)
@given(stars(max_dim=2, max_vars=3, max_constraints=3), seeds)
def test_set_checks_agree_with_samples(star, seed):
    if star.dim != 2:
        return
    rng = np.random.default_rng(seed)
    pts = star.sample(300, rng)
    lo, hi = star.bounds()
    threshold = float((lo[0] + hi[0]) / 2)
    always = make_spec("always", [f"x1 <= {threshold}"], NAMES)
    avoid = make_spec("avoid", [f"x1 >= {threshold}"], NAMES)
    if always.holds_on(star):
        assert np.all(always.violation(pts) <= 1e-9)
    if avoid.holds_on(star):
        assert np.all(avoid.violation(pts) < 1e-9)
    if np.any(pts[:, 0] > threshold + 1e-9):
        assert not always.holds_on(star)
    if np.any(pts[:, 0] >= threshold + 1e-9):
        assert not avoid.holds_on(star)
