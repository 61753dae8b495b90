"""Specifications of closed-loop problems (always, goal, avoid) and their sound checks on sets and traces.

A set check answers True only when every point of the set satisfies the specification (LPs on stars are
certified, zonotopes exact); trace checks measure by how much a concrete trajectory violates it.

Strict constraints (`<`, `>`) keep their meaning. In `always` and `goal` a strict condition is proven only when
the certified bound over the set lies strictly inside it (a set touching `x = c` does not prove `x > c`). In
`avoid` the unsafe region `{x : conditions}` is avoided with its boundary (its closure), which is sound and at
most stricter than asked. A trace violates a strict `always` / `goal` condition when it reaches the boundary;
the falsifier reports only violations that are clearly positive, so a counterexample is never a rounding
artefact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from nncs.expressions import affine_relation, is_affine, linear_relation, parse_relation
from nncs.sets import HPolytope
from nncs.sets.base import Set
from nncs.state_expression import StateExpression

__all__ = ["Always", "Goal", "Avoid", "Spec", "NonlinearCondition", "parse_constraints", "parse_relations"]


def parse_relations(
    texts: Sequence[str], names: Sequence[str], what: str, constants: Mapping[str, Any] | None = None
) -> tuple[HPolytope, tuple[bool, ...]]:
    """Return the conjunction of linear constraints (strings over `names`, which may also use the named
    `constants`, e.g. a plant's parameters) as the HPolytope `H x <= g` of its closure and, per row, whether
    the constraint was strict (`<` or `>`; exact).

    Raises:
        ValueError naming `what[i]` for an empty list or a constraint that does not parse (see
        `nncs.expressions.linear_relation`).
    """
    if isinstance(texts, str) or not len(texts):
        raise ValueError(f"{what}: expected a non-empty list of constraints like ['x1 >= 0']")
    rows = [linear_relation(t, names, f"{what}[{i}]", constants) for i, t in enumerate(texts)]
    region = HPolytope(np.array([h for h, _, _ in rows]), np.array([g for _, g, _ in rows]))
    return region, tuple(strict for _, _, strict in rows)


def parse_constraints(texts: Sequence[str], names: Sequence[str], what: str) -> HPolytope:
    """Return the closure of the conjunction of linear constraints (strings over `names`) as an HPolytope
    `H x <= g` (exact for non-strict constraints; a strict one gives its closure)."""
    return parse_relations(texts, names, what)[0]


@dataclass(frozen=True)
class NonlinearCondition:
    """One constraint of a spec that is nonlinear in the states, read as `f(x) <= 0` (`f(x) < 0` when
    strict), with `f` = lhs - rhs (or rhs - lhs for `>=` / `>`).

    Attributes:
        f: the function, a StateExpression (bounded on sets by interval branch and bound: sound).
        strict: whether the relation was `<` or `>`.
        index: the position of the constraint in the spec's `text`.
    """

    f: StateExpression
    strict: bool
    index: int


def _condition_of(text: str, names: Sequence[str], what: str, constants, index: int):
    """The constraint `text` parsed once: (h, g, strict) when it is affine in the `names`, else its
    NonlinearCondition (both exact)."""
    diff, rel = parse_relation(text, names, what, constants)
    if is_affine(diff, names):
        return affine_relation(diff, rel, names, what, text)
    if not ({sym.name for sym in diff.free_symbols} & set(names)):
        raise ValueError(f"{what}: {text!r} does not involve any of {list(names)}")
    f = diff if rel.startswith("<") else -diff
    return NonlinearCondition(StateExpression(f, tuple(names), text), rel in ("<", ">"), index)


@dataclass(frozen=True)
class Violation:
    """Where a concrete trajectory violates a spec the most.

    Attributes:
        condition: the violated condition as written (e.g. "theta <= 1"); for avoid, the region entered.
        amount: by how much (>= 0 means violated; for avoid, the depth inside the region).
        time: the time (s) of the worst state.
    """

    condition: str
    amount: float
    time: float

    def describe(self) -> str:
        """One line, e.g. "`theta <= 1` violated by 0.0083 at t = 0.65 s"."""
        return f"`{self.condition}` violated by {self.amount:.3g} at t = {self.time:.4g} s"


@dataclass(frozen=True)
class Shortfall:
    """The condition of a spec that a set came closest to failing, with its certified bound.

    Attributes:
        condition: the condition as written (for avoid: the region).
        excess: how far the set's certified bound goes past the condition (for always / goal: `max h.x - g`
            over the set; for avoid: minus the best separation). Negative: the condition is proven with that
            margin (zero proves a non-strict condition only).
    """

    condition: str
    excess: float


def _window(window, what: str) -> tuple[float, float]:
    if window is None:
        return (0.0, np.inf)
    lo, hi = (float(window[0]), float(window[1]))
    if not (lo >= 0 and hi >= lo):
        raise ValueError(f"{what}: the time window must satisfy 0 <= from <= to, got {window}")
    return lo, hi


class SpecBase:
    """What every spec kind defines, in this module alone (a new kind is one class plus its `SPEC_KINDS` entry).

    Class attributes:
        kind: the name in problem files and reports ("always", "goal", "avoid").
        at_final_time: True when the spec is checked on the final sets / states only (goal); False when it is
            checked on every reach segment and every state of its window.
        shades_complement: True when a plot shades the side of the constraints that violates them (always);
            False when it shades the region itself (goal: the target, avoid: the unsafe region).
    Instance attributes: `region` (an HPolytope), `window` ((from, to) seconds or None), `text` (as written).
    """

    kind: ClassVar[str]
    at_final_time: ClassVar[bool] = False
    shades_complement: ClassVar[bool] = False
    window: tuple[float, float] | None = None

    def applies(self, t0: float, t1: float, horizon: float) -> bool:
        """Whether the spec is checked on a reach segment over the time interval [t0, t1]."""
        if self.at_final_time:
            return t1 >= horizon
        lo, hi = _window(self.window, self.kind)
        return t1 >= lo and t0 <= hi

    def time_mask(self, times: np.ndarray, horizon: float) -> np.ndarray:
        """Which of the sample times (a 1-D array) of a trajectory the spec constrains (a boolean array)."""
        if self.at_final_time:
            return np.isclose(times, horizon, rtol=0, atol=1e-9 * max(1.0, horizon))
        lo, hi = self.window if self.window is not None else (0.0, np.inf)
        return (times >= lo - 1e-12) & (times <= hi + 1e-12)

    def holds_on(self, s: Set) -> bool:  # pragma: no cover - every kind overrides it
        """True only if every point of the set `s` satisfies the spec (sound)."""
        raise NotImplementedError

    def shortfall(self, s: Set) -> Shortfall:  # pragma: no cover - every kind overrides it
        """The condition the set `s` comes closest to failing and its certified bound (LP-tight on stars)."""
        raise NotImplementedError

    def worst_violation(self, times: np.ndarray, states: np.ndarray, horizon: float) -> Violation | None:
        """Where the trajectory (states (K, n) at times (K,)) violates the spec most (None when no time of it
        is constrained); `amount` > 0 means violated."""
        mask = self.time_mask(np.asarray(times), horizon)
        if not np.any(mask):
            return None
        row, amount, k = self._worst_row(np.asarray(states, dtype=float)[mask])
        return Violation(self._condition(row), float(amount), float(np.asarray(times)[mask][k]))

    def _worst_row(self, states: np.ndarray) -> tuple[int | None, float, int]:  # pragma: no cover
        raise NotImplementedError

    def _condition(self, row: int | None) -> str:
        """The text of a row: rows of `region` first, then the nonlinear conditions; None: all of them."""
        if row is None:
            return " and ".join(self.text)
        m = len(self.region.g)
        if row >= m:
            return self.text[self.nonlinear[row - m].index]
        return self.text[self.affine_rows[row]] if self.affine_rows else self.text[row]

    def _values(self, states, undefined: float = -np.inf):
        """Per state (last axis; numpy or JAX arrays), each row's `h.x - g` then each nonlinear `f(x)`
        (positive: that condition fails). A state outside a function's domain (NaN) gets `undefined`: chosen
        by each kind so that such a state never makes a trace violate the spec."""
        affine = states @ self.region.H.T - self.region.g
        if not self.nonlinear:
            return affine
        columns = [c.f.values(states) for c in self.nonlinear]
        if isinstance(affine, np.ndarray):
            values = np.concatenate([affine, np.stack(columns, axis=-1)], axis=-1)
            return np.where(np.isnan(values), undefined, values)
        from nncs._jax import jnp

        values = jnp.concatenate([affine, jnp.stack(columns, axis=-1)], axis=-1)
        return jnp.where(jnp.isnan(values), undefined, values)

    def cache_key(self) -> tuple:
        """What identifies the spec's meaning (for caches of compiled functions)."""
        return (
            self.kind,
            self.region.H.tobytes(),
            self.region.g.tobytes(),
            self.window,
            tuple((c.f.expr, c.strict) for c in self.nonlinear),
        )

    def strict_rows(self) -> np.ndarray:
        """Per constraint row, whether it is strict (a boolean array)."""
        strict = getattr(self, "strict", ())
        return np.array(strict, dtype=bool) if len(strict) else np.zeros(len(self.region.g), dtype=bool)

    def describe(self) -> str:
        """The spec in one line, e.g. "always theta >= 0 and theta <= 1 (t in [0, 1] s)"."""
        window = "" if self.window is None else f" (t in [{self.window[0]:g}, {self.window[1]:g}] s)"
        when = " at the final time" if self.at_final_time else window
        return f"{self.kind} {' and '.join(self.text)}{when}"

    def resolved_text(self) -> tuple[str, ...]:
        """The constraints as written, with each named constant replaced by its value in parentheses (what
        plots parse: states only)."""
        values = dict(getattr(self, "constants", ()))
        if not values:
            return tuple(self.text)
        pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in values) + r")\b")
        return tuple(pattern.sub(lambda m: f"({values[m.group(1)]!r})", t) for t in self.text)

    def to_dict(self) -> dict:
        """The JSON form in reports: {"kind", "constraints" (as written), "window" ([from, to] or None),
        "constants" ({name: value} of the named constants the constraints use; {} when none)}."""
        window = None if self.window is None else [float(self.window[0]), float(self.window[1])]
        constants = {k: float(v) for k, v in getattr(self, "constants", ())}
        return {"kind": self.kind, "constraints": list(self.text), "window": window, "constants": constants}

    def violation(self, states):  # pragma: no cover - every kind overrides it
        """Per state (the last axis holds the state; numpy or JAX arrays alike), how much it violates the spec:
        positive means violated."""
        raise NotImplementedError


