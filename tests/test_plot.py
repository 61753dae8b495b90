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
    verts = (
        patches[0].get_xy()[:-1]
        if np.allclose(patches[0].get_xy()[0], patches[0].get_xy()[-1])
        else patches[0].get_xy()
    )
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


# ---------------------------------------------------------------------------------------------------------
# closed-loop pictures: a double integrator under a small fixed ReLU controller (fast, star path)


from nncs.nn.network import network_from_pairs  # noqa: E402
from nncs.plot import plot_nn_output, plot_over_time, plot_reach, plot_report, save_report_plot  # noqa: E402
from nncs.spec import make_spec  # noqa: E402


@pytest.fixture(scope="module")
def small_loop():
    plant = nncs.SymbolicPlant(["x", "v"], ["u"], ["v", "u"])
    net = network_from_pairs(
        [
            (np.array([[1.0, 0.5], [-1.0, -0.5]]), np.zeros(2), "relu"),
            (np.array([[-1.0, 1.0]]), np.zeros(1), "identity"),
        ]
    )
    system = nncs.ClosedLoop(plant, net, 0.2)
    initial = nncs.Box([0.9, -0.1], [1.1, 0.1])
    result = nncs.reach(system, initial, 5, nncs.Options(substeps=4, progress=False))
    return system, initial, result


def _collection(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) == 1, f"expected one collection {gid!r}, got {len(found)}"
    return found[0]


def test_plot_reach_layers(small_loop):
    from nncs.dynamics.simulate import simulate

    system, initial, result = small_loop
    times, states = simulate(system.plant, initial.sample(6, 0), system.period, 5, controller=system.control)
    spec = make_spec("always", ["x <= 1.05"], ["x", "v"])
    ax = plot_reach(
        result, ("x", "v"), traces=(times, states), unsafe=spec, goal=nncs.Box([0.0, -1.0], [0.5, 1.0])
    )
    segs = list(result.segments())
    flow = _collection(ax, "flowpipe")
    assert len(flow.get_paths()) == len(segs) == 5 * 4
    # colour ramp by time: the first and last segments get the two ends of the colour map
    cmap = matplotlib.colormaps["viridis"]
    faces = flow.get_facecolors()
    horizon = 5 * 0.2
    np.testing.assert_allclose(faces[0][:3], cmap((segs[0][0] + segs[0][1]) / 2 / horizon)[:3], atol=1e-6)
    np.testing.assert_allclose(faces[-1][:3], cmap((segs[-1][0] + segs[-1][1]) / 2 / horizon)[:3], atol=1e-6)
    assert not np.allclose(faces[0], faces[-1])
    sampled = _collection(ax, "sampled")
    assert len(sampled.get_paths()) == 5  # the states at t = 0.2 .. 1.0 (t = 0 is the initial set)
    initial_patches = [p for p in ax.patches if p.get_gid() == "initial"]
    assert len(initial_patches) == 1 and initial_patches[0].get_label() == "initial set"
    xy = initial_patches[0].get_xy()
    assert xy[:, 0].min() == pytest.approx(0.9) and xy[:, 1].max() == pytest.approx(0.1)
    traces = [l for l in ax.lines if l.get_gid() == "trace"]
    assert len(traces) == 6
    np.testing.assert_allclose(traces[0].get_xydata(), states[0])
    # the unsafe half-plane x > 1.05 is shaded in red, the goal box in green, inside the view
    unsafe = [p for p in ax.patches if p.get_gid() == "unsafe"]
    assert len(unsafe) == 1 and unsafe[0].get_facecolor()[0] > 0.9 and unsafe[0].get_facecolor()[1] < 0.1
    assert unsafe[0].get_xy()[:, 0].min() == pytest.approx(1.05)
    goal = [p for p in ax.patches if p.get_gid() == "goal"]
    assert len(goal) == 1 and goal[0].get_xy()[:, 0].max() == pytest.approx(0.5)
    # every simulated state is covered by the drawn flowpipe polygons' data range
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= states[..., 0].min() and states[..., 0].max() <= x1
    assert y0 <= states[..., 1].min() and states[..., 1].max() <= y1
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "v"
    plt.close(ax.figure)


