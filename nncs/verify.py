"""Top-level verification of a closed-loop problem: falsify first, then prove by reachability with splitting.

`safe` only when every flowpipe set of every initial part satisfies every spec; `unsafe` only with a
counterexample confirmed by the reference integrator; everything else is `unknown`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from nncs.loop.falsify import Counterexample, falsify
from nncs.loop.options import Options
from nncs.loop.reach import ReachResult, reach
from nncs.problem import Problem
from nncs.sets import Box

__all__ = ["Verdict", "verify"]


@dataclass
class Verdict:
    """The answer to a problem.

    Attributes:
        status: "safe", "unsafe" or "unknown".
        time_s: wall time of `verify`.
        counterexample: the confirmed Counterexample when unsafe, else None.
        result: the ReachResult of the whole initial set when it was proven in one piece, else None.
        parts: (initial part, "proven" | "unproven" | "unchecked", ReachResult or None) for each part
            tried during refinement.
        message: a one-line explanation.
    """

    status: str
    time_s: float
    counterexample: Counterexample | None = None
    result: ReachResult | None = None
    parts: list = field(default_factory=list)
    message: str = ""
    problem_name: str = ""
    states: tuple = ()
    options: Options | None = None

    @property
    def results(self) -> list:
        """The reach results behind the verdict: the whole set's, else those of the parts that have one."""
        return [self.result] if self.result is not None else [r for _, _, r in self.parts if r is not None]

    def to_dict(self) -> dict:
        """The JSON report of DESIGN.md: name, verdict, time_s, steps (bounds per sampling instant), counterexample, options."""
        steps = []
        results = self.results
        if results:
            merged: dict[float, tuple[np.ndarray, np.ndarray]] = {}
            for r in results:
                for t, lo, hi in r.sampling_bounds():
                    key = round(t, 12)
                    if key in merged:
                        lo, hi = np.minimum(merged[key][0], lo), np.maximum(merged[key][1], hi)
                    merged[key] = (lo, hi)
            steps = [{"t": t, "lower": lo.tolist(), "upper": hi.tolist()} for t, (lo, hi) in sorted(merged.items())]
        return {
            "name": self.problem_name,
            "states": list(self.states),
            "verdict": self.status,
            "time_s": self.time_s,
            "message": self.message,
            "steps": steps,
            "parts": [{"lower": b.lb.tolist(), "upper": b.ub.tolist(), "status": s} for b, s, _ in self.parts],
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            "options": asdict(self.options) if self.options is not None else {},
        }

    def write_json(self, path: str | Path) -> None:
        """Write the JSON report to `path`."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))


def _segment_checker(specs, horizon: float):
    """on_segment callback: True while every always/avoid spec holds on every set of its window."""
    timed = [s for s in specs if s.kind in ("always", "avoid")]

    def check(t0: float, t1: float, s) -> bool:
        return all(spec.holds_on(s) for spec in timed if spec.applies(t0, t1, horizon))

    return check


def _prove(problem: Problem, part: Box, options: Options) -> tuple[bool, ReachResult | None]:
    """Try to prove the part: cheap network bounds first, then (nn_bounds "auto", star sets) LP bounds, then
    (nn_method "auto") the `fit` network method (affine in the input plus a residual bounded by splitting)."""
    ok, result = _prove_once(problem, part, options)
    if not ok and options.nn_bounds == "auto" and _uses_stars(problem, options):
        ok, result = _prove_once(problem, part, replace(options, nn_bounds="lp"))
    if not ok and options.nn_method == "auto":
        ok, result = _prove_once(problem, part, replace(options, nn_method="fit"))
    return ok, result


def _uses_stars(problem: Problem, options: Options) -> bool:
    from nncs.loop.reach import _set_type

    return _set_type(problem.system, options) == "star"


def _prove_once(problem: Problem, part: Box, options: Options) -> tuple[bool, ReachResult | None]:
    check = _segment_checker(problem.specs, problem.horizon)
    try:
        result = reach(problem.system, part, problem.steps, options, on_segment=check)
    except RuntimeError:
        return False, None
    if not result.complete:
        return False, result
    goals = [s for s in problem.specs if s.kind == "goal"]
    return all(g.holds_on(X) for g in goals for X in result.final), result


def _split(part: Box, initial: Box) -> list[Box]:
    """Split along the dimension that is widest relative to the initial set's width."""
    width = np.where(initial.ub > initial.lb, (part.ub - part.lb) / np.maximum(initial.ub - initial.lb, 1e-300), 0)
    return part.split(int(np.argmax(width)))


