"""Top-level verification of a closed-loop problem: falsify first, then prove by reachability with splitting.

`safe` only when every flowpipe set of every initial part satisfies every spec; `unsafe` only with a
counterexample confirmed by the reference integrator; everything else is `unknown` (a reached time limit
included: it never becomes `safe`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from nncs.loop.falsify import Counterexample, falsify
from nncs.loop.options import Options, TimeLimitReached, check_run_limits, time_check
from nncs.loop.reach import ReachResult, reach
from nncs.problem import Problem
from nncs.sets import Box

__all__ = ["Verdict", "verify", "PartOutcome", "attempt_part", "falsify_part", "sensitivity_dimension"]


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
        message: a one-line explanation: for unsafe the violated condition, by how much and when; for
            unknown why (split budget or time limit) and, when a proof failed, which part, which condition
            and its best certified bound.
        reasons: per entry of `parts`, why its proof failed ("" when proven or not tried).
        methods: per entry of `parts`, the method that proved it (`method_text`: set type, network method and
            bounds, flowpipe remainder), "" when not proven.
        specs: the problem's specs (drawn by plots, written to reports).
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
    reasons: list = field(default_factory=list)
    methods: list = field(default_factory=list)
    specs: tuple = ()

    @property
    def results(self) -> list:
        """The reach results behind the verdict: the whole set's, else those of the parts that have one."""
        return [self.result] if self.result is not None else [r for _, _, r in self.parts if r is not None]

    def to_dict(self) -> dict:
        """The JSON report of DESIGN.md: name, states, verdict, time_s, message, specs (kind, constraints as
        written, window), steps (bounds per sampling instant), parts (with the method that proved each, or
        the reason its proof failed), methods (how many parts each method proved), counterexample (with the
        violated condition and its time), options."""
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
            "specs": [spec.to_dict() for spec in self.specs],
            "steps": steps,
            "parts": [
                {"lower": b.lb.tolist(), "upper": b.ub.tolist(), "status": s, "reason": reason, "method": how}
                for (b, s, _), reason, how in zip(self.parts, self._padded_reasons(), self._padded_methods())
            ],
            "methods": self.method_counts(),
            "counterexample": None if self.counterexample is None else self.counterexample.to_dict(),
            "options": asdict(self.options) if self.options is not None else {},
        }

    def _padded_reasons(self) -> list[str]:
        return list(self.reasons) + [""] * (len(self.parts) - len(self.reasons))

    def _padded_methods(self) -> list[str]:
        return list(self.methods) + [""] * (len(self.parts) - len(self.methods))

    def method_counts(self) -> dict[str, int]:
        """How many parts each method proved (in the order the methods first proved a part)."""
        return dict(Counter(how for how in self.methods if how))

    def write_json(self, path: str | Path) -> None:
        """Write the JSON report to `path`."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))


class _SegmentChecker:
    """on_segment callback: True while every spec checked along the way holds on every set of its window; the
    first failure is kept in `failure` as (t0, t1, spec index, set)."""

    def __init__(self, specs, horizon: float):
        self.timed = [(i, s) for i, s in enumerate(specs) if not s.at_final_time]
        self.horizon = horizon
        self.failure = None

    def __call__(self, t0: float, t1: float, s) -> bool:
        for i, spec in self.timed:
            if spec.applies(t0, t1, self.horizon) and not spec.holds_on(s):
                self.failure = (t0, t1, i, s)
                return False
        return True


def _failure_reason(spec_index: int, spec, s, when: str) -> str:
    """Why `spec` was not proven on the set `s`: its closest condition and the certified bound (a few LPs)."""
    try:
        shortfall = spec.shortfall(s)
    except (ValueError, RuntimeError) as exc:  # an LP that fails: say so rather than hide the reason
        return f"spec {spec_index} ({spec.kind}) not proven {when} (its bound could not be computed: {exc})"
    if spec.kind == "avoid":
        bound = f"no condition of the region is out of reach: best separation {-shortfall.excess:.3g}"
    elif shortfall.excess > 0:
        bound = f"the reachable set's certified bound exceeds it by {shortfall.excess:.3g}"
    else:
        bound = f"the reachable set's certified bound reaches it (margin {-shortfall.excess:.3g})"
    return f"spec {spec_index} ({spec.kind}): `{shortfall.condition}` not proven {when}: {bound}"


def _interval(t0: float, t1: float) -> str:
    return f"at t = {t0:.4g} s" if t0 == t1 else f"on t in [{t0:.4g}, {t1:.4g}] s"


def method_text(problem: Problem, options: Options) -> str:
    """How a reach under `options` bounds the problem's sets, e.g. "star, approx-star (lp bounds)" or
    "zonotope, approx-zono, cubic remainder": the set type, the network method (with approx-star's
    pre-activation bounds) and, for a nonlinear plant, the flowpipe's remainder bound."""
    from nncs.loop.reach import resolve_nn_method, resolve_set_type

    set_type = resolve_set_type(problem.system, options)
    nn_method = resolve_nn_method(set_type, options)
    text = f"{set_type}, {nn_method}"
    if nn_method == "approx-star":
        text += f" ({'lp' if options.nn_bounds == 'lp' else 'estimated'} bounds)"
    plant = problem.system.plant
    if not plant.hessian_is_zero:
        text += f", {options.remainder} remainder"
    return text


