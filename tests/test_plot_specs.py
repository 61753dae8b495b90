"""Tests of the verdict and report plots (nncs.plot.plot_verdict / plot_report): every condition of every spec
is drawn where it applies, one panel per constrained quantity, the violated condition and the counterexample
time highlighted, full titles, the legend outside the axes; load_report checks a report's "specs".

The problems are small synthetic ones (a pendulum-like and a TORA-like linear loop under a fixed ReLU
network) and the verdicts are built by hand, so each test takes well under a second."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

import nncs
from nncs.loop.falsify import Counterexample
from nncs.nn.network import network_from_pairs
from nncs.plot import load_report, plot_report, plot_verdict, save_report_plot, save_verdict_plot, spec_panels
from nncs.problem import Problem
from nncs.spec import make_spec
from nncs.verify import Verdict


def _net(n_in: int):
    w = np.zeros((2, n_in))
    w[0, 0], w[1, 0] = 1.0, -1.0
    return network_from_pairs([(w, np.zeros(2), "relu"), (np.array([[-0.5, 0.5]]), np.zeros(1), "identity")])


@pytest.fixture(scope="module")
def pendulum_like():
    """theta, theta_dot under u = -0.5 theta; always theta in [0, 1] for t in [0.5, 1]; an unsafe verdict whose
    counterexample violates theta <= 1 at t = 0.6 s."""
    names = ["theta", "theta_dot"]
    plant = nncs.SymbolicPlant(names, ["u"], ["theta_dot", "u"])
    system = nncs.ClosedLoop(plant, _net(2), 0.2)
    spec = make_spec("always", ["theta >= 0", "theta <= 1"], names, window=(0.5, 1.0))
    problem = Problem("pendulum_like", system, nncs.Box([1.0, 0.0], [1.2, 0.1]), 5, (spec,))
    times = np.linspace(0, 1, 11)
    states = np.column_stack([1.2 - 0.1 * times, -0.1 * np.ones_like(times)])
    cex = Counterexample(
        x0=states[0],
        w=np.zeros(0),
        times=times,
        states=states,
        inputs=np.zeros((5, 1)),
        spec_index=0,
        violation=0.14,
        condition="theta <= 1",
        time=0.6,
    )
    verdict = Verdict(
        "unsafe", 0.1, counterexample=cex, problem_name=problem.name, states=tuple(names), specs=problem.specs
    )
    return problem, verdict


@pytest.fixture(scope="module")
def tora_like():
    """Four states x1..x4 of a linear loop; a goal on x1 and x2 at the final time (the tora_relu_tanh form),
    an always on the expression x1 - x2 (with a state-dependent bound over a window) and an avoid on x3;
    a safe verdict with the reach result of the whole initial set."""
    names = ["x1", "x2", "x3", "x4"]
    plant = nncs.SymbolicPlant(names, ["u"], ["x2", "-x1 + 0.1*x3", "x4", "u"])
    system = nncs.ClosedLoop(plant, _net(4), 0.25)
    specs = (
        make_spec("goal", ["x1 >= -0.1", "x1 <= 0.2", "x2 >= -0.9", "x2 <= -0.6"], names),
        make_spec("always", ["x1 - x2 >= -5"], names),
        make_spec("always", ["x1 - x2 <= 4 + 0.5*x3"], names, window=(0.25, 0.75)),
        make_spec("avoid", ["x3 >= 3"], names, window=(0.0, 0.5)),
    )
    initial = nncs.Box([0.0, -0.1, 0.0, 0.0], [0.1, 0.0, 0.1, 0.1])
    problem = Problem("tora_like", system, initial, 4, specs)
    result = nncs.reach(system, initial, 4, nncs.Options(substeps=2, progress=False))
    verdict = Verdict("safe", 0.1, result=result, problem_name=problem.name, states=tuple(names), specs=specs)
    return problem, verdict


def _lines(ax, *gids):
    return [a for a in ax.lines if isinstance(a, Line2D) and a.get_gid() in gids]


def _line_at(ax, y, gids=("constraint", "violated")):
    found = [a for a in _lines(ax, *gids) if np.allclose(a.get_ydata(), y)]
    assert found, f"no line at y = {y} in {ax.get_ylabel()!r}"
    return found[0]


def _legend_outside(fig) -> list[str]:
    """The figure's legend texts, after checking that the legend overlaps none of the axes."""
    assert len(fig.legends) == 1
    fig.canvas.draw()
    legend = fig.legends[0]
    box = legend.get_window_extent()
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent()), "the legend covers an axes"
    return [t.get_text().replace("\n", " ") for t in legend.get_texts()]


