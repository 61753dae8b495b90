"""Symbolic plant models: sympy right-hand sides compiled once to JAX (f, Jacobians, Hessians) and to intervals.

A `SymbolicPlant` is x' = f(x, u, w) (continuous) or x+ = f(x, u, w) (discrete), with named parameters.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from nncs.dynamics import interval as iv
from nncs.expressions import check_name, finite_float, parse_expression
from nncs.memo import Memoizing

__all__ = ["SymbolicPlant", "IntervalProgram", "SUPPORTED_FUNCTIONS", "NotBoundable"]

TIME_KINDS = ("continuous", "discrete")

# sympy function class -> interval function; the same set is accepted in expressions
_INTERVAL_FUNCS: dict[type, Callable[[iv.Interval], iv.Interval]] = {
    sp.sin: iv.sin,
    sp.cos: iv.cos,
    sp.tan: iv.tan,
    sp.exp: iv.exp,
    sp.log: iv.log,
    sp.tanh: iv.tanh,
    sp.Abs: iv.abs,
    sp.atan: iv.atan,
}
SUPPORTED_FUNCTIONS = (
    "sin",
    "cos",
    "tan",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "Abs/abs",
    "atan",
    "**",
    "+",
    "-",
    "*",
    "/",
)


class NotBoundable(ValueError, RuntimeError):
    """An interval program met a point where its expression has no finite bound on the box (e.g. the second
    derivative of abs(g) where g can be 0). A ValueError (the continuous flowpipe then halves its step) and a
    RuntimeError (a closed-loop verification then answers "not proven" for that part, never "safe")."""


def _sign(x: iv.Interval) -> iv.Interval:
    """Enclosure of sign(t) for t in x: exact (-1, 0 or 1) where x keeps one sign, the hull otherwise."""
    lo = np.where(x.lo > 0, 1.0, np.where(x.lo < 0, -1.0, 0.0))
    hi = np.where(x.hi < 0, -1.0, np.where(x.hi > 0, 1.0, 0.0))
    return iv.Interval(lo, hi)


def _dirac_delta(x: iv.Interval) -> iv.Interval:
    """Enclosure of DiracDelta(t) (from the second derivative of abs) for t in x: 0 where 0 is not in x.

    Where x contains 0 the second derivative of abs does not exist as a function (a Taylor remainder bounded
    by it would be wrong): NotBoundable is raised instead of returning any finite interval.
    """
    if np.any((x.lo <= 0) & (x.hi >= 0)):
        raise NotBoundable(
            "the second derivative of abs(g) is unbounded where g can be 0 (a kink of abs lies in "
            "the box): the Lagrange remainder cannot be bounded there"
        )
    return iv.Interval(np.zeros(np.shape(x.lo)))


# only in the second derivatives of the dynamics (derivatives of abs): never in parsed expressions
_DERIVATIVE_FUNCS: dict[type, Callable[[iv.Interval], iv.Interval]] = {
    sp.sign: _sign,
    sp.DiracDelta: _dirac_delta,
}


# ------------------------------------------------------------------------------------------ interval programs
def _number_interval(node: sp.Expr) -> iv.Interval:
    """An enclosure of a sympy number: exact for doubles and small integers, outward-rounded otherwise."""
    if node is sp.pi:
        return iv.pi
    if node is sp.E:
        return iv.const(math.e)
    if isinstance(node, sp.Integer):
        value = int(node)
        f = float(value)
        return iv.Interval(f) if int(f) == value else iv.const(f)
    if isinstance(node, sp.Rational):
        return (
            iv.Interval(float(node.p)) / iv.Interval(float(node.q))
            if abs(node.p) < 2**53 and node.q < 2**53
            else iv.const(float(node))
        )
    if isinstance(node, sp.Float):
        f = float(node)
        return iv.Interval(f) if sp.Rational(f) == sp.Rational(node) else iv.const(f)
    raise ValueError(f"unsupported constant {node!r} in a plant expression")


_ORDERINGS = {k: tuple(itertools.permutations(range(1, k + 1))) for k in (2, 3)}
"""The orderings of a derivative's k indices (columns 1..k of an entry row), filled with the same value."""


