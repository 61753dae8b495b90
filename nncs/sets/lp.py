"""The one LP backend of nncs: HiGHS (through highspy) with sound, dual-certified bounds.

Every bound that nncs derives from an LP comes from here, widened so that it is never tighter than the truth.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import highspy
import numpy as np

__all__ = [
    "LPError",
    "InfeasibleLP",
    "UnboundedLP",
    "LinearProgram",
    "lp_bounds",
    "image_contains",
    "is_feasible",
    "min_violation",
    "FEASIBILITY_TOL",
]

FEASIBILITY_TOL = 1e-7
"""The primal and dual feasibility tolerance nncs sets on HiGHS."""

LP_THREADS = max(1, min(4, int(os.environ.get("NNCS_LP_THREADS", os.cpu_count() or 1))))
"""Threads used for large batches of bounds (environment variable NNCS_LP_THREADS; 1 turns threading off)."""

_THREADED_SIZE = 4000  # nvars * rows above which a batch of bounds is worth spreading over threads

_ROUNDING = 8 * np.finfo(float).eps
"""Relative slack added to each certified bound to cover floating-point rounding in its evaluation."""


_DEFINITE = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnbounded,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)


class LPError(RuntimeError):
    """An LP could not be solved to a usable answer (solver failure, time limit, numerical trouble)."""


class InfeasibleLP(LPError):
    """The LP's feasible set is empty."""


class UnboundedLP(LPError):
    """The LP's objective is unbounded in the requested direction."""


@contextlib.contextmanager
def _quiet_stdout():
    """Silence the C-level stdout while HiGHS prints its banner on construction."""
    try:
        fd = os.dup(1)
    except OSError:  # no real stdout (some notebook kernels): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)


def _new_highs() -> highspy.Highs:
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("primal_feasibility_tolerance", FEASIBILITY_TOL)
    h.setOptionValue("dual_feasibility_tolerance", FEASIBILITY_TOL)
    return h