def test_plot_reach_counterexample_and_errors(small_loop):
    system, initial, result = small_loop
    cex = {"x0": [1.0, 0.0], "trajectory": {"t": [0.0, 0.1, 0.2], "x": [[1.0, 0.0], [1.1, 0.2], [1.3, 0.4]]}}
    ax = plot_reach([result], (0, 1), counterexample=cex, segments=False, colorbar=False)
    assert not [c for c in ax.collections if c.get_gid() == "flowpipe"]
    red = [l for l in ax.lines if l.get_gid() == "counterexample"]
    assert len(red) == 1 and red[0].get_color() == "red"
    np.testing.assert_allclose(red[0].get_xdata(), [1.0, 1.1, 1.3])
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="unknown state 'y'"):
        plot_reach(result, ("x", "y"))
    with pytest.raises(ValueError, match="no results"):
        plot_reach([])
    with pytest.raises(ValueError, match="traces"):
        plot_reach(result, traces=np.zeros(3))


def test_plot_over_time_bands_and_constraints(small_loop):
    system, initial, result = small_loop
    ax = plot_over_time(result, ["x"], constraints=["x <= 1.2", "x >= -1 + v"], window=(0.2, 0.6))
    t0, t1, lo, hi = nncs.plot.expression_band(result, "x")
    band = [c for c in ax.collections if c.get_label() == "x (reachable)"]
    assert len(band) == 1
    verts = band[0].get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(lo.min()) and verts[:, 1].max() == pytest.approx(hi.max())
    lines = [l for l in ax.lines if l.get_gid() == "constraint"]
    assert len(lines) == 1 and lines[0].get_ydata()[0] == pytest.approx(1.2)
    bound = [c for c in ax.collections if c.get_gid() == "constraint"]
    assert len(bound) == 1 and "-1 + v" in bound[0].get_label()
    # the band is sound for the bound too: -1 + v over every segment, from the support function
    vb = bound[0].get_paths()[0].vertices[:, 1]
    t0, t1, lo, hi = nncs.plot.expression_band(result, "v")
    assert vb.min() == pytest.approx(lo.min() - 1) and vb.max() == pytest.approx(hi.max() - 1)
    assert any(p.get_label() == "spec window" for p in ax.patches)
    plt.close(ax.figure)


def test_expression_band_contains_simulations(small_loop):
    from nncs.dynamics.simulate import simulate

    system, initial, result = small_loop
    times, states = simulate(
        system.plant, initial.sample(40, 1), system.period, 5, controller=system.control, substeps=4
    )
    t0, t1, lo, hi = nncs.plot.expression_band(result, "x - 2*v")
    values = states[..., 0] - 2 * states[..., 1]
    for k, t in enumerate(times):
        inside = (t0 <= t + 1e-12) & (t1 >= t - 1e-12)
        assert inside.any()
        assert np.all(values[:, k] >= lo[inside].min() - 1e-6) and np.all(
            values[:, k] <= hi[inside].max() + 1e-6
        )


@pytest.mark.parametrize("method", ["exact-star", "approx-star", "approx-zono"])
def test_plot_nn_output_union_and_samples(method):
    net = network_from_pairs(
        [
            (np.array([[1.0, -1.0], [1.0, 1.0], [0.5, -2.0]]), np.array([0.0, -0.2, 0.1]), "relu"),
            (np.array([[1.0, 1.0, -1.0], [0.0, 1.0, 1.0]]), np.zeros(2), "identity"),
        ]
    )
    box = nncs.Box([-1.0, -1.0], [1.0, 1.0])
    sets = nncs.nn.reach(net, box, method)
    ax = plot_nn_output(sets, network=net, input_set=box, samples=300, label=method)
    polys = [p for p in ax.patches if isinstance(p, Polygon)]
    # one artist per set: a filled polygon, or a line for a set whose projection is flat (a ReLU face)
    assert len(polys) + len(ax.lines) == len(sets) >= 1
    assert method in [a.get_label() for a in ax.patches + ax.lines]
    scatter = [c for c in ax.collections if c.get_gid() == "samples"]
    assert len(scatter) == 1
    pts = scatter[0].get_offsets()
    assert len(pts) == 300
    # the sampled outputs lie in the union of the reach sets (soundness of what is drawn)
    inside = np.zeros(len(pts), dtype=bool)
    for s in sets:
        inside |= s.contains(np.asarray(pts), tol=1e-7)
    assert inside.all()
    plt.close(ax.figure)


