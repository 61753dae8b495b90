"""Plant dynamics: symbolic models compiled to JAX, interval arithmetic, simulation and flowpipes.

Imports nncs.sets only (never nncs.nn, nncs.loop or nncs.verify). `nncs.dynamics.simulate` is the simulation
module (its batched closed-loop function is `nncs.dynamics.simulate.simulate`).
"""

from nncs.dynamics.flowpipe import Flowpipe, FlowpipeOptions, flowpipe
from nncs.dynamics.interval import Interval
from nncs.dynamics.simulate import (
    reference_closed_loop,
    reference_period,
    reference_trajectory,
    rk4_period,
)
from nncs.dynamics.symbolic import SymbolicPlant

__all__ = [
    "SymbolicPlant",
    "flowpipe",
    "Flowpipe",
    "FlowpipeOptions",
    "Interval",
    "rk4_period",
    "reference_trajectory",
    "reference_period",
    "reference_closed_loop",
]
