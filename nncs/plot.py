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
