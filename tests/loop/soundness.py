"""Shared check of the closed-loop tests: reference trajectories lie in the flowpipe sets of their times."""

from __future__ import annotations

import numpy as np

from nncs.loop import ReachResult
from nncs.loop.simulate import reference_closed_loop


def reference_traces(result: ReachResult, x0: np.ndarray, w: np.ndarray | None = None, samples: int = 21):
    """Reference closed-loop trajectories (network in the loop, scipy integrator) from each row of x0."""
    system = result.system
    traces = []
    for i, x in enumerate(x0):
        wi = () if w is None else w[i]
        t, xs, _ = reference_closed_loop(
            system.plant, system.control, x, system.period, result.steps, w=wi, samples_per_period=samples
        )
        traces.append(xs)
    return t, np.array(traces)


def assert_inside(
    result: ReachResult,
    times: np.ndarray,
    states: np.ndarray,
    rng,
    directions: int = 8,
    exact_every: int = 0,
    tol: float = 1e-7,
) -> int:
    """Assert every state (N, K, n) at times (K,) satisfies each covering segment's support-function bounds in
    the coordinate axes and random directions (necessary for membership); with exact_every = k, every k-th
    time is also checked with the exact LP membership test. Returns the number of checks made."""
    n = states.shape[2]
    D = np.vstack([np.eye(n), -np.eye(n), rng.normal(size=(directions, n))])
    segments = list(result.segments())
    checks = 0
    for k, t in enumerate(times):
        covering = [s for t0, t1, s in segments if t0 - 1e-12 <= t <= t1 + 1e-12]
        assert covering, f"no flowpipe segment covers t = {t}"
        pts = states[:, k, :]
        for s in covering:
            h = s.support_function(D)
            scale = 1.0 + np.abs(pts).max()
            excess = (pts @ D.T - h).max()
            assert excess <= tol * scale, f"state outside the segment at t = {t}: excess {excess}"
            checks += pts.shape[0]
            if exact_every and k % exact_every == 0:
                assert s.contains(pts, tol=tol).all(), f"state outside the segment at t = {t} (LP check)"
    return checks