def _prove(
    problem: Problem, part: Box, options: Options, deadline: float | None = None
) -> tuple[bool, ReachResult | None, str, Options]:
    """Try to prove the part: cheap network bounds first, then (nn_bounds "auto", star sets) LP bounds, then
    (nn_method "auto") the `fit` network method (affine in the input plus a residual bounded by splitting).

    Returns:
        (proven, the last ReachResult or None, why the last attempt failed: "" when proven, the options of
        the last attempt).
    Raises:
        TimeLimitReached when `deadline` (a `time.perf_counter()` value) passes during a reach."""
    tried = options
    ok, result, reason = _prove_once(problem, part, tried, deadline)
    if not ok and options.nn_bounds == "auto" and _uses_stars(problem, options):
        tried = replace(options, nn_bounds="lp")
        ok, result, reason = _prove_once(problem, part, tried, deadline)
    if not ok and options.nn_method == "auto":
        tried = replace(options, nn_method="fit")
        ok, result, reason = _prove_once(problem, part, tried, deadline)
    return ok, result, reason, tried


def _uses_stars(problem: Problem, options: Options) -> bool:
    from nncs.loop.reach import resolve_set_type

    return resolve_set_type(problem.system, options) == "star"


def _prove_once(
    problem: Problem, part: Box, options: Options, deadline: float | None = None
) -> tuple[bool, ReachResult | None, str]:
    check = _SegmentChecker(problem.specs, problem.horizon)
    try:
        result = reach(problem.system, part, problem.steps, options, on_segment=check, deadline=deadline)
    except TimeLimitReached:
        raise
    except RuntimeError as exc:
        return False, None, f"reachability failed ({options.nn_method} network method): {exc}"
    if result.stopped == "timeout":
        raise TimeLimitReached(result.message)
    if not result.complete:
        if check.failure is not None:
            t0, t1, i, s = check.failure
            return False, result, _failure_reason(i, problem.specs[i], s, _interval(t0, t1))
        return False, result, result.message or "the reach computation stopped early"
    for i, goal in enumerate(problem.specs):
        if goal.at_final_time:
            for X in result.final:
                if not goal.holds_on(X):
                    return False, result, _failure_reason(i, goal, X, "at the final time")
    return True, result, ""


@dataclass
class PartOutcome:
    """What one proof attempt on an initial-set part gave (computed here or on a Dask worker).

    Attributes:
        ok: the part is proven.
        result: the last ReachResult (None when the reach failed).
        reason: why the proof failed ("" when proven).
        method: the method that proved the part (`method_text`), "" when not proven.
        counterexample: a confirmed Counterexample found in the part after a failed proof, else None.
        timed_out: the time-limit message when the attempt stopped at the limit (on a worker), else "".
        seconds: how long the attempt took where it ran.
    """

    ok: bool
    result: ReachResult | None
    reason: str
    counterexample: Counterexample | None = None
    timed_out: str = ""
    seconds: float = 0.0
    method: str = ""