class _Inside:
    """The checks of the specs that ask every state to satisfy all constraints `H x <= g` (`self.region`;
    rows marked strict ask `H_i x < g_i`) and every nonlinear condition `f(x) <= 0` (`self.nonlinear`)."""

    def holds_on(self, s: Set) -> bool:
        """True only if every point of `s` satisfies every constraint (sound; a strict row needs its
        certified bound strictly below `g_i`; a nonlinear condition needs its branch-and-bound bound <= 0)."""
        if len(self.region.g) and not self._affine_holds_on(s):
            return False
        for c in self.nonlinear:
            bound = c.f.upper_bound(s, 0.0, c.strict)
            if not (bound < 0 if c.strict else bound <= 0):
                return False
        return True

    def _affine_holds_on(self, s: Set) -> bool:
        strict = self.strict_rows()
        if not strict.any():
            return self.region.contains_set(s)
        H, g = self.region.H, self.region.g
        if (~strict).any() and not HPolytope(H[~strict], g[~strict]).contains_set(s):
            return False
        Hs, gs = H[strict], g[strict]
        pending = s.support_function_outer(Hs) >= gs  # the cheap outer bound settles most rows
        return bool(np.all(s.support_function(Hs[pending]) < gs[pending])) if pending.any() else True

    def shortfall(self, s: Set) -> Shortfall:
        """The row with the largest certified `max_{x in s} h_i.x - g_i` (LP-tight on stars) or nonlinear
        bound `max f` (branch and bound, an over-approximation)."""
        excess = s.support_function(self.region.H) - self.region.g if len(self.region.g) else np.zeros(0)
        strict = self.strict_rows()
        if self.nonlinear:
            excess = np.concatenate([excess, [c.f.upper_bound(s) for c in self.nonlinear]])
            strict = np.concatenate([strict, [c.strict for c in self.nonlinear]])
        failing = (excess > 0) | (strict & (excess >= 0))
        candidates = np.flatnonzero(failing) if failing.any() else np.arange(len(excess))
        row = int(candidates[np.argmax(excess[candidates])])
        return Shortfall(self._condition(row), float(excess[row]))

    def _worst_row(self, states: np.ndarray) -> tuple[int | None, float, int]:
        values = self._values(states)  # (K, m)
        k, row = np.unravel_index(int(np.argmax(values)), values.shape)
        return int(row), float(values[k, row]), int(k)

    def violation(self, states):
        """Per state (last axis; numpy or JAX arrays), the largest `(H x - g)_i` or `f_j(x)`: positive means
        violated."""
        return self._values(states).max(axis=-1)


