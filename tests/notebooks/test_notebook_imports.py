"""The notebooks use the installed package through its public API only (no jupyter needed: the cells are parsed).

Each code cell of notebooks/NN_*.ipynb (IPython magics dropped) must not touch `sys.path`, import a private
module or name (a leading underscore), read or write an attribute `._something` (or `getattr(x, "_...")`), or
import from an nncs module a name that the module's `__all__` leaves out.
"""

import ast
import importlib
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def code_cells(path: Path) -> list[str]:
    """The source of each code cell, IPython magics and shell lines (`%...`, `!...`) blanked."""
    book = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in book["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
        cells.append("\n".join(lines))
    return cells


def _private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def problems(source: str) -> list[str]:
    """What in one cell's code reaches past the public API (an empty list when nothing)."""
    found = []
    if "sys.path" in source:
        found.append("edits or reads sys.path")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"imports private module {a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                found.append(f"relative import from {'.' * node.level}{module}")
            if _private(module):
                found.append(f"imports from private module {module}")
            found += [
                f"imports private name {a.name} from {module}" for a in node.names if a.name.startswith("_")
            ]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            found.append(f"accesses private attribute .{node.attr} (line {node.lineno})")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
        ):
            found.append(f"{node.func.id}(..., {node.args[1].value!r}) (line {node.lineno})")
    return found


def nncs_from_imports(source: str) -> list[tuple[str, str]]:
    """(module, name) of every `from nncs... import name` in one cell."""
    return [
        (node.module, a.name)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "nncs"
        for a in node.names
    ]


BAD_CELLS = [
    "import sys\nsys.path.insert(0, '..')",
    "import nncs._jax",
    "from nncs.loop import _private_helper",
    "from nncs._version import version",
    "x = verdict._cache",
    "getattr(obj, '_hidden')",
    "from . import sibling",
]


@pytest.mark.parametrize("source", BAD_CELLS)
def test_the_checker_catches(source):
    assert problems(source), f"not flagged: {source!r}"


def test_the_checker_passes_public_code():
    good = "import nncs\nfrom nncs import plot\nprint(nncs.Box([0], [1]).bounds(), verdict.status)\n"
    assert problems(good) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_uses_public_api_only(path):
    cells = code_cells(path)
    assert cells, f"{path.name} has no code cells"
    found = [f"cell {i}: {p}" for i, source in enumerate(cells) for p in problems(source)]
    assert not found, f"{path.name}: " + "; ".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_imports_only_exported_names(path):
    """A name imported from an nncs module is a submodule or in that module's `__all__` (when it has one)."""
    wrong = []
    for source in code_cells(path):
        for module_name, name in nncs_from_imports(source):
            module = importlib.import_module(module_name)
            exported = getattr(module, "__all__", None)
            is_submodule = hasattr(module, "__path__") and importlib.util.find_spec(f"{module_name}.{name}")
            if exported is not None and name not in exported and not is_submodule:
                wrong.append(f"{module_name}.{name}")
    assert not wrong, f"{path.name} imports names its modules do not export: {wrong}"