class IntervalProgram:
    """Interval evaluation of a list of sympy expressions in given variables (common subexpressions shared).

    Calling it with an Interval whose leading axis runs over the variables returns an Interval whose leading
    axis runs over the expressions; every result contains the exact real value of each expression for every
    point of the input box (outer approximation, outward rounded).
    """

    def __init__(
        self,
        exprs: Sequence[sp.Expr],
        variables: Sequence[sp.Symbol],
        where: str = "expression",
        derivatives: bool = False,
    ):
        self.variables = tuple(variables)
        self.n_out = len(exprs)
        self._funcs = {**_INTERVAL_FUNCS, **_DERIVATIVE_FUNCS} if derivatives else _INTERVAL_FUNCS
        for e in exprs:
            _check_supported(e, where, self._funcs)
        replacements, reduced = sp.cse(list(exprs), optimizations=None)
        self._replacements = replacements
        self._reduced = reduced
        self._compile()

    def _compile(self) -> None:
        """Flatten the expressions into a tape of interval operations on numbered slots: the operations `_eval`
        performs, in its order (left folds of sums and products, the same powers and functions), with the
        constants enclosed once. Evaluating the tape gives exactly `_eval`'s intervals, without its dispatch."""
        slots: dict = {}  # sympy node -> slot
        constants: dict[int, iv.Interval] = {}
        tape: list[tuple[int, Callable, tuple[int, ...]]] = []
        count = len(self.variables)
        for i, v in enumerate(self.variables):
            slots[v] = i

        def new(fn, *args) -> int:
            nonlocal count
            tape.append((count, fn, args))
            count += 1
            return count - 1

        def fold(op, nodes) -> int:
            acc = emit(nodes[0])
            for a in nodes[1:]:
                acc = new(op, acc, emit(a))
            return acc

        def emit(node) -> int:
            nonlocal count
            if node in slots:
                return slots[node]
            if node.is_Symbol:
                raise ValueError(f"unknown symbol {node} in an interval program")
            if node.is_Number or node in (sp.pi, sp.E):
                constants[count] = INTERVALS.constant(node)
                slot, count = count, count + 1
            elif node.is_Add:
                slot = fold(operator.add, node.args)
            elif node.is_Mul and node.args[0] == sp.S.NegativeOne:
                slot = new(operator.neg, fold(operator.mul, node.args[1:]))
            elif node.is_Mul:
                slot = fold(operator.mul, node.args)
            elif node.is_Pow:
                base, ex = node.args
                b = emit(base)
                if ex.is_Number and float(ex).is_integer() and abs(float(ex)) < 2**31:
                    slot = new(functools.partial(INTERVALS.ipow, n=int(float(ex))), b)
                elif ex.is_Number and float(ex) == 0.5:
                    slot = new(INTERVALS.sqrt, b)
                elif ex.is_Number and float(ex) == -0.5:
                    slot = new(lambda x: INTERVALS.sqrt(x).reciprocal(), b)
                else:
                    slot = new(INTERVALS.power, b, emit(ex))
            else:
                fn = self._funcs.get(type(node))
                if fn is None or len(node.args) != 1:
                    raise ValueError(f"unsupported operation {type(node).__name__} in a plant expression")
                slot = new(fn, emit(node.args[0]))
            slots[node] = slot
            return slot

        for sym, expr in self._replacements:
            slots[sym] = emit(expr)
        self._outputs = [emit(e) for e in self._reduced]
        self._tape, self._constants, self._size = tape, constants, count

    def __call__(self, box: iv.Interval) -> iv.Interval:
        if box.shape[0] != len(self.variables):
            raise ValueError(f"interval program expects {len(self.variables)} variables, got {box.shape[0]}")
        values: list = [None] * self._size
        for i in range(len(self.variables)):
            values[i] = box[i]
        for slot, value in self._constants.items():
            values[slot] = value
        for slot, fn, args in self._tape:
            values[slot] = fn(*[values[a] for a in args])
        tail = box.shape[1:]
        outs = [values[o] for o in self._outputs]
        lo = np.stack([np.broadcast_to(o.lo, tail) for o in outs]) if outs else np.zeros((0,) + tail)
        hi = np.stack([np.broadcast_to(o.hi, tail) for o in outs]) if outs else np.zeros((0,) + tail)
        return iv.Interval(lo, hi)


