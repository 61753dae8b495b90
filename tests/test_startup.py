"""Start-up cost: `import nncs`, `nncs --help` and `nncs list` load none of the heavy libraries.

Each check runs in a fresh interpreter (this test process has long imported jax and friends). Nothing here
asserts on time; `python -m benchmarks startup` prints the wall times.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("jax", "matplotlib", "sympy")


def _run(code: str) -> dict:
    """Run `code` in a fresh interpreter from the repository root; return the JSON it prints on its last line."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _loaded_after(statement: str) -> list[str]:
    code = (
        f"import json, sys\n{statement}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    return _run(code)


def test_import_nncs_loads_no_heavy_library():
    assert _loaded_after("import nncs") == []


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["list", "--quiet"], ["--version"], []])
def test_cli_help_and_list_load_no_heavy_library(argv):
    statement = (
        "import contextlib, io\n"
        "from nncs.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass"
    )
    assert _loaded_after(statement) == []


def test_lazy_names_resolve_as_before():
    code = (
        "import json, types\n"
        "import nncs\n"
        "from nncs import Star, verify\n"
        "from nncs.verify import Verdict\n"  # binds the module nncs.verify on the package: must stay the function
        "import nncs.verify as v\n"
        "import importlib\n"
        "out = {'verify_is_function': isinstance(nncs.verify, types.FunctionType) and nncs.verify is verify\n"
        "       and v is verify and nncs.verify.__module__ == 'nncs.verify',\n"
        "       'module': importlib.import_module('nncs.verify').Verdict is Verdict is nncs.Verdict,\n"
        "       'star': Star is nncs.sets.Star,\n"
        "       'all': all(hasattr(nncs, n) for n in nncs.__all__),\n"
        "       'dir': set(nncs.__all__) <= set(dir(nncs)),\n"
        "       'nn': isinstance(nncs.nn, types.ModuleType)}\n"
        "print(json.dumps(out))"
    )
    assert _run(code) == dict.fromkeys(["verify_is_function", "module", "star", "all", "dir", "nn"], True)


@pytest.mark.parametrize(
    "statement",
    [
        "import nncs\nfrom nncs._jax import jnp",  # the door every nncs module goes through
        "import jax\nimport nncs\nimport jax.numpy as jnp",  # jax loaded first: `import nncs` switches it, as before
    ],
)
def test_jax_is_float64(statement):
    code = f"import json\n{statement}\nprint(json.dumps(str(jnp.zeros(1).dtype)))"
    assert _run(code) == "float64"


def test_nncs_modules_reach_jax_only_through_nncs_jax():
    """Only nncs/_jax.py imports jax itself, so float64 is on before any nncs JAX computation."""
    offenders = []
    for path in sorted((ROOT / "nncs").rglob("*.py")):
        if path.name == "_jax.py" and path.parent.name == "nncs":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            )
            if any(n == "jax" or n.startswith("jax.") for n in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
