"""The examples of docs/api.md run as doctests (top to bottom, one namespace, from the repository root)."""

import doctest
import os
import re
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
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} docs/api.md examples failed (output above)"
    )


@pytest.mark.parametrize(
    "name",
    [
        "Box",
        "Zonotope",
        "Star",
        "HPolytope",
        "Network",
        "load_network",
        "save_network",
        "nn.reach",
        "SymbolicPlant",
        "flowpipe",
        "Flowpipe",
        "FlowpipeOptions",
        "ClosedLoop",
        "reach",
        "ReachResult",
        "Options",
        "load_problem",
        "Problem",
        "verify",
        "Verdict",
    ],
)
def test_every_public_name_is_documented(name):
    assert f"`nncs.{name}" in API.read_text(), f"nncs.{name} has no section in docs/api.md"


def _blocks(text: str, lang: str) -> list[str]:
    import re

    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_readme_python_blocks_run(monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blocks = _blocks((ROOT / "README.md").read_text(), "python")
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)
    for code in blocks:
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)
        # a `print(...)  # shown` line: what it prints is what the comment shows
        shown = re.findall(r"^print\(.*\)  # (.+)$", code, flags=re.M)
        printed = capsys.readouterr().out.splitlines()
        if shown:
            assert printed[-len(shown) :] == shown, f"README shows {shown}, the snippet prints {printed}"
    plt.close("all")
    import numpy as np

    # the last block is the Sets example: its comment states the exact bounds
    np.testing.assert_allclose(namespace["lo"], [0, -1], atol=1e-6)
    np.testing.assert_allclose(namespace["hi"], [2, 1], atol=1e-6)


def test_readme_problem_file_parses():
    import tomllib

    from nncs.problem import parse_problem

    (toml,) = _blocks((ROOT / "README.md").read_text(), "toml")
    problem = parse_problem(tomllib.loads(toml), "README.md", base=ROOT / "case_studies")
    assert problem.name == "acc" and problem.steps == 50
    assert problem.system.plant.state_names == ("x_lead", "v_lead", "g_lead", "x_ego", "v_ego", "g_ego")
    assert problem.specs[0].kind == "always"


def test_readme_error_example_is_real(tmp_path, capsys):
    from nncs.cli import main

    text = (ROOT / "case_studies" / "acc.toml").read_text().replace("steps = 50", "")
    text = text.replace(
        'network = "../controllers/acc_controller.onnx"',
        f'network = "{(ROOT / "controllers" / "acc_controller.onnx").as_posix()}"',
    )
    bad = tmp_path / "acc.toml"
    bad.write_text(text)
    assert main(["verify", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "missing key 'steps'" in err and "horizon" in err
    print(err)


ARCHITECTURE = ROOT / "docs" / "architecture.md"


def test_architecture_page_names_only_paths_that_exist():
    text = ARCHITECTURE.read_text()
    root = ARCHITECTURE.parents[1]
    named = set(re.findall(r"`((?:nncs|plants|controllers|case_studies|tests|docs)/[\w/.]*?)`", text))
    named |= set(re.findall(r"\b((?:nncs|tests)/[\w/]+\.py)\b", text))
    concrete = {p for p in named if "<" not in p}
    assert len(concrete) > 20
    missing = sorted(p for p in concrete if not (root / p).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_architecture_page_names_every_module():
    text = ARCHITECTURE.read_text()
    root = ARCHITECTURE.parents[1]
    modules = sorted(
        str(p.relative_to(root))
        for p in (root / "nncs").rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py", "_version.py")
    )
    unnamed = [m for m in modules if m not in text]
    assert not unnamed, f"docs/architecture.md does not name these modules: {unnamed}"
