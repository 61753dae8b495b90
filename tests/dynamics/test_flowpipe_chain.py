"""Flowpipes chained over several control periods with a linear state feedback u = K x + k0 (no network):
the dependency-keeping interface the closed loop uses (Star in, Star out, shared predicate), checked against
closed-loop reference trajectories; and random linear systems (hypothesis) against exact solutions.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import nncs  # noqa: F401
from nncs import plants
from nncs.dynamics import simulate as S
from nncs.dynamics.flowpipe import FlowpipeOptions, flowpipe
from nncs.dynamics.symbolic import SymbolicPlant
from nncs.loop.simulate import reference_closed_loop
from nncs.sets import Box
from nncs.sets.lp import LPError


def _contains(s, pts):
    """Batched contains, re-checking rejected points one by one (see tests/dynamics/test_flowpipe.py)."""
    pts = np.atleast_2d(pts)
    try:
        inside = s.contains(pts, tol=1e-9)
    except LPError:
        inside = np.zeros(len(pts), dtype=bool)
    for j in np.flatnonzero(~inside):
        inside[j] = s.contains(pts[j], tol=1e-9)[0]
    return inside


def _chain(plant, X0: Box, K, k0, period, steps, options=None):
    """Reach sets at the period ends, feeding u = K x + k0 as a Star over the state's predicate."""
    X = X0.to_star()
    finals, pipes = [X], []
    for _ in range(steps):
        U = X.affine_map(K, k0)  # same predicate variables: shared with the state
        fp = flowpipe(plant, X, U, period, options, shared_predicate=True)
        pipes.append(fp)
        X = fp.final
        finals.append(X)
    return finals, pipes


def _check_chain(plant, X0, K, k0, period, steps, finals, pipes, n_traj, seed):
    rng = np.random.default_rng(seed)
    x0 = np.vstack([rng.uniform(X0.lb, X0.ub, size=(n_traj, X0.dim)), X0.lb, X0.ub])
    for x in x0:
        t, xs, _ = reference_closed_loop(plant, lambda s: K @ s + k0, x, period, steps, samples_per_period=5)
        for k in range(steps + 1):
            assert _contains(finals[k], xs[4 * k][None]).all(), f"period end {k} misses {x}"
        for k, fp in enumerate(pipes):
            for j in range(5):
                tt = t[4 * k + j] - k * period
                for i in fp.segment_at(tt):
                    assert _contains(fp.segments[i], xs[4 * k + j][None]).all()


def test_linear_acc_chain_with_feedback_is_sound_and_keeps_predicate():
    p = plants.get("acc_linear")
    X0 = Box([90, 32, 0, 10, 30, 0], [110, 32.2, 0, 11, 30.2, 0])
    K = np.array([[0.02, 0.2, 0.0, -0.02, -0.5, -0.1]])
    k0 = np.array([0.0])
    finals, pipes = _chain(p, X0, K, k0, 0.1, 8)
    assert finals[-1].nvars == finals[0].nvars  # exact linear steps add no variables
    _check_chain(p, X0, K, k0, 0.1, 8, finals, pipes, n_traj=6, seed=0)


def test_nonlinear_pendulum_chain_with_feedback_is_sound():
    p = plants.get("pendulum")
    X0 = Box([1.0, 0.0], [1.175, 0.2])
    K = np.array([[-0.8, -0.3]])
    k0 = np.array([0.4])
    finals, pipes = _chain(p, X0, K, k0, 0.05, 8, FlowpipeOptions(substeps=5, final_order=2))
    assert finals[-1].nvars <= finals[0].nvars + 8 * 2 * 2
    _check_chain(p, X0, K, k0, 0.05, 8, finals, pipes, n_traj=6, seed=1)


matrices = st.lists(st.floats(min_value=-2.0, max_value=2.0), min_size=4, max_size=4)


@settings(max_examples=12, deadline=None)
@given(
    matrices,
    st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=2, max_size=2),
    st.floats(min_value=0.1, max_value=1.5),
    st.integers(min_value=1, max_value=6),
)
def test_random_linear_systems_are_enclosed(a, b, period, substeps):
    A = np.array(a).reshape(2, 2)
    expr = [f"{float(A[i, 0])!r}*x1 + {float(A[i, 1])!r}*x2 + {float(b[i])!r}*u + 0.5" for i in range(2)]
    p = SymbolicPlant(["x1", "x2"], ["u"], expr)
    X, U = Box([-0.5, 0.2], [0.0, 0.6]), Box([-1.0], [1.0])
    lin = flowpipe(p, X, U, period, FlowpipeOptions(substeps=substeps))
    non = flowpipe(p, X, U, period, FlowpipeOptions(substeps=substeps, method="nonlinear"))
    rng = np.random.default_rng(0)
    z = np.vstack(
        [
            rng.uniform([-0.5, 0.2, -1.0], [0.0, 0.6, 1.0], size=(12, 3)),
            [[-0.5, 0.2, -1.0], [0.0, 0.6, 1.0], [-0.5, 0.6, 1.0], [0.0, 0.2, -1.0]],
        ]
    )
    times = np.linspace(0.0, period, 4 * substeps + 1)
    _, xs = S.reference_period(p, z[:, :2], z[:, 2:], None, period, samples=len(times))
    for fp in (lin, non):
        for k, t in enumerate(times):
            for i in fp.segment_at(t):
                assert _contains(fp.segments[i], xs[:, k]).all()
        assert _contains(fp.final, xs[:, -1]).all()
    np.testing.assert_allclose(
        np.array(lin.final.bounds()), np.array(non.final.bounds()), rtol=1e-7, atol=1e-9
    )
