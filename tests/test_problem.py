"""Tests of nncs/problem.py: problem files parse into Problems; every malformed key gives a clear error."""

import json
import textwrap

import numpy as np
import pytest

import nncs
from nncs.problem import ProblemError, load_problem

NET = {
    "layers": [
        {"W": [[0.5, -0.2], [0.1, 0.3]], "b": [0.0, 0.1], "activation": "relu"},
        {"W": [[-1.0, 0.5]], "b": [0.0], "activation": "linear"},
    ]
}

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


def test_initial_split_in_a_problem_file(tmp_path):
    p = load_problem(write(tmp_path, GOOD.replace("seed = 3", "seed = 3\ninitial_split = [2, 1]", 1)))
    assert p.options.initial_split == (2, 1)


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
    text = GOOD.replace(
        'states = ["x", "v"]\ninputs = ["u"]\nparameters = { k = 1.0 }\ndynamics = ["v", "k*u"]',
        'model = "double_integrator"',
    )
    p = load_problem(write(tmp_path, text))
    assert p.system.plant.state_names == ("x", "v")


@pytest.mark.parametrize(
    "old, new, words",
    [
        ("steps = 5", 'steps = "five"', ["horizon", "steps", "int"]),
        ("steps = 5", "steps = 0", ["horizon", "steps"]),
        ("upper = [0.1, 0.0]", "upper = [0.1]", ["initial", "upper", "2 numbers"]),
        ("upper = [0.1, 0.0]", "upper = [-0.1, 0.0]", ["initial", "lower[0] = 0 > upper[0] = -0.1"]),
        ('always = ["x <= 5", "x >= -5"]', 'always = ["speed <= 5"]', ["spec[0]", "speed"]),
        ('always = ["x <= 5", "x >= -5"]', 'always = ["x*v <= 5 + speed"]', ["spec[0]", "speed"]),
        (
            'always = ["x <= 5", "x >= -5"]',
            'always = ["x <= 5"]\ngoal = ["x <= 1"]',
            ["spec[0]", "exactly one"],
        ),
        ('inputs = ["x", "v"]', 'inputs = ["x"]', ["controller", "2 inputs"]),
        ('inputs = ["x", "v"]', 'inputs = ["x", "sin(v)"]', ["controller", "not affine"]),
        ('outputs = ["2*y0"]', 'outputs = ["y3"]', ["controller", "y3"]),
        ('network = "net.json"', 'network = "missing.json"', ["[controller].network", "not found: tried"]),
        ('dynamics = ["v", "k*u"]', 'dynamics = ["v"]', ["[plant]"]),
        ('dynamics = ["v", "k*u"]', 'dynamics = ["v", "k*q"]', ["[plant]", "q"]),
        ("seed = 3", "sede = 3", ["[options]", "sede"]),
        ("seed = 3", 'set_type = "polytope"', ["set_type"]),
        ('name = "di"', 'name = "di"\ncolour = "red"', ["colour"]),
        ("period = 0.1", "period = -1.0", ["controller", "period"]),
        ("from = 0.1\nto = 0.4", "from = 10.0\nto = 12.0", ["spec[1]", "'from'", "past the horizon"]),
        ("to = 0.4", "to = 0.7", ["spec[1]", "'to'", "past the horizon"]),
        ("substeps = 4", 'substeps = "4"', ["[options]", "substeps", "integer"]),
        ("substeps = 4", "substeps = 4.5", ["[options]", "substeps", "integer"]),
        ("substeps = 4", "split_budget = true", ["[options]", "split_budget", "integer"]),
        ("substeps = 4", "time_step = inf", ["[options]", "time_step", "finite"]),
        ("substeps = 4", 'fit_tol = "0.2"', ["[options]", "fit_tol", "finite"]),
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
    from nncs import case_studies

    p = load_problem(case_studies.path("acc"))
    assert p.system.controller.n_inputs == 5 and p.steps == 50
    assert isinstance(p.system.plant, nncs.SymbolicPlant)


# -- every table checks its keys, with the nearest known key suggested --------------------------------------

MODEL = GOOD.replace(
    'states = ["x", "v"]\ninputs = ["u"]\nparameters = { k = 1.0 }\ndynamics = ["v", "k*u"]',
    'model = "double_integrator"',
)


@pytest.mark.parametrize(
    "text, old, new, expected",
    [
        (
            GOOD,
            "steps = 5",
            "steps = 5\nhorizon_s = 100",
            "[horizon]: unknown key 'horizon_s'; known keys: steps",
        ),
        (
            GOOD,
            "upper = [0.1, 0.0]",
            "uper = [0.1, 0.0]",
            "[initial]: unknown key 'uper'; did you mean 'upper'?",
        ),
        (GOOD, "period = 0.1", "perod = 0.1", "[controller]: unknown key 'perod'; did you mean 'period'?"),
        (
            GOOD,
            "parameters = { k = 1.0 }",
            "parameter = { k = 1.0 }",
            "[plant]: unknown key 'parameter'; did you mean 'parameters'?",
        ),
        (GOOD, "to = 0.4", "too = 0.4", "spec[1]: unknown key 'too'; did you mean 'to'?"),
        (GOOD, "seed = 3", "sed = 3", "[options]: unknown key 'sed'; did you mean 'seed'?"),
        (GOOD, 'name = "di"', 'nme = "di"', "top level: unknown key 'nme'; did you mean 'name'?"),
        (
            MODEL,
            'model = "double_integrator"',
            'model = "double_integrator"\nparameter = { dt = 0.1 }',
            "[plant]: unknown key 'parameter'; did you mean 'parameters'?",
        ),
        (
            MODEL,
            'model = "double_integrator"',
            'model = "double_integrator"\nstates = ["x", "v"]',
            "[plant]: unknown key 'states'; known keys: model, parameters (with 'model'",
        ),
        (
            MODEL,
            'model = "double_integrator"',
            'model = "double_integrator"\nparameters = { dtt = 0.1 }',
            "[plant].parameters: unknown key 'dtt'; did you mean 'dt'?",
        ),
        (
            MODEL,
            'model = "double_integrator"',
            'model = "double_integratr"',
            "[plant].model: unknown plant 'double_integratr'; did you mean 'double_integrator'?",
        ),
        (
            GOOD,
            "seed = 3",
            'preset = "fats"',
            "[options].preset: unknown preset 'fats'; did you mean 'fast'?",
        ),
        (
            GOOD,
            "upper = [0.1, 0.0]",
            "upper = [0.1, 0.0]\nlowr = 1\nzzz = 2",
            "[initial]: unknown keys 'lowr' (did you mean 'lower'?), 'zzz'; known keys: lower, upper",
        ),
    ],
)
def test_unknown_keys_suggest_the_nearest(tmp_path, text, old, new, expected):
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    assert str(info.value) == f"{path}: {expected}" or str(info.value).startswith(f"{path}: {expected}")


def test_model_states_note_says_why(tmp_path):
    path = write(
        tmp_path, MODEL.replace('model = "double_integrator"', 'model = "double_integrator"\nstates = ["x"]')
    )
    with pytest.raises(ProblemError, match="with 'model'.*only 'parameters'"):
        load_problem(path)


def test_model_parameters_are_used(tmp_path):
    p = load_problem(
        write(
            tmp_path,
            MODEL.replace(
                'model = "double_integrator"',
                'model = "double_integrator"\nparameters = { time = "discrete", dt = 0.1 }',
            ),
        )
    )
    assert p.system.plant.time == "discrete"


# -- malformed problems: a ProblemError naming the file and the key, never a traceback ----------------------

SPEC_BLOCK = GOOD[GOOD.index("[[spec]]") : GOOD.index("[options]")]
PLANT_BLOCK = GOOD[GOOD.index("[plant]") : GOOD.index("[controller]")]
HUGE = "1" + "0" * 400  # a TOML integer far past float range
NAME = 'name = "di"'


def variant(old, new) -> str:
    """GOOD with `old` replaced by `new`, or with each (old, new) pair of the tuple `old` replaced in turn."""
    pairs = old if isinstance(old, tuple) else ((old, new),)
    text = GOOD
    for a, b in pairs:
        assert a in text, a
        text = text.replace(a, b, 1)
    return text


MALFORMED = [
    # (old, new, words the message must contain)
    ("seed = 3", "preset = { a = 1 }", ["[options].preset", "table"]),
    ("seed = 3", "preset = 3", ["[options].preset", "integer"]),
    ("seed = 3", "seed = { a = 1 }", ["[options].seed", "table"]),
    ("seed = 3", 'nn_method = ["exact-star"]', ["[options].nn_method", "list"]),
    ("substeps = 4", f"substeps = {HUGE}", ["[options].substeps", "too large"]),
    ("seed = 3", f"time_step = {HUGE}", ["[options].time_step", "too large"]),
    ("seed = 3", "time_step = 1e400", ["[options]", "time_step", "finite"]),
    ("seed = 3", 'progress = "yes"', ["[options]", "progress"]),
    ("seed = 3", "timeout = -1", ["[options]", "timeout"]),
    ("seed = 3", "timeout = nan", ["[options]", "timeout"]),
    ("seed = 3", 'initial_split = [2, "3"]', ["[options].initial_split[1]", "expected an integer", "string"]),
    ("seed = 3", "initial_split = [2, 1.5]", ["[options].initial_split[1]", "expected an integer"]),
    ("seed = 3", "initial_split = [2, 0]", ["[options]", "initial_split[1]", ">= 1"]),
    ("seed = 3", "initial_split = 3", ["[options]", "initial_split", "list of part counts"]),
    ("seed = 3", "initial_split = [20, 20]", ["[options]", "400 parts", "split_budget"]),
    ("lower = [0.0, -0.1]", 'lower = "0.0, -0.1"', ["[initial].lower", "expected a list", "string"]),
    (
        "lower = [0.0, -0.1]",
        "lower = [{ a = 1 }, -0.1]",
        ["[initial].lower[0]", "expected a number", "table"],
    ),
    ("lower = [0.0, -0.1]", "lower = [0.0, [1]]", ["[initial].lower[1]", "expected a number"]),
    ("lower = [0.0, -0.1]", "lower = [nan, -0.1]", ["[initial].lower[0]", "finite"]),
    ("lower = [0.0, -0.1]", "lower = [-inf, -0.1]", ["[initial].lower[0]", "finite"]),
    ("upper = [0.1, 0.0]", "upper = [0.1, inf]", ["[initial].upper[1]", "finite"]),
    ("upper = [0.1, 0.0]", f"upper = [0.1, {HUGE}]", ["[initial].upper[1]", "too large"]),
    ("upper = [0.1, 0.0]", "upper = [0.1, -0.2]", ["[initial]", "lower[1] = -0.1 > upper[1] = -0.2", "'v'"]),
    ("upper = [0.1, 0.0]", "upper = [0.1, true]", ["[initial].upper[1]", "boolean"]),
    ("steps = 5", f"steps = {HUGE}", ["[horizon].steps", "limit of 1000000 steps"]),
    ("steps = 5", "steps = 1000001", ["[horizon].steps", "1000001", "limit of 1000000 steps"]),
    ("steps = 5", "steps = 1.5", ["[horizon].steps", "integer"]),
    ("steps = 5", "steps = [5]", ["[horizon].steps", "integer", "list"]),
    ("steps = 5", "steps = -3", ["[horizon].steps", "at least 1"]),
    ("period = 0.1", "period = nan", ["[controller].period", "finite"]),
    ("period = 0.1", 'period = "0.1"', ["[controller].period", "expected a number"]),
    ("period = 0.1", "period = { a = 1 }", ["[controller].period", "table"]),
    ("period = 0.1", "period = 0", ["[controller].period", "positive"]),
    ('network = "net.json"', "network = 5", ["[controller].network", "expected a string"]),
    ('network = "net.json"', 'network = ""', ["[controller].network", "empty"]),
    ('inputs = ["x", "v"]', 'inputs = "x"', ["[controller].inputs", "expected a list"]),
    ('inputs = ["x", "v"]', "inputs = [1, 2]", ["[controller].inputs[0]", "expected a string"]),
    ('outputs = ["2*y0"]', 'outputs = [["y0"]]', ["[controller].outputs[0]", "expected a string"]),
    ('states = ["x", "v"]', 'states = "x"', ["[plant].states", "expected a list"]),
    ('states = ["x", "v"]', "states = { x = 1 }", ["[plant].states", "table"]),
    ('dynamics = ["v", "k*u"]', 'dynamics = [1, "k*u"]', ["[plant].dynamics[0]", "expected a string"]),
    ("parameters = { k = 1.0 }", 'parameters = { k = "one" }', ["[plant].parameters.k", "expected a number"]),
    ("parameters = { k = 1.0 }", "parameters = { k = nan }", ["[plant].parameters.k", "finite"]),
    ("parameters = { k = 1.0 }", "parameters = { k = { a = 1 } }", ["[plant].parameters.k", "table"]),
    ("parameters = { k = 1.0 }", f"parameters = {{ k = {HUGE} }}", ["[plant].parameters.k", "too large"]),
    ("parameters = { k = 1.0 }", "parameters = [1.0]", ["[plant].parameters", "expected a table"]),
    (
        "parameters = { k = 1.0 }",
        "parameters = { k = 1.0 }\ndisturbances = { w = 1 }",
        ["[plant].disturbances.w", "[lower, upper]"],
    ),
    (
        "parameters = { k = 1.0 }",
        "parameters = { k = 1.0 }\ndisturbances = { w = [1, 0] }",
        ["[plant].disturbances.w", "lower 1 > upper 0"],
    ),
    (
        "parameters = { k = 1.0 }",
        "parameters = { k = 1.0 }\ndisturbances = { w = [nan, 1] }",
        ["[plant].disturbances.w[0]", "finite"],
    ),
    ("parameters = { k = 1.0 }", "parameters = { k = 1.0 }\ntime = 1", ["[plant].time", "expected a string"]),
    ("parameters = { k = 1.0 }", 'parameters = { k = 1.0 }\ntime = "sometimes"', ["[plant]", "time"]),
    ('name = "di"', "name = 5", [": name", "expected a string"]),
    ('name = "di"', 'name = "di"\nplant = 5', ["malformed TOML", "line 4"]),
    (((PLANT_BLOCK, ""), (NAME, NAME + "\nplant = 5")), None, [": plant", "expected a table"]),
    (((SPEC_BLOCK, ""), (NAME, NAME + '\nspec = "x <= 5"')), None, [": spec", "expected a list"]),
    (((SPEC_BLOCK, ""), (NAME, NAME + "\nspec = [1, 2]")), None, ["spec[0]", "expected a [[spec]] table"]),
    (((SPEC_BLOCK, ""), (NAME, NAME + "\nspec = []")), None, ["[[spec]] needs at least one entry"]),
    (SPEC_BLOCK, '[spec]\nalways = ["x <= 5"]\n', ["'spec' must be an array of tables", "[[spec]]"]),
    (SPEC_BLOCK, '[[spec]]\nalways = "x <= 5"\n', ["spec[0].always", "expected a list"]),
    (SPEC_BLOCK, "[[spec]]\nalways = [1]\n", ["spec[0].always[0]", "expected a string"]),
    (SPEC_BLOCK, '[[spec]]\nalways = [["x <= 5"]]\n', ["spec[0].always[0]", "expected a string"]),
    (SPEC_BLOCK, "[[spec]]\nfrom = 0.1\n", ["spec[0]", "exactly one"]),
    ("from = 0.1", "from = nan", ["spec[1].from", "finite"]),
    ("from = 0.1", 'from = "0.1"', ["spec[1].from", "expected a number"]),
    ("from = 0.1", f"from = {HUGE}", ["spec[1].from", "too large"]),
    ("to = 0.4", "to = -inf", ["spec[1].to", "finite"]),
    (
        (("[options]\nsubsteps = 4\nseed = 3", ""), (NAME, NAME + "\noptions = 5")),
        None,
        [": options", "expected a table"],
    ),
    ((("[horizon]\nsteps = 5", ""), (NAME, NAME + "\nhorizon = 5")), None, [": horizon", "expected a table"]),
    (
        (("[initial]\nlower = [0.0, -0.1]\nupper = [0.1, 0.0]", ""), (NAME, NAME + "\ninitial = [0.0, 0.1]")),
        None,
        [": initial", "expected a table"],
    ),
]


def test_malformed_problems_are_problem_errors_naming_file_and_key(tmp_path):
    """Every malformed variant of GOOD gives a ProblemError (a ValueError) whose message names the file and
    the key, never another exception."""
    failures = []
    for k, (old, new, words) in enumerate(MALFORMED):
        folder = tmp_path / f"case{k}"
        folder.mkdir()
        path = write(folder, variant(old, new))
        try:
            load_problem(path)
            failures.append(f"{(new if new is not None else old[-1][1])!r}: loaded")
        except ProblemError as exc:
            message = str(exc)
            missing = [w for w in [str(path), *words] if w not in message]
            if missing:
                failures.append(f"{(new if new is not None else old[-1][1])!r}: {missing} not in {message!r}")
            if len(message) > 400:
                failures.append(
                    f"{(new if new is not None else old[-1][1])!r}: message of {len(message)} characters"
                )
        except Exception as exc:  # noqa: BLE001 - the property under test is "no other exception"
            failures.append(f"{(new if new is not None else old[-1][1])!r}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


def test_whole_file_errors_name_the_file(tmp_path, monkeypatch):
    import nncs.problem

    cases = {
        "latin1.toml": "name = 'caf\xe9'\n".encode("latin-1"),
        "deep.toml": ("a = " + "[" * 100_000 + "]" * 100_000 + "\n").encode(),
        "digits.toml": ("[horizon]\nsteps = " + "1" * 5000 + "\n").encode(),
        "empty.toml": b"",
        "nul.toml": b'name = "a\x00"\n',
    }
    words = {
        "latin1.toml": "not UTF-8",
        "deep.toml": "nested too deeply",
        "digits.toml": "malformed TOML",
        "empty.toml": "missing key 'plant'",
        "nul.toml": "malformed TOML",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ProblemError) as info:
            load_problem(path)
        assert str(path) in str(info.value) and words[name] in str(info.value), str(info.value)
        assert len(str(info.value)) < 400
    with pytest.raises(ProblemError, match="is a folder"):
        load_problem(tmp_path)
    big = write(tmp_path, GOOD)
    monkeypatch.setattr(nncs.problem, "MAX_PROBLEM_BYTES", 100)
    with pytest.raises(ProblemError, match=r"more than the limit of 100 bytes") as info:
        load_problem(big)
    assert str(big) in str(info.value)


def test_parse_problem_refuses_a_non_table():
    from nncs.problem import parse_problem

    with pytest.raises(ProblemError, match="x.toml: expected a TOML document"):
        parse_problem(["not", "a", "table"], "x.toml")


# -- expressions: the parser's errors reach the user as ProblemErrors naming the key -------------------------


@pytest.mark.parametrize(
    "old, new, words",
    [
        ('inputs = ["x", "v"]', 'inputs = ["x/0", "v"]', ["[controller]", "inputs", "x/0"]),
        ('outputs = ["2*y0"]', 'outputs = ["y0/0"]', ["[controller]", "outputs", "y0/0"]),
        ('always = ["x <= 5", "x >= -5"]', 'always = ["x/0 >= 1"]', ["spec[0].always", "x/0"]),
    ],
)
def test_division_by_zero_is_a_problem_error_naming_the_key(tmp_path, old, new, words):
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    for word in [str(path), *words]:
        assert word in str(info.value), str(info.value)


def test_division_by_zero_is_a_problem_error(tmp_path):
    """Whatever the parser says, the user gets a ProblemError naming the file and the table."""
    for old, new, table in [
        ('inputs = ["x", "v"]', 'inputs = ["x/0", "v"]', "[controller]"),
        ('always = ["x <= 5", "x >= -5"]', 'always = ["x/0 >= 1"]', "spec[0]"),
    ]:
        path = write(tmp_path, GOOD.replace(old, new, 1))
        with pytest.raises(ProblemError) as info:
            load_problem(path)
        assert str(path) in str(info.value) and table in str(info.value)


def test_non_ascii_state_name_is_refused(tmp_path):
    # the full-width letter folds to "x" under NFKC: it must be refused, not merged with or renamed to "x"
    text = (
        GOOD.replace('states = ["x", "v"]', 'states = ["\uff58", "v"]')
        .replace('inputs = ["x", "v"]', 'inputs = ["\uff58", "v"]')
        .replace('"x <= 5", "x >= -5"', '"\uff58 <= 5", "\uff58 >= -5"')
        .replace('"x <= 10"', '"\uff58 <= 10"')
    )
    path = write(tmp_path, text)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    assert str(path) in str(info.value) and "[plant]" in str(info.value) and "states" in str(info.value)


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ('name = "acc"', 'nmae = "acc"', "top level: unknown key 'nmae'; did you mean 'name'?"),
        ('model = "acc"', 'modle = "acc"', "[plant]: unknown key 'modle'; did you mean 'model'?"),
        ("a_lead = -2.0", "a_led = -2.0", "[plant].parameters: unknown key 'a_led'; did you mean 'a_lead'?"),
        ("period  = 0.1", "perod = 0.1", "[controller]: unknown key 'perod'; did you mean 'period'?"),
        ("lower = [90", "Lower = [90", "[initial]: unknown key 'Lower'; did you mean 'lower'?"),
        ("steps = 50", "step = 50", "[horizon]: unknown key 'step'; did you mean 'steps'?"),
        ('always = ["x_lead', 'alwys = ["x_lead', "spec[0]: unknown key 'alwys'; did you mean 'always'?"),
        (
            'always = ["x_lead',
            'from_ = 1\nalways = ["x_lead',
            "spec[0]: unknown key 'from_'; did you mean 'from'?",
        ),
        ("seed = 0", "sede = 0", "[options]: unknown key 'sede'; did you mean 'seed'?"),
        ("seed = 0", 'preset = "Fast"', "[options].preset: unknown preset 'Fast'; did you mean 'fast'?"),
        ('model = "acc"', 'model = "ACC"', "[plant].model: unknown plant 'ACC'; did you mean 'acc'?"),
    ],
)
def test_misspelt_keys_in_every_table_are_named_with_a_suggestion(tmp_path, old, new, expected):
    """The bundled ACC problem with one key misspelt: the message names the file, the table, the key and the
    nearest known one (case-insensitively), never only 'missing key'."""
    from nncs import case_studies

    acc = case_studies.path("acc")
    network = (acc.parent / "../controllers/acc_controller.onnx").resolve()
    text = acc.read_text().replace('"../controllers/acc_controller.onnx"', f'"{network}"')
    assert old in text and network.is_file()
    (tmp_path / "unchanged.toml").write_text(text)
    assert load_problem(tmp_path / "unchanged.toml").name == "acc"  # only the misspelling fails below
    path = tmp_path / "acc.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    assert str(info.value).startswith(f"{path}: {expected}")


def test_a_misspelt_state_name_in_a_spec_is_named_with_a_suggestion(tmp_path):
    path = write(tmp_path, GOOD.replace('always = ["x <= 5"', 'always = ["X <= 5"'))
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    message = str(info.value)
    assert "spec[0].always[0]" in message and "'X'" in message and "did you mean 'x'?" in message


def test_a_missing_network_names_the_absolute_path_tried_and_the_folder_it_is_relative_to(tmp_path):
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "controller.json").write_text(json.dumps(NET))
    path = write(tmp_path, GOOD.replace('network = "net.json"', 'network = "nets/controler.json"'), net=False)
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    message = str(info.value)
    assert f"{path}: [controller].network: network file 'nets/controler.json' not found" in message
    assert repr(str((tmp_path / "nets" / "controler.json").resolve())) in message
    assert f"relative to the problem file's folder {str(tmp_path.resolve())!r}" in message
    assert "did you mean 'controller.json' (in that folder)?" in message


def test_a_network_in_a_missing_folder_says_the_folder_does_not_exist(tmp_path):
    path = write(tmp_path, GOOD.replace('network = "net.json"', 'network = "nowhere/net.json"'), net=False)
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    assert f"folder {str((tmp_path / 'nowhere').resolve())!r} does not exist" in str(info.value)


def test_specs_may_use_the_plant_parameters(tmp_path):
    text = GOOD.replace("parameters = { k = 1.0 }", "parameters = { k = 1.0, x_max = 5 }").replace(
        'always = ["x <= 5", "x >= -5"]', 'always = ["x <= x_max", "x >= -x_max"]'
    )
    p = load_problem(write(tmp_path, text))
    ref = load_problem(write(tmp_path, GOOD))
    assert np.array_equal(p.specs[0].region.H, ref.specs[0].region.H)
    assert np.array_equal(p.specs[0].region.g, ref.specs[0].region.g)
    assert p.specs[0].text == ("x <= x_max", "x >= -x_max") and p.specs[0].constants == (("x_max", 5.0),)
    with pytest.raises(ProblemError, match="did you mean 'x_max'"):
        load_problem(write(tmp_path, text.replace('"x <= x_max"', '"x <= x_mx"')))
