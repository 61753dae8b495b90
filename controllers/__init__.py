"""The project's own trained neural controllers (ONNX + JSON card) and the JAX code that trains them.

`controllers.load("acc")` gives the ACC network, `controllers.card("acc")` its card; `controllers.path("acc")` the file.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (recipe module with build(out_dir, steps, seed, log), file stem)
RECIPES: dict[str, tuple[str, str]] = {"acc": ("controllers.acc", "acc_controller")}


def names() -> list[str]:
    """The names of the bundled controllers, sorted."""
    return sorted(RECIPES)


def _stem(name: str) -> str:
    if name not in RECIPES:
        raise ValueError(f"unknown controller {name!r}; known controllers: {', '.join(names())}")
    return RECIPES[name][1]


def path(name: str) -> Path:
    """The ONNX file of controller `name`; ValueError if the name is unknown."""
    return HERE / f"{_stem(name)}.onnx"


def card(name: str) -> dict:
    """The JSON card of controller `name` (interface, training data, expert, seed, checks)."""
    return json.loads((HERE / f"{_stem(name)}.json").read_text())


def load(name: str):
    """The `nncs.nn.Network` of controller `name`, loaded from its ONNX file (exact)."""
    from nncs.nn import load_network

    return load_network(path(name))


__all__ = ["RECIPES", "names", "path", "card", "load"]
