"""Linear adaptive cruise control: the ACC car pair without drag (mu = 0), an affine plant.

Source: NNV (Tran et al., CAV 2020) linear ACC case study.
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant
from nncs.plants.acc import STATES


def acc_linear(a_lead: float = -2.0) -> SymbolicPlant:
    """The linear ACC: x' = v, v' = g, g' = -2 g + 2 a for both cars (a_lead fixed, a_ego the input).

    Args:
        a_lead: the lead car's commanded acceleration (m/s^2), -2 in the benchmark.

    States and input as in `plants.acc.acc`. Source: NNV CAV 2020, linear ACC model.
    """
    return SymbolicPlant(
        STATES,
        ["a_ego"],
        ["v_lead", "g_lead", "-2*g_lead + 2*a_lead", "v_ego", "g_ego", "-2*g_ego + 2*a_ego"],
        parameters={"a_lead": a_lead},
        name="acc_linear",
    )


def example() -> dict:
    """A one-period problem: the ACC benchmark's initial set, a_ego in [-1, 1], T = 0.1 s."""
    return {
        "state_lower": [90, 32, 0, 10, 30, 0],
        "state_upper": [110, 32.2, 0, 11, 30.2, 0],
        "input_lower": [-1.0],
        "input_upper": [1.0],
        "period": 0.1,
    }
