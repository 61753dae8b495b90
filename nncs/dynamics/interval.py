"""Interval arithmetic on numpy arrays with outward rounding, sound in IEEE double precision.

Used for Lagrange remainders: every operation returns an interval containing every point result.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "Interval",
    "sin",
    "cos",
    "tan",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "abs",
    "atan",
    "power",
    "ipow",
    "isum",
    "isum_by",
    "pi",
    "const",
    "as_interval",
    "next_down",
    "next_up",
]

_INF = np.inf
_MAX = np.finfo(np.float64).max
_TWO_PI_HI = np.nextafter(2.0 * np.pi, np.inf)
# numpy's transcendental functions are not guaranteed correctly rounded: widen their results by a few ulps
_LIBM_ULPS = 4


def next_down(x: np.ndarray) -> np.ndarray:
    """The next double below x (outward rounding of a lower bound)."""
    return np.nextafter(x, -_INF)


def next_up(x: np.ndarray) -> np.ndarray:
    """The next double above x (outward rounding of an upper bound)."""
    return np.nextafter(x, _INF)


def _ulps(x: np.ndarray) -> np.ndarray:
    """Several units in the last place of |x| (at least the smallest subnormal)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(x), _LIBM_ULPS * np.spacing(np.abs(x)), 0.0)


