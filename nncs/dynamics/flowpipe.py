"""Flowpipes of a symbolic plant over one control period with the input held: linear and nonlinear methods.

Linear: exact zero-order-hold samples plus Taylor-error segments; nonlinear: Althoff's conservative linearisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nncs.dynamics import interval as iv
from nncs.dynamics.symbolic import SymbolicPlant
from nncs.sets import Box, Star, Zonotope
from nncs.sets.base import Set
from nncs.sets.zonotope import girard_generators

__all__ = ["FlowpipeOptions", "Flowpipe", "flowpipe", "remainder_bound", "METHODS", "REMAINDERS"]

METHODS = ("auto", "linear", "nonlinear")
REMAINDERS = ("quadratic", "cubic", "box")

MAX_SUB_INTERVALS = 10_000
"""Most sub-intervals of one flowpipe period (substeps, period / time_step, or the more a stiff linear plant needs):
beyond it the computation could not finish in reasonable time and memory, so it is refused (ValueError)."""


@dataclass(frozen=True)
class FlowpipeOptions:
    """Options of `flowpipe` (immutable).

    Attributes:
        time_step: length of a sub-interval; None: period / substeps. The period is divided into
            ceil(period / time_step) equal sub-intervals (more where ||M|| * time_step would exceed 1, M the
            augmented system matrix: the linear method then uses more, the nonlinear one halves sub-steps).
        substeps: number of sub-intervals when time_step is None (default 10).
        taylor_terms: minimum number of Taylor terms of the matrix exponential in the error bounds (more are
            added automatically until the series remainder is below 1e-18).
        zonotope_order: nonlinear method: the state zonotope is reduced (Girard) to at most
            order * dim generators after each sub-step.
        method: "auto" (linear for affine plants, nonlinear otherwise), "linear" (affine plants only) or
            "nonlinear" (conservative linearisation, any plant).
        max_iterations: nonlinear method: rounds of the assume/check/enlarge loop before the sub-step is
            halved (at most `max_halvings` times, then a RuntimeError).
        enlarge: nonlinear method: relative enlargement of the assumed remainder set when the check fails.
        max_halvings: nonlinear method: how often a failing sub-step may be split in two.
        float_guard: relative bloat added to every computed segment and nonlinear sample set, covering the
            floating-point error of the matrix exponentials and products (the interval parts are outward
            rounded by themselves). The final set of the exact linear (and affine discrete) path gets none,
            so that stars do not gain n predicate variables per period: its rounding (about 1e-16 relative
            per period) is covered by the later segments' guards while the accumulated error stays below
            `float_guard` (for stable or mildly unstable plants over the horizons here).
        final_order: nonlinear method: if set, the final set's error generators (those after the joint set's
            predicate variables) are reduced (Girard, outer) to at most final_order * n, which bounds how many
            variables a Star gains per period; None keeps them (up to zonotope_order).
        remainder: nonlinear and discrete methods: how the linearisation remainder is bounded: "quadratic"
            (default: its second-order part over the set's zonotope, the rest by intervals; see
            `remainder_bound`), "cubic" (also the third-order part over the zonotope, the rest by intervals;
            tighter on strongly nonlinear plants, slower) or "box" (interval Hessians over the set's box,
            conservative linearisation).
        check_time: called before every sub-step; it raises (e.g. at a time limit) to stop the computation.
            None: never interrupted. Not part of equality.

    substeps (and period / time_step) must stay within MAX_SUB_INTERVALS (10_000).
    """

    time_step: float | None = None
    substeps: int = 10
    taylor_terms: int = 10
    zonotope_order: float = 50.0
    method: str = "auto"
    max_iterations: int = 40
    enlarge: float = 0.5
    max_halvings: int = 6
    float_guard: float = 1e-12
    final_order: float | None = None
    remainder: str = "quadratic"
    check_time: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"FlowpipeOptions.method must be one of {METHODS}, got {self.method!r}")
        if self.time_step is not None and not (self.time_step > 0 and math.isfinite(self.time_step)):
            raise ValueError(f"FlowpipeOptions.time_step must be a positive number, got {self.time_step!r}")
        if int(self.substeps) < 1:
            raise ValueError(f"FlowpipeOptions.substeps must be at least 1, got {self.substeps!r}")
        if int(self.substeps) > MAX_SUB_INTERVALS:
            raise ValueError(
                f"FlowpipeOptions.substeps = {self.substeps} exceeds the limit {MAX_SUB_INTERVALS}"
            )
        if int(self.taylor_terms) < 2:
            raise ValueError(f"FlowpipeOptions.taylor_terms must be at least 2, got {self.taylor_terms!r}")
        if not self.zonotope_order >= 1:
            raise ValueError(
                f"FlowpipeOptions.zonotope_order must be at least 1, got {self.zonotope_order!r}"
            )
        if int(self.taylor_terms) > 40:
            raise ValueError(f"FlowpipeOptions.taylor_terms must be at most 40, got {self.taylor_terms!r}")
        if not (1 <= int(self.max_iterations) <= 10_000 and 0 <= int(self.max_halvings) <= 20):
            raise ValueError(
                "FlowpipeOptions.max_iterations must be in [1, 10000] and max_halvings in [0, 20], got "
                f"{self.max_iterations!r} and {self.max_halvings!r}"
            )
        if not self.enlarge > 0:
            raise ValueError(f"FlowpipeOptions.enlarge must be positive, got {self.enlarge!r}")
        if not self.float_guard >= 0:
            raise ValueError(f"FlowpipeOptions.float_guard must be >= 0, got {self.float_guard!r}")
        if self.remainder not in REMAINDERS:
            raise ValueError(f"FlowpipeOptions.remainder must be one of {REMAINDERS}, got {self.remainder!r}")
        if self.final_order is not None and not self.final_order >= 1:
            raise ValueError(
                f"FlowpipeOptions.final_order must be None or at least 1, got {self.final_order!r}"
            )


@dataclass(frozen=True)
class Flowpipe:
    """The reachable states of the plant over one period [0, T].

    Attributes:
        times: t_0 = 0 < t_1 < ... < t_m = T, shape (m+1,).
        segments: m sets over the states; segments[i] contains every state reached at any t in [t_i, t_{i+1}].
        final: the set of states at t = T.
        method: "linear", "nonlinear" or "discrete" (the method that computed it).
    """

    times: np.ndarray
    segments: tuple
    final: Any
    method: str

    def segment_at(self, t: float) -> list[int]:
        """Indices of the segments whose closed time interval contains t."""
        return [i for i in range(len(self.segments)) if self.times[i] <= t <= self.times[i + 1]]

    def interval_hull(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the states over the whole period (from each segment's cheap box; sound)."""
        boxes = [s.box() for s in self.segments]
        return np.min([b.lb for b in boxes], axis=0), np.max([b.ub for b in boxes], axis=0)


