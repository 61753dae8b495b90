"""The plant library: one module per plant, each returning a symbolic model with its parameters.

`plants.get(name, **parameters)` builds a plant, `plants.names()` lists them, `plants.example(name)` gives a
representative one-period reachability problem (initial box, input box, period) for tests and benchmarks.
"""

from __future__ import annotations

import importlib
from typing import Any

from nncs.suggest import did_you_mean

# name -> (module, factory, example function)
_REGISTRY: dict[str, tuple[str, str, str]] = {
    "acc": ("nncs.plants.acc", "acc", "example"),
    "acc_linear": ("nncs.plants.acc_linear", "acc_linear", "example"),
    "tora": ("nncs.plants.tora", "tora", "example"),
    "pendulum": ("nncs.plants.pendulum", "pendulum", "example"),
    "unicycle": ("nncs.plants.unicycle", "unicycle", "example"),
    "double_integrator": ("nncs.plants.double_integrator", "double_integrator", "example"),
    "double_integrator_discrete": (
        "nncs.plants.double_integrator",
        "double_integrator_discrete",
        "example_discrete",
    ),
    "van_der_pol": ("nncs.plants.van_der_pol", "van_der_pol", "example"),
    "dubins": ("nncs.plants.dubins", "dubins", "example"),
    "docking": ("nncs.plants.docking", "docking", "example"),
    "double_pendulum": ("nncs.plants.double_pendulum", "double_pendulum", "example"),
    "cartpole": ("nncs.plants.cartpole", "cartpole", "example"),
    "nav": ("nncs.plants.nav", "nav", "example"),
    "quad": ("nncs.plants.quad", "quad", "example"),
}


def names() -> list[str]:
    """The names of the library's plants, sorted."""
    return sorted(_REGISTRY)


def _lookup(name: str) -> tuple[str, str, str]:
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown plant {name!r}{did_you_mean(str(name), names())}; known plants: {', '.join(names())}"
        )
    return _REGISTRY[name]


def get(name: str, **parameters: Any):
    """The plant `name` built with the given parameters (see each module's docstring); ValueError if unknown."""
    module, factory, _ = _lookup(name)
    fn = getattr(importlib.import_module(module), factory)
    try:
        return fn(**parameters)
    except TypeError as exc:
        raise ValueError(f"plant {name!r}: bad parameters {sorted(parameters)}: {exc}") from None


def parameter_names(name: str) -> list[str]:
    """The keyword parameters of plant `name`'s factory, in order (what `get(name, ...)` accepts)."""
    import inspect

    module, factory, _ = _lookup(name)
    fn = getattr(importlib.import_module(module), factory)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds]


def example(name: str) -> dict:
    """A one-period problem for plant `name`: {state_lower, state_upper, input_lower, input_upper, period}."""
    module, _, ex = _lookup(name)
    return getattr(importlib.import_module(module), ex)()


def example_joint_box(name: str) -> tuple:
    """The box of the joint vector z = [x; u; w] of plant `name`'s example: its state and input bounds and the
    declared disturbance bounds, as (lower, upper) arrays (what the interval and remainder tests sample)."""
    import numpy as np

    ex = example(name)
    dl, du = get(name).disturbance_box
    lower = np.concatenate([ex["state_lower"], ex["input_lower"], dl])
    upper = np.concatenate([ex["state_upper"], ex["input_upper"], du])
    return lower, upper


__all__ = ["get", "names", "parameter_names", "example", "example_joint_box"]
