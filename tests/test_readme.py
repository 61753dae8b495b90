"""What README.md claims, checked where it can be without running a verification (a few seconds in all).

The TOML block is case_studies/acc.toml; the first two commands are the documented install-and-run and test
commands (and CI runs the same); every `nncs ...` command shown parses with the CLI's own argparse parser
and names real case studies; every file path exists; the Python snippets compile and use public names only;
the JSON report's keys are those `Verdict.to_dict` writes; the output example has the CLI's shape; the
notebooks extra brings JupyterLab. (tests/test_docs.py runs the Python snippets and parses the TOML block.)
"""

import ast
import contextlib
import importlib
import io
import re
import shlex
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import numpy as np

from nncs.cli import build_parser
from tests.notebooks.test_notebook_imports import nncs_from_imports, problems

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

FIRST_COMMANDS = [
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && nncs run acc",
    'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && pytest',
]
"""The README's first two lines: the main job and the test command."""

PLACEHOLDERS = {"S": "1"}
"""Placeholder words of the README's command synopses that must be replaced to parse (`--timeout S`)."""


def fenced(lang: str | None = None) -> list[str]:
    """The fenced code blocks of the README (of one language, or all)."""
    return [
        body for tag, body in re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S) if lang in (None, tag)
    ]


def prose() -> str:
    """The README without its fenced code blocks."""
    return re.sub(r"```\w*\n.*?```", "", README, flags=re.S)


def inline_spans() -> list[str]:
    """The inline code spans of the README's prose (one line each; a span may wrap in the source)."""
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose())]


def shown_commands() -> list[str]:
    """Every `nncs ...` command of the README: inline spans, and the commands of the shell / console blocks
    (after `$ ` or `&& `)."""
    commands = [s for s in inline_spans() if s.startswith("nncs ") or s == "nncs"]
    for body in fenced("bash") + fenced("text"):
        for line in body.splitlines():
            line = line.removeprefix("$ ")
            commands += [part.strip() for part in line.split("&&") if part.strip().startswith("nncs ")]
    return commands


