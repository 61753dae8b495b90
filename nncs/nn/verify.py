"""Open-loop property checking: does a network's output avoid an unsafe region over an input box?

A quick attack (random and boundary samples + JAX gradient steps) looks for counterexamples; batched
symbolic bounds (`nncs.nn.bounds`: DeepPoly; alpha-CROWN objective slopes on hard instances) with input
splitting along the input most to blame for the looseness (branch and bound, here) prove the rest. `holds`
only when every sub-box is proven.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from nncs.nn.bounds import bisect_boxes, bound_objectives
from nncs.nn.network import Linear, Network
from nncs.vnnlib import VnnlibCase, VnnlibProperty

__all__ = [
    "VerifyOptions",
    "VerifyResult",
    "verify_property",
    "verify_nn_files",
    "bound_objectives",
    "attack",
    "bisect_boxes",
]


@dataclass(frozen=True)
class VerifyOptions:
    """Options of `verify_property`.

    Attributes:
        timeout: seconds; past it the answer is "timeout".
        attack_samples: random inputs tried per case before proving.
        attack_restarts, attack_steps: projected-gradient (sign) attack from this many starts, for this many steps.
        batch: sub-boxes bounded per vectorised round.
        split: how a sub-box's split input is chosen: "influence" (default: the input accounting for most of
            the bound's looseness, its linear term plus its share of every relaxed neuron's gap), "smear"
            (`|coefficient| * width` of the bounding function only) or "widest" (relative width).
        min_width: sub-boxes narrower than this (relative to the case box) in every input are not split
            further; if one stays unproven the answer is "unknown".
        seed: random seed of the attack.
        alpha_steps: gradient steps optimising the ReLU lower slopes of the objective bound (alpha-CROWN with
            fixed intermediate bounds; Linear/ReLU networks only; 0: DeepPoly's choice).
        alpha_after: the slopes are optimised only once this many sub-boxes have been bounded: easy instances
            finish sooner with DeepPoly's choice, hard ones need far fewer boxes with optimised slopes (ACAS Xu
            phi2 on net 4_2: 124k boxes / 100 s without, 8.6k boxes / 8 s with 8 steps).
        box_samples: random inputs of each open sub-box tried as counterexamples (besides its centre and the
            corners that minimise the bounding functions).
        box_attack, box_attack_steps: each round, sign-gradient steps (shrinking) from random points of this
            many least-proven open sub-boxes, kept inside each sub-box (0: off).
        reuse_bounds: intersect each sub-box's neuron bounds with those of the box it was split from (sound, but
            DeepPoly is not monotone: on ACAS Xu it usually needs more boxes, so it is off by default).
        backsub_every: tighten every layer's neuron bounds by back-substitution (DeepPoly), not only the
            objective (slower per box, far fewer boxes).

    Raises:
        ValueError for a timeout that is not a positive finite number of seconds, counts that are not integers
        in their range (attack_samples <= 10**6, batch in [1, 10**6], steps and restarts <= 10**5, ...), a
        min_width outside [0, 1), or a split rule not in the list.
    """

    timeout: float = 116.0
    attack_samples: int = 4000
    attack_restarts: int = 64
    attack_steps: int = 40
    batch: int = 1024
    min_width: float = 1e-7
    seed: int = 0
    backsub_every: bool = True
    split: str = "influence"
    reuse_bounds: bool = False
    box_samples: int = 4
    alpha_steps: int = 8
    alpha_after: int = 2048
    box_attack: int = 64
    box_attack_steps: int = 12

    def __post_init__(self):
        if self.split not in ("influence", "smear", "widest"):
            raise ValueError(
                f"VerifyOptions.split must be 'influence', 'smear' or 'widest', got {self.split!r}"
            )
        t = self.timeout
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not (math.isfinite(t) and t > 0):
            raise ValueError(f"VerifyOptions.timeout must be a positive finite number of seconds, got {t!r}")
        for name, least, most in _INT_RANGES:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not least <= v <= most:
                raise ValueError(f"VerifyOptions.{name} must be an integer in [{least}, {most}], got {v!r}")
        w = self.min_width
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not (0 <= w < 1):
            raise ValueError(f"VerifyOptions.min_width must be a number in [0, 1), got {w!r}")
        for name in ("backsub_every", "reuse_bounds"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"VerifyOptions.{name} must be true or false, got {getattr(self, name)!r}")


_INT_RANGES = (
    ("attack_samples", 0, 10**6),
    ("attack_restarts", 1, 10**5),
    ("attack_steps", 0, 10**5),
    ("batch", 1, 10**6),
    ("seed", 0, 2**63 - 1),
    ("box_samples", 0, 10**4),
    ("alpha_steps", 0, 10**4),
    ("alpha_after", 0, 2**63 - 1),
    ("box_attack", 0, 10**5),
    ("box_attack_steps", 0, 10**4),
)
"""(field, least, most) of VerifyOptions' integer fields: beyond them a run cannot fit in time or memory."""


