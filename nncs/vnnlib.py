"""VNN-LIB properties (the subset ACAS Xu and common benchmarks use): input boxes and unsafe output regions.

A property is violated when some input of one of its boxes gives an output in one of that box's unsafe polytopes.
Strangers' files are checked, not trusted: variables must be written `X_i` / `Y_i` with canonical indices (no
leading zeros, so no two names can mean one variable), declared once, with indices below `MAX_VARIABLES` and no
gaps; numbers must be finite; nesting is limited to `MAX_DEPTH` and the disjunctive normal form to `MAX_CASES`
conjunctions (counted before it is built). A declared output that no assertion uses is accepted (it fixes the
network's output count, which is checked against the network); a declared input must be bounded.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np

__all__ = ["VnnlibCase", "VnnlibProperty", "VnnlibTimeout", "load_vnnlib", "parse_vnnlib"]

MAX_VARIABLES = 10**6
"""Largest number of inputs or outputs (highest index + 1) a property may declare."""
MAX_DEPTH = 256
"""Deepest nesting of parentheses accepted."""
MAX_CASES = 10_000
"""Most conjunctions the disjunctive normal form of the assertions may have."""
MAX_VNNLIB_BYTES = 512 * 2**20
"""Largest .vnnlib file read."""


class VnnlibTimeout(ValueError):
    """Parsing a property ran past its deadline."""


@dataclass(frozen=True, eq=False)
class VnnlibCase:
    """One input box with the unsafe output region attached to it.

    Attributes:
        lb, ub: (n_inputs,) bounds of the input box.
        unsafe: tuple of (A, b) pairs; the output y is unsafe when `A y <= b` holds for some pair
            (a disjunction of conjunctions of linear inequalities). Provers use this closed region (sound).
        strict: per pair, a boolean mask of the rows written `<` / `>` (then `A_i y < b_i`); None: none strict.
        lb_open, ub_open: (n_inputs,) masks of strict input bounds (`X_i > lb_i`, `X_i < ub_i`); None: none.
        Counterexamples are checked against the strict forms, so a boundary point of an open constraint is
        never reported as a violation.
    """

    lb: np.ndarray
    ub: np.ndarray
    unsafe: tuple
    strict: tuple | None = None
    lb_open: np.ndarray | None = None
    ub_open: np.ndarray | None = None

    def is_unsafe(self, y: np.ndarray, tol: float = 0.0) -> np.ndarray:
        """Return, for each row of y (shape (n, n_outputs) or (n_outputs,)), whether it lies in the unsafe region."""
        y = np.atleast_2d(np.asarray(y, dtype=float))
        hit = np.zeros(y.shape[0], dtype=bool)
        for k, (A, b) in enumerate(self.unsafe):
            lhs, rhs = y @ A.T, b + tol
            inside = lhs <= rhs
            if self.strict is not None and self.strict[k].any():
                inside = np.where(self.strict[k], lhs < rhs, inside)
            hit |= np.all(inside, axis=1)
        return hit

    def contains_input(self, x: np.ndarray, tol: float = 0.0) -> np.ndarray:
        """Return, for each row of x, whether it lies in the input box (strict bounds excluded at the bound)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        above = (
            np.where(self.lb_open, x > self.lb - tol, x >= self.lb - tol)
            if self.lb_open is not None
            else x >= self.lb - tol
        )
        below = (
            np.where(self.ub_open, x < self.ub + tol, x <= self.ub + tol)
            if self.ub_open is not None
            else x <= self.ub + tol
        )
        return np.all(above & below, axis=1)


@dataclass(frozen=True, eq=False)
class VnnlibProperty:
    """A parsed VNN-LIB file: `cases` is a disjunction of (input box, unsafe output region) pairs.

    The property holds when no case has an input in its box whose output is unsafe; it is violated otherwise.
    """

    n_inputs: int
    n_outputs: int
    cases: tuple
    source: str = "property"

    def violated_by(self, x: np.ndarray, y: np.ndarray, tol: float = 0.0) -> bool:
        """Return True when input x (in some case's box, to `tol`) and its output y witness a violation."""
        x = np.asarray(x, dtype=float).reshape(-1)
        return any(case.contains_input(x, tol)[0] and case.is_unsafe(y, tol)[0] for case in self.cases)


