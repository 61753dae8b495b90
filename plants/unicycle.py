"""Unicycle (car-like robot) with a bounded constant disturbance on the acceleration.

Source: ARCH-COMP AINNCS "Unicycle" benchmark (from Dutta et al., Sherlock).
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def unicycle(offset: float = 20.0, w_bound: float = 1e-4) -> SymbolicPlant:
    """x' = v cos(psi), y' = v sin(psi), psi' = u2 - offset, v' = u1 - offset + w, with w in [-w_bound, w_bound].

    Args:
        offset: the controller's output offset (20 in the benchmark: the network outputs u + 20).
        w_bound: bound on the constant disturbance w (1e-4 in the benchmark).

    States: x, y (m), psi (rad), v (m/s). Inputs: u1 (acceleration + offset), u2 (turn rate + offset).
    Source: ARCH-COMP AINNCS unicycle (see shared/benchmarks/closed_loop/README.md).
    """
    if not w_bound >= 0:
        raise ValueError(f"unicycle: parameter 'w_bound' must be >= 0, got {w_bound}")
    return SymbolicPlant(
        ["x", "y", "psi", "v"],
        ["u1", "u2"],
        ["v*cos(psi)", "v*sin(psi)", "u2 - offset", "u1 - offset + w"],
        parameters={"offset": offset},
        disturbances={"w": (-w_bound, w_bound)},
        name="unicycle",
    )


def example() -> dict:
    """A one-period problem: the benchmark's initial set, u in [19, 21]^2, T = 0.2 s."""
    return {
        "state_lower": [9.5, -4.5, 2.1, 1.5],
        "state_upper": [9.55, -4.45, 2.11, 1.51],
        "input_lower": [19.0, 19.0],
        "input_upper": [21.0, 21.0],
        "period": 0.2,
    }
