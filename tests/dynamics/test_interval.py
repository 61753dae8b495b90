"""Property tests of nncs/dynamics/interval.py: interval results contain the exact real results of sampled points.

The reference values are computed with mpmath at 60 digits, so the tests check soundness in real arithmetic.
"""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncs  # noqa: F401  (float64 JAX, not needed here but keeps imports uniform)
from nncs.dynamics import interval as I

mpmath.mp.dps = 60
SETTINGS = settings(max_examples=40, deadline=None)

finite = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False, allow_infinity=False)
width = st.floats(min_value=0.0, max_value=20.0, allow_nan=False, allow_infinity=False)
fractions = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=6)


def _points(lo: float, hi: float, fr: list[float]) -> list[float]:
    """The end points and some interior points of [lo, hi] (as exact doubles)."""
    pts = [lo, hi] + [lo + f * (hi - lo) for f in fr]
    return [min(max(p, lo), hi) for p in pts]


def _inside(iv: I.Interval, k: int, value) -> bool:
    return mpmath.mpf(float(iv.lo.flat[k])) <= value <= mpmath.mpf(float(iv.hi.flat[k]))


@st.composite
def intervals(draw, lo_min=-50.0, lo_max=50.0, max_width=20.0):
    lo = draw(st.floats(min_value=lo_min, max_value=lo_max, allow_nan=False))
    w = draw(st.floats(min_value=0.0, max_value=max_width, allow_nan=False))
    return lo, lo + w


