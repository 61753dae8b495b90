"""Double integrator x'' = u, in continuous time or its exact zero-order-hold discretisation.

Source: the textbook double integrator (e.g. Rao and Bernstein, "Naive control of the double integrator", 2001).
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def double_integrator(time: str = "continuous", dt: float = 1.0) -> SymbolicPlant:
    """x' = v, v' = u (continuous), or x+ = x + dt v + dt^2/2 u, v+ = v + dt u (discrete, exact ZOH of the same).

    Args:
        time: "continuous" or "discrete".
        dt: the sampling time of the discrete form (ignored when continuous).

    States: x (position), v (velocity). Input: u (acceleration).
    """
    if time == "discrete":
        return SymbolicPlant(
            ["x", "v"],
            ["u"],
            ["x + dt*v + dt**2/2*u", "v + dt*u"],
            parameters={"dt": dt},
            time="discrete",
            name="double_integrator_discrete",
        )
    return SymbolicPlant(["x", "v"], ["u"], ["v", "u"], time=time, name="double_integrator")


def double_integrator_discrete(dt: float = 1.0) -> SymbolicPlant:
    """The discrete double integrator with sampling time dt (see `double_integrator`)."""
    return double_integrator("discrete", dt)


def example() -> dict:
    """A one-period problem: x in [0.5, 0.6], v in [-0.1, 0.1], u in [-1, 1], T = 0.5 s."""
    return {
        "state_lower": [0.5, -0.1],
        "state_upper": [0.6, 0.1],
        "input_lower": [-1.0],
        "input_upper": [1.0],
        "period": 0.5,
    }


def example_discrete() -> dict:
    """A one-step problem for the discrete form (dt = 1): the same sets, period 1."""
    return {
        "state_lower": [0.5, -0.1],
        "state_upper": [0.6, 0.1],
        "input_lower": [-1.0],
        "input_upper": [1.0],
        "period": 1.0,
    }
