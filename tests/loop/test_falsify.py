"""Tests of nncs/loop/falsify.py: counterexamples are found, confirmed by the reference integrator, and never
invented for safe systems."""

import numpy as np
import pytest

import nncs
from nncs import plants
from nncs.loop import ClosedLoop, Options
from nncs.loop.falsify import falsify, trace_violation
from nncs.loop.simulate import reference_closed_loop
from nncs.nn.network import network_from_pairs
from nncs.spec import make_spec


def constant_controller(value: float, n_states: int = 2):
    return network_from_pairs([(np.zeros((1, n_states)), np.array([value]), "linear")])


def test_finds_and_confirms_violation():
    # x' = v, v' = u with u = 1: from x0 in [0, 1], v0 in [0, 0.1], x(1 s) = x0 + v0 + 0.5 > 1.55 only near the corner
    system = ClosedLoop(plants.get("double_integrator"), constant_controller(1.0), 0.1)
    spec = make_spec("always", ["x <= 1.55"], ["x", "v"])
    box = nncs.Box([0.0, 0.0], [1.0, 0.1])
    cex = falsify(system, box, 10, [spec], Options(falsify_samples=4, seed=1))
    assert cex is not None
    assert box.contains(cex.x0)[0]
    t, xs, _ = reference_closed_loop(system.plant, system.control, cex.x0, 0.1, 10)
    assert trace_violation([spec], t, xs, 1.0)[1] > 0
    assert cex.violation == pytest.approx(cex.x0[0] + cex.x0[1] + 0.5 - 1.55, abs=1e-6)


def test_gradient_ascent_reaches_a_thin_unsafe_band():
    # x(1) = x0 + v0 + 0.5; the unsafe band 1.3 <= x(1) <= 1.31 holds none of the corners, nor the centre, and
    # only two random samples are drawn: the gradient steps must carry a start into it
    system = ClosedLoop(plants.get("double_integrator"), constant_controller(1.0), 0.1)
    spec = make_spec("avoid", ["x >= 1.3", "x <= 1.31"], ["x", "v"], window=(1.0, 1.0))
    box = nncs.Box([0.0, 0.0], [1.0, 0.1])
    assert falsify(system, box, 10, [spec], Options(falsify_samples=2, seed=3), gradient=False) is None
    cex = falsify(system, box, 10, [spec], Options(falsify_samples=2, falsify_steps=60, seed=3))
    assert cex is not None
    assert 1.3 - 1e-9 <= cex.x0[0] + cex.x0[1] + 0.5 <= 1.31 + 1e-9


def test_gradient_stage_compiles_once_per_system_and_specs():
    # the thin band of the test above, falsified twice (e.g. two split parts): one cached gradient function
    system = ClosedLoop(plants.get("double_integrator"), constant_controller(1.0), 0.1)
    spec = make_spec("avoid", ["x >= 1.3", "x <= 1.31"], ["x", "v"], window=(1.0, 1.0))
    for box in (nncs.Box([0.0, 0.0], [1.0, 0.1]), nncs.Box([0.0, 0.0], [0.9, 0.1])):
        falsify(system, box, 10, [spec], Options(falsify_samples=2, falsify_steps=5, seed=3))
    grads = [k for k in system.memo_keys() if k[0] == "gradient"]
    assert len(grads) == 1
    other = make_spec("avoid", ["x >= 1.2", "x <= 1.21"], ["x", "v"], window=(1.0, 1.0))
    falsify(
        system,
        nncs.Box([0.0, 0.0], [1.0, 0.1]),
        10,
        [other],
        Options(falsify_samples=2, falsify_steps=5, seed=3),
    )
    assert len([k for k in system.memo_keys() if k[0] == "gradient"]) == 2  # new specs: new entry


def test_safe_system_gives_no_counterexample():
    system = ClosedLoop(plants.get("double_integrator"), constant_controller(0.0), 0.1)
    spec = make_spec("always", ["x <= 2"], ["x", "v"])
    assert falsify(system, nncs.Box([0.0, 0.0], [1.0, 0.1]), 10, [spec], Options(falsify_samples=64)) is None


def test_window_is_respected():
    # the state exceeds 1.2 only after t = 0.5 s; a spec on [0, 0.3] is not violated
    system = ClosedLoop(plants.get("double_integrator"), constant_controller(1.0), 0.1)
    box = nncs.Box([1.0, 0.0], [1.0, 0.0])
    early = make_spec("always", ["x <= 1.2"], ["x", "v"], window=(0.0, 0.3))
    late = make_spec("always", ["x <= 1.2"], ["x", "v"], window=(0.6, 1.0))
    assert falsify(system, box, 10, [early], Options(falsify_samples=4)) is None
    assert falsify(system, box, 10, [late], Options(falsify_samples=4)) is not None


def test_pendulum_known_counterexample(shared_benchmarks):
    net = nncs.load_network(shared_benchmarks / "closed_loop/networks/single_pendulum.json")
    system = ClosedLoop(plants.get("pendulum"), net, 0.05)
    spec = make_spec("always", ["theta >= 0", "theta <= 1"], ["theta", "theta_dot"], window=(0.5, 1.0))
    wide = falsify(system, nncs.Box([1.0, 0.0], [1.2, 0.2]), 20, [spec])
    assert wide is not None  # the benchmark README: from (1.2, 0.2) theta exceeds 1 during [0.5, 1]
    assert falsify(system, nncs.Box([1.0, 0.0], [1.175, 0.2]), 20, [spec], Options(falsify_steps=5)) is None
