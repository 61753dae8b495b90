"""Set representations used by every reach routine: boxes, zonotopes, star sets and H-polytopes.

Each type lives in its own module and implements the common interface of `nncs.sets.base.Set`.
"""

from nncs.sets.box import Box
from nncs.sets.hpolytope import HPolytope
from nncs.sets.star import Star
from nncs.sets.zonotope import Zonotope

__all__ = ["Box", "Zonotope", "Star", "HPolytope"]
