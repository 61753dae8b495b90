"""TORA: translational oscillations by a rotational actuator (a cart on a spring moved by an eccentric mass).

Source: Jankovic, Fontaine, Kokotovic (1996); ARCH-COMP AINNCS "TORA" benchmark.
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def tora(epsilon: float = 0.1) -> SymbolicPlant:
    """TORA: x1' = x2, x2' = -x1 + epsilon sin(x3), x3' = x4, x4' = u.

    Args:
        epsilon: the coupling between the rotor and the cart, 0.1 in the benchmark.

    States: x1 (cart position), x2 (cart speed), x3 (rotor angle), x4 (rotor speed). Input: u (torque).
    Source: ARCH-COMP AINNCS TORA (see shared/benchmarks/closed_loop/README.md).
    """
    return SymbolicPlant(
        ["x1", "x2", "x3", "x4"],
        ["u"],
        ["x2", "-x1 + epsilon*sin(x3)", "x4", "u"],
        parameters={"epsilon": epsilon},
        name="tora",
    )


def example() -> dict:
    """A one-period problem: the benchmark's initial set, u in [-1, 1], T = 1 s."""
    return {
        "state_lower": [0.6, -0.7, -0.4, 0.5],
        "state_upper": [0.7, -0.6, -0.3, 0.6],
        "input_lower": [-1.0],
        "input_upper": [1.0],
        "period": 1.0,
    }
