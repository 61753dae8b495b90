"""Fuzz tests of nncs/problem.py: mutated problem files give a Problem or a ProblemError naming the file.

Two generators: structural mutations of the parsed GOOD problem (a value replaced by junk of another type, a
key deleted, an unknown key added, at any depth) fed to `parse_problem`, and byte-level mutations of the file
(truncation, byte flips, insertions) fed to `load_problem`. The property: a result or a ProblemError (a
ValueError) whose message names the file and is short; never another exception.
"""

from __future__ import annotations

import copy
import json
import textwrap
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nncs.problem import Problem, ProblemError, load_problem, parse_problem
from tests.test_problem import GOOD, NET

FILE = "fuzz-problem.toml"
BASE = tomllib.loads(textwrap.dedent(GOOD))

# Strings only from a fixed harmless list: the old parser hands strings to sympy, so the fuzzer must not
# generate arbitrary Python (the parser's own fuzz tests cover that once the new parser is in).
STRINGS = st.sampled_from(
    [
        "",
        "x",
        "v",
        "u",
        "y0",
        "k",
        "1",
        "2*y0",
        "x <= 1",
        "x >= v",
        "nan",
        "inf",
        "((",
        "fast",
        "star",
        "zonotope",
        "approx-star",
        "continuous",
        "discrete",
        "net.json",
        "missing.json",
        "x*v",
        "x <= 5",
        "\u00e9",
    ]
)
SCALARS = st.one_of(
    st.integers(min_value=-3, max_value=10),
    st.sampled_from([0, -1, 2**63, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    STRINGS,
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(STRINGS, inner, max_size=2)),
    max_leaves=6,
)


def _paths(node, prefix=()):
    """Every (path, value) below `node` (tables and lists), the root excluded."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield prefix + (key,), value
        yield from _paths(value, prefix + (key,))


PATHS = [p for p, _ in _paths(BASE)]
TABLE_PATHS = [()] + [p for p, v in _paths(BASE) if isinstance(v, dict)]


def _parent(data, path):
    node = data
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def mutated(draw):
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "add":
            table = data
            try:
                for key in draw(st.sampled_from(TABLE_PATHS)):
                    table = table[key]
            except (KeyError, IndexError, TypeError):
                continue  # an earlier mutation removed or replaced this table
            if isinstance(table, dict):
                table[draw(st.sampled_from(["uper", "stepz", "horizon_s", "colour", "presets", "x"]))] = draw(
                    JUNK
                )
            continue
        path = draw(st.sampled_from(PATHS))
        try:
            parent = _parent(data, path)
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
        if action == "replace":
            parent[path[-1]] = draw(JUNK)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return data


def _check(outcome_fn):
    try:
        return outcome_fn()
    except ProblemError as exc:
        message = str(exc)
        assert FILE in message, message
        assert len(message) < 600, message
        return exc


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "net.json").write_text(json.dumps(NET))
    return folder


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_structural_mutations(base_dir, data):
    outcome = _check(lambda: parse_problem(data, FILE, base_dir))
    assert isinstance(outcome, (Problem, ProblemError))


TEXT = textwrap.dedent(GOOD).encode()


@st.composite
def mutated_bytes(draw):
    data = bytearray(TEXT)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "truncate":
            del data[at:]
        elif action == "flip" and data:
            data[at] = draw(st.sampled_from(b"[]{}=\"',.#\n 0129e+-xyzXnaif\xff\x00"))
        elif action == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [
                        b"[",
                        b"]]",
                        b"{",
                        b"=",
                        b'"',
                        b"nan",
                        b"inf",
                        b"1e999",
                        b"\n[horizon]\n",
                        b"\n[[spec]]\n",
                        b"\xc3",
                        b"\n",
                        b"99999999999",
                    ]
                )
            )
        elif data:
            del data[at : at + draw(st.integers(1, 8))]
    return bytes(data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated_bytes())
def test_byte_mutations(base_dir, data):
    path = base_dir / FILE
    path.write_bytes(data)
    outcome = _check(lambda: load_problem(path))
    assert isinstance(outcome, (Problem, ProblemError))
