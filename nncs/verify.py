"""Top-level verification of a closed-loop problem: falsify first, then prove by reachability with splitting.

`safe` only when every flowpipe set of every initial part satisfies every spec; `unsafe` only with a
counterexample confirmed by the reference integrator; everything else is `unknown` (a reached time limit
included: it never becomes `safe`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from nncs.loop.falsify import Counterexample, falsify
from nncs.loop.options import Options, TimeLimitReached, check_run_limits, time_check
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
            steps = [
                {"t": t, "lower": lo.tolist(), "upper": hi.tolist()} for t, (lo, hi) in sorted(merged.items())
            ]
        return {
            "name": self.problem_name,
            "states": list(self.states),
            "verdict": self.status,
            "time_s": self.time_s,
            "message": self.message,
            "steps": steps,
            "parts": [
                {"lower": b.lb.tolist(), "upper": b.ub.tolist(), "status": s} for b, s, _ in self.parts
            ],
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            "options": asdict(self.options) if self.options is not None else {},
        }

    def write_json(self, path: str | Path) -> None:
        """Write the JSON report to `path`."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))


def _segment_checker(specs, horizon: float):
    """on_segment callback: True while every spec checked along the way holds on every set of its window."""
    timed = [s for s in specs if not s.at_final_time]

    def check(t0: float, t1: float, s) -> bool:
        return all(spec.holds_on(s) for spec in timed if spec.applies(t0, t1, horizon))

    return check


def _prove(
    problem: Problem, part: Box, options: Options, deadline: float | None = None
) -> tuple[bool, ReachResult | None]:
    """Try to prove the part: cheap network bounds first, then (nn_bounds "auto", star sets) LP bounds, then
    (nn_method "auto") the `fit` network method (affine in the input plus a residual bounded by splitting).

    Raises:
        TimeLimitReached when `deadline` (a `time.perf_counter()` value) passes during a reach."""
    ok, result = _prove_once(problem, part, options, deadline)
    if not ok and options.nn_bounds == "auto" and _uses_stars(problem, options):
        ok, result = _prove_once(problem, part, replace(options, nn_bounds="lp"), deadline)
    if not ok and options.nn_method == "auto":
        ok, result = _prove_once(problem, part, replace(options, nn_method="fit"), deadline)
    return ok, result


def _uses_stars(problem: Problem, options: Options) -> bool:
    from nncs.loop.reach import resolve_set_type

    return resolve_set_type(problem.system, options) == "star"


def _prove_once(
    problem: Problem, part: Box, options: Options, deadline: float | None = None
) -> tuple[bool, ReachResult | None]:
    check = _segment_checker(problem.specs, problem.horizon)
    try:
        result = reach(problem.system, part, problem.steps, options, on_segment=check, deadline=deadline)
    except TimeLimitReached:
        raise
    except RuntimeError:
        return False, None
    if result.stopped == "timeout":
        raise TimeLimitReached(result.message)
    if not result.complete:
        return False, result
    goals = [s for s in problem.specs if s.at_final_time]
    return all(g.holds_on(X) for g in goals for X in result.final), result


def _split(part: Box, initial: Box) -> list[Box]:
    """Split along the dimension that is widest relative to the initial set's width."""
    width = np.where(
        initial.ub > initial.lb, (part.ub - part.lb) / np.maximum(initial.ub - initial.lb, 1e-300), 0
    )
    return part.split(int(np.argmax(width)))