def falsify_part(
    problem: Problem, part: Box, options: Options, gradient: bool, samples: int, deadline: float | None = None
) -> Counterexample | None:
    """A confirmed counterexample in `part` from `samples` simulations (and gradient ascent when `gradient`),
    or None (also when there is nothing to run)."""
    if samples <= 0 and not (gradient and options.falsify_steps > 0):
        return None
    o = replace(options, falsify_samples=max(samples, 1))
    return falsify(
        problem.system, part, problem.steps, problem.specs, o, gradient=gradient, deadline=deadline
    )


def attempt_part(
    problem: Problem, part: Box, options: Options, first: bool, deadline: float | None = None
) -> PartOutcome:
    """Prove `part`; when that fails, search it for a counterexample (the whole initial set (`first`): all
    samples and gradients; a later part: an eighth of the samples). The same on every process, so a
    distributed run decides exactly as the serial one.

    Raises:
        TimeLimitReached when `deadline` (a `time.perf_counter()` value) passes.
    """
    start = time.perf_counter()
    ok, result, reason, used = _prove(problem, part, options, deadline)
    if ok:
        return PartOutcome(
            True, result, "", seconds=time.perf_counter() - start, method=method_text(problem, used)
        )
    samples = options.falsify_samples if first else options.falsify_samples // 8
    cex = falsify_part(problem, part, options, first, samples, deadline)
    return PartOutcome(False, result, reason, cex, seconds=time.perf_counter() - start)


class SerialRunner:
    """Runs part attempts in this process, when their outcome is asked for (the order of the serial loop)."""

    def __init__(self, problem: Problem, options: Options, deadline: float | None):
        self.problem, self.options, self.deadline = problem, options, deadline

    def submit(self, part: Box, first: bool):
        """A handle whose `outcome` computes the attempt."""
        return lambda: attempt_part(self.problem, part, self.options, first, self.deadline)

    def outcome(self, handle) -> PartOutcome:
        return handle()

    def cancel(self) -> None:
        """Drop outstanding work (nothing runs ahead here)."""


def _split(part: Box, initial: Box) -> list[Box]:
    """Split along the dimension that is widest relative to the initial set's width."""
    width = np.where(
        initial.ub > initial.lb, (part.ub - part.lb) / np.maximum(initial.ub - initial.lb, 1e-300), 0
    )
    return part.split(int(np.argmax(width)))


def initial_parts(problem: Problem, options: Options) -> list[Box]:
    """The parts verify starts from: the initial box, or its grid of `options.initial_split` equal parts (their
    union is exactly the box: neighbours share their cut values), in row-major order (the last state fastest).

    Raises:
        ValueError when the grid has not one count per state, or cuts a state whose initial interval is a point.
    """
    grid = options.initial_split
    if grid is None:
        return [problem.initial]
    names = problem.system.plant.state_names
    if len(grid) != len(names):
        raise ValueError(
            f"{problem.name}: options.initial_split has {len(grid)} part counts, the plant has {len(names)} "
            f"states ({', '.join(names)})"
        )
    initial = problem.initial
    for i, count in enumerate(grid):
        if count > 1 and not initial.ub[i] > initial.lb[i]:
            raise ValueError(
                f"{problem.name}: options.initial_split[{i}] = {count} cuts state {names[i]!r}, whose initial "
                f"interval is the point {initial.lb[i]:g}; use 1"
            )
    parts = [initial]
    for i, count in enumerate(grid):
        parts = [piece for part in parts for piece in part.split(i, count)]
    return parts


