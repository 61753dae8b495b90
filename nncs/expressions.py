"""Arithmetic expressions over declared names, parsed from text without evaluating it; affine maps; constraints.

A problem file is data, never code. An expression is parsed by Python's `ast` module (which only builds a
syntax tree, it runs nothing) and the tree is walked over a whitelist: numeric literals (int, float), the
names declared by the caller, the constant `pi`, unary `+ -`, binary `+ - * / **` (and `^`, read as `**`
with the same precedence and right associativity, as sympy's `convert_xor` did), and calls of the functions
of `FUNCTIONS` with positional arguments. The sympy expression is built node by node from that tree; no text
ever reaches `eval`, `exec`, `sympify` or sympy's `parse_expr`. Anything else (attribute access, subscripts,
strings, lambdas, comprehensions, keywords, `and`/`or`/`if`, comparisons outside constraints, `%`, `:=`,
starred arguments, f-strings, calls of any other name) is a ValueError naming the entry and the construct.

Bounds keep every parse small: at most `MAX_LENGTH` characters, `MAX_NODES` syntax nodes and nesting depth
`MAX_DEPTH` (a chain `a + b + c ...` or `a * b / c ...` counts as one level), integer exponents of
non-constant bases at most `MAX_EXPONENT` in magnitude, and constant powers folded only while the result
stays below `MAX_CONSTANT_BITS` bits. Every constant of a result is a finite double-range real number:
division by zero, `log(0)`, `sqrt(-1)` and overflowing literals are refused.

Identifiers are compared exactly: text and names must be plain ASCII (Python's parser would fold Unicode
look-alikes such as the full-width `ｘ` into `x` by NFKC normalisation), names must be identifiers that are not
Python keywords, function names or `pi`. Any other identifier (`Integer`, `Float`, `E`, `I`, `S`, `N`, ...)
is an ordinary name.

Used by the plants (dynamics), the closed loop (controller input/output maps), the specifications and plots.
"""

from __future__ import annotations

import ast
import keyword
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from nncs.suggest import did_you_mean

__all__ = [
    "affine_map",
    "linear_constraint",
    "linear_relation",
    "parse_relation",
    "is_affine",
    "substitute_constants",
    "affine_relation",
    "parse_expression",
    "check_name",
    "finite_float",
    "FUNCTIONS",
    "CONSTANTS",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_CONSTANT_BITS",
]

MAX_LENGTH = 10_000
"""Longest expression text accepted, in characters."""
MAX_NODES = 5_000
"""Most syntax-tree nodes in one expression."""
MAX_DEPTH = 100
"""Deepest nesting of one expression (a chain of + and - or of * and / counts as one level)."""
MAX_EXPONENT = 64
"""Largest |n| of an integer exponent on a base that is not a rational or float number."""
MAX_CONSTANT_BITS = 4096
"""Largest estimated size, in bits, of a power of numbers that is folded into one number."""

FUNCTIONS: dict[str, Callable[..., sp.Expr]] = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "atan": sp.atan,
    "arctan": sp.atan,
}
"""The functions an expression may call, each with exactly one positional argument."""
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi}
"""The named constants an expression may use."""
_REFUSED_FUNCTIONS = {
    "min": "min/max are not supported (the interval and JAX back ends have no enclosure for them here)",
    "max": "min/max are not supported (the interval and JAX back ends have no enclosure for them here)",
    "Min": "min/max are not supported (the interval and JAX back ends have no enclosure for them here)",
    "Max": "min/max are not supported (the interval and JAX back ends have no enclosure for them here)",
}

_RELATIONS = {ast.LtE: "<=", ast.GtE: ">=", ast.Lt: "<", ast.Gt: ">"}
_OPERATOR_NAMES = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Invert: "~",
    ast.Not: "not",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
_CONSTRUCTS: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripting",
    ast.Slice: "a slice",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "a conditional expression ('if'/'else')",
    ast.Compare: "a comparison",
    ast.NamedExpr: "an assignment expression (':=')",
    ast.Starred: "a starred argument",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Tuple: "a tuple",
    ast.List: "a list",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
    ast.keyword: "a keyword argument",
}
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Call,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.UAdd,
    ast.USub,
)
_SUM_OPS = (ast.Add, ast.Sub)
_PRODUCT_OPS = (ast.Mult, ast.Div)


