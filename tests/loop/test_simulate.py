"""Tests of nncs/loop/simulate.py: the JAX closed-loop rollout and the reference integrator, each against
independent numpy computations (a hand-written forward pass, hand-written right-hand sides, scipy solve_ivp)."""

from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import nncs
from nncs import plants
from nncs.dynamics.simulate import period_times
from nncs.loop import ClosedLoop
from nncs.loop.simulate import reference_closed_loop, rollout, simulate_closed_loop
from nncs.nn.network import Linear, network_from_pairs
from nncs.problem import load_problem


def hand_forward(system: ClosedLoop, x: np.ndarray) -> np.ndarray:
    """The plant input for one state (n,), by hand: input map, each layer in numpy, output map."""
    z = system.input_W @ x + system.input_b
    for layer in system.controller.layers:
        if isinstance(layer, Linear):
            z = layer.W @ z + layer.b
        else:
            name = type(layer).__name__
            z = {
                "ReLU": lambda v: np.maximum(v, 0.0),
                "Tanh": np.tanh,
                "Sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
                "Identity": lambda v: v,
            }[name](z)
    return system.output_W @ z + system.output_b


def acc_rhs(x, u, a_lead=-2.0, mu=1e-4):
    xl, vl, gl, xe, ve, ge = x
    return np.array([vl, gl, -2 * gl + 2 * a_lead - mu * vl**2, ve, ge, -2 * ge + 2 * u[0] - mu * ve**2])


def tora_rhs(x, u, eps=0.1):
    x1, x2, x3, x4 = x
    return np.array([x2, -x1 + eps * np.sin(x3), x4, u[0]])


CASE_STUDIES = Path(__file__).resolve().parents[2] / "case_studies"
CASES = {"acc": ("acc.toml", acc_rhs), "tora": ("closed_loop/tora.toml", tora_rhs)}


def load(name, shared_benchmarks):
    return load_problem(CASE_STUDIES / CASES[name][0])


def starts(problem, n=4, seed=0):
    box = problem.initial
    return np.vstack([box.lb, box.ub, box.sample(n, np.random.default_rng(seed))])


def hand_reference(system, rhs, x0, steps):
    """States at the period boundaries: u from the hand forward pass, each period by scipy DOP853 (tight)."""
    x, out = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
    for _ in range(steps):
        u = hand_forward(system, x)
        sol = solve_ivp(
            lambda t, z, u=u: rhs(z, u), (0.0, system.period), x, method="DOP853", rtol=1e-12, atol=1e-12
        )
        x = sol.y[:, -1]
        out.append(x)
    return np.array(out)


def hand_rk4(system, rhs, x0, steps, substeps):
    """States at the period boundaries: u from the hand forward pass, classical RK4 written out in numpy."""
    h = system.period / substeps
    x, out = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
    for _ in range(steps):
        u = hand_forward(system, x)
        for _ in range(substeps):
            k1 = rhs(x, u)
            k2 = rhs(x + h / 2 * k1, u)
            k3 = rhs(x + h / 2 * k2, u)
            k4 = rhs(x + h * k3, u)
            x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(x)
    return np.array(out)


# error bounds of the RK4 rollout against the tight reference over the whole horizon (10 sub-steps per period):
# ACC (T = 0.1 s, 50 periods, states up to ~250) and TORA (T = 1 s, 20 periods, states ~1); measured errors are
# about 1.2e-9 and 1.9e-5, the bounds leave a margin of about 8 and 5.
BOUNDS = {"acc": 1e-8, "tora": 1e-4}


@pytest.mark.parametrize("name", ["acc", "tora"])
def test_rollout_agrees_with_reference_over_the_horizon(name, shared_benchmarks):
    problem = load(name, shared_benchmarks)
    system, steps = problem.system, problem.steps
    x0 = starts(problem)
    w = np.zeros((len(x0), 0))
    errors = {}
    for S in (10, 20):
        xs = np.asarray(rollout(system, steps, S)(x0, w))
        assert xs.shape == (len(x0), steps * S + 1, system.plant.n_states)
        errors[S] = 0.0
        for i in range(len(x0)):
            t, ref, us = reference_closed_loop(
                system.plant, system.control, x0[i], system.period, steps, samples_per_period=S + 1
            )
            np.testing.assert_array_equal(t, period_times(system.period, steps, S))
            assert us.shape == (steps, system.plant.n_inputs)
            errors[S] = max(errors[S], np.abs(xs[i] - ref).max())
    assert errors[10] <= BOUNDS[name]
    # RK4 is fourth order: halving the sub-step divides the error by about 16 (so the gap is truncation error)
    assert errors[20] <= errors[10] / 8


@pytest.mark.parametrize("name", ["acc", "tora"])
def test_rollout_period_boundaries_match_independent_numpy(name, shared_benchmarks):
    problem = load(name, shared_benchmarks)
    system, steps, rhs = problem.system, problem.steps, CASES[name][1]
    x0 = starts(problem, n=1)
    S = 10
    xs = np.asarray(rollout(system, steps, S)(x0, np.zeros((len(x0), 0))))
    boundaries = xs[:, ::S, :]  # t = 0, T, 2T, ...
    assert boundaries.shape[1] == steps + 1
    for i in range(len(x0)):
        # the same arithmetic written out in numpy: equal up to rounding
        np.testing.assert_allclose(
            boundaries[i], hand_rk4(system, rhs, x0[i], steps, S), rtol=1e-11, atol=1e-11
        )
        # a different integrator (scipy DOP853, tight): equal up to the RK4 truncation error
        np.testing.assert_allclose(
            boundaries[i], hand_reference(system, rhs, x0[i], steps), rtol=0, atol=BOUNDS[name]
        )
        # and the reference integrator of the module agrees with the hand-written one
        _, ref, _ = reference_closed_loop(
            system.plant, system.control, x0[i], system.period, steps, samples_per_period=2
        )
        np.testing.assert_allclose(ref, hand_reference(system, rhs, x0[i], steps), rtol=1e-9, atol=1e-9)


