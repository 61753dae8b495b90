"""nncs: prove or refute safety of closed-loop systems with neural-network controllers.

The flat public surface: set types, and (as they land) networks, plants, flowpipes and the loop.
Importing nncs switches JAX to float64, which every sound computation in nncs relies on.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from nncs._version import __version__
from nncs.sets import Box, HPolytope, Star, Zonotope

__all__ = ["__version__", "Box", "Zonotope", "Star", "HPolytope"]
