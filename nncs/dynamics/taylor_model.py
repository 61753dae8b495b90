"""Taylor models: a polynomial with interval coefficients in normalised variables t in [-1, 1]^n, plus an
interval remainder; the arithmetic that Taylor-model flowpipes are built from.

Soundness: every operation returns a model that, at every point t of the domain, encloses the exact real
result of the operation applied to any values the operands enclose there. Coefficients are `Interval`s (outward
rounded), sums of many products are widened by the floating-point error bound of `interval.isum`, terms past the
order move into the remainder bounded over the domain, and elementary functions add a Lagrange remainder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from nncs.dynamics import interval as iv

__all__ = [
    "TaylorModel",
    "monomials",
    "MAX_MONOMIALS",
    "evaluate_expression",
    "integrate_in",
    "substitute",
    "picard_step",
    "plant_flowpipe",
    "affine_combination",
    "controller_models",
    "closed_loop_reach",
]

MAX_MONOMIALS = 20_000
"""The most monomials of one model (C(n + order, order)); past it a model is refused (ValueError)."""


@lru_cache(maxsize=64)
def monomials(n: int, order: int) -> np.ndarray:
    """The exponents (m, n) of all monomials in n variables of total degree <= order, by degree (the constant
    first, then t_1 .. t_n, ...).

    Raises:
        ValueError when there would be more than MAX_MONOMIALS.
    """
    if n < 0 or order < 0:
        raise ValueError(f"monomials: n and order must be >= 0, got {n}, {order}")
    if math.comb(n + order, order) > MAX_MONOMIALS:
        raise ValueError(
            f"a Taylor model in {n} variables of order {order} has {math.comb(n + order, order)} monomials; "
            f"at most {MAX_MONOMIALS} are allowed"
        )
    rows: list[tuple[int, ...]] = []

    def fill(prefix: list[int], left: int, degree: int) -> None:
        if len(prefix) == n:
            if left == 0:
                rows.append(tuple(prefix))
            return
        for e in range(left, -1, -1):
            fill(prefix + [e], left - e, degree)

    for degree in range(order + 1):
        fill([], degree, degree)
    out = np.array(rows, dtype=np.int64).reshape(len(rows), n)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=64)
def _tables(n: int, order: int):
    """For the monomials of (n, order): the range of each over [-1, 1]^n, and the product table: for each
    ordered pair, the index of the product (-1 past the order) and the range of the product monomial."""
    E = monomials(n, order)
    index = {tuple(e): k for k, e in enumerate(E)}
    m = len(E)
    product = E[:, None, :] + E[None, :, :]
    target = np.array([index.get(tuple(e), -1) for e in product.reshape(-1, n)], dtype=np.int64)
    return _monomial_range(E), target.reshape(m, m), _monomial_range(product.reshape(-1, n)).reshape(2, m, m)


def _monomial_range(E: np.ndarray) -> np.ndarray:
    """(lo, hi) stacked: the exact range over [-1, 1]^n of each monomial t^e: [1, 1] for the constant, [0, 1]
    when every exponent is even, else [-1, 1]."""
    constant = E.sum(axis=-1) == 0
    even = np.all(E % 2 == 0, axis=-1)
    lo = np.where(constant, 1.0, np.where(even, 0.0, -1.0))
    return np.stack([lo, np.ones_like(lo)])


def _scalar(x) -> iv.Interval:
    x = iv.as_interval(x)
    if x.lo.size != 1:
        raise ValueError(f"expected a scalar interval, got shape {x.lo.shape}")
    return iv.Interval(x.lo.reshape(()), x.hi.reshape(()))


@dataclass(frozen=True)
class TaylorModel:
    """`p(t) + R` for t in [-1, 1]^n: p has interval coefficients on `monomials(n, order)`, R is an interval.

    Attributes:
        n: the number of domain variables.
        order: the largest total degree kept in the polynomial.
        coeffs: an Interval of shape (m,), one per monomial.
        remainder: a scalar Interval.
    """

    n: int
    order: int
    coeffs: iv.Interval
    remainder: iv.Interval

    # ---------------------------------------------------------------------------------- construction
    @staticmethod
    def constant(value, n: int, order: int) -> TaylorModel:
        """The model of a constant (a number or a scalar Interval); exact."""
        m = len(monomials(n, order))
        c = _scalar(value)
        lo, hi = np.zeros(m), np.zeros(m)
        lo[0], hi[0] = c.lo, c.hi
        return TaylorModel(n, order, iv.Interval(lo, hi), iv.Interval(0.0))

    @staticmethod
    def variable(i: int, lo: float, hi: float, n: int, order: int) -> TaylorModel:
        """The model of x_i ranging over [lo, hi] as t_i ranges over [-1, 1]: mid + rad t_i, with the radius
        rounded up so that every x in [lo, hi] is some point of the model (an enclosure)."""
        lo, hi = float(lo), float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise ValueError(f"TaylorModel.variable: need finite lo <= hi, got [{lo}, {hi}]")
        if not 0 <= i < n:
            raise ValueError(f"TaylorModel.variable: index {i} out of range for {n} variables")
        mid = 0.5 * lo + 0.5 * hi
        # the subtractions are rounded to nearest (within half an ulp): one ulp up covers them
        rad = float(iv.next_up(np.float64(max(hi - mid, mid - lo))))
        m = len(monomials(n, order))
        c_lo, c_hi = np.zeros(m), np.zeros(m)
        c_lo[0] = c_hi[0] = mid
        if order >= 1:
            c_lo[1 + i] = c_hi[1 + i] = rad
        else:  # order 0: the variable is all remainder
            return TaylorModel(n, order, iv.Interval(c_lo, c_hi), iv.Interval(-rad, rad))
        return TaylorModel(n, order, iv.Interval(c_lo, c_hi), iv.Interval(0.0))

    @staticmethod
    def box(lower, upper, order: int) -> list[TaylorModel]:
        """The models of the variables of the box [lower, upper] (one domain variable per coordinate)."""
        lower, upper = np.asarray(lower, float).ravel(), np.asarray(upper, float).ravel()
        n = lower.size
        return [TaylorModel.variable(i, lower[i], upper[i], n, order) for i in range(n)]

    # ---------------------------------------------------------------------------------- bounds
    def polynomial_bound(self) -> iv.Interval:
        """An enclosure of the polynomial part's values over the domain (interval evaluation per monomial)."""
        ranges, _, _ = _tables(self.n, self.order)
        return iv.isum(self.coeffs * iv.Interval(ranges[0], ranges[1]))

    def bound(self) -> iv.Interval:
        """An enclosure of the model's values over the whole domain: the polynomial's bound plus the remainder."""
        return self.polynomial_bound() + self.remainder

    def evaluate(self, t: np.ndarray) -> iv.Interval:
        """An enclosure of the model's values at the domain points t (shape (N, n), each in [-1, 1]^n)."""
        t = np.atleast_2d(np.asarray(t, dtype=float))
        if t.shape[1] != self.n:
            raise ValueError(
                f"TaylorModel.evaluate: points have {t.shape[1]} coordinates, the model {self.n}"
            )
        E = monomials(self.n, self.order)
        powers = iv.Interval(np.ones((t.shape[0], len(E))))
        for j in range(self.n):
            by_degree = [iv.ipow(iv.Interval(t[:, j]), k) for k in range(self.order + 1)]
            lo = np.stack([p.lo for p in by_degree], axis=1)[:, E[:, j]]
            hi = np.stack([p.hi for p in by_degree], axis=1)[:, E[:, j]]
            powers = powers * iv.Interval(lo, hi)
        terms = powers * iv.Interval(self.coeffs.lo[None, :], self.coeffs.hi[None, :])
        return iv.isum(terms, axis=1) + self.remainder

    # ---------------------------------------------------------------------------------- arithmetic
    def _like(self, other: TaylorModel) -> None:
        if not isinstance(other, TaylorModel) or (other.n, other.order) != (self.n, self.order):
            raise ValueError("Taylor models of different domains or orders cannot be combined")

    def __add__(self, other) -> TaylorModel:
        if isinstance(other, TaylorModel):
            self._like(other)
            return TaylorModel(
                self.n, self.order, self.coeffs + other.coeffs, self.remainder + other.remainder
            )
        c = _scalar(other)
        lo, hi = self.coeffs.lo.copy(), self.coeffs.hi.copy()
        lo[0], hi[0] = iv.next_down(lo[0] + c.lo), iv.next_up(hi[0] + c.hi)
        return TaylorModel(self.n, self.order, iv.Interval(lo, hi), self.remainder)

    __radd__ = __add__

    def __neg__(self) -> TaylorModel:
        return TaylorModel(self.n, self.order, -self.coeffs, -self.remainder)

    def __sub__(self, other) -> TaylorModel:
        return self + (-other)

    def __rsub__(self, other) -> TaylorModel:
        return (-self) + other

    def __mul__(self, other) -> TaylorModel:
        if not isinstance(other, TaylorModel):
            c = _scalar(other)
            return TaylorModel(self.n, self.order, self.coeffs * c, self.remainder * c)
        self._like(other)
        m = len(self.coeffs.lo)
        _, target, product_range = _tables(self.n, self.order)
        a = iv.Interval(self.coeffs.lo[:, None], self.coeffs.hi[:, None])
        b = iv.Interval(other.coeffs.lo[None, :], other.coeffs.hi[None, :])
        pair = a * b  # (m, m)
        kept = target >= 0
        coeffs = iv.isum_by(pair.lo[kept], pair.hi[kept], target[kept], m)
        # the terms past the order, bounded over the domain, and the remainders' cross terms
        high = pair[~kept] * iv.Interval(product_range[0][~kept], product_range[1][~kept])
        past = iv.isum(high) if high.lo.size else iv.Interval(0.0)
        p_a, p_b = self.polynomial_bound(), other.polynomial_bound()
        remainder = past + p_a * other.remainder + p_b * self.remainder + self.remainder * other.remainder
        return TaylorModel(self.n, self.order, coeffs, _scalar(remainder))

    __rmul__ = __mul__

    def __pow__(self, k: int) -> TaylorModel:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"TaylorModel ** k needs an integer k >= 0, got {k!r}")
        out = TaylorModel.constant(1.0, self.n, self.order)
        for _ in range(int(k)):
            out = out * self
        return out

    # ---------------------------------------------------------------------------------- functions
    def _series(self, taylor) -> TaylorModel:
        """f(self) by f's Taylor series about the midpoint c of the constant coefficient, to the model's order,
        with the Lagrange remainder: sum_k a_k (self - c)^k + d (self - c)^(K+1), where `taylor(k, X)`
        encloses f^(k)(x)/k! over the interval X: a_k = taylor(k, [c, c]), d = taylor(K + 1, hull of c and the
        model's range)."""
        c = float(0.5 * self.coeffs.lo[0] + 0.5 * self.coeffs.hi[0])
        h = self - c
        K = self.order
        C = iv.Interval(c)
        X = _scalar(self.bound())
        X = iv.Interval(min(X.lo, c), max(X.hi, c))
        out = TaylorModel.constant(_scalar(taylor(0, C)), self.n, self.order)
        power = TaylorModel.constant(1.0, self.n, self.order)
        for k in range(1, K + 1):
            power = power * h
            out = out + power * _scalar(taylor(k, C))
        h_range = _scalar(h.bound())
        last = _scalar(taylor(K + 1, X)) * iv.ipow(h_range, K + 1)
        return TaylorModel(self.n, self.order, out.coeffs, _scalar(out.remainder + last))

    def exp(self) -> TaylorModel:
        """exp of the model (every derivative is exp)."""
        return self._series(lambda k, x: iv.exp(x) * _inverse_factorial(k))

    def sin(self) -> TaylorModel:
        """sin of the model (derivatives sin, cos, -sin, -cos, ...)."""
        return self._series(_trig(0))

    def cos(self) -> TaylorModel:
        """cos of the model (derivatives cos, -sin, -cos, sin, ...)."""
        return self._series(_trig(1))

    def reciprocal(self) -> TaylorModel:
        """1 / the model; ValueError when its range may contain 0."""
        X = _scalar(self.bound())
        if X.lo <= 0 <= X.hi:
            raise ValueError(f"TaylorModel.reciprocal: the range [{X.lo:.6g}, {X.hi:.6g}] may contain 0")

        def a(k, x):  # f^(k)(x) / k! = (-1)^k x^-(k+1)
            return iv.ipow(x, -(k + 1)) * (-1.0) ** k

        return self._series(a)

    def sqrt(self) -> TaylorModel:
        """sqrt of the model; ValueError unless its range is positive."""
        X = _scalar(self.bound())
        if not X.lo > 0:
            raise ValueError(f"TaylorModel.sqrt: the range [{X.lo:.6g}, {X.hi:.6g}] is not positive")

        def a(k, x):  # f^(k)(x) / k! = binom(1/2, k) x^(1/2 - k)
            return iv.sqrt(x) * iv.ipow(x, -k) * _rational(_binom_half(k))

        return self._series(a)

    def __truediv__(self, other) -> TaylorModel:
        if isinstance(other, TaylorModel):
            return self * other.reciprocal()
        return self * (iv.Interval(1.0) / _scalar(other))


