"""Tests of nncs/plot.py: plot_set draws the right polygon for each set type and rejects bad projections."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Polygon

import nncs
from nncs.plot import plot_set, projection_polygon


def polygon_area(v):
    return 0.5 * abs(np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1]))


@pytest.mark.parametrize(
    "s, area",
    [
        (nncs.Box([0, 0, 5], [2, 1, 6]), 2.0),
        (nncs.Zonotope([0, 0], [[1, 0, 1], [0, 1, 1]]), 12.0),
        (nncs.Box([0, 0], [1, 1]).to_star().intersect_halfspace([1.0, 1.0], 1.0), 0.5),
        (nncs.HPolytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 2]), 2.0),
    ],
)
def test_plot_set_draws_projection(s, area):
    fig, ax = plt.subplots()
    out = plot_set(s, dims=(0, 1), ax=ax, facecolor="red", label="S")
    assert out is ax
    patches = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(patches) == 1
    assert patches[0].get_label() == "S"
    verts = patches[0].get_xy()[:-1] if np.allclose(patches[0].get_xy()[0], patches[0].get_xy()[-1]) else patches[0].get_xy()
    assert polygon_area(verts) == pytest.approx(area, rel=1e-3)
    x0, x1 = ax.get_xlim()
    lo, hi = s.bounds()
    assert x0 <= lo[0] + 1e-9 and x1 >= hi[0] - 1e-9
    plt.close(fig)


def test_plot_point_and_new_axes():
    ax = plot_set(nncs.Zonotope([1, 2], np.zeros((2, 0))))
    assert len(ax.lines) == 1 and not ax.patches
    plt.close(ax.figure)


def test_bad_projection():
    with pytest.raises(ValueError, match="dims"):
        projection_polygon(nncs.Box([0, 0], [1, 1]), dims=(0, 2))
    with pytest.raises(ValueError, match="dims"):
        plot_set(nncs.Box([0, 0, 0], [1, 1, 1]), dims=(0,))