@dataclass(frozen=True)
class Arithmetic:
    """How `_eval` computes in one number system (intervals here; Taylor models in `taylor_model`).

    Attributes:
        constant: an enclosure of a sympy number (or pi, E).
        ipow: x ** k for an integer k (negative k through the reciprocal).
        sqrt: the square root.
        power: x ** e for any other exponent (e already evaluated).
    Besides these, values need +, *, unary - and `.reciprocal()`.
    """

    constant: Callable[[sp.Expr], Any]
    ipow: Callable[[Any, int], Any]
    sqrt: Callable[[Any], Any]
    power: Callable[[Any, Any], Any]


INTERVALS = Arithmetic(_number_interval, iv.ipow, iv.sqrt, lambda b, e: iv.exp(e * iv.log(b)))
"""Interval arithmetic (outward rounded): what `IntervalProgram` evaluates with."""


def _eval(
    node: sp.Expr,
    env: dict,
    funcs: Mapping[type, Callable] = _INTERVAL_FUNCS,
    ops: Arithmetic = INTERVALS,
):
    """An enclosure of `node` with its symbols' values taken from `env`: functions from `funcs`, numbers and
    powers by `ops` (intervals by default). The one walker of sympy expressions for every sound arithmetic."""
    if node.is_Symbol:
        return env[node]
    if node.is_Number or node in (sp.pi, sp.E):
        return ops.constant(node)
    if node.is_Add:
        args = node.args
        acc = _eval(args[0], env, funcs, ops)
        for a in args[1:]:
            acc = acc + _eval(a, env, funcs, ops)
        return acc
    if node.is_Mul:
        args = node.args
        if args[0] == sp.S.NegativeOne:
            rest = args[1:]
            acc = _eval(rest[0], env, funcs, ops)
            for a in rest[1:]:
                acc = acc * _eval(a, env, funcs, ops)
            return -acc
        acc = _eval(args[0], env, funcs, ops)
        for a in args[1:]:
            acc = acc * _eval(a, env, funcs, ops)
        return acc
    if node.is_Pow:
        base, ex = node.args
        b = _eval(base, env, funcs, ops)
        if ex.is_Number and float(ex).is_integer() and abs(float(ex)) < 2**31:
            return ops.ipow(b, int(float(ex)))  # also a Float exponent such as 2.0: x**2.0 == x**2 exactly
        if ex.is_Number and float(ex) == 0.5:
            return ops.sqrt(b)
        if ex.is_Number and float(ex) == -0.5:
            return ops.sqrt(b).reciprocal()
        return ops.power(b, _eval(ex, env, funcs, ops))
    fn = funcs.get(type(node))
    if fn is not None and len(node.args) == 1:
        return fn(_eval(node.args[0], env, funcs, ops))
    raise ValueError(f"unsupported operation {type(node).__name__} in a plant expression")


def _check_supported(expr: sp.Expr, where: str, funcs: Mapping[type, Callable] = _INTERVAL_FUNCS) -> None:
    """Raise ValueError naming the first node the interval and JAX back ends do not support."""
    for node in sp.preorder_traversal(expr):
        if node.is_Symbol or node in (sp.pi, sp.E):
            continue
        if node.is_Number:
            if not node.is_finite or node is sp.nan:
                raise ValueError(f"non-finite constant {node} in {where}")
            continue
        if node.is_Add or node.is_Mul or node.is_Pow or (type(node) in funcs and len(node.args) == 1):
            continue
        name = getattr(node.func, "__name__", type(node).__name__)
        raise ValueError(
            f"unsupported function or operation {name!r} in {where} (supported: "
            f"{', '.join(SUPPORTED_FUNCTIONS)})"
        )


# ----------------------------------------------------------------------------------------------------- plant
def _names(items: Any, what: str) -> list[str]:
    """The declared names of `items` (str or sympy Symbol, one or a sequence), each checked by `check_name`."""
    if items is None:
        return []
    if isinstance(items, (str, sp.Symbol)):
        items = [items]
    out = []
    for i, it in enumerate(items):
        if isinstance(it, sp.Symbol):
            name = it.name
        elif isinstance(it, str):
            name = it.strip()
        else:
            raise ValueError(f"{what}: expected names (str or sympy Symbol), got {it!r}"[:200])
        out.append(check_name(name, f"{what}[{i}]"))
    return out