@dataclass
class VerifyResult:
    """The answer: result in holds / violated / unknown / timeout, with time and a confirmed counterexample.

    `stats`: boxes bounded, rounds, attack seconds, and "attack_error" when the gradient attack could not be
    set up (JAX missing; only random samples were tried).
    """

    result: str
    time_s: float
    counterexample: dict | None = None
    method: str = "attack + input splitting (DeepPoly, alpha-CROWN slopes on hard instances)"
    stats: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """Return the VNN-COMP style report `{"result", "time_s", "counterexample", "method"}` (plus stats)."""
        out = asdict(self)
        return out


# ---------------------------------------------------------------------------------------------- attack
_STEP_CACHE: dict = {}
"""Compiled attack steps by architecture (layer types, shapes, activation parameters): weights are arguments."""


def _arch_key(net: Network) -> tuple:
    return tuple(
        (type(lay).__name__, lay.W.shape) if isinstance(lay, Linear) else (type(lay).__name__, lay)
        for lay in net.layers
    )


def _attack_step(net: Network):
    key = _arch_key(net)
    if key not in _STEP_CACHE:
        from nncs._jax import jax, jnp

        acts = [None if isinstance(lay, Linear) else lay for lay in net.layers]

        def f(params, x):
            i = 0
            for act in acts:
                if act is None:
                    W, b = params[i]
                    i += 1
                    x = x @ W.T + b
                else:
                    x = act.jax(x)
            return x

        def step(params, x, A, b, lo, hi, size):
            def total(z):
                return jnp.sum(jnp.max(f(params, z) @ A.T - b, axis=-1))

            g = jax.grad(total)(x)
            return jnp.clip(x - size * jnp.sign(g) * (hi - lo), lo, hi)

        _STEP_CACHE[key] = jax.jit(step)
    return _STEP_CACHE[key]


_CHUNK = 65_536
"""Attack samples checked per forward pass (the time limit is checked between chunks)."""