def _trig(shift: int):
    """f^(k)(x)/k! for sin (shift 0) or cos (shift 1): the derivative cycle sin, cos, -sin, -cos."""

    def a(k, x):
        phase = (k + shift) % 4
        base = iv.sin(x) if phase in (0, 2) else iv.cos(x)
        sign = 1.0 if phase in (0, 1) else -1.0
        return base * (_inverse_factorial(k) * sign)

    return a


def _rational(q: Fraction) -> iv.Interval:
    """An enclosure of the rational q: exact when it is a double, else the doubles either side of it."""
    f = float(q)
    return iv.Interval(f) if Fraction(f) == q else iv.const(f)


def _inverse_factorial(k: int) -> iv.Interval:
    """An enclosure of 1 / k! (exact for k <= 1)."""
    return _rational(Fraction(1, math.factorial(k)))


def _binom_half(k: int) -> Fraction:
    """The binomial coefficient C(1/2, k), exactly."""
    out = Fraction(1)
    for j in range(k):
        out *= (Fraction(1, 2) - j) / (j + 1)
    return out


# ------------------------------------------------------------------------------------------ expressions
def evaluate_expression(expr, env: dict, n: int, order: int) -> TaylorModel:
    """The Taylor model of the sympy expression `expr` with its symbols' models (or numbers) from `env`, by the
    interval programs' own expression walker (`symbolic._eval`) in Taylor-model arithmetic.

    Supported: numbers (enclosed as the interval programs enclose them), +, *, integer powers up to 64 in
    magnitude (negative ones through 1/x), square roots (x**(1/2), x**(-1/2)), exp, sin, cos.

    Raises:
        ValueError naming the operation for anything else (e.g. tanh, abs: not yet), and from 1/x or sqrt
        where the argument's range is not safely positive (or non-zero).
    """
    import sympy as sp

    from nncs.dynamics.symbolic import Arithmetic, _eval, _number_interval

    def ipow(b: TaylorModel, k: int) -> TaylorModel:
        if abs(k) > 64:
            raise ValueError(f"Taylor models: unsupported power with exponent {k} (at most 64 in magnitude)")
        return b**k if k >= 0 else (b**-k).reciprocal()

    def power(b, e):
        raise ValueError("Taylor models: unsupported power (integer, 1/2 and -1/2 exponents only)")

    ops = Arithmetic(
        lambda node: TaylorModel.constant(_scalar(_number_interval(node)), n, order),
        ipow,
        TaylorModel.sqrt,
        power,
    )
    funcs = {sp.exp: TaylorModel.exp, sp.sin: TaylorModel.sin, sp.cos: TaylorModel.cos}
    models = {
        k: v if isinstance(v, TaylorModel) else TaylorModel.constant(v, n, order) for k, v in env.items()
    }
    return _eval(expr, models, funcs, ops)


