"""nncs: prove or refute safety of closed-loop systems with neural-network controllers.

The flat public surface: set types, and (as they land) networks, plants, flowpipes and the loop.

The names are re-exported lazily (PEP 562): `import nncs` loads none of jax, sympy or matplotlib, and
`nncs.Star` or `from nncs import verify` imports the defining module on first use. JAX is switched to float64,
which every sound computation in nncs relies on, by `nncs._jax`, through which every nncs module reaches JAX;
if jax is already imported when nncs is, the switch happens at `import nncs`, as it always did.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

from nncs._version import __version__

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time these come from __getattr__ below
    from nncs import nn
    from nncs.dynamics.flowpipe import Flowpipe, FlowpipeOptions, flowpipe
    from nncs.dynamics.symbolic import SymbolicPlant
    from nncs.loop import ClosedLoop, Options, ReachResult, reach
    from nncs.nn import Network, load_network, save_network
    from nncs.problem import Problem, load_problem
    from nncs.sets import Box, HPolytope, Star, Zonotope
    from nncs.verify import Verdict, verify
    from nncs.vnnlib import load_vnnlib

__all__ = [
    "__version__", "Box", "Zonotope", "Star", "HPolytope",
    "nn", "Network", "load_network", "save_network",
    "SymbolicPlant", "flowpipe", "Flowpipe", "FlowpipeOptions",
    "ClosedLoop", "Options", "reach", "ReachResult", "Problem", "load_problem", "verify", "Verdict", "load_vnnlib",
]  # fmt: skip

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["Box", "HPolytope", "Star", "Zonotope"], "nncs.sets"),
    **dict.fromkeys(["Network", "load_network", "save_network"], "nncs.nn"),
    "SymbolicPlant": "nncs.dynamics.symbolic",
    **dict.fromkeys(["Flowpipe", "FlowpipeOptions", "flowpipe"], "nncs.dynamics.flowpipe"),
    **dict.fromkeys(["ClosedLoop", "Options", "ReachResult", "reach"], "nncs.loop"),
    **dict.fromkeys(["Problem", "load_problem"], "nncs.problem"),
    **dict.fromkeys(["Verdict", "verify"], "nncs.verify"),
    "load_vnnlib": "nncs.vnnlib",
}
"""Public name -> the module defining it (imported on first access)."""

_SUBMODULES = frozenset(["dynamics", "expressions", "loop", "nn", "problem", "sets", "spec", "vnnlib"])
"""Submodules that were attributes of nncs right after `import nncs` when it imported everything eagerly; they
still are (imported on first access), so `import nncs; nncs.sets.Box` keeps working."""


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)


class _Package(types.ModuleType):
    """The nncs package's module type: `nncs.verify` stays the function, as before.

    Once a submodule is imported, the import system binds it on its package (setattr(nncs, "verify", module));
    the eager __init__ rebound the name to the function right after. Here the binding of the module
    `nncs.verify` is turned into a binding of its function whenever it happens (`from nncs.verify import ...`
    anywhere). The module itself stays reachable as sys.modules["nncs.verify"] / importlib.import_module.
    """

    def __setattr__(self, name: str, value) -> None:
        if (
            name == "verify"
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{__name__}.verify"
        ):
            value = value.verify
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

if (
    "jax" in sys.modules
):  # jax is already loaded (cheap): switch it to float64 now, as `import nncs` always did
    importlib.import_module("nncs._jax")
