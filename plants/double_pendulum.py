"""Double inverted pendulum with a torque at each joint (angles from the upward vertical).

Source: ARCH-COMP AINNCS "Double Pendulum" benchmark (m = L = 0.5, g = 1, no friction), equations as in the
shared benchmark README.
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant

_S = "sin(th1 - th2)"
_C = "cos(th1 - th2)"
_B = f"({_S}*th1_dot**2 + 8*T2 + 2*sin(th2) - {_C}*(4*T1 + 2*sin(th1) - {_S}*th2_dot**2/2))"


def double_pendulum() -> SymbolicPlant:
    """With s = sin(th1 - th2), c = cos(th1 - th2), B = s th1_dot^2 + 8 T2 + 2 sin(th2) - c (4 T1 + 2 sin(th1)
    - s th2_dot^2 / 2): th1'' = 4 T1 + 2 sin(th1) - s th2_dot^2 / 2 + c B / (2 (c^2/2 - 1)),
    th2'' = -B / (c^2/2 - 1).

    The benchmark's constants (m = L = 0.5, g = 1) are folded into the numbers, as in its published equations.

    States: th1, th2 (rad), th1_dot, th2_dot. Inputs: T1, T2 (torques).
    Source: ARCH-COMP AINNCS double pendulum (see shared/benchmarks/closed_loop/README.md).
    """
    return SymbolicPlant(
        ["th1", "th2", "th1_dot", "th2_dot"],
        ["T1", "T2"],
        [
            "th1_dot",
            "th2_dot",
            f"4*T1 + 2*sin(th1) - {_S}*th2_dot**2/2 + {_C}*{_B}/(2*({_C}**2/2 - 1))",
            f"-{_B}/({_C}**2/2 - 1)",
        ],
        name="double_pendulum",
    )


def example() -> dict:
    """A one-period problem: one part [1, 1.1]^4 of the benchmark's initial set [1, 1.3]^4 split 3 x 3 x 3 x 3,
    torques in [-1, 1], T = 0.05 s. (On the whole initial set the zonotope flowpipe's final rate widths are
    about 1.5 to 2 times the simulated spread: the reason the benchmark needs splitting or Taylor models.)"""
    return {
        "state_lower": [1.0, 1.0, 1.0, 1.0],
        "state_upper": [1.1, 1.1, 1.1, 1.1],
        "input_lower": [-1.0, -1.0],
        "input_upper": [1.0, 1.0],
        "period": 0.05,
    }