# ------------------------------------------------------------------------------------------ generator form
class _Gen:
    """z = c + V a with a in the predicate {C a <= d, lb <= a <= ub} (a zonotope when constraint-free with
    a in [-1, 1]^m); a light internal form shared by stars and zonotopes."""

    __slots__ = ("c", "V", "C", "d", "lb", "ub", "star")

    def __init__(self, c, V, C, d, lb, ub, star: bool):
        self.c, self.V, self.C, self.d, self.lb, self.ub, self.star = c, V, C, d, lb, ub, star

    @staticmethod
    def of(s, what: str) -> _Gen:
        """The generator form of a set: its zonotope when that is exact (Box, Zonotope), else its star (exact)."""
        if not isinstance(s, Set):
            raise ValueError(f"{what}: expected a Box, Zonotope or Star, got {type(s).__name__}")
        if s.zonotope_exact:
            z = s.to_zonotope()
            m = z.ngens
            return _Gen(
                np.asarray(z.c),
                np.asarray(z.G),
                np.zeros((0, m)),
                np.zeros(0),
                -np.ones(m),
                np.ones(m),
                False,
            )
        st = s.to_star()
        return _Gen(
            np.asarray(st.c),
            np.asarray(st.V),
            np.asarray(st.C),
            np.asarray(st.d),
            np.asarray(st.lb),
            np.asarray(st.ub),
            True,
        )

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (self.lb + self.ub)

    @property
    def rad(self) -> np.ndarray:
        return 0.5 * (self.ub - self.lb)


def _product(a: _Gen, b: _Gen) -> _Gen:
    """Cartesian product with independent predicates (exact)."""
    n1, m1 = a.V.shape
    n2, m2 = b.V.shape
    V = np.zeros((n1 + n2, m1 + m2))
    V[:n1, :m1], V[n1:, m1:] = a.V, b.V
    C = np.zeros((a.C.shape[0] + b.C.shape[0], m1 + m2))
    C[: a.C.shape[0], :m1], C[a.C.shape[0] :, m1:] = a.C, b.C
    return _Gen(
        np.concatenate([a.c, b.c]),
        V,
        C,
        np.concatenate([a.d, b.d]),
        np.concatenate([a.lb, b.lb]),
        np.concatenate([a.ub, b.ub]),
        a.star or b.star,
    )


def _output(
    c: np.ndarray,
    V: np.ndarray,
    g: _Gen,
    extra_V: np.ndarray | None = None,
    extra_lb: np.ndarray | None = None,
    extra_ub: np.ndarray | None = None,
):
    """The set c + V a + extra_V b over g's predicate for a and a box for b: a Star if g is a star (same
    leading predicate variables), else a Zonotope (exact conversion: g's predicate is the unit box)."""
    if extra_V is None:
        extra_V = np.zeros((len(c), 0))
        extra_lb = extra_ub = np.zeros(0)
    if g.star:
        k = extra_V.shape[1]
        C = np.hstack([g.C, np.zeros((g.C.shape[0], k))])
        return Star(
            c,
            np.hstack([V, extra_V]),
            C,
            g.d,
            np.concatenate([g.lb, extra_lb]),
            np.concatenate([g.ub, extra_ub]),
        )
    mid, rad = 0.5 * (extra_lb + extra_ub), 0.5 * (extra_ub - extra_lb)
    G = np.hstack([V, extra_V * rad])
    G = G[:, np.any(G != 0, axis=0)]
    return Zonotope(c + extra_V @ mid, G)


# ------------------------------------------------------------------------------------- Taylor error terms
def expm(M: np.ndarray) -> np.ndarray:
    """Matrix exponential by scaling and squaring of a Taylor series, in numpy (small matrices; scipy's
    expm is slow for them here because of BLAS threading). Accurate to about the double rounding level
    for the moderate norms of flowpipe steps; tested against scipy.linalg.expm."""
    M = np.asarray(M, dtype=np.float64)
    N = M.shape[0]
    nrm = _norm_inf(M)
    s = 0 if nrm <= 0.5 else int(math.ceil(math.log2(nrm / 0.5)))
    X = M / (2.0**s)
    E = np.eye(N)
    T = np.eye(N)
    for k in range(1, 30):
        T = (T @ X) / k
        E = E + T
        if np.abs(T).max(initial=0.0) <= 1e-20 * np.abs(E).max(initial=1.0):
            break
    for _ in range(s):
        E = E @ E
    return E


def _norm_inf(M: np.ndarray) -> float:
    return float(np.abs(M).sum(axis=1).max(initial=0.0))


_MAX_ND = 1.0  # largest ||M|| * time_step for which the Taylor error terms are used (beyond: subdivide)


def _terms(M: np.ndarray, delta: float, eta: int) -> int:
    """At least eta Taylor terms, more until the series remainder bound is valid and below 1e-18 (at most 40);
    raises _StepTooLarge when ||M|| delta exceeds _MAX_ND (the terms would cancel badly in floating point)."""
    nd = _norm_inf(M) * delta
    if not math.isfinite(nd) or nd > _MAX_ND * (1 + 1e-12):
        raise _StepTooLarge(
            f"||M|| * time_step = {nd:g} is too large for the Taylor error bounds; use a smaller time_step"
        )
    while eta < 40 and (nd / (eta + 2) >= 0.5 or nd ** (eta + 1) / math.factorial(eta + 1) > 1e-18):
        eta += 1
    return eta


def _remainder(M: np.ndarray, delta: float, eta: int) -> float:
    """Upper bound on every entry of sum_{k > eta} M^k t^k / k! for 0 <= t <= delta (inf-norm bound)."""
    nd = _norm_inf(M) * delta
    eps = nd / (eta + 2)
    return (nd ** (eta + 1) / math.factorial(eta + 1)) / (1.0 - eps) * (1.0 + 1e-10)


