"""Tests that expressions from problem files are parsed, never evaluated: whitelist, exploit, bombs, names, fuzz."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from nncs.dynamics.symbolic import SymbolicPlant
from nncs.expressions import affine_map, linear_constraint, parse_expression


@pytest.mark.parametrize(
    "text, construct",
    [
        ("x.real", "attribute access"),
        ("x[0]", "subscripting"),
        ("'a' + x", "a string"),
        ("lambda: x", "a lambda"),
        ("[x for x in y]", "a comprehension"),
        ("sin(x=1)", "keyword argument"),
        ("x and y", "'and'/'or'"),
        ("x if y else 1", "conditional"),
        ("x < y", "a comparison"),
        ("x % 2", "'%'"),
        ("(y := 1)", "':='"),
        ("sin(*x)", "starred"),
        ("f'{x}'", "f-string"),
        ("foo(x)", "unsupported function 'foo'"),
        ("min(x, y)", "min/max"),
        ("1j*x", "complex number"),
        ("True*x", "boolean"),
        ("None", "None"),
        ("x // 2", "'//'"),
        ("b'x'", "bytes"),
    ],
)
def test_every_construct_outside_the_whitelist_is_named(text, construct):
    with pytest.raises(ValueError, match="dynamics of 'x'") as err:
        SymbolicPlant(["x", "y"], [], [text, "y"])
    assert construct in str(err.value)


def test_the_exploit_from_issue_10_creates_no_file(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    fmt = "%c" * len(payload)
    codes = ",".join(str(ord(c)) for c in payload)
    text = f"u + 0*1 .equals('{fmt}' % ({codes}))"
    with pytest.raises(ValueError, match="attribute access") as err:
        SymbolicPlant(["x", "v"], ["u"], ["v", text])
    assert "dynamics of 'v'" in str(err.value) and len(str(err.value)) < 400
    assert not marker.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("2**2**2**2**2**2", "too large"),
        ("10**10**10", "too large"),
        ("(x+1)**100000", "exponent 100000"),
        ("x**40*x**40", "exponent 80"),
        ("x/0", "division by zero"),
        ("1/(2-2)", "division by zero"),
        ("log(0)", "non-finite"),
        ("1e999*x", "not finite"),
        ("sqrt(-1)", "complex"),
        ("(" * 300 + "x" + ")" * 300, "nested"),
        ("-" * 5000 + "x", "too complex"),
        ("x+" * 6000 + "x", "too long"),
        ("sin(" * 120 + "x" + ")" * 120, "nested too deeply"),
    ],
)
def test_bombs_and_non_finite_values_are_refused(text, message):
    with pytest.raises(ValueError, match=message) as err:
        parse_expression(text, ["x"], "spec[0]")
    assert str(err.value).startswith("spec[0]") and len(str(err.value)) < 400


def test_full_width_look_alikes_are_refused():
    with pytest.raises(ValueError, match="non-ASCII"):
        SymbolicPlant(["x"], [], ["-x"], parameters={"\uff58": 1.0})
    with pytest.raises(ValueError, match="U\\+FF58"):
        parse_expression("\uff58 + 1", ["x"], "controller.inputs[0]")


@pytest.mark.parametrize("name", ["sin", "pi", "abs", "lambda"])
def test_names_of_functions_constants_and_keywords_are_refused(name):
    with pytest.raises(ValueError, match="states"):
        SymbolicPlant([name], [], ["1"])


def test_sympy_class_names_are_ordinary_states():
    names = ["Integer", "Float", "Symbol", "E", "I", "S", "N"]
    dyn = ["2*Integer + 0.5", "Float**2 - 1/3", "Symbol*E", "I - S", "N*3", "sin(E) + 1.5", "-Integer"]
    p = SymbolicPlant(names, [], dyn)
    z = np.array([1.0, 2.0, 3.0, -1.0, 0.5, 4.0, -2.0])
    i, f, s, e, ii, ss, n = z
    want = [2 * i + 0.5, f**2 - 1 / 3, s * e, ii - ss, n * 3, np.sin(e) + 1.5, -i]
    np.testing.assert_allclose(p.f_numpy(z), want, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(p.f_joint(z)), want, rtol=1e-15)
    W, b = affine_map(["2*Integer + 1", "E - N/4"], names, "controller.inputs")
    np.testing.assert_array_equal(W[1], [0, 0, 0, 1, 0, 0, -0.25])
    assert b[0] == 1.0


def test_caret_is_a_power_with_its_precedence():
    x, u = sp.Symbol("x"), sp.Symbol("u")
    assert parse_expression("x^2 + u", ["x", "u"], "e") == x**2 + u
    assert parse_expression("-x^2", ["x"], "e") == -(x**2)


def test_constraints_parse_one_relation():
    h, g = linear_constraint("x - 2*y >= 1", ["x", "y"], "spec")
    np.testing.assert_array_equal(h, [-1, 2])
    assert g == -1
    with pytest.raises(ValueError, match="'=='"):
        linear_constraint("x == 1", ["x"], "spec")


def test_abs_second_derivative_is_bounded_away_from_the_kink_and_refused_across_it():
    from nncs.dynamics import interval as I
    from nncs.dynamics.symbolic import NotBoundable

    p = SymbolicPlant(["x", "y"], [], ["-abs(x)*y", "y"])
    H = p.hessian_interval(I.Interval(np.array([1.0, -1.0]), np.array([2.0, 1.0])))
    # d2/dx dy (-|x| y) = -sign(x) = -1 for x > 0, d2/dx2 = 0 there
    assert H.lo[0, 0, 1] == -1 and H.hi[0, 0, 1] == -1 and H.lo[0, 0, 0] <= 0 <= H.hi[0, 0, 0]
    with pytest.raises(NotBoundable):
        p.hessian_interval(I.Interval(np.array([-1.0, -1.0]), np.array([2.0, 1.0])))


_TOKENS = [
    "x",
    "y",
    "undeclared",
    "1",
    "2.5",
    "1e3",
    "+",
    "-",
    "*",
    "/",
    "**",
    "^",
    "(",
    ")",
    ".",
    "'",
    '"',
    "[",
    "]",
    ",",
    "=",
    ":",
    "lambda",
    "if",
    "else",
    "and",
    "sin",
    "exp",
    "__import__",
    "os",
    "system",
    "%",
    "\uff58",
    "\u00e9",
    " ",
    "0",
    "pi",
    "abs",
    "{",
    "}",
    "#",
    "\\",
    "@",
    "<",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=25))
def test_fuzz_returns_an_expression_over_declared_names_or_value_error(tmp_path_factory, tokens):
    text = "".join(tokens)
    try:
        expr = parse_expression(text, ["x", "y"], "fuzz")
    except ValueError as exc:
        assert str(exc).startswith("fuzz")
        return
    assert isinstance(expr, sp.Expr)
    assert {s.name for s in expr.free_symbols} <= {"x", "y"}
