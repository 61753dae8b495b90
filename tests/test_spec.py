"""Tests of nncs/spec.py: sound set checks of always / goal / avoid against sampled points, and trace measures."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ------------------------------------------------------------------------ strict constraints, explanations
def test_strict_always_needs_the_set_strictly_inside():
    strict = make_spec("always", ["x1 < 1"], NAMES)
    closed = make_spec("always", ["x1 <= 1"], NAMES)
    assert strict.strict == (True,) and closed.strict == ()
    touching = nncs.Box([0, 0], [1, 1])  # reaches x1 = 1, which violates x1 < 1
    assert closed.holds_on(touching) and not strict.holds_on(touching)
    assert strict.holds_on(nncs.Box([0, 0], [0.999, 1]))
    assert not make_spec("goal", ["x2 > 0"], NAMES).holds_on(touching)  # x2 = 0 is in the box
    assert make_spec("goal", ["x2 > -0.5"], NAMES).holds_on(touching)


def test_strict_avoid_is_avoided_with_its_boundary():
    spec = make_spec("avoid", ["x1 > 1"], NAMES)  # the open region x1 > 1
    assert spec.strict == (True,)
    assert spec.holds_on(nncs.Box([0, 0], [0.9, 1]))
    # the box touches only the boundary x1 = 1, outside the open region: not proven (conservative, sound)
    assert not spec.holds_on(nncs.Box([0, 0], [1, 1]))
    # on traces the open region is measured exactly: a state on the boundary is not inside it
    assert spec.violation(np.array([[1.0, 0.0]]))[0] == 0.0


def _plane_star(seed):
    from tests.sets.strategies import random_star

    rng = np.random.default_rng(seed)
    return random_star(rng, 2, int(rng.integers(1, 4)), int(rng.integers(0, 4)))


@settings(max_examples=25, deadline=None)
@given(seeds, seeds)
def test_strict_checks_agree_with_samples(star_seed, seed):
    star = _plane_star(star_seed)
    points = star.sample(200, np.random.default_rng(seed))
    level = float(np.quantile(points[:, 0], 0.7))
    for text, inside in (
        (f"x1 < {level!r}", lambda p: p[:, 0] < level),
        (f"x1 > {level!r}", lambda p: p[:, 0] > level),
    ):
        spec = make_spec("always", [text], NAMES)
        if spec.holds_on(star):
            assert np.all(inside(points)), text


def _brute_force_worst(spec, times, states, horizon):
    """The worst (condition, amount, time) by plain loops over rows and times (independent of spec.py)."""
    best = None
    for t, x in zip(times, states):
        if not spec.time_mask(np.array([t]), horizon)[0]:
            continue
        if spec.kind == "avoid":
            candidates = [
                (" and ".join(spec.text), -max(h @ x - g for h, g in zip(spec.region.H, spec.region.g)))
            ]
        else:
            candidates = [(text, h @ x - g) for text, h, g in zip(spec.text, spec.region.H, spec.region.g)]
        for condition, amount in candidates:
            if best is None or amount > best[1]:
                best = (condition, amount, t)
    return best


@pytest.mark.parametrize(
    "kind, constraints, window",
    [
        ("always", ["x1 >= -0.5", "x1 <= 0.8", "x1 + x2 <= 1.5"], (0.2, 0.9)),
        ("goal", ["x1 >= 0.4", "x2 <= 0.1"], None),
        ("avoid", ["x1 >= 0.5", "x2 >= 0.3"], None),
    ],
)
def test_worst_violation_names_the_condition_amount_and_time(kind, constraints, window):
    spec = make_spec(kind, constraints, NAMES, window)
    times = np.linspace(0, 1, 41)
    states = np.column_stack([np.sin(3 * times), np.cos(2 * times) - 0.3])
    worst = spec.worst_violation(times, states, 1.0)
    condition, amount, t = _brute_force_worst(spec, times, states, 1.0)
    assert worst.condition == condition and worst.time == t
    assert worst.amount == pytest.approx(amount, abs=1e-12)
    assert worst.amount == pytest.approx(spec.violation(states[spec.time_mask(times, 1.0)]).max(), abs=1e-12)
    assert f"`{condition}` violated by" in worst.describe()


@settings(max_examples=25, deadline=None)
@given(seeds, seeds)
def test_shortfall_is_a_certified_bound_on_sampled_points(star_seed, seed):
    star = _plane_star(star_seed)
    points = star.sample(300, np.random.default_rng(seed))
    always = make_spec("always", ["x1 <= 0", "x1 + 2*x2 <= 1"], NAMES)
    sf = always.shortfall(star)
    row = always.text.index(sf.condition)
    assert sf.excess >= (points @ always.region.H[row] - always.region.g[row]).max() - 1e-9
    assert (sf.excess <= 0) == always.holds_on(star) or sf.excess == pytest.approx(0, abs=1e-7)
    avoid = make_spec("avoid", ["x1 >= 0.5", "x2 <= -0.5"], NAMES)
    sf = avoid.shortfall(star)
    # minus the best separation: if negative, no sampled point is inside the region
    if sf.excess < 0:
        assert np.all(avoid.violation(points) < 0)


def test_shortfall_of_a_box_is_the_exact_excess():
    box = nncs.Box([0, -1], [2, 1])
    spec = make_spec("always", ["x1 <= 1.5", "x2 >= -3"], NAMES)
    sf = spec.shortfall(box)
    assert sf.condition == "x1 <= 1.5" and sf.excess == pytest.approx(0.5)  # max x1 = 2 on the box
    avoid = make_spec("avoid", ["x1 >= 3", "x2 >= 0"], NAMES)
    assert avoid.shortfall(box).excess == pytest.approx(-1.0)  # x1 <= 2 keeps 1 away from x1 >= 3


def test_specs_round_trip_through_their_report_form():
    from nncs.spec import spec_from_dict

    for spec in (
        make_spec("always", ["x1 >= 0", "x2 < 1"], NAMES, (0.5, 2.0)),
        make_spec("goal", ["x1 >= -0.1"], NAMES),
        make_spec("avoid", ["x1 > 1", "x2 > 1"], NAMES),
    ):
        back = spec_from_dict(spec.to_dict(), NAMES)
        assert type(back) is type(spec) and back.text == spec.text and back.window == spec.window
        assert back.strict == spec.strict
        np.testing.assert_array_equal(back.region.H, spec.region.H)
        np.testing.assert_array_equal(back.region.g, spec.region.g)
    assert (
        make_spec("always", ["x1 >= 0"], NAMES, (0.5, 2.0)).describe() == "always x1 >= 0 (t in [0.5, 2] s)"
    )


@pytest.mark.parametrize(
    "data, match",
    [
        ([], "expected an object"),
        ({"kind": "always", "constraints": "x1 >= 0"}, "constraints"),
        ({"kind": "always", "constraints": ["x1 >= 0"], "window": [0, "1"]}, "window"),
        ({"kind": "always", "constraints": ["x1 >= 0"], "window": [0, float("nan")]}, "window"),
        ({"kind": "sometimes", "constraints": ["x1 >= 0"]}, "unknown spec kind"),
        ({"kind": "always", "constraints": ["__import__('os') >= 0"]}, "spec"),
    ],
)
def test_spec_from_dict_refuses_malformed_entries(data, match):
    from nncs.spec import spec_from_dict

    with pytest.raises(ValueError, match=match):
        spec_from_dict(data, NAMES)


# ------------------------------------------------------------------------------------- named constants
def test_specs_may_use_named_constants_such_as_plant_parameters():
    from nncs.spec import make_spec

    names = ["x", "L2"]
    with_constant = make_spec("always", ["x <= L", "L2 >= -L"], names, constants={"L": 2.5})
    as_numbers = make_spec("always", ["x <= 2.5", "L2 >= -2.5"], names)
    assert np.array_equal(with_constant.region.H, as_numbers.region.H)
    assert np.array_equal(with_constant.region.g, as_numbers.region.g)
    assert with_constant.text == ("x <= L", "L2 >= -L")  # messages show the text as written
    assert with_constant.constants == (("L", 2.5),)
    assert with_constant.resolved_text() == ("x <= (2.5)", "L2 >= -(2.5)")  # L2 (a state) untouched
    assert as_numbers.constants == () and as_numbers.resolved_text() == as_numbers.text


def test_constants_are_substituted_exactly_and_round_trip_through_reports():
    import sympy as sp

    from nncs.spec import make_spec, spec_from_dict

    spec = make_spec("goal", ["3*x <= c"], ["x"], constants={"c": sp.Rational(1, 1)})
    assert spec.region.g[0] == 1.0 and spec.region.H[0, 0] == 3.0
    back = spec_from_dict(spec.to_dict(), ["x"])
    assert back.to_dict() == spec.to_dict() and back.to_dict()["constants"] == {"c": 1.0}
    assert np.array_equal(back.region.H, spec.region.H) and np.array_equal(back.region.g, spec.region.g)
    with pytest.raises(ValueError, match="constants: expected an object"):
        spec_from_dict({**spec.to_dict(), "constants": {"c": "1"}}, ["x"])
    with pytest.raises(ValueError, match="unknown names"):
        spec_from_dict({**spec.to_dict(), "constants": {}}, ["x"])


def test_a_constant_that_is_not_a_number_is_refused():
    from nncs.spec import make_spec

    with pytest.raises(ValueError, match="the constant 'L' must be a number"):
        make_spec("always", ["x <= L"], ["x"], constants={"L": "2"})


# ------------------------------------------------------------------------------------ nonlinear conditions
NONLINEAR = [
    ("always", ["x1*x2 <= 0.5", "x1 <= 2"]),
    ("always", ["sqrt(x1^2 + x2^2) <= 1.5 + 0.1*x1"]),
    ("goal", ["sin(x1) + x2^2 <= 1"]),
    ("avoid", ["(x1 - 0.5)^2 + (x2 - 0.5)^2 <= 0.3"]),
    ("avoid", ["x1*x2 >= 0.2", "x1 >= 0"]),
]


@settings(max_examples=30, deadline=None)
@given(case=st.sampled_from(NONLINEAR), seed=seeds)
def test_a_nonlinear_spec_violated_at_a_point_of_a_set_is_never_held_on_it(case, seed):
    from tests.sets.strategies import random_star

    rng = np.random.default_rng(seed)
    star = random_star(rng, 2, 3, 2)
    kind, constraints = case
    spec = make_spec(kind, constraints, NAMES)
    points = star.sample(300, np.random.default_rng(seed))
    if np.any(spec.violation(points) > 1e-9):
        assert not spec.holds_on(star)
    assert spec.shortfall(star).excess >= (
        -np.inf if kind == "avoid" else float(np.max(_nonlinear_by_hand(constraints, points)) - 1e-9)
    )


def _nonlinear_by_hand(constraints, points):
    """Per point, the largest lhs - rhs of `always` / `goal` constraints written with numpy (NONLINEAR)."""
    x1, x2 = points.T
    table = {
        "x1*x2 <= 0.5": x1 * x2 - 0.5,
        "x1 <= 2": x1 - 2,
        "sqrt(x1^2 + x2^2) <= 1.5 + 0.1*x1": np.sqrt(x1**2 + x2**2) - 1.5 - 0.1 * x1,
        "sin(x1) + x2^2 <= 1": np.sin(x1) + x2**2 - 1,
    }
    return np.max([table[c] for c in constraints], axis=0)


def test_nonlinear_conditions_are_decided_on_sets_and_traces():
    names = ["x", "y", "vx", "vy"]
    docking = make_spec(
        "always", ["sqrt(vx^2 + vy^2) <= 0.2 + 2*n*sqrt(x^2 + y^2)"], names, constants={"n": 0.001027}
    )
    assert docking.nonlinear and len(docking.region.g) == 0
    # the ARCH X0: at the corner (70, 70, 0.28, 0.28) the margin is 0.0074 (shared README), so it holds on the box
    x0 = nncs.Box([70, 70, -0.28, -0.28], [106, 106, 0.28, 0.28])
    assert docking.holds_on(x0)
    margin = 0.2 + 2 * 0.001027 * math.hypot(70, 70) - math.hypot(0.28, 0.28)
    assert docking.shortfall(x0).excess == pytest.approx(-margin, abs=1e-9)
    wider = nncs.Box([70, 70, -0.3, -0.3], [106, 106, 0.3, 0.3])
    assert not docking.holds_on(wider)
    corner = np.array([[70.0, 70.0, 0.3, -0.3]])
    v = docking.worst_violation(np.array([0.0]), corner, 1.0)
    assert v.condition == docking.text[0] and v.amount == pytest.approx(
        math.hypot(0.3, 0.3) - 0.2 - 2 * 0.001027 * math.hypot(70, 70)
    )
    assert docking.to_dict()["constants"] == {"n": 0.001027}


def test_mixed_affine_and_nonlinear_conditions_keep_their_positions():
    spec = make_spec("always", ["x1 <= 1", "x1*x2 <= 0.5", "x2 >= -1"], NAMES)
    assert spec.affine_rows == (0, 2) and [c.index for c in spec.nonlinear] == [1]
    pts = np.array([[0.9, 0.9], [0.0, -2.0], [2.0, 0.0]])
    # the worst condition per single state: x1*x2 (0.31), x2 >= -1 (1.0), x1 <= 1 (1.0)
    for k, condition in enumerate(["x1*x2 <= 0.5", "x2 >= -1", "x1 <= 1"]):
        assert spec.worst_violation(np.array([0.0]), pts[k : k + 1], 1.0).condition == condition
    np.testing.assert_allclose(spec.violation(pts), [0.31, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"spec\[2\].*speed"):
        make_spec("always", ["x1 <= 1", "x1*x2 <= 0.5", "speed >= -1"], NAMES)
    with pytest.raises(ValueError, match=r"spec\[1\].*involve"):
        make_spec("always", ["x1 <= 1", "sin(2) <= 0.5"], NAMES)


def test_a_nonlinear_avoid_is_separated_only_where_the_region_is_out_of_reach():
    disc = make_spec("avoid", ["(x1 - 2)^2 + (x2 - 2)^2 <= 1"], NAMES)
    assert disc.holds_on(nncs.Box([0, 0], [1.2, 1.2]))  # the closest corner (1.2, 1.2) is 1.13 from (2, 2)
    assert not disc.holds_on(nncs.Box([0, 0], [1.5, 1.5]))
    np.testing.assert_allclose(disc.violation(np.array([[2.0, 2.0], [0.0, 2.0]])), [1.0, -3.0])
    # the affine conditions cut the set first: x1 >= 1.8 leaves none of the box [0, 1.5]^2
    assert make_spec("avoid", ["(x1 - 2)^2 + (x2 - 2)^2 <= 1", "x1 >= 1.8"], NAMES).holds_on(
        nncs.Box([0, 0], [1.5, 1.5])
    )
    undefined = make_spec("avoid", ["sqrt(x1) <= 1"], NAMES)
    assert undefined.violation(np.array([[-1.0, 0.0]]))[0] < 0  # outside the domain: outside the region


def test_nonlinear_violation_is_the_same_on_numpy_and_jax_arrays():
    from nncs._jax import jnp

    spec = make_spec("always", ["x1*x2 <= 0.5", "sqrt(x1^2 + x2^2) <= 2"], NAMES)
    states = np.random.default_rng(3).normal(size=(4, 6, 2))
    expected = _nonlinear_by_hand(["x1*x2 <= 0.5"], states.reshape(-1, 2)).reshape(4, 6)
    expected = np.maximum(expected, np.sqrt((states**2).sum(-1)) - 2)
    np.testing.assert_allclose(spec.violation(states), expected, atol=1e-12)
    np.testing.assert_allclose(np.asarray(spec.violation(jnp.asarray(states))), expected, atol=1e-12)


def test_nonlinear_specs_round_trip_through_their_report_form():
    from nncs.spec import spec_from_dict

    spec = make_spec("avoid", ["x1*x2 >= c", "x1 >= 0"], NAMES, window=(0, 1), constants={"c": 0.2})
    again = spec_from_dict(spec.to_dict(), NAMES)
    pts = np.random.default_rng(0).uniform(-1, 1, size=(50, 2))
    np.testing.assert_array_equal(again.violation(pts), spec.violation(pts))
    assert again.cache_key() == spec.cache_key()