def _check_inputs(A: np.ndarray, b: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> tuple[np.ndarray, ...]:
    lb = np.asarray(lb, dtype=float).reshape(-1)
    ub = np.asarray(ub, dtype=float).reshape(-1)
    m = lb.shape[0]
    A = np.asarray(A, dtype=float).reshape(-1, m) if np.size(A) else np.zeros((0, m))
    b = np.asarray(b, dtype=float).reshape(-1)
    if ub.shape != (m,):
        raise ValueError(f"lp: ub has shape {ub.shape}, expected ({m},) like lb")
    if A.shape[0] != b.shape[0]:
        raise ValueError(f"lp: A_ub has {A.shape[0]} rows but b_ub has {b.shape[0]} entries")
    for name, arr in (("A_ub", A), ("b_ub", b)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"lp: {name} has NaN or infinite entries")
    if np.any(np.isnan(lb)) or np.any(np.isnan(ub)):
        raise ValueError("lp: variable bounds contain NaN")
    if np.any(lb > ub):
        raise ValueError(
            f"lp: lower bound above upper bound for variables {np.flatnonzero(lb > ub).tolist()}"
        )
    return A, b, lb, ub


@dataclass(frozen=True)
class _Solution:
    value: float  # the solver's optimum of the minimisation
    x: np.ndarray  # the solver's primal point
    bound: float  # a certified lower bound on the true minimum (<= value up to tolerance)


class LinearProgram:
    """The polytope `{a : A a <= b, lb <= a <= ub}` loaded once into HiGHS, ready for many objectives.

    Each `minimize`/`maximize` changes only the objective, so HiGHS warm-starts from the previous basis.
    Bounds are certified: for a minimisation, any row multipliers y >= 0 give the valid lower bound
    `sum_j min(r_j lb_j, r_j ub_j) - y.b` with `r = c + A^T y` (weak duality over the box). nncs evaluates
    it at the solver's (clipped) duals, so the bound holds whatever the solver's accuracy; a relative
    rounding slack covers the floating-point evaluation. Where a variable bound is infinite the certificate
    does not apply and the optimum is widened by the feasibility tolerance instead (documented fallback).
    """

    def __init__(self, A_ub: np.ndarray, b_ub: np.ndarray, lb: np.ndarray, ub: np.ndarray):
        A, b, lb, ub = _check_inputs(A_ub, b_ub, lb, ub)
        self.A, self.b, self.lb, self.ub = A, b, lb, ub
        self.nvars = lb.shape[0]
        self.finite = bool(np.all(np.isfinite(lb)) and np.all(np.isfinite(ub)))
        self._highs = _new_highs()
        lp = highspy.HighsLp()
        lp.num_col_ = self.nvars
        lp.num_row_ = A.shape[0]
        lp.col_cost_ = np.zeros(self.nvars)
        lp.col_lower_ = lb
        lp.col_upper_ = ub
        lp.row_lower_ = np.full(A.shape[0], -highspy.kHighsInf)
        lp.row_upper_ = b
        csc = _colwise(A)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc
        self._highs.passModel(lp)

    def set_rhs(self, b_ub: np.ndarray) -> None:
        """Replace the right-hand side `b` of `A a <= b` (the model and basis are kept for a warm start)."""
        b = np.asarray(b_ub, dtype=float).reshape(-1)
        if b.shape != self.b.shape or not np.all(np.isfinite(b)):
            raise ValueError(f"lp: new b_ub must be a finite vector of length {self.b.shape[0]}")
        k = b.shape[0]
        self._highs.changeRowsBounds(k, np.arange(k, dtype=np.int32), np.full(k, -highspy.kHighsInf), b)
        self.b = b

    def _solve(self, c: np.ndarray) -> _Solution:
        """Minimise `c.a` over the polytope; raise InfeasibleLP / UnboundedLP / LPError when it has no optimum."""
        h = self._highs
        h.changeColsCost(self.nvars, np.arange(self.nvars, dtype=np.int32), c)
        h.run()
        status = h.getModelStatus()
        if status not in _DEFINITE:  # a warm start gone wrong (e.g. status Unknown): solve again from scratch
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InfeasibleLP("LP is infeasible: the set is empty")
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            if status == highspy.HighsModelStatus.kUnboundedOrInfeasible and not self.feasible_point_exists():
                raise InfeasibleLP("LP is infeasible: the set is empty")
            raise UnboundedLP("LP objective is unbounded: the set is unbounded in this direction")
        if status != highspy.HighsModelStatus.kOptimal:
            raise LPError(f"HiGHS returned status {h.modelStatusToString(status)}")
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        value = float(h.getInfo().objective_function_value)
        if self.finite:
            bound = self._certified_lower_bound(c, np.asarray(sol.row_dual, dtype=float))
        else:
            bound = value - FEASIBILITY_TOL * (1.0 + abs(value)) * (1.0 + np.abs(c).sum())
        return _Solution(value=value, x=x, bound=bound)

    def _certified_lower_bound(self, c: np.ndarray, row_dual: np.ndarray) -> float:
        best = -np.inf
        for y in (np.maximum(row_dual, 0.0), np.maximum(-row_dual, 0.0)):  # either sign convention is valid
            r = c + self.A.T @ y
            terms = np.minimum(r * self.lb, r * self.ub)
            bound = terms.sum() - y @ self.b
            scale = np.abs(terms).sum() + np.abs(y) @ np.abs(self.b) + np.abs(c).sum()
            best = max(best, bound - _ROUNDING * (scale + 1.0) * (self.nvars + len(y) + 1))
        return float(best)

    def feasible_point_exists(self) -> bool:
        """Return False only when emptiness is certified; True otherwise (sound for reachability)."""
        return min_violation(self.A, self.b, self.lb, self.ub)[0] <= 0.0

    def minimize(self, c: np.ndarray) -> float:
        """Return a certified lower bound on `min c.a` (an outer bound: never above the true minimum)."""
        return self._solve(np.asarray(c, dtype=float)).bound

    def maximize(self, c: np.ndarray) -> float:
        """Return a certified upper bound on `max c.a` (an outer bound: never below the true maximum)."""
        return -self._solve(-np.asarray(c, dtype=float)).bound

    def argmin(self, c: np.ndarray) -> tuple[np.ndarray, float]:
        """Return the solver's minimiser and its objective value (a point of the polytope up to tolerance)."""
        sol = self._solve(np.asarray(c, dtype=float))
        return sol.x, sol.value

    def bounds(self, objectives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return certified (min, max) of each row of `objectives` (shape (k, nvars)) over the polytope.

        Large batches are spread over `LP_THREADS` threads, each with its own copy of the model (HiGHS
        releases the GIL while it solves).
        """
        objectives = np.asarray(objectives, dtype=float).reshape(-1, self.nvars)
        k = objectives.shape[0]
        threads = min(LP_THREADS, k // 4)
        if threads <= 1 or self.nvars * (self.A.shape[0] + 1) < _THREADED_SIZE:
            return self._bounds_serial(objectives)
        programs = [self] + [LinearProgram(self.A, self.b, self.lb, self.ub) for _ in range(threads - 1)]
        chunks = np.array_split(np.arange(k), threads)
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(lambda pc: pc[0]._bounds_serial(objectives[pc[1]]), zip(programs, chunks)))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _bounds_serial(self, objectives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo = np.empty(objectives.shape[0])
        hi = np.empty(objectives.shape[0])
        for i, c in enumerate(objectives):
            lo[i] = self.minimize(c)
            hi[i] = self.maximize(c)
        return lo, hi


def _colwise(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (start, index, value) of A in compressed sparse column form."""
    nz_rows, nz_cols = np.nonzero(A.T)  # row-major over A.T = column-major over A
    counts = np.bincount(nz_rows, minlength=A.shape[1])
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return start, nz_cols.astype(np.int32), A.T[nz_rows, nz_cols].astype(float)


def image_contains(
    points: np.ndarray,
    c: np.ndarray,
    V: np.ndarray,
    C: np.ndarray,
    d: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    tol: float,
) -> np.ndarray:
    """Return which points x satisfy `x = c + V a` for some `a` with `C a <= d`, `lb <= a <= ub`, up to `tol`.

    One LP per point, over one model: minimise the slack s with `|V a - (x - c)| <= s`, `C a - d <= s`.
    A point is accepted when s <= tol * (1 + |x|_inf); the answer is exact up to that tolerance.
    """
    n, m = V.shape
    k = C.shape[0]
    ones_n, ones_k = np.ones((n, 1)), np.ones((k, 1))
    A = np.vstack([np.hstack([V, -ones_n]), np.hstack([-V, -ones_n]), np.hstack([C, -ones_k])])
    points = np.asarray(points, dtype=float)
    a_max = max(np.abs(lb).max(initial=0.0), np.abs(ub).max(initial=0.0))
    row_sums = np.abs(A[:, :m]).sum(axis=1).max(initial=0.0)
    # s_max exceeds every constraint violation attainable over the box, so the slack LP is always feasible.
    s_max = 10.0 * (np.abs(points - c).max(initial=0.0) + row_sums * a_max + np.abs(d).max(initial=0.0) + 1.0)
    program = None
    cost = np.zeros(m + 1)
    cost[-1] = 1.0
    out = np.zeros(points.shape[0], dtype=bool)
    for i, x in enumerate(points):
        rhs = np.concatenate([x - c, c - x, d])
        if program is None:
            program = LinearProgram(A, rhs, np.append(lb, 0.0), np.append(ub, s_max))
        else:
            program.set_rhs(rhs)
        limit = tol * (1.0 + np.abs(x).max(initial=0.0))
        _, slack = program.argmin(cost)
        if limit < slack <= 1e3 * FEASIBILITY_TOL * (1.0 + s_max):
            # borderline: warm-started simplex may stop within its tolerances; decide with a cold, tight solve
            strict = LinearProgram(A, rhs, np.append(lb, 0.0), np.append(ub, s_max))
            for option in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
                strict._highs.setOptionValue(option, 1e-10)
            _, slack = strict.argmin(cost)
        out[i] = slack <= limit
    return out


def lp_bounds(
    objectives: np.ndarray, A_ub: np.ndarray, b_ub: np.ndarray, lb: np.ndarray, ub: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return certified min and max of each row of `objectives` over `{a : A_ub a <= b_ub, lb <= a <= ub}`.

    Args:
        objectives: (k, m) array, one linear objective per row.
        A_ub, b_ub: (r, m) and (r,) inequality constraints (r may be 0).
        lb, ub: (m,) variable bounds (may be infinite; then the tolerance-widened fallback applies).
    Returns:
        (lower, upper), each of shape (k,): outer bounds, never inside the true range.
    Raises:
        InfeasibleLP if the polytope is empty, UnboundedLP if an objective is unbounded, LPError otherwise.
    """
    return LinearProgram(A_ub, b_ub, lb, ub).bounds(objectives)


def min_violation(
    A_ub: np.ndarray, b_ub: np.ndarray, lb: np.ndarray, ub: np.ndarray
) -> tuple[float, np.ndarray]:
    """Return (certified lower bound on min_a max_i (A a - b)_i over the box, a minimiser).

    A positive first value certifies that `{a : A a <= b, lb <= a <= ub}` is empty. The box must be finite
    for the certificate; with infinite bounds the value is widened by the tolerance instead.
    """
    A, b, lb, ub = _check_inputs(A_ub, b_ub, lb, ub)
    m = lb.shape[0]
    if A.shape[0] == 0:
        return -np.inf, np.clip(np.zeros(m), lb, ub)
    # t in [t_lo, t_hi] covers every value of max_i (A a - b)_i over the box, so the bounds on t lose nothing.
    finite_lb = np.where(np.isfinite(lb), lb, -1e6)
    finite_ub = np.where(np.isfinite(ub), ub, 1e6)
    mid, rad = (finite_lb + finite_ub) / 2, (finite_ub - finite_lb) / 2
    reach = np.abs(A @ mid - b) + np.abs(A) @ rad
    t_hi = float(reach.max()) + 1.0
    A_aug = np.hstack([A, -np.ones((A.shape[0], 1))])
    program = LinearProgram(A_aug, b, np.append(lb, -t_hi), np.append(ub, t_hi))
    c = np.zeros(m + 1)
    c[-1] = 1.0
    sol = program._solve(c)
    return sol.bound, sol.x[:m]


def is_feasible(A_ub: np.ndarray, b_ub: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> bool:
    """Return False only when `{a : A a <= b, lb <= a <= ub}` is certified empty, else True.

    Sound for reachability: a set is never dropped unless it is proven empty.
    """
    return min_violation(A_ub, b_ub, lb, ub)[0] <= 0.0