def test_pendulum_like_unsafe_draws_both_conditions_and_highlights_the_violated_one(pendulum_like):
    problem, verdict = pendulum_like
    axes = plot_verdict(problem, verdict, traces=5)
    fig = axes[0].figure
    assert len(axes) == 1 and axes[0].get_ylabel() == "theta"
    title = axes[0].get_title()
    assert "unsafe" in title and "theta >= 0" in title and "theta <= 1" in title and "[0.5, 1]" in title
    ax = axes[0]
    # a line at each bound, over the spec's window only
    for y in (0.0, 1.0):
        line = _line_at(ax, [y, y])
        np.testing.assert_allclose(line.get_xdata(), [0.5, 1.0])
    violated = _line_at(ax, [1.0, 1.0])
    other = _line_at(ax, [0.0, 0.0])
    assert violated.get_gid() == "violated" and violated.get_label() == "violated: theta <= 1"
    assert other.get_gid() == "constraint"
    assert violated.get_linewidth() > other.get_linewidth() and violated.get_color() == "red"
    # the counterexample, its time (a vertical line) and its state at that time
    assert _lines(ax, "counterexample")
    (when,) = _lines(ax, "counterexample-time")
    np.testing.assert_allclose(when.get_xdata(), [0.6, 0.6])
    (point,) = _lines(ax, "counterexample-point")
    assert point.get_xdata()[0] == pytest.approx(0.6) and point.get_ydata()[0] == pytest.approx(1.14)
    assert len(_lines(ax, "simulation")) == 5
    texts = _legend_outside(fig)
    assert "simulations (5)" in texts and "counterexample" in texts
    assert "violated: theta <= 1" in texts and any(t.startswith("counterexample time") for t in texts)
    assert ax.get_xlim()[0] <= 0 and ax.get_xlim()[1] >= problem.horizon
    plt.close(fig)


def test_tora_like_one_panel_per_quantity_goal_at_the_final_time(tora_like):
    problem, verdict = tora_like
    horizon = problem.horizon
    axes = plot_verdict(problem, verdict, traces=3)
    fig = axes[0].figure
    assert [a.get_ylabel() for a in axes] == ["x1", "x2", "x1 - x2", "x3"]
    title = axes[0].get_title()
    for spec in problem.specs:
        for text in spec.text:
            assert text in title, text
    assert "at the final time" in title
    by_name = {a.get_ylabel(): a for a in axes}
    for name, (lo, hi) in {"x1": (-0.1, 0.2), "x2": (-0.9, -0.6)}.items():
        ax = by_name[name]
        (box,) = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "goal"]
        x0, x1 = box.get_x(), box.get_x() + box.get_width()
        assert (
            horizon * 0.95 <= x0 < horizon < x1 <= horizon * 1.05
        )  # at the final time, not across the horizon
        assert box.get_y() == pytest.approx(lo) and box.get_y() + box.get_height() == pytest.approx(hi)
        for y in (lo, hi):
            line = _line_at(ax, [y, y], gids=("goal-bound",))
            assert min(line.get_xdata()) >= 0.95 * horizon
        assert not _lines(ax, "constraint")  # no line across the whole horizon
        assert [c for c in ax.collections if c.get_gid() == "reach"]  # the reachable band
    gap = by_name["x1 - x2"]
    line = _line_at(gap, [-5.0, -5.0])
    np.testing.assert_allclose(line.get_xdata(), [0.0, horizon])  # no window: the whole horizon
    # the state-dependent bound 4 + 0.5*x3: its reachable band, over the window [0.25, 0.75] only
    (bound,) = [c for c in gap.collections if c.get_gid() == "constraint"]
    xs = np.concatenate([p.vertices[:, 0] for p in bound.get_paths()])
    assert xs.min() == pytest.approx(0.25) and xs.max() == pytest.approx(0.75)
    # the avoid region x3 >= 3, shaded over its window
    (region,) = [p for p in by_name["x3"].patches if p.get_gid() == "avoid"]
    assert region.get_x() == pytest.approx(0.0) and region.get_width() == pytest.approx(0.5)
    assert region.get_y() == pytest.approx(3.0)
    assert by_name["x3"].get_ylim()[1] >= 3.0
    texts = _legend_outside(fig)
    assert "simulations (3)" in texts and "reachable set" in texts
    assert not any(t.startswith("violated") for t in texts)
    plt.close(fig)


