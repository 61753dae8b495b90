"""The examples of docs/api.md run as doctests (top to bottom, one namespace, from the repository root)."""

import doctest
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.md"


def test_api_examples_run():
    text = API.read_text()
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, "docs/api.md", str(API), 0)
    assert len(test.examples) >= 60, "docs/api.md lost its examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        runner.run(test)
        plt.close("all")
    finally:
        os.chdir(cwd)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docs/api.md examples failed (output above)"


@pytest.mark.parametrize("name", ["Box", "Zonotope", "Star", "HPolytope", "Network", "load_network", "save_network",
                                  "nn.reach", "SymbolicPlant", "flowpipe", "Flowpipe", "FlowpipeOptions",
                                  "ClosedLoop", "reach", "ReachResult", "Options", "load_problem", "Problem",
                                  "verify", "Verdict"])
def test_every_public_name_is_documented(name):
    assert f"`nncs.{name}" in API.read_text(), f"nncs.{name} has no section in docs/api.md"