def _correction(M: np.ndarray, delta: float, eta: int) -> tuple[np.ndarray, np.ndarray]:
    """Interval matrix (centre, radius) containing F(t) = e^{Mt} - I - (t/delta)(e^{M delta} - I) for all
    t in [0, delta] (Althoff 2010, Prop. 3.1): sum_{k=2}^{eta} [(k^{-k/(k-1)} - k^{-1/(k-1)}) delta^k, 0] M^k/k!
    plus the series remainder (whose coefficients |t^k - t delta^{k-1}| <= delta^k)."""
    N = M.shape[0]
    Fc, Fr = np.zeros((N, N)), np.zeros((N, N))
    Mk = M.copy()
    for k in range(2, eta + 1):
        Mk = Mk @ M
        a = (k ** (-k / (k - 1)) - k ** (-1 / (k - 1))) * delta**k / math.factorial(k)
        Fc += 0.5 * a * Mk
        Fr += 0.5 * abs(a) * np.abs(Mk)
    Fr += _remainder(M, delta, eta)
    return Fc, Fr


def _input_gain(A: np.ndarray, delta: float, eta: int) -> np.ndarray:
    """Entrywise bound on int_0^t |e^{A s}| ds for t in [0, delta]: sum_{k<=eta} |A|^k delta^{k+1}/(k+1)!
    plus the remainder (so |int_0^t e^{A(t-s)} l(s) ds| <= gain @ r whenever |l(s)| <= r)."""
    N = A.shape[0]
    G = np.zeros((N, N))
    Ak = np.eye(N)
    absA = np.abs(A)
    for k in range(0, eta + 1):
        G += Ak * (delta ** (k + 1) / math.factorial(k + 1))
        Ak = Ak @ absA
    return G + delta * _remainder(A, delta, eta)


def _hull_parts(c0, V0, c1, V1, mid, rad):
    """{x0 + s (x1 - x0) : s in [0, 1]} for x0 = c0 + V0 a, x1 = c1 + V1 a (same a, a - mid in [-rad, rad]) is
    inside (c0+c1)/2 + (V0+V1)/2 a + lam * h + box(r) with lam in [-1, 1] (outer approximation):
    returns (centre, basis for a, h, r)."""
    dc = c1 - c0 + (V1 - V0) @ mid
    return 0.5 * (c0 + c1), 0.5 * (V0 + V1), 0.5 * dc, 0.5 * np.abs(V1 - V0) @ rad


def _guard(c, V, rad, extra_r, rel: float) -> np.ndarray:
    """Relative floating-point guard: rel * (|centre| + spread) per row."""
    return rel * (np.abs(c) + np.abs(V) @ np.abs(rad) + extra_r + 1e-300)


# ------------------------------------------------------------------------------------------- entry point
def flowpipe(
    plant: SymbolicPlant,
    state_set,
    input_set,
    period: float,
    options: FlowpipeOptions | None = None,
    *,
    disturbance=None,
    shared_predicate: bool = False,
) -> Flowpipe:
    """The flowpipe of the plant over one period [0, T] with the input held constant.

    Args:
        plant: the plant (continuous: x' = f(x, u, w); discrete: x+ = f(x, u, w), one step per period).
        state_set: a Box, Zonotope or Star of dimension n (states), or of dimension n + p (the joint [x; u])
            when input_set is None.
        input_set: a Box, Zonotope or Star of dimension p (inputs, held over the period), or None when
            state_set is the joint set (or the plant has no inputs). With a Box/Zonotope, or a Star and
            shared_predicate=False, the input is independent of the state.
        period: T > 0.
        options: FlowpipeOptions (defaults: 10 sub-intervals, method from the plant).
        disturbance: a Box (or (lower, upper)) of the constant disturbances w; default the plant's declared
            bounds. Independent of the state and input.
        shared_predicate: state_set and input_set are Stars over one predicate (the input's variables begin
            with the state's, as neural reach returns them): the joint set is their shared product, so the
            dependency between x and u survives.

    Returns:
        Flowpipe with `times`, `segments` (one set per [t_i, t_{i+1}]) and `final` (the set at T), all over the
        n states. Every trajectory from the joint initial set is inside segments[i] at all t in [t_i, t_{i+1}]
        and inside final at T (outer approximations). When the joint set [x; u] is a Star, every output set
        is a Star whose leading predicate variables (with their constraints) are the joint set's, followed by
        the disturbance variables and then error/relaxation variables: the dependency on the initial state
        and input survives. For an affine continuous plant (and for an affine discrete one) `final` is then
        exact (up to floating-point rounding). Otherwise (Box/Zonotope inputs) the sets are Zonotopes whose
        leading generators are the joint set's.

    Raises:
        ValueError: wrong dimensions or types, a non-positive period, method "linear" for a non-affine
            plant, missing disturbance bounds.
        RuntimeError: the nonlinear method could not bound the linearisation error even after halving.
    """
    opts = options or FlowpipeOptions()
    if not isinstance(opts, FlowpipeOptions):
        raise ValueError(f"options must be FlowpipeOptions, got {type(opts).__name__}")
    if not isinstance(plant, SymbolicPlant):
        raise ValueError(f"plant must be a SymbolicPlant, got {type(plant).__name__}")
    period = float(period)
    if not (period > 0 and math.isfinite(period)):
        raise ValueError(f"period must be a positive number, got {period!r}")
    joint = _joint_set(plant, state_set, input_set, disturbance, shared_predicate)
    if opts.method == "linear" and not plant.is_affine:
        raise ValueError(
            f"method 'linear' needs an affine plant; {plant.name!r} is not affine "
            f"(use method 'nonlinear' or 'auto')"
        )
    if not plant.is_continuous:
        return _discrete(plant, joint, period, opts)
    if opts.time_step is not None and not period / opts.time_step <= MAX_SUB_INTERVALS:
        raise ValueError(
            f"time_step = {opts.time_step:g} s gives {period / opts.time_step:.3g} sub-intervals of the "
            f"period {period:g} s; at most {MAX_SUB_INTERVALS} are allowed"
        )
    steps = (
        opts.substeps if opts.time_step is None else max(1, int(math.ceil(period / opts.time_step - 1e-9)))
    )
    method = opts.method
    if method == "auto":
        method = "linear" if plant.is_affine else "nonlinear"
    if method == "linear":
        return _linear(plant, joint, period, steps, opts)
    return _nonlinear(plant, joint, period, steps, opts)