def test_spec_panels_group_by_quantity():
    names = ["theta", "w"]
    specs = [
        make_spec("always", ["theta >= 0", "0 <= w"], names),
        make_spec("goal", ["theta + 1 <= 2", "theta - w < 3"], names),
    ]
    panels = spec_panels(specs, names)
    assert [p.expression for p in panels] == ["theta", "w", "theta - w"]
    theta = panels[0]
    assert [(c.text, c.side, c.bound) for c in theta.conditions] == [
        ("theta >= 0", "lower", 0.0),
        ("theta + 1 <= 2", "upper", 1.0),
    ]
    assert panels[1].conditions[0].side == "lower"  # "0 <= w" constrains w from below


def test_save_verdict_plot_writes_a_png(pendulum_like, tmp_path):
    problem, verdict = pendulum_like
    out = tmp_path / "v.png"
    save_verdict_plot(problem, verdict, out, traces=2)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _write(tmp_path, report, name="r.json"):
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return path


def test_plot_report_draws_the_specs(pendulum_like, tora_like, tmp_path):
    problem, verdict = tora_like
    report = verdict.to_dict()
    assert [s["kind"] for s in report["specs"]] == ["goal", "always", "always", "avoid"]
    axes = plot_report(_write(tmp_path, report))
    fig = axes[0].figure
    names = [a.get_ylabel() for a in axes]
    assert names[:4] == ["x1", "x2", "x1 - x2", "x3"] and "x4" in names  # then the other varying states
    by_name = dict(zip(names, axes))
    assert [p for p in by_name["x1"].patches if p.get_gid() == "goal"]
    np.testing.assert_allclose(_line_at(by_name["x1 - x2"], [-5, -5]).get_xdata(), [0, problem.horizon])
    assert [p for p in by_name["x3"].patches if p.get_gid() == "avoid"]
    assert "x2 <= -0.6" in axes[0].get_title()
    _legend_outside(fig)
    plt.close(fig)
    # an unsafe report: the violated condition, the counterexample and its time
    problem, verdict = pendulum_like
    axes = plot_report(_write(tmp_path, verdict.to_dict(), "p.json"))
    theta = axes[0]
    assert theta.get_ylabel() == "theta"
    assert _line_at(theta, [1, 1]).get_gid() == "violated"
    np.testing.assert_allclose(_line_at(theta, [0, 0]).get_xdata(), [0.5, 1.0])
    np.testing.assert_allclose(_lines(theta, "counterexample-time")[0].get_xdata(), [0.6, 0.6])
    texts = _legend_outside(axes[0].figure)
    assert "counterexample" in texts and "violated: theta <= 1" in texts
    plt.close("all")
    out = tmp_path / "p.png"
    save_report_plot(tmp_path / "p.json", out, states=["theta_dot"])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_old_report_without_specs_still_plots(tora_like, tmp_path):
    _, verdict = tora_like
    report = verdict.to_dict()
    del report["specs"]
    assert load_report(report)["specs"] == []
    axes = plot_report(_write(tmp_path, report))
    assert [a.get_ylabel() for a in axes] == ["x1", "x2", "x3", "x4"]
    assert not any(_lines(a, "constraint", "violated", "goal-bound") for a in axes)
    assert not any(p.get_gid() in ("goal", "avoid") for a in axes for p in a.patches)
    plt.close(axes[0].figure)