def _parameter_value(value: Any, name: str) -> tuple[float, sp.Expr]:
    """(value as a double, exact sympy value substituted into the dynamics) of a parameter; ValueError if bad.

    Numbers (int, float, numpy and sympy numbers) are read as doubles, as always; a string is parsed as a
    constant expression by `parse_expression` (e.g. "1/3" or "pi/4"; no names, nothing evaluated) and kept exact.
    """
    where = f"parameter {name!r}"
    if isinstance(value, bool):
        raise ValueError(f"{where}: value {value!r} is a boolean, not a number")
    if isinstance(value, str):
        try:
            exact = parse_expression(value, [], f"{where}: value")
        except ValueError as exc:
            raise ValueError(
                f"{exc} (a parameter is a number or a constant expression such as '1/3' or "
                f"'pi/4'; it is not a number here)"
            ) from None
        fval = finite_float(exact, f"{where}: value {value[:80]!r}")
        if exact.is_Float and fval.is_integer():
            exact = sp.Integer(int(fval))
        return fval, exact
    try:
        fval = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{where}: value {value!r} is not a number"[:200]) from None
    if not math.isfinite(fval):
        raise ValueError(f"{where}: value {value!r} is not finite"[:200])
    return fval, (sp.Integer(int(fval)) if fval.is_integer() else sp.Float(fval))


