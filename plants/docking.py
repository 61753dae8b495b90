"""2D spacecraft docking: Clohessy-Wiltshire relative motion in the target's orbital frame, thrust inputs.

Source: ARCH-COMP AINNCS "Docking" benchmark (Ravaioli et al., SafeRL spacecraft docking; m = 12 kg,
n = 0.001027 rad/s).
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def docking(n: float = 0.001027, m: float = 12.0) -> SymbolicPlant:
    """x'' = 2 n y_dot + 3 n^2 x + Fx / m, y'' = -2 n x_dot + Fy / m (affine).

    Args:
        n: the target's mean motion (rad/s), 0.001027 in the benchmark; specs may use it by name.
        m: the chaser's mass (kg), 12 in the benchmark.

    States: x, y (m, relative to the target), x_dot, y_dot (m/s). Inputs: Fx, Fy (N).
    Source: ARCH-COMP AINNCS docking (see shared/benchmarks/closed_loop/README.md).
    """
    if not m > 0:
        raise ValueError(f"docking: parameter 'm' must be positive, got {m}")
    return SymbolicPlant(
        ["x", "y", "x_dot", "y_dot"],
        ["Fx", "Fy"],
        ["x_dot", "y_dot", "2*n*y_dot + 3*n**2*x + Fx/m", "-2*n*x_dot + Fy/m"],
        parameters={"n": n, "m": m},
        name="docking",
    )


def example() -> dict:
    """A one-period problem: the benchmark's initial set, |F| <= 1 N, T = 1 s."""
    return {
        "state_lower": [70.0, 70.0, -0.28, -0.28],
        "state_upper": [106.0, 106.0, 0.28, 0.28],
        "input_lower": [-1.0, -1.0],
        "input_upper": [1.0, 1.0],
        "period": 1.0,
    }