def verify(problem: Problem, options: Options | None = None) -> Verdict:
    """Decide the problem: "unsafe" (confirmed counterexample), "safe" (proof) or "unknown".

    Falsification runs first (batched simulation and gradient ascent); then reachability of the whole initial
    set, and, when the proof fails, of ever smaller parts (split in two along the relatively widest dimension)
    until all are proven or `options.split_budget` parts have been tried. Parts whose proof fails are
    falsified again before they are split.

    Raises:
        ValueError when a spec's time window starts past the horizon (it would hold vacuously).
    """
    for spec in problem.specs:
        if spec.window is not None and spec.window[0] > problem.horizon * (1 + 1e-12):
            raise ValueError(f"{problem.name}: a {spec.kind} spec's window starts at {spec.window[0]} s, past the "
                             f"horizon ({problem.horizon:g} s): it would never be checked")
    opts = options or problem.options
    start = time.perf_counter()

    def verdict(status: str, message: str, **kw) -> Verdict:
        return Verdict(status, time.perf_counter() - start, message=message, problem_name=problem.name,
                       states=tuple(problem.system.plant.state_names),
                       options=opts, **kw)

    def try_falsify(part: Box, gradient: bool, samples: int) -> Counterexample | None:
        if samples <= 0 and not (gradient and opts.falsify_steps > 0):
            return None
        o = replace(opts, falsify_samples=max(samples, 1))
        return falsify(problem.system, part, problem.steps, problem.specs, o, gradient=gradient)

    def unsafe(cex: Counterexample, parts=()) -> Verdict:
        return verdict("unsafe", f"counterexample violates spec {cex.spec_index} by {cex.violation:.3g}",
                       counterexample=cex, parts=list(parts))

    # cheap falsification (a batch of simulations, no gradients) before any proof attempt
    if (cex := try_falsify(problem.initial, False, opts.falsify_samples)) is not None:
        return unsafe(cex)
    queue = [problem.initial]
    parts: list = []
    tried = 0
    bar = tqdm(total=opts.split_budget, desc="parts", unit="part", leave=False,
               disable=None if opts.progress is None else not opts.progress)
    while queue:
        part = queue.pop(0)
        tried += 1
        bar.update(1)
        ok, result = _prove(problem, part, opts)
        if ok:
            parts.append((part, "proven", result))
            continue
        parts.append((part, "unproven", result))
        # a failed proof: search harder (gradients on the whole set first, then samples of each failed part)
        cex = try_falsify(part, tried == 1, opts.falsify_samples if tried == 1 else opts.falsify_samples // 8)
        if cex is not None:
            bar.close()
            return unsafe(cex, parts)
        if tried + len(queue) + 2 > opts.split_budget:
            parts.extend((p, "unchecked", None) for p in queue)
            bar.close()
            proven = sum(1 for _, s, _ in parts if s == "proven")
            return verdict("unknown", f"split budget {opts.split_budget} spent: {proven} of the parts proven",
                           parts=parts)
        parts.pop()  # the failed part is replaced by its halves
        queue.extend(_split(part, problem.initial))
    bar.close()
    whole = parts[0][2] if len(parts) == 1 else None
    return verdict("safe", f"proven on {len(parts)} part(s) of the initial set", result=whole, parts=parts)