class SymbolicPlant(Memoizing):
    """A plant x' = f(x, u, w) (time="continuous") or x+ = f(x, u, w) (time="discrete") from sympy expressions.

    Args:
        states: state names (str or sympy Symbol), in order.
        inputs: control input names (held constant over a control period).
        dynamics: one expression (sympy or string) per state: the derivative (continuous) or the next value
            (discrete). Strings may use the declared names, numbers, + - * / ** ^, and sin, cos, tan, exp,
            log, sqrt, tanh, abs/Abs, atan, pi.
        parameters: name -> finite float, substituted into the dynamics.
        disturbances: name -> (lower, upper) bounds of a disturbance that is constant over a period
            (a sequence of names is accepted too; its bounds must then be passed to the flowpipe).
        time: "continuous" or "discrete".
        name: an optional label.

    Raises:
        ValueError: naming the offending item for unknown symbols, duplicate or invalid names, wrong number of
            dynamics, non-finite parameters or disturbance bounds, unsupported functions or a bad time kind.

    The JAX functions (`f`, `jac_x`, `jac_u`, `jac_w`, `hessian`, ...) and the interval programs are built
    lazily on first use and cached on the plant (compiled once).
    """

    def __init__(
        self,
        states: Sequence[Any],
        inputs: Sequence[Any],
        dynamics: Sequence[Any],
        parameters: Mapping[Any, float] | None = None,
        disturbances: Any = None,
        time: str = "continuous",
        name: str | None = None,
    ):
        if time not in TIME_KINDS:
            raise ValueError(f"time must be one of {TIME_KINDS}, got {time!r}")
        self.time = time
        self.name = name or "plant"
        self.state_names = tuple(_names(states, "states"))
        self.input_names = tuple(_names(inputs, "inputs"))
        if not self.state_names:
            raise ValueError("states: a plant needs at least one state")
        params = dict(parameters or {})
        self.parameter_names = tuple(_names(list(params.keys()), "parameters"))
        values, exact = {}, {}
        for key, nm in zip(params.keys(), self.parameter_names):
            values[nm], exact[nm] = _parameter_value(params[key], nm)
        self.parameters = values
        self.exact_parameters = exact  # name -> the exact sympy value substituted into the dynamics
        self._parameter_inputs = {nm: params[key] for key, nm in zip(params.keys(), self.parameter_names)}
        if disturbances is None:
            dist_names, bounds = [], None
        elif isinstance(disturbances, Mapping):
            dist_names = _names(list(disturbances.keys()), "disturbances")
            bounds = []
            for key, nm in zip(disturbances.keys(), dist_names):
                b = disturbances[key]
                try:
                    lo, hi = (float(v) for v in b)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"disturbance {nm!r}: bounds must be a pair (lower, upper), got {b!r}"
                    ) from None
                if not (math.isfinite(lo) and math.isfinite(hi)):
                    raise ValueError(f"disturbance {nm!r}: bounds {b!r} are not finite")
                if lo > hi:
                    raise ValueError(f"disturbance {nm!r}: lower bound {lo} above upper bound {hi}")
                bounds.append((lo, hi))
        else:
            dist_names, bounds = _names(disturbances, "disturbances"), None
        self.disturbance_names = tuple(dist_names)
        self.disturbance_bounds = (
            None
            if bounds is None
            else (
                np.array([b[0] for b in bounds], dtype=np.float64),
                np.array([b[1] for b in bounds], dtype=np.float64),
            )
        )
        if bounds is None and not dist_names:
            self.disturbance_bounds = (np.zeros(0), np.zeros(0))

        all_names = self.state_names + self.input_names + self.disturbance_names + self.parameter_names
        seen: set[str] = set()
        for nm in all_names:
            if nm in seen:
                raise ValueError(
                    f"name {nm!r} is declared more than once (states, inputs, disturbances, parameters)"
                )
            seen.add(nm)

        # real symbols: derivatives of abs/sqrt/log come out in real form (sign(x), not re/im parts)
        self.state_symbols = tuple(sp.Symbol(n, real=True) for n in self.state_names)
        self.input_symbols = tuple(sp.Symbol(n, real=True) for n in self.input_names)
        self.disturbance_symbols = tuple(sp.Symbol(n, real=True) for n in self.disturbance_names)
        self.parameter_symbols = tuple(sp.Symbol(n, real=True) for n in self.parameter_names)
        self.variables = self.state_symbols + self.input_symbols + self.disturbance_symbols
        symtab = {s.name: s for s in self.variables + self.parameter_symbols}

        if isinstance(dynamics, (str, sp.Expr)):
            dynamics = [dynamics]
        dynamics = list(dynamics)
        if len(dynamics) != len(self.state_names):
            raise ValueError(
                f"dynamics: {len(dynamics)} expressions for {len(self.state_names)} states "
                f"{list(self.state_names)}"
            )
        raw = []
        for state, d in zip(self.state_names, dynamics):
            raw.append(self._parse(d, state, symtab))
        self.raw_dynamics = tuple(raw)
        subs = {symtab[k]: v for k, v in exact.items()}
        self.dynamics = tuple(e.xreplace(subs) for e in raw)
        for state, e in zip(self.state_names, self.dynamics):
            _check_supported(e, f"dynamics of {state!r}")

    @staticmethod
    def _parse(d: Any, state: str, symtab: dict[str, sp.Symbol]) -> sp.Expr:
        where = f"dynamics of {state!r}"
        if isinstance(d, (str, int, float)) and not isinstance(d, bool):
            expr = parse_expression(
                d, symtab, where, hint=" (declare them as states, inputs, disturbances or parameters)"
            )  # text is parsed, never evaluated
        elif isinstance(d, sp.Basic):
            expr = d  # built by the caller's own Python code, not read from a file
        else:
            raise ValueError(
                f"{where}: expected a sympy expression, a string or a number, got {type(d).__name__}"
            )
        if not isinstance(expr, sp.Expr):
            raise ValueError(f"{where}: {str(d)[:80]!r} is not an expression")
        unknown = sorted(s.name for s in expr.free_symbols if s.name not in symtab)
        if unknown:
            raise ValueError(
                f"{where}: unknown symbol(s) {unknown} (declare them as states, inputs, "
                f"disturbances or parameters)"
            )
        for f in expr.atoms(sp.Function):
            if type(f) not in _INTERVAL_FUNCS:
                nm = getattr(f.func, "__name__", str(f.func))
                raise ValueError(
                    f"{where}: unsupported function {nm!r} (supported: {', '.join(SUPPORTED_FUNCTIONS)})"
                )
        # canonical symbols by name (a user Symbol('x', real=True) becomes the plant's Symbol('x'))
        return expr.xreplace({s: symtab[s.name] for s in expr.free_symbols})

    # ------------------------------------------------------------------------------------------- description
    @property
    def n_states(self) -> int:
        return len(self.state_names)

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def n_disturbances(self) -> int:
        return len(self.disturbance_names)

    @property
    def n_joint(self) -> int:
        """Dimension of the joint vector z = [x; u; w]."""
        return self.n_states + self.n_inputs + self.n_disturbances

    @property
    def is_continuous(self) -> bool:
        return self.time == "continuous"

    def __repr__(self) -> str:
        return (
            f"SymbolicPlant(name={self.name!r}, states={list(self.state_names)}, inputs={list(self.input_names)}, "
            f"disturbances={list(self.disturbance_names)}, time={self.time!r})"
        )

    def _constructor_args(self) -> tuple:
        dist: Any = (
            None
            if not self.disturbance_names
            else dict(zip(self.disturbance_names, zip(*self.disturbance_bounds)))
            if self.disturbance_bounds is not None
            else list(self.disturbance_names)
        )
        return (
            self.state_names,
            self.input_names,
            self.raw_dynamics,
            dict(self._parameter_inputs),
            dist,
            self.time,
            self.name,
        )

    def __reduce__(self):
        """Pickle by the definition (compiled functions are rebuilt lazily where it is unpickled)."""
        return (SymbolicPlant, self._constructor_args())

    def with_parameters(self, **values: float) -> SymbolicPlant:
        """A copy of this plant with some parameter values replaced (unknown names raise ValueError)."""
        unknown = sorted(set(values) - set(self.parameter_names))
        if unknown:
            raise ValueError(
                f"with_parameters: unknown parameter(s) {unknown}; known: {list(self.parameter_names)}"
            )
        states, inputs, dynamics, params, dist, time, name = self._constructor_args()
        params.update(values)
        return SymbolicPlant(states, inputs, dynamics, params, dist, time, name)

    # ------------------------------------------------------------------------------------ symbolic derivatives
    @cached_property
    def jacobian_exprs(self) -> sp.Matrix:
        """d f / d z with z = [x; u; w], shape (n, n+p+q), sympy."""
        return sp.Matrix(self.dynamics).jacobian(sp.Matrix(self.variables))

    @cached_property
    def is_affine(self) -> bool:
        """True when f is affine in (x, u, w) after substituting the parameters (then `linear_parts` exists)."""
        zset = set(self.variables)
        return all(not (e.free_symbols & zset) for e in self.jacobian_exprs)

    def linear_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(A, B, c, E) with f(x, u, w) = A x + B u + c + E w, for an affine plant; ValueError otherwise."""
        if not self.is_affine:
            raise ValueError(f"plant {self.name!r} is not affine in its states, inputs and disturbances")
        return self._linear_parts

    @cached_property
    def _linear_parts(self):
        n, p = self.n_states, self.n_inputs
        J = np.array(self.jacobian_exprs.evalf(30), dtype=np.float64).reshape(n, self.n_joint)
        zero = {s: sp.S.Zero for s in self.variables}
        c = np.array([float(e.xreplace(zero).evalf(30)) for e in self.dynamics], dtype=np.float64)
        for a in (J, c):
            a.setflags(write=False)
        return J[:, :n], J[:, n : n + p], c, J[:, n + p :]

    # ---------------------------------------------------------------------------------------------- JAX side
    @cached_property
    def _jax_flat(self) -> Callable:
        from nncs._jax import jnp

        fn = sp.lambdify(list(self.variables), list(self.dynamics), modules="jax")

        def f_flat(z):
            vals = fn(*[z[i] for i in range(len(self.variables))])
            return jnp.stack([jnp.asarray(v, dtype=jnp.float64) * jnp.ones((), jnp.float64) for v in vals])

        return f_flat

    def _split(self, z):
        n, p = self.n_states, self.n_inputs
        return z[:n], z[n : n + p], z[n + p :]

    @cached_property
    def f_joint(self) -> Callable:
        """jitted f(z) with z = [x; u; w] of shape (n+p+q,) -> (n,)."""
        from nncs._jax import jax

        return jax.jit(self._jax_flat)

    @cached_property
    def f(self) -> Callable:
        """jitted f(x, u, w) -> (n,) (vmappable; w may be an empty array when there are no disturbances)."""
        from nncs._jax import jax, jnp

        flat = self._jax_flat
        return jax.jit(
            lambda x, u, w: flat(
                jnp.concatenate([jnp.atleast_1d(x), jnp.atleast_1d(u), jnp.atleast_1d(w)]).astype(jnp.float64)
            )
        )

    @cached_property
    def f_batch(self) -> Callable:
        """jitted, vmapped f over a leading batch axis of x, u and w: (N, n), (N, p), (N, q) -> (N, n)."""
        from nncs._jax import jax

        return jax.jit(jax.vmap(self.f))

    @cached_property
    def jacobian_joint(self) -> Callable:
        """jitted d f/d z at z = [x; u; w]: (n+p+q,) -> (n, n+p+q)."""
        from nncs._jax import jax

        return jax.jit(jax.jacfwd(self._jax_flat))

    @cached_property
    def jac_x(self) -> Callable:
        """jitted d f / d x (x, u, w) -> (n, n)."""
        from nncs._jax import jax

        return jax.jit(jax.jacfwd(self.f, argnums=0))

    @cached_property
    def jac_u(self) -> Callable:
        """jitted d f / d u (x, u, w) -> (n, p)."""
        from nncs._jax import jax

        return jax.jit(jax.jacfwd(self.f, argnums=1))

    @cached_property
    def jac_w(self) -> Callable:
        """jitted d f / d w (x, u, w) -> (n, q)."""
        from nncs._jax import jax

        return jax.jit(jax.jacfwd(self.f, argnums=2))

    @cached_property
    def hessian(self) -> Callable:
        """jitted second derivatives d^2 f_i / dz_j dz_k at z = [x; u; w]: (n+p+q,) -> (n, N, N)."""
        from nncs._jax import jax

        return jax.jit(jax.hessian(self._jax_flat))

    @cached_property
    def linearize(self) -> Callable:
        """jitted (f(z), df/dz(z)) at z = [x; u; w], one compiled call."""
        from nncs._jax import jax

        flat = self._jax_flat
        jac = jax.jacfwd(flat)
        return jax.jit(lambda z: (flat(z), jac(z)))

    # -------------------------------------------------------------------------------------------- numpy side
    @cached_property
    def f_numpy(self) -> Callable:
        """f(x, u, w) -> numpy (n,), plain numpy (fast for single points, e.g. inside scipy integrators)."""
        fn = sp.lambdify(list(self.variables), list(self.dynamics), modules="numpy")

        def f(x, u=(), w=()):
            return np.array(fn(*x, *u, *w), dtype=np.float64)

        return f

    # ----------------------------------------------------------------------------------------- interval side
    @cached_property
    def _f_program(self) -> IntervalProgram:
        return IntervalProgram(self.dynamics, self.variables)

    def f_interval(self, z: iv.Interval) -> iv.Interval:
        """An enclosure of f over the box z of the joint vector [x; u; w] (leading axis: the n+p+q variables).
        Outer approximation (interval arithmetic, outward rounded)."""
        return self._f_program(z)

    def _derivative_entries(self, order: int) -> tuple[np.ndarray, list[sp.Expr]]:
        """The nonzero partial derivatives of `order` (2 or 3) of every f_i, one per sorted index tuple
        (i, j <= k [<= l]): the tuples (rows) and the expressions."""
        V = self.variables
        entries, exprs = [], []

        def walk(i: int, expr, index: tuple[int, ...]) -> None:
            if len(index) == order:
                entries.append((i, *index))
                exprs.append(expr)
                return
            for j in range(index[-1] if index else 0, len(V)):
                d = sp.diff(expr, V[j])
                if d != 0:
                    walk(i, d, index + (j,))

        for i, e in enumerate(self.dynamics):
            walk(i, e, ())
        return np.array(entries, dtype=int).reshape(-1, order + 1), exprs

    def _derivative_program(self, exprs: list[sp.Expr], what: str) -> IntervalProgram | None:
        where = (
            f"the {what} derivatives of the dynamics of {self.name!r} (the nonlinear flowpipe's remainder needs "
            f"them)"
        )
        return IntervalProgram(exprs, self.variables, where, derivatives=True) if exprs else None

    @cached_property
    def _hessian_entries(self) -> tuple[np.ndarray, IntervalProgram | None]:
        entries, exprs = self._derivative_entries(2)
        return entries, self._derivative_program(exprs, "second")

    @cached_property
    def _third_entries(self) -> tuple[np.ndarray, IntervalProgram | None, int]:
        """The third derivatives' index tuples, and one program evaluating the second derivatives (the first
        outputs) and the third ones (common subexpressions shared), with the number of second derivatives."""
        entries2, exprs2 = self._derivative_entries(2)
        entries3, exprs3 = self._derivative_entries(3)
        return entries3, self._derivative_program(exprs2 + exprs3, "second and third"), len(exprs2)

    @property
    def hessian_is_zero(self) -> bool:
        """True when every second derivative of f is identically zero (f affine)."""
        return not len(self._hessian_entries[0])

    @property
    def third_derivatives_are_zero(self) -> bool:
        """True when every third derivative of f is identically zero (f at most quadratic)."""
        return self.hessian_is_zero or not len(self._third_entries[0])

    def _symmetric(self, entries: np.ndarray, vals: iv.Interval | None, tail: tuple) -> iv.Interval:
        """The (n, N, ..., N) + tail tensors holding `vals` at every ordering of each entry's indices."""
        order = entries.shape[1] - 1
        shape = (self.n_states,) + (self.n_joint,) * order + tail
        lo, hi = np.zeros(shape), np.zeros(shape)
        if vals is not None:
            for perm in _ORDERINGS[order]:  # every ordering of the indices
                index = (entries[:, 0],) + tuple(entries[:, p] for p in perm)
                lo[index], hi[index] = vals.lo, vals.hi
        return iv.Interval(lo, hi)

    def _check_box(self, z: iv.Interval) -> None:
        if z.shape[0] != self.n_joint:
            raise ValueError(f"derivative interval: box has {z.shape[0]} variables, plant has {self.n_joint}")

    def hessian_interval(self, z: iv.Interval) -> iv.Interval:
        """An enclosure of the Hessians d^2 f_i/dz_j dz_k over the box z = [x; u; w], shape (n, N, N).
        Outer approximation (interval arithmetic on the symbolic second derivatives, outward rounded)."""
        self._check_box(z)
        entries, prog = self._hessian_entries
        return self._symmetric(entries, prog(z) if prog is not None else None, z.shape[1:])

    def hessian_third_interval(self, z: iv.Interval) -> tuple[iv.Interval, iv.Interval]:
        """Enclosures of the Hessians (n, N, N) and of the third derivatives d^3 f_i/dz_j dz_k dz_l (n, N, N, N)
        over the box z = [x; u; w], in one evaluation. Outer approximations (interval arithmetic on the
        symbolic derivatives, outward rounded)."""
        self._check_box(z)
        entries3, prog, k = self._third_entries
        if prog is None:
            return self.hessian_interval(z), self._symmetric(entries3, None, z.shape[1:])
        vals = prog(z)
        H = self._symmetric(self._hessian_entries[0], vals[:k] if k else None, z.shape[1:])
        return H, self._symmetric(entries3, vals[k:] if len(entries3) else None, z.shape[1:])

    def third_interval(self, z: iv.Interval) -> iv.Interval:
        """An enclosure of the third derivatives d^3 f_i/dz_j dz_k dz_l over the box z = [x; u; w], shape
        (n, N, N, N). Outer approximation (interval arithmetic on the symbolic derivatives, outward rounded)."""
        return self.hessian_third_interval(z)[1]

    @property
    def disturbance_box(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(lower, upper) of the declared disturbance bounds, or None where only names were declared."""
        return self.disturbance_bounds

    @property
    def nominal_disturbance(self) -> np.ndarray | None:
        """The disturbance simulations use when none is given: the midpoint of the declared bounds (zeros
        where only names were declared); None for a plant without disturbances."""
        if not self.n_disturbances:
            return None
        if self.disturbance_bounds is None:
            return np.zeros(self.n_disturbances)
        lo, hi = self.disturbance_bounds
        return (lo + hi) / 2
