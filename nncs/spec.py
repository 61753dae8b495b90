"""Specifications of closed-loop problems (always, goal, avoid) and their sound checks on sets and traces.

A set check answers True only when every point of the set satisfies the specification (LPs on stars are
certified, zonotopes exact); trace checks measure by how much a concrete trajectory violates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nncs.expressions import linear_constraint
from nncs.sets import HPolytope
from nncs.sets.base import Set

__all__ = ["Always", "Goal", "Avoid", "Spec", "parse_constraints"]


def parse_constraints(texts: Sequence[str], names: Sequence[str], what: str) -> HPolytope:
    """Return the conjunction of linear constraints (strings over `names`) as an HPolytope `H x <= g`."""
    if isinstance(texts, str) or not len(texts):
        raise ValueError(f"{what}: expected a non-empty list of constraints like ['x1 >= 0']")
    rows = [linear_constraint(t, names, f"{what}[{i}]") for i, t in enumerate(texts)]
    return HPolytope(np.array([h for h, _ in rows]), np.array([g for _, g in rows]))


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

    def violation(self, states):  # pragma: no cover - every kind overrides it
        """Per state (the last axis holds the state; numpy or JAX arrays alike), how much it violates the spec:
        positive means violated."""
        raise NotImplementedError


class _Inside:
    """The checks of the specs that ask every state to satisfy all constraints `H x <= g` (`self.region`)."""

    def holds_on(self, s: Set) -> bool:
        """True only if every point of `s` satisfies every constraint (sound)."""
        return self.region.contains_set(s)

    def violation(self, states):
        """Per state (last axis; numpy or JAX arrays), the largest `(H x - g)_i`: positive means violated."""
        return (states @ self.region.H.T - self.region.g).max(axis=-1)


@dataclass(frozen=True)
class Always(_Inside, SpecBase):
    """Every state at every time in the window satisfies all constraints `H x <= g`.

    Attributes:
        region: the constraints as an HPolytope.
        window: (from, to) in seconds; None means the whole horizon.
        text: the constraints as written (for reports).
    """

    region: HPolytope
    window: tuple[float, float] | None = None
    text: tuple[str, ...] = field(default=())

    kind = "always"
    shades_complement = True


@dataclass(frozen=True)
class Goal(_Inside, SpecBase):
    """At the final time, the state satisfies all constraints `H x <= g`."""

    region: HPolytope
    text: tuple[str, ...] = field(default=())

    kind = "goal"
    at_final_time = True


@dataclass(frozen=True)
class Avoid(SpecBase):
    """No state at any time in the window enters the unsafe region `{x : H x <= g}` (a conjunction)."""

    region: HPolytope
    window: tuple[float, float] | None = None
    text: tuple[str, ...] = field(default=())

    kind = "avoid"

    def holds_on(self, s: Set) -> bool:
        """True only if `s` and the unsafe region are disjoint (sound: certified LP emptiness)."""
        H, g = self.region.H, self.region.g
        # one constraint that no point of s can satisfy already separates them; the cheap outer support
        # function (no LP for stars; the exact one of boxes and zonotopes) settles most segments
        if np.any(-s.support_function_outer(-H) > g):
            return True
        # one certified phase-1 LP decides it (per-row support LPs first would only add LPs)
        return s.to_star().intersect_halfspace(H, g).is_empty()

    def violation(self, states):
        """Per state (last axis; numpy or JAX arrays), `-max_i (H x - g)_i`: positive means inside the unsafe
        region (violated)."""
        return -(states @ self.region.H.T - self.region.g).max(axis=-1)


Spec = Always | Goal | Avoid


SPEC_KINDS: dict[str, type] = {"always": Always, "goal": Goal, "avoid": Avoid}
"""The spec kinds by their name in problem files, in the order messages list them."""


def make_spec(
    kind: str, constraints: Sequence[str], names: Sequence[str], window=None, what: str = "spec"
) -> Spec:
    """Build a spec of `kind` (a key of `SPEC_KINDS`) from constraint strings over the state `names`."""
    if kind not in SPEC_KINDS:
        known = ", ".join(repr(k) for k in SPEC_KINDS)
        raise ValueError(f"{what}: unknown spec kind {kind!r}; expected one of {known}")
    cls = SPEC_KINDS[kind]
    region = parse_constraints(constraints, names, what)
    text = tuple(constraints)
    if cls.at_final_time:
        if window is not None:
            raise ValueError(f"{what}: a {kind} is checked at the final time; it takes no from/to window")
        return cls(region, text=text)
    return cls(region, None if window is None else _window(window, what), text)


__all__ += ["make_spec", "SPEC_KINDS", "SpecBase"]
