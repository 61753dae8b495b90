"""Navigation of a point robot with speed and heading (a unicycle driven by acceleration and turn rate).

Source: ARCH-COMP AINNCS "NAV" benchmark, from 2024 on.
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def nav() -> SymbolicPlant:
    """x1' = x3 cos(x4), x2' = x3 sin(x4), x3' = u1, x4' = u2.

    States: x1, x2 (position), x3 (speed), x4 (heading, rad). Inputs: u1 (acceleration), u2 (turn rate).
    Source: ARCH-COMP AINNCS NAV (see shared/benchmarks/closed_loop/README.md).
    """
    return SymbolicPlant(
        ["x1", "x2", "x3", "x4"],
        ["u1", "u2"],
        ["x3*cos(x4)", "x3*sin(x4)", "u1", "u2"],
        name="nav",
    )


def example() -> dict:
    """A one-period problem: the benchmark's initial set, |u_i| <= 1, T = 0.2 s."""
    return {
        "state_lower": [2.9, 2.9, 0.0, 0.0],
        "state_upper": [3.1, 3.1, 0.0, 0.0],
        "input_lower": [-1.0, -1.0],
        "input_upper": [1.0, 1.0],
        "period": 0.2,
    }