# ------------------------------------------------------------------------------------------ time steps
@lru_cache(maxsize=256)
def _linear_map(n: int, order: int, kind: str, var: int, scale: Fraction):
    """The table of a linear map of polynomials (cached per model shape): for each term it produces, the
    source monomial, the target monomial (-1 past the order), an enclosure of its exact rational factor, and
    the range over the domain of the target monomial (for the terms past the order).

    kind "integrate": the antiderivative in variable `var` from s = -1, times `scale` (dtau/ds);
    kind "substitute": variable `var` fixed at the value `scale` (-1 or 1).
    """
    E = monomials(n, order)
    index = {tuple(e): k for k, e in enumerate(E)}
    src, dst, factors, targets = [], [], [], []
    for k, e in enumerate(E):
        p = int(e[var])
        if kind == "integrate":  # s^p -> (s^(p+1) - (-1)^(p+1)) / (p+1), times scale
            up, const = list(e), list(e)
            up[var], const[var] = p + 1, 0
            terms = [(tuple(up), scale / (p + 1)), (tuple(const), -scale * Fraction((-1) ** (p + 1), p + 1))]
        else:  # s^p -> scale^p
            fixed = list(e)
            fixed[var] = 0
            terms = [(tuple(fixed), scale**p)]
        for target, factor in terms:
            src.append(k)
            dst.append(index.get(target, -1))
            factors.append(factor)
            targets.append(target)
    enclosures = [_rational(f) for f in factors]
    f_lo = np.array([float(f.lo) for f in enclosures])
    f_hi = np.array([float(f.hi) for f in enclosures])
    ranges = _monomial_range(np.array(targets, dtype=np.int64).reshape(len(targets), n))
    return np.array(src), np.array(dst), iv.Interval(f_lo, f_hi), iv.Interval(ranges[0], ranges[1])


