"""Plant dynamics: symbolic models compiled to JAX, interval arithmetic, simulation and flowpipes.

Imports nncs.sets only (never nncs.nn, nncs.loop or nncs.verify). The modules `nncs.dynamics.flowpipe` and
`nncs.dynamics.simulate` keep their names (their functions `flowpipe` and `simulate` are not re-exported here,
so they do not shadow the modules); `nncs.flowpipe` is the function. Closed-loop simulation (the network in the
loop) is `nncs.loop.simulate`.
"""

from nncs.dynamics.flowpipe import Flowpipe, FlowpipeOptions
from nncs.dynamics.interval import Interval
from nncs.dynamics.simulate import reference_period, reference_trajectory, rk4_period
from nncs.dynamics.symbolic import SymbolicPlant

__all__ = [
    "SymbolicPlant",
    "Flowpipe",
    "FlowpipeOptions",
    "Interval",
    "rk4_period",
    "reference_trajectory",
    "reference_period",
]