UNARY = {
    "sin": (I.sin, mpmath.sin, (-50.0, 50.0)),
    "cos": (I.cos, mpmath.cos, (-50.0, 50.0)),
    "exp": (I.exp, mpmath.exp, (-30.0, 30.0)),
    "tanh": (I.tanh, mpmath.tanh, (-20.0, 20.0)),
    "atan": (I.atan, mpmath.atan, (-50.0, 50.0)),
    "abs": (I.abs, abs, (-50.0, 50.0)),
    "log": (I.log, mpmath.log, (1e-6, 50.0)),
    "sqrt": (I.sqrt, mpmath.sqrt, (0.0, 50.0)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_contains_point_results(name):
    f_iv, f_mp, (a, b) = UNARY[name]

    @SETTINGS
    @given(intervals(lo_min=a, lo_max=b, max_width=min(20.0, b - a)), fractions)
    def check(bounds, fr):
        lo, hi = bounds
        out = f_iv(I.Interval([lo], [hi]))
        for p in _points(lo, hi, fr):
            assert _inside(out, 0, f_mp(mpmath.mpf(p))), (name, lo, hi, p, out)

    check()


@SETTINGS
@given(intervals(max_width=3.0), fractions)
def test_tan_contains_point_results(bounds, fr):
    lo, hi = bounds
    out = I.tan(I.Interval([lo], [hi]))
    for p in _points(lo, hi, fr):
        if abs(math.cos(p)) > 1e-12:
            assert _inside(out, 0, mpmath.tan(mpmath.mpf(p)))


BINARY = {
    "+": (lambda x, y: x + y, lambda x, y: x + y),
    "-": (lambda x, y: x - y, lambda x, y: x - y),
    "*": (lambda x, y: x * y, lambda x, y: x * y),
    "/": (lambda x, y: x / y, lambda x, y: x / y),
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_contains_point_results(op):
    f_iv, f_mp = BINARY[op]

    @SETTINGS
    @given(intervals(), intervals(), fractions, fractions)
    def check(bx, by, fx, fy):
        out = f_iv(I.Interval([bx[0]], [bx[1]]), I.Interval([by[0]], [by[1]]))
        for p in _points(*bx, fx):
            for q in _points(*by, fy):
                if op == "/" and q == 0.0:
                    continue
                assert _inside(out, 0, f_mp(mpmath.mpf(p), mpmath.mpf(q))), (op, bx, by, p, q, out)

    check()


@SETTINGS
@given(intervals(lo_min=-5.0, lo_max=5.0, max_width=5.0), st.integers(min_value=-4, max_value=7), fractions)
def test_integer_power_contains_point_results(bounds, n, fr):
    lo, hi = bounds
    out = I.Interval([lo], [hi]) ** n
    for p in _points(lo, hi, fr):
        if n < 0 and p == 0.0:
            continue
        assert _inside(out, 0, mpmath.mpf(p) ** n), (lo, hi, n, p, out)


@SETTINGS
@given(st.lists(intervals(), min_size=1, max_size=8))
def test_vectorised_matches_elementwise(bounds):
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    x = I.Interval(lo, hi)
    vec = I.sin(x) * x + I.exp(I.Interval(lo / 10, hi / 10))
    for k in range(len(bounds)):
        xk = I.Interval(lo[k], hi[k])
        one = I.sin(xk) * xk + I.exp(I.Interval(lo[k] / 10, hi[k] / 10))
        assert vec.lo[k] == one.lo and vec.hi[k] == one.hi


def test_outward_rounding_makes_exact_sums_strict():
    # 0.1 + 0.2 is not representable: the enclosure must straddle the real 0.3
    s = I.Interval(0.1) + I.Interval(0.2)
    real = mpmath.mpf(0.1) + mpmath.mpf(0.2)
    assert mpmath.mpf(float(s.lo)) < real < mpmath.mpf(float(s.hi))


def test_division_by_interval_containing_zero_is_whole_line():
    out = I.Interval([1.0, 1.0], [2.0, 2.0]) / I.Interval([-1.0, 0.0], [1.0, 3.0])
    assert np.all(out.lo == -np.inf) and np.all(out.hi == np.inf)


def test_domain_errors_raise():
    with pytest.raises(ValueError, match="log"):
        I.log(I.Interval(-2.0, -1.0))
    with pytest.raises(ValueError, match="sqrt"):
        I.sqrt(I.Interval(-2.0, -1.0))
    with pytest.raises(ValueError, match="lower bound above upper"):
        I.Interval(1.0, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        I.Interval(np.nan, 1.0)


def test_sin_cos_wide_and_overflow():
    assert I.sin(I.Interval(0.0, 7.0)).lo == -1.0 and I.sin(I.Interval(0.0, 7.0)).hi == 1.0
    big = I.ipow(I.Interval(1e200), 3)  # the real 1e600 overflows: the lower bound must stay finite
    assert np.isfinite(big.lo) and big.hi == np.inf


@SETTINGS
@given(st.lists(intervals(), min_size=1, max_size=12), fractions)
def test_isum_contains_exact_sums(bounds, fr):
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    out = I.isum(I.Interval(lo, hi))
    for f in fr:
        pts = [a + f * (b - a) for a, b in bounds]
        pts = [min(max(p, a), b) for p, (a, b) in zip(pts, bounds)]
        exact = mpmath.fsum([mpmath.mpf(p) for p in pts])
        assert mpmath.mpf(float(out.lo)) <= exact <= mpmath.mpf(float(out.hi))
    # the 0.1 + 0.2 + ... case: a sum of inexact doubles is still enclosed
    many = I.isum(I.Interval(np.full(10, 0.1)))
    assert mpmath.mpf(float(many.lo)) <= 10 * mpmath.mpf(0.1) <= mpmath.mpf(float(many.hi))


def test_isum_by_contains_the_exact_sum_of_every_group():
    from fractions import Fraction

    import numpy as np

    from nncs.dynamics import interval as iv

    rng = np.random.default_rng(0)
    values = rng.normal(size=2000) * 10.0 ** rng.integers(-8, 8, size=2000)
    groups = rng.integers(0, 7, size=2000)
    out = iv.isum_by(values, values, groups, 9)
    for g in range(9):
        exact = sum((Fraction(float(v)) for v in values[groups == g]), Fraction(0))
        assert Fraction(float(out.lo[g])) <= exact <= Fraction(float(out.hi[g]))
        whole = iv.isum(iv.Interval(values[groups == g]))
        assert out.hi[g] - out.lo[g] <= 2 * (float(whole.hi) - float(whole.lo)) + 1e-300  # as tight as isum
    assert out.lo[8] <= 0.0 <= out.hi[8] and out.hi[8] - out.lo[8] < 1e-300  # an empty group sums to 0