@pytest.mark.parametrize(
    "specs, key",
    [
        ("always x1 >= 0", "'specs'"),
        ([["x1 >= 0"]], r"specs\[0\]"),
        ([{"kind": "sometimes", "constraints": ["x1 >= 0"], "window": None}], r"specs\[0\]"),
        ([{"kind": "always", "constraints": "x1 >= 0", "window": None}], r"specs\[0\]\.constraints"),
        ([{"kind": "always", "constraints": ["x1 >= "], "window": None}], r"specs\[0\]\.constraints\[0\]"),
        (
            [
                {"kind": "always", "constraints": ["x1 >= 0"], "window": None},
                {"kind": "goal", "constraints": ["x1 >= 0", "y <= 1"], "window": None},
            ],
            r"specs\[1\]\.constraints\[1\]",
        ),
        ([{"kind": "always", "constraints": ["__import__('os') >= 0"], "window": None}], r"specs\[0\]"),
        ([{"kind": "always", "constraints": ["x1 >= 0"], "window": [1, "2"]}], r"specs\[0\]\.window"),
        ([{"kind": "always", "constraints": ["x1 >= 0"], "window": [2, 1]}], r"specs\[0\]"),
        ([{"kind": "goal", "constraints": ["x1 >= 0"], "window": [0, 1]}], r"specs\[0\]"),
    ],
)
def test_load_report_rejects_malformed_specs(tora_like, tmp_path, specs, key):
    _, verdict = tora_like
    report = verdict.to_dict()
    report["specs"] = specs
    path = _write(tmp_path, report)
    with pytest.raises(ValueError, match=key) as info:
        load_report(path)
    assert str(path) in str(info.value)


def test_load_report_needs_state_names_for_specs_and_checks_the_counterexample(pendulum_like, tmp_path):
    _, verdict = pendulum_like
    report = verdict.to_dict()
    report["states"] = []
    with pytest.raises(ValueError, match="'specs' needs 'states'"):
        load_report(report)
    report = verdict.to_dict()
    report["counterexample"]["time"] = "soon"
    with pytest.raises(ValueError, match=r"counterexample\.time"):
        load_report(report)
    report = verdict.to_dict()
    report["counterexample"]["spec"] = -1
    with pytest.raises(ValueError, match=r"counterexample\.spec"):
        load_report(report)


def test_a_violated_state_dependent_bound_without_reach_results(pendulum_like):
    """acc_cav2020-like: the falsifier answered before any reach, so the bound that involves states is drawn over
    the simulations, and highlighted, with its values along the counterexample."""
    from dataclasses import replace

    problem, verdict = pendulum_like
    names = list(problem.system.plant.state_names)
    text = "theta >= 1.2 + 0.1*theta_dot"
    spec = make_spec("always", [text], names)
    problem = replace(problem, specs=(spec,))
    cex = replace(verdict.counterexample, condition=text)
    verdict = replace(verdict, counterexample=cex, specs=(spec,))
    axes = plot_verdict(problem, verdict, traces=4)
    ax = axes[0]
    assert ax.get_ylabel() == "theta" and text in ax.get_title()
    (band,) = [c for c in ax.collections if c.get_gid() == "violated"]
    assert band.get_label().startswith(f"violated: {text}")
    (along,) = _lines(ax, "counterexample-bound")
    np.testing.assert_allclose(along.get_ydata(), 1.2 + 0.1 * cex.states[:, 1])
    assert f"violated: {text} (dotted: 1.2 + 0.1*theta_dot along the counterexample)" in _legend_outside(
        ax.figure
    )
    plt.close(ax.figure)


def test_plot_report_on_given_axes_keeps_the_legend_outside(pendulum_like, tmp_path):
    _, verdict = pendulum_like
    fig, axes = plt.subplots(2, 1, figsize=(9, 5))
    fig.subplots_adjust(right=0.6)
    out = plot_report(_write(tmp_path, verdict.to_dict()), axes=axes)
    assert list(out) == list(axes)
    assert "counterexample" in _legend_outside(fig)
    plt.close(fig)
    with pytest.raises(ValueError, match="1 axes for 2 panels"):
        plot_report(verdict.to_dict(), axes=[plt.subplots()[1]])
    plt.close("all")


def test_spec_title_wraps_long_titles_between_conditions():
    from nncs.plot import spec_title

    names = ["x1", "x2", "x3", "x4"]
    texts = [f"x{i} {rel} {sign}2" for i in range(1, 5) for rel, sign in ((">=", "-"), ("<=", ""))]
    spec = make_spec("always", texts, names)
    title = spec_title("tora", "unknown", [spec], "time limit of 0.3 s reached: 0 of 1 part(s) proven " * 3)
    lines = title.split("\n")
    assert len(lines) > 3 and all(len(line) <= 90 for line in lines)
    for text in texts:  # each condition whole on one line: wrapped, never cut
        assert any(text in line for line in lines), text
    assert title.count("time limit of 0.3 s reached") == 3


