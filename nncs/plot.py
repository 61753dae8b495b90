"""Matplotlib pictures of nncs sets (2-D projections), for notebooks, reports and the command line.

Every function draws on an `Axes` (a new one when none is given) and returns it; the verdict and report plots
(`plot_verdict`, `plot_report`) draw a column of them, one per quantity that the specs constrain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from nncs.sets import HPolytope, Star
from nncs.sets.base import Set, projection_dims
from nncs.state_expression import BOUND_BUDGET, StateExpression


def projection_polygon(s: Set, dims=(0, 1), tol: float = 1e-3) -> np.ndarray:
    """Return the vertices (counter-clockwise) of the projection of `s` onto `dims`, shape (k, 2).

    Exact for boxes and zonotopes; for stars and H-polytopes an inner polygon within `tol * diameter`
    of the projection (the set's own `polygon_2d`).
    """
    if not isinstance(s, Set):
        raise ValueError(
            f"plot: cannot project a {type(s).__name__}; expected Box, Zonotope, Star or HPolytope"
        )
    return s.polygon_2d(dims, tol=tol)


def plot_set(s: Set, dims=(0, 1), ax=None, **style: Any):
    """Draw the 2-D projection of `s` onto `dims` as a filled polygon and return the Axes.

    Args:
        s: a Box, Zonotope, Star or HPolytope.
        dims: the two dimensions to project onto.
        ax: the matplotlib Axes to draw on (default: a new figure's).
        **style: passed to `matplotlib.patches.Polygon` (facecolor, edgecolor, alpha, label, ...).
    Returns:
        The Axes, with its data limits updated to include the set.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    vertices = projection_polygon(s, dims)
    if ax is None:
        _, ax = plt.subplots()
    style = {"facecolor": "tab:blue", "edgecolor": "black", "alpha": 0.5, "linewidth": 1.0} | style
    if len(vertices) < 3:  # a point or a segment: draw it as a line so it stays visible
        ax.plot(
            vertices[:, 0],
            vertices[:, 1],
            color=style.get("edgecolor", "black"),
            marker="o",
            label=style.get("label"),
        )
    else:
        ax.add_patch(Polygon(vertices, closed=True, **style))
    ax.update_datalim(vertices)
    ax.autoscale_view()
    i, j = dims
    ax.set_xlabel(ax.get_xlabel() or f"x{i}")
    ax.set_ylabel(ax.get_ylabel() or f"x{j}")
    return ax


def _affine_expression(w: np.ndarray, names) -> StateExpression:
    """The affine quantity `w . x` as a StateExpression over `names` (coefficients exact)."""
    expr = sum((sp.Float(float(c), 17) * sp.Symbol(n) for c, n in zip(w, names) if c), sp.S.Zero)
    return StateExpression(expr, tuple(names), _format_affine(w, names))


def _affine(expression, names):
    from nncs.expressions import affine_map

    W, b = affine_map([expression], list(names), f"expression {expression!r}")
    return W[0], b[0]


def expression_band(
    result, expression: str, stars: str = "exact"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (t_lo, t_hi, lower, upper) of an affine state expression over every flowpipe segment (sound).

    Args:
        result: a ReachResult.
        expression: affine in the state names, e.g. "x_lead - x_ego".
        stars: "exact" (support functions of Star segments by LP: the tight range, two LPs per segment) or
            "outer" (support functions of their outer zonotopes: cheap, looser, still containing the range).
    """
    if stars not in ("exact", "outer"):
        raise ValueError(f"expression_band: stars must be 'exact' or 'outer', got {stars!r}")
    w, b = _affine(expression, result.system.plant.state_names)
    return _band(result, w, b, stars)


def _band(result, w: np.ndarray, b: float, stars: str):
    """`expression_band` of the expression `w . x + b` (see there)."""
    directions = np.vstack([w, -w])
    rows = []
    for t0, t1, s in result.segments():
        if stars == "outer" and isinstance(s, Star):
            s = s.to_zonotope()
        hi_w, lo_w = s.support_function(directions)
        rows.append((t0, t1, -lo_w + b, hi_w + b))
    return tuple(np.array(col) for col in zip(*rows)) if rows else tuple(np.zeros(0) for _ in range(4))


def _expression(text: str, names) -> StateExpression:
    """A side of a spec condition (or any state expression) as a StateExpression over `names`."""
    return StateExpression.parse(text, list(names), f"expression {text!r}")


PLOT_BOUND_BOXES = 20_000
"""The most branch-and-bound sub-boxes one panel's nonlinear band may examine over all parts and segments (each
can cost an LP): a report of 102 parts x 400 segments took over an hour at the full per-segment budget."""


def _reach_band(result, expr: StateExpression, offset: float, stars: str, budget: int = BOUND_BUDGET):
    """`expression_band` of `expr + offset`: exact support functions when affine, else the sound
    branch-and-bound bounds of `StateExpression.bounds` on each segment (at most `budget` sub-boxes each;
    1: the enclosure on the segment's box hull, coarser and still an outer bound)."""
    affine = expr.affine
    if affine is not None:
        return _band(result, affine[0], affine[1] + offset, stars)
    rows = []
    for t0, t1, s in result.segments():
        if stars == "outer" and isinstance(s, Star):
            s = s.to_zonotope()
        lo, hi = expr.bounds(s, budget=budget)
        rows.append((t0, t1, lo + offset, hi + offset))
    return tuple(np.array(col) for col in zip(*rows)) if rows else tuple(np.zeros(0) for _ in range(4))


def _box_band(expr: StateExpression, offset: float, lo: np.ndarray, hi: np.ndarray):
    """Bounds of `expr + offset` on the boxes [lo_k, hi_k] (rows of state bounds): sound."""
    affine = expr.affine
    if affine is not None:
        w, b = affine
        wp, wn = np.maximum(w, 0), np.minimum(w, 0)
        return lo @ wp + hi @ wn + b + offset, hi @ wp + lo @ wn + b + offset
    elo, ehi = expr.interval(lo, hi)
    return elo + offset, ehi + offset


STAR_BAND_LIMIT = 200
"""plot_over_time(stars="auto") uses exact LP bands up to this many Star segments, outer-zonotope bands above."""


def plot_over_time(
    results,
    expressions,
    ax=None,
    traces=None,
    colors=None,
    labels=None,
    *,
    constraints=None,
    window=None,
    counterexample=None,
    stars: str = "auto",
):
    """Draw affine state expressions (e.g. "x_lead - x_ego") against time as interval bands, return the Axes.

    Args:
        results: a ReachResult or a list of them (e.g. the proven parts of a split initial set).
        expressions: strings over the state names.
        ax: the Axes (default: a new figure's).
        traces: optional (times (K,), states (N, K, n)) of simulated trajectories, drawn as thin lines.
        colors, labels: per expression.
        constraints: constraint strings over the states, e.g. "x_lead - x_ego >= 10 + 1.4*v_ego": a side
            that is a constant is drawn as a dashed red line (gid "constraint"); a side that involves
            states and is not among `expressions` is drawn as a red band (the bound's reachable values).
        window: (from, to) seconds of the spec, shaded grey.
        counterexample: a Counterexample or a report's counterexample dict; each expression along it is
            drawn as a thick red line (gid "counterexample").
        stars: bands over Star segments: "exact", "outer" (see `expression_band`) or "auto" (exact up to
            STAR_BAND_LIMIT Star segments, outer above; the labels then say "outer").
    Returns:
        The Axes; each band is one PolyCollection (fill_between per segment) labelled with its expression.
    """
    import matplotlib.pyplot as plt

    results = results if isinstance(results, (list, tuple)) else [results]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    colors = colors or [f"C{i}" for i in range(len(expressions))]
    labels = labels or list(expressions)
    if stars not in ("auto", "exact", "outer"):
        raise ValueError(f"plot_over_time: stars must be 'auto', 'exact' or 'outer', got {stars!r}")
    n_stars = sum(isinstance(s, Star) for r in results for _, _, s in r.segments())
    mode = "outer" if stars == "outer" or (stars == "auto" and n_stars > STAR_BAND_LIMIT) else "exact"
    reach_label = "reachable, outer" if mode == "outer" and n_stars else "reachable"
    for expr, color, label in zip(expressions, colors, labels):
        for r_index, r in enumerate(results):
            t0, t1, lo, hi = expression_band(r, expr, mode)
            if t0.size == 0:
                continue
            t = np.column_stack([t0, t1]).ravel()
            ax.fill_between(
                t,
                np.repeat(lo, 2),
                np.repeat(hi, 2),
                color=color,
                alpha=0.35,
                linewidth=0,
                label=f"{label} ({reach_label})" if r_index == 0 else None,
            )
        if traces is not None and results:
            times, states = traces
            w, b = _affine(expr, results[0].system.plant.state_names)
            values = states @ w + b
            for i, v in enumerate(values):
                ax.plot(
                    times,
                    v,
                    color=color,
                    linewidth=0.6,
                    alpha=0.8,
                    label=f"{label} (simulated)" if i == 0 else None,
                )
    if results and constraints:
        names = results[0].system.plant.state_names
        drawn = set(expressions)
        for text in constraints:
            for side in _spec_sides(text):
                w, b = _affine(side, names)
                if not np.any(w):
                    ax.axhline(b, color="red", linestyle="--", linewidth=1.2, gid="constraint", label=text)
                elif side not in drawn:
                    drawn.add(side)
                    for r_index, r in enumerate(results):
                        t0, t1, lo, hi = expression_band(r, side, mode)
                        t = np.column_stack([t0, t1]).ravel()
                        ax.fill_between(
                            t,
                            np.repeat(lo, 2),
                            np.repeat(hi, 2),
                            color="red",
                            alpha=0.3,
                            linewidth=0,
                            gid="constraint",
                            label=f"{side} (bound of {text})" if r_index == 0 else None,
                        )
    if counterexample is not None and results:
        names = results[0].system.plant.state_names
        states = _counterexample_states(counterexample)
        times = (
            np.asarray(counterexample["trajectory"]["t"])
            if isinstance(counterexample, dict)
            else np.asarray(counterexample.times)
        )
        for k, expr in enumerate(expressions):
            w, b = _affine(expr, names)
            ax.plot(
                times,
                states @ w + b,
                color="red",
                linewidth=2.0,
                gid="counterexample",
                label="counterexample" if k == 0 else None,
            )
    if window is not None:
        ax.axvspan(*window, color="grey", alpha=0.1, label="spec window")
    ax.set_xlabel("time (s)")
    ax.legend(loc="best", fontsize="small")
    return ax


def _spec_sides(text: str) -> list[str]:
    """The two sides of a relation (`_split_relation`), or the text itself when it has none."""
    if _RELATION.search(text) is None:
        return [text]
    lhs, _, rhs = _split_relation(text)
    return [lhs, rhs]


# ---------------------------------------------------------------------------------------------------------
# the specs over time: one panel per constrained quantity, every condition where it applies


_RELATION = re.compile(r"<=|>=|<|>")


@dataclass(frozen=True)
class SpecCondition:
    """One condition of a spec as a plot draws it: `quantity <= bound` ("upper") or `>=` ("lower").

    Attributes:
        spec_index: which spec of the problem it belongs to.
        spec: the spec (an `Always`, `Goal` or `Avoid`).
        text: the condition as written, e.g. "theta <= 1".
        side: "upper" (the quantity must stay below the bound; for avoid: the region lies below it) or "lower".
        bound: the constant bound in the panel's units (None when the bound involves states).
        bound_expression: the other side when it involves states (e.g. "10 + 1.4*v_ego"), else None.
        offset: what to add to `bound_expression`'s value to get the bound in the panel's units.
    """

    spec_index: int
    spec: Any
    text: str
    side: str
    bound: float | None
    bound_expression: str | None = None
    offset: float = 0.0


@dataclass
class SpecPanel:
    """One constrained quantity (a function of the states, affine `w . x` or nonlinear) and the conditions on
    it.

    Attributes:
        expression: the quantity as written in the specs (or rebuilt from `w`), the panel's y label.
        w: its coefficients over the states (n,) when it is affine; None for a nonlinear quantity.
        conditions: the SpecConditions on it, in spec order.
        quantity: the nonlinear quantity (a StateExpression); None when affine (then `w`).
    """

    expression: str
    w: np.ndarray | None
    conditions: list = field(default_factory=list)
    quantity: StateExpression | None = None

    def quantity_over(self, names) -> StateExpression:
        """The quantity as a StateExpression over the state `names` (an affine panel's `w . x` exactly)."""
        return self.quantity if self.quantity is not None else _affine_expression(self.w, names)

    def values(self, states: np.ndarray) -> np.ndarray:
        """The quantity at each state (last axis)."""
        return states @ self.w if self.w is not None else self.quantity.values(states)


def _split_relation(text: str) -> tuple[str, str, str]:
    m = _RELATION.search(text)
    if m is None:  # pragma: no cover - specs are parsed before they are drawn
        raise ValueError(f"plot: {text!r} is not a relation")
    return text[: m.start()].strip(), m.group(), text[m.end() :].strip()


def _format_affine(w: np.ndarray, names) -> str:
    terms = []
    for c, name in zip(w, names):
        if c == 0:
            continue
        mag = "" if abs(c) == 1 else f"{abs(c):g}*"
        terms.append(("-" if c < 0 else "+", f"{mag}{name}"))
    text = " ".join(f"{s} {t}" for s, t in terms).lstrip("+ ")
    return text if not text.startswith("- ") else "-" + text[2:]


def spec_panels(specs, names) -> list[SpecPanel]:
    """Group every condition of every spec by the quantity it constrains (one plot panel each).

    A condition `lhs REL rhs` constrains the side that involves states (the left one when both do, with the
    other side as a state-dependent bound); conditions on the same expression up to a constant (e.g.
    "theta >= 0", "theta + 1 <= 2") share a panel, their constants moved into the bound.

    Args:
        specs: the problem's specs (`Always`, `Goal`, `Avoid`).
        names: the state names.
    Returns:
        The panels, in the order their quantities first appear in the specs.
    """
    panels: dict[tuple, SpecPanel] = {}
    names = list(names)
    for index, spec in enumerate(specs):
        for text, resolved in zip(spec.text, spec.resolved_text()):  # parameters replaced by their values
            lhs, rel, rhs = _split_relation(resolved)
            left, right = _expression(lhs, names), _expression(rhs, names)
            if left.used.size == 0:  # "0 <= theta": the quantity is on the right
                lhs, rhs, left, right = rhs, lhs, right, left
                rel = {"<=": ">=", ">=": "<=", "<": ">", ">": "<"}[rel]
            side = "upper" if rel.startswith("<") else "lower"
            if left.affine is None:  # a nonlinear quantity: its own panel, the other side as it is
                key = ("nonlinear", left.expr)
                if key not in panels:
                    panels[key] = SpecPanel(lhs, None, quantity=left)
                if right.used.size:
                    cond = SpecCondition(index, spec, text, side, None, rhs, 0.0)
                else:
                    cond = SpecCondition(index, spec, text, side, float(right.expr))
                panels[key].conditions.append(cond)
                continue
            (wl, bl) = left.affine
            key = tuple(np.round(wl, 12))
            if key not in panels:
                panels[key] = SpecPanel(lhs if bl == 0 else _format_affine(wl, names), np.asarray(wl, float))
            if right.used.size:
                cond = SpecCondition(index, spec, text, side, None, rhs, -bl)
            else:
                cond = SpecCondition(index, spec, text, side, float(right.expr) - bl)
            panels[key].conditions.append(cond)
    return list(panels.values())


def _wrap_conditions(text: str, width: int = 80) -> list[str]:
    """Wrap a line at " and " (a condition is never split across lines)."""
    parts = text.split(" and ")
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 5 + len(part) <= width:
            lines[-1] += " and " + part
        else:
            lines[-1] += " and"
            lines.append("    " + part)
    return lines


def spec_title(name: str, status: str, specs, detail: str = "") -> str:
    """The title of a verdict plot: the problem, the verdict (with `detail`, e.g. the violated condition), and
    every spec's full description (`spec.describe()`), wrapped at " and " so that no condition is cut.

    Args:
        name: the problem's name.
        status: the verdict ("safe", "unsafe", "unknown").
        specs: the specs.
        detail: appended to the verdict in parentheses when not empty.
    Returns:
        The title, one or more lines.
    """
    import textwrap

    lines = [f"{name}: {status}" + (f" ({detail})" if detail else "")]
    if len(lines[0]) > 80:  # the detail on lines of its own (a message, not conditions: wrapped at spaces)
        lines = [f"{name}: {status}", *textwrap.wrap(detail, 90, break_long_words=False)]
    for i, spec in enumerate(specs):
        prefix = f"spec {i}: " if len(specs) > 1 else ""
        lines += _wrap_conditions(prefix + spec.describe())
    return "\n".join(lines)


@dataclass(frozen=True)
class _CexView:
    times: np.ndarray
    states: np.ndarray
    spec_index: int | None
    condition: str
    time: float


def _cex_view(cex) -> _CexView | None:
    if cex is None:
        return None
    if isinstance(cex, dict):
        time = cex.get("time")
        return _CexView(
            np.asarray(cex["trajectory"]["t"], dtype=float),
            np.asarray(cex["trajectory"]["x"], dtype=float),
            cex.get("spec"),
            cex.get("condition") or "",
            float("nan") if time is None else float(time),
        )
    return _CexView(
        np.asarray(cex.times, dtype=float),
        np.asarray(cex.states, dtype=float),
        cex.spec_index,
        cex.condition or "",
        float(cex.time),
    )


def _is_violated(cond: SpecCondition, cex: _CexView | None) -> bool:
    if cex is None or (cex.spec_index is not None and cex.spec_index != cond.spec_index):
        return False
    if cond.spec.kind == "avoid":  # the region entered: every condition of it
        return cex.spec_index == cond.spec_index or cex.condition == " and ".join(cond.spec.text)
    return cex.condition == cond.text


_VIOLATED = {"color": "red", "linestyle": "-", "linewidth": 3.0, "alpha": 0.85, "zorder": 4}
_BOUND = {"always": {"color": "black", "linestyle": "--", "linewidth": 1.3, "zorder": 3}}


def _window_span(spec, horizon: float) -> tuple[float, float]:
    if spec.window is None:
        return 0.0, horizon
    return float(spec.window[0]), float(min(spec.window[1], horizon))


def _constant_interval(conds: list[SpecCondition]) -> tuple[float, float]:
    """The interval the conditions' constant bounds cut out (-inf / inf on a side without one)."""
    lo = max([c.bound for c in conds if c.side == "lower" and c.bound is not None], default=-np.inf)
    hi = min([c.bound for c in conds if c.side == "upper" and c.bound is not None], default=np.inf)
    return lo, hi


def _draw_conditions(ax, panel: SpecPanel, horizon: float, cex: _CexView | None, bound_band) -> None:
    """Draw the panel's conditions: always bounds over their windows, goal targets at the final time, avoid
    regions shaded over their windows; the violated one highlighted."""
    from matplotlib.patches import Rectangle

    dt = 0.015 * horizon
    goals: dict[int, list[SpecCondition]] = {}
    avoids: dict[int, list[SpecCondition]] = {}
    windows = {_window_span(c.spec, horizon) for c in panel.conditions if c.spec.window is not None}
    for t0, t1 in sorted(windows):
        ax.axvspan(t0, t1, color="0.5", alpha=0.08, linewidth=0, gid="window", label="spec window")
    for cond in panel.conditions:
        kind = cond.spec.kind
        violated = _is_violated(cond, cex)
        if kind == "goal":
            goals.setdefault(cond.spec_index, []).append(cond)
            continue
        if kind == "avoid":
            avoids.setdefault(cond.spec_index, []).append(cond)
            continue
        t0, t1 = _window_span(cond.spec, horizon)
        when = "" if cond.spec.window is None else f" (t in [{t0:g}, {t1:g}] s)"
        label = f"violated: {cond.text}" if violated else f"{kind} {cond.text}{when}"
        if cond.bound is not None:
            style = _VIOLATED if violated else _BOUND["always"]
            ax.plot(
                [t0, t1],
                [cond.bound, cond.bound],
                gid="violated" if violated else "constraint",
                label=label,
                **style,
            )
        else:
            bound_band(ax, cond, t0, t1, violated)
    for conds in goals.values():
        lo, hi = _constant_interval(conds)
        text = " and ".join(c.text for c in conds)
        if np.isfinite(lo) and np.isfinite(hi):
            ax.add_patch(
                Rectangle(
                    (horizon - dt, lo),
                    2 * dt,
                    hi - lo,
                    facecolor="tab:green",
                    edgecolor="darkgreen",
                    alpha=0.45,
                    linewidth=1.0,
                    gid="goal",
                    label=f"goal at t = {horizon:g} s: {text}",
                    zorder=3.5,
                )
            )
            ax.update_datalim([(horizon - dt, lo), (horizon + dt, hi)])
        for c in conds:
            violated = _is_violated(c, cex)
            if c.bound is None:
                bound_band(ax, c, horizon - dt, horizon + dt, violated)
                continue
            style = (
                _VIOLATED
                if violated
                else {"color": "darkgreen", "linestyle": "-", "linewidth": 2.0, "zorder": 4}
            )
            ax.plot(
                [horizon - dt, horizon + dt],
                [c.bound, c.bound],
                gid="violated" if violated else "goal-bound",
                label=f"violated: {c.text}" if violated else None,
                **style,
            )
    ax.autoscale_view()
    for conds in avoids.values():
        spec = conds[0].spec
        t0, t1 = _window_span(spec, horizon)
        lo, hi = _constant_interval(conds)
        violated = _is_violated(conds[0], cex)
        # the view: the data and the region's finite bounds, with some of the region showing beyond them
        y0, y1 = ax.get_ylim()
        finite = [v for v in (lo, hi) if np.isfinite(v)]
        y0, y1 = min([y0, *finite]), max([y1, *finite])
        pad = 0.1 * max(y1 - y0, 1e-9)
        if not np.isfinite(hi):
            y1 = max(y1, lo + pad)
        if not np.isfinite(lo):
            y0 = min(y0, hi - pad)
        span = y1 - y0
        lo_d = lo if np.isfinite(lo) else y0 - span
        hi_d = hi if np.isfinite(hi) else y1 + span
        text = " and ".join(spec.text)
        ax.add_patch(
            Rectangle(
                (t0, lo_d),
                t1 - t0,
                hi_d - lo_d,
                facecolor="red",
                edgecolor="red",
                alpha=0.25 if violated else 0.15,
                hatch="//",
                linewidth=2.5 if violated else 0.8,
                gid="avoid",
                label=f"violated: avoid {text}" if violated else f"avoid {text}",
                zorder=0.5,
            )
        )
        ax.set_ylim(y0, y1)
        for c in conds:
            if c.bound is None:
                bound_band(ax, c, t0, t1, violated)


def _draw_counterexample(ax, panel: SpecPanel, cex: _CexView, names) -> None:
    values = panel.values(cex.states)
    ax.plot(
        cex.times, values, color="red", linewidth=1.8, gid="counterexample", label="counterexample", zorder=5
    )
    for cond in panel.conditions:
        if cond.bound_expression is not None and _is_violated(cond, cex):
            bound = _expression(cond.bound_expression, names)
            ax.plot(
                cex.times,
                bound.values(cex.states) + cond.offset,
                color="red",
                linestyle=":",
                linewidth=2.2,
                gid="counterexample-bound",
                label=f"violated: {cond.text}\n(dotted: {cond.bound_expression} along the counterexample)",
                zorder=5,
            )
    if np.isfinite(cex.time):
        ax.axvline(
            cex.time,
            color="red",
            linestyle=":",
            linewidth=1.2,
            gid="counterexample-time",
            label=f"counterexample time (t = {cex.time:.3g} s)",
        )
        ax.plot(
            [cex.time],
            [np.interp(cex.time, cex.times, values)],
            marker="o",
            markersize=6,
            markerfacecolor="white",
            markeredgecolor="red",
            markeredgewidth=2,
            linestyle="none",
            gid="counterexample-point",
            zorder=6,
        )


def _story_figure(n_panels: int):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(11, 1.4 + 2.3 * n_panels), layout="constrained")
    axes = fig.subplots(n_panels, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _wrap_label(label: str, width: int = 40) -> str:
    """A legend label wrapped at " and " and before " (" (never inside a condition)."""
    lines = []
    for line in label.split("\n"):
        for part in _wrap_conditions(line, width):
            if len(part) > width and " (" in part:
                head, tail = part.split(" (", 1)
                lines += [head, "    (" + tail]
            else:
                lines.append(part)
    return "\n".join(lines)


def _finish_story(fig, axes, title: str, horizon: float) -> None:
    """Title, shared time axis (the whole horizon, with room for goal targets), and one legend for the whole
    figure outside the axes, on the right."""
    for ax in axes:
        ax.set_xlim(-0.01 * horizon, 1.04 * horizon)
        ax.grid(True, alpha=0.25)
    axes[-1].set_xlabel("time (s)")
    axes[0].set_title(title, fontsize="medium")
    handles, labels = [], []
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label and not label.startswith("_") and label not in labels:
                handles.append(h)
                labels.append(label)
    if handles:
        wrapped = [_wrap_label(label) for label in labels]
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):  # the layout makes room on the right
            fig.legend(handles, wrapped, loc="outside right upper", fontsize="small")
        else:  # axes the caller laid out: anchored just right of the top one, still outside every axes
            fig.legend(
                handles,
                wrapped,
                loc="upper left",
                bbox_to_anchor=(1.02, 1.0),
                bbox_transform=axes[0].transAxes,
                fontsize="small",
            )


def plot_verdict(problem, verdict, traces: int = 12) -> list:
    """Draw a problem's specs over time with its verdict: one panel per constrained quantity (`spec_panels`).

    Each panel shows the quantity's reachable band (every proven or computed part), `traces` simulations from
    the initial set, every condition on it where it applies (always: a dashed line at its bound over the
    spec's window, or the band of a bound that involves states; goal: the target interval at the final time;
    avoid: the shaded region over its window), and when the verdict is unsafe the counterexample, its time
    and the violated condition (thick red, labelled "violated: ..."). The title carries the verdict and every
    spec's full description; one legend, outside the axes, lists everything.

    Args:
        problem: the Problem.
        verdict: its Verdict (from `nncs.verify`).
        traces: how many simulations to draw.
    Returns:
        The list of Axes (one per panel; their figure is `axes[0].figure`).
    """
    from nncs.loop.simulate import simulate_closed_loop

    names = list(problem.system.plant.state_names)
    specs = list(problem.specs)
    panels = spec_panels(specs, names) or [SpecPanel(n, np.eye(len(names))[k]) for k, n in enumerate(names)]
    horizon = float(problem.horizon)
    results = verdict.results
    n_stars = sum(isinstance(s, Star) for r in results for _, _, s in r.segments())
    mode = "outer" if n_stars > STAR_BAND_LIMIT else "exact"
    reach_label = "reachable set (outer bound)" if mode == "outer" and n_stars else "reachable set"
    times, states = None, None
    if traces:
        x0 = problem.initial.sample(int(traces), np.random.default_rng(0))
        times, states = simulate_closed_loop(
            problem.system, x0, problem.steps, w=problem.system.plant.nominal_disturbance
        )
    cex = _cex_view(verdict.counterexample)

    n_segments = sum(1 for r in results for _ in r.segments())
    budget = max(1, min(BOUND_BUDGET, PLOT_BOUND_BOXES // max(n_segments, 1)))

    def band(ax, expr, offset, t_from, t_to, **style):
        for r in results:
            t0, t1, lo, hi = _reach_band(r, expr, offset, mode, budget)
            keep = (t1 >= t_from - 1e-12) & (t0 <= t_to + 1e-12)
            if not keep.any():
                continue
            t = np.column_stack([np.maximum(t0[keep], t_from), np.minimum(t1[keep], t_to)]).ravel()
            ax.fill_between(t, np.repeat(lo[keep], 2), np.repeat(hi[keep], 2), linewidth=0, **style)
            style["label"] = None

    def bound_band(ax, cond, t0, t1, violated):
        bound = _expression(cond.bound_expression, names)
        style = {
            "color": "red" if violated else "0.3",
            "alpha": 0.4 if violated else 0.45,
            "gid": "violated" if violated else "constraint",
        }
        head = f"violated: {cond.text}" if violated else f"{cond.spec.kind} {cond.text}"
        if results:
            band(
                ax,
                bound,
                cond.offset,
                t0,
                t1,
                **style,
                label=f"{head}\n(band: reachable values of {cond.bound_expression})",
            )
        elif states is not None:  # nothing was reached: the bound's range over the simulations
            keep = (times >= t0 - 1e-12) & (times <= t1 + 1e-12)
            values = bound.values(states[:, keep]) + cond.offset
            ax.fill_between(
                times[keep],
                values.min(axis=0),
                values.max(axis=0),
                linewidth=0,
                **style,
                label=f"{head}\n(band: {cond.bound_expression} over the simulations)",
            )

    fig, axes = _story_figure(len(panels))
    for ax, panel in zip(axes, panels):
        band(
            ax,
            panel.quantity_over(names),
            0.0,
            0.0,
            horizon,
            color="tab:blue",
            alpha=0.35,
            gid="reach",
            label=reach_label,
        )
        if states is not None:
            values = panel.values(states)
            for k, v in enumerate(values):
                ax.plot(
                    times,
                    v,
                    color="0.35",
                    linewidth=0.6,
                    alpha=0.7,
                    gid="simulation",
                    label=f"simulations ({len(values)})" if k == 0 else None,
                )
        if cex is not None:
            _draw_counterexample(ax, panel, cex, names)
        _draw_conditions(ax, panel, horizon, cex, bound_band)
        ax.set_ylabel(panel.expression)
    detail = verdict.counterexample.describe() if verdict.counterexample is not None else ""
    if verdict.status == "unknown" and verdict.message:
        detail = verdict.message
    _finish_story(fig, axes, spec_title(problem.name, verdict.status, specs, detail), horizon)
    return axes


def save_verdict_plot(problem, verdict, path, traces: int = 12) -> None:
    """Write `plot_verdict(problem, verdict, traces)` (every condition of every spec over time, the
    counterexample when there is one) to `path` (PNG unless its suffix names another format; headless).

    Args:
        problem: the Problem.
        verdict: its Verdict.
        path: the file to write.
        traces: how many simulations to draw.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    axes = plot_verdict(problem, verdict, traces)
    fig = axes[0].figure
    save_figure(fig, path)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------------------
# phase-plane pictures of closed-loop reach results


def _state_index(dim, names) -> int:
    if isinstance(dim, str):
        if dim not in names:
            raise ValueError(f"plot: unknown state {dim!r}; states are {list(names)}")
        return list(names).index(dim)
    return int(dim)


def _results_list(results) -> list:
    return list(results) if isinstance(results, (list, tuple)) else [results]


def _clip_halfplane(poly: np.ndarray, h: np.ndarray, g: float) -> np.ndarray:
    """Sutherland-Hodgman: the part of the convex polygon `poly` (k, 2) with h . x <= g (exact)."""
    out = []
    k = len(poly)
    for i in range(k):
        p, q = poly[i], poly[(i + 1) % k]
        fp, fq = h @ p - g, h @ q - g
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            out.append(p + (q - p) * (fp / (fp - fq)))
    return np.array(out).reshape(-1, 2)


def _view_box(ax) -> np.ndarray:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def _region_polygons(region, i: int, j: int, ax, names) -> list[tuple[np.ndarray, str]]:
    """2-D polygons (clipped to the view) of a region for shading, with a label.

    `region` is a set (projected), an HPolytope whose constraints involve only the two plotted states
    (clipped to the view: it may be unbounded), or a spec (`Always`: its violating half-planes; `Avoid`:
    its region; `Goal`: its region). Constraints that involve other states cannot be drawn in this
    projection and are skipped.
    """
    from nncs.spec import SpecBase

    if isinstance(region, SpecBase):
        text = " and ".join(region.text)
        if region.shades_complement:
            polys = []
            for h_row, g_val in zip(region.region.H, region.region.g):
                if np.any(np.delete(h_row, [i, j]) != 0):
                    continue
                # the violating side h x > g, i.e. -h x <= -g, clipped to the view
                p = _clip_halfplane(_view_box(ax), -h_row[[i, j]], -g_val)
                if len(p) >= 3:
                    polys.append((p, f"violates {text}"))
            return polys
        region = region.region
    if isinstance(region, HPolytope):
        H, g = region.H, region.g
        if np.all(np.delete(H, [i, j], axis=1) == 0):
            p = _view_box(ax)
            for h_row, g_val in zip(H[:, [i, j]], g):
                p = _clip_halfplane(p, h_row, g_val)
                if len(p) == 0:
                    return []
            return [(p, "")] if len(p) >= 3 else []
    if isinstance(region, Set):
        return [(projection_polygon(region, (i, j)), "")]
    raise ValueError(f"plot: cannot draw region of type {type(region).__name__}; expected a set or a spec")


def _trace_states(traces) -> np.ndarray:
    """States (N, K, n) of traces given as (times, states) or as the states array."""
    if isinstance(traces, tuple) and len(traces) == 2:
        traces = traces[1]
    states = np.asarray(traces, dtype=float)
    if states.ndim == 2:
        states = states[None]
    if states.ndim != 3:
        raise ValueError(
            f"plot: traces must have shape (N, K, n) (or be (times, states)), got {states.shape}"
        )
    return states


def _counterexample_states(cex) -> np.ndarray:
    """The states (K, n) of a Counterexample or of a report's counterexample dict."""
    if isinstance(cex, dict):
        return np.asarray(cex["trajectory"]["x"], dtype=float)
    return np.asarray(cex.states, dtype=float)


def _reach_polygon(s: Set, dims, outer_stars: bool) -> np.ndarray:
    """The exact (inner-to-1e-3) projection polygon, or, when `outer_stars`, the exact projection of the set's
    outer zonotope (for a Star, `Star.to_zonotope()`: the predicate constraints dropped, so it contains the star;
    a zonotope is its own)."""
    if outer_stars:
        return s.to_zonotope().polygon_2d(dims)
    return projection_polygon(s, dims)


STAR_POLYGON_LIMIT = 100
"""plot_reach(stars="auto") draws exact star projections (a few LPs each) up to this many stars, outer ones above."""


def plot_reach(
    results,
    dims=(0, 1),
    ax=None,
    *,
    cmap: str = "viridis",
    segments: bool = True,
    sampled: bool = True,
    initial: bool = True,
    unsafe=None,
    goal=None,
    traces=None,
    counterexample=None,
    colorbar: bool = True,
    alpha: float = 0.6,
    stars: str = "auto",
):
    """Draw a phase-plane projection of closed-loop reachable sets and return the Axes.

    Layers, bottom to top: the flowpipe segments (one PolyCollection, gid "flowpipe", each polygon filled
    with the colour of its mid-time on `cmap`), the sets at the sampling instants (outlined, gid "sampled"),
    the initial set (a Polygon labelled "initial set"), shaded unsafe (red) and goal (green) regions,
    simulated traces (thin grey lines, gid "trace"), and a counterexample (thick red line, gid
    "counterexample"). Projections of boxes and zonotopes are exact; star projections are inner polygons
    within 1e-3 of the diameter (see `projection_polygon`).

    Args:
        results: a ReachResult or a list of them (e.g. the parts of a split initial set).
        dims: two state indices or names, e.g. ("x_ego", "v_ego").
        ax: the Axes (default: a new figure's).
        cmap: colour map for time.
        segments, sampled, initial: which reach layers to draw.
        unsafe, goal: a region or list of regions: sets (projected), HPolytopes in the plotted states
            (clipped to the view), or specs (nncs.spec Always: its violating half-planes; Avoid; Goal).
        traces: simulated trajectories, (times, states (N, K, n)) as `nncs.loop.simulate.simulate_closed_loop`
            returns, or the states array.
        counterexample: a nncs Counterexample or the report's counterexample dict.
        colorbar: add a time colour bar.
        alpha: opacity of the flowpipe polygons.
        stars: how Star sets are projected: "exact" (support points by LP, an inner polygon within 1e-3 of
            the diameter; a few LPs per set, slow for hundreds of large stars), "outer" (the exact projection
            of each star's outer zonotope: fast, contains the star, looser) or "auto" (exact up to
            STAR_POLYGON_LIMIT stars, outer above; the legend then says "outer").
    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize
    from matplotlib.patches import Polygon

    results = _results_list(results)
    if not results:
        raise ValueError("plot_reach: no results to draw")
    names = list(results[0].system.plant.state_names)
    i, j = (_state_index(d, names) for d in dims)
    i, j = projection_dims((i, j), len(names))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    horizon = max((p.t1 for r in results for p in r.periods), default=1.0) or 1.0
    norm = Normalize(0.0, horizon)
    colormap = plt.get_cmap(cmap)
    if stars not in ("auto", "exact", "outer"):
        raise ValueError(f"plot_reach: stars must be 'auto', 'exact' or 'outer', got {stars!r}")
    n_stars = sum(isinstance(s, Star) for r in results for _, _, s in r.segments())
    outer = stars == "outer" or (stars == "auto" and n_stars > STAR_POLYGON_LIMIT)
    suffix = " (outer zonotopes of the stars)" if outer and n_stars else ""
    all_points = []
    if segments:
        polys, times = [], []
        for r in results:
            for t0, t1, s in r.segments():
                polys.append(_reach_polygon(s, (i, j), outer))
                times.append((t0 + t1) / 2)
        if polys:
            coll = PolyCollection(
                polys,
                facecolors=colormap(norm(np.array(times))),
                edgecolors="none",
                alpha=alpha,
                gid="flowpipe",
                label="flowpipe" + suffix,
            )
            ax.add_collection(coll)
            all_points.extend(polys)
    if sampled:
        polys = [
            _reach_polygon(s, (i, j), outer)
            for r in results
            for p in r.periods
            for s in p.states[1 if p.index == 0 else 0 :]
        ]
        polys += [_reach_polygon(s, (i, j), outer) for r in results for s in r.final]
        polys = [p for p in polys if len(p) >= 2]
        if polys:
            ax.add_collection(
                PolyCollection(
                    polys,
                    facecolors="none",
                    edgecolors="black",
                    linewidths=0.35,
                    gid="sampled",
                    label="sets at sampling instants",
                )
            )
            all_points.extend(polys)
    if initial:
        for k, r in enumerate(results):
            v = projection_polygon(r.initial_set, (i, j))
            ax.add_patch(
                Polygon(
                    v,
                    closed=True,
                    facecolor="none",
                    edgecolor="tab:blue",
                    linewidth=1.8,
                    label="initial set" if k == 0 else None,
                    gid="initial",
                )
            )
            all_points.append(v)
    if traces is not None:
        states = _trace_states(traces)
        for k, s in enumerate(states):
            ax.plot(
                s[:, i],
                s[:, j],
                color="0.3",
                linewidth=0.6,
                alpha=0.8,
                gid="trace",
                label="simulations" if k == 0 else None,
            )
            all_points.append(s[:, [i, j]])
    if counterexample is not None:
        s = _counterexample_states(counterexample)
        ax.plot(s[:, i], s[:, j], color="red", linewidth=2.2, gid="counterexample", label="counterexample")
        ax.plot(s[:1, i], s[:1, j], color="red", marker="o", linestyle="none", gid="counterexample-start")
        all_points.append(s[:, [i, j]])
    if all_points:
        ax.update_datalim(np.vstack(all_points))
    ax.autoscale_view()
    ax.margins(0.05)
    ax.autoscale_view()
    for regions, color, label in ((unsafe, "red", "unsafe"), (goal, "green", "goal")):
        if regions is None:
            continue
        regions = regions if isinstance(regions, (list, tuple)) else [regions]
        xlim, ylim = ax.get_xlim(), ax.get_ylim()
        first = True
        for region in regions:
            for poly, _ in _region_polygons(region, i, j, ax, names):
                ax.add_patch(
                    Polygon(
                        poly,
                        closed=True,
                        facecolor=color,
                        edgecolor=color,
                        alpha=0.18,
                        hatch="//" if label == "unsafe" else None,
                        linewidth=0.8,
                        gid=label,
                        label=label if first else None,
                        zorder=0.5,
                    )
                )
                first = False
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)
    ax.set_xlabel(names[i])
    ax.set_ylabel(names[j])
    if colorbar and segments:
        sm = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
        ax.figure.colorbar(sm, ax=ax, label="time (s)")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_nn_output(
    sets,
    dims=(0, 1),
    ax=None,
    *,
    network=None,
    input_set=None,
    samples: int = 500,
    rng=0,
    color: str = "tab:orange",
    label: str | None = None,
    points=None,
):
    """Draw the 2-D projection of a union of network output sets, with sampled outputs on top; return the Axes.

    Args:
        sets: the list that `nncs.nn.reach` returns (stars, zonotopes or boxes), or one set.
        dims: the two output dimensions.
        ax: the Axes (default: a new figure's).
        network, input_set: when both are given, `samples` points of `input_set` are pushed through
            `network` and scattered (black dots, gid "samples"); they must lie in the union.
        samples: how many inputs to sample.
        rng: seed or Generator for the samples.
        color: face colour of the sets (every set of the union gets it; one Polygon patch per set).
        label: legend label of the union (on the first patch).
        points: already computed outputs (n, outputs) to scatter instead of sampling.
    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt

    from nncs.sets.base import as_rng

    sets = list(sets) if isinstance(sets, (list, tuple)) else [sets]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    for k, s in enumerate(sets):
        plot_set(
            s, dims, ax=ax, facecolor=color, edgecolor=color, alpha=0.35, label=label if k == 0 else None
        )
    if points is None and network is not None and input_set is not None:
        points = np.asarray(network(input_set.sample(int(samples), as_rng(rng))))
    if points is not None:
        points = np.asarray(points, dtype=float)
        i, j = dims
        ax.scatter(
            points[:, i],
            points[:, j],
            s=4,
            color="black",
            alpha=0.7,
            gid="samples",
            label="sampled outputs",
            zorder=3,
        )
        ax.update_datalim(points[:, [i, j]])
        ax.autoscale_view()
    i, j = dims
    ax.set_xlabel(ax.get_xlabel() if ax.get_xlabel() not in ("", f"x{i}") else f"y{i}")
    ax.set_ylabel(ax.get_ylabel() if ax.get_ylabel() not in ("", f"x{j}") else f"y{j}")
    if label is not None or points is not None:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_report(report, states=None, axes=None, names=None):
    """Draw a JSON verification report against time, with its specs and counterexample; return the Axes.

    One panel per constrained quantity of the report's specs (see `spec_panels`), then one per other
    non-constant state (or, with `states`, one per chosen state, each with the conditions on it). A panel
    shows the quantity's bounds at every sampling instant as vertical bars joined by a light band (the band
    between instants is only a guide: the report holds sampling instants, the flowpipe between them is in
    the ReachResult; an expression's bounds are those of the state box, sound and possibly loose), every
    condition where it applies (as `plot_verdict`), and the counterexample in red when there is one (the
    violated condition highlighted, its time marked). Reports without "specs" (older ones) draw the bounds and
    the counterexample only.

    Args:
        report: the dict of `Verdict.to_dict()` or the path of a report written by `--json`.
        states: indices (or names, with `names` or a report that lists "states") to draw; default: the
            constrained quantities and the other states that are not constant over the report.
        axes: Axes to draw on, one per panel (default: a new figure with a column of them).
        names: state names for labels (default: report["states"] when present, else x0, x1, ...).
    Returns:
        The list of Axes.
    Raises:
        ValueError when the report is malformed (see `load_report`), has no steps and no counterexample, or a
        state is out of range.
    """
    report = load_report(report)
    steps = report["steps"]
    cex = report["counterexample"]
    n = report["n_states"]
    t = np.array([s["t"] for s in steps], dtype=float)
    lo = np.array([s["lower"] for s in steps], dtype=float).reshape(len(steps), n)
    hi = np.array([s["upper"] for s in steps], dtype=float).reshape(len(steps), n)
    names = list(names or report["states"] or [f"x{k}" for k in range(n)])
    if len(names) != n:
        raise ValueError(f"plot_report: {len(names)} names for {n} states")
    specs = report["specs"]
    spec_names = report["states"] or names
    spec_drawn = spec_panels(specs, spec_names)
    by_w = {tuple(np.round(p.w, 12)): p for p in spec_drawn if p.w is not None}
    eye = np.eye(n)
    if states is None:
        panels = list(spec_drawn)
        varying = [k for k in range(n) if not steps or np.ptp(np.r_[lo[:, k], hi[:, k]]) > 0] or list(
            range(n)
        )
        panels += [SpecPanel(names[k], eye[k]) for k in varying if tuple(eye[k]) not in by_w]
    else:
        chosen = [_state_index(s, names) for s in states]
        for k in chosen:
            if not 0 <= k < n:
                raise ValueError(f"plot_report: state {k} out of range (the report has {n} states)")
        panels = [
            SpecPanel(names[k], eye[k], list(by_w[tuple(eye[k])].conditions) if tuple(eye[k]) in by_w else [])
            for k in chosen
        ]
    for p in panels:
        if p.expression in spec_names and names != spec_names:
            p.expression = names[spec_names.index(p.expression)]
    times = [t] if steps else []
    if cex is not None:
        times.append(np.asarray(cex["trajectory"]["t"], dtype=float))
    horizon = float(max(np.max(x) for x in times if len(x))) if any(len(x) for x in times) else 1.0
    horizon = horizon if horizon > 0 else 1.0
    view = _cex_view(cex)

    def bound_band(ax, cond, t0, t1, violated):
        if not steps:
            return
        blo, bhi = _box_band(_expression(cond.bound_expression, spec_names), cond.offset, lo, hi)
        keep = (t >= t0 - 1e-12) & (t <= t1 + 1e-12)
        label = f"violated: {cond.text}" if violated else f"{cond.spec.kind} {cond.text}"
        ax.fill_between(
            t[keep],
            blo[keep],
            bhi[keep],
            color="red" if violated else "0.3",
            alpha=0.4 if violated else 0.45,
            linewidth=0,
            gid="violated" if violated else "constraint",
            label=label + f"\n(band: {cond.bound_expression} over the state bounds)",
        )

    if axes is None:
        fig, axes = _story_figure(len(panels))
    else:
        axes = list(np.atleast_1d(axes))
        if len(axes) != len(panels):
            raise ValueError(f"plot_report: {len(axes)} axes for {len(panels)} panels")
        fig = axes[0].figure
    for ax, panel in zip(axes, panels):
        if steps:
            qlo, qhi = _box_band(panel.quantity_over(spec_names), 0.0, lo, hi)
            ax.fill_between(t, qlo, qhi, color="tab:blue", alpha=0.2, linewidth=0)
            ax.vlines(
                t,
                qlo,
                qhi,
                color="tab:blue",
                linewidth=1.2,
                gid="bounds",
                label="bounds at sampling instants",
            )
        if view is not None:
            _draw_counterexample(ax, panel, view, spec_names)
        _draw_conditions(ax, panel, horizon, view, bound_band)
        ax.set_ylabel(panel.expression)
    detail = ""
    if view is not None and view.condition:
        when = f" at t = {view.time:.4g} s" if np.isfinite(view.time) else ""
        detail = f"`{view.condition}` violated{when}"
    _finish_story(fig, axes, spec_title(report["name"], report["verdict"], specs, detail), horizon)
    return axes


def save_report_plot(report, path, states=None) -> None:
    """Write `plot_report(report, states)` as a PNG to `path` (headless).

    Args:
        report: a report dict or path (see `plot_report`).
        path: the file to write.
        states: the states to draw (default: see `plot_report`).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    axes = plot_report(report, states)
    fig = axes[0].figure
    save_figure(fig, path)
    plt.close(fig)


MAX_REPORT_BYTES = 200 * 2**20
"""Largest JSON report `load_report` reads (bytes)."""


def _finite_list(value, where: str, length: int | None = None) -> list:
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"{where}: expected a list of numbers, got {_cut(value)}")
    if not all(_finite_number(v) for v in value):
        raise ValueError(f"{where}: numbers must be finite, got {_cut(value)}")
    if length is not None and len(value) != length:
        raise ValueError(f"{where}: expected {length} numbers (one per state), got {len(value)}")
    return value


def _finite_number(v) -> bool:
    try:
        return bool(np.isfinite(float(v)))
    except OverflowError:  # an int beyond the double range
        return False


def _cut(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def load_report(report) -> dict:
    """Read and check a JSON verification report (a path or the dict of `Verdict.to_dict()`).

    Args:
        report: a path to a report written by `--json`, or the parsed dict.
    Returns:
        A dict with "name", "verdict", "states" (list of names or None), "steps" (each with finite "t",
        "lower", "upper" of one common length), "counterexample" (None or with "x0" and a "trajectory" of "t"
        and "x" rows of that length; optional "spec", "condition", "time"), "n_states" and "specs" (the
        rebuilt spec objects; [] for older reports without "specs").
    Raises:
        ValueError naming the file and the field for an unreadable file, bad JSON, or a missing, mistyped,
        non-finite or inconsistent field; also when there is nothing to draw.
    """
    from pathlib import Path

    where = "report"
    if isinstance(report, (str, Path)):
        path = Path(report)
        where = str(path)
        if not path.is_file():
            raise ValueError(f"{path}: no such report file")
        from nncs.nn.io import read_json

        report = read_json(path, "JSON report", MAX_REPORT_BYTES)
    if not isinstance(report, dict) or "steps" not in report or "verdict" not in report:
        raise ValueError(f"{where}: not an nncs report (expected an object with keys 'verdict' and 'steps')")
    name = report.get("name", "")
    if not isinstance(name, str) or not isinstance(report["verdict"], str):
        raise ValueError(f"{where}: 'name' and 'verdict' must be strings")
    states = report.get("states")
    if states is not None and (not isinstance(states, list) or not all(isinstance(s, str) for s in states)):
        raise ValueError(f"{where}: 'states' must be a list of names, got {_cut(states)}")
    states = states or None
    steps = report["steps"]
    if not isinstance(steps, list):
        raise ValueError(f"{where}: 'steps' must be a list, got {_cut(steps)}")
    n = len(states) if states else None
    for i, step in enumerate(steps):
        at = f"{where}: steps[{i}]"
        if not isinstance(step, dict) or not all(k in step for k in ("t", "lower", "upper")):
            raise ValueError(f"{at}: expected an object with 't', 'lower' and 'upper', got {_cut(step)}")
        _finite_list([step["t"]], f"{at}.t")
        n = len(_finite_list(step["lower"], f"{at}.lower", n))
        _finite_list(step["upper"], f"{at}.upper", n)
        if any(a > b for a, b in zip(step["lower"], step["upper"])):
            raise ValueError(f"{at}: a lower bound exceeds its upper bound")
    cex = report.get("counterexample")
    if cex is not None:
        at = f"{where}: counterexample"
        if not isinstance(cex, dict) or "x0" not in cex or not isinstance(cex.get("trajectory"), dict):
            raise ValueError(f"{at}: expected an object with 'x0' and 'trajectory', got {_cut(cex)}")
        n = len(_finite_list(cex["x0"], f"{at}.x0", n))
        traj = cex["trajectory"]
        ts = _finite_list(traj.get("t"), f"{at}.trajectory.t")
        xs = traj.get("x")
        if not isinstance(xs, list) or len(xs) != len(ts):
            raise ValueError(f"{at}.trajectory.x: expected {len(ts)} rows (one per time), got {_cut(xs)}")
        for k, row in enumerate(xs):
            _finite_list(row, f"{at}.trajectory.x[{k}]", n)
        _check_counterexample_fields(cex, at)
    if not steps and cex is None:
        raise ValueError(f"{where}: report {name!r} has no per-step bounds and no counterexample to draw")
    if n == 0:
        raise ValueError(f"{where}: the report has no states")
    specs = _load_specs(report.get("specs"), states, where)
    return {
        "name": name,
        "verdict": report["verdict"],
        "states": states,
        "steps": steps,
        "counterexample": cex,
        "n_states": n,
        "specs": specs,
    }


def _check_counterexample_fields(cex: dict, at: str) -> None:
    """Check the optional "spec", "condition" and "time" of a report's counterexample (ValueError naming them)."""
    spec = cex.get("spec")
    if spec is not None and (not isinstance(spec, int) or isinstance(spec, bool) or spec < 0):
        raise ValueError(f"{at}.spec: expected the index of a spec, got {_cut(spec)}")
    if not isinstance(cex.get("condition", ""), (str, type(None))):
        raise ValueError(f"{at}.condition: expected a string, got {_cut(cex['condition'])}")
    time = cex.get("time")
    if time is not None:
        _finite_list([time], f"{at}.time")


def _load_specs(data, states, where: str) -> list:
    """The specs of a report (its "specs": a list of {"kind", "constraints", "window"}), rebuilt by
    `nncs.spec.spec_from_dict` over the report's state names ([] when the report has none: older reports).

    Raises:
        ValueError naming `where` and the key (e.g. "specs[1].constraints[0]") for a malformed entry.
    """
    from nncs.expressions import parse_relation
    from nncs.spec import SpecBase, spec_from_dict

    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError(
            f"{where}: 'specs' must be a list of {{kind, constraints, window}} objects, got {_cut(data)}"
        )
    if data and not states:
        raise ValueError(f"{where}: 'specs' needs 'states' (the names its constraints are written in)")
    specs = []
    for i, entry in enumerate(data):
        at = f"specs[{i}]"
        if isinstance(entry, SpecBase):  # a report that load_report already read
            specs.append(entry)
            continue
        try:
            constraints = entry.get("constraints") if isinstance(entry, dict) else None
            constants = entry.get("constants") if isinstance(entry, dict) else None
            if isinstance(constraints, list):
                for j, text in enumerate(constraints):
                    parse_relation(
                        text,
                        states,
                        f"{at}.constraints[{j}]",
                        constants if isinstance(constants, dict) else None,
                    )
            specs.append(spec_from_dict(entry, states, at))
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
    return specs


def save_figure(fig, path) -> str:
    """Write `fig` to exactly `path` (PNG unless its suffix names another format matplotlib writes); return it."""
    from pathlib import Path

    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = suffix if suffix in fig.canvas.get_supported_filetypes() else "png"
    fig.savefig(path, dpi=120, format=fmt)
    return str(path)