def _map_polynomial(tm: TaylorModel, table) -> TaylorModel:
    """The polynomial part of `tm` mapped by a `_linear_map` table: each term's coefficient times its factor,
    summed per target monomial (outward, `iv.isum_by`); the terms past the order, bounded over the domain,
    make the remainder of the result (tm's own remainder is the caller's)."""
    src, dst, factor, target_range = table
    terms = iv.Interval(tm.coeffs.lo[src], tm.coeffs.hi[src]) * factor
    kept = dst >= 0
    coeffs = iv.isum_by(terms.lo[kept], terms.hi[kept], dst[kept], len(tm.coeffs.lo))
    past = terms[~kept] * target_range[~kept]
    over = iv.isum(past) if past.lo.size else iv.Interval(0.0)
    return TaylorModel(tm.n, tm.order, coeffs, _scalar(over))


def integrate_in(tm: TaylorModel, var: int, length: float) -> TaylorModel:
    """The model of `G(s) = integral from tau = 0 to tau(s) of tm dtau`, where variable `var` is s in
    [-1, 1] and tau(s) = length (s + 1) / 2 is the time in [0, length]. The remainder R integrates to an
    interval inside hull(0, length R)."""
    poly = _map_polynomial(tm, _linear_map(tm.n, tm.order, "integrate", var, Fraction(float(length)) / 2))
    span = tm.remainder * iv.Interval(0.0, float(iv.next_up(np.float64(length))))
    span = iv.Interval(min(span.lo, 0.0), max(span.hi, 0.0))
    return TaylorModel(tm.n, tm.order, poly.coeffs, _scalar(poly.remainder + span))