def parse(words: list[str]) -> int:
    """The exit status with which the CLI's parser takes `words` (0: parsed; it never runs a command)."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            build_parser().parse_args(words)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def test_the_toml_block_is_case_studies_acc_toml():
    (block,) = fenced("toml")
    assert block == (ROOT / "case_studies" / "acc.toml").read_text(encoding="utf-8"), (
        "README's TOML block differs from case_studies/acc.toml: copy the file into the README"
    )


def test_the_first_two_commands_are_the_main_job_and_the_tests():
    first = fenced()[0]
    assert README.index(first) < README.index("## "), "the README no longer opens with its commands"
    assert first.splitlines() == FIRST_COMMANDS
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -e ".[test]"' in ci and re.search(r"^pytest$", ci, flags=re.M), (
        ".ci/run no longer installs and tests as the README says"
    )


def test_the_main_job_is_a_real_command():
    out = subprocess.run(
        [sys.executable, "-m", "nncs", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0 and "run" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "nncs", "run", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0 and "--no-plot" in out.stdout
    assert parse(shlex.split(FIRST_COMMANDS[0].split("&&")[-1])[1:]) == 0
    from nncs import case_studies

    assert "acc" in case_studies.names()


def test_every_nncs_command_shown_parses():
    commands = shown_commands()
    assert len(commands) >= 10, commands
    bad = []
    for command in commands:
        words = [PLACEHOLDERS.get(w, w) for w in shlex.split(command.replace("[", " ").replace("]", " "))][1:]
        if len(words) == 1:  # a reference to a subcommand (`nncs verify`): it exists
            status = parse([words[0], "--help"])
        else:
            status = parse(words)
        if status != 0:
            bad.append(command)
    assert not bad, f"README shows nncs commands that the CLI does not accept: {bad}"


def test_case_studies_named_exist():
    from nncs import case_studies

    named = set()
    for command in shown_commands():
        words = shlex.split(command.replace("[", " ").replace("]", " "))
        if len(words) >= 3 and words[1] == "run" and not words[2].isupper():
            named.add(words[2])
    assert "acc" in named
    assert not named - set(case_studies.names()), f"unknown case studies: {named - set(case_studies.names())}"


def test_notebooks_named_exist():
    named = set(re.findall(r"`(\d\d_\w+)`", prose()))
    assert len(named) == 5, named
    missing = [n for n in sorted(named) if not (ROOT / "notebooks" / f"{n}.ipynb").is_file()]
    assert not missing, f"README names notebooks that do not exist: {missing}"


def mentioned_paths() -> set[str]:
    """Repository paths the README mentions: in inline code, image and link targets, and Python strings."""
    spans = inline_spans()
    words = [s for s in spans if " " not in s]  # a bare file name counts only as a span of its own
    words += [w for s in spans if " " in s for w in s.split() if "/" in w]
    words += re.findall(r"\]\(([^)\s]+)\)", prose())
    for code in fenced("python"):
        words += [
            n.value
            for n in ast.walk(ast.parse(code))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ]
    paths = set()
    for word in words:
        word = word.strip(",;:()")
        if word.startswith(("../", "@", "http")) or "<" in word or "..." in word:
            continue  # outside the repository, or a pattern
        if re.fullmatch(r"\.?[\w-]+(/[\w.-]*)+", word):
            paths.add(word)
        elif (
            re.fullmatch(r"[\w-]+\.(py|md|toml|png|onnx|json|ipynb)", word)
            and not word.split(".")[0].isupper()
        ):
            paths.add(word)  # a bare file name; FILE.toml, R.json, P.png are placeholders
    return paths


def test_every_path_mentioned_exists():
    paths = mentioned_paths()
    for expected in (
        "case_studies/acc.toml",
        "docs/api.md",
        "docs/acc_reach.png",
        ".ci/run",
        "pyproject.toml",
    ):
        assert expected in paths
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"README mentions paths that do not exist: {missing}"
    for module in re.findall(r"python -m ([\w.]+)", README):
        assert importlib.util.find_spec(module) is not None, f"`python -m {module}`: no such module"


def test_python_snippets_compile_and_use_public_names():
    blocks = fenced("python")
    assert len(blocks) >= 2
    import nncs

    for code in blocks:
        compile(code, "README.md", "exec")
        assert problems(code) == [], problems(code)
        for module_name, name in nncs_from_imports(code):
            module = importlib.import_module(module_name)
            assert name in getattr(module, "__all__", [name]) or hasattr(module, "__path__"), (
                module_name,
                name,
            )
        tree = ast.parse(code)
        used = {
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "nncs"
        }
        assert used, "the snippet no longer uses nncs"
        public = set(nncs.__all__) | set(dir(nncs))
        assert used <= public, f"README uses names nncs does not export: {used - public}"


def _shape(text: str):
    """The README's JSON description `{"a", "b": [{"c"}, ...], "d": null | {...}}` as nested dicts / lists."""
    text = text.replace("null | ", "").replace(", ...", "")
    return ast.literal_eval(re.sub(r'"(\w+)"(?=\s*[,}])', r'"\1": None', text))


def _same_keys(shape, value, where="report"):
    if isinstance(shape, dict):
        assert isinstance(value, dict), where
        assert set(shape) == set(value), (
            f"{where}: README says {sorted(shape)}, to_dict writes {sorted(value)}"
        )
        for key, sub in shape.items():
            if sub is not None:
                _same_keys(sub, value[key], f"{where}.{key}")
    elif isinstance(shape, list):
        assert isinstance(value, list) and value, where
        _same_keys(shape[0], value[0], f"{where}[0]")