def _cut(text: Any, limit: int = 80) -> str:
    """`text` as a short repr for error messages (at most about `limit` characters)."""
    s = text if isinstance(text, str) else repr(text)
    return repr(s) if len(s) <= limit else repr(s[: limit - 3] + "...") + f" ({len(s)} characters)"


def _non_ascii(text: str) -> str | None:
    """A description of the first non-ASCII character of `text`, or None when it is plain ASCII."""
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            return f"{ch!r} (U+{ord(ch):04X}) at position {i}"
    return None


def check_name(name: Any, what: str) -> str:
    """Return `name` when it is a valid declared name; ValueError naming `what` otherwise.

    Args:
        name: the candidate name.
        what: where it comes from, e.g. "states[0]".
    Returns:
        `name` unchanged.
    Raises:
        ValueError: when `name` is not a str, not plain ASCII, not a Python identifier, a Python keyword, or
            the name of a function or constant of the expression language (so it could not be told apart).
    """
    if not isinstance(name, str):
        raise ValueError(f"{what}: a name must be a string, got {type(name).__name__} {_cut(name)}")
    bad = _non_ascii(name)
    if bad is not None:
        raise ValueError(
            f"{what}: name {_cut(name)} has the non-ASCII character {bad}; names must be plain "
            f"ASCII identifiers (look-alike letters would silently mean another name)"
        )
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{what}: {_cut(name)} is not a valid name (use an ASCII identifier, not a keyword)")
    if name in FUNCTIONS or name in CONSTANTS or name in _REFUSED_FUNCTIONS:
        raise ValueError(
            f"{what}: {name!r} is the name of a function or constant of expressions; choose another name"
        )
    return name


