"""Functions of the plant state, affine or nonlinear (e.g. `sqrt(vx^2 + vy^2) - 2*n*sqrt(x^2 + y^2)`):
evaluated on points (numpy or JAX arrays) and bounded soundly on sets.

A nonlinear expression is bounded on a set by interval branch and bound: the set's box hull over the states
the expression uses (certified support functions), interval evaluation of the expression on it (outward
rounded), and bisection of the sub-boxes that do not settle the question, each dropped when an LP certifies
that it misses the set. Every bound is an over-approximation of the true range over the set.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from nncs.dynamics import interval as iv
from nncs.expressions import is_affine, parse_expression, substitute_constants
from nncs.sets.base import Set

__all__ = ["StateExpression", "BOUND_BUDGET"]

BOUND_BUDGET = 64
"""Most sub-boxes a nonlinear bound examines per set (each failing one costs one LP emptiness check)."""


@lru_cache(maxsize=1024)
def _structure(expr: sp.Expr, names: tuple[str, ...]) -> tuple[np.ndarray, tuple[np.ndarray, float] | None]:
    """(indices of the states `expr` uses, (w, b) when it is affine as written else None): computed once per
    expression, since the set checks ask for them on every reach segment."""
    free = {s.name for s in expr.free_symbols}
    used = np.array([i for i, n in enumerate(names) if n in free], dtype=int)
    used.flags.writeable = False  # shared by every caller
    if not is_affine(expr, names):
        return used, None
    symbols = [sp.Symbol(n) for n in names]
    w = np.array([float(expr.diff(s)) for s in symbols]) if symbols else np.zeros(0)
    w.flags.writeable = False
    return used, (w, float(expr.xreplace({s: 0 for s in symbols})))


@lru_cache(maxsize=1024)
def _compiled(expr: sp.Expr, names: tuple[str, ...], backend: str):
    """The expression compiled once: "interval" (an IntervalProgram in the used states), "numpy" or "jax" (a
    function of every state; sympy's printers emit code for the whitelisted nodes the parser built, as the
    plants' do)."""
    if backend == "interval":
        from nncs.dynamics.symbolic import IntervalProgram

        used = [sp.Symbol(names[i]) for i in _structure(expr, names)[0]]
        return IntervalProgram([expr], used, "a state expression")
    return sp.lambdify([sp.Symbol(n) for n in names], expr, modules=backend)


@dataclass(frozen=True)
class StateExpression:
    """A real function of the state, parsed from text (never evaluated as Python).

    Attributes:
        expr: the sympy expression over the state symbols (named constants already substituted).
        names: the state names, in the order of the state vector.
        text: the expression as written (for messages).
    """

    expr: sp.Expr
    names: tuple[str, ...]
    text: str = field(default="")

    @classmethod
    def parse(
        cls, text: str, names: Sequence[str], what: str, constants: Mapping[str, Any] | None = None
    ) -> StateExpression:
        """Parse `text` over the state `names` (and the named `constants`, substituted exactly).

        Raises:
            ValueError naming `what` for text outside the expression grammar (`nncs.expressions`).
        """
        constants = dict(constants or {})
        expr = parse_expression(text, list(names) + [c for c in constants if c not in names], what)
        return cls(substitute_constants(expr, constants, names, what), tuple(names), str(text))

    # ------------------------------------------------------------------------------------------ structure
    @property
    def used(self) -> np.ndarray:
        """Indices of the states the expression depends on (sorted)."""
        return _structure(self.expr, self.names)[0]

    @property
    def affine(self) -> tuple[np.ndarray, float] | None:
        """(w, b) with expression = w . x + b when it is affine as written (exact), else None."""
        return _structure(self.expr, self.names)[1]

    # ---------------------------------------------------------------------------------------------- points
    def values(self, states):
        """The expression at each state (the last axis holds the state; numpy or JAX arrays alike).

        A state outside the expression's domain (e.g. sqrt of a negative number) gives NaN."""
        if isinstance(states, np.ndarray) or np.isscalar(states):
            numpy_fn = _compiled(self.expr, self.names, "numpy")
            states = np.asarray(states, dtype=float)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                out = numpy_fn(*np.moveaxis(states, -1, 0))
            return np.broadcast_to(np.asarray(out, dtype=float), states.shape[:-1]).copy()
        from nncs._jax import jnp

        out = _compiled(self.expr, self.names, "jax")(*jnp.moveaxis(states, -1, 0))
        return jnp.broadcast_to(jnp.asarray(out, dtype=jnp.float64), states.shape[:-1])

    # ------------------------------------------------------------------------------------------------ sets
    def interval(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interval enclosures of the expression on boxes (lo, hi: (..., n) over the full state; outward
        rounded, an over-approximation). A box the expression cannot be bounded on gives (-inf, inf)."""
        program = _compiled(self.expr, self.names, "interval")
        lo, hi = np.atleast_2d(lo), np.atleast_2d(hi)
        used = self.used
        box = iv.Interval(lo[:, used].T.copy(), hi[:, used].T.copy())
        try:
            with np.errstate(all="ignore"):
                out = program(box)
            elo, ehi = np.asarray(out.lo[0], float), np.asarray(out.hi[0], float)
        except (ValueError, ZeroDivisionError, OverflowError):
            if lo.shape[0] == 1:
                return np.array([-np.inf]), np.array([np.inf])
            parts = [self.interval(lo[k], hi[k]) for k in range(lo.shape[0])]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        bad = np.isnan(elo) | np.isnan(ehi)
        return np.where(bad, -np.inf, elo), np.where(bad, np.inf, ehi)

    def upper_bound(
        self, s: Set, target: float = -np.inf, strict: bool = False, budget: int = BOUND_BUDGET
    ) -> float:
        """A certified upper bound of the expression over the set `s` (an over-approximation of its max).

        Branch and bound stops as soon as the bound is at most `target` (below it when `strict`), or when
        `budget` sub-boxes have been examined; without a target it refines the bound until the budget is spent.

        Args:
            s: any set of the state's dimension.
            target: the bound that would settle the caller's question (e.g. 0 for `f(x) <= 0`).
            strict: whether the bound must be strictly below `target`.
            budget: the most sub-boxes examined (at least 1: the hull itself).
        """
        return self._bound(s, target, strict, budget, sign=1.0)

    def lower_bound(
        self, s: Set, target: float = np.inf, strict: bool = False, budget: int = BOUND_BUDGET
    ) -> float:
        """A certified lower bound of the expression over `s` (as `upper_bound`, mirrored: stops once the
        bound is at least `target`, above it when `strict`)."""
        return -self._bound(s, -target, strict, budget, sign=-1.0)

    def bounds(self, s: Set, budget: int = BOUND_BUDGET) -> tuple[float, float]:
        """Certified (lower, upper) bounds of the expression over `s` (exact support functions when affine)."""
        affine = self.affine
        if affine is not None:
            w, b = affine
            hi, neg_lo = s.support_function(np.vstack([w, -w]))
            return float(-neg_lo + b), float(hi + b)
        return self.lower_bound(s, budget=budget), self.upper_bound(s, budget=budget)

    def _bound(self, s: Set, target: float, strict: bool, budget: int, sign: float) -> float:
        """max over s of sign * expression, bounded above (see `upper_bound`)."""
        affine = self.affine
        if affine is not None:
            w, b = affine
            return float(s.support_function((sign * w)[None, :])[0] + sign * b)
        n = s.dim
        used = self.used
        if used.size == 0:  # a constant: its enclosure on any box
            lo, hi = self.interval(np.zeros(n), np.zeros(n))
            return float(hi[0] if sign > 0 else -lo[0])
        eye = np.eye(n)[used]

        def settled(value: float) -> bool:
            return value < target if strict else value <= target

        def value_of(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
            elo, ehi = self.interval(lo, hi)
            return ehi if sign > 0 else -elo

        full_lo, full_hi = np.zeros(n), np.zeros(n)
        # the cheap outer hull first (no LP for stars): it settles most sets
        outer_hull = s.support_function_outer(np.vstack([eye, -eye]))  # one batched call: top, then -bottom
        full_lo[used], full_hi[used] = -outer_hull[len(used) :], outer_hull[: len(used)]
        outer = float(value_of(full_lo, full_hi)[0])
        if settled(outer) or budget <= 1:
            return outer
        hull = s.support_function(np.vstack([eye, -eye]))  # one batch of certified LPs
        top, bottom = hull[: len(used)], -hull[len(used) :]
        full_lo[used], full_hi[used] = bottom, top
        hull_width = np.maximum(top - bottom, 1e-300)

        # best first: the sub-box with the largest bound is split next; the bound is the largest over the heap
        root = float(value_of(full_lo, full_hi)[0])
        heap = [(-root, 0, full_lo, full_hi)]
        examined, order = 1, 1
        while heap:
            neg, _, lo, hi = heap[0]
            if settled(-neg) or examined + 2 > budget:
                return -neg
            heapq.heappop(heap)
            if examined > 1 and _misses(s, lo, hi, used):
                continue  # no point of the set in this sub-box
            rel = (hi[used] - lo[used]) / hull_width
            d = used[int(np.argmax(rel))]
            mid = 0.5 * (lo[d] + hi[d])
            left_hi, right_lo = hi.copy(), lo.copy()
            left_hi[d], right_lo[d] = mid, mid
            values = value_of(np.array([lo, right_lo]), np.array([left_hi, hi]))
            examined += 2
            for v, box in zip(values, [(lo, left_hi), (right_lo, hi)]):
                heapq.heappush(heap, (-float(v), order, *box))
                order += 1
        return -np.inf  # every sub-box misses the set: it is empty


def _misses(s: Set, lo: np.ndarray, hi: np.ndarray, used: np.ndarray) -> bool:
    """True only when an LP certifies that `s` has no point in the box `lo <= x <= hi` (over `used`)."""
    n = s.dim
    eye = np.eye(n)[used]
    H = np.vstack([eye, -eye])
    g = np.concatenate([hi[used], -lo[used]])
    return bool(s.to_star().intersect_halfspace(H, g).is_empty())