@dataclass(frozen=True)
class Always(_Inside, SpecBase):
    """Every state at every time in the window satisfies all constraints `H x <= g`.

    Attributes:
        region: the constraints as an HPolytope (the closure of strict ones).
        window: (from, to) in seconds; None means the whole horizon.
        text: the constraints as written (for reports).
        strict: per constraint, whether it is strict (`<` / `>`); empty means none is.
        constants: (name, value) of the named constants the text uses (the plant's parameters), sorted.
        nonlinear: the constraints that are nonlinear in the states (NonlinearCondition); `region` holds the
            affine ones.
        affine_rows: with nonlinear constraints, the position in `text` of each row of `region` (empty: the
            rows are `text` in order).
    """

    region: HPolytope
    window: tuple[float, float] | None = None
    text: tuple[str, ...] = field(default=())
    strict: tuple[bool, ...] = field(default=())
    constants: tuple[tuple[str, float], ...] = field(default=())
    nonlinear: tuple[NonlinearCondition, ...] = field(default=())
    affine_rows: tuple[int, ...] = field(default=())

    kind = "always"
    shades_complement = True


@dataclass(frozen=True)
class Goal(_Inside, SpecBase):
    """At the final time, the state satisfies all constraints `H x <= g` (attributes as `Always`'s)."""

    region: HPolytope
    text: tuple[str, ...] = field(default=())
    strict: tuple[bool, ...] = field(default=())
    constants: tuple[tuple[str, float], ...] = field(default=())
    nonlinear: tuple[NonlinearCondition, ...] = field(default=())
    affine_rows: tuple[int, ...] = field(default=())

    kind = "goal"
    at_final_time = True