def _joint_set(plant: SymbolicPlant, state_set, input_set, disturbance, shared: bool) -> _Gen:
    n, p, q = plant.n_states, plant.n_inputs, plant.n_disturbances
    for what, s in (("state_set", state_set), ("input_set", input_set), ("disturbance", disturbance)):
        if (
            s is not None
            and not isinstance(s, (Box, Zonotope, Star))
            and not (what == "disturbance" and isinstance(s, tuple))
        ):
            raise ValueError(f"{what}: expected a Box, Zonotope or Star, got {type(s).__name__}")
    if input_set is None:
        if getattr(state_set, "dim", None) != n + p:
            raise ValueError(
                f"state_set: with input_set=None it must be the joint [x; u] set of dimension "
                f"{n + p} ({n} states + {p} inputs), got dimension {getattr(state_set, 'dim', None)}"
            )
        xu = _Gen.of(state_set, "state_set")
    else:
        if getattr(state_set, "dim", None) != n:
            raise ValueError(
                f"state_set: expected dimension {n} (states {list(plant.state_names)}), "
                f"got {getattr(state_set, 'dim', None)}"
            )
        if getattr(input_set, "dim", None) != p:
            raise ValueError(
                f"input_set: expected dimension {p} (inputs {list(plant.input_names)}), "
                f"got {getattr(input_set, 'dim', None)}"
            )
        if shared:
            if not (isinstance(state_set, Star) and isinstance(input_set, Star)):
                raise ValueError("shared_predicate=True needs state_set and input_set to be Stars")
            xu = _Gen.of(state_set.cartesian_product(input_set, shared=True), "state_set")
        else:
            xu = _product(_Gen.of(state_set, "state_set"), _Gen.of(input_set, "input_set"))
    if q:
        if disturbance is None:
            if plant.disturbance_bounds is None:
                raise ValueError(
                    f"disturbance: plant {plant.name!r} declares no bounds for "
                    f"{list(plant.disturbance_names)}; pass disturbance=Box(...)"
                )
            disturbance = Box(*plant.disturbance_bounds)
        elif isinstance(disturbance, tuple) and len(disturbance) == 2 and not hasattr(disturbance, "dim"):
            disturbance = Box(*disturbance)
        if getattr(disturbance, "dim", None) != q:
            raise ValueError(
                f"disturbance: expected dimension {q} ({list(plant.disturbance_names)}), "
                f"got {getattr(disturbance, 'dim', None)}"
            )
        wb = disturbance.box()
        rad = wb.radius
        keep = rad > 0
        w = _Gen(
            wb.center.copy(),
            np.diag(rad)[:, keep],
            np.zeros((0, int(keep.sum()))),
            np.zeros(0),
            -np.ones(int(keep.sum())),
            np.ones(int(keep.sum())),
            False,
        )
        xu = _product(xu, w)
    elif disturbance is not None:
        raise ValueError(f"disturbance: plant {plant.name!r} has no disturbances")
    return xu


# ----------------------------------------------------------------------------------------- linear method
def _linear(plant: SymbolicPlant, g: _Gen, period: float, steps: int, opts: FlowpipeOptions) -> Flowpipe:
    """Affine continuous plant: z = [x; u; w; 1], z' = M z. Samples by expm (exact); segments by the hull of
    consecutive samples plus Althoff's correction term F z (outer approximation)."""
    A, B, cvec, E = plant.linear_parts()
    n = plant.n_states
    N = g.c.shape[0]
    M = np.zeros((N + 1, N + 1))
    M[:n, :n], M[:n, n : n + B.shape[1]], M[:n, n + B.shape[1] : N], M[:n, N] = A, B, E, cvec
    zc = np.append(g.c, 1.0)
    zV = np.vstack([g.V, np.zeros((1, g.V.shape[1]))])
    # more sub-intervals where the requested ones are too long for accurate Taylor bounds (stiff plants)
    need = period * _norm_inf(M) / _MAX_ND
    if not need <= MAX_SUB_INTERVALS:
        raise ValueError(
            f"plant {plant.name!r} is too stiff for the linear flowpipe: ||M|| * period = "
            f"{period * _norm_inf(M):.3g} needs {need:.3g} sub-intervals; at most {MAX_SUB_INTERVALS} "
            f"are allowed (shorten the control period or scale the model)"
        )
    steps = max(steps, int(math.ceil(need)))
    times = np.linspace(0.0, period, steps + 1)
    delta = period / steps
    eta = _terms(M, delta, opts.taylor_terms)
    Phi_d = expm(M * delta)
    Fc, Fr = _correction(M, delta, eta)
    mid, rad = g.mid, g.rad
    segments = []
    c_i, V_i = zc, zV
    check = opts.check_time
    for i in range(steps):
        if check is not None:
            check()
        Phi_next = expm(M * times[i + 1])
        c_n, V_n = Phi_next @ zc, Phi_next @ zV
        # hull of the samples at t_i and t_i + delta (both affine in the same predicate a)
        hc, hV, hl, hr = _hull_parts(c_i, V_i, Phi_d @ c_i, Phi_d @ V_i, mid, rad)
        # F z over the sample set at t_i: |Fc z - Fc z_mid| <= |Fc V| rad, |Fr z| <= Fr |z|
        z_mid = c_i + V_i @ mid
        z_mag = np.abs(z_mid) + np.abs(V_i) @ rad
        err_c = Fc @ z_mid
        err_r = np.abs(Fc @ V_i) @ rad + Fr @ z_mag
        box_r = (hr + err_r)[:n]
        box_r = box_r + _guard(hc[:n] + err_c[:n], hV[:n], rad, box_r + np.abs(hl[:n]), opts.float_guard)
        extra = np.hstack([hl[:n, None], np.diag(box_r)])
        lb_e = -np.ones(n + 1)
        segments.append(_output(hc[:n] + err_c[:n], hV[:n], g, extra, lb_e, -lb_e))
        c_i, V_i = c_n, V_n
    final = _output(c_i[:n], V_i[:n], g)
    return Flowpipe(times, tuple(segments), final, "linear")


