"""Tests of nncs/problem.py: problem files parse into Problems; every malformed key gives a clear error."""

import json
import textwrap

import numpy as np
import pytest

import nncs
from nncs.problem import ProblemError, load_problem

NET = {"layers": [{"W": [[0.5, -0.2], [0.1, 0.3]], "b": [0.0, 0.1], "activation": "relu"},
                  {"W": [[-1.0, 0.5]], "b": [0.0], "activation": "linear"}]}

GOOD = """
name = "di"
[plant]
states = ["x", "v"]
inputs = ["u"]
parameters = { k = 1.0 }
dynamics = ["v", "k*u"]
[controller]
network = "net.json"
period = 0.1
inputs = ["x", "v"]
outputs = ["2*y0"]
[initial]
lower = [0.0, -0.1]
upper = [0.1, 0.0]
[horizon]
steps = 5
[[spec]]
always = ["x <= 5", "x >= -5"]
[[spec]]
avoid = ["v >= 3"]
from = 0.1
to = 0.4
[[spec]]
goal = ["x <= 10"]
[options]
substeps = 4
seed = 3
"""


def write(tmp_path, text, net=True):
    if net:
        (tmp_path / "net.json").write_text(json.dumps(NET))
    path = tmp_path / "problem.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_good_problem(tmp_path):
    p = load_problem(write(tmp_path, GOOD))
    assert p.name == "di" and p.steps == 5 and p.horizon == pytest.approx(0.5)
    assert [s.kind for s in p.specs] == ["always", "avoid", "goal"]
    assert p.specs[1].window == (0.1, 0.4)
    assert p.options.substeps == 4 and p.options.seed == 3
    np.testing.assert_array_equal(p.initial.ub, [0.1, 0.0])
    np.testing.assert_array_equal(p.system.output_W, [[2.0]])
    u = p.system.control(np.array([0.05, -0.05]))
    y = p.system.controller(np.array([[0.05, -0.05]]))[0]
    assert u[0] == pytest.approx(2 * y[0])


def test_library_model(tmp_path):
    text = GOOD.replace('states = ["x", "v"]\ninputs = ["u"]\nparameters = { k = 1.0 }\ndynamics = ["v", "k*u"]',
                        'model = "double_integrator"')
    p = load_problem(write(tmp_path, text))
    assert p.system.plant.state_names == ("x", "v")


@pytest.mark.parametrize(
    "old, new, words",
    [
        ('steps = 5', 'steps = "five"', ["horizon", "steps", "int"]),
        ('steps = 5', 'steps = 0', ["horizon", "steps"]),
        ('upper = [0.1, 0.0]', 'upper = [0.1]', ["initial", "upper", "2 numbers"]),
        ('upper = [0.1, 0.0]', 'upper = [-0.1, 0.0]', ["initial", "lower[0] = 0 > upper[0] = -0.1"]),
        ('always = ["x <= 5", "x >= -5"]', 'always = ["speed <= 5"]', ["spec[0]", "speed"]),
        ('always = ["x <= 5", "x >= -5"]', 'always = ["x*v <= 5"]', ["spec[0]", "not affine"]),
        ('always = ["x <= 5", "x >= -5"]', 'always = ["x <= 5"]\ngoal = ["x <= 1"]', ["spec[0]", "exactly one"]),
        ('inputs = ["x", "v"]', 'inputs = ["x"]', ["controller", "2 inputs"]),
        ('inputs = ["x", "v"]', 'inputs = ["x", "sin(v)"]', ["controller", "not affine"]),
        ('outputs = ["2*y0"]', 'outputs = ["y3"]', ["controller", "y3"]),
        ('network = "net.json"', 'network = "missing.json"', ["[controller].network", "does not exist"]),
        ('dynamics = ["v", "k*u"]', 'dynamics = ["v"]', ["[plant]"]),
        ('dynamics = ["v", "k*u"]', 'dynamics = ["v", "k*q"]', ["[plant]", "q"]),
        ('seed = 3', 'sede = 3', ["[options]", "sede"]),
        ('seed = 3', 'set_type = "polytope"', ["set_type"]),
        ('name = "di"', 'name = "di"\ncolour = "red"', ["colour"]),
        ('period = 0.1', 'period = -1.0', ["controller", "period"]),
        ('from = 0.1\nto = 0.4', 'from = 10.0\nto = 12.0', ["spec[1]", "'from'", "past the horizon"]),
        ('to = 0.4', 'to = 0.7', ["spec[1]", "'to'", "past the horizon"]),
        ('substeps = 4', 'substeps = "4"', ["[options]", "substeps", "integer"]),
        ('substeps = 4', 'substeps = 4.5', ["[options]", "substeps", "integer"]),
        ('substeps = 4', 'split_budget = true', ["[options]", "split_budget", "integer"]),
        ('substeps = 4', 'time_step = inf', ["[options]", "time_step", "finite"]),
        ('substeps = 4', 'fit_tol = "0.2"', ["[options]", "fit_tol", "finite"]),
    ],
)
def test_malformed_keys_are_named(tmp_path, old, new, words):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_missing_sections_and_bad_toml(tmp_path):
    with pytest.raises(ProblemError, match="missing key 'horizon'"):
        load_problem(write(tmp_path, GOOD.replace("[horizon]\nsteps = 5\n", "")))
    with pytest.raises(ProblemError, match="malformed TOML"):
        load_problem(write(tmp_path, GOOD + "\n[[[oops"))
    with pytest.raises(ProblemError, match="no such problem file"):
        load_problem(tmp_path / "nothing.toml")
    assert issubclass(ProblemError, ValueError)


def test_bundled_own_controller_problem_loads():
    import case_studies

    p = load_problem(case_studies.path("acc"))
    assert p.system.controller.n_inputs == 5 and p.steps == 50
    assert isinstance(p.system.plant, nncs.SymbolicPlant)