@dataclass(frozen=True)
class Avoid(SpecBase):
    """No state at any time in the window enters the unsafe region `{x : H x <= g}` (a conjunction; strict
    conditions make an open region, which is avoided with its boundary: sound, see the module docstring)."""

    region: HPolytope
    window: tuple[float, float] | None = None
    text: tuple[str, ...] = field(default=())
    strict: tuple[bool, ...] = field(default=())
    constants: tuple[tuple[str, float], ...] = field(default=())
    nonlinear: tuple[NonlinearCondition, ...] = field(default=())
    affine_rows: tuple[int, ...] = field(default=())

    kind = "avoid"

    def holds_on(self, s: Set) -> bool:
        """True only if `s` and the unsafe region are disjoint (sound: certified LP emptiness, or a nonlinear
        condition of the region bounded above 0 on the part of `s` that meets its affine conditions)."""
        H, g = self.region.H, self.region.g
        # one constraint that no point of s can satisfy already separates them; the cheap outer support
        # function (no LP for stars; the exact one of boxes and zonotopes) settles most segments
        if len(g) and np.any(-s.support_function_outer(-H) > g):
            return True
        inside = s.to_star().intersect_halfspace(H, g) if len(g) else s
        # one certified phase-1 LP decides it (per-row support LPs first would only add LPs)
        if len(g) and inside.is_empty():
            return True
        return any(c.f.lower_bound(inside, 0.0, strict=True) > 0 for c in self.nonlinear)

    def shortfall(self, s: Set) -> Shortfall:
        """Minus the best certified separation `max_i (min_{x in s} h_i.x - g_i)` (LP-tight on stars; for a
        nonlinear condition `min f` by branch and bound): negative when some condition of the region is out of
        reach of `s`."""
        separation = (
            -s.support_function(-self.region.H) - self.region.g if len(self.region.g) else np.zeros(0)
        )
        if self.nonlinear:
            separation = np.concatenate([separation, [c.f.lower_bound(s) for c in self.nonlinear]])
        return Shortfall(f"avoid {self._condition(None)}", float(-np.max(separation)))

    def _worst_row(self, states: np.ndarray) -> tuple[int | None, float, int]:
        depth = self.violation(states)
        k = int(np.argmax(depth))
        return None, float(depth[k]), k

    def violation(self, states):
        """Per state (last axis; numpy or JAX arrays), `-max_i (H x - g)_i` over the affine rows and the
        nonlinear `f_j(x)`: positive means inside the unsafe region (violated). A state where a nonlinear
        condition is undefined is outside the region."""
        return -self._values(states, undefined=np.inf).max(axis=-1)


