"""Closed-loop simulation: the controller chooses the input at every period start, the plant runs in between.

The one home of closed-loop trajectories, with two integrators:

- `rollout` (and `simulate_closed_loop`, its numpy front): a batched, jitted JAX rollout with the network in
  the loop (`ClosedLoop.control_jax`) and the plant integrated by fixed-step RK4 sub-steps
  (`nncs.dynamics.simulate.period_states_fn`), disturbances constant per trajectory. Falsification samples and
  climbs gradients on it, and the plots draw it: they show the trajectories the falsifier sees. Approximate
  (RK4 truncation error O(h^4) per sub-step).
- `reference_closed_loop`: the tight reference, scipy DOP853 per period (`reference_trajectory`) with the input
  fixed at the period start; discrete plants are stepped exactly. It confirms counterexamples.

Both sample a trajectory at the same times (`period_times`): t_0 = 0 and S equally spaced times per period.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nncs.dynamics.simulate import (
    as_batch,
    broadcast_batch,
    period_states_fn,
    period_times,
    reference_trajectory,
)
from nncs.dynamics.symbolic import SymbolicPlant
from nncs.loop.options import FALSIFY_SUBSTEPS, MAX_STEPS, MAX_SUBSTEPS
from nncs.loop.system import ClosedLoop

__all__ = ["rollout", "simulate_closed_loop", "reference_closed_loop"]


def _count(value, what: str, upper: int) -> int:
    """`value` as an int in [1, upper], else ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= upper:
        raise ValueError(f"{what} must be an integer in [1, {upper}], got {value!r}")
    return int(value)


def _substeps(plant: SymbolicPlant, substeps) -> int:
    """The sub-steps per period actually taken: `substeps` (validated) for continuous plants, 1 for discrete."""
    s = _count(substeps, "substeps", MAX_SUBSTEPS)
    return s if plant.is_continuous else 1


def rollout(system: ClosedLoop, steps: int, substeps: int = FALSIFY_SUBSTEPS) -> Callable:
    """The jitted JAX map (x0 (N, n), w (N, q)) -> states (N, steps*S+1, n) of the closed loop at `period_times`.

    Every period: u = control(x) (the network's JAX forward pass), then S RK4 sub-steps of the plant with u and w
    held (S = substeps; a discrete plant takes its one exact step, S = 1). Differentiable (falsify's gradients).
    Memoised on the system per (steps, S), so repeated runs (e.g. split parts) compile once per batch shape.

    Args:
        system: the closed loop; steps: control periods in [1, MAX_STEPS]; substeps: in [1, MAX_SUBSTEPS].
    Returns:
        The function (JAX arrays in and out). Approximate (RK4).
    Raises:
        ValueError for a bad steps or substeps.
    """
    steps = _count(steps, "rollout: steps", MAX_STEPS)
    S = _substeps(system.plant, substeps)
    return system.memo(("rollout", steps, S), lambda: _build_rollout(system, steps, S))


def _build_rollout(system: ClosedLoop, steps: int, S: int) -> Callable:
    from nncs._jax import jax, jnp

    period_states = jax.vmap(period_states_fn(system.plant, S), in_axes=(0, 0, 0, None))
    control = system.control_jax()
    T = system.period

    def run(x0, w):
        def period(x, _):
            xs = period_states(x, control(x), w, T)  # (N, S+1, n), xs[:, 0] = x
            return xs[:, -1, :], xs[:, 1:, :]

        _, chunks = jax.lax.scan(period, x0, None, length=steps)  # (steps, N, S, n)
        chunks = jnp.swapaxes(chunks, 0, 1).reshape(x0.shape[0], steps * S, x0.shape[1])
        return jnp.concatenate([x0[:, None, :], chunks], axis=1)

    return jax.jit(run)


def simulate_closed_loop(
    system: ClosedLoop,
    x0,
    steps: int,
    w=None,
    substeps: int = FALSIFY_SUBSTEPS,
    check_time: Callable[[], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Closed-loop trajectories of a batch in numpy: the one-period `rollout` applied period after period.

    Args:
        system: the closed loop.
        x0: initial states (N, n) or (n,).
        steps: control periods; substeps: RK4 sub-steps per period (continuous plants).
        w: constant disturbances (N, q) or (q,); None only for a plant without disturbances.
        check_time: called before every period; it raises to stop (e.g. at a time limit).
    Returns:
        (times, states): `period_times` (K,) and states (N, K, n) at those times. Approximate (RK4).
    Raises:
        ValueError for bad shapes, NaN entries, steps or substeps.
    """
    plant = system.plant
    steps = _count(steps, "simulate_closed_loop: steps", MAX_STEPS)
    S = _substeps(plant, substeps)
    x = as_batch(x0, plant.n_states, "x0")
    w = broadcast_batch(x.shape[0], as_batch(w, plant.n_disturbances, "w", x.shape[0]))[0]
    one = rollout(system, 1, S)
    pieces = [x[:, None, :]]
    for _ in range(steps):
        if check_time is not None:
            check_time()
        xs = np.asarray(one(x, w))
        pieces.append(xs[:, 1:, :])
        x = xs[:, -1, :]
    return period_times(system.period, steps, S), np.concatenate(pieces, axis=1)


def reference_closed_loop(
    plant: SymbolicPlant,
    controller: Callable,
    x0,
    period: float,
    steps: int,
    w=(),
    samples_per_period: int = 11,
    rtol: float = 1e-12,
    atol: float = 1e-12,
    check_time: Callable[[], None] | None = None,
):
    """One closed-loop trajectory from the reference integrator: u = controller(x(kT)) held over [kT, (k+1)T].

    Each period is integrated by `reference_trajectory` (DOP853, dense output, at the tolerances) from the
    state the previous period ended in; a discrete plant takes one exact step of its map per period.

    Args:
        plant: the plant; controller: numpy function of one state (n,) -> input (p,) (e.g. `ClosedLoop.control`).
        x0: the initial state (n,); w: the constant disturbance (q,).
        period: control period T; steps: periods; samples_per_period: S+1 samples per period incl. both ends
            (2 for a discrete plant).
        check_time: called before every period; it raises to stop (e.g. at a time limit).
    Returns:
        (times, states, inputs): times = `period_times(period, steps, samples_per_period - 1)` (1 sample
        per period for a discrete plant), states (K, n) at those times, inputs (steps, p). Accurate to about the
        tolerances: what confirms counterexamples.
    """
    x = np.asarray(x0, dtype=np.float64).reshape(plant.n_states)
    S = samples_per_period - 1 if plant.is_continuous else 1
    local = np.linspace(0.0, period, S + 1)
    states, inputs = [x[None]], []
    for _ in range(steps):
        if check_time is not None:
            check_time()
        u = np.asarray(controller(x), dtype=np.float64).reshape(plant.n_inputs)
        xs = reference_trajectory(plant, x, u, w, local, rtol=rtol, atol=atol)
        states.append(xs[1:])
        inputs.append(u)
        x = xs[-1]
    return (
        period_times(period, steps, S),
        np.concatenate(states),
        np.array(inputs).reshape(steps, plant.n_inputs),
    )
