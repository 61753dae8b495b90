"""Tests of nncs/expressions.py: affine maps and linear constraints parsed from strings, and their errors."""

import numpy as np
import pytest

from nncs.expressions import affine_map, linear_constraint

NAMES = ["x_lead", "v_lead", "x_ego", "v_ego"]


def test_affine_map_known():
    W, b = affine_map(["30", "x_lead - x_ego", "2*v_ego + 1.5", 4], NAMES, "inputs")
    np.testing.assert_array_equal(W, [[0, 0, 0, 0], [1, 0, -1, 0], [0, 0, 0, 2], [0, 0, 0, 0]])
    np.testing.assert_array_equal(b, [30, 0, 1.5, 4])


def test_linear_constraint_both_directions():
    h, g = linear_constraint("x_lead - x_ego >= 10 + 1.4*v_ego", NAMES, "spec")
    np.testing.assert_allclose(h, [-1, 0, 1, 1.4])
    assert g == pytest.approx(-10)
    x = np.array([100.0, 0, 10, 30])  # 90 >= 52: holds
    assert h @ x <= g
    h2, g2 = linear_constraint("v_ego <= 3", NAMES, "spec")
    np.testing.assert_array_equal(h2, [0, 0, 0, 1])
    assert g2 == 3


@pytest.mark.parametrize(
    "text, word",
    [
        ("x_lead * x_ego", "not affine"),
        ("sin(v_ego)", "not affine"),
        ("speed + 1", "unknown names"),
        ("x_lead +* 2", "cannot parse"),
    ],
)
def test_affine_errors(text, word):
    with pytest.raises(ValueError, match=word):
        affine_map([text], NAMES, "controller.inputs")


@pytest.mark.parametrize(
    "text, word",
    [
        ("x_lead", "no relation"),
        ("x_lead <= 1 <= 2", "more than one"),
        ("3 >= 2", "does not involve"),
        ("x_lead**2 <= 1", "not affine"),
    ],
)
def test_constraint_errors(text, word):
    with pytest.raises(ValueError, match=word):
        linear_constraint(text, NAMES, "spec[0]")


@pytest.mark.parametrize(
    "text", ["__import__('os').getpid()*0 + x", "().__class__ and x", "x.func(1)", "(x).args", "x + I"]
)
def test_expressions_cannot_run_code_or_reach_python_names(text):
    with pytest.raises(ValueError, match="spec"):
        affine_map([text], ["x"], "spec")


def test_plant_dynamics_share_the_restricted_parser():
    from nncs.dynamics.symbolic import SymbolicPlant

    with pytest.raises(ValueError, match="attribute access"):
        SymbolicPlant(["x"], ["u"], ["().__class__ + u"])