Spec = Always | Goal | Avoid


SPEC_KINDS: dict[str, type] = {"always": Always, "goal": Goal, "avoid": Avoid}
"""The spec kinds by their name in problem files, in the order messages list them."""


def make_spec(
    kind: str,
    constraints: Sequence[str],
    names: Sequence[str],
    window=None,
    what: str = "spec",
    constants: Mapping[str, Any] | None = None,
) -> Spec:
    """Build a spec of `kind` (a key of `SPEC_KINDS`) from constraint strings over the state `names`, which
    may also use the named `constants` (e.g. the plant's parameters, {name: number or exact sympy value})."""
    if kind not in SPEC_KINDS:
        known = ", ".join(repr(k) for k in SPEC_KINDS)
        raise ValueError(f"{what}: unknown spec kind {kind!r}; expected one of {known}")
    cls = SPEC_KINDS[kind]
    if isinstance(constraints, str) or not len(constraints):
        raise ValueError(f"{what}: expected a non-empty list of constraints like ['x1 >= 0']")
    conditions = [_condition_of(t, names, f"{what}[{i}]", constants, i) for i, t in enumerate(constraints)]
    nonlinear = tuple(c for c in conditions if isinstance(c, NonlinearCondition))
    affine = [i for i, c in enumerate(conditions) if not isinstance(c, NonlinearCondition)]
    rows = [conditions[i] for i in affine]
    region = HPolytope(
        np.array([h for h, _, _ in rows]).reshape(len(rows), len(names)), np.array([g for _, g, _ in rows])
    )
    strict = tuple(st for _, _, st in rows)
    strict = strict if any(strict) else ()
    text = tuple(constraints)
    used = _used_constants(text, constants or {}, names)
    extra = {"nonlinear": nonlinear, "affine_rows": tuple(affine)} if nonlinear else {}
    if cls.at_final_time:
        if window is not None:
            raise ValueError(f"{what}: a {kind} is checked at the final time; it takes no from/to window")
        return cls(region, text=text, strict=strict, constants=used, **extra)
    return cls(region, None if window is None else _window(window, what), text, strict, used, **extra)


def _used_constants(texts: Sequence[str], constants: Mapping[str, Any], names: Sequence[str]) -> tuple:
    """(name, value as a float) of the constants that appear (as whole names) in the texts, sorted."""
    words = {w for t in texts for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", t)}
    return tuple(sorted((k, float(v)) for k, v in constants.items() if k in words and k not in names))


def spec_from_dict(data: dict, names: Sequence[str], what: str = "spec") -> Spec:
    """Rebuild a spec from its `to_dict()` form (e.g. read from a report) over the state `names`.

    The constraints are parsed by `nncs.expressions` (never evaluated as Python).

    Raises:
        ValueError naming `what` and the field for a malformed entry.
    """
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise ValueError(f"{what}: expected an object with 'kind', 'constraints' and 'window'")
    constraints = data.get("constraints")
    if not isinstance(constraints, list) or not all(isinstance(c, str) for c in constraints):
        raise ValueError(f"{what}.constraints: expected a list of strings")
    window = data.get("window")
    if window is not None:
        if not (
            isinstance(window, list)
            and len(window) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in window)
            and all(np.isfinite(window))
        ):
            raise ValueError(f"{what}.window: expected [from, to] (finite seconds) or null")
    constants = data.get("constants") or {}
    if not (
        isinstance(constants, dict)
        and all(isinstance(k, str) for k in constants)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in constants.values())
        and all(np.isfinite(list(constants.values())))
    ):
        raise ValueError(f"{what}.constants: expected an object of names and finite numbers")
    return make_spec(data["kind"], constraints, names, window, what, constants)


__all__ += ["make_spec", "spec_from_dict", "SPEC_KINDS", "SpecBase", "Shortfall", "Violation"]