def _report(tmp_path, cex=True):
    import json

    report = {
        "name": "demo",
        "verdict": "unsafe" if cex else "safe",
        "time_s": 0.1,
        "states": ["x", "v", "c"],
        "steps": [
            {"t": 0.0, "lower": [0, 0, 1], "upper": [1, 1, 1]},
            {"t": 0.5, "lower": [1, -1, 1], "upper": [2, 0, 1]},
        ],
        "counterexample": {
            "x0": [0.5, 0.5, 1],
            "w": [],
            "trajectory": {"t": [0, 0.5], "x": [[0.5, 0.5, 1], [1.5, -0.5, 1]], "u": []},
        }
        if cex
        else None,
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    return path


def test_plot_report_bounds_and_counterexample(tmp_path):
    axes = plot_report(_report(tmp_path))
    assert [a.get_ylabel() for a in axes] == ["x", "v"]  # the constant state c is left out
    bars = [c for c in axes[0].collections if c.get_gid() == "bounds"][0]
    segs = bars.get_segments()
    np.testing.assert_allclose([s[:, 1] for s in segs], [[0, 1], [1, 2]])
    red = [l for l in axes[1].lines if l.get_gid() == "counterexample"]
    np.testing.assert_allclose(red[0].get_ydata(), [0.5, -0.5])
    assert "unsafe" in axes[0].get_title()
    plt.close(axes[0].figure)
    axes = plot_report(_report(tmp_path, cex=False), states=["c"])
    assert len(axes) == 1 and not axes[0].lines
    plt.close(axes[0].figure)
    out = tmp_path / "r.png"
    save_report_plot(_report(tmp_path), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_report_errors(tmp_path):
    with pytest.raises(ValueError, match="no such report"):
        plot_report(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a JSON report"):
        plot_report(bad)
    with pytest.raises(ValueError, match="not an nncs report"):
        plot_report({"a": 1})
    with pytest.raises(ValueError, match="no per-step bounds"):
        plot_report({"verdict": "unknown", "steps": [], "counterexample": None, "name": "x"})
    with pytest.raises(ValueError, match="out of range"):
        plot_report(_report(tmp_path), states=[7])


def test_plot_reach_outer_star_projection(small_loop):
    system, initial, result = small_loop
    segs = [s for _, _, s in result.segments()]
    assert all(isinstance(s, nncs.Star) for s in segs)  # an affine plant: the star path
    exact = _collection(plot_reach(result, stars="exact", colorbar=False), "flowpipe")
    ax = plot_reach(result, stars="outer", colorbar=False)
    outer = _collection(ax, "flowpipe")
    assert "outer" in outer.get_label() and "outer" not in exact.get_label()
    # each outer polygon is the projection of the star's outer zonotope: it contains the exact polygon
    P = np.eye(2)
    for s, e in zip(segs, exact.get_paths()):
        z2 = s.to_zonotope().affine_map(P)
        assert z2.contains(e.vertices, tol=1e-7).all()
    plt.close("all")
    with pytest.raises(ValueError, match="stars must be"):
        plot_reach(result, stars="fast")


def test_expression_band_outer_contains_exact(small_loop):
    system, initial, result = small_loop
    t0, t1, lo, hi = nncs.plot.expression_band(result, "x + v")
    o0, o1, olo, ohi = nncs.plot.expression_band(result, "x + v", stars="outer")
    np.testing.assert_array_equal(t0, o0)
    assert np.all(olo <= lo + 1e-9) and np.all(ohi >= hi - 1e-9)
    ax = plot_over_time(result, ["x"], stars="outer")
    assert any(c.get_label() == "x (reachable, outer)" for c in ax.collections)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="stars must be"):
        nncs.plot.expression_band(result, "x", stars="auto")