# -------------------------------------------------------------------------------------- nonlinear method
def _nonlinear(plant: SymbolicPlant, g: _Gen, period: float, steps: int, opts: FlowpipeOptions) -> Flowpipe:
    """Conservative linearisation (Althoff, Stursberg, Buss 2008) on zonotopes in z = [x; u; w] with u, w of
    zero derivative: per sub-step, linearise at the centre (advanced by half a step), bound the Lagrange
    remainder by interval arithmetic on the Hessians over the sub-step's set (assume / check / enlarge),
    then reduce the zonotope order (Girard). Outer approximation.

    The generators that come from the joint set's predicate variables are never reduced: every bound holds
    for each value of those variables separately (the enclosure is parametric in them), so a Star input
    keeps its constraints and its predicate variables in the output Stars."""
    n = plant.n_states
    prot = g.rad > 0
    c = g.c + g.V @ g.mid
    G = g.V[:, prot] * g.rad[prot]  # generator j <-> predicate variable a_j = mid_j + rad_j e_j
    m0 = G.shape[1]
    times = [0.0]
    segments = []
    psi = np.zeros((2, n))  # the assumed remainder box, warm-started from the previous sub-step
    delta = period / steps
    t = 0.0
    for i in range(steps):
        if opts.check_time is not None:
            opts.check_time()
        t_end = period if i == steps - 1 else (i + 1) * delta
        pieces, c, G, psi = _nl_interval(plant, c, G, m0, t_end - t, opts, psi, 0)
        for dt, (sc, sG, sr) in pieces:
            t += dt
            times.append(t)
            segments.append(_param_output(sc, sG, m0, g, prot, np.diag(sr)))
        times[-1] = t_end
        t = t_end
    Gx = G[:n]
    if opts.final_order is not None:
        Gx = np.hstack([Gx[:, :m0], girard_generators(Gx[:, m0:], opts.final_order)])
    final = _param_output(c[:n], Gx, m0, g, prot, None)
    return Flowpipe(np.array(times), tuple(segments), final, "nonlinear")


def _param_output(c: np.ndarray, G: np.ndarray, m0: int, g: _Gen, prot: np.ndarray, box: np.ndarray | None):
    """c + G[:, :m0] e0 + G[:, m0:] e + box b, with e0 the protected (predicate) factors, as a set over g's
    predicate a = mid + rad e0 (a Star keeping g's constraints, or a Zonotope)."""
    V = np.zeros((len(c), g.V.shape[1]))
    V[:, prot] = G[:, :m0] / g.rad[prot]
    c_out = c - V @ g.mid
    extra = G[:, m0:] if box is None else np.hstack([G[:, m0:], box])
    ones = np.ones(extra.shape[1])
    return _output(c_out, V, g, extra, -ones, ones)


def _nl_interval(plant, c, G, m0, delta, opts, psi, depth):
    """One sub-step of length delta, halved recursively when the remainder loop does not converge."""
    try:
        seg, c1, G1, psi1 = _nl_step(plant, c, G, m0, delta, opts, psi)
        return [(delta, seg)], c1, G1, psi1
    except _NoConvergence as exc:
        if depth >= opts.max_halvings:
            why = f" ({exc})" if str(exc) else ""
            raise RuntimeError(
                f"nonlinear flowpipe of {plant.name!r}: the linearisation error could not be bounded even with "
                f"a time step of {delta:g}{why}; use a smaller time_step or a smaller initial set"
            ) from None
    first, c, G, psi = _nl_interval(plant, c, G, m0, delta / 2, opts, psi, depth + 1)
    second, c, G, psi = _nl_interval(plant, c, G, m0, delta / 2, opts, psi, depth + 1)
    return first + second, c, G, psi


class _NoConvergence(Exception):
    pass


class _StepTooLarge(ValueError, _NoConvergence):
    """The time step is too large for the Taylor bounds: a ValueError for the linear method, a halving of the
    sub-step for the nonlinear one."""


def _lagrange_remainder(H: iv.Interval, D: iv.Interval) -> iv.Interval:
    """The second-order Lagrange remainder 0.5 * sum_jk H_ijk D_j D_k (outer), with the squares D_j^2 taken
    as powers (non-negative) rather than products on the diagonal."""
    N = D.lo.shape[0]
    DD = iv.Interval(D.lo[:, None], D.hi[:, None]) * iv.Interval(D.lo[None, :], D.hi[None, :])
    sq = iv.ipow(D, 2)
    dd_lo, dd_hi = DD.lo.copy(), DD.hi.copy()
    diag = np.arange(N)
    dd_lo[diag, diag], dd_hi[diag, diag] = sq.lo, sq.hi
    return iv.isum(H * iv.Interval(dd_lo, dd_hi), axis=(1, 2)) * 0.5


QUADRATIC_ORDER = 3.0
"""Quadratic remainder: the set's generators are reduced (Girard, outer) to at most this order (times the joint
dimension) before the quadratic form is bounded over them."""


_FORM_SUBSCRIPTS = {2: "ijk,ja,kb->iab", 3: "ijkl,ja,kb,lc->iabc"}


def _form_coefficients(F: np.ndarray, D: iv.Interval) -> iv.Interval:
    """An enclosure of the coefficients `sum_jk.. F_ijk.. D_ja D_kb ..` (F of order 2 or 3 in its last axes)
    for every matrix in the interval matrix D (outer approximation).

    Midpoint-radius arithmetic: the contraction of F with D's midpoint (numpy einsum), widened by the spread
    `|F| (|Dm| + Dr)^k - |F| |Dm|^k` that D's radius allows and by a floating-point error bound of the
    contractions (4 (k N + 8) eps times the contractions of |F|, far above the gamma bound of their sums).
    """
    order = F.ndim - 1
    subscripts = _FORM_SUBSCRIPTS[order]
    D_mid = 0.5 * D.lo + 0.5 * D.hi
    D_rad = iv.next_up(np.maximum(np.maximum(D.hi - D_mid, D_mid - D.lo), 0.0))
    F_abs, D_abs = np.abs(F), np.abs(D_mid)
    mid = np.einsum(subscripts, F, *(D_mid,) * order, optimize=True)
    upper = np.einsum(subscripts, F_abs, *(D_abs + D_rad,) * order, optimize=True)
    lower = np.einsum(subscripts, F_abs, *(D_abs,) * order, optimize=True)
    gamma = 4.0 * (order * F.shape[1] + 8) * np.finfo(float).eps
    rad = iv.next_up(iv.next_up(upper - lower) + iv.next_up(gamma * (upper + lower)) + np.finfo(float).tiny)
    return iv.Interval._make(iv.next_down(mid - rad), iv.next_up(mid + rad))


