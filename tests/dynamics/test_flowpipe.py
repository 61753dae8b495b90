"""Tests of nncs/dynamics/flowpipe.py: soundness against reference trajectories for every library plant,
tightness regression against tests/golden/, linear vs nonlinear agreement, stars and joint sets, errors.
"""

import itertools
import json
import os
import zlib
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import expm as scipy_expm

import nncs  # noqa: F401
from nncs import plants
from nncs.dynamics import simulate as S
from nncs.dynamics.flowpipe import Flowpipe, FlowpipeOptions, expm, flowpipe
from nncs.dynamics.symbolic import SymbolicPlant
from nncs.sets import Box, Star, Zonotope
from nncs.sets.lp import LPError

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
TOL = 1e-9  # float noise only (the sets' contains() tolerance, relative to the point's size)


def _problem(name):
    p = plants.get(name)
    ex = plants.example(name)
    X = Box(ex["state_lower"], ex["state_upper"])
    U = Box(ex["input_lower"], ex["input_upper"])
    return p, X, U, ex["period"]


def _samples(p, X, U, n_random, n_corner, seed):
    """Initial states, inputs and disturbances: uniform points and corners of the joint box."""
    rng = np.random.default_rng(seed)
    dl, du = p.disturbance_box
    lo = np.concatenate([X.lb, U.lb, dl])
    hi = np.concatenate([X.ub, U.ub, du])
    pts = [rng.uniform(lo, hi, size=(n_random, len(lo)))]
    corners = rng.integers(0, 2, size=(n_corner, len(lo))).astype(bool)
    pts.append(np.where(corners, hi, lo))
    pts.append(np.stack([lo, hi]))
    z = np.vstack(pts)
    n, m = p.n_states, p.n_inputs
    return z[:, :n], z[:, n : n + m], z[:, n + m :]


def _contains(s, pts) -> np.ndarray:
    """s.contains(pts) with a fresh single-point LP for each point the batched call rejects (the batched LP is
    warm-started, and HiGHS may stop at a slack of about its own 1e-7 tolerance, above TOL)."""
    pts = np.atleast_2d(pts)
    try:
        inside = s.contains(pts, tol=TOL)
    except LPError:  # the warm-started batch LP can end in HiGHS status "Unknown": check point by point
        inside = np.zeros(len(pts), dtype=bool)
    for j in np.flatnonzero(~inside):
        inside[j] = s.contains(pts[j], tol=TOL)[0]
    return inside


def _assert_sound(fp: Flowpipe, p, x0, u, w, period, per_segment=4):
    m = len(fp.segments)
    times = np.unique(np.concatenate([fp.times, np.linspace(0, period, per_segment * m + 1)]))
    if not p.is_continuous:
        times = np.array([0.0, period])
    _, xs = (
        S.reference_period(p, x0, u, w, period, samples=len(times))
        if np.allclose(times, np.linspace(0, period, len(times)))
        else (None, np.stack([S.reference_trajectory(p, x0[i], u[i], w[i], times) for i in range(len(x0))]))
    )
    for k, t in enumerate(times):
        idx = fp.segment_at(t)
        assert idx, f"no segment covers t={t}"
        for i in idx:
            inside = _contains(fp.segments[i], xs[:, k])
            assert inside.all(), (
                f"{p.name}: trajectory {np.flatnonzero(~inside)[:3]} leaves segment {i} at t={t}"
            )
    inside = _contains(fp.final, xs[:, -1])
    assert inside.all(), f"{p.name}: final set misses trajectories {np.flatnonzero(~inside)[:3]}"
    return xs


@pytest.mark.parametrize("remainder", ["quadratic", "cubic", "box"])
@pytest.mark.parametrize("name", plants.names())
def test_flowpipe_contains_reference_trajectories(name, remainder):
    p, X, U, T = _problem(name)
    fp = flowpipe(p, X, U, T, FlowpipeOptions(remainder=remainder))
    assert fp.times[0] == 0.0 and fp.times[-1] == T and np.all(np.diff(fp.times) > 0)
    assert len(fp.segments) == len(fp.times) - 1
    x0, u, w = _samples(p, X, U, 30, 30, seed=zlib.crc32(name.encode()))
    _assert_sound(fp, p, x0, u, w, T)


