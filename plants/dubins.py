"""Dubins car: a planar vehicle at constant speed whose turn rate is the input.

Source: L. E. Dubins, "On curves of minimal length with a constraint on average curvature", Amer. J. Math. 1957.
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def dubins(speed: float = 1.0) -> SymbolicPlant:
    """x' = speed cos(theta), y' = speed sin(theta), theta' = omega.

    Args:
        speed: the constant forward speed (m/s).

    States: x, y (m), theta (rad). Input: omega (turn rate, rad/s).
    """
    return SymbolicPlant(
        ["x", "y", "theta"],
        ["omega"],
        ["speed*cos(theta)", "speed*sin(theta)", "omega"],
        parameters={"speed": speed},
        name="dubins",
    )


def example() -> dict:
    """A one-period problem: x, y in [0, 0.1], theta in [0.5, 0.6], omega in [-0.5, 0.5], T = 0.5 s."""
    return {
        "state_lower": [0.0, 0.0, 0.5],
        "state_upper": [0.1, 0.1, 0.6],
        "input_lower": [-0.5],
        "input_upper": [0.5],
        "period": 0.5,
    }
