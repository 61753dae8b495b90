"""Tests of nncs/dynamics/taylor_model.py: random expressions in up to 3 variables (+, -, *, powers, exp, sin,
cos, sqrt, 1/x) built as Taylor models; at sampled domain points the exact value (mpmath, 40 digits, an
independent evaluation) lies in the model's enclosure there and in the model's bound over the domain."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nncs.dynamics.taylor_model import MAX_MONOMIALS, TaylorModel, monomials

mpmath.mp.dps = 40

UNARY = ("exp", "sin", "cos", "sqrt", "recip")
BINARY = ("add", "sub", "mul")


def expressions(n: int):
    leaves = st.one_of(
        st.tuples(st.just("var"), st.integers(0, n - 1)),
        st.tuples(st.just("const"), st.floats(-2, 2, allow_nan=False)),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(BINARY), inner, inner),
            st.tuples(st.sampled_from(UNARY), inner),
            st.tuples(st.just("pow"), inner, st.integers(0, 3)),
        ),
        max_leaves=6,
    )


def build(expr, xs, n, order):
    """The Taylor model of `expr`; sqrt and 1/x take `a*a + 1` of their argument (positive)."""
    kind = expr[0]
    if kind == "var":
        return xs[expr[1]]
    if kind == "const":
        return TaylorModel.constant(expr[1], n, order)
    if kind in BINARY:
        a, b = build(expr[1], xs, n, order), build(expr[2], xs, n, order)
        return {"add": a + b, "sub": a - b, "mul": a * b}[kind]
    if kind == "pow":
        return build(expr[1], xs, n, order) ** expr[2]
    a = build(expr[1], xs, n, order)
    if kind in ("sqrt", "recip"):
        a = a * a + 1.0
        return a.sqrt() if kind == "sqrt" else a.reciprocal()
    return getattr(a, kind)()


def exact(expr, x):
    """The value of `expr` at the point x (mpmath numbers)."""
    kind = expr[0]
    if kind == "var":
        return x[expr[1]]
    if kind == "const":
        return mpmath.mpf(expr[1])
    if kind in BINARY:
        a, b = exact(expr[1], x), exact(expr[2], x)
        return {"add": a + b, "sub": a - b, "mul": a * b}[kind]
    if kind == "pow":
        return exact(expr[1], x) ** expr[2]
    a = exact(expr[1], x)
    if kind in ("sqrt", "recip"):
        a = a * a + 1
        return mpmath.sqrt(a) if kind == "sqrt" else 1 / a
    return {"exp": mpmath.exp, "sin": mpmath.sin, "cos": mpmath.cos}[kind](a)


def _inside(value, lo, hi) -> bool:
    return mpmath.mpf(float(lo)) <= value <= mpmath.mpf(float(hi))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 3).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(1, 4),
            st.lists(st.tuples(st.floats(-2, 1.5), st.floats(0, 1.0)), min_size=n, max_size=n),
            expressions(n),
            st.integers(0, 2**31),
        )
    )
)
def test_sampled_points_evaluate_inside_the_model(case):
    n, order, box, expr, seed = case
    lo = np.array([a for a, _ in box])
    hi = lo + np.array([w for _, w in box])
    xs = TaylorModel.box(lo, hi, order)
    model = build(expr, xs, n, order)
    whole = model.bound()
    rng = np.random.default_rng(seed)
    t = np.vstack([rng.uniform(-1, 1, size=(12, n)), -np.ones((1, n)), np.ones((1, n))])
    at = model.evaluate(t)
    for k, tk in enumerate(t):
        # the point of the domain that t denotes: x_i = mid_i + rad_i t_i with the model's own (exact) floats
        x = [mpmath.mpf(float(v.coeffs.lo[0])) + mpmath.mpf(float(v.coeffs.lo[1 + i])) * mpmath.mpf(float(tk[i]))
             for i, v in enumerate(xs)]  # fmt: skip
        value = exact(expr, x)
        assert _inside(value, at.lo[k], at.hi[k]), (
            f"{expr} at t = {tk}: {value} not in [{at.lo[k]}, {at.hi[k]}]"
        )
        assert _inside(value, whole.lo, whole.hi), (
            f"{expr}: {value} outside the bound [{whole.lo}, {whole.hi}]"
        )


def test_the_variables_cover_their_box():
    for lo, hi in ((0.1, 0.3), (-1.0, 1e-300), (2.0, 2.0), (-3.7, 12.25)):
        (x,) = TaylorModel.box([lo], [hi], 3)
        b = x.bound()
        assert b.lo <= lo and b.hi >= hi


def test_exp_is_tight_at_high_order():
    (x,) = TaylorModel.box([0.0], [1.0], 6)
    b = x.exp().bound()
    assert b.lo <= 1.0 and b.hi >= math.e  # an enclosure ...
    assert b.hi - math.e < 1e-3  # ... whose upper end is tight (the remainder is e / 7! * 0.5^7)
    r = x.exp().remainder
    assert 0 < r.hi - r.lo < 1e-4


def test_products_keep_the_dependency_that_intervals_lose():
    (x,) = TaylorModel.box([-1.0], [1.0], 2)
    zero = x * x - x * x  # the same polynomial twice: the coefficients cancel to rounding
    b = zero.bound()
    assert b.lo <= 0 <= b.hi and b.hi - b.lo < 1e-12


def test_refusals_are_clear():
    (x,) = TaylorModel.box([-1.0], [1.0], 3)
    with pytest.raises(ValueError, match="may contain 0"):
        x.reciprocal()
    with pytest.raises(ValueError, match="is not positive"):
        x.sqrt()
    with pytest.raises(ValueError, match="different domains or orders"):
        x + TaylorModel.box([0.0], [1.0], 2)[0]
    with pytest.raises(ValueError, match="finite lo <= hi"):
        TaylorModel.box([1.0], [0.0], 2)
    with pytest.raises(ValueError, match="at most"):
        monomials(40, 10)
    assert len(monomials(3, 4)) == math.comb(7, 4) and MAX_MONOMIALS >= 1000