class _Attacker:
    """Random sampling and sign-gradient descent on the violation margin `max_r (A y - b)_r` (JAX, jit once
    per architecture)."""

    def __init__(self, net: Network):
        self._step = _attack_step(net)
        self._params = [(lay.W, lay.b) for lay in net.layers if isinstance(lay, Linear)]

    def step(self, z, A, b, lo, hi, size):
        return self._step(self._params, z, A, b, lo, hi, size)

    def run(self, net, case: VnnlibCase, A, b, rng, opts: VerifyOptions, deadline: float | None = None):
        """A confirmed (x, y) counterexample, None, or "timeout" once `deadline` (perf_counter) has passed."""
        lo, hi = case.lb, case.ub
        x = lo + (hi - lo) * rng.random(size=(opts.attack_samples, lo.size))
        # half of them on faces, edges and corners (each coordinate snapped to a bound with probability 0.3 in
        # one quarter, 0.7 in the last): counterexamples often lie on the input box's boundary (ACAS Xu phi7
        # on net 1_9: about 1 in 360 of the 0.7-snapped samples violates, none of 4M uniform ones)
        snap = (
            rng.random(size=x.shape)
            < np.where(np.arange(x.shape[0]) < 3 * x.shape[0] // 4, 0.3, 0.7)[:, None]
        )
        snap[: x.shape[0] // 2] = False
        x = np.where(snap, np.where(rng.random(size=snap.shape) < 0.5, lo, hi), x)
        x = np.vstack([x, (lo + hi)[None] / 2])
        margins = np.empty(x.shape[0])
        for k in range(0, x.shape[0], _CHUNK):  # in chunks, with the time limit checked between them
            if deadline is not None and time.perf_counter() > deadline:
                return "timeout"
            found = _first_unsafe(net, case, x[k : k + _CHUNK])
            if found is not None:
                return found
        for k in range(0, x.shape[0], _CHUNK):
            if deadline is not None and time.perf_counter() > deadline:
                return "timeout"
            margins[k : k + _CHUNK] = np.max(net(x[k : k + _CHUNK]) @ A.T - b, axis=1)
        starts = x[np.argsort(margins)[: opts.attack_restarts]]
        z = starts
        for k in range(opts.attack_steps):
            if deadline is not None and time.perf_counter() > deadline:
                return "timeout"
            size = 0.05 * (1.0 - k / opts.attack_steps) + 1e-3
            z = np.asarray(self.step(z, A, b, lo, hi, size))
            if k % 10 == 9 or k == opts.attack_steps - 1:
                found = _first_unsafe(net, case, z)
                if found is not None:
                    return found
        return None


def _attacker_or_none(net: Network, stats: dict):
    """The gradient attacker of `net`, or None when JAX cannot be imported (recorded in `stats["attack_error"]`).

    Only a missing JAX is expected (the attack is optional: proving and sampling still work); any other error
    propagates.
    """
    try:
        return _Attacker(net)
    except ImportError as err:
        stats["attack_error"] = f"gradient attack unavailable: {err!r}"
        return None


def _first_unsafe(net: Network, case: VnnlibCase, x: np.ndarray):
    """The first input of x (clipped into the case box) whose plain forward pass is unsafe, as (x, y); else None.

    Strict constraints count strictly: a point on an open input bound or an open output face is no witness.
    """
    x = np.clip(x, case.lb, case.ub)
    y = net(x)
    for i in np.flatnonzero(case.is_unsafe(y) & case.contains_input(x))[:16]:
        yi = net(
            x[i]
        )  # confirm with the plain single-input forward pass (batched BLAS may round differently)
        if case.is_unsafe(yi)[0]:
            return x[i], yi
    return None


def attack(net: Network, prop: VnnlibProperty, options: VerifyOptions | None = None):
    """Search for a counterexample; return (x, y) confirmed by the forward pass, or None (finds, never proves)."""
    opts = options or VerifyOptions()
    rng = np.random.default_rng(opts.seed)
    attacker = _Attacker(net)
    for case in prop.cases:
        for A, b in case.unsafe:
            found = attacker.run(net, case, A, b, rng, opts)
            if found is not None and not isinstance(found, str):
                return found
    return None


# ---------------------------------------------------------------------------------------------- main loop
def verify_property(net: Network, prop: VnnlibProperty, options: VerifyOptions | None = None) -> VerifyResult:
    """Decide whether `net` satisfies `prop` (no input of a case box maps into that case's unsafe region).

    Returns:
        VerifyResult with result "violated" (counterexample checked by the numpy forward pass), "holds" (every
        sub-box proven by sound symbolic bounds), "timeout", or "unknown" (boxes too small to split stay open).
    Raises:
        ValueError when the property's dimensions do not match the network.
    """
    opts = options or VerifyOptions()
    t0 = time.perf_counter()
    if prop.n_inputs != net.n_inputs or prop.n_outputs != net.n_outputs:
        raise ValueError(
            f"property {prop.source} has {prop.n_inputs} inputs / {prop.n_outputs} outputs, "
            f"the network {net.n_inputs} / {net.n_outputs}"
        )
    # the network as given (not merged): proofs and counterexample checks are about this very function
    rng = np.random.default_rng(opts.seed)
    stats = {"boxes": 0, "rounds": 0}

    def done(result, cex=None):
        stats["attack_s"] = stats.get("attack_s", 0.0)
        counter = None if cex is None else {"x": cex[0].tolist(), "y": cex[1].tolist()}
        return VerifyResult(result, time.perf_counter() - t0, counter, stats=stats)

    attacker = _attacker_or_none(net, stats)
    ta = time.perf_counter()
    deadline = t0 + opts.timeout
    for case in prop.cases:
        for A, b in case.unsafe:
            if time.perf_counter() > deadline:
                stats["attack_s"] = time.perf_counter() - ta
                return done("timeout")
            if attacker is not None and A.shape[0] > 0:
                found = attacker.run(net, case, A, b, rng, opts, deadline)
            else:
                found = _first_unsafe(
                    net,
                    case,
                    case.lb + (case.ub - case.lb) * rng.random(size=(opts.attack_samples, case.lb.size)),
                )
            if isinstance(found, str):
                stats["attack_s"] = time.perf_counter() - ta
                return done("timeout")
            if found is not None:
                stats["attack_s"] = time.perf_counter() - ta
                return done("violated", found)
    stats["attack_s"] = time.perf_counter() - ta

    unknown = False
    for case in prop.cases:
        res = _prove_case(net, case, opts, t0, stats, rng)
        if res == "timeout":
            return done("timeout")
        if isinstance(res, tuple):
            return done("violated", res)
        if res == "unknown":
            unknown = True
    return done("unknown" if unknown else "holds")


def _prove_case(net: Network, case: VnnlibCase, opts: VerifyOptions, t0: float, stats: dict, rng=None):
    rng = rng if rng is not None else np.random.default_rng(opts.seed)
    attacker = _attacker_or_none(net, stats) if opts.box_attack else None
    conj = [(A, b) for A, b in case.unsafe]
    if any(A.shape[0] == 0 for A, _ in conj):  # an unconditional unsafe region: any input violates
        x = (case.lb + case.ub) / 2
        return x, net(x)
    C = np.vstack([A for A, _ in conj])
    e = np.concatenate([b for _, b in conj])
    owner = np.concatenate([np.full(A.shape[0], j) for j, (A, _) in enumerate(conj)])
    nconj = len(conj)
    layers = net.layers
    width0 = case.ub - case.lb
    pool_lb = case.lb[None].copy()
    pool_ub = case.ub[None].copy()
    pool_score = np.zeros(1)
    pool_prior = None  # per activation layer (lower, upper) arrays aligned with the pool (opts.reuse_bounds)
    unknown = False
    while pool_lb.shape[0]:
        if time.perf_counter() - t0 > opts.timeout:
            return "timeout"
        # best first: the boxes whose bounds are furthest from a proof (most likely to hold a counterexample)
        if pool_lb.shape[0] > opts.batch:
            pick = np.zeros(pool_lb.shape[0], dtype=bool)
            pick[np.argpartition(pool_score, opts.batch)[: opts.batch]] = True
            lb, ub = pool_lb[pick], pool_ub[pick]
            pool_lb, pool_ub, pool_score = pool_lb[~pick], pool_ub[~pick], pool_score[~pick]
            prior = None if pool_prior is None else [(a[pick], b[pick]) for a, b in pool_prior]
            pool_prior = None if pool_prior is None else [(a[~pick], b[~pick]) for a, b in pool_prior]
        else:
            lb, ub = pool_lb, pool_ub
            pool_lb, pool_ub, pool_score = pool_lb[:0], pool_ub[:0], pool_score[:0]
            prior = pool_prior
            pool_prior = None if pool_prior is None else [(a[:0], b[:0]) for a, b in pool_prior]
        take = lb.shape[0]
        stats["boxes"] += take
        stats["rounds"] += 1
        kept: list | None = [] if opts.reuse_bounds else None
        out = bound_objectives(
            layers,
            lb,
            ub,
            C,
            e,
            opts.backsub_every,
            prior=prior,
            keep=kept,
            alpha_steps=opts.alpha_steps if stats["boxes"] > opts.alpha_after else 0,
            influence=opts.split == "influence",
        )
        low, GA = out[0], out[1]  # (B, R), (B, R, n0)
        infl = out[2] if len(out) > 2 else None
        proven_rows = low > 0
        proven_conj = np.zeros((lb.shape[0], nconj), dtype=bool)
        for j in range(nconj):
            proven_conj[:, j] = proven_rows[:, owner == j].any(axis=1)
        open_ = ~proven_conj.all(axis=1)
        if not open_.any():
            continue
        lb, ub, low, GA, proven_conj = lb[open_], ub[open_], low[open_], GA[open_], proven_conj[open_]
        if infl is not None:
            infl = infl[open_]
        if kept is not None:
            kept = [(a[open_], b[open_]) for a, b in kept]
        best = np.full((lb.shape[0], nconj), np.inf)
        for j in range(nconj):
            best[:, j] = np.where(proven_conj[:, j], np.inf, low[:, owner == j].max(axis=1))
        box_score = best.min(axis=1)
        # candidate counterexamples: each open conjunction's binding row's minimising corner, and the centre
        cands = [(lb + ub) / 2]
        score = np.zeros_like(lb)
        for j in range(nconj):
            rows = np.flatnonzero(owner == j)
            r = rows[np.argmax(low[:, rows], axis=1)]
            g = GA[np.arange(lb.shape[0]), r]  # (B, n0)
            cands.append(np.where(g > 0, lb, ub))
            gsum = GA[:, rows].sum(axis=1)  # the corner that pushes all rows of the conjunction down together
            cands.append(np.where(gsum > 0, lb, ub))
            open_j = np.where(proven_conj[:, j], 0.0, 1.0)[:, None]
            score += open_j * (np.abs(g) if infl is None else infl[np.arange(lb.shape[0]), r])
        for _ in range(opts.box_samples):
            cands.append(lb + (ub - lb) * rng.random(lb.shape))
        for x in cands:
            found = _first_unsafe(net, case, x)
            if found is not None:
                return found
        if time.perf_counter() - t0 > opts.timeout:
            return "timeout"
        if attacker is not None and opts.box_attack:  # gradient steps inside the least proven sub-boxes
            k = min(opts.box_attack, lb.shape[0])
            top = np.argsort(box_score)[:k]
            pad = opts.box_attack - k
            blo = np.vstack([lb[top], np.repeat(lb[top[:1]], pad, axis=0)])
            bhi = np.vstack([ub[top], np.repeat(ub[top[:1]], pad, axis=0)])
            for j in range(nconj):
                z = blo + (bhi - blo) * rng.random(blo.shape)
                for step in range(opts.box_attack_steps):
                    if time.perf_counter() - t0 > opts.timeout:
                        return "timeout"
                    z = np.asarray(attacker.step(z, conj[j][0], conj[j][1], blo, bhi, 0.2 * 0.7**step))
                found = _first_unsafe(net, case, z)
                if found is not None:
                    return found
        width = ub - lb
        if opts.split == "widest":
            score = width / np.where(width0 > 0, width0, 1.0)
        elif opts.split == "smear":
            score = score * width
        score[width <= opts.min_width * width0] = -1.0
        dim = np.argmax(score, axis=1)
        splittable = score[np.arange(lb.shape[0]), dim] > 0
        if not splittable.all():
            unknown = True
            lb, ub, dim, box_score = lb[splittable], ub[splittable], dim[splittable], box_score[splittable]
            if kept is not None:
                kept = [(a[splittable], b[splittable]) for a, b in kept]
            if lb.shape[0] == 0:
                continue
        halves_lb, halves_ub = bisect_boxes(lb, ub, dim)
        pool_lb = np.vstack([pool_lb, halves_lb])
        pool_ub = np.vstack([pool_ub, halves_ub])
        pool_score = np.concatenate([pool_score, box_score, box_score])
        if kept is not None:
            new = [(np.vstack([a, a]), np.vstack([b, b])) for a, b in kept]
            pool_prior = (
                new
                if pool_prior is None or pool_lb.shape[0] == 2 * lb.shape[0]
                else [
                    (np.vstack([pa, na]), np.vstack([pb, nb])) for (pa, pb), (na, nb) in zip(pool_prior, new)
                ]
            )
    return "unknown" if unknown else "holds"


def verify_nn_files(
    model,
    prop,
    timeout: float = 116.0,
    json_path=None,
    options: VerifyOptions | None = None,
    nnet_normalize: bool = True,
    client=None,
) -> VerifyResult:
    """Load a network file and a VNN-LIB file, check the property, and write the JSON report when asked.

    Args:
        model: the network file (.onnx, .nnet, .json, .mat).
        prop: the VNN-LIB file.
        timeout: seconds for the whole call; parsing the property counts (a parse cut by it answers "timeout").
        json_path: where to write the JSON report (None: nowhere).
        options: VerifyOptions (its timeout is replaced by `timeout`).
        nnet_normalize: for a .nnet model, apply its header normalisation (raw inputs and outputs; the default);
            False loads the bare network on normalised inputs and outputs, as an ONNX export of it computes.
        client: a Dask `distributed.Client`: the input boxes are cut into sub-boxes decided on its workers
            (`nncs.distributed.verify_property_distributed`); None: in this process.
    Raises:
        ValueError naming the file for unreadable inputs or mismatched dimensions, or a bad timeout.
    """
    import dataclasses
    import json
    from pathlib import Path

    from nncs.nn.io import load_network
    from nncs.vnnlib import VnnlibTimeout, load_vnnlib

    opts = dataclasses.replace(options or VerifyOptions(), timeout=timeout)  # validates the timeout first
    t0 = time.perf_counter()
    net = load_network(model, nnet_normalize=nnet_normalize)
    try:
        spec = load_vnnlib(prop, deadline=t0 + timeout)
    except VnnlibTimeout:
        result = VerifyResult(
            "timeout", time.perf_counter() - t0, stats={"stopped": "while parsing the property"}
        )
    else:
        if client is None:
            result = verify_property(net, spec, opts)
        else:
            from nncs.distributed import verify_property_distributed

            left = max(1e-3, timeout - (time.perf_counter() - t0))
            result = verify_property_distributed(client, net, spec, dataclasses.replace(opts, timeout=left))
        result.time_s = time.perf_counter() - t0
    if json_path:
        Path(json_path).write_text(json.dumps(result.to_json(), indent=2))
    return result