def verify(problem: Problem, options: Options | None = None) -> Verdict:
    """Decide the problem: "unsafe" (confirmed counterexample), "safe" (proof) or "unknown".

    Falsification runs first (batched simulation and gradient ascent); then reachability of the whole initial
    set, and, when the proof fails, of ever smaller parts (split in two along the relatively widest dimension)
    until all are proven or `options.split_budget` parts have been tried. Parts whose proof fails are
    falsified again before they are split.

    With `options.timeout` (seconds from the start of verify), the limit is checked inside every long loop
    (falsification, reach periods, network reach, flowpipe sub-steps, fit splitting); at the limit verify
    returns normally with status "unknown", a message saying the time limit was reached, and `parts` holding
    the parts proven so far ("proven"), the one being worked on ("unproven") and the queued ones ("unchecked").

    Raises:
        ValueError when a spec's time window starts past the horizon (it would hold vacuously), when the run's
        sizes exceed the limits of `nncs.loop.options.check_run_limits`, or when the network method cannot
        handle a layer of the controller (e.g. exact-star on tanh).
    """
    for spec in problem.specs:
        if spec.window is not None and spec.window[0] > problem.horizon * (1 + 1e-12):
            raise ValueError(
                f"{problem.name}: a {spec.kind} spec's window starts at {spec.window[0]} s, past the "
                f"horizon ({problem.horizon:g} s): it would never be checked"
            )
    opts = options or problem.options
    start = time.perf_counter()
    system = problem.system
    try:
        check_run_limits(
            opts,
            system.plant.n_states,
            system.period,
            int(problem.steps),
            system.plant.is_continuous,
            falsify=True,
        )
        if opts.nn_method != "auto":
            from nncs.loop.reach import resolve_nn_method, resolve_set_type
            from nncs.nn.methods import check_supported

            check_supported(system.controller, resolve_nn_method(resolve_set_type(system, opts), opts))
    except ValueError as exc:
        raise ValueError(f"{problem.name}: {exc}") from None
    deadline = None if opts.timeout is None else start + opts.timeout
    check = time_check(deadline, opts.timeout)

    def verdict(status: str, message: str, **kw) -> Verdict:
        return Verdict(
            status,
            time.perf_counter() - start,
            message=message,
            problem_name=problem.name,
            states=tuple(problem.system.plant.state_names),
            options=opts,
            **kw,
        )

    def try_falsify(part: Box, gradient: bool, samples: int) -> Counterexample | None:
        if samples <= 0 and not (gradient and opts.falsify_steps > 0):
            return None
        o = replace(opts, falsify_samples=max(samples, 1))
        return falsify(
            problem.system, part, problem.steps, problem.specs, o, gradient=gradient, deadline=deadline
        )

    def unsafe(cex: Counterexample, parts=()) -> Verdict:
        return verdict(
            "unsafe",
            f"counterexample violates spec {cex.spec_index} by {cex.violation:.3g}",
            counterexample=cex,
            parts=list(parts),
        )

    queue = [problem.initial]
    parts: list = []
    bar = tqdm(
        total=opts.split_budget,
        desc="parts",
        unit="part",
        leave=False,
        disable=None if opts.progress is None else not opts.progress,
    )
    try:
        return _refine(problem, opts, deadline, check, queue, parts, bar, verdict, try_falsify, unsafe)
    except TimeLimitReached:
        bar.close()
        parts.extend((p, "unchecked", None) for p in queue)
        if not parts:  # stopped in the first falsification: nothing was tried
            parts.append((problem.initial, "unchecked", None))
        proven = sum(1 for _, s, _ in parts if s == "proven")
        return verdict(
            "unknown",
            f"time limit of {opts.timeout:g} s reached: {proven} of {len(parts)} part(s) proven",
            parts=parts,
        )


def _refine(
    problem: Problem,
    opts: Options,
    deadline,
    check,
    queue: list,
    parts: list,
    bar,
    verdict,
    try_falsify,
    unsafe,
) -> Verdict:
    """The falsify / prove / split loop of `verify` (it updates `queue` and `parts` in place, so that a
    TimeLimitReached leaves them describing the work done: the part being proven is in `parts` as unproven)."""
    # cheap falsification (a batch of simulations, no gradients) before any proof attempt
    if (cex := try_falsify(problem.initial, False, opts.falsify_samples)) is not None:
        return unsafe(cex)
    tried = 0
    while queue:
        if check is not None:
            check()
        part = queue[0]
        tried += 1
        bar.update(1)
        parts.append((part, "unproven", None))  # until proven (a time limit leaves it unproven)
        queue.pop(0)
        ok, result = _prove(problem, part, opts, deadline)
        if ok:
            parts[-1] = (part, "proven", result)
            continue
        parts[-1] = (part, "unproven", result)
        # a failed proof: search harder (gradients on the whole set first, then samples of each failed part)
        cex = try_falsify(part, tried == 1, opts.falsify_samples if tried == 1 else opts.falsify_samples // 8)
        if cex is not None:
            bar.close()
            return unsafe(cex, parts)
        if tried + len(queue) + 2 > opts.split_budget:
            parts.extend((p, "unchecked", None) for p in queue)
            bar.close()
            proven = sum(1 for _, s, _ in parts if s == "proven")
            return verdict(
                "unknown",
                f"split budget {opts.split_budget} spent: {proven} of the parts proven",
                parts=parts,
            )
        halves = _split(part, problem.initial)
        parts.pop()  # the failed part is replaced by its halves
        queue.extend(halves)
    bar.close()
    whole = parts[0][2] if len(parts) == 1 else None
    return verdict("safe", f"proven on {len(parts)} part(s) of the initial set", result=whole, parts=parts)
