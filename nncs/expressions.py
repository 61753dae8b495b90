"""Affine expressions and linear constraints over named variables, parsed with sympy.

Used by the closed loop (controller input/output maps) and the specifications; errors name the expression.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np
import sympy as sp
from sympy.parsing.sympy_parser import (
    auto_number,
    auto_symbol,
    convert_xor,
    factorial_notation,
    parse_expr,
    repeated_decimals,
)

__all__ = ["affine_map", "linear_constraint", "parse_expression", "parse_sympy"]

_RELATIONS = ("<=", ">=", "==", "<", ">")

PARSE_GLOBALS: dict[str, Any] = {
    "Integer": sp.Integer,
    "Float": sp.Float,
    "Rational": sp.Rational,
    "Symbol": sp.Symbol,
    "Function": sp.Function,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "Abs": sp.Abs,
    "abs": sp.Abs,
    "atan": sp.atan,
    "arctan": sp.atan,
    "pi": sp.pi,
}
"""The only names an expression may use besides its variables (any other name becomes a symbol)."""
_TRANSFORMS = (auto_symbol, repeated_decimals, auto_number, factorial_notation, convert_xor)
_ATTRIBUTE = re.compile(r"__|[A-Za-z_)\]}'\"]\s*\.")


def parse_sympy(text: str, symbols: dict, what: str) -> sp.Expr:
    """Parse `text` with sympy's parser restricted to arithmetic, `PARSE_GLOBALS` and `symbols`.

    Unknown names become symbols (so they are reported, never looked up), and attribute access or `__` names
    are refused: a problem or plant file cannot run Python code through an expression.
    Raises:
        ValueError naming `what` when the text does not parse to an arithmetic expression.
    """
    if _ATTRIBUTE.search(text):
        raise ValueError(f"{what}: {text!r}: attribute access and '__' names are not allowed in expressions")
    try:
        expr = parse_expr(text, local_dict=dict(symbols), global_dict=dict(PARSE_GLOBALS), transformations=_TRANSFORMS)
    except Exception as exc:  # sympy's parser raises many kinds here
        raise ValueError(f"{what}: cannot parse {text!r}: {exc}") from None
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"{what}: {text!r} is not an arithmetic expression")
    return expr


def parse_expression(text, names: Sequence[str], what: str) -> sp.Expr:
    """Return `text` (a string or number) as a sympy expression whose free symbols are among `names`."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        expr = sp.Float(text) if isinstance(text, float) else sp.Integer(text)
    elif isinstance(text, str):
        expr = parse_sympy(text, {name: sp.Symbol(name) for name in names}, what)
    else:
        raise ValueError(f"{what}: expected a string or number, got {type(text).__name__}")
    unknown = sorted(str(s) for s in expr.free_symbols if str(s) not in names)
    if unknown:
        raise ValueError(f"{what}: {text!r} uses unknown names {unknown}; known: {list(names)}")
    return expr


def affine_map(expressions: Sequence, names: Sequence[str], what: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (W, b) with `expressions(x) = W x + b` for x over `names`; ValueError if one is not affine.

    Args:
        expressions: strings or numbers, e.g. ["30", "x_lead - x_ego", "11*y0"].
        names: the variable names, in the order of x.
        what: where the expressions come from (for error messages), e.g. "controller.inputs".
    Returns:
        W of shape (len(expressions), len(names)) and b of shape (len(expressions),) (exact).
    """
    symbols = [sp.Symbol(n) for n in names]
    W = np.zeros((len(expressions), len(names)))
    b = np.zeros(len(expressions))
    for i, text in enumerate(expressions):
        expr = sp.expand(parse_expression(text, names, f"{what}[{i}]"))
        try:
            poly = sp.Poly(expr, *symbols) if symbols else None
        except sp.PolynomialError:
            poly = None
        if symbols and (poly is None or poly.total_degree() > 1):
            raise ValueError(f"{what}[{i}]: {text!r} is not affine in {list(names)}; only affine maps are supported")
        for j, s in enumerate(symbols):
            W[i, j] = float(expr.coeff(s, 1)) if symbols else 0.0
        constant = expr.subs({s: 0 for s in symbols})
        if not constant.is_number:
            raise ValueError(f"{what}[{i}]: {text!r} is not affine in {list(names)}")
        b[i] = float(constant)
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
        raise ValueError(f"{what}: coefficients must be finite")
    return W, b


def linear_constraint(text: str, names: Sequence[str], what: str) -> tuple[np.ndarray, float]:
    """Return (h, g) such that the constraint `text` (e.g. "x1 - x2 >= 10 + 1.4*x3") reads `h.x <= g`.

    Strict and non-strict inequalities are treated alike (closed sets); "==" is refused (use two constraints).
    """
    if not isinstance(text, str):
        raise ValueError(f"{what}: a constraint must be a string like 'x1 >= 0', got {text!r}")
    for rel in ("<=", ">=", "<", ">"):
        if rel in text:
            lhs, _, rhs = text.partition(rel)
            break
    else:
        raise ValueError(f"{what}: {text!r} has no relation; write 'expr <= expr' or 'expr >= expr'")
    if any(r in rhs for r in _RELATIONS):
        raise ValueError(f"{what}: {text!r} has more than one relation")
    W, b = affine_map([f"({lhs}) - ({rhs})"], names, what)
    h, g = W[0], -b[0]  # lhs - rhs = h.x - g
    if rel.startswith(">"):
        h, g = -h, -g
    if not np.any(h != 0):
        raise ValueError(f"{what}: {text!r} does not involve any of {list(names)}")
    return h, float(g)
