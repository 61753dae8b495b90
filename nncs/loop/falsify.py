"""Falsification of closed loops: batched simulation of sampled initial states, then gradient ascent in JAX.

Both stages run the closed-loop rollout of `nncs.loop.simulate`; a counterexample is returned only after its
reference integrator (`reference_closed_loop`: scipy, tight tolerances) confirms it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nncs.dynamics.simulate import period_times
from nncs.loop.options import FALSIFY_SUBSTEPS, Options, check_run_limits, time_check
from nncs.loop.simulate import reference_closed_loop, rollout, simulate_closed_loop
from nncs.loop.system import ClosedLoop
from nncs.sets import Box

__all__ = ["Counterexample", "falsify", "trace_violation", "batch_violation"]

CONFIRM_MARGIN = 1e-9
"""A re-simulated trace counts as a violation only when it violates a spec by more than this."""


@dataclass(frozen=True)
class Counterexample:
    """A confirmed violation: the initial state, the constant disturbance and the re-simulated trajectory.

    Attributes:
        x0: initial state (n,).
        w: constant disturbance (q,).
        times, states, inputs: the reference trajectory (times (K,), states (K, n)) and inputs per period.
        spec_index: which spec it violates; violation: by how much (> 0) on the reference trajectory.
        condition: the violated condition as written (for avoid: the region entered).
        time: when (s) the trajectory violates it most.
    """

    x0: np.ndarray
    w: np.ndarray
    times: np.ndarray
    states: np.ndarray
    inputs: np.ndarray
    spec_index: int
    violation: float
    condition: str = ""
    time: float = float("nan")

    def describe(self) -> str:
        """One line, e.g. "`theta <= 1` violated by 0.0083 at t = 0.65 s" (or the spec index when the
        condition is unknown)."""
        what = f"`{self.condition}`" if self.condition else f"spec {self.spec_index}"
        when = f" at t = {self.time:.4g} s" if np.isfinite(self.time) else ""
        return f"{what} violated by {self.violation:.3g}{when}"

    def to_dict(self) -> dict:
        """The JSON form of the report: {"x0", "w", "trajectory": {"t", "x", "u"}, "spec", "violation",
        "condition", "time"}."""
        return {
            "x0": self.x0.tolist(),
            "w": self.w.tolist(),
            "trajectory": {"t": self.times.tolist(), "x": self.states.tolist(), "u": self.inputs.tolist()},
            "spec": self.spec_index,
            "violation": self.violation,
            "condition": self.condition,
            "time": self.time if np.isfinite(self.time) else None,
        }


def _spec_violations(specs: Sequence, times: np.ndarray, states: np.ndarray, horizon: float) -> np.ndarray:
    """(n_specs, N): per spec and trajectory (states (N, K, n) at times (K,)), the largest violation over the
    spec's times (-inf where none of the times is in its window)."""
    out = np.full((len(specs), states.shape[0]), -np.inf)
    for i, spec in enumerate(specs):
        mask = spec.time_mask(times, horizon)
        if np.any(mask):
            picked = states[:, mask, :]
            out[i] = spec.violation(picked.reshape(-1, picked.shape[2])).reshape(picked.shape[:2]).max(axis=1)
    return out


def trace_violation(
    specs: Sequence, times: np.ndarray, states: np.ndarray, horizon: float
) -> tuple[int, float]:
    """Return (index of the most violated spec, its violation) for one trajectory (states (K, n) at times (K,)).

    A positive violation means the trajectory breaks that spec; uses each spec's `violation` measure.
    """
    per_spec = _spec_violations(specs, times, states[None], horizon)[:, 0]
    if not np.any(np.isfinite(per_spec)):
        return -1, -np.inf
    i = int(np.argmax(per_spec))
    return i, float(per_spec[i])


def batch_violation(specs: Sequence, times: np.ndarray, states: np.ndarray, horizon: float) -> np.ndarray:
    """Per trajectory (states (N, K, n) at times (K,)), the largest violation over specs and their windows
    (positive: violated; -inf where no spec constrains any of the times)."""
    return _spec_violations(specs, times, states, horizon).max(axis=0, initial=-np.inf)


def _candidates(box: Box, count: int, rng: np.random.Generator) -> np.ndarray:
    """Corners (all of them for up to 10 varying dimensions, else random ones), the centre, and uniform samples."""
    varying = np.flatnonzero(box.ub > box.lb)
    pts = [box.center[None, :]]
    if varying.size == 0:
        bits = np.zeros((1, 0), dtype=bool)
    elif varying.size <= 10:
        bits = np.array(list(itertools.product([0, 1], repeat=varying.size)), dtype=bool)
    else:
        bits = rng.random((min(count, 1024), varying.size)) < 0.5
    corners = np.repeat(box.lb[None, :], bits.shape[0], axis=0)
    corners[:, varying] = np.where(bits, box.ub[varying], box.lb[varying])
    pts.append(corners)
    pts.append(box.sample(count, rng))
    return np.vstack(pts)


def _objective_fn(specs, times: np.ndarray, horizon: float):
    """A JAX function states (N, K, n) -> (N,) of the largest violation over specs and masked times."""
    from nncs._jax import jnp

    masks = [jnp.asarray(spec.time_mask(times, horizon)) for spec in specs]

    def objective(states):
        values = []
        for spec, mask in zip(specs, masks):
            v = spec.violation(states)  # (N, K): the spec's own measure, on JAX arrays
            values.append(jnp.max(jnp.where(mask[None, :], v, -jnp.inf), axis=1))
        return jnp.max(jnp.stack(values, axis=0), axis=0)

    return objective


