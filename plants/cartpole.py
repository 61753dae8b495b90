"""Cart-pole balancing: a cart pushed by a force, a pole hinged on it (angle 0 = upright).

Source: ARCH-COMP AINNCS "CartPole" (Balancing) benchmark, from 2024 on.
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def cartpole() -> SymbolicPlant:
    """x1' = x2, x2' = 2 f, x3' = x4, x4' = (0.08 * 0.41 * (9.8 sin(x3) - 2 f cos(x3)) - 0.0021 x4) / 0.0105.

    The benchmark's constants are folded into the numbers, as in its published equations.

    States: x1 (cart position), x2 (cart speed), x3 (pole angle, rad), x4 (pole rate). Input: f (force).
    Source: ARCH-COMP AINNCS CartPole (see shared/benchmarks/closed_loop/README.md).
    """
    return SymbolicPlant(
        ["x1", "x2", "x3", "x4"],
        ["f"],
        ["x2", "2*f", "x4", "(0.08*0.41*(9.8*sin(x3) - 2*f*cos(x3)) - 0.0021*x4)/0.0105"],
        name="cartpole",
    )


def example() -> dict:
    """A one-period problem: the benchmark's initial set, |f| <= 1, T = 0.02 s."""
    return {
        "state_lower": [-0.1, -0.05, -0.1, -0.05],
        "state_upper": [0.1, 0.05, 0.1, 0.05],
        "input_lower": [-1.0],
        "input_upper": [1.0],
        "period": 0.02,
    }
