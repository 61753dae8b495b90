"""Matplotlib pictures of nncs sets (2-D projections), for notebooks, reports and the command line.

Every function draws on an `Axes` (a new one when none is given) and returns it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nncs.sets import Box, HPolytope, Star, Zonotope
from nncs.sets.base import Set, projection_dims


def projection_polygon(s: Set, dims=(0, 1), tol: float = 1e-3) -> np.ndarray:
    """Return the vertices (counter-clockwise) of the projection of `s` onto `dims`, shape (k, 2).

    Exact for boxes and zonotopes; for stars and H-polytopes an inner polygon within `tol * diameter`
    of the projection (`Star.polygon_2d`).
    """
    i, j = projection_dims(dims, s.dim)
    if isinstance(s, Box):
        lo, hi = s.lb[[i, j]], s.ub[[i, j]]
        return np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    if isinstance(s, Zonotope):
        return s.vertices_2d((i, j))
    if isinstance(s, HPolytope):
        s = s.to_star()
    if isinstance(s, Star):
        return s.polygon_2d((i, j), tol=tol)
    raise ValueError(f"plot: cannot project a {type(s).__name__}; expected Box, Zonotope, Star or HPolytope")


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
        ax.plot(vertices[:, 0], vertices[:, 1], color=style.get("edgecolor", "black"), marker="o", label=style.get("label"))
    else:
        ax.add_patch(Polygon(vertices, closed=True, **style))
    ax.update_datalim(vertices)
    ax.autoscale_view()
    i, j = dims
    ax.set_xlabel(ax.get_xlabel() or f"x{i}")
    ax.set_ylabel(ax.get_ylabel() or f"x{j}")
    return ax


def _affine(expression, names):
    from nncs.expressions import affine_map

    W, b = affine_map([expression], list(names), f"expression {expression!r}")
    return W[0], b[0]


def expression_band(result, expression: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (t_lo, t_hi, lower, upper) of an affine state expression over every flowpipe segment (sound)."""
    w, b = _affine(expression, result.system.plant.state_names)
    rows = []
    for t0, t1, s in result.segments():
        hi = s.support_function(w)[0] + b
        lo = -s.support_function(-w)[0] + b
        rows.append((t0, t1, lo, hi))
    return tuple(np.array(col) for col in zip(*rows)) if rows else tuple(np.zeros(0) for _ in range(4))


def plot_over_time(results, expressions, ax=None, traces=None, colors=None, labels=None):
    """Draw affine state expressions (e.g. "x_lead - x_ego") against time as interval bands, return the Axes.

    Args:
        results: a ReachResult or a list of them (e.g. the proven parts of a split initial set).
        expressions: strings over the state names.
        ax: the Axes (default: a new figure's).
        traces: optional (times (K,), states (N, K, n)) of simulated trajectories, drawn as thin lines.
        colors, labels: per expression.
    Returns:
        The Axes; each band is one PolyCollection (fill_between per segment) labelled with its expression.
    """
    import matplotlib.pyplot as plt

    results = results if isinstance(results, (list, tuple)) else [results]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    colors = colors or [f"C{i}" for i in range(len(expressions))]
    labels = labels or list(expressions)
    for expr, color, label in zip(expressions, colors, labels):
        for r_index, r in enumerate(results):
            t0, t1, lo, hi = expression_band(r, expr)
            if t0.size == 0:
                continue
            t = np.column_stack([t0, t1]).ravel()
            ax.fill_between(t, np.repeat(lo, 2), np.repeat(hi, 2), color=color, alpha=0.35, linewidth=0,
                            label=f"{label} (reachable)" if r_index == 0 else None)
        if traces is not None and results:
            times, states = traces
            w, b = _affine(expr, results[0].system.plant.state_names)
            values = states @ w + b
            for i, v in enumerate(values):
                ax.plot(times, v, color=color, linewidth=0.6, alpha=0.8, label=f"{label} (simulated)" if i == 0 else None)
    ax.set_xlabel("time (s)")
    ax.legend(loc="best", fontsize="small")
    return ax


def _spec_sides(text: str) -> list[str]:
    for rel in ("<=", ">=", "<", ">"):
        if rel in text:
            return [side.strip() for side in text.split(rel, 1)]
    return [text]


def save_verdict_plot(problem, verdict, path, traces: int = 12) -> None:
    """Write a PNG of the problem's first spec over time: both sides of its first constraint as reachable
    bands (every proven or computed part), simulated traces, and the counterexample when there is one."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from nncs.dynamics.simulate import simulate

    results = [verdict.result] if verdict.result is not None else [r for _, _, r in verdict.parts if r is not None]
    spec = problem.specs[0]
    sides = [s for s in _spec_sides(spec.text[0]) if any(n in s for n in problem.system.plant.state_names)]
    sides = sides or [spec.text[0]]
    fig, ax = plt.subplots(figsize=(7, 4))
    rng = np.random.default_rng(0)
    x0 = problem.initial.sample(traces, rng)
    times, states = simulate(problem.system.plant, x0, problem.system.period, problem.steps,
                             controller=problem.system.control, w=_nominal_w(problem.system.plant))
    plot_over_time(results, sides, ax=ax, traces=(times, states)) if results else None
    if not results:
        for k, side in enumerate(sides):
            w, b = _affine(side, problem.system.plant.state_names)
            ax.plot(times, (states @ w + b).T, color=f"C{k}", linewidth=0.6)
    cex = verdict.counterexample
    if cex is not None:
        for k, side in enumerate(sides):
            w, b = _affine(side, problem.system.plant.state_names)
            ax.plot(cex.times, cex.states @ w + b, color="red", linewidth=2.0,
                    label="counterexample" if k == 0 else None)
    if spec.window is not None:
        ax.axvspan(*spec.window, color="grey", alpha=0.1, label="spec window")
    ax.set_title(f"{problem.name}: {verdict.status}  ({spec.kind}: {spec.text[0]})", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _nominal_w(plant):
    if not plant.n_disturbances:
        return None
    lo, hi = plant.disturbance_bounds
    return (lo + hi) / 2
