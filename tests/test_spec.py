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
    assert (
        windowed.applies(0.4, 0.6, 2.0)
        and not windowed.applies(0.0, 0.45, 2.0)
        and not windowed.applies(1.1, 2, 2)
    )
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


# ------------------------------------------------------------------ the spec interface (one home per kind)
def _by_hand(kind, states, constraints):
    """Violation per state from the constraint list [(a1, a2, c)] meaning a1*x1 + a2*x2 <= c (independent of
    the spec code): always/goal: the largest excess; avoid: minus the largest excess."""
    excess = np.max([states @ np.array([a1, a2]) - c for a1, a2, c in constraints], axis=0)
    return -excess if kind == "avoid" else excess


@pytest.mark.parametrize("kind", ["always", "goal", "avoid"])
def test_violation_is_the_same_measure_on_numpy_and_jax_arrays(kind):
    from nncs._jax import jnp

    spec = make_spec(kind, ["x1 <= 1", "x1 + 2*x2 <= 3"], NAMES)
    states = np.random.default_rng(5).normal(size=(4, 7, 2)) * 2
    expected = _by_hand(kind, states, [(1, 0, 1), (1, 2, 3)])
    np.testing.assert_allclose(spec.violation(states), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(spec.violation(jnp.asarray(states))), expected, rtol=0, atol=1e-12)
    # positive violation exactly when a sampled state is outside the spec's allowed set
    inside = np.all(states @ np.array([[1, 0], [1, 2]]).T <= np.array([1, 3]), axis=-1)
    assert np.array_equal(spec.violation(states) > 0, inside if kind == "avoid" else ~inside)


def test_time_masks_and_where_specs_are_checked():
    times = np.linspace(0.0, 2.0, 21)
    goal = make_spec("goal", ["x1 <= 1"], NAMES)
    always = make_spec("always", ["x1 <= 1"], NAMES, window=(0.5, 1.0))
    avoid = make_spec("avoid", ["x1 >= 5"], NAMES)
    assert goal.at_final_time and not always.at_final_time and not avoid.at_final_time
    assert goal.time_mask(times, 2.0).tolist() == [False] * 20 + [True]
    assert np.array_equal(np.flatnonzero(always.time_mask(times, 2.0)), np.arange(5, 11))
    assert avoid.time_mask(times, 2.0).all()
    assert always.applies(0.9, 1.2, 2.0) and not always.applies(1.1, 1.2, 2.0)
    assert goal.applies(1.9, 2.0, 2.0) and not goal.applies(0.0, 1.0, 2.0)


def test_spec_kinds_registry_builds_each_kind_and_refuses_others():
    from nncs.spec import SPEC_KINDS

    assert set(SPEC_KINDS) == {"always", "goal", "avoid"}
    for kind, cls in SPEC_KINDS.items():
        spec = make_spec(kind, ["x1 <= 1"], NAMES)
        assert type(spec) is cls and spec.kind == kind
    with pytest.raises(ValueError, match="unknown spec kind 'alwys'"):
        make_spec("alwys", ["x1 <= 1"], NAMES)
    with pytest.raises(ValueError, match="checked at the final time"):
        make_spec("goal", ["x1 <= 1"], NAMES, window=(0, 1))


def test_falsify_objective_is_the_specs_own_measure():
    from nncs.loop.falsify import _objective_fn, _spec_violations

    specs = [
        make_spec("always", ["x1 <= 1"], NAMES, window=(0.2, 0.6)),
        make_spec("avoid", ["x2 >= 2"], NAMES),
        make_spec("goal", ["x1 + x2 <= 0.5"], NAMES),
    ]
    times = np.linspace(0.0, 1.0, 11)
    states = np.random.default_rng(2).normal(size=(6, 11, 2))
    jax_values = np.asarray(_objective_fn(specs, times, 1.0)(states))
    per_spec = np.stack(
        [
            np.where(s.time_mask(times, 1.0), _by_hand(s.kind, states, c), -np.inf).max(axis=1)
            for s, c in zip(specs, [[(1, 0, 1)], [(0, -1, -2)], [(1, 1, 0.5)]])
        ]
    )
    np.testing.assert_allclose(jax_values, per_spec.max(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(_spec_violations(specs, times, states, 1.0), per_spec, rtol=0, atol=1e-12)