def _libm(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widen bounds computed by a libm function by a few ulps (their error is below one ulp)."""
    return lo - _ulps(lo), hi + _ulps(hi)


class Interval:
    """An array of closed real intervals [lo, hi] (broadcasting like numpy), immutable.

    Arithmetic operators and the module functions return intervals that contain the exact real result of
    the operation for every choice of points inside the operands (outer approximation, outward rounded).
    Bounds may be infinite; NaN bounds are rejected.
    """

    __slots__ = ("lo", "hi")
    __array_priority__ = 1000  # numpy scalars/arrays on the left defer to our reflected operators

    def __init__(self, lo: Any, hi: Any = None):
        lo_arr = np.asarray(lo, dtype=np.float64)
        hi_arr = lo_arr if hi is None else np.asarray(hi, dtype=np.float64)
        lo_arr, hi_arr = np.broadcast_arrays(lo_arr, hi_arr)
        if np.isnan(lo_arr).any() or np.isnan(hi_arr).any():
            raise ValueError("Interval: NaN bound")
        if (lo_arr > hi_arr).any():
            raise ValueError("Interval: lower bound above upper bound")
        # a lower bound of +inf (or upper of -inf) comes from overflow of a finite real: widen to the largest double
        if np.isposinf(lo_arr).any() or np.isneginf(hi_arr).any():
            lo_arr = np.where(np.isposinf(lo_arr), _MAX, lo_arr)
            hi_arr = np.where(np.isneginf(hi_arr), -_MAX, hi_arr)
        object.__setattr__(self, "lo", lo_arr)
        object.__setattr__(self, "hi", hi_arr)

    def __setattr__(self, name, value):  # immutable
        raise AttributeError("Interval is immutable")

    @classmethod
    def _make(cls, lo: np.ndarray, hi: np.ndarray) -> Interval:
        """Internal constructor without checks, for results of the sound operations below (their bounds are
        never NaN, ordered, and a lower bound is never +inf because next_down/next_up map overflow to the largest
        double)."""
        obj = object.__new__(cls)
        if not (isinstance(lo, np.ndarray) and isinstance(hi, np.ndarray) and lo.shape == hi.shape):
            lo, hi = np.broadcast_arrays(lo, hi)
        object.__setattr__(obj, "lo", lo)
        object.__setattr__(obj, "hi", hi)
        return obj

    # ----------------------------------------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple[int, ...]:
        return self.lo.shape

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * self.lo + 0.5 * self.hi

    @property
    def rad(self) -> np.ndarray:
        """Upper bound of the radius (rounded up)."""
        return next_up(0.5 * self.hi - 0.5 * self.lo)

    def width(self) -> np.ndarray:
        return self.hi - self.lo

    def mag(self) -> np.ndarray:
        """max |x| over the interval."""
        return np.maximum(np.abs(self.lo), np.abs(self.hi))

    def contains(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return (self.lo <= x) & (x <= self.hi)

    def subset_of(self, other: Interval) -> np.ndarray:
        return (other.lo <= self.lo) & (self.hi <= other.hi)

    def hull(self, other: Interval) -> Interval:
        other = as_interval(other)
        return Interval(np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi))

    def __getitem__(self, key) -> Interval:
        return Interval._make(self.lo[key], self.hi[key])

    def __len__(self) -> int:
        return len(self.lo)

    def __repr__(self) -> str:
        return f"Interval(lo={self.lo!r}, hi={self.hi!r})"

    # ----------------------------------------------------------------------------------------- arithmetic
    def __neg__(self) -> Interval:
        return Interval._make(-self.hi, -self.lo)

    def __pos__(self) -> Interval:
        return self

    def __add__(self, other: Any) -> Interval:
        o = as_interval(other)
        return Interval._make(next_down(self.lo + o.lo), next_up(self.hi + o.hi))

    __radd__ = __add__

    def __sub__(self, other: Any) -> Interval:
        o = as_interval(other)
        return Interval._make(next_down(self.lo - o.hi), next_up(self.hi - o.lo))

    def __rsub__(self, other: Any) -> Interval:
        return as_interval(other) - self

    def __mul__(self, other: Any) -> Interval:
        o = as_interval(other)
        with np.errstate(invalid="ignore", over="ignore"):  # an overflow is an infinite bound: still sound
            a, b, c, d = self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi
        # 0 * inf is nan in IEEE; in interval arithmetic the product with an exact zero bound is zero. fmin and
        # fmax skip a nan; a zero bound times a finite one gives 0 among the other products, and where every
        # product is nan ([0, 0] times [-inf, inf]) the result is set to 0 below.
        lo = np.fmin(np.fmin(a, b), np.fmin(c, d))
        hi = np.fmax(np.fmax(a, b), np.fmax(c, d))
        if np.isnan(lo).any():
            lo, hi = np.where(np.isnan(lo), 0.0, lo), np.where(np.isnan(hi), 0.0, hi)
        return Interval._make(next_down(lo), next_up(hi))

    __rmul__ = __mul__

    def reciprocal(self) -> Interval:
        """1/x. Where the interval contains 0 the result is the whole real line [-inf, inf] (sound)."""
        has_zero = (self.lo <= 0.0) & (self.hi >= 0.0)
        with np.errstate(divide="ignore", over="ignore"):
            lo = np.where(has_zero, -_INF, next_down(1.0 / self.hi))
            hi = np.where(has_zero, _INF, next_up(1.0 / self.lo))
        return Interval(lo, hi)

    def __truediv__(self, other: Any) -> Interval:
        """x / y. Where y contains 0 the result is [-inf, inf] (sound; see `reciprocal`)."""
        o = as_interval(other)
        has_zero = (o.lo <= 0.0) & (o.hi >= 0.0)
        safe_lo = np.where(has_zero, 1.0, o.lo)
        safe_hi = np.where(has_zero, 1.0, o.hi)
        with np.errstate(invalid="ignore", over="ignore"):
            q = np.stack(
                np.broadcast_arrays(
                    self.lo / safe_lo, self.lo / safe_hi, self.hi / safe_lo, self.hi / safe_hi
                )
            )
        q = np.where(
            np.isnan(q), 0.0, q
        )  # inf/inf cannot occur with finite nonzero divisors; kept for safety
        lo = np.where(has_zero, -_INF, next_down(q.min(axis=0)))
        hi = np.where(has_zero, _INF, next_up(q.max(axis=0)))
        return Interval(lo, hi)

    def __rtruediv__(self, other: Any) -> Interval:
        return as_interval(other) / self

    def __pow__(self, n: Any) -> Interval:
        return power(self, n)

    def __abs__(self) -> Interval:
        return abs(self)


def as_interval(x: Any) -> Interval:
    """x itself if it is an Interval, else the degenerate interval [x, x] (floats are taken as exact)."""
    return x if isinstance(x, Interval) else Interval(x)


def const(value: float) -> Interval:
    """A one-ulp enclosure of a real constant that is not exactly representable (e.g. a rational)."""
    v = np.float64(value)
    return Interval(next_down(v), next_up(v))


#: an enclosure of the real number pi
pi = Interval(np.nextafter(np.pi, -np.inf), np.nextafter(np.pi, np.inf))


def ipow(x: Interval, n: int) -> Interval:
    """x**n for an integer n (negative n via the reciprocal; x**0 = 1). Outer approximation, outward rounded."""
    x = as_interval(x)
    n = int(n)
    if n == 0:
        return Interval(np.ones_like(x.lo))
    if n < 0:
        return ipow(x, -n).reciprocal()
    if n == 1:
        return x
    with np.errstate(over="ignore"):
        plo, phi = x.lo**n, x.hi**n
    # pow is not guaranteed correctly rounded either: widen by a few ulps (n-1 rounded multiplications)
    pad_lo = (n + 1) * _ulps(plo)
    pad_hi = (n + 1) * _ulps(phi)
    if n % 2 == 1:
        return Interval(plo - pad_lo, phi + pad_hi)
    alo, ahi = np.abs(x.lo), np.abs(x.hi)
    top = np.maximum(plo + pad_lo, phi + pad_hi)
    has_zero = (x.lo <= 0.0) & (x.hi >= 0.0)
    small = np.where(alo <= ahi, plo - pad_lo, phi - pad_hi)
    bottom = np.where(has_zero, 0.0, np.maximum(small, 0.0))
    return Interval(bottom, top)


def power(x: Interval, p: Any) -> Interval:
    """x**p: integer p by `ipow`, p = 1/2 by `sqrt`, any other real p as exp(p*log(x)) (needs x > 0)."""
    if isinstance(p, Interval):
        return exp(p * log(x))
    pf = float(p)
    if pf.is_integer():
        return ipow(x, int(pf))
    if pf == 0.5:
        return sqrt(x)
    return exp(log(x) * pf)


def exp(x: Interval) -> Interval:
    """exp(x), monotone; outward rounded."""
    x = as_interval(x)
    with np.errstate(over="ignore"):
        lo, hi = _libm(np.exp(x.lo), np.exp(x.hi))
    return Interval(np.maximum(lo, 0.0), hi)


def log(x: Interval) -> Interval:
    """log(x). A lower bound <= 0 gives -inf (the part of the interval inside the domain is enclosed);
    an interval with no positive point raises ValueError."""
    x = as_interval(x)
    if (x.hi <= 0.0).any():
        raise ValueError("interval log: argument interval has no positive point")
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(x.lo > 0.0, np.log(np.where(x.lo > 0.0, x.lo, 1.0)), -_INF)
        hi = np.log(x.hi)
    lo, hi = _libm(lo, hi)
    return Interval(lo, hi)


def sqrt(x: Interval) -> Interval:
    """sqrt(x) over the part of x inside the domain [0, inf); an interval entirely below 0 raises ValueError."""
    x = as_interval(x)
    if (x.hi < 0.0).any():
        raise ValueError("interval sqrt: argument interval is entirely negative")
    lo = np.sqrt(np.maximum(x.lo, 0.0))  # IEEE sqrt is correctly rounded: one ulp suffices
    hi = np.sqrt(x.hi)
    return Interval(np.maximum(next_down(lo), 0.0), next_up(hi))


def tanh(x: Interval) -> Interval:
    """tanh(x), monotone, clipped to [-1, 1]; outward rounded."""
    x = as_interval(x)
    lo, hi = _libm(np.tanh(x.lo), np.tanh(x.hi))
    return Interval(np.maximum(lo, -1.0), np.minimum(hi, 1.0))


def atan(x: Interval) -> Interval:
    """arctan(x), monotone; outward rounded."""
    x = as_interval(x)
    lo, hi = _libm(np.arctan(x.lo), np.arctan(x.hi))
    return Interval(lo, hi)


def abs(x: Interval) -> Interval:  # noqa: A001 - mirrors numpy's name
    """|x| (exact: no rounding needed)."""
    x = as_interval(x)
    alo, ahi = np.abs(x.lo), np.abs(x.hi)
    has_zero = (x.lo <= 0.0) & (x.hi >= 0.0)
    return Interval(np.where(has_zero, 0.0, np.minimum(alo, ahi)), np.maximum(alo, ahi))


def isum(x: Interval, axis=None) -> Interval:
    """Sum of the intervals along `axis` (all axes if None), outward rounded.

    Recursive floating-point summation of k terms errs by at most (k-1) u sum|x_i| (u = 2^-53); the bounds are
    widened by k u sum|x_i| plus one ulp, so the result contains the exact real sum.
    """
    x = as_interval(x)
    k = x.lo.size if axis is None else np.prod([x.lo.shape[a] for a in np.atleast_1d(axis)])
    u = np.finfo(np.float64).eps / 2
    with np.errstate(invalid="ignore", over="ignore"):
        lo = np.sum(x.lo, axis=axis)
        hi = np.sum(x.hi, axis=axis)
        pad_lo = k * u * np.sum(np.abs(x.lo), axis=axis)
        pad_hi = k * u * np.sum(np.abs(x.hi), axis=axis)
    lo = np.where(np.isfinite(lo), next_down(lo - pad_lo), lo)
    hi = np.where(np.isfinite(hi), next_up(hi + pad_hi), hi)
    return Interval(lo, hi)


def isum_by(lo: np.ndarray, hi: np.ndarray, groups: np.ndarray, size: int) -> Interval:
    """Sums of the intervals [lo, hi] by group (integers 0 .. size - 1), outward rounded as `isum`: each group's
    k terms are widened by k u sum |x_i| plus one ulp, so each result contains the exact real sum."""
    u = np.finfo(np.float64).eps / 2
    count = np.bincount(groups, minlength=size).astype(float)
    sums = np.zeros((4, size))
    for row, values in enumerate((lo, hi, np.abs(lo), np.abs(hi))):
        np.add.at(sums[row], groups, values)
    return Interval(next_down(sums[0] - count * u * sums[2]), next_up(sums[1] + count * u * sums[3]))


def _contains_critical(lo: np.ndarray, hi: np.ndarray, phase: float, period: float) -> np.ndarray:
    """Whether [lo, hi] may contain a point phase + k*period (k integer); errs towards True near the ends."""
    # k ranges over ceil((lo - phase)/period) .. floor((hi - phase)/period); a slack of a few ulps of the
    # arguments makes the test conservative against rounding in the division
    slack = 1e-12 * (1.0 + np.maximum(np.abs(lo), np.abs(hi)))
    k_lo = np.ceil((lo - slack - phase) / period)
    k_hi = np.floor((hi + slack - phase) / period)
    return k_lo <= k_hi


def _periodic_extremes(x: Interval, fn, peak: float, trough: float) -> Interval:
    """fn(x) for sin or cos: the extremes of the end values, or +-1 where x may contain a peak (phase `peak`
    + 2k pi) or a trough (`trough` + 2k pi); pi is rounded: the slack of `_contains_critical` covers it."""
    x = as_interval(x)
    wide = ~np.isfinite(x.lo) | ~np.isfinite(x.hi) | ((x.hi - x.lo) >= _TWO_PI_HI)
    lo_f = np.where(wide, 0.0, x.lo)
    hi_f = np.where(wide, 0.0, x.hi)
    f_lo, f_hi = fn(lo_f), fn(hi_f)
    lo, hi = _libm(np.minimum(f_lo, f_hi), np.maximum(f_lo, f_hi))
    has_max = _contains_critical(lo_f, hi_f, peak, 2.0 * np.pi)
    has_min = _contains_critical(lo_f, hi_f, trough, 2.0 * np.pi)
    hi = np.where(has_max | wide, 1.0, np.minimum(hi, 1.0))
    lo = np.where(has_min | wide, -1.0, np.maximum(lo, -1.0))
    return Interval(lo, hi)


def sin(x: Interval) -> Interval:
    """sin(x): the extremes of the end values, or +-1 where the interval may contain a peak/trough."""
    return _periodic_extremes(x, np.sin, 0.5 * np.pi, -0.5 * np.pi)


def cos(x: Interval) -> Interval:
    """cos(x): the extremes of the end values, or +-1 where the interval may contain a peak/trough."""
    return _periodic_extremes(x, np.cos, 0.0, np.pi)


def tan(x: Interval) -> Interval:
    """tan(x): monotone between poles; [-inf, inf] where the interval may contain a pole pi/2 + k pi."""
    x = as_interval(x)
    wide = ~np.isfinite(x.lo) | ~np.isfinite(x.hi) | ((x.hi - x.lo) >= np.pi)
    lo_f = np.where(wide, 0.0, x.lo)
    hi_f = np.where(wide, 0.0, x.hi)
    pole = wide | _contains_critical(lo_f, hi_f, 0.5 * np.pi, np.pi)
    lo, hi = _libm(np.tan(lo_f), np.tan(hi_f))
    return Interval(np.where(pole, -_INF, lo), np.where(pole, _INF, hi))