def _final_widths(fp):
    lo, hi = fp.final.bounds()
    return hi - lo


@pytest.mark.parametrize("name", plants.names())
def test_final_widths_do_not_grow_beyond_golden(name):
    p, X, U, T = _problem(name)
    widths = _final_widths(flowpipe(p, X, U, T))
    path = GOLDEN / f"{name}.json"
    if os.environ.get("NNCS_UPDATE_GOLDEN") == "1":
        path.write_text(
            json.dumps(
                {
                    "plant": name,
                    "period": T,
                    "final_widths": widths.tolist(),
                    "note": "interval-hull widths of flowpipe(...).final with default options "
                    "on plants.example(name); regenerate with NNCS_UPDATE_GOLDEN=1",
                },
                indent=1,
            )
            + "\n"
        )
    golden = np.array(json.loads(path.read_text())["final_widths"])
    # independent check of the golden numbers themselves: at least the spread of simulated end states
    # (corners and random points of the joint box, fine-step RK4) and at most 1.25 times it
    dl, du = p.disturbance_box
    lo, hi = np.concatenate([X.lb, U.lb, dl]), np.concatenate([X.ub, U.ub, du])
    corners = np.array(list(itertools.product(*zip(lo, hi))))
    z = np.vstack([corners, np.random.default_rng(0).uniform(lo, hi, (100, len(lo)))])
    n, m = p.n_states, p.n_inputs
    _, xs = S.rk4_period(p, z[:, :n], z[:, n : n + m], z[:, n + m :], T, substeps=100)
    spread = xs[:, -1].max(axis=0) - xs[:, -1].min(axis=0)
    assert np.all(golden >= spread - 1e-9) and np.all(widths >= spread - 1e-9)
    assert np.all(widths <= 1.25 * spread + 1e-6), f"{name}: widths {widths} vs simulated spread {spread}"
    assert widths.shape == golden.shape
    grown = widths > golden * (1 + 1e-6) + 1e-12
    assert not grown.any(), f"{name}: final widths grew: {widths[grown]} > golden {golden[grown]}"
    shrunk = widths < golden * (1 - 0.02) - 1e-12
    assert not shrunk.any(), (
        f"{name}: final widths shrank to {widths[shrunk]} from {golden[shrunk]}: "
        f"check soundness, then update tests/golden with NNCS_UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("name", ["acc_linear", "double_integrator"])
def test_linear_and_nonlinear_methods_agree_on_affine_plants(name):
    p, X, U, T = _problem(name)
    lin = flowpipe(p, X, U, T, FlowpipeOptions(method="linear"))
    non = flowpipe(p, X, U, T, FlowpipeOptions(method="nonlinear"))
    assert lin.method == "linear" and non.method == "nonlinear"
    for a, b in [(lin.final, non.final)]:
        (la, ha), (lb, hb) = a.bounds(), b.bounds()
        np.testing.assert_allclose(la, lb, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ha, hb, rtol=1e-9, atol=1e-9)
    for sa, sb in zip(lin.segments, non.segments):
        (la, ha), (lb, hb) = sa.bounds(), sb.bounds()
        scale = 1e-3 * (ha - la + 1e-3)
        assert np.all(np.abs(la - lb) <= scale) and np.all(np.abs(ha - hb) <= scale)


def test_nonlinear_acc_with_zero_drag_matches_linear_acc():
    p, X, U, T = _problem("acc")
    a = flowpipe(p.with_parameters(mu=0.0), X, U, T, FlowpipeOptions(method="nonlinear"))
    b = flowpipe(plants.get("acc_linear"), X, U, T)
    np.testing.assert_allclose(np.array(a.final.bounds()), np.array(b.final.bounds()), rtol=1e-9, atol=1e-9)


def _dependent_joint_star(X: Box):
    """[x; u] with u = 0.1 (v_lead - v_ego) + e, e in [-0.1, 0.1], and a constraint x_lead - x_ego <= 95."""
    Xs = X.to_star()
    m = Xs.nvars
    V = np.zeros((7, m + 1))
    V[:6, :m] = Xs.V
    V[6, :m] = 0.1 * (Xs.V[1] - Xs.V[4])
    V[6, m] = 1.0
    c = np.append(Xs.c, 0.1 * (Xs.c[1] - Xs.c[4]))
    C = np.zeros((1, m + 1))
    C[0, 0], C[0, 3] = 1.0, -1.0
    return Star(c, V, C, [95.0], np.append(Xs.lb, -0.1), np.append(Xs.ub, 0.1))


def test_linear_star_joint_set_is_exact_and_keeps_predicate():
    p, X, _, T = _problem("acc_linear")
    J = _dependent_joint_star(X)
    fp = flowpipe(p, J, None, T)
    assert isinstance(fp.final, Star) and fp.final.nvars == J.nvars
    np.testing.assert_array_equal(fp.final.C, J.C)
    # exact: the final star maps each predicate vector a to the true state at T from the point of J with that a
    a = np.vstack([J.sample_predicate(40, 3), J.lb, J.ub])
    z0 = J.c + a @ J.V.T
    _, xs = S.reference_period(p, z0[:, :6], z0[:, 6:], None, T, samples=2)
    np.testing.assert_allclose(fp.final.c + a @ fp.final.V.T, xs[:, -1], rtol=1e-12, atol=1e-9)
    pts = J.sample(40, 4)
    _assert_sound(fp, p, pts[:, :6], pts[:, 6:], np.zeros((40, 0)), T)
    # the constraint survives: x_lead - x_ego stays below what an unconstrained zonotope would allow
    unconstrained = flowpipe(p, J.to_zonotope(), None, T)
    assert fp.final.bounds()[1][0] < unconstrained.final.bounds()[1][0] - 1.0


def test_shared_predicate_equals_joint_star():
    p, X, _, T = _problem("acc_linear")
    J = _dependent_joint_star(X)
    Xs = Star(J.c[:6], J.V[:6], J.C, J.d, J.lb, J.ub)
    Us = Star(J.c[6:], J.V[6:], J.C, J.d, J.lb, J.ub)
    a = flowpipe(p, Xs, Us, T, shared_predicate=True)
    b = flowpipe(p, J, None, T)
    np.testing.assert_array_equal(a.final.V, b.final.V)
    indep = flowpipe(p, Xs, Us, T)  # independent product: more predicate variables, looser
    assert indep.final.nvars == 2 * J.nvars


def test_nonlinear_joint_zonotope_keeps_dependency():
    """u = k * theta exactly (a shared generator): the flowpipe must be sound for that coupling, and tighter
    than with u independent of theta."""
    p, X, U, T = _problem("pendulum")
    c = np.append(X.center, -0.3 * X.center[0])
    G = np.zeros((3, 2))
    G[:2, :2] = np.diag(X.radius)
    G[2, 0] = -0.3 * X.radius[0]
    J = Zonotope(c, G)
    fp = flowpipe(p, J, None, T)
    pts = J.sample(60, 5)
    _assert_sound(fp, p, pts[:, :2], pts[:, 2:], np.zeros((60, 0)), T)
    indep = flowpipe(p, X, Box([c[2] - abs(G[2, 0])], [c[2] + abs(G[2, 0])]), T)
    w_dep = np.subtract(*fp.final.bounds()[::-1])
    w_ind = np.subtract(*indep.final.bounds()[::-1])
    assert w_dep[1] < w_ind[1]


def _pinned(star: Star, a: np.ndarray, m: int) -> Star:
    """The star with its first m predicate variables fixed to a (the other variables free in their bounds)."""
    lb, ub = star.lb.copy(), star.ub.copy()
    lb[:m], ub[:m] = a, a
    return Star(star.c, star.V, star.C, star.d, lb, ub)


def test_nonlinear_star_input_keeps_predicate_and_is_parametric():
    """A constrained Star in: Stars out over the same leading predicate variables and constraints, and the
    enclosure holds for each value of those variables (the dependency on the initial state is sound)."""
    p, X, U, T = _problem("tora")
    Xs = X.to_star().intersect_halfspace(np.array([1.0, 1.0, 0.0, 0.0]), 0.05)  # x1 + x2 <= 0.05
    J = Xs.cartesian_product(U.to_star())
    fp = flowpipe(p, J, None, T)
    m = J.nvars
    assert all(isinstance(s, Star) for s in fp.segments) and isinstance(fp.final, Star)
    np.testing.assert_array_equal(fp.final.C[:, :m], J.C)
    assert fp.final.nvars >= m
    pts = J.sample(40, 6)
    _assert_sound(fp, p, pts[:, :4], pts[:, 4:], np.zeros((40, 0)), T, per_segment=2)
    # parametric: the trajectory from the point with predicate a lies in the final set with a pinned
    a = J.sample_predicate(12, 12)
    z0 = J.c + a @ J.V.T
    _, xs = S.reference_period(p, z0[:, :4], z0[:, 4:], None, T, samples=2)
    for ai, x in zip(a, xs[:, -1]):
        assert _contains(_pinned(fp.final, ai, m), x[None]).all()
    # the constraint is kept: tighter than the unconstrained zonotope of the same joint set
    loose = flowpipe(p, J.to_zonotope(), None, T)
    assert fp.final.bounds()[1][0] <= loose.final.bounds()[1][0] + 1e-9


def test_final_order_bounds_the_added_variables_and_stays_sound():
    p, X, U, T = _problem("tora")
    J = X.to_star().cartesian_product(U.to_star())
    full = flowpipe(p, J, None, T)
    lean = flowpipe(p, J, None, T, FlowpipeOptions(final_order=2))
    assert lean.final.nvars <= J.nvars + 2 * 4 < full.final.nvars
    pts = J.sample(40, 16)
    _assert_sound(lean, p, pts[:, :4], pts[:, 4:], np.zeros((40, 0)), T, per_segment=1)
    a = J.sample_predicate(8, 17)
    z0 = J.c + a @ J.V.T
    _, xs = S.reference_period(p, z0[:, :4], z0[:, 4:], None, T, samples=2)
    for ai, x in zip(a, xs[:, -1]):
        assert _contains(_pinned(lean.final, ai, J.nvars), x[None]).all()


def test_linear_star_with_disturbance_appends_variables():
    p = SymbolicPlant(["x", "v"], ["u"], ["v", "-x + u + w"], disturbances={"w": (-0.2, 0.2)})
    J = Box([0.0, 0.0, -1.0], [0.1, 0.1, 1.0]).to_star()
    fp = flowpipe(p, J, None, 1.0)
    assert fp.final.nvars == J.nvars + 1 and fp.method == "linear"
    a = J.sample_predicate(10, 13)
    z0 = J.c + a @ J.V.T
    for w in (-0.2, 0.2):
        _, xs = S.reference_period(p, z0[:, :2], z0[:, 2:], np.full((10, 1), w), 1.0, samples=2)
        for ai, x in zip(a, xs[:, -1]):
            pinned = _pinned(fp.final, ai, J.nvars)  # the disturbance variable stays free
            assert _contains(pinned, x[None]).all()
    pts = J.sample(20, 14)
    w = np.random.default_rng(15).uniform(-0.2, 0.2, size=(20, 1))
    _assert_sound(fp, p, pts[:, :2], pts[:, 2:], w, 1.0)


def _euler_pendulum(dt=0.05):
    return SymbolicPlant(
        ["th", "om"],
        ["u"],
        ["th + dt*om", "om + dt*(2*sin(th) + 8*u)"],
        parameters={"dt": dt},
        time="discrete",
        name="euler_pendulum",
    )


@pytest.mark.parametrize("remainder", ["quadratic", "cubic", "box"])
def test_discrete_nonlinear_step_is_sound(remainder):
    p = _euler_pendulum()
    X, U = Box([1.0, 0.0], [1.175, 0.2]), Box([-0.5], [0.5])
    fp = flowpipe(p, X, U, 0.05, FlowpipeOptions(remainder=remainder))
    assert fp.method == "discrete" and len(fp.segments) == 1
    x0, u, w = _samples(p, X, U, 200, 50, seed=8)
    _assert_sound(fp, p, x0, u, w, 0.05)


def test_discrete_affine_star_step_is_exact():
    p = plants.get("double_integrator_discrete")
    J = Box([0.5, -0.1, -1.0], [0.6, 0.1, 1.0]).to_star().intersect_halfspace([0.0, 1.0, 1.0], 0.5)
    fp = flowpipe(p, J, None, 1.0)
    a = J.sample_predicate(20, 9)
    z = J.c + a @ J.V.T
    nxt = np.stack([p.f_numpy(zi[:2], zi[2:]) for zi in z])
    np.testing.assert_allclose(fp.final.c + a @ fp.final.V.T, nxt, atol=1e-14)
    assert _contains(fp.segments[0], z[:, :2]).all() and _contains(fp.segments[0], nxt).all()


def test_time_step_option_and_halving():
    p, X, U, T = _problem("van_der_pol")
    fp = flowpipe(p, X, U, T, FlowpipeOptions(time_step=0.03))
    assert len(fp.segments) == 7 and fp.times[-1] == T
    big = Box([1.0, 2.0], [2.5, 3.0])  # a wide set: sub-steps may be halved, the result must stay sound
    fp = flowpipe(p, big, U, 0.2, FlowpipeOptions(substeps=2))
    x0, u, w = _samples(p, big, U, 30, 20, seed=10)
    _assert_sound(fp, p, x0, u, w, 0.2)


def test_expm_matches_scipy():
    rng = np.random.default_rng(11)
    for scale in (0.01, 1.0, 30.0):
        M = rng.normal(size=(7, 7)) * scale
        np.testing.assert_allclose(
            expm(M), scipy_expm(M), rtol=1e-10, atol=1e-12 * np.abs(scipy_expm(M)).max()
        )


def test_bad_arguments_raise():
    p, X, U, T = _problem("tora")
    with pytest.raises(ValueError, match="state_set: expected dimension 4"):
        flowpipe(p, Box([0, 0], [1, 1]), U, T)
    with pytest.raises(ValueError, match="input_set: expected dimension 1"):
        flowpipe(p, X, Box([0, 0], [1, 1]), T)
    with pytest.raises(ValueError, match="joint"):
        flowpipe(p, X, None, T)
    with pytest.raises(ValueError, match="period"):
        flowpipe(p, X, U, -1.0)
    with pytest.raises(ValueError, match="needs an affine plant"):
        flowpipe(p, X, U, T, FlowpipeOptions(method="linear"))
    with pytest.raises(ValueError, match="method must be one of"):
        FlowpipeOptions(method="magic")
    with pytest.raises(ValueError, match="time_step"):
        FlowpipeOptions(time_step=0.0)
    with pytest.raises(ValueError, match="shared_predicate"):
        flowpipe(p, X, U, T, shared_predicate=True)
    with pytest.raises(ValueError, match="has no disturbances"):
        flowpipe(p, X, U, T, disturbance=Box([0], [1]))
    q = SymbolicPlant(["x"], [], ["-x + w"], disturbances=["w"])
    with pytest.raises(ValueError, match="declares no bounds"):
        flowpipe(q, Box([0], [1]), None, 1.0)
    fp = flowpipe(q, Box([0], [1]), None, 1.0, disturbance=Box([-0.1], [0.1]))
    lo, hi = fp.final.bounds()
    np.testing.assert_allclose(
        [lo[0], hi[0]], [-0.1 * (1 - np.exp(-1)), np.exp(-1) + 0.1 * (1 - np.exp(-1))], rtol=1e-12
    )
    with pytest.raises(ValueError, match="expected a Box, Zonotope or Star"):
        flowpipe(p, np.zeros(4), U, T)


def test_stiff_linear_plant_is_subdivided_and_sound():
    p = SymbolicPlant(["x"], ["u"], ["-500*x + u"])
    fp = flowpipe(p, Box([0.0], [1.0]), Box([0.0], [1.0]), 0.1, FlowpipeOptions(substeps=1))
    assert len(fp.segments) >= 50  # ||M|| * time_step <= 1
    lo, hi = fp.final.bounds()
    np.testing.assert_allclose([lo[0], hi[0]], [0.0, np.exp(-50.0) + (1 - np.exp(-50.0)) / 500], atol=1e-12)
    x0, u, w = _samples(p, Box([0.0], [1.0]), Box([0.0], [1.0]), 10, 4, seed=18)
    _assert_sound(fp, p, x0, u, w, 0.1, per_segment=1)


def test_interval_hull_covers_segments():
    p, X, U, T = _problem("dubins")
    fp = flowpipe(p, X, U, T)
    lo, hi = fp.interval_hull()
    for s in fp.segments:
        b = s.box()
        assert np.all(lo <= b.lb) and np.all(b.ub <= hi)
    assert np.all(lo <= X.lb) and np.all(X.ub <= hi)


def test_abs_dynamics_away_from_the_kink_are_bounded_and_across_it_give_a_clear_error():
    p = SymbolicPlant(["x"], ["u"], ["-abs(x) + u"])
    assert not p.is_affine
    # x > 0 throughout: x' = -x + u, so x(0.1) = x0 e^-0.1 + u (1 - e^-0.1) (closed form, independent of nncs)
    fp = flowpipe(p, Box([0.5], [1.0]), Box([0.0], [0.1]), 0.1)
    lo, hi = fp.final.bounds()
    decay = np.exp(-0.1)
    assert lo[0] <= 0.5 * decay and hi[0] >= 1.0 * decay + 0.1 * (1 - decay)
    assert hi[0] - lo[0] < 0.5 * decay + 0.1 * (1 - decay) + 0.01
    # a set that straddles the kink of abs: no finite Lagrange remainder, so no flowpipe (never a wrong one)
    with pytest.raises(RuntimeError, match="kink of abs"):
        flowpipe(p, Box([-0.5], [1.0]), Box([0.0], [0.1]), 0.1)


def test_a_discrete_step_whose_set_leaves_the_domain_fails_as_a_reach_failure():
    # x+ = sqrt(x) on x in [-1, 1]: the Hessian is undefined below 0; verify counts a RuntimeError as not proven
    p = SymbolicPlant(["x"], ["u"], ["sqrt(x) + u"], time="discrete", name="root_map")
    with pytest.raises(RuntimeError, match="root_map"):
        flowpipe(p, Box([-1.0], [1.0]), Box([0.0], [0.0]), 1.0)


@pytest.mark.parametrize("remainder", ["quadratic", "cubic", "box"])
def test_a_set_so_large_that_its_remainder_overflows_fails_as_a_reach_failure(remainder):
    # x' = x y on a set of width 1e160: the second-order terms overflow (inf - inf); before, a bare
    # "Interval: NaN bound" escaped from deep inside the remainder bound, where a blown-up closed loop
    # (CartPole) should end as "not proven"
    p = SymbolicPlant(["x", "y"], [], ["x*y", "0"], name="product")
    big = Zonotope([0.0, 0.0], [[1e160, 1e160], [1e160, -1e160]])
    with pytest.raises(RuntimeError, match="product"):
        flowpipe(p, big, None, 0.1, FlowpipeOptions(remainder=remainder))