def _gradient_fn(system: ClosedLoop, run, specs, times: np.ndarray, horizon: float):
    """(objective, jitted gradient of the summed objective w.r.t. the initial states, taking (x0, w)).

    Cached on the system by the specs' contents and the time grid, so repeated falsification compiles once.
    """
    from nncs._jax import jax, jnp

    key = (
        "gradient",
        times.tobytes(),
        float(horizon),
        tuple(spec.cache_key() for spec in specs),
    )

    def build():
        objective = _objective_fn(specs, times, horizon)
        return objective, jax.jit(jax.grad(lambda xb, ws: jnp.sum(objective(run(xb, ws)))))

    return system.memo(key, build)


def falsify(
    system: ClosedLoop,
    initial_set: Box,
    steps: int,
    specs: Sequence,
    options: Options | None = None,
    substeps: int = FALSIFY_SUBSTEPS,
    gradient: bool = True,
    *,
    deadline: float | None = None,
) -> Counterexample | None:
    """Search for a trajectory from `initial_set` that violates a spec; return it only if re-simulation confirms.

    Samples (corners, centre, uniform) are simulated in one batch (`simulate_closed_loop`: RK4 in JAX with the
    network in the loop);
    then (when `gradient`) the most promising ones are pushed by projected gradient ascent on the violation
    (`options.falsify_steps` iterations). Candidates are
    re-simulated with the reference integrator; only a confirmed violation is returned (else None).

    Args:
        deadline: a `time.perf_counter()` value; None: `options.timeout` seconds from now (or no limit). Checked
            per simulated period, per gradient iteration and per confirmation.
    Raises:
        ValueError when the batch of trajectories would not fit (see `check_run_limits`) or substeps is not
        in [1, MAX_SUBSTEPS]; TimeLimitReached (a RuntimeError) at the time limit (falsification finds, it never
        proves: nothing is lost).
    """
    from nncs._jax import jnp
    from nncs.loop.options import MAX_SUBSTEPS

    opts = options or Options()
    if not specs:
        return None
    if (
        isinstance(substeps, bool)
        or not isinstance(substeps, (int, np.integer))
        or not 1 <= substeps <= MAX_SUBSTEPS
    ):
        raise ValueError(f"falsify: substeps must be an integer in [1, {MAX_SUBSTEPS}], got {substeps!r}")
    check_run_limits(
        opts,
        system.plant.n_states,
        system.period,
        int(steps),
        system.plant.is_continuous,
        falsify=True,
        falsify_substeps=int(substeps),
    )
    if deadline is None and opts.timeout is not None:
        import time

        deadline = time.perf_counter() + opts.timeout
    check = time_check(deadline, opts.timeout)
    rng = np.random.default_rng(opts.seed)
    plant = system.plant
    horizon = steps * system.period
    S = substeps if plant.is_continuous else 1
    times = period_times(system.period, steps, S)
    w_box = Box(*plant.disturbance_bounds) if plant.n_disturbances else None
    x0 = _candidates(initial_set, opts.falsify_samples, rng)
    w = w_box.sample(x0.shape[0], rng) if w_box else np.zeros((x0.shape[0], 0))
    # the sampling stage steps the one-period rollout (the clock is checked every period)
    _, states = simulate_closed_loop(system, x0, steps, w=w, substeps=S, check_time=check)
    values = batch_violation(specs, times, states, horizon)
    order = np.argsort(-values)
    tried = set()

    def confirm(i_x0: np.ndarray, i_w: np.ndarray) -> Counterexample | None:
        key = tuple(np.round(i_x0, 12)) + tuple(np.round(i_w, 12))
        if key in tried:
            return None
        tried.add(key)
        t, xs, us = reference_closed_loop(
            plant,
            system.control,
            i_x0,
            system.period,
            steps,
            w=i_w,
            samples_per_period=S + 1,
            check_time=check,
        )
        idx, v = trace_violation(specs, t, xs, horizon)
        if v > CONFIRM_MARGIN:
            worst = specs[idx].worst_violation(t, xs, horizon)
            return Counterexample(i_x0.copy(), i_w.copy(), t, xs, us, idx, v, worst.condition, worst.time)
        return None

    for i in order[:3]:
        if values[i] > 0 and (cex := confirm(x0[i], w[i])) is not None:
            return cex
    if not gradient or opts.falsify_steps == 0:
        return None
    run = rollout(system, steps, S)
    objective, grad = _gradient_fn(system, run, specs, times, horizon)
    starts = order[: min(8, len(order))]
    x = jnp.asarray(x0[starts])
    ws = jnp.asarray(w[starts])
    lo, hi = jnp.asarray(initial_set.lb), jnp.asarray(initial_set.ub)
    scale = jnp.maximum(hi - lo, 1e-12)
    step = 0.05
    for _ in range(opts.falsify_steps):
        if check is not None:
            check()
        g = np.asarray(grad(x, ws))
        g = np.nan_to_num(g)
        norm = np.maximum(np.abs(g * np.asarray(scale)).max(axis=1, keepdims=True), 1e-300)
        x = jnp.clip(
            x + step * scale * (g * np.asarray(scale)) / norm, lo, hi
        )  # a step in box-normalised units
    values = np.asarray(objective(run(x, ws)))
    for i in np.argsort(-values)[:3]:
        if values[i] > 0 and (cex := confirm(np.asarray(x[i]), np.asarray(ws[i]))) is not None:
            return cex
    return None