def test_the_json_report_keys_are_those_written():
    from nncs import Box, Verdict
    from nncs.loop.falsify import Counterexample
    from nncs.spec import make_spec

    (described,) = re.findall(r"The JSON report \(`--json`\): `(.*?)`\.", README, flags=re.S)
    shape = _shape(" ".join(described.split()))
    z = np.zeros((2, 1))
    cex = Counterexample(np.zeros(1), np.zeros(0), np.zeros(2), z, np.zeros((1, 1)), 0, 0.5, "x <= 1", 0.1)
    result = types.SimpleNamespace(sampling_bounds=lambda: [(0.0, np.zeros(1), np.ones(1))])
    verdict = Verdict(
        "unsafe",
        0.1,
        counterexample=cex,
        result=result,
        parts=[(Box([0], [1]), "unproven", None)],
        reasons=["why"],
        specs=(make_spec("always", ["x <= 1"], ("x",)),),
    )
    _same_keys(shape, verdict.to_dict())


def test_the_output_example_has_the_cli_shape():
    (example,) = [b for b in fenced("text") if b.startswith("$ nncs")]
    runs = re.split(r"^\$ ", example, flags=re.M)[1:]
    assert len(runs) >= 2
    source = (ROOT / "nncs" / "verify.py").read_text() + (ROOT / "nncs" / "spec.py").read_text()
    seen = set()
    for run in runs:
        command, status, line, *rest = run.splitlines()
        name = shlex.split(command)[2]
        seen.add(status)
        assert status in ("safe", "unsafe", "unknown")
        assert re.fullmatch(rf"{re.escape(name)}: .+; time \d+\.\d\d s", line), line
        if status == "safe":
            assert re.search(r": proven on \d+ part\(s\) of the initial set;", line)
            assert "proven on {len(parts)} part(s) of the initial set" in source
        if status == "unsafe":
            assert re.search(
                r": spec \d+ \((always|goal|avoid)\): `.+` violated by [\d.e-]+ at t = [\d.]+ s", line
            )
            assert "(a re-simulated counterexample)" in line and "(a re-simulated counterexample)" in source
            assert rest and rest[0].startswith("counterexample x0 = [")
    assert {"safe", "unsafe"} <= seen


def test_every_command_takes_quiet_and_verify_run_take_progress():
    synopses = [c for c in shown_commands() if "[" in c]  # the command table
    assert {shlex.split(c)[1] for c in synopses} >= {"verify", "run", "verify-nn", "plot"}
    for command in [*synopses, "nncs list"]:
        words = [PLACEHOLDERS.get(w, w) for w in shlex.split(re.sub(r"\[.*?\]", " ", command))][1:]
        assert parse([*words, "--quiet"]) == 0, command
        if words[0] in ("verify", "run"):
            assert parse([*words, "--progress"]) == 0, command


def test_the_notebooks_extra_brings_jupyterlab():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {re.match(r"[\w-]+", r).group(0) for r in extras["notebooks"]}
    assert {"jupyterlab", "nbclient", "nbformat", "ipykernel"} <= names
    assert not any(r.startswith("jupyterlab") for r in extras["test"]), "keep CI's [test] extra light"
    commands = [line for body in fenced("bash") for line in body.splitlines()]
    assert 'pip install -e ".[notebooks]"' in commands and "jupyter lab notebooks/" in commands
    for extra in re.findall(r'pip install -e "\.\[(\w+)\]"', README):
        assert extra in extras, f"README installs an extra pyproject.toml does not define: {extra}"


def test_acc_toml_documents_every_key():
    from nncs import problem

    comment = "\n".join(
        line for line in (ROOT / "case_studies" / "acc.toml").read_text().splitlines() if line.startswith("#")
    )
    words = set(re.findall(r"[\w]+", comment))
    keys = {
        *problem.TOP_LEVEL_KEYS,
        *problem.PLANT_KEYS,
        *problem.MODEL_KEYS,
        *problem.CONTROLLER_KEYS,
        *problem.INITIAL_KEYS,
        *problem.HORIZON_KEYS,
        *problem.SPEC_KEYS,
        *problem.OPTION_KEYS,
    }
    assert not keys - words, f"acc.toml's comment block does not document: {sorted(keys - words)}"


def test_strict_comparisons_are_documented():
    section = README[README.index("## Problem files") : README.index("## Command line")]
    assert "Strict comparisons" in section and all(
        f"`{kind}`" in section for kind in ("always", "goal", "avoid")
    )
    assert "closure" in section and "strictly inside" in section
    assert "strict read as closed" not in README
