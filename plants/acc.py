"""Adaptive cruise control: a lead car and an ego car, each a double integrator with drag mu*v^2 (nonlinear).

Source: NNV (Tran et al., CAV 2020) ACC case study and the ARCH-COMP AINNCS "ACC" benchmark.
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant

STATES = ("x_lead", "v_lead", "g_lead", "x_ego", "v_ego", "g_ego")


def acc(a_lead: float = -2.0, mu: float = 1e-4) -> SymbolicPlant:
    """The ACC car pair: x' = v, v' = g, g' = -2 g + 2 a - mu v^2 for both cars (a_lead fixed, a_ego the input).

    Args:
        a_lead: the lead car's commanded acceleration (m/s^2), -2 in the benchmark.
        mu: the drag coefficient (1/m), 1e-4 in the benchmark; 0 gives the linear model (`acc_linear`).

    States: x_lead, v_lead, g_lead, x_ego, v_ego, g_ego (positions m, speeds m/s, accelerations m/s^2).
    Input: a_ego. Source: ARCH-COMP AINNCS ACC / NNV CAV 2020 (see shared/benchmarks/closed_loop/README.md).
    """
    return SymbolicPlant(
        STATES,
        ["a_ego"],
        [
            "v_lead",
            "g_lead",
            "-2*g_lead + 2*a_lead - mu*v_lead**2",
            "v_ego",
            "g_ego",
            "-2*g_ego + 2*a_ego - mu*v_ego**2",
        ],
        parameters={"a_lead": a_lead, "mu": mu},
        name="acc",
    )


def example() -> dict:
    """A one-period problem: the benchmark's initial set, a_ego in [-1, 1], T = 0.1 s."""
    return {
        "state_lower": [90, 32, 0, 10, 30, 0],
        "state_upper": [110, 32.2, 0, 11, 30.2, 0],
        "input_lower": [-1.0],
        "input_upper": [1.0],
        "period": 0.1,
    }
