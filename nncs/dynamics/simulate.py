"""Open-loop simulation of symbolic plants: batched fixed-step RK4 in JAX, and a tight adaptive scipy reference.

Inputs are held constant over each control period (zero-order hold); disturbances are constant per trajectory.
These are the plant-level pieces; the closed loop (a network choosing the input every period) is simulated by
`nncs.loop.simulate`, which builds on `period_states_fn` and `reference_trajectory`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from nncs.dynamics.symbolic import SymbolicPlant

__all__ = [
    "as_batch",
    "broadcast_batch",
    "rk4_step",
    "period_states_fn",
    "rk4_period",
    "period_times",
    "simulate",
    "reference_trajectory",
    "reference_period",
]


def as_batch(a, n: int, what: str, batch: int | None = None) -> np.ndarray:
    """`a` as a finite float64 batch (N, n): a row (n,) becomes (1, n); None becomes (batch or 1, 0).

    Raises:
        ValueError naming `what` for a wrong shape or a NaN / infinite entry.
    """
    arr = np.asarray(a if a is not None else np.zeros((batch or 1, 0)), dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(f"{what}: expected shape (N, {n}) or ({n},), got {np.shape(a)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: contains NaN or infinite values")
    return arr


def broadcast_batch(batch: int, *arrays: np.ndarray) -> list[np.ndarray]:
    """The arrays with their first axis repeated to `batch` rows (each has `batch` rows or one).

    Raises:
        ValueError when a first axis is neither `batch` nor 1.
    """
    out = []
    for a in arrays:
        if a.shape[0] == batch:
            out.append(a)
        elif a.shape[0] == 1:
            out.append(np.repeat(a, batch, axis=0))
        else:
            raise ValueError(f"batch sizes differ: {a.shape[0]} vs {batch}")
    return out


def rk4_step(f: Callable, x, u, w, h: float):
    """One classical Runge-Kutta step of x' = f(x, u, w) with step h (u, w held); works on numpy or JAX arrays."""
    k1 = f(x, u, w)
    k2 = f(x + 0.5 * h * k1, u, w)
    k3 = f(x + 0.5 * h * k2, u, w)
    k4 = f(x + h * k3, u, w)
    return x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def period_states_fn(plant: SymbolicPlant, substeps: int) -> Callable:
    """The traceable JAX map (x (n,), u (p,), w (q,), period) -> states (S+1, n) over one period of one trajectory.

    Continuous plants: `substeps` fixed RK4 steps of `period / substeps` (S = substeps; approximate, O(h^4)).
    Discrete plants: [x, f(x, u, w)] (S = 1; exact). Not jitted: `rk4_period` and the closed-loop rollout
    (`nncs.loop.simulate.rollout`) vmap and jit it.
    """
    from nncs._jax import jax, jnp

    f = plant.f

    if plant.is_continuous:

        def one(x, u, w, period):
            h = period / substeps

            def step(x, _):
                xn = rk4_step(f, x, u, w, h)
                return xn, xn

            _, xs = jax.lax.scan(step, x, None, length=substeps)
            return jnp.concatenate([x[None, :], xs], axis=0)
    else:

        def one(x, u, w, period):
            return jnp.stack([x, f(x, u, w)])

    return one


def _period_fn(plant: SymbolicPlant, substeps: int) -> Callable:
    """The jitted, vmapped `period_states_fn` (x, u, w batches, period) -> states (N, S+1, n) (cached)."""
    from nncs._jax import jax

    return plant.memo(
        ("rk4_period", substeps),
        lambda: jax.jit(jax.vmap(period_states_fn(plant, substeps), in_axes=(0, 0, 0, None))),
    )


def rk4_period(plant: SymbolicPlant, x0, u=None, w=None, period: float = 1.0, substeps: int = 10):
    """States over one control period for a batch: fixed-step RK4 (continuous) or one step of f (discrete).

    Args:
        plant: the plant.
        x0: initial states (N, n) or (n,).
        u: inputs held over the period (N, p) or (p,); w: constant disturbances (N, q) or (q,).
        period: the period length T; substeps: RK4 steps per period (continuous plants only).

    Returns:
        (times, states): times (S+1,) from 0 to T, states (N, S+1, n); S = substeps (1 for discrete plants).
        Approximate (RK4 truncation error O(h^4)); use `reference_period` where accuracy matters.
    """
    x0 = as_batch(x0, plant.n_states, "x0")
    u = as_batch(u, plant.n_inputs, "u", x0.shape[0])
    w = as_batch(w, plant.n_disturbances, "w", x0.shape[0])
    batch = max(x0.shape[0], u.shape[0], w.shape[0])
    x0, u, w = broadcast_batch(batch, x0, u, w)
    steps = substeps if plant.is_continuous else 1
    states = np.asarray(_period_fn(plant, steps)(x0, u, w, float(period)))
    return np.linspace(0.0, float(period), steps + 1), states


def period_times(period: float, steps: int, substeps: int) -> np.ndarray:
    """The sample times of a trajectory over `steps` periods: 0, then `substeps` equally spaced times per period.

    Args:
        period: the control period T; steps: the number of periods; substeps: samples per period (S >= 1).
    Returns:
        times (steps*S+1,): t = k*T + j*T/S for k < steps, 0 < j <= S (where `simulate` and the closed-loop
        simulators of `nncs.loop.simulate` place their samples).
    """
    local = np.linspace(0.0, float(period), int(substeps) + 1)
    return np.concatenate([np.zeros(1)] + [k * period + local[1:] for k in range(int(steps))])


