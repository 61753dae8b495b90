"""Tests of nncs/sets/lp.py: certified bounds against scipy, infeasibility, unboundedness, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from nncs.sets import lp
from tests.sets.strategies import seeds


def test_known_optimum():
    # max x + y s.t. x + 2y <= 4, 3x + y <= 6, 0 <= x, y <= 10: optimum 2.8 at (1.6, 1.2)
    A = np.array([[1.0, 2.0], [3.0, 1.0]])
    lo, hi = lp.lp_bounds(np.array([[1.0, 1.0]]), A, [4, 6], [0, 0], [10, 10])
    assert hi[0] == pytest.approx(2.8, abs=1e-9) and hi[0] >= 2.8 - 1e-15
    assert lo[0] == pytest.approx(0.0, abs=1e-9) and lo[0] <= 0.0


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 8), st.integers(0, 12))
def test_certified_bounds_enclose_scipy_optimum(seed, m, k):
    rng = np.random.default_rng(seed)
    lb = rng.uniform(-2, 0, m)
    ub = lb + rng.uniform(0.1, 3, m)
    A = rng.normal(size=(k, m))
    b = A @ rng.uniform(lb, ub) + rng.uniform(0, 1, k)
    c = rng.normal(size=m)
    program = lp.LinearProgram(A, b, lb, ub)
    ref = linprog(c, A_ub=A if k else None, b_ub=b if k else None, bounds=list(zip(lb, ub)), method="highs")
    assert ref.status == 0
    certified = program.minimize(c)
    assert certified <= ref.fun + 1e-12
    assert certified == pytest.approx(ref.fun, abs=1e-7)
    ref_max = linprog(
        -c, A_ub=A if k else None, b_ub=b if k else None, bounds=list(zip(lb, ub)), method="highs"
    )
    assert program.maximize(c) >= -ref_max.fun - 1e-12


def test_infeasible_and_unbounded():
    A = np.array([[1.0], [-1.0]])
    with pytest.raises(lp.InfeasibleLP):
        lp.lp_bounds(np.eye(1), A, [0.0, -1.0], [-5.0], [5.0])  # x <= 0 and x >= 1
    assert not lp.is_feasible(A, [0.0, -1.0], [-5.0], [5.0])
    assert lp.is_feasible(A, [1.0, 0.0], [-5.0], [5.0])
    violation, _ = lp.min_violation(A, [0.0, -1.0], [-5.0], [5.0])
    assert violation == pytest.approx(0.5, abs=1e-7)
    with pytest.raises(lp.UnboundedLP):
        lp.LinearProgram(np.array([[1.0]]), [1.0], [-np.inf], [np.inf]).minimize([1.0])


def test_barely_feasible_is_not_declared_empty():
    # x <= 1e-9 with x >= 0: a tiny but real feasible set
    assert lp.is_feasible(np.array([[1.0]]), [1e-9], [0.0], [1.0])


def test_rhs_change_keeps_model():
    program = lp.LinearProgram(np.array([[1.0, 1.0]]), [1.0], [0, 0], [5, 5])
    assert program.maximize([1.0, 1.0]) == pytest.approx(1.0)
    program.set_rhs([3.0])
    assert program.maximize([1.0, 1.0]) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="b_ub"):
        program.set_rhs([1.0, 2.0])


@pytest.mark.parametrize(
    "A, b, lb, ub, word",
    [
        ([[1.0, 0.0]], [1.0, 2.0], [0, 0], [1, 1], "rows"),
        ([[np.nan, 0.0]], [1.0], [0, 0], [1, 1], "A_ub"),
        ([[1.0, 0.0]], [1.0], [0, 2], [1, 1], "lower bound above"),
        ([[1.0, 0.0]], [1.0], [0, 0], [1], "ub"),
    ],
)
def test_bad_input(A, b, lb, ub, word):
    with pytest.raises(ValueError, match=word):
        lp.LinearProgram(np.array(A), b, lb, ub)
