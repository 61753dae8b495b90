"""Tests of nncs/dynamics/simulate.py against closed-form solutions and against each other."""

import numpy as np
import pytest
from scipy.linalg import expm

import nncs  # noqa: F401
from nncs import plants
from nncs.dynamics import simulate as S
from nncs.dynamics.symbolic import SymbolicPlant
from nncs.loop.simulate import reference_closed_loop


def test_reference_matches_closed_form_double_integrator():
    p = plants.get("double_integrator")
    t = np.linspace(0, 2, 21)
    xs = S.reference_trajectory(p, [0.3, -0.2], [0.7], (), t)
    np.testing.assert_allclose(xs[:, 0], 0.3 - 0.2 * t + 0.35 * t**2, atol=1e-11)
    np.testing.assert_allclose(xs[:, 1], -0.2 + 0.7 * t, atol=1e-11)


def test_reference_and_rk4_match_expm_linear_acc():
    p = plants.get("acc_linear")
    A, B, c, _ = p.linear_parts()
    x0 = np.array([100.0, 32.0, 0.1, 10.5, 30.0, -0.2])
    u = np.array([0.4])
    M = np.zeros((7, 7))
    M[:6, :6], M[:6, 6] = A, B[:, 0] * u[0] + c
    t = np.linspace(0, 0.1, 11)
    exact = np.stack([(expm(M * ti) @ np.append(x0, 1.0))[:6] for ti in t])
    np.testing.assert_allclose(S.reference_trajectory(p, x0, u, (), t), exact, rtol=1e-12, atol=1e-10)
    tt, rk = S.rk4_period(p, x0, u, None, 0.1, substeps=10)
    np.testing.assert_allclose(tt, t)
    np.testing.assert_allclose(rk[0], exact, rtol=1e-9, atol=1e-9)


def test_rk4_batch_converges_to_reference_nonlinear():
    p = plants.get("van_der_pol")
    rng = np.random.default_rng(0)
    x0 = rng.uniform([1.25, 2.25], [1.55, 2.35], size=(5, 2))
    u = rng.uniform(-0.5, 0.5, size=(5, 1))
    _, rk = S.rk4_period(p, x0, u, None, 0.5, substeps=200)
    t, ref = S.reference_period(p, x0, u, None, 0.5, samples=201)
    assert ref.shape == rk.shape == (5, 201, 2)
    np.testing.assert_allclose(rk, ref, atol=1e-8)


def test_unicycle_disturbance_enters_speed():
    p = plants.get("unicycle")
    x0 = np.array([9.5, -4.5, 2.1, 1.5])
    t = np.array([0.0, 0.2])
    a = S.reference_trajectory(p, x0, [20.0, 20.0], [1e-4], t)
    b = S.reference_trajectory(p, x0, [20.0, 20.0], [-1e-4], t)
    np.testing.assert_allclose(a[-1, 3] - b[-1, 3], 2e-4 * 0.2, rtol=1e-8)


def test_discrete_plant_steps_f():
    p = plants.get("double_integrator_discrete")
    t, xs = S.rk4_period(p, [[1.0, 2.0]], [[0.5]], None, 1.0)
    np.testing.assert_allclose(xs[0], [[1.0, 2.0], [1.0 + 2.0 + 0.25, 2.5]])
    np.testing.assert_allclose(S.reference_trajectory(p, [1.0, 2.0], [0.5], (), [0, 1]), xs[0])


def test_closed_loop_simulation_matches_reference():
    p = plants.get("double_integrator")
    K = np.array([[-1.0, -1.5]])
    times, xs = S.simulate(
        p, np.array([[1.0, 0.0], [0.5, 0.2]]), period=0.1, steps=20, controller=lambda x: x @ K.T, substeps=20
    )
    for i, x0 in enumerate([[1.0, 0.0], [0.5, 0.2]]):
        rt, rx, ru = reference_closed_loop(p, lambda x: K @ x, x0, 0.1, 20, samples_per_period=21)
        np.testing.assert_allclose(rt, times)
        np.testing.assert_allclose(xs[i], rx, atol=1e-9)
        assert ru.shape == (20, 1)


def test_bad_shapes_raise():
    p = plants.get("tora")
    with pytest.raises(ValueError, match="x0"):
        S.rk4_period(p, np.zeros((2, 3)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="u: contains NaN"):
        S.rk4_period(p, np.zeros(4), [np.nan])
    with pytest.raises(ValueError, match="exactly one of controls or controller"):
        S.simulate(p, np.zeros(4), 1.0, 2)
    q = SymbolicPlant(["x"], [], ["-x"])
    _, xs = S.simulate(q, [1.0], 0.5, 2, substeps=50)
    np.testing.assert_allclose(xs[0, -1, 0], np.exp(-1.0), rtol=1e-9)


def test_period_times():
    t = S.period_times(0.5, 3, 2)
    np.testing.assert_allclose(t, [0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5], rtol=0, atol=1e-15)
