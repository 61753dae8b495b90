"""Closed-loop reachability: per control period, the state set through the controller, then the flowpipe.

The control set keeps the state set's predicate variables (or generators), and the plant step consumes the
joint set [x; u], so no dependency between a state and its own control is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from nncs import nn
from nncs.dynamics.flowpipe import Flowpipe, FlowpipeOptions, flowpipe
from nncs.loop.options import Options, TimeLimitReached, check_run_limits, time_check
from nncs.loop.system import ClosedLoop
from nncs.nn.methods import ReachOptions as NNReachOptions
from nncs.nn.methods import check_supported
from nncs.sets import Box, Star, Zonotope
from nncs.sets.base import Set

__all__ = ["reach", "ReachResult", "PeriodReach", "resolve_set_type", "resolve_nn_method"]


@dataclass
class PeriodReach:
    """What one control period [t0, t1] produced: for each branch, the entering state set, its control set
    and the flowpipe (several branches only with exact-star)."""

    index: int
    t0: float
    t1: float
    states: list[Set]
    controls: list[Set]
    flowpipes: list[Flowpipe]
    nn_time_s: float
    plant_time_s: float


@dataclass
class ReachResult:
    """The reachable sets of a closed loop over `steps` periods (outer approximations throughout).

    Attributes:
        system: the ClosedLoop.
        initial_set: the initial state set.
        periods: one PeriodReach per computed period.
        final: the state sets at the last computed sampling instant.
        complete: False when the computation stopped early (then periods may be fewer than steps).
        time_s: wall time of the computation.
        stopped: why it stopped early: "" (it did not), "callback" (on_segment returned False) or "timeout"
            (the time limit was reached; `periods` and `final` hold what was computed before).
        message: a one-line explanation when it stopped early.
    """

    system: ClosedLoop
    initial_set: Set
    steps: int
    periods: list[PeriodReach] = field(default_factory=list)
    final: list[Set] = field(default_factory=list)
    complete: bool = True
    time_s: float = 0.0
    stopped: str = ""
    message: str = ""

    def segments(self) -> Iterator[tuple[float, float, Set]]:
        """Yield (t_lo, t_hi, set) for every flowpipe segment: the set covers all states on [t_lo, t_hi]."""
        for p in self.periods:
            for fp in p.flowpipes:
                for i, s in enumerate(fp.segments):
                    yield p.t0 + fp.times[i], p.t0 + fp.times[i + 1], s

    def sampling_bounds(self) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """Per sampling instant kT (k = 0 .. computed steps): the cheap outer box of the state sets."""
        out = []
        for p in self.periods:
            out.append((p.t0, *_hull_boxes(p.states)))
        if self.final:
            out.append((self.periods[-1].t1 if self.periods else 0.0, *_hull_boxes(self.final)))
        return out


def _hull_boxes(sets: list[Set]) -> tuple[np.ndarray, np.ndarray]:
    boxes = [s.box() for s in sets]
    return np.min([b.lb for b in boxes], axis=0), np.max([b.ub for b in boxes], axis=0)


def resolve_set_type(system: ClosedLoop, options: Options) -> str:
    """The set type a reach of `system` uses under `options`: the option itself, or what "auto" picks
    ("star" for affine plants and the star network methods, else "zonotope")."""
    if options.set_type != "auto":
        return options.set_type
    if options.nn_method in ("approx-star", "exact-star", "abs-dom"):
        return "star"
    return "star" if system.plant.is_affine else "zonotope"


def resolve_nn_method(set_type: str, options: Options) -> str:
    """The network reach method used with `set_type` under `options`: the option itself, or what "auto" picks
    ("approx-star" on stars, "approx-zono" on zonotopes)."""
    if options.nn_method != "auto":
        return options.nn_method
    return "approx-star" if set_type == "star" else "approx-zono"


def _period_step(system: ClosedLoop, X: Set, method: str, nn_opts: NNReachOptions, fp_opts: FlowpipeOptions):
    """The branches of one period from a state set X (a Star or a Zonotope): (control set, flowpipe) for each
    output set of the network (several only with exact-star).

    The network reach keeps X's predicate variables (generators) first and appends its own (nncs.nn's
    dependency contract; an exact-star split may restrict the shared variables), so `X.joint_with(U)`, the set
    of [x; u] over U's predicate, is exactly the states and controls of that branch: no dependency between a
    state and its own control is lost. The flowpipe consumes that joint set.
    """
    t = time.perf_counter()
    outputs = nn.reach(system.controller, X.affine_map(system.input_W, system.input_b), method, nn_opts)
    nn_time = time.perf_counter() - t
    controls, pipes = [], []
    t = time.perf_counter()
    for Y in outputs:
        U = Y.affine_map(system.output_W, system.output_b)  # over Y's predicate (generators), unchanged
        try:
            joint = X.joint_with(U)
        except ValueError:
            raise RuntimeError(
                f"nn method {method!r} broke the dependency contract (output {Y!r} for state {X!r})"
            ) from None
        controls.append(U)
        pipes.append(flowpipe(system.plant, joint, None, system.period, fp_opts))
    return controls, pipes, nn_time, time.perf_counter() - t


def _next_state(s: Set, set_type: str, options: Options) -> Set:
    """The state set entering the next period, reduced so that its size stays bounded (outer)."""
    if set_type == "zonotope":
        return s.to_zonotope().reduce_order(options.zonotope_order)
    star = s.to_star()
    if star.nvars > options.max_star_vars:
        return star.to_zonotope().reduce_order(options.zonotope_order).to_star()
    return star


def reach(
    system: ClosedLoop,
    initial_set: Set,
    steps: int,
    options: Options | None = None,
    on_segment: Callable[[float, float, Set], bool] | None = None,
    *,
    deadline: float | None = None,
) -> ReachResult:
    """Compute outer approximations of the closed loop's reachable states over `steps` control periods.

    Args:
        system: the ClosedLoop.
        initial_set: a Box, Zonotope or Star of the plant's states.
        steps: the number of control periods N (horizon N * T).
        options: Options (set type, network method, time step, zonotope order, ...).
        on_segment: called with (t_lo, t_hi, set) for every flowpipe segment and with (t, t, set) for every
            state set at a sampling instant; returning False stops the computation (result.complete = False,
            result.stopped = "callback").
        deadline: a `time.perf_counter()` value past which the computation stops; None: `options.timeout`
            seconds from now (no limit when that is None too). The limit is checked inside the period loop, the
            network reach (per layer, per exact-star split, per fit round) and the flowpipe sub-steps. At the
            limit reach returns normally with result.complete = False and result.stopped = "timeout" (it does
            not raise); the periods computed before are kept (a partial period is dropped).
    Returns:
        ReachResult: every closed-loop trajectory from initial_set stays, for t in [t_lo, t_hi], in the
        segment sets of that interval (sound outer approximation), for the periods computed.
    Raises:
        ValueError for a wrong initial set or steps, sizes beyond the limits of `check_run_limits`, or a network
        layer the network method cannot handle (e.g. exact-star on tanh); RuntimeError when a method fails
        (e.g. too many sets).
    """
    opts = options or Options()
    if not isinstance(system, ClosedLoop):
        raise ValueError(f"reach: system must be a ClosedLoop, got {type(system).__name__}")
    if not isinstance(initial_set, (Box, Zonotope, Star)):
        raise ValueError(
            f"reach: initial_set must be a Box, Zonotope or Star, got {type(initial_set).__name__}"
        )
    if initial_set.dim != system.plant.n_states:
        raise ValueError(
            f"reach: initial_set has dimension {initial_set.dim}, the plant has {system.plant.n_states} states"
        )
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ValueError(f"reach: steps must be an integer, got {steps!r}")
    if int(steps) < 1:
        raise ValueError(f"reach: steps must be at least 1, got {steps}")
    try:
        check_run_limits(opts, system.plant.n_states, system.period, int(steps), system.plant.is_continuous)
    except ValueError as exc:
        raise ValueError(f"reach: {exc}") from None
    set_type = resolve_set_type(system, opts)
    method = resolve_nn_method(set_type, opts)
    check_supported(system.controller, method)
    start = time.perf_counter()
    if deadline is None and opts.timeout is not None:
        deadline = start + opts.timeout
    check = time_check(deadline, opts.timeout)
    nn_opts = NNReachOptions(
        bounds="estimate" if opts.nn_bounds == "auto" else opts.nn_bounds,
        fit_tol=opts.fit_tol,
        fit_max_boxes=int(opts.fit_max_boxes),
        seed=int(opts.seed),
        max_stars=int(opts.max_sets),  # exact-star stops before building more sets
        check_time=check,
    )
    fp_opts = FlowpipeOptions(
        time_step=opts.time_step,
        substeps=opts.substeps,
        zonotope_order=opts.zonotope_order,
        remainder=opts.remainder,
        check_time=check,
    )
    result = ReachResult(system, initial_set, int(steps))
    current = [_next_state(initial_set, set_type, opts)]
    T = system.period
    bar = tqdm(
        range(int(steps)),
        desc="periods",
        unit="period",
        leave=False,
        disable=None if opts.progress is None else not opts.progress,
    )
    stopped = False
    for k in bar:
        t0, t1 = k * T, (k + 1) * T
        if on_segment is not None and not all(on_segment(t0, t0, X) for X in current):
            stopped = True
            break
        states, controls, pipes, nn_time, plant_time = [], [], [], 0.0, 0.0
        try:
            for X in current:
                if check is not None:
                    check()
                c, p, tn, tp = _period_step(system, X, method, nn_opts, fp_opts)
                states.extend([X] * len(p))
                controls.extend(c)
                pipes.extend(p)
                nn_time, plant_time = nn_time + tn, plant_time + tp
        except TimeLimitReached as exc:
            result.stopped = "timeout"
            result.message = f"{exc} at period {k} of {result.steps}"
            stopped = True
            break
        if len(pipes) > opts.max_sets:
            raise RuntimeError(
                f"reach: {len(pipes)} sets at period {k} exceed options.max_sets = {opts.max_sets}"
            )
        result.periods.append(PeriodReach(k, t0, t1, states, controls, pipes, nn_time, plant_time))
        if on_segment is not None:
            ok = all(
                on_segment(t0 + fp.times[i], t0 + fp.times[i + 1], s)
                for fp in pipes
                for i, s in enumerate(fp.segments)
            )
            if not ok:
                stopped = True
                result.stopped, result.message = (
                    "callback",
                    f"on_segment stopped the computation at period {k}",
                )
                current = [fp.final for fp in pipes]
                break
        current = [_next_state(fp.final, set_type, opts) for fp in pipes]
    bar.close()
    if stopped and not result.stopped:
        result.stopped, result.message = (
            "callback",
            "on_segment stopped the computation at a sampling instant",
        )
    if not stopped and on_segment is not None:
        stopped = not all(on_segment(result.steps * T, result.steps * T, X) for X in current)
        if stopped:
            result.stopped, result.message = (
                "callback",
                "on_segment stopped the computation at the final instant",
            )
    result.final = current
    result.complete = not stopped
    result.time_s = time.perf_counter() - start
    return result
