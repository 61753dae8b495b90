"""Reachability methods for networks: `reach(net, input_set, method)` over a table of per-layer rules.

The package is `nncs.nn.methods`; the function is re-exported as `nncs.nn.reach`.

Rules are keyed by (set kind, layer type, method), jax_verify style; every rule is exact or an outer approximation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

from nncs.nn.methods.fit import fit_reach, fit_supports
from nncs.nn.methods.poly import PolyState, poly_activation, poly_linear
from nncs.nn.methods.star import approx_star_activation, exact_star_activation, star_linear
from nncs.nn.methods.zono import zono_activation, zono_linear
from nncs.nn.network import (
    ACTIVATIONS,
    IDENTITY,
    PIECEWISE_LINEAR,
    S_SHAPED,
    Activation,
    Linear,
    Network,
)
from nncs.sets import Box, Star, Zonotope
from nncs.suggest import did_you_mean

__all__ = [
    "reach",
    "ReachOptions",
    "METHODS",
    "RULES",
    "NETWORK_RULES",
    "register_rule",
    "register_activation",
    "check_supported",
]

METHODS = ("exact-star", "approx-star", "approx-zono", "abs-dom", "fit")


@dataclass(frozen=True)
class ReachOptions:
    """Options of `reach`.

    Attributes:
        bounds: approx-star pre-activation bounds: "lp" (exact LPs for neurons the cheap estimate cannot
            settle) or "estimate" (the predicate box only; faster, looser).
        concretize: abs-dom bounds over the input predicate: "box" (its box) or "lp" (its polytope).
        max_stars: exact-star raises RuntimeError when the union would exceed this many stars.
        output: abs-dom result: "star" (input predicate + one variable per output) or "box".
        fit_samples: fit: random points of the input box for the slope and the sampled residual range.
        fit_tol: fit: stop splitting when each residual bound is within this fraction of the sampled residual
            range of that range.
        fit_max_boxes: fit: at most this many sub-boxes bounded per call (then the bound is returned as is).
        fit_batch: fit: sub-boxes bounded per vectorised call (small products stay single-threaded in BLAS).
        fit_slope: fit: "minimax" (the slope with the least largest residual on the samples) or "lstsq".
        seed: fit: random seed of the samples.
        check_time: called inside long loops (per layer, per exact-star split, per fit splitting round); it
            raises (e.g. at a time limit) to stop the computation. None: never interrupted. Not part of equality.

    Raises:
        ValueError for counts below 1 (fit_samples, fit_max_boxes, fit_batch, max_stars), a negative seed, or
        a fit_tol that is not a positive finite number.
    """

    bounds: str = "lp"
    concretize: str = "box"
    max_stars: int = 100_000
    output: str = "star"
    fit_samples: int = 2000
    fit_tol: float = 0.2
    fit_max_boxes: int = 512
    fit_batch: int = 32
    fit_slope: str = "minimax"
    seed: int = 0
    check_time: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        for name in ("max_stars", "fit_samples", "fit_max_boxes", "fit_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"ReachOptions.{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ValueError(f"ReachOptions.seed must be an integer >= 0, got {self.seed!r}")
        if (
            isinstance(self.fit_tol, bool)
            or not isinstance(self.fit_tol, numbers.Real)
            or not (math.isfinite(self.fit_tol) and self.fit_tol > 0)
        ):
            raise ValueError(f"ReachOptions.fit_tol must be a positive finite number, got {self.fit_tol!r}")


Rule = Callable[[object, object, ReachOptions], list]
RULES: dict[tuple[str, type, str], Rule] = {}
"""(set kind, layer type, method) -> rule(set, layer, options) -> list of sets."""


def register_rule(kind: str, layer_type: type, method: str, rule: Rule) -> None:
    """Add or replace the rule for (set kind, layer type, method)."""
    RULES[(kind, layer_type, method)] = rule


def _identity(s, layer, opts):
    return [s]


NETWORK_RULES: dict[tuple[str, str], Callable] = {}
"""(set kind, method) -> rule(net, set, options) -> list of sets, for methods over the whole network (not per layer)."""
for _k in ("star", "zono", "Box"):
    NETWORK_RULES[(_k, "fit")] = fit_reach

_METHOD_KIND = {"exact-star": "star", "approx-star": "star", "approx-zono": "zono", "abs-dom": "poly"}
"""The per-layer methods and the set kind each propagates."""

_REGISTERED: set[type] = set()


def register_activation(act_type: type[Activation]) -> None:
    """Add the per-layer rules of an activation class by its `shape` (the table asks the activation):

    identity: passed through by every per-layer method; piecewise-linear: exact-star (splitting), approx-star,
    approx-zono, abs-dom; S-shaped: approx-star, approx-zono, abs-dom; no shape: no rules. Rules already
    present (e.g. set with `register_rule`) are kept. Idempotent.
    """
    _REGISTERED.add(act_type)
    if act_type.shape == IDENTITY:
        rules = {(kind, method): _identity for method, kind in _METHOD_KIND.items()}
    elif act_type.shape in (PIECEWISE_LINEAR, S_SHAPED):
        rules = {
            ("star", "approx-star"): approx_star_activation,
            ("zono", "approx-zono"): zono_activation,
            ("poly", "abs-dom"): poly_activation,
        }
        if act_type.shape == PIECEWISE_LINEAR:
            rules[("star", "exact-star")] = exact_star_activation
    else:
        rules = {}
    for (kind, method), rule in rules.items():
        RULES.setdefault((kind, act_type, method), rule)


register_rule("star", Linear, "exact-star", star_linear)
register_rule("star", Linear, "approx-star", star_linear)
register_rule("zono", Linear, "approx-zono", zono_linear)
register_rule("poly", Linear, "abs-dom", poly_linear)
for _a in dict.fromkeys(ACTIVATIONS.values()):  # every registered activation class, once, in definition order
    register_activation(_a)


def _rule(kind: str, layer, method: str) -> Rule | None:
    """The rule for (kind, type(layer), method); an activation class defined after this module was imported
    gets its rules here, on first use."""
    if isinstance(layer, Activation) and type(layer) not in _REGISTERED:
        register_activation(type(layer))
    return RULES.get((kind, type(layer), method))


def _kind(s) -> str:
    if isinstance(s, Star):
        return "star"
    if isinstance(s, Zonotope):
        return "zono"
    if isinstance(s, PolyState):
        return "poly"
    return type(s).__name__


def check_supported(net: Network, method: str, input_kind: str | None = None) -> None:
    """Refuse, before any computation, a network with a layer that `method` cannot propagate.

    Args:
        net: the network; method: one of METHODS; input_kind: "star", "zono" or "Box" (for whole-network
            methods such as fit; None: any).
    Raises:
        ValueError naming the method and the first unsupported layer (index and type), e.g. exact-star on a
        tanh layer (exact-star needs piecewise-linear activations).
    """
    if method not in METHODS:
        raise ValueError(
            f"unknown reach method {method!r}{did_you_mean(str(method), METHODS)} (known: {list(METHODS)})"
        )
    if method == "fit":
        for i, layer in enumerate(net.layers):
            if not fit_supports(layer):
                raise ValueError(f"reach: method 'fit' does not support layer {i} ({layer!r})")
        return
    kind = _METHOD_KIND[method]
    for i, layer in enumerate(net.layers):
        if _rule(kind, layer, method) is None:
            hint = ""
            if method == "exact-star" and _rule("star", layer, "approx-star") is not None:
                pwl = ", ".join(
                    a.__name__ for a in dict.fromkeys(ACTIVATIONS.values()) if a.shape == PIECEWISE_LINEAR
                )
                hint = f": exact-star needs piecewise-linear activations ({pwl}); use approx-star"
            raise ValueError(f"reach: method {method!r} does not support layer {i} ({layer!r}){hint}")


def _prepare(input_set, method: str, opts: ReachOptions):
    if method in ("exact-star", "approx-star"):
        return input_set if isinstance(input_set, Star) else input_set.to_star()
    if method == "approx-zono":
        return input_set if isinstance(input_set, Zonotope) else input_set.to_zonotope()
    star = input_set if isinstance(input_set, Star) else input_set.to_star()
    return PolyState(star, (), star.dim, opts.concretize)


def reach(net: Network, input_set, method: str = "approx-star", options: ReachOptions | None = None) -> list:
    """Return sets covering `{net(x) : x in input_set}`: exact for exact-star (the union), outer otherwise.

    Args:
        net: the network.
        input_set: a Box, Zonotope or Star of dimension net.n_inputs.
        method: "exact-star" (union of stars, complete for piecewise-linear networks), "approx-star" (one star,
            NNV's relaxations), "approx-zono" (one zonotope, DeepZ; a Star input is first boxed into a
            zonotope, which loses its constraints), "abs-dom" (DeepPoly back-substitution; one Star, or a Box
            with options.output = "box"), "fit" (an affine function of the input plus a residual interval
            bounded by input splitting on the input's box hull; a Zonotope for Zonotope/Box inputs, a Star
            for Star inputs; see nncs.nn.methods.fit).
        options: ReachOptions.
    Returns:
        A list of sets. Star outputs keep the input's predicate variables first (relaxation variables are
        appended), so the joint set of input and output is exact up to the relaxations. approx-zono keeps
        the input zonotope's generators first in the same way.
    Raises:
        ValueError for an unknown method, a dimension mismatch, or a layer the method does not support.
    """
    opts = options or ReachOptions()
    if method not in METHODS:
        raise ValueError(
            f"unknown reach method {method!r}{did_you_mean(str(method), METHODS)} (known: {list(METHODS)})"
        )
    if not isinstance(net, Network):
        raise ValueError(f"reach: expected a Network, got {type(net).__name__}")
    if not isinstance(input_set, (Box, Zonotope, Star)):
        raise ValueError(f"reach: input_set must be a Box, Zonotope or Star, got {type(input_set).__name__}")
    if input_set.dim != net.n_inputs:
        raise ValueError(
            f"reach: input set has dimension {input_set.dim}, the network expects {net.n_inputs}"
        )
    whole = NETWORK_RULES.get((_kind(input_set), method))
    if whole is not None:
        if method == "fit":
            check_supported(net, method)
        return whole(net, input_set, opts)
    check_supported(net, method)
    sets = [_prepare(input_set, method, opts)]
    check = opts.check_time
    for i, layer in enumerate(net.layers):
        out = []
        for s in sets:
            if check is not None:
                check()
            rule = _rule(_kind(s), layer, method)
            if rule is None:
                raise ValueError(
                    f"reach: method {method!r} does not support layer {i} ({layer!r}) on {_kind(s)} sets"
                )
            out.extend(rule(s, layer, opts))
        sets = out
    if method == "abs-dom":
        if opts.output == "box":
            return [Box(*p.bounds()) for p in sets]
        if opts.output != "star":
            raise ValueError(f"options.output must be 'star' or 'box', got {opts.output!r}")
        return [p.to_star() for p in sets]
    return sets