def test_a_condition_on_a_plant_parameter_is_drawn_at_its_value_and_highlighted(pendulum_like):
    """`theta <= theta_max` with the plant parameter theta_max = 1: the line sits at 1, the label and the
    highlight keep the text as written."""
    problem, verdict = pendulum_like
    names = list(problem.system.plant.state_names)
    spec = make_spec(
        "always", ["theta >= 0", "theta <= theta_max"], names, window=(0.5, 1.0), constants={"theta_max": 1}
    )
    cex = verdict.counterexample
    cex = Counterexample(**{**cex.__dict__, "condition": "theta <= theta_max"})
    with_parameter = Problem(problem.name, problem.system, problem.initial, problem.steps, (spec,))
    v = Verdict(
        "unsafe", 0.1, counterexample=cex, problem_name=problem.name, states=tuple(names), specs=(spec,)
    )
    (ax,) = plot_verdict(with_parameter, v, traces=3)
    violated = _line_at(ax, [1.0, 1.0])
    assert violated.get_gid() == "violated" and violated.get_label() == "violated: theta <= theta_max"
    np.testing.assert_allclose(violated.get_xdata(), [0.5, 1.0])
    assert "theta <= theta_max" in ax.get_title()
    plt.close(ax.figure)


@pytest.mark.parametrize("boxes", [None, 1])
def test_a_nonlinear_condition_gets_its_own_panel_with_sound_bands(boxes, monkeypatch):
    """sqrt(x1^2 + x2^2) <= 1 + 0.2*x3^2 (the Docking form): the quantity's reachable band contains the simulated
    values, and the state-dependent bound is drawn as a band of its reachable values. With a total sub-box
    budget below the number of segments (a large report), each segment gets one sub-box (its hull's
    enclosure) and the band stays sound."""
    from nncs import plot as plot_module
    from nncs.state_expression import StateExpression

    budgets = []
    original = StateExpression.bounds

    def spy(self, s, budget=64):
        budgets.append(budget)
        return original(self, s, budget)

    monkeypatch.setattr(StateExpression, "bounds", spy)
    if boxes is not None:
        monkeypatch.setattr(plot_module, "PLOT_BOUND_BOXES", boxes)
    names = ["x1", "x2", "x3", "x4"]
    plant = nncs.SymbolicPlant(names, ["u"], ["x2", "-x1 + 0.1*x3", "x4", "u"])
    system = nncs.ClosedLoop(plant, _net(4), 0.25)
    spec = make_spec("always", ["sqrt(x1^2 + x2^2) <= c + 0.2*x3^2", "x1 <= 2"], names, constants={"c": 1.0})
    panels = spec_panels([spec], names)
    assert [p.expression for p in panels] == ["sqrt(x1^2 + x2^2)", "x1"]
    nonlinear = panels[0]
    assert nonlinear.w is None and nonlinear.conditions[0].bound_expression == "(1.0) + 0.2*x3^2"
    initial = nncs.Box([0.0, -0.1, 0.0, 0.0], [0.1, 0.0, 0.1, 0.1])
    problem = Problem("nonlinear_like", system, initial, 4, (spec,))
    result = nncs.reach(system, initial, 4, nncs.Options(substeps=2, progress=False))
    verdict = Verdict(
        "safe", 0.1, result=result, problem_name=problem.name, states=tuple(names), specs=(spec,)
    )
    axes = plot_verdict(problem, verdict, traces=8)
    ax = axes[0]
    assert ax.get_ylabel() == "sqrt(x1^2 + x2^2)"
    reach = [c for c in ax.collections if c.get_gid() == "reach"]
    assert reach
    band = np.vstack([p.vertices for c in reach for p in c.get_paths()])
    for line in _lines(ax, "simulation"):
        y = np.asarray(line.get_ydata())
        assert y.min() >= band[:, 1].min() - 1e-9 and y.max() <= band[:, 1].max() + 1e-9
        # the simulation is the expression of the states (independent numpy): positive, below 0.2
        assert np.all(y >= 0) and np.all(y < 0.2)
    assert any(c.get_gid() == "constraint" for c in ax.collections)  # the bound's band
    assert budgets and set(budgets) == ({1} if boxes == 1 else {plot_module.BOUND_BUDGET})
    plt.close(axes[0].figure)