# ---------------------------------------------------------------------------------------------- lexer/parser
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _tokenize(text: str, source: str) -> list[tuple[str, int]]:
    """Return the (token, line number) pairs of `text`, comments (from ';' to the end of the line) removed."""
    tokens: list[tuple[str, int]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        code = line.split(";", 1)[0]
        tokens.extend((tok, lineno) for tok in _TOKEN.findall(code))
    return tokens


def _parse_sexprs(tokens: list[tuple[str, int]], source: str) -> list:
    """Return a list of (expression, line) where an expression is a token string or a list of (expr, line)."""
    stack: list[list] = [[]]
    open_lines: list[int] = []
    for tok, line in tokens:
        if tok == "(":
            if len(stack) > MAX_DEPTH:
                raise ValueError(f"{source}: line {line}: parentheses nested deeper than {MAX_DEPTH}")
            stack.append([])
            open_lines.append(line)
        elif tok == ")":
            if len(stack) == 1:
                raise ValueError(f"{source}: line {line}: unmatched ')'")
            done = stack.pop()
            stack[-1].append((done, open_lines.pop()))
        else:
            stack[-1].append((tok, line))
    if len(stack) > 1:
        raise ValueError(f"{source}: line {open_lines[-1]}: '(' is never closed")
    return stack[0]


_VAR = re.compile(r"^([XY])_(0|[1-9][0-9]*)$")
_NEAR_VAR = re.compile(r"^([XY])_([0-9]+)$")


class _Builder:
    def __init__(self, source: str):
        self.source = source
        self.declared: dict[str, int] = {}
        self.n_x = 0
        self.n_y = 0

    def err(self, line: int, msg: str) -> ValueError:
        return ValueError(f"{self.source}: line {line}: {msg}")

    # A linear term is a dict {("X", i) | ("Y", i) | "const": coefficient}.
    def term(self, expr, line) -> dict:
        if isinstance(expr, str):
            m = _VAR.match(expr)
            if m:
                if expr not in self.declared:
                    raise self.err(line, f"variable {expr} is used before its declare-const")
                return {(m.group(1), int(m.group(2))): 1.0}
            try:
                value = float(expr)
            except ValueError:
                raise self.err(line, f"unknown symbol {expr[:40]!r}") from None
            if not math.isfinite(value):
                raise self.err(line, f"number {expr[:40]!r} is not finite")
            return {"const": value}
        if not expr:
            raise self.err(line, "empty expression ()")
        head, hline = expr[0]
        args = [self.term(e, ln) for e, ln in expr[1:]]
        if head == "+":
            return _combine(args, [1.0] * len(args))
        if head == "-":
            if len(args) == 1:
                return _combine(args, [-1.0])
            return _combine(args, [1.0] + [-1.0] * (len(args) - 1))
        if head == "*":
            consts = [a for a in args if set(a) <= {"const"}]
            others = [a for a in args if not set(a) <= {"const"}]
            if len(others) > 1:
                raise self.err(hline, "product of two variables is not linear")
            k = float(np.prod([a.get("const", 0.0) for a in consts])) if consts else 1.0
            base = others[0] if others else {"const": 1.0}
            return {key: k * v for key, v in base.items()}
        raise self.err(hline, f"unsupported operator {head!r} in a term")

    # A formula in DNF: list of conjunctions, each a list of (coefficient dict, line, strict) meaning
    # `expr <= 0` (`expr < 0` when strict).
    def formula(self, expr, line) -> list[list]:
        if isinstance(expr, str) or not expr:
            raise self.err(line, f"expected a formula, got {expr!r}")
        head, hline = expr[0]
        args = expr[1:]
        if head == "and":
            parts = [self.formula(e, ln) for e, ln in args]
            return [sum(combo, []) for combo in product(*parts)] if parts else [[]]
        if head == "or":
            out: list[list] = []
            for e, ln in args:
                out.extend(self.formula(e, ln))
            if not out:
                raise self.err(hline, "empty (or)")
            return out
        if head in ("<=", ">=", "<", ">"):
            if len(args) != 2:
                raise self.err(hline, f"({head} ...) needs two arguments, got {len(args)}")
            a = self.term(*args[0])
            b = self.term(*args[1])
            diff = _combine([a, b], [1.0, -1.0] if head in ("<=", "<") else [-1.0, 1.0])
            return [[(diff, hline, head in ("<", ">"))]]
        if head == "=":
            if len(args) != 2:
                raise self.err(hline, "(= ...) needs two arguments")
            a, b = self.term(*args[0]), self.term(*args[1])
            return [
                [(_combine([a, b], [1.0, -1.0]), hline, False), (_combine([a, b], [-1.0, 1.0]), hline, False)]
            ]
        raise self.err(hline, f"unsupported operator {head!r} in an assertion")

    def count(self, expr, line) -> int:
        """The number of conjunctions `formula(expr)` would return (capped just above MAX_CASES), cheaply."""
        if isinstance(expr, str) or not expr:
            raise self.err(line, f"expected a formula, got {expr!r}")
        head, hline = expr[0]
        if head == "and":
            n = 1
            for e, ln in expr[1:]:
                n = min(n * self.count(e, ln), MAX_CASES + 1)
            return n
        if head == "or":
            return min(sum(self.count(e, ln) for e, ln in expr[1:]), MAX_CASES + 1)
        return 1


def _combine(terms: list[dict], weights: list[float]) -> dict:
    out: dict = {}
    for t, w in zip(terms, weights):
        for k, v in t.items():
            out[k] = out.get(k, 0.0) + w * v
    return out


def parse_vnnlib(text: str, source: str = "property", deadline: float | None = None) -> VnnlibProperty:
    """Parse VNN-LIB text into a VnnlibProperty (exact: every constraint is kept).

    Supported: `(declare-const X_i Real)` / `Y_i`, `(assert F)` with F built from `and`, `or`, `<=`, `>=`, `<`,
    `>`, `=` over linear terms (`+`, `-`, `*` by constants). Strict inequalities are proven over their closure
    (sound) and remembered (`VnnlibCase.strict`, `lb_open`, `ub_open`) so counterexamples meet them strictly. Input constraints must be bounds on single inputs and bound
    every input; output constraints may be any linear inequalities; a constraint may not mix X and Y.
    Args:
        text: the property.
        source: its name in error messages (the file).
        deadline: a `time.perf_counter()` value past which parsing stops with VnnlibTimeout (None: no limit).
    Raises:
        ValueError with the line number on malformed or unsupported content, or sizes past the module's limits;
        VnnlibTimeout (a ValueError) at the deadline.
    """

    def check_time():
        if deadline is not None and time.perf_counter() > deadline:
            raise VnnlibTimeout(f"{source}: parsing ran past the time limit")

    b = _Builder(source)
    exprs = _parse_sexprs(_tokenize(text, source), source)
    check_time()
    asserts: list[tuple] = []
    for expr, line in exprs:
        if isinstance(expr, str) or not expr:
            raise b.err(line, f"expected (declare-const ...) or (assert ...), got {expr!r}")
        head, _ = expr[0]
        if head == "declare-const":
            if len(expr) != 3 or not isinstance(expr[1][0], str):
                raise b.err(line, "declare-const needs a name and a sort")
            name = expr[1][0]
            m = _VAR.match(name)
            if not m:
                if _NEAR_VAR.match(name):
                    raise b.err(
                        line,
                        f"variable {name!r}: write the index without leading zeros (it would be "
                        f"the same variable as {name[0]}_{int(name[2:])})",
                    )
                raise b.err(line, f"variable {name[:40]!r} is not named X_i or Y_i")
            if not isinstance(expr[2][0], str) or expr[2][0] != "Real":
                raise b.err(line, f"variable {name} has sort {str(expr[2][0])[:40]!r}, expected Real")
            if name in b.declared:
                raise b.err(line, f"variable {name} is declared twice (first on line {b.declared[name]})")
            if len(m.group(2)) > 7 or int(m.group(2)) >= MAX_VARIABLES:
                raise b.err(line, f"variable {name}: index above the limit of {MAX_VARIABLES} variables")
            b.declared[name] = line
            idx = int(m.group(2))
            if m.group(1) == "X":
                b.n_x = max(b.n_x, idx + 1)
            else:
                b.n_y = max(b.n_y, idx + 1)
        elif head == "assert":
            if len(expr) != 2:
                raise b.err(line, "assert takes exactly one formula")
            asserts.append(expr[1])
        else:
            raise b.err(line, f"unsupported command {head!r}")
    for kind, n in (("X", b.n_x), ("Y", b.n_y)):
        if sum(1 for name in b.declared if name[0] == kind) != n:
            first = next(f"{kind}_{i}" for i in range(n) if f"{kind}_{i}" not in b.declared)
            raise ValueError(f"{source}: {first} is not declared although a higher index is")
    if b.n_x == 0 or b.n_y == 0:
        raise ValueError(f"{source}: the property declares no {'X' if b.n_x == 0 else 'Y'}_i variables")
    total = 1
    for expr, line in asserts:  # count the disjunctive normal form before building any of it
        total = min(total * b.count(expr, line), MAX_CASES + 1)
        if total > MAX_CASES:
            raise b.err(
                line, f"the disjunctive normal form of the assertions has more than {MAX_CASES} cases"
            )
    common: list = []  # the conjuncts of single-case assertions, shared by every case (linear in the asserts)
    branching: list[list[list]] = []
    for k, (expr, line) in enumerate(asserts):
        if k % 1024 == 0:
            check_time()
        cases_k = b.formula(expr, line)
        if len(cases_k) == 1:
            common.extend(cases_k[0])
        else:
            branching.append(cases_k)
    dnf = (
        [common + [c for part in combo for c in part] for combo in product(*branching)]
        if branching
        else [common]
    )
    groups: dict[tuple, list] = {}
    for k, conj in enumerate(dnf):
        if k % 64 == 0:
            check_time()
        lb = np.full(b.n_x, -np.inf)
        ub = np.full(b.n_x, np.inf)
        lb_open = np.zeros(b.n_x, dtype=bool)
        ub_open = np.zeros(b.n_x, dtype=bool)
        rows, rhs, strict = [], [], []
        for coeffs, line, is_strict in conj:
            c0 = coeffs.get("const", 0.0)
            xs = {k[1]: v for k, v in coeffs.items() if k != "const" and k[0] == "X" and v != 0.0}
            ys = {k[1]: v for k, v in coeffs.items() if k != "const" and k[0] == "Y" and v != 0.0}
            if xs and ys:
                raise b.err(line, "a constraint mixing inputs X and outputs Y is not supported")
            if xs:
                if len(xs) != 1:
                    raise b.err(line, "input constraints must bound a single input X_i")
                ((i, a),) = xs.items()
                bound = -c0 / a + 0.0  # a x + c0 <= 0 (+ 0.0 turns -0.0 into 0.0)
                if a > 0:
                    ub_open[i] = is_strict if bound < ub[i] else ub_open[i] or (is_strict and bound == ub[i])
                    ub[i] = min(ub[i], bound)
                else:
                    lb_open[i] = is_strict if bound > lb[i] else lb_open[i] or (is_strict and bound == lb[i])
                    lb[i] = max(lb[i], bound)
            elif ys:
                row = np.zeros(b.n_y)
                for i, v in ys.items():
                    row[i] = v
                rows.append(row)
                rhs.append(-c0)
                strict.append(is_strict)
            elif c0 > 0 or (
                c0 == 0 and is_strict
            ):  # constant constraint that is false: this disjunct is empty
                lb[:] = np.inf
        if np.any(lb > ub) or np.any((lb == ub) & (lb_open | ub_open)):
            continue  # an empty input box contributes nothing
        if not (np.all(np.isfinite(lb)) and np.all(np.isfinite(ub))):
            free = [f"X_{i}" for i in range(b.n_x) if not (np.isfinite(lb[i]) and np.isfinite(ub[i]))]
            raise ValueError(f"{source}: input {free[0]} has no finite lower and upper bound")
        key = (tuple(lb), tuple(ub), tuple(lb_open), tuple(ub_open))
        A = np.array(rows).reshape(-1, b.n_y)
        groups.setdefault(key, []).append((A, np.array(rhs, dtype=float), np.array(strict, dtype=bool)))
    cases = []
    for (lb, ub, lb_open, ub_open), unsafe in groups.items():
        for A, _, _ in unsafe:
            A.setflags(write=False)
        cases.append(
            VnnlibCase(
                np.array(lb),
                np.array(ub),
                tuple((A, r) for A, r, _ in unsafe),
                tuple(m for _, _, m in unsafe),
                np.array(lb_open),
                np.array(ub_open),
            )
        )
    if not cases:
        raise ValueError(f"{source}: the assertions leave no input box (the property holds vacuously)")
    return VnnlibProperty(n_inputs=b.n_x, n_outputs=b.n_y, cases=tuple(cases), source=source)


def load_vnnlib(path: str | Path, deadline: float | None = None) -> VnnlibProperty:
    """Load a `.vnnlib` file (see parse_vnnlib). Raises ValueError naming the file (and line) when malformed,
    not UTF-8 or larger than MAX_VNNLIB_BYTES; VnnlibTimeout past `deadline` (a time.perf_counter() value)."""
    from nncs.nn.io import read_text

    text = read_text(Path(path), ".vnnlib property", MAX_VNNLIB_BYTES)
    return parse_vnnlib(text, source=str(Path(path)), deadline=deadline)