def substitute(tm: TaylorModel, var: int, value: int) -> TaylorModel:
    """The model with variable `var` fixed at `value` (-1 or 1): its powers become value**k (exact)."""
    if value not in (-1, 1):
        raise ValueError("substitute: the value must be -1 or 1 (an end of the domain)")
    poly = _map_polynomial(tm, _linear_map(tm.n, tm.order, "substitute", var, Fraction(value)))
    return TaylorModel(tm.n, tm.order, poly.coeffs, _scalar(poly.remainder + tm.remainder))


def picard_step(
    f, x0: list[TaylorModel], time_var: int, h: float, iterations: int | None = None, attempts: int = 12
) -> list[TaylorModel]:
    """A validated enclosure of the solutions of x' = f(x) over tau in [0, h] from every initial state of the
    models `x0` (which do not depend on the time variable `time_var`): models in the initial variables and s
    (tau = h (s + 1) / 2), such that the solution from the initial state at t is in the models at (t, s).

    The polynomial part is `order` Picard iterations; the remainder is then inflated until the Picard operator
    maps the candidate set `P + I` into itself (`Q - P` bounded inside I), which proves (Schauder) that the
    true solution lies in it.

    Args:
        f: callable on a list of models (the right-hand side, e.g. by `evaluate_expression`).
        x0: the initial models, one per state.
        time_var: the index of the time variable s.
        h: the step length (s).
        iterations: Picard iterations of the polynomial part (default: the order + 1).
        attempts: remainder inflations tried before giving up.
    Raises:
        ValueError when no remainder validates (the step is too long for this order), or from `f`.
    """
    order = x0[0].order
    P = list(x0)
    for _ in range(iterations if iterations is not None else order + 1):
        P = [a + integrate_in(g, time_var, h) for a, g in zip(x0, f(P))]
    P = [TaylorModel(p.n, p.order, p.coeffs, iv.Interval(0.0)) for p in P]
    Q = [a + integrate_in(g, time_var, h) for a, g in zip(x0, f(P))]
    gap = [_scalar((q - p).bound()) for q, p in zip(Q, P)]
    width = [max(abs(float(g.lo)), abs(float(g.hi))) for g in gap]
    I = [iv.Interval(-2.0 * w - 1e-12, 2.0 * w + 1e-12) for w in width]
    for _ in range(attempts):
        candidate = [TaylorModel(p.n, p.order, p.coeffs, r) for p, r in zip(P, I)]
        Q = [a + integrate_in(g, time_var, h) for a, g in zip(x0, f(candidate))]
        J = [_scalar((q - p).bound()) for q, p in zip(Q, P)]
        if all(j.lo > r.lo and j.hi < r.hi for j, r in zip(J, I)):
            return [TaylorModel(p.n, p.order, p.coeffs, j) for p, j in zip(P, J)]
        I = [iv.Interval(min(r.lo, 2.0 * j.lo - 1e-12), max(r.hi, 2.0 * j.hi + 1e-12)) for j, r in zip(J, I)]
    raise ValueError(
        f"picard_step: no remainder validated for h = {h:g} (shorten the step or raise the order)"
    )