def verify(problem: Problem, options: Options | None = None, client=None) -> Verdict:
    """Decide the problem: "unsafe" (confirmed counterexample), "safe" (proof) or "unknown".

    Falsification runs first (batched simulation and gradient ascent); then reachability of the whole initial
    set (or of the parts of its `options.initial_split` grid, each falsified like a part), and, when the proof
    fails, of ever smaller parts (split in two along the relatively widest dimension)
    until all are proven or `options.split_budget` parts have been tried. Parts whose proof fails are
    falsified again before they are split.

    With `options.workers` > 1 (a local Dask cluster of that many processes, started and stopped here) or a
    Dask `client` (an existing cluster, e.g. `distributed.Client("tcp://host:8786")`), the parts are proven on
    the workers, the queued ones in parallel; outcomes are taken in the serial order, so the verdict, the parts
    and the counterexample are those of the serial run (each attempt is deterministic), only sooner.

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

    reasons: dict = {}  # id(part) -> (part, why its proof failed); "last" -> the same for the latest failure
    methods: dict = {}  # id(part) -> (part, the method that proved it)

    def verdict(status: str, message: str, **kw) -> Verdict:
        parts_list = kw.get("parts", [])
        return Verdict(
            status,
            time.perf_counter() - start,
            message=message,
            problem_name=problem.name,
            states=tuple(problem.system.plant.state_names),
            options=opts,
            reasons=[_reason_of(reasons, b) for b, _, _ in parts_list],
            methods=[_reason_of(methods, b) for b, _, _ in parts_list],
            specs=tuple(problem.specs),
            **kw,
        )

    def unsafe(cex: Counterexample, parts=()) -> Verdict:
        kind = problem.specs[cex.spec_index].kind
        return verdict(
            "unsafe",
            f"spec {cex.spec_index} ({kind}): {cex.describe()} (a re-simulated counterexample)",
            counterexample=cex,
            parts=list(parts),
        )

    queue = initial_parts(problem, opts)
    parts: list = []
    bar = tqdm(
        total=opts.split_budget,
        desc="parts",
        unit="part",
        leave=False,
        disable=None if opts.progress is None else not opts.progress,
    )
    try:
        with _runner(problem, opts, deadline, client) as runner:
            try:
                return _refine(
                    problem,
                    opts,
                    deadline,
                    check,
                    queue,
                    parts,
                    bar,
                    verdict,
                    runner,
                    unsafe,
                    reasons,
                    methods,
                )
            finally:
                runner.cancel()
    except TimeLimitReached:
        bar.close()
        parts.extend((p, "unchecked", None) for p in queue)
        if not parts:  # stopped in the first falsification: nothing was tried
            parts.append((problem.initial, "unchecked", None))
        proven = sum(1 for _, s, _ in parts if s == "proven")
        return verdict(
            "unknown",
            f"time limit of {opts.timeout:g} s reached: {proven} of {len(parts)} part(s) proven"
            + _first_failure(parts, reasons, problem.system.plant.state_names),
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
    runner,
    unsafe,
    reasons: dict,
    methods: dict,
) -> Verdict:
    """The falsify / prove / split loop of `verify` (it updates `queue` and `parts` in place, so that a
    TimeLimitReached leaves them describing the work done: the part being proven is in `parts` as unproven).

    Every part is handed to `runner` when it is queued (a distributed runner starts it at once; the serial one
    when its outcome is asked for); outcomes are taken in queue order, which makes the run's decisions those of
    the serial loop. `handles` is keyed by id: a queued part is alive, and its entry goes when it is taken."""
    # cheap falsification (a batch of simulations, no gradients) before any proof attempt
    if (
        cex := falsify_part(problem, problem.initial, opts, False, opts.falsify_samples, deadline)
    ) is not None:
        return unsafe(cex)
    handles = {id(part): runner.submit(part, part is problem.initial) for part in queue}  # id -> its attempt
    tried = 0
    while queue:
        if check is not None:
            check()
        part = queue[0]
        tried += 1
        bar.update(1)
        parts.append((part, "unproven", None))  # until proven (a time limit leaves it unproven)
        queue.pop(0)
        outcome = runner.outcome(handles.pop(id(part)))
        if outcome.ok:
            parts[-1] = (part, "proven", outcome.result)
            methods[id(part)] = (part, outcome.method)  # the box kept: ids of freed boxes are reused
            continue
        parts[-1] = (part, "unproven", outcome.result)
        reasons[id(part)] = (part, outcome.reason)  # the box kept: ids of freed boxes are reused
        reasons["last"] = last_failure = (part, outcome.reason)
        # the failed proof was followed by a harder search (gradients on the whole set, samples of a part)
        if (cex := outcome.counterexample) is not None:
            bar.close()
            return unsafe(cex, parts)
        if tried + len(queue) + 2 > opts.split_budget:
            parts.extend((p, "unchecked", None) for p in queue)
            bar.close()
            proven = sum(1 for _, s, _ in parts if s == "proven")
            return verdict(
                "unknown",
                f"split budget {opts.split_budget} spent: {proven} of {len(parts)} part(s) proven"
                + _failure_text(*last_failure, problem.system.plant.state_names),
                parts=parts,
            )
        halves = _halves(problem, part, opts.split_rule)
        parts.pop()  # the failed part is replaced by its halves
        queue.extend(halves)
        for half in halves:  # started at once by a distributed runner; collected in queue order
            handles[id(half)] = runner.submit(half, False)
    bar.close()
    whole = parts[0][2] if len(parts) == 1 else None
    counts = Counter(_reason_of(methods, part) for part, _, _ in parts)
    by = ", and ".join(how if len(counts) == 1 else f"{k} with {how}" for how, k in counts.items())
    return verdict(
        "safe",
        f"proven on {len(parts)} part(s) of the initial set; method{'s' if len(counts) > 1 else ''}: {by}",
        result=whole,
        parts=parts,
    )


def sensitivity_dimension(problem: Problem, part: Box) -> int | None:
    """The dimension whose radius moves the worst spec margin of simulations the most, or None when no
    dimension moves it (or the part has fewer than two varying dimensions).

    The margin is the falsifier's measure (the largest violation over the specs and their windows) of the
    closed-loop trajectories from the part's centre c and from c +- r_i e_i for each varying dimension i
    (r: the part's radius; disturbances at their midpoint); the effect of i is the larger of
    |margin(c +- r_i e_i) - margin(c)|. A heuristic for where to split (every split is sound).
    """
    from nncs.loop.falsify import batch_violation
    from nncs.loop.simulate import simulate_closed_loop

    varying = np.flatnonzero(part.ub > part.lb)
    if varying.size < 2:
        return None
    centre = part.center
    steps = np.eye(part.dim)[varying] * ((part.ub - part.lb) / 2)[varying, None]  # r_i e_i, one per row
    points = np.vstack([centre, centre + steps, centre - steps])
    w = problem.system.plant.nominal_disturbance
    times, states = simulate_closed_loop(problem.system, points, problem.steps, w=w)
    margins = batch_violation(problem.specs, times, states, problem.horizon)
    if not np.all(np.isfinite(margins)):
        return None
    k = varying.size
    effect = np.maximum(np.abs(margins[1 : 1 + k] - margins[0]), np.abs(margins[1 + k :] - margins[0]))
    if not effect.max() > 0:
        return None
    return int(varying[int(np.argmax(effect))])


def _halves(problem: Problem, part: Box, rule: str) -> list[Box]:
    """The two halves of a failed part: along `sensitivity_dimension` for the "sensitivity" rule (when it
    names one), else along the dimension widest relative to the initial set."""
    dim = sensitivity_dimension(problem, part) if rule == "sensitivity" else None
    return part.split(dim) if dim is not None else _split(part, problem.initial)


@contextmanager
def _runner(problem: Problem, options: Options, deadline: float | None, client) -> Iterator:
    """The runner of part attempts: in this process (workers = 1, no client) or on a Dask cluster."""
    if client is None and options.workers <= 1:
        yield SerialRunner(problem, options, deadline)
        return
    from nncs.distributed import DaskRunner, connect

    with connect(workers=options.workers, client=client) as dask_client:
        yield DaskRunner(dask_client, problem, options, deadline)


def _box_text(box: Box, names) -> str:
    """The box as "x in [a, b], y in [c, d]" (its non-degenerate states first; at most 4 named)."""
    items = [f"{n} in [{lo:.4g}, {hi:.4g}]" for n, lo, hi in zip(names, box.lb, box.ub) if hi > lo]
    items = items or [f"{n} = {lo:.4g}" for n, lo in zip(names, box.lb)]
    return ", ".join(items[:4]) + (", ..." if len(items) > 4 else "")


def _failure_text(part: Box, reason: str, names) -> str:
    return f"; not proven on the part {_box_text(part, names)}: {reason}" if reason else ""


def _reason_of(reasons: dict, box: Box) -> str:
    """The entry kept for this very part: why its proof failed, or (the methods dict) what proved it; ""
    when there is none."""
    entry = reasons.get(id(box))
    return entry[1] if entry is not None and entry[0] is box else ""


def _first_failure(parts: list, reasons: dict, names) -> str:
    """'; not proven on the part ...: why' for the first unproven part that has a reason ('' when none)."""
    for b, status, _ in parts:
        if status == "unproven" and _reason_of(reasons, b):
            return _failure_text(b, _reason_of(reasons, b), names)
    if "last" in reasons:  # the last failed proof, of a part since split
        return _failure_text(*reasons["last"], names)
    return ""