class _Parser:
    """One parse of one text: the declared symbols, where it comes from, and the text (for messages)."""

    def __init__(self, text: str, symbols: Mapping[str, sp.Symbol], what: str, hint: str = ""):
        self.text = text
        self.symbols = symbols
        self.what = what
        self.hint = hint

    def check_names(self, tree: ast.AST) -> None:
        """Refuse the names of `tree` that are not declared (all of them in one message)."""
        unknown = sorted(
            {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            - set(self.symbols)
            - set(CONSTANTS)
            - set(FUNCTIONS)
        )
        if unknown:
            known = sorted(self.symbols)
            shown = known if len(known) <= 20 else known[:20] + ["..."]
            guess = did_you_mean(unknown[0], self.symbols)
            raise self.fail(f"uses unknown names {unknown[:10]}{guess}; known: {shown}{self.hint}")

    def fail(self, message: str) -> ValueError:
        return ValueError(f"{self.what}: {_cut(self.text)}: {message}")

    # ------------------------------------------------------------------------------------------ whitelist
    def check_tree(self, tree: ast.AST, allow: tuple[type, ...] = ()) -> None:
        """Refuse every node outside the whitelist; bound the node count and the nesting depth."""
        count = 0
        stack: list[tuple[ast.AST, int]] = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, (ast.expr, ast.keyword)):  # operators and contexts are not counted
                count += 1
            if count > MAX_NODES:
                raise self.fail(f"the expression is too large (more than {MAX_NODES} syntax nodes)")
            if depth > MAX_DEPTH:
                raise self.fail(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)")
            self.check_node(node, allow)
            for child in reversed(list(ast.iter_child_nodes(node))):  # the leftmost construct is named first
                flat = (
                    isinstance(node, ast.BinOp)
                    and child is node.left
                    and isinstance(child, ast.BinOp)
                    and _same_chain(node.op, child.op)
                )
                stack.append((child, depth if flat else depth + 1))

    def check_node(self, node: ast.AST, allow: tuple[type, ...]) -> None:
        if isinstance(node, allow):
            return
        if isinstance(node, ast.Constant):
            self.number(node)  # refuses strings, bytes, None, booleans, complex, ..., non-finite floats
            return
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                raise self.fail("an assignment is not allowed in expressions")
            return
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                raise self.fail("attribute access (a method call) is not allowed in expressions")
            if not isinstance(node.func, ast.Name):
                raise self.fail(
                    "only the functions " + ", ".join(FUNCTIONS) + " may be called (calling the "
                    "result of an expression is not allowed)"
                )
            name = node.func.id
            if name in _REFUSED_FUNCTIONS:
                raise self.fail(_REFUSED_FUNCTIONS[name])
            if name not in FUNCTIONS:
                raise self.fail(f"unsupported function {name!r} (supported: {', '.join(FUNCTIONS)})")
            if node.keywords:
                raise self.fail(f"a keyword argument in the call of {name!r} is not allowed")
            if len(node.args) != 1:
                if any(isinstance(a, ast.Starred) for a in node.args):
                    raise self.fail("a starred argument is not allowed in expressions")
                raise self.fail(f"{name!r} takes exactly 1 argument, got {len(node.args)}")
            return
        if isinstance(node, _ALLOWED):
            return
        op = _OPERATOR_NAMES.get(type(node))
        if op is not None:
            raise self.fail(f"the operator {op!r} is not allowed in expressions")
        construct = _CONSTRUCTS.get(type(node), f"a {type(node).__name__} node")
        raise self.fail(f"{construct} is not allowed in expressions")

    # -------------------------------------------------------------------------------------------- building
    def number(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool):
            raise self.fail("a boolean is not allowed in expressions")
        if isinstance(value, int):
            if value.bit_length() > 1023:
                raise self.fail(f"the integer {_cut(str(value), 40)} is too large (beyond the double range)")
            return sp.Integer(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail("a number literal is not finite (it overflows a double)")
            return sp.Float(value)
        if isinstance(value, str):
            raise self.fail("a string is not allowed in expressions")
        if isinstance(value, bytes):
            raise self.fail("a bytes literal is not allowed in expressions")
        if isinstance(value, complex):
            raise self.fail("a complex number is not allowed in expressions")
        if value is None:
            raise self.fail("None is not allowed in expressions")
        raise self.fail(f"the literal {_cut(repr(value), 20)} is not allowed in expressions")

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                return self.symbols[node.id]
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            if node.id in FUNCTIONS:
                raise self.fail(f"the function {node.id!r} is used without a call")
            guess = did_you_mean(node.id, self.symbols)
            raise self.fail(
                f"uses unknown names [{node.id!r}]{guess}; known: {sorted(self.symbols)}{self.hint}"
            )
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call):
            arg = self.build(node.args[0])
            return self.guard(FUNCTIONS[node.func.id](arg))
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, _SUM_OPS):
                return self.sum(node)
            if isinstance(node.op, _PRODUCT_OPS):
                return self.product(node)
            if isinstance(node.op, ast.Pow):
                return self.power(self.build(node.left), self.build(node.right))
        raise self.fail(
            f"{type(node).__name__} is not allowed in expressions"
        )  # the whitelist stops it before

    def sum(self, node: ast.BinOp) -> sp.Expr:
        """A chain a +- b +- c ... built as one sympy Add (numbers folded left to right, as Python would)."""
        terms = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, _SUM_OPS):
            terms.append((isinstance(node.op, ast.Sub), node.right))
            node = node.left
        args = [self.build(node)]
        for negate, right in reversed(terms):
            value = self.build(right)
            args.append(-value if negate else value)
        return self.guard(sp.Add(*args))

    def product(self, node: ast.BinOp) -> sp.Expr:
        """A chain a */ b */ c ... folded left to right with sympy's operators (as Python would)."""
        factors = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, _PRODUCT_OPS):
            factors.append((isinstance(node.op, ast.Div), node.right))
            node = node.left
        acc = self.build(node)
        for divide, right in reversed(factors):
            value = self.build(right)
            if divide:
                if value.is_zero:
                    raise self.fail("division by zero")
                acc = acc / value
            else:
                acc = acc * value
            acc = self.guard(acc)
            self.check_powers(acc)
        return acc

    def power(self, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        """base ** exponent, refusing powers that would take unbounded time or memory to form."""
        if exponent.is_Number:
            magnitude = abs(exponent)
            integral = bool(exponent.is_Integer) or (exponent.is_Float and float(exponent).is_integer())
            if base.is_Number:
                if base.is_zero and exponent.is_negative:
                    raise self.fail("division by zero (0 raised to a negative power)")
                if not base.is_zero and abs(base) != 1:
                    if base.is_Rational and exponent.is_Rational:
                        bits = max(int(base.p).bit_length(), int(base.q).bit_length())
                    else:
                        bits = abs(math.log2(abs(float(base))))
                    if magnitude > MAX_CONSTANT_BITS or float(magnitude) * bits > MAX_CONSTANT_BITS:
                        raise self.fail(
                            f"the power {_cut(str(base), 30)}**{_cut(str(exponent), 30)} is too large "
                            f"to form (more than {MAX_CONSTANT_BITS} bits)"
                        )
            elif integral and magnitude > MAX_EXPONENT:
                raise self.fail(
                    f"the exponent {exponent} is too large (integer exponents of non-numbers are "
                    f"limited to {MAX_EXPONENT} in magnitude)"
                )
            elif not integral and magnitude > MAX_CONSTANT_BITS:
                raise self.fail(
                    f"the exponent {exponent} is too large (limit {MAX_CONSTANT_BITS} in magnitude)"
                )
        result = self.guard(base**exponent)
        self.check_powers(result)
        return result

    def check_powers(self, expr: sp.Expr) -> None:
        """Refuse integer powers of non-numbers above MAX_EXPONENT that sympy formed by combining powers.

        Only `expr` and, for a product, its factors are looked at: deeper powers were checked when formed.
        """
        for p in (expr, *expr.args) if expr.is_Mul else (expr,):
            if not p.is_Pow:
                continue
            b, e = p.args
            if (
                e.is_Number
                and not b.is_Number
                and (e.is_Integer or (e.is_Float and float(e).is_integer()))
                and abs(e) > MAX_EXPONENT
            ):
                raise self.fail(
                    f"the exponent {e} is too large (integer exponents of non-numbers are limited to "
                    f"{MAX_EXPONENT} in magnitude)"
                )

    def guard(self, expr: sp.Expr) -> sp.Expr:
        """Refuse results that are not finite real numbers: division by zero, log(0), sqrt(-1), overflow."""
        if expr.is_Number or expr.is_NumberSymbol:
            self.check_constant(expr)
            return expr
        if expr.has(sp.zoo, sp.oo, sp.nan, -sp.oo):
            raise self.fail("division by zero or a non-finite value (e.g. log(0))")
        if expr.has(sp.I) or (not expr.free_symbols and expr.is_extended_real is False):
            raise self.fail("a complex value (e.g. the square root or log of a negative number)")
        for atom in expr.atoms(sp.Number):
            self.check_constant(atom)
        return expr

    def check_constant(self, value: sp.Expr) -> None:
        if value in (sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise self.fail("division by zero or a non-finite value (e.g. log(0))")
        if value.is_Rational:
            p, q = int(value.p), int(value.q)
            if p.bit_length() - q.bit_length() > 1023:
                raise self.fail("a constant is too large (beyond the double range)")
        elif value.is_Float and not math.isfinite(float(value)):
            raise self.fail("a constant is too large (beyond the double range)")
        elif value.is_Number and not value.is_real:
            raise self.fail("a complex value is not allowed")


def _same_chain(op: ast.operator, child: ast.operator) -> bool:
    return (isinstance(op, _SUM_OPS) and isinstance(child, _SUM_OPS)) or (
        isinstance(op, _PRODUCT_OPS) and isinstance(child, _PRODUCT_OPS)
    )


def _symbol_table(names: Sequence[str] | Mapping[str, sp.Symbol], what: str) -> dict[str, sp.Symbol]:
    if isinstance(names, Mapping):
        table = dict(names)
    else:
        if isinstance(names, str):
            raise ValueError(
                f"{what}: the declared names must be a list of names, not the string {_cut(names)}"
            )
        table = {n: sp.Symbol(n) for n in names}
    for n in table:
        check_name(n, f"{what}: declared name")
    return table


def _parse_tree(text: str, what: str) -> ast.Expression:
    """The syntax tree of `text` (mode "eval"), after the length and ASCII checks; ValueError if it fails."""
    if len(text) > MAX_LENGTH:
        raise ValueError(
            f"{what}: {_cut(text)}: the expression is too long (more than {MAX_LENGTH} characters)"
        )
    bad = _non_ascii(text)
    if bad is not None:
        raise ValueError(
            f"{what}: {_cut(text)}: the non-ASCII character {bad} is not allowed in expressions "
            f"(names must be plain ASCII identifiers)"
        )
    if "\x00" in text:
        raise ValueError(f"{what}: {_cut(text)}: a NUL character is not allowed in expressions")
    if "#" in text:
        raise ValueError(f"{what}: {_cut(text)}: a comment ('#') is not allowed in expressions")
    source = text.replace(
        "^", "**"
    )  # `^` is a power (sympy's convert_xor); outside strings, which are refused
    try:
        with (
            warnings.catch_warnings()
        ):  # e.g. "invalid decimal literal": the text is refused or parsed anyway
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"{what}: cannot parse {_cut(text)}: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        raise ValueError(
            f"{what}: cannot parse {_cut(text)}: it is too complex ({type(exc).__name__})"
        ) from None
    return tree


def _parse(
    text: Any,
    names: Sequence[str] | Mapping[str, sp.Symbol],
    what: str,
    relation: bool = False,
    hint: str = "",
) -> sp.Expr | tuple[sp.Expr, str, sp.Expr]:
    symbols = _symbol_table(names, what)
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(f"{what}: expected a string or number, got {type(text).__name__} {_cut(text)}")
    if not isinstance(text, str):
        parser = _Parser(repr(text), symbols, what)
        return parser.number(ast.Constant(text))
    tree = _parse_tree(text, what)
    parser = _Parser(text, symbols, what, hint)
    if not relation:
        parser.check_tree(tree)
        parser.check_names(tree)
        return parser.build(tree)
    body = tree.body
    if not isinstance(body, ast.Compare):
        parser.check_tree(tree)  # a forbidden construct is named first
        raise parser.fail("it has no relation; write 'expr <= expr' or 'expr >= expr'")
    if len(body.ops) != 1:
        raise parser.fail("it has more than one relation; write one constraint per entry")
    op = type(body.ops[0])
    if op not in _RELATIONS:
        if op is ast.Eq:
            raise parser.fail("'==' is not supported; write two constraints ('<=' and '>=')")
        raise parser.fail(
            f"the relation {_OPERATOR_NAMES.get(op, op.__name__)!r} is not supported; use <=, >=, <, >"
        )
    parser.check_tree(ast.Expression(body.left))
    parser.check_tree(ast.Expression(body.comparators[0]))
    parser.check_names(body)
    lhs = parser.build(body.left)
    rhs = parser.build(body.comparators[0])
    return lhs, _RELATIONS[op], rhs


def parse_expression(
    text: Any, names: Sequence[str] | Mapping[str, sp.Symbol], what: str, hint: str = ""
) -> sp.Expr:
    """Parse `text` (a string or number) into a sympy expression over the declared `names`, evaluating nothing.

    Args:
        text: e.g. "v_ego + 0.5*sin(theta)^2" or a number (int or float, not bool).
        names: the declared names (each becomes `sympy.Symbol(name)`), or a mapping name -> the Symbol to use.
        what: where the text comes from, e.g. "dynamics of 'x'" (named in every error).
        hint: appended to the message about unknown names (e.g. where to declare them).
    Returns:
        The expression; its free symbols are among the declared symbols.
    Raises:
        ValueError: naming `what`, a cut text and the reason, for anything outside the grammar of the module
            docstring, unknown names, non-finite or complex results, or a text past the size limits.
    """
    return _parse(text, names, what, hint=hint)


def _affine_parts(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> tuple[dict, sp.Expr] | None:
    """(coefficients by symbol, constant) of `expr` read as written (no expansion); None when not affine."""
    if not (expr.free_symbols & set(symbols)):
        return {}, expr
    if expr.is_Symbol:
        return {expr: sp.S.One}, sp.S.Zero
    if expr.is_Add:
        coeffs: dict = {}
        const = []
        for arg in expr.args:
            part = _affine_parts(arg, symbols)
            if part is None:
                return None
            for s, c in part[0].items():
                coeffs[s] = coeffs.get(s, sp.S.Zero) + c
            const.append(part[1])
        return coeffs, sp.Add(*const)
    if expr.is_Mul:
        scale, variable = [], []
        for arg in expr.args:
            (variable if arg.free_symbols & set(symbols) else scale).append(arg)
        if len(variable) != 1:
            return None
        part = _affine_parts(variable[0], symbols)
        if part is None:
            return None
        k = sp.Mul(*scale)
        return {s: k * c for s, c in part[0].items()}, k * part[1]
    return None


def finite_float(value: sp.Expr, what: str) -> float:
    """The double nearest to the constant sympy expression `value`.

    Raises:
        ValueError "{what} is not a real number" (a symbol or a complex value is left) or "{what} is not finite
        as a double" (infinite, NaN, or too large).
    """
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} is not a real number") from None
    if not math.isfinite(f):
        raise ValueError(f"{what} is not finite as a double")
    return f


def _to_float(value: sp.Expr, parser_what: str, text: Any) -> float:
    return finite_float(value, f"{parser_what}: {_cut(text)}: a coefficient")


def _affine_row(expr: sp.Expr, names: Sequence[str], what: str, text: Any) -> tuple[np.ndarray, float]:
    symbols = [sp.Symbol(n) for n in names]
    parts = _affine_parts(expr, symbols)
    if parts is None:
        raise ValueError(
            f"{what}: {_cut(text)} is not affine in {list(names)}; only affine maps are supported "
            f"(products and powers of the names are not expanded)"
        )
    coeffs, const = parts
    row = np.array([_to_float(coeffs.get(s, sp.S.Zero), what, text) for s in symbols], dtype=np.float64)
    return row, _to_float(const, what, text)


def affine_map(expressions: Sequence, names: Sequence[str], what: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (W, b) with `expressions(x) = W x + b` for x over `names`; ValueError if one is not affine.

    Args:
        expressions: strings or numbers, e.g. ["30", "x_lead - x_ego", "11*y0"].
        names: the variable names, in the order of x.
        what: where the expressions come from (for error messages), e.g. "controller.inputs".
    Returns:
        W of shape (len(expressions), len(names)) and b of shape (len(expressions),): each entry the double
        nearest to the exact coefficient (exact for integers and for the decimal literals' doubles).
    Raises:
        ValueError: naming `what[i]` for a text that does not parse (see `parse_expression`), uses unknown
            names, is not affine as written (sympy's automatic simplification applies, no expansion), or has
            a coefficient that is not a finite double.
    """
    if isinstance(expressions, str):
        raise ValueError(f"{what}: expected a list of expressions, got the string {_cut(expressions)}")
    names = list(names)
    W = np.zeros((len(expressions), len(names)))
    b = np.zeros(len(expressions))
    for i, text in enumerate(expressions):
        where = f"{what}[{i}]"
        expr = parse_expression(text, names, where)
        W[i], b[i] = _affine_row(expr, names, where, text)
    return W, b


def _constant(value: Any, name: str, what: str) -> sp.Expr:
    """A named constant as a sympy number: a sympy constant as it is, a finite int or float exactly (no strings)."""
    if isinstance(value, sp.Basic) and not value.free_symbols:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what}: the constant {name!r} must be a number, got {_cut(value)}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{what}: the constant {name!r} is not finite")
    return sp.Integer(int(value)) if isinstance(value, (int, np.integer)) else sp.Float(float(value), 17)


def parse_relation(
    text: str, names: Sequence[str], what: str, constants: Mapping[str, Any] | None = None
) -> tuple[sp.Expr, str]:
    """Return (lhs - rhs, the relation) of the constraint `text` (e.g. "sqrt(vx^2 + vy^2) <= 0.2 + 2*n*r"),
    with the named `constants` substituted: exact, nothing evaluated as Python.

    Args:
        text: one relation `lhs REL rhs` with REL one of <=, >=, <, >.
        names: the variable names.
        what: where the constraint comes from (named in every error).
        constants: named values the text may use besides `names` (numbers or exact sympy constants).
    Raises:
        ValueError: naming `what` for a non-string, no relation, more than one, "==", or a side that does not
            parse.
    """
    if not isinstance(text, str):
        raise ValueError(f"{what}: a constraint must be a string like 'x1 >= 0', got {_cut(text)}")
    constants = dict(constants or {})
    lhs, rel, rhs = _parse(text, list(names) + [c for c in constants if c not in names], what, relation=True)
    return substitute_constants(lhs - rhs, constants, names, what), rel


def substitute_constants(
    expr: sp.Expr, constants: Mapping[str, Any], names: Sequence[str], what: str
) -> sp.Expr:
    """`expr` with each named constant that is not one of `names` replaced by its exact value.

    Raises:
        ValueError naming `what` and the constant for a value that is not a finite number.
    """
    replacements = {sp.Symbol(k): _constant(v, k, what) for k, v in constants.items() if k not in names}
    return expr.xreplace(replacements) if replacements else expr


def is_affine(expr: sp.Expr, names: Sequence[str]) -> bool:
    """Whether `expr` is affine in the `names` as written (products and powers of them are not expanded)."""
    return _affine_parts(expr, [sp.Symbol(n) for n in names]) is not None


def linear_relation(
    text: str, names: Sequence[str], what: str, constants: Mapping[str, Any] | None = None
) -> tuple[np.ndarray, float, bool]:
    """Return (h, g, strict) such that the constraint `text` (e.g. "x1 - x2 > 10 + 1.4*x3") reads `h.x <= g`
    (strict False) or `h.x < g` (strict True: the relation was `<` or `>`).

    Args:
        text: one relation `lhs REL rhs` with REL one of <=, >=, <, > and both sides affine in `names`.
        names: the variable names, in the order of x.
        what: where the constraint comes from, e.g. "spec.always[0]".
        constants: named values the text may use besides `names` (e.g. a plant's parameters: numbers or exact
            sympy constants), substituted before the text is read as affine.
    Returns:
        (h, g, strict): exact (the constraint rewritten, nothing dropped).
    Raises:
        ValueError: naming `what` for a non-string, no relation, more than one, "==" (write two constraints),
            a side that does not parse or is not affine, or a constraint that involves none of `names`.
    """
    diff, rel = parse_relation(text, names, what, constants)
    return affine_relation(diff, rel, names, what, text)


def affine_relation(
    diff: sp.Expr, rel: str, names: Sequence[str], what: str, text: str
) -> tuple[np.ndarray, float, bool]:
    """`linear_relation` of an already parsed relation `diff REL 0` (from `parse_relation`; `text` as written,
    for messages): (h, g, strict), exact.

    Raises:
        ValueError naming `what` when `diff` is not affine in `names` or involves none of them.
    """
    h, c = _affine_row(diff, list(names), what, text)  # lhs - rhs = h.x + c
    g = -c
    if rel.startswith(">"):
        h, g = -h, -g
    if not np.any(h != 0):
        raise ValueError(f"{what}: {_cut(text)} does not involve any of {list(names)}")
    return h, float(g), rel in ("<", ">")


def linear_constraint(text: str, names: Sequence[str], what: str) -> tuple[np.ndarray, float]:
    """Return (h, g) such that the closure of the constraint `text` (e.g. "x1 - x2 >= 10 + 1.4*x3") reads
    `h.x <= g` (a strict `<` / `>` gives its closure; `linear_relation` also says whether it was strict).

    Raises:
        ValueError: as `linear_relation`.
    """
    h, g, _ = linear_relation(text, names, what)
    return h, g