def plant_flowpipe(
    plant, x0: list[TaylorModel], u: list, period: float, substeps: int, w: list | None = None
) -> tuple[list[list[TaylorModel]], list[TaylorModel]]:
    """Taylor-model flowpipe of a continuous plant over one control period with the inputs held: `substeps`
    validated Picard steps, each one's end state (time variable fixed at s = 1) starting the next, so the
    dependency on the initial variables is kept across the period (no boxing).

    Args:
        plant: a continuous `SymbolicPlant` (dynamics in its states, inputs and disturbances).
        x0: the state models; the last domain variable is the time variable s (x0 must not depend on it).
        u: the inputs over the period: models (independent of s) or numbers.
        period: the control period (s); substeps: the Picard steps it is cut into.
        w: the disturbances (models or numbers); None when the plant has none.
    Returns:
        (segments, end): per sub-step the models over that sub-step's time (s in [-1, 1]), and the state
        models at the end of the period (independent of s).
    Raises:
        ValueError for a discrete plant, wrong lengths, an expression Taylor models do not support, or a
        sub-step whose remainder does not validate.
    """
    if not plant.is_continuous:
        raise ValueError("plant_flowpipe: the plant is discrete-time; Taylor-model flowpipes are for ODEs")
    w = [] if w is None else list(w)
    if len(x0) != plant.n_states or len(u) != plant.n_inputs or len(w) != plant.n_disturbances:
        raise ValueError(
            f"plant_flowpipe: expected {plant.n_states} states, {plant.n_inputs} inputs and "
            f"{plant.n_disturbances} disturbances, got {len(x0)}, {len(u)}, {len(w)}"
        )
    if not (isinstance(substeps, int) and substeps >= 1 and period > 0):
        raise ValueError(f"plant_flowpipe: need period > 0 and substeps >= 1, got {period}, {substeps}")
    n, order = x0[0].n, x0[0].order
    time_var = n - 1
    fixed = dict(zip(plant.input_symbols, u)) | dict(zip(plant.disturbance_symbols, w))

    def f(models):
        env = dict(zip(plant.state_symbols, models)) | fixed
        return [evaluate_expression(e, env, n, order) for e in plant.dynamics]

    h = float(period) / substeps
    segments, state = [], list(x0)
    for _ in range(substeps):
        step = picard_step(f, state, time_var, h)
        segments.append(step)
        state = [substitute(m, time_var, 1) for m in step]
    return segments, state