def simulate(
    plant: SymbolicPlant,
    x0,
    period: float,
    steps: int,
    controls=None,
    controller: Callable | None = None,
    w=None,
    substeps: int = 10,
    check_time: Callable[[], None] | None = None,
):
    """Batched simulation over `steps` control periods with zero-order-hold inputs (RK4 in JAX).

    The inputs come from a table (`controls`) or from any function of the states (`controller`, called with
    numpy arrays). For a `ClosedLoop` use `nncs.loop.simulate.simulate_closed_loop`: the JAX network in the
    loop, the same trajectories the falsifier searches over.

    Args:
        plant: the plant.
        x0: initial states (N, n) or (n,).
        period: control period T; steps: number of periods.
        controls: inputs per period (N, steps, p) (or (steps, p) shared by the batch), or
        controller: a function of the batch of states (N, n) -> inputs (N, p) applied at every period start
            (numpy or JAX; called once per period).
        w: constant disturbances (N, q) or (q,).
        substeps: RK4 steps per period.
        check_time: called before every period; it raises to stop the simulation (e.g. at a time limit).

    Returns:
        (times, states): times (steps*S+1,), states (N, steps*S+1, n) at those times. Approximate (RK4).
    """
    x = as_batch(x0, plant.n_states, "x0")
    batch = x.shape[0]
    w = broadcast_batch(batch, as_batch(w, plant.n_disturbances, "w", batch))[0]
    if (controls is None) == (controller is None) and plant.n_inputs > 0:
        raise ValueError("simulate: pass exactly one of controls or controller")
    if controls is not None:
        c = np.asarray(controls, dtype=np.float64)
        if c.ndim == 2:
            c = np.broadcast_to(c[None], (batch,) + c.shape)
        if c.shape != (batch, steps, plant.n_inputs):
            raise ValueError(f"controls: expected shape ({batch}, {steps}, {plant.n_inputs}), got {c.shape}")
    pieces = [x[:, None, :]]
    for k in range(steps):
        if check_time is not None:
            check_time()
        if controls is not None:
            u = c[:, k, :]
        elif controller is not None:
            u = as_batch(np.asarray(controller(x)), plant.n_inputs, "controller output", batch)
        else:
            u = np.zeros((batch, 0))
        _, xs = rk4_period(plant, x, u, w, period, substeps)
        pieces.append(xs[:, 1:, :])
        x = xs[:, -1, :]
    return period_times(period, steps, substeps if plant.is_continuous else 1), np.concatenate(pieces, axis=1)


def reference_trajectory(
    plant: SymbolicPlant,
    x0,
    u=(),
    w=(),
    t_eval=None,
    period: float | None = None,
    rtol: float = 1e-12,
    atol: float = 1e-12,
) -> np.ndarray:
    """One trajectory with constant input u and disturbance w, accurate to about the tolerances.

    Continuous plants: scipy `solve_ivp` (DOP853, dense output) evaluated at `t_eval` (within [0, max t_eval]).
    Discrete plants: x at t_eval = [0, period] is [x0, f(x0, u, w)] (one step per period).

    Returns:
        states (len(t_eval), n).
    """
    x0 = np.asarray(x0, dtype=np.float64).reshape(plant.n_states)
    u = np.asarray(u, dtype=np.float64).reshape(plant.n_inputs)
    w = np.asarray(w, dtype=np.float64).reshape(plant.n_disturbances)
    f = plant.f_numpy
    if not plant.is_continuous:
        if t_eval is not None and len(t_eval) != 2:
            raise ValueError("reference_trajectory: a discrete plant is evaluated at [0, period] only")
        return np.stack([x0, f(x0, u, w)])
    t_eval = np.asarray(t_eval, dtype=np.float64)
    t_end = float(t_eval.max())
    if t_end == 0.0:
        return np.repeat(x0[None], len(t_eval), axis=0)
    sol = solve_ivp(
        lambda t, x: f(x, u, w), (0.0, t_end), x0, method="DOP853", rtol=rtol, atol=atol, dense_output=True
    )
    if not sol.success:
        raise RuntimeError(f"reference integrator failed: {sol.message}")
    return sol.sol(t_eval).T


def reference_period(
    plant: SymbolicPlant,
    x0,
    u=None,
    w=None,
    period: float = 1.0,
    samples: int = 101,
    rtol: float = 1e-12,
    atol: float = 1e-12,
):
    """`reference_trajectory` for a batch over one period, at `samples` equally spaced times (2 if discrete).

    Returns:
        (times, states) with times (S,), states (N, S, n).
    """
    x0 = as_batch(x0, plant.n_states, "x0")
    u = as_batch(u, plant.n_inputs, "u", x0.shape[0])
    w = as_batch(w, plant.n_disturbances, "w", x0.shape[0])
    batch = max(x0.shape[0], u.shape[0], w.shape[0])
    x0, u, w = broadcast_batch(batch, x0, u, w)
    times = np.linspace(0.0, period, samples if plant.is_continuous else 2)
    out = np.stack(
        [reference_trajectory(plant, x0[i], u[i], w[i], times, rtol=rtol, atol=atol) for i in range(batch)]
    )
    return times, out