def _quadratic_form_bound(H: np.ndarray, D: iv.Interval) -> iv.Interval:
    """Bound of `0.5 w^T (D^T H_i D) w` over w = (1, beta), beta in [-1, 1]^m, per row i (outer).

    Args:
        H: (n, N, N) fixed matrices; D: (N, 1 + m) interval columns, the offset first, then the generators.
    Returns:
        (n,) intervals containing `0.5 (d + G beta)^T H_i (d + G beta)` for every beta in the box and every
        matrix in D (outward rounded).
    """
    Q = _form_coefficients(H, D)  # (n, M, M): sum_jk D_ja H_ijk D_kb
    M = Q.shape[1]
    const = Q[:, 0, 0]
    if M == 1:
        return const * 0.5
    diag = np.arange(1, M)
    square = Q[:, diag, diag]  # beta_a^2 in [0, 1]
    square = iv.Interval._make(np.minimum(square.lo, 0.0), np.maximum(square.hi, 0.0))
    upper = np.triu_indices(M, 1)  # pairs a < b, including (0, b): the linear terms
    pair = Q[:, upper[0], upper[1]] + Q[:, upper[1], upper[0]]  # beta_a beta_b (beta_0 = 1) in [-1, 1]
    mag = pair.mag()
    cross = iv.Interval._make(-mag, mag)
    terms = iv.Interval._make(
        np.concatenate([const.lo[:, None], square.lo, cross.lo], axis=1),
        np.concatenate([const.hi[:, None], square.hi, cross.hi], axis=1),
    )
    return iv.isum(terms, axis=1) * 0.5


@dataclass(frozen=True)
class Expansion:
    """The Hessians at a remainder bound's expansion point z*.

    Attributes:
        H_mid: (n, N, N) fixed matrices of the quadratic term (the midpoints of the Hessians' enclosure at z*).
        H_err: the enclosure of H(z*) - H_mid (a few ulps wide): the cubic split needs the exact Hessian at
            z*, which lies in H_mid + H_err.
    """

    H_mid: np.ndarray
    H_err: iv.Interval

    @staticmethod
    def of(H: iv.Interval) -> Expansion:
        """From an enclosure H of the Hessians at z*: its midpoint, and the rest as the error."""
        H_mid = H.mid
        return Expansion(H_mid, H - iv.Interval(H_mid))


def expansion_at(plant: SymbolicPlant, z: np.ndarray) -> Expansion:
    """The Hessians at the point z that the quadratic and cubic remainder bounds expand in.

    Raises:
        _NoConvergence when z is outside the dynamics' domain (log, sqrt) or on a kink of abs."""
    try:
        H = plant.hessian_interval(iv.Interval(z))
    except ValueError as exc:  # z left the domain of a function (log, sqrt) or sits on a kink of abs
        raise _NoConvergence(str(exc)) from None
    return Expansion.of(H)


CUBIC_TERMS = 2**18
"""Cubic remainder: the generators of the cubic term are reduced further (Girard, outer) until the largest array of
its contraction, states x N x (1 + generators)^3 intervals, holds about this many (never below N generators)."""

_SIXTH = iv.Interval(1.0) / iv.Interval(6.0)  # an enclosure of 1/6, which no float is

_MONOMIAL_RANGES: dict[int, tuple[np.ndarray, int, np.ndarray, np.ndarray]] = {}


def _cubic_monomials(M: int) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """For w = (1, beta) of length M: the group of every (a, b, c) (its sorted triple), the number of groups,
    and the bounds of each group's monomial w_a w_b w_c over beta in [-1, 1]^(M-1): [1, 1] for the constant,
    [0, 1] for a square beta_a^2 (times w_0 = 1), else [-1, 1] (an odd power of some beta_a)."""
    if M not in _MONOMIAL_RANGES:
        a, b, c = (x.ravel() for x in np.meshgrid(*(np.arange(M),) * 3, indexing="ij"))
        triples = np.sort(np.stack([a, b, c]), axis=0)
        unique, group = np.unique(triples, axis=1, return_inverse=True)
        x, y, z = unique
        constant = (x == 0) & (y == 0) & (z == 0)
        square = (x == 0) & (y == z) & (y > 0)
        lo = np.where(constant, 1.0, np.where(square, 0.0, -1.0))
        _MONOMIAL_RANGES[M] = (group.ravel(), unique.shape[1], lo, np.ones_like(lo))
    return _MONOMIAL_RANGES[M]


def _cubic_form_bound(T: np.ndarray, D: iv.Interval) -> iv.Interval:
    """Bound of `(1/6) T_i[Dw, Dw, Dw]` over w = (1, beta), beta in [-1, 1]^m, per row i (outer).

    Args:
        T: (n, N, N, N) fixed tensors; D: (N, 1 + m) interval columns, the offset first, then the generators.
    Returns:
        (n,) intervals containing `(1/6) sum_jkl T_ijkl y_j y_k y_l`, y = d + G beta, for every beta in the box
        and every matrix in D (outward rounded; the monomials of beta are grouped first).
    """
    n, M = T.shape[0], D.shape[1]
    C = _form_coefficients(T, D)  # (n, M, M, M): sum_jkl T_ijkl D_ja D_kb D_lc
    group, size, mono_lo, mono_hi = _cubic_monomials(M)
    rows = np.repeat(np.arange(n), group.size)
    coef = iv.isum_by(C.lo.ravel(), C.hi.ravel(), rows * size + np.tile(group, n), n * size)
    terms = iv.Interval._make(coef.lo.reshape(n, size), coef.hi.reshape(n, size)) * iv.Interval._make(
        mono_lo, mono_hi
    )
    return iv.isum(terms, axis=1) * _SIXTH


def _cubic_lagrange(T: iv.Interval, D: iv.Interval) -> iv.Interval:
    """`(1/6) sum_jkl T_ijkl D_j D_k D_l` over the box D (outer, interval arithmetic)."""
    Dj = iv.Interval._make(D.lo[:, None, None], D.hi[:, None, None])
    Dk = iv.Interval._make(D.lo[None, :, None], D.hi[None, :, None])
    Dl = iv.Interval._make(D.lo[None, None, :], D.hi[None, None, :])
    return iv.isum(T * (Dj * Dk * Dl), axis=(1, 2, 3)) * _SIXTH