def affine_combination(W: np.ndarray, b: np.ndarray, models: list) -> list[TaylorModel]:
    """The models of `W x + b` for the models x (exact coefficient arithmetic, outward rounded)."""
    W, b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
    out = []
    for row, offset in zip(W, b):
        acc = None
        for c, m in zip(row, models):
            if c != 0:
                term = m * float(c)
                acc = term if acc is None else acc + term
        base = models[0]
        acc = TaylorModel.constant(float(offset), base.n, base.order) if acc is None else acc + float(offset)
        out.append(acc)
    return out


def controller_models(system, x: list[TaylorModel], tol: float = 0.2, max_boxes: int = 512) -> list:
    """The plant inputs `out(net(in(x)))` as models of the state models `x`: the network's `fit` (an affine
    function A z + b of its input plus a residual bounded soundly on the box of the input models' ranges)
    composed into the models, so the control keeps its dependency on the initial set.

    Returns:
        The input models, one per plant input (their remainders carry the network residual).
    """
    from nncs.nn.methods.fit import bound_residual, fit_affine

    z = affine_combination(system.input_W, system.input_b, x)
    ranges = [_scalar(m.bound()) for m in z]
    lo = np.array([float(r.lo) for r in ranges])
    hi = np.array([float(r.hi) for r in ranges])
    A, b, _, _ = fit_affine(system.controller, lo, hi)
    fit = bound_residual(system.controller, A, b, lo, hi, tol=tol, max_boxes=max_boxes)
    y = affine_combination(A, b, z)
    y = [m + iv.Interval(float(r_lo), float(r_hi)) for m, r_lo, r_hi in zip(y, fit.r_lo, fit.r_hi)]
    return affine_combination(system.output_W, system.output_b, y)


def closed_loop_reach(
    system, lower, upper, steps: int, order: int = 3, substeps: int = 4, disturbance=None
) -> list[list[list[TaylorModel]]]:
    """Taylor-model reachability of a closed loop with a continuous plant: per control period, the network's
    bound composed into the state models (`controller_models`), then `plant_flowpipe`; the state models carry
    the initial-set variables through every period (no boxing between periods).

    Args:
        system: the ClosedLoop; lower, upper: the initial box; steps: control periods.
        order: the models' order; substeps: Picard steps per period.
        disturbance: (lower, upper) of the constant disturbances (default: the plant's declared bounds).
    Returns:
        Per period, its sub-steps' models (each a list of state models over that sub-step, the time variable
        s in [-1, 1] spanning it). Domain variables: one per state of the initial box, then s.
    """
    plant = system.plant
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    n = lower.size + 1
    x = [TaylorModel.variable(i, lower[i], upper[i], n, order) for i in range(lower.size)]
    if plant.n_disturbances:
        box = disturbance if disturbance is not None else plant.disturbance_box
        if box is None:
            raise ValueError("closed_loop_reach: the plant's disturbances have no bounds; give `disturbance`")
        w = [TaylorModel.constant(iv.Interval(float(a), float(c)), n, order) for a, c in zip(*box)]
    else:
        w = None
    periods = []
    for _ in range(int(steps)):
        u = controller_models(system, x)
        segments, x = plant_flowpipe(plant, x, u, system.period, substeps, w)
        periods.append(segments)
    return periods
