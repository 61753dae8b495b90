"""Tests of nncs/state_expression.py: values on numpy and JAX arrays, and bounds on sets that contain every
sampled value (sound), tighten with the budget, and use LP pruning on sets thinner than their box hull."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncs
from nncs.state_expression import StateExpression
from tests.sets.strategies import random_set, seeds

NAMES = ("x", "y", "z")

# expression text -> the same function written with numpy (independent of the code under test)
EXPRESSIONS = {
    "x*y - z": lambda x, y, z: x * y - z,
    "sin(x) + cos(y)*z": lambda x, y, z: np.sin(x) + np.cos(y) * z,
    "exp(x - y) - z^2": lambda x, y, z: np.exp(x - y) - z**2,
    "sqrt(x^2 + y^2 + 1) - 2*z": lambda x, y, z: np.sqrt(x**2 + y**2 + 1) - 2 * z,
    "1/(x^2 + 1) + y*z": lambda x, y, z: 1 / (x**2 + 1) + y * z,
    "tanh(x*z) - atan(y)": lambda x, y, z: np.tanh(x * z) - np.arctan(y),
    "(x - y)^3 + abs(z)": lambda x, y, z: (x - y) ** 3 + np.abs(z),
}


@pytest.mark.parametrize("text", sorted(EXPRESSIONS))
def test_values_match_numpy_on_numpy_and_jax_arrays(text):
    from nncs._jax import jnp

    e = StateExpression.parse(text, NAMES, "test")
    states = np.random.default_rng(0).uniform(-2, 2, size=(5, 7, 3))
    expected = EXPRESSIONS[text](*np.moveaxis(states, -1, 0))
    np.testing.assert_allclose(e.values(states), expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.asarray(e.values(jnp.asarray(states))), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    text=st.sampled_from(sorted(EXPRESSIONS)), kind=st.sampled_from(["box", "zonotope", "star"]), seed=seeds
)
def test_bounds_contain_every_sampled_value(text, kind, seed):
    rng = np.random.default_rng(seed)
    s = random_set(kind, rng, 3)
    e = StateExpression.parse(text, NAMES, "test")
    values = EXPRESSIONS[text](*s.sample(400, rng).T)
    for budget in (1, 16):
        lo, hi = e.lower_bound(s, budget=budget), e.upper_bound(s, budget=budget)
        assert lo <= values.min() and values.max() <= hi


def test_the_bound_tightens_with_the_budget_towards_the_sampled_range():
    e = StateExpression.parse("x*y", NAMES, "test")
    s = nncs.Box([-1, -1, 0], [1, 1, 0]).to_star()
    rough = e.upper_bound(s, budget=1)
    fine = e.upper_bound(s, budget=256)
    assert rough == pytest.approx(1.0, abs=1e-9)
    assert fine <= rough and fine >= 1.0 - 1e-9  # the box corner reaches 1: nothing to gain, nothing lost
    # x*(1 - x) on [0, 1]: the interval bound is 1 at first, the true maximum 0.25
    e2 = StateExpression.parse("x*(1 - x)", NAMES, "test")
    b = nncs.Box([0, 0, 0], [1, 0, 0])
    assert e2.upper_bound(b, budget=1) >= 1.0 - 1e-9
    tight = e2.upper_bound(b, budget=256)
    assert 0.25 <= tight <= 0.3


def test_sub_boxes_that_miss_a_thin_set_are_pruned_by_lp():
    # the segment y = -x, x in [-1, 1]: its box hull is [-1, 1]^2, where x*y reaches 1; on the segment x*y <= 0
    seg = nncs.Star(
        np.zeros(3), np.array([[1.0], [-1.0], [0.0]]), np.zeros((0, 1)), np.zeros(0), [-1.0], [1.0]
    )
    e = StateExpression.parse("x*y", NAMES, "test")
    assert e.upper_bound(seg, budget=1) >= 1.0 - 1e-9
    bound = e.upper_bound(seg, budget=128)
    assert 0.0 <= bound < 0.1
    assert e.upper_bound(seg, target=0.05, budget=128) <= 0.05  # stops once the target is met


def test_a_target_stops_the_search_early_and_strict_targets_need_a_strict_margin():
    e = StateExpression.parse("x^2", NAMES, "test")
    b = nncs.Box([-1, 0, 0], [1, 0, 0])
    assert e.upper_bound(b, target=1.0) <= 1.0 + 1e-12
    assert e.upper_bound(b, target=1.0, strict=True) >= 1.0  # cannot get below the true maximum 1


def test_an_expression_undefined_on_part_of_the_set_is_still_bounded_soundly():
    e = StateExpression.parse("sqrt(x)", NAMES, "test")
    b = nncs.Box([-1, 0, 0], [4, 0, 0])
    assert e.upper_bound(b) >= 2.0  # sqrt on the part of [-1, 4] inside its domain
    entirely_outside = nncs.Box([-3, 0, 0], [-1, 0, 0])
    assert e.upper_bound(entirely_outside) == math.inf and e.lower_bound(entirely_outside) == -math.inf
    assert np.isnan(e.values(np.array([[-1.0, 0.0, 0.0]])))[0]


def test_affine_expressions_use_exact_support_functions():
    e = StateExpression.parse("2*x - y + 1", NAMES, "test")
    assert e.affine is not None and np.allclose(e.affine[0], [2, -1, 0]) and e.affine[1] == 1.0
    assert e.bounds(nncs.Box([0, 0, 0], [1, 1, 1])) == (0.0, 3.0)
    assert StateExpression.parse("x*y", NAMES, "test").affine is None


def test_named_constants_are_substituted_and_unknown_names_refused():
    e = StateExpression.parse("2*n*x", NAMES, "spec", constants={"n": 0.5})
    assert e.values(np.array([[3.0, 0, 0]]))[0] == 3.0
    with pytest.raises(ValueError, match="spec.*'speed'"):
        StateExpression.parse("speed*x", NAMES, "spec")