def remainder_bound(
    plant: SymbolicPlant,
    z_star: np.ndarray,
    c: np.ndarray,
    G: np.ndarray,
    r: np.ndarray,
    method: str = "quadratic",
    expansion: Expansion | None = None,
) -> iv.Interval:
    """An enclosure of the linearisation remainder `f(z) - f(z*) - J(z*) (z - z*)` over the zonotope
    Z = {c + G beta + diag(r) gamma : beta, gamma in [-1, 1]} (outer approximation).

    "box" is conservative linearisation's bound, `0.5 sum_jk H_ijk(B) D_j D_k` with the Hessians' interval H(B)
    over the box B of Z and z*, and D = B - z*. "quadratic" also splits the Lagrange form as
    `0.5 D^T H(z*) D + 0.5 D^T (H(xi) - H(z*)) D` (xi in B): the first term is bounded over the zonotope Z - z*
    itself (its generators reduced to QUADRATIC_ORDER), which keeps the correlations between the variables that
    a box loses, the second (of third order in the set's size) by intervals over B. "cubic" goes one order
    further, `0.5 H(z*)[D, D] + (1/6) T0[D, D, D] + (1/6) (T(xi) - T0)[D, D, D]` with the third derivatives T
    and T0 the midpoint of their enclosure over B: both polynomial terms over the zonotope, the rest (of the
    size of T's variation over B times |D|^3) by intervals over B. Each result is
    intersected with the lower-order bounds, so it is never wider than they are. The split is that of
    conservative polynomialisation (Althoff, HSCC 2013).

    Args:
        plant: the plant; z_star: the expansion point (N,); c, G, r: the set (N,), (N, m), (N,).
        method: "quadratic", "cubic" or "box".
        expansion: the quadratic bound's Hessians at z* (`expansion_at(plant, z_star)`, computed when None; the
            cubic bound evaluates them itself, together with the derivatives over B). The quadratic term's
            fixed matrices are their midpoints (any fixed matrices keep the quadratic split exact; those at z*
            make its rest of third order); the cubic split also adds their small enclosure error, and its
            fixed tensors are the midpoints of the third derivatives over B (any fixed tensors keep it exact).
    Returns:
        (n,) intervals, one per state.
    Raises:
        _NoConvergence when a bound is not finite (the set left the dynamics' domain or overflowed).
    """
    spread = np.abs(G).sum(axis=1) + r
    lo = np.minimum(iv.next_down(c - spread), z_star)
    hi = np.maximum(iv.next_up(c + spread), z_star)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise _NoConvergence
    box = iv.Interval(lo, hi)
    cubic = method == "cubic" and not plant.third_derivatives_are_zero
    try:
        if cubic:  # one evaluation over the box B and at the point z* (the last axis)
            both = iv.Interval(np.stack([lo, z_star], axis=1), np.stack([hi, z_star], axis=1))
            H2, T2 = plant.hessian_third_interval(both)
            H, T = H2[..., 0], T2[..., 0]
            expansion = Expansion.of(H2[..., 1])
        else:
            H, T = plant.hessian_interval(box), None
    except ValueError as exc:  # left the domain of a function (log, sqrt) or met a kink of abs
        raise _NoConvergence(str(exc)) from None
    D_box = box - iv.Interval(z_star)
    L = _lagrange_remainder(H, D_box)
    if method == "box":
        return L
    if expansion is None:
        expansion = expansion_at(plant, z_star)
    keep = r > 0
    Gd = girard_generators(np.hstack([G, np.diag(r)[:, keep]]), QUADRATIC_ORDER)
    offset = iv.Interval(c) - iv.Interval(z_star)

    def columns(G_reduced: np.ndarray) -> iv.Interval:  # the offset c - z*, then the (exact) generators
        return iv.Interval._make(
            np.concatenate([offset.lo[:, None], G_reduced], axis=1),
            np.concatenate([offset.hi[:, None], G_reduced], axis=1),
        )

    D = columns(Gd)
    H_fixed = iv.Interval(expansion.H_mid)
    quadratic = _quadratic_form_bound(expansion.H_mid, D)
    bounds = [L, quadratic + _lagrange_remainder(H - H_fixed, D_box)]  # H(xi) - H_mid for every xi in B
    if T is not None:
        T_mid = T.mid  # any fixed tensor keeps the split exact
        T_fixed = iv.Interval(T_mid)
        N = len(c)
        m_cubic = int(np.floor((CUBIC_TERMS / (T.shape[0] * N)) ** (1.0 / 3.0))) - 1
        Dc = columns(girard_generators(Gd, m_cubic / N))
        bounds.append(
            quadratic
            + _lagrange_remainder(expansion.H_err, D_box)  # the exact H(z*) is H_mid + H_err
            + _cubic_form_bound(T_mid, Dc)
            + _cubic_lagrange(T - T_fixed, D_box)  # T(xi) - T_fixed for every xi in B
        )
    lo_q = np.max([b.lo for b in bounds], axis=0)
    hi_q = np.min([b.hi for b in bounds], axis=0)
    if not (np.all(np.isfinite(lo_q)) and np.all(np.isfinite(hi_q))):
        raise _NoConvergence
    return iv.Interval(lo_q, hi_q)


