"""Van der Pol oscillator with an additive control input on the velocity equation.

Source: B. van der Pol, "On relaxation-oscillations", Phil. Mag. 1926; controlled form x2' = ... + u.
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def van_der_pol(mu: float = 1.0) -> SymbolicPlant:
    """x1' = x2, x2' = mu (1 - x1^2) x2 - x1 + u.

    Args:
        mu: the damping parameter (1 by default).

    States: x1, x2. Input: u.
    """
    return SymbolicPlant(
        ["x1", "x2"], ["u"], ["x2", "mu*(1 - x1**2)*x2 - x1 + u"], parameters={"mu": mu}, name="van_der_pol"
    )


def example() -> dict:
    """A one-period problem: x in [1.25, 1.55] x [2.25, 2.35] (the classic Van der Pol box), u in [-0.5, 0.5],
    T = 0.2 s."""
    return {
        "state_lower": [1.25, 2.25],
        "state_upper": [1.55, 2.35],
        "input_lower": [-0.5],
        "input_upper": [0.5],
        "period": 0.2,
    }
