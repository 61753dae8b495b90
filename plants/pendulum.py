"""Single inverted pendulum with a torque input: theta'' = (g/L) sin(theta) + (u - c theta')/(m L^2).

Source: ARCH-COMP AINNCS "Single Pendulum" benchmark (m = L = 0.5, g = 1, no damping).
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def pendulum(m: float = 0.5, L: float = 0.5, g: float = 1.0, c: float = 0.0) -> SymbolicPlant:
    """The single pendulum: theta' = theta_dot, theta_dot' = g/L sin(theta) + (u - c theta_dot)/(m L^2).

    Args:
        m: mass (kg); L: length (m); g: gravity (m/s^2); c: viscous damping. Benchmark: 0.5, 0.5, 1, 0, which
            gives theta'' = 2 sin(theta) + 8 u.

    States: theta (rad, 0 = upright), theta_dot. Input: u (torque).
    Source: ARCH-COMP AINNCS single pendulum (see shared/benchmarks/closed_loop/README.md).
    """
    for name, v in (("m", m), ("L", L)):
        if v <= 0:
            raise ValueError(f"pendulum: parameter {name!r} must be positive, got {v}")
    return SymbolicPlant(
        ["theta", "theta_dot"],
        ["u"],
        ["theta_dot", "g/L*sin(theta) + (u - c*theta_dot)/(m*L**2)"],
        parameters={"m": m, "L": L, "g": g, "c": c},
        name="pendulum",
    )


def example() -> dict:
    """A one-period problem: the benchmark's initial set, u in [-0.5, 0.5], T = 0.05 s."""
    return {
        "state_lower": [1.0, 0.0],
        "state_upper": [1.175, 0.2],
        "input_lower": [-0.5],
        "input_upper": [0.5],
        "period": 0.05,
    }