def _nl_step(
    plant: SymbolicPlant,
    c: np.ndarray,
    G: np.ndarray,
    m0: int,
    delta: float,
    opts: FlowpipeOptions,
    psi_guess: np.ndarray,
):
    n = plant.n_states
    N = c.shape[0]
    f_c = np.zeros(N)
    f_c[:n] = np.asarray(plant.f_joint(c))
    z_star = c + 0.5 * delta * f_c
    f0_x, J_x = plant.linearize(z_star)
    A = np.zeros((N, N))
    A[:n] = np.asarray(J_x)
    f0 = np.zeros(N)
    f0[:n] = np.asarray(f0_x)
    yc = np.append(c - z_star, 1.0)
    yG = np.vstack([G, np.zeros((1, G.shape[1]))])
    gen_rad = np.ones(G.shape[1])
    zero_mid = np.zeros(G.shape[1])
    hess_zero = plant.hessian_is_zero
    eta = _terms(np.hstack([A, f0[:, None]]), delta, opts.taylor_terms)

    def linear_part(psi_lo, psi_hi):
        """Segment and end set of y' = A y + f0 + l(t), l(t) in [psi_lo, psi_hi] (rows of x), in z coordinates."""
        l_mid = np.zeros(N)
        l_rad = np.zeros(N)
        l_mid[:n] = 0.5 * (psi_lo + psi_hi)
        l_rad[:n] = iv.next_up(0.5 * (psi_hi - psi_lo))
        M = np.zeros((N + 1, N + 1))
        M[:N, :N] = A
        M[:N, N] = f0 + l_mid
        et = _terms(M, delta, eta)
        Phi = expm(M * delta)
        Fc, Fr = _correction(M, delta, et)
        rp = _input_gain(A, delta, et) @ l_rad
        e_c, e_G = Phi @ yc, Phi @ yG
        hc, hV, hl, hr = _hull_parts(yc, yG, e_c, e_G, zero_mid, gen_rad)
        z_mag = np.abs(yc) + np.abs(yG).sum(axis=1)
        err_c = Fc @ yc
        err_r = np.abs(Fc @ yG).sum(axis=1) + Fr @ z_mag
        seg_c = hc[:N] + err_c[:N] + z_star
        seg_G = np.hstack([hV[:N], hl[:N, None]])
        seg_r = hr[:N] + err_r[:N] + rp
        seg_r = seg_r + _guard(seg_c, seg_G, np.ones(seg_G.shape[1]), seg_r, opts.float_guard)
        end_c = e_c[:N] + z_star
        end_G = e_G[:N]
        end_r = rp + _guard(end_c, end_G, gen_rad, rp, opts.float_guard)
        return seg_c, seg_G, seg_r, end_c, end_G, end_r

    # the fixed derivatives at z*, once per sub-step
    fixed = expansion_at(plant, z_star) if not hess_zero and opts.remainder == "quadratic" else None

    def remainder(seg_c, seg_G, seg_r):
        """Enclosure of the Lagrange remainder of f over the segment (and z*); a segment so large that its
        bound overflows (inf - inf: a NaN bound) is a failure to converge, not an error of the problem."""
        if not (np.all(np.isfinite(seg_c)) and np.all(np.isfinite(seg_G)) and np.all(np.isfinite(seg_r))):
            raise _NoConvergence("the segment overflowed")
        try:
            L = remainder_bound(plant, z_star, seg_c, seg_G, seg_r, opts.remainder, fixed)
        except ValueError as exc:
            if "NaN" not in str(exc):
                raise
            raise _NoConvergence("the remainder bound overflowed") from None
        return L.lo, L.hi

    if hess_zero:
        seg_c, seg_G, seg_r, end_c, end_G, end_r = linear_part(np.zeros(n), np.zeros(n))
    else:
        # warm start: the previous sub-step's remainder, enlarged (the set usually grows a little per step)
        w0 = opts.enlarge * (psi_guess[1] - psi_guess[0])
        psi_lo, psi_hi = psi_guess[0] - w0, psi_guess[1] + w0
        for _ in range(opts.max_iterations):
            if opts.check_time is not None:
                opts.check_time()
            parts = linear_part(psi_lo, psi_hi)
            L_lo, L_hi = remainder(*parts[:3])
            if not (np.all(np.isfinite(L_lo)) and np.all(np.isfinite(L_hi))):
                raise _NoConvergence
            if np.all(L_lo >= psi_lo) and np.all(L_hi <= psi_hi):
                break
            lo, hi = np.minimum(psi_lo, L_lo), np.maximum(psi_hi, L_hi)
            grow = opts.enlarge * (hi - lo) + 1e-14 * (1.0 + np.abs(lo) + np.abs(hi))
            psi_lo, psi_hi = lo - grow, hi + grow
        else:
            raise _NoConvergence
        # trajectories stay in the segment of the assumed psi and their remainder lies in [L_lo, L_hi]:
        # recompute both sets with the tighter remainder (still sound)
        seg_c, seg_G, seg_r, end_c, end_G, end_r = linear_part(L_lo, L_hi)
        psi_guess = np.stack([L_lo, L_hi])
    keep = end_r > 0
    G1 = girard_generators(np.hstack([end_G, np.diag(end_r)[:, keep]]), opts.zonotope_order, m0)
    return (seg_c[:n], seg_G[:n], seg_r[:n]), end_c, G1, psi_guess


# --------------------------------------------------------------------------------------- discrete method
def _discrete(plant: SymbolicPlant, g: _Gen, period: float, opts: FlowpipeOptions) -> Flowpipe:
    """x+ = f(z) = f(z*) + J (z - z*) + L with z* the centre and L the Lagrange remainder over the set's box
    (interval Hessians): exact for affine plants (L = 0), an outer approximation otherwise. The one segment
    encloses the convex hull of the state set and the next-state set."""
    n = plant.n_states
    mid, rad = g.mid, g.rad
    z_star = g.c + g.V @ mid
    if plant.is_affine:
        A, B, cvec, E = plant.linear_parts()
        J = np.hstack([A, B, E])
        f0 = J @ z_star + cvec
    else:
        f0_j, J_j = plant.linearize(z_star)
        J, f0 = np.asarray(J_j), np.asarray(f0_j)
    c1 = f0 + J @ (g.c - z_star)
    V1 = J @ g.V
    L_lo, L_hi = np.zeros(n), np.zeros(n)
    if not plant.hessian_is_zero:
        # the set is z* + V (a - mid) with |a - mid| <= rad: a zonotope with generators V diag(rad)
        try:
            L = remainder_bound(plant, z_star, z_star, g.V * rad, np.zeros(len(z_star)), opts.remainder)
        except _NoConvergence as exc:
            why = f" ({exc})" if str(exc) else ""
            raise RuntimeError(  # as the continuous path: a failed reach, which verify counts as not proven
                f"discrete plant {plant.name!r}: the linearisation remainder could not be bounded on the set{why}"
            ) from None
        L_lo, L_hi = L.lo, L.hi
        L_mid = 0.5 * (L_lo + L_hi)
        L_rad = iv.next_up(0.5 * (L_hi - L_lo))
        guard = _guard(c1, V1, rad, L_rad, opts.float_guard)
        final = _output(c1 + L_mid, V1, g, np.diag(L_rad + guard), -np.ones(n), np.ones(n))
    else:
        L_mid = np.zeros(n)
        L_rad = np.zeros(n)
        final = _output(c1, V1, g)
    hc, hV, hl, hr = _hull_parts(g.c[:n], g.V[:n], c1 + L_mid, V1, mid, rad)
    box_r = hr + L_rad
    box_r = box_r + _guard(hc, hV, rad, box_r + np.abs(hl), opts.float_guard)
    extra = np.hstack([hl[:, None], np.diag(box_r)])
    seg = _output(hc, hV, g, extra, -np.ones(n + 1), np.ones(n + 1))
    return Flowpipe(np.array([0.0, period]), (seg,), final, "discrete")