def test_batch_rows_equal_single_runs(shared_benchmarks):
    problem = load("tora", shared_benchmarks)
    system = problem.system
    x0 = starts(problem, n=5, seed=3)
    w = np.zeros((len(x0), 0))
    batch = np.asarray(rollout(system, 6, 4)(x0, w))
    for i in range(len(x0)):
        single = np.asarray(rollout(system, 6, 4)(x0[i : i + 1], w[i : i + 1]))[0]
        np.testing.assert_allclose(batch[i], single, rtol=1e-14, atol=1e-14)
    t, eager = simulate_closed_loop(system, x0, 6, substeps=4)
    np.testing.assert_array_equal(t, period_times(system.period, 6, 4))
    np.testing.assert_allclose(eager, batch, rtol=1e-14, atol=1e-14)


def linear_feedback(K, k0=0.0):
    """The network u = K x + k0 (one linear layer)."""
    return network_from_pairs([(np.atleast_2d(K), np.array([k0]), "linear")])


def test_discrete_plant_is_stepped_exactly():
    dt = 0.5
    plant = plants.get("double_integrator_discrete")
    system = ClosedLoop(plant, linear_feedback([[-0.4, -0.9]], 0.1), dt)
    x0 = np.array([[1.0, -0.5], [0.25, 0.75]])
    steps = 7
    xs = np.asarray(
        rollout(system, steps, 10)(x0, np.zeros((2, 0)))
    )  # substeps do not apply: one step a period
    assert xs.shape == (2, steps + 1, 2)
    for i in range(2):
        x, expect = x0[i].copy(), [x0[i].copy()]
        for _ in range(steps):
            u = -0.4 * x[0] - 0.9 * x[1] + 0.1
            # double_integrator_discrete(dt = 1): x+ = x + v + u / 2, v+ = v + u
            x = np.array([x[0] + x[1] + 0.5 * u, x[1] + u])
            expect.append(x)
        np.testing.assert_allclose(xs[i], expect, rtol=1e-15, atol=1e-15)
        t, ref, us = reference_closed_loop(plant, system.control, x0[i], dt, steps)
        np.testing.assert_allclose(ref, expect, rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(t, np.arange(steps + 1) * dt, rtol=0, atol=1e-15)
        assert us.shape == (steps, 1)


def test_disturbances_are_held_per_trajectory():
    # x' = -x + u + w with u = 0: x(t) = w + (x0 - w) e^{-t}; rows with different w
    plant = nncs.SymbolicPlant(["x"], ["u"], ["-x + u + w"], disturbances={"w": (-1.0, 1.0)})
    system = ClosedLoop(plant, linear_feedback([[0.0]]), 0.2)
    x0, w = np.array([[1.0], [0.0], [2.0]]), np.array([[0.5], [-1.0], [0.0]])
    t, xs = simulate_closed_loop(system, x0, 5, w=w, substeps=20)
    exact = w[:, None, :] + (x0 - w)[:, None, :] * np.exp(-t)[None, :, None]
    np.testing.assert_allclose(xs, exact, atol=1e-8)
    np.testing.assert_allclose(np.asarray(rollout(system, 5, 20)(x0, w)), xs, rtol=1e-14, atol=1e-14)
    for i in range(3):
        _, ref, _ = reference_closed_loop(plant, system.control, x0[i], 0.2, 5, w=w[i], samples_per_period=21)
        np.testing.assert_allclose(ref, exact[i], atol=1e-11)


def test_rollout_is_memoised_per_steps_and_substeps():
    system = ClosedLoop(plants.get("double_integrator"), linear_feedback([[-1.0, -1.5]]), 0.1)
    assert rollout(system, 5, 4) is rollout(system, 5, 4)
    assert rollout(system, 5, 4) is not rollout(system, 5, 3)
    assert rollout(system, 6, 4) is not rollout(system, 5, 4)
    assert [k for k in system.memo_keys() if k[0] == "rollout"] == [
        ("rollout", 5, 4),
        ("rollout", 5, 3),
        ("rollout", 6, 4),
    ]


def test_check_time_is_called_every_period_and_stops():
    system = ClosedLoop(plants.get("double_integrator"), linear_feedback([[-1.0, -1.5]]), 0.1)
    calls = []

    def check():
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        simulate_closed_loop(system, [1.0, 0.0], 10, check_time=check)
    assert len(calls) == 4


def test_bad_arguments_raise():
    system = ClosedLoop(plants.get("double_integrator"), linear_feedback([[-1.0, -1.5]]), 0.1)
    with pytest.raises(ValueError, match="steps"):
        rollout(system, 0, 4)
    with pytest.raises(ValueError, match="substeps"):
        rollout(system, 3, 0)
    with pytest.raises(ValueError, match="substeps"):
        simulate_closed_loop(system, [1.0, 0.0], 3, substeps=2.5)
    with pytest.raises(ValueError, match="x0"):
        simulate_closed_loop(system, np.zeros((2, 3)), 3)
    with pytest.raises(ValueError, match="x0: contains NaN"):
        simulate_closed_loop(system, [np.nan, 0.0], 3)
