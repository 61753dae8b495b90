"""nncs: prove or refute safety of closed-loop systems with neural-network controllers.

The flat public surface: set types, and (as they land) networks, plants, flowpipes and the loop.
Importing nncs switches JAX to float64, which every sound computation in nncs relies on.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from nncs._version import __version__
from nncs.sets import Box, HPolytope, Star, Zonotope
from nncs import nn
from nncs.nn import Network, load_network, save_network
from nncs.dynamics.symbolic import SymbolicPlant
from nncs.dynamics.flowpipe import Flowpipe, FlowpipeOptions, flowpipe
from nncs.loop import ClosedLoop, Options, ReachResult, reach
from nncs.problem import Problem, load_problem
from nncs.verify import Verdict, verify
from nncs.vnnlib import load_vnnlib

__all__ = [
    "__version__", "Box", "Zonotope", "Star", "HPolytope",
    "nn", "Network", "load_network", "save_network",
    "SymbolicPlant", "flowpipe", "Flowpipe", "FlowpipeOptions",
    "ClosedLoop", "Options", "reach", "ReachResult", "Problem", "load_problem", "verify", "Verdict", "load_vnnlib",
]  # fmt: skip
