"""The one options object of closed-loop reachability and verification, with named presets and run limits.

Every field has a default that works for the bundled case studies; problem files set them under [options].
Sizes that cannot fit in time or memory are refused (ValueError stating the limit): per field when Options is
built, and combined with the problem (period, steps, states) by `check_run_limits` when a run starts. The
wall-clock limit `timeout` is enforced through `time_check` callables that long loops call and that raise
`TimeLimitReached`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nncs.dynamics.flowpipe import MAX_SUB_INTERVALS, REMAINDERS
from nncs.suggest import did_you_mean

SET_TYPES = ("auto", "star", "zonotope")
NN_METHODS = ("auto", "approx-star", "exact-star", "abs-dom", "approx-zono", "fit")
SPLIT_RULES = ("widest", "sensitivity")

MAX_SUBSTEPS = MAX_SUB_INTERVALS
"""Most flowpipe sub-intervals per control period (options.substeps, or period / time_step): 10_000."""
MAX_STEPS = 10**6
"""Most control periods of one reach / falsification run."""
MAX_FALSIFY_SAMPLES = 10**6
"""Most random initial states of one falsification batch (options.falsify_samples)."""
MAX_FALSIFY_STEPS = 100_000
"""Most gradient-ascent iterations of the falsifier (options.falsify_steps)."""
MAX_SPLIT_BUDGET = 100_000
"""Most initial-set parts of one verify run (options.split_budget)."""
MAX_WORKERS = 1024
"""Most worker processes of a local Dask cluster (options.workers)."""
MAX_SETS = 10**6
"""Most exact-star sets per period (options.max_sets)."""
MAX_STAR_VARS = 100_000
"""Most predicate variables of a state star before it is re-encoded (options.max_star_vars)."""
MAX_FIT_BOXES = 10**6
"""Most input sub-boxes the fit method bounds per control period (options.fit_max_boxes)."""
MAX_ZONOTOPE_ORDER = 10_000
"""Largest zonotope order (options.zonotope_order; order * dim generators)."""
MAX_TRAJECTORY_FLOATS = 250_000_000
"""Most floats (2 GB) of the falsifier's batch of trajectories: (samples + corners + 1) x (steps x substeps + 1)
x states."""
FALSIFY_SUBSTEPS = 10
"""RK4 steps per control period of the falsifier's simulations (continuous plants)."""

_UPPER = {
    "substeps": MAX_SUBSTEPS,
    "max_star_vars": MAX_STAR_VARS,
    "max_sets": MAX_SETS,
    "split_budget": MAX_SPLIT_BUDGET,
    "fit_max_boxes": MAX_FIT_BOXES,
    "falsify_samples": MAX_FALSIFY_SAMPLES,
    "falsify_steps": MAX_FALSIFY_STEPS,
    "workers": MAX_WORKERS,
}


def parse_seconds(text: str) -> float:
    """A time limit written as text: a positive, finite number of seconds.

    Raises:
        ValueError "expected a number of seconds" or "must be a positive, finite number of seconds" (negative,
        zero, NaN and inf are refused), quoting the text (cut to 40 characters).
    """
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text[:40]!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"must be a positive, finite number of seconds, got {text[:40]!r}")
    return value


class TimeLimitReached(RuntimeError):
    """A computation passed its wall-clock limit (Options.timeout); raised by the `time_check` callables."""


def time_check(deadline: float | None, limit: float | None = None) -> Callable[[], None] | None:
    """A callable that raises TimeLimitReached once `time.perf_counter()` passes `deadline` (None: no limit).

    Args:
        deadline: a `time.perf_counter()` value, or None.
        limit: the limit in seconds, for the message only.
    Returns:
        The check (cheap: one clock read), or None when deadline is None.
    """
    if deadline is None:
        return None
    what = f"the time limit of {limit:g} s" if limit is not None else "the time limit"

    def check() -> None:
        if time.perf_counter() > deadline:
            raise TimeLimitReached(f"{what} was reached")

    return check


def check_run_limits(
    options: Options,
    n_states: int,
    period: float,
    steps: int,
    continuous: bool = True,
    falsify: bool = False,
    falsify_substeps: int = FALSIFY_SUBSTEPS,
) -> None:
    """Refuse a run whose size, combined from the options and the problem, cannot fit in time or memory.

    Args:
        options: the Options; n_states: plant states; period: control period (s); steps: control periods;
        continuous: the plant is continuous (sub-intervals per period matter); falsify: also check the
        falsifier's trajectory batch (options.falsify_samples) of `falsify_substeps` RK4 steps per period.
    Raises:
        ValueError stating the limit: steps > MAX_STEPS, period / time_step > MAX_SUBSTEPS sub-intervals, or a
        falsification batch of more than MAX_TRAJECTORY_FLOATS floats.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in [1, {MAX_STEPS}], got {steps!r}")
    if continuous and options.time_step is not None:
        ratio = float(period) / float(options.time_step)
        if not ratio <= MAX_SUBSTEPS:
            raise ValueError(
                f"options.time_step = {options.time_step:g} s gives {ratio:.3g} flowpipe sub-intervals "
                f"per period of {period:g} s; at most {MAX_SUBSTEPS} are allowed"
            )
    if falsify and options.falsify_samples > 0:
        sub = int(falsify_substeps) if continuous else 1
        floats = (options.falsify_samples + 1025) * (int(steps) * sub + 1) * int(n_states)
        if floats > MAX_TRAJECTORY_FLOATS:
            raise ValueError(
                f"options.falsify_samples = {options.falsify_samples} over {steps} steps of {n_states} "
                f"states needs {floats:.3g} floats of trajectories; at most {MAX_TRAJECTORY_FLOATS:.3g} "
                f"fit (lower falsify_samples)"
            )


def _finite(value) -> bool:
    """Whether a number is finite as a float (an int too large for a double is not; math.isfinite overflows)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


@dataclass(frozen=True)
class Options:
    """Settings of `nncs.reach` and `nncs.verify` (immutable; `dataclasses.replace` makes variants).

    Attributes:
        set_type: "star" (dependency-keeping stars, LP bounds), "zonotope" (DeepZ + zonotope flowpipes, no
            LPs) or "auto" (stars for affine plants, zonotopes otherwise).
        nn_method: network reach method; "auto" picks approx-star for stars and approx-zono for zonotopes, and
            verify retries a failed proof with "fit" before splitting; "fit" (stars or zonotopes): the control
            as an affine function of the network input plus a residual interval bounded by input splitting.
        nn_bounds: approx-star pre-activation bounds: "estimate" (cheap, from the predicate box), "lp" (tight),
            or "auto": reach uses "estimate"; verify retries a failed proof with "lp" before splitting.
        time_step: flowpipe sub-interval length in seconds; None: period / substeps.
        substeps: flowpipe sub-intervals per control period when time_step is None.
        zonotope_order: zonotopes are reduced (Girard) to at most order * dim generators each period.
        remainder: nonlinear plants: the flowpipe's linearisation remainder bound, "quadratic" (its
            second-order part over the set's zonotope; tighter than "box"), "cubic" (the third-order part too;
            tighter still on strongly nonlinear plants such as the double pendulum, and slower) or "box"
            (interval Hessians over the set's box); see nncs.dynamics.flowpipe.remainder_bound.
        max_star_vars: a state star with more predicate variables is replaced by an outer zonotope of
            `zonotope_order` (as a star) before the next period.
        max_sets: exact-star: abort (unknown) when the union holds more sets than this.
        split_budget: verify: at most this many initial-set parts when refining a failed proof.
        initial_split: verify: None, or one part count per state: the initial box is cut into that grid of equal
            parts before any proof (as JuliaReach and CROWN-Reach partition X0), and each part is then proven,
            falsified and refined like a part of the initial set; the grid counts against split_budget. A
            state whose initial interval is a point takes the count 1.
        split_rule: verify: the dimension a failed part is bisected along: "widest" (relative to the initial
            set) or "sensitivity" (the one whose radius moves the simulated worst spec margin the most: 2 n + 1
            simulations from the part's centre and the centres of its faces).
        fit_tol: nn_method "fit": stop splitting the network input box when the residual bound is within this
            fraction of the sampled residual range of that range.
        fit_max_boxes: nn_method "fit": at most this many input sub-boxes bounded per control period.
        falsify_samples: verify: random initial states simulated before reachability.
        falsify_steps: verify: gradient-ascent iterations of the falsifier.
        seed: random seed of falsification and sampling.
        progress: show tqdm progress bars (None: only when attached to a terminal).
        timeout: wall-clock limit in seconds (None: no limit). verify: at the limit the verdict is "unknown"
            and the report keeps the parts proven so far; reach: the result stops early (complete False,
            `stopped` = "timeout").
        workers: verify: prove initial-set parts on a local Dask cluster of this many worker processes
            (1: in this process, no Dask; `verify(..., client=...)` uses an existing cluster instead).

    Limits (ValueError beyond them): substeps <= MAX_SUBSTEPS (10_000), max_star_vars <= MAX_STAR_VARS (100_000),
    max_sets <= MAX_SETS (10**6), split_budget <= MAX_SPLIT_BUDGET (100_000), fit_max_boxes <= MAX_FIT_BOXES
    (10**6), falsify_samples <= MAX_FALSIFY_SAMPLES (10**6), falsify_steps <= MAX_FALSIFY_STEPS (100_000),
    zonotope_order <= MAX_ZONOTOPE_ORDER (10_000), workers <= MAX_WORKERS (1024); combined with the problem, see `check_run_limits`.
    """

    set_type: str = "auto"
    nn_method: str = "auto"
    nn_bounds: str = "auto"
    time_step: float | None = None
    substeps: int = 10
    zonotope_order: float = 50.0
    remainder: str = "quadratic"
    max_star_vars: int = 3000
    max_sets: int = 1000
    split_budget: int = 64
    initial_split: tuple[int, ...] | None = None
    split_rule: str = "widest"
    fit_tol: float = 0.2
    fit_max_boxes: int = 512
    falsify_samples: int = 256
    falsify_steps: int = 30
    seed: int = 0
    progress: bool | None = None
    timeout: float | None = None
    workers: int = 1

    def __post_init__(self):
        if self.set_type not in SET_TYPES:
            raise ValueError(f"options.set_type must be one of {SET_TYPES}, got {self.set_type!r}")
        if self.nn_method not in NN_METHODS:
            raise ValueError(f"options.nn_method must be one of {NN_METHODS}, got {self.nn_method!r}")
        if self.remainder not in REMAINDERS:
            raise ValueError(f"options.remainder must be one of {REMAINDERS}, got {self.remainder!r}")
        if self.split_rule not in SPLIT_RULES:
            raise ValueError(f"options.split_rule must be one of {SPLIT_RULES}, got {self.split_rule!r}")
        if self.nn_bounds not in ("auto", "lp", "estimate"):
            raise ValueError(f"options.nn_bounds must be 'auto', 'lp' or 'estimate', got {self.nn_bounds!r}")
        if self.set_type == "zonotope" and self.nn_method not in ("auto", "approx-zono", "fit"):
            raise ValueError(
                f"options.nn_method {self.nn_method!r} needs star sets; with set_type 'zonotope' use approx-zono or fit"
            )
        if self.set_type == "star" and self.nn_method == "approx-zono":
            raise ValueError("options.nn_method 'approx-zono' needs set_type 'zonotope' (or 'auto')")
        for name, least in (
            ("substeps", 1),
            ("max_star_vars", 1),
            ("max_sets", 1),
            ("split_budget", 1),
            ("fit_max_boxes", 1),
            ("falsify_samples", 0),
            ("falsify_steps", 0),
            ("seed", 0),
            ("workers", 1),
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"options.{name} must be an integer >= {least}, got {_short(value)}")
            if name in _UPPER and value > _UPPER[name]:
                raise ValueError(f"options.{name} = {value} exceeds the limit {_UPPER[name]}")
        for name, value in (
            ("time_step", self.time_step),
            ("fit_tol", self.fit_tol),
            ("zonotope_order", self.zonotope_order),
            ("timeout", self.timeout),
        ):
            if value is None and name in ("time_step", "timeout"):
                continue
            if (
                not isinstance(value, (int, float, np.number))
                or isinstance(value, bool)
                or not _finite(value)
            ):
                raise ValueError(f"options.{name} must be a finite number, got {_short(value)}")
        if self.time_step is not None and not self.time_step > 0:
            raise ValueError(f"options.time_step must be positive, got {self.time_step!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"options.timeout must be a positive number of seconds, got {self.timeout!r}")
        if not self.fit_tol > 0:
            raise ValueError(f"options.fit_tol must be positive, got {self.fit_tol!r}")
        if not self.zonotope_order >= 1:
            raise ValueError(f"options.zonotope_order must be at least 1, got {self.zonotope_order!r}")
        if self.zonotope_order > MAX_ZONOTOPE_ORDER:
            raise ValueError(
                f"options.zonotope_order = {self.zonotope_order:g} exceeds the limit {MAX_ZONOTOPE_ORDER}"
            )
        if self.initial_split is not None:
            self._check_initial_split()
        if self.progress is not None and not isinstance(self.progress, bool):
            raise ValueError(f"options.progress must be true, false or absent, got {self.progress!r}")

    def _check_initial_split(self) -> None:
        grid = self.initial_split
        if isinstance(grid, (str, bytes)) or not isinstance(grid, (tuple, list)) or not grid:
            raise ValueError(
                f"options.initial_split must be a list of part counts, one per state, got {_short(grid)}"
            )
        for i, count in enumerate(grid):
            if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 1:
                raise ValueError(f"options.initial_split[{i}] must be an integer >= 1, got {_short(count)}")
            if count > MAX_SPLIT_BUDGET:
                raise ValueError(f"options.initial_split[{i}] = {count} exceeds the limit {MAX_SPLIT_BUDGET}")
        object.__setattr__(self, "initial_split", tuple(int(c) for c in grid))
        parts = math.prod(self.initial_split)
        if parts > self.split_budget:
            raise ValueError(
                f"options.initial_split gives {parts} parts, more than options.split_budget = {self.split_budget}"
            )

    @classmethod
    def from_dict(cls, values: dict, where: str = "options") -> Options:
        """Build Options from a mapping (e.g. a problem file's [options]); unknown keys raise ValueError."""
        values = dict(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known - {"preset"})
        if unknown:
            hint = did_you_mean(unknown[0], known | {"preset"}) if len(unknown) == 1 else ""
            raise ValueError(
                f"{where}: unknown option(s) {unknown}{hint}; known: {sorted(known | {'preset'})}"
            )
        preset = values.pop("preset", "default")
        if preset not in PRESETS:
            hint = did_you_mean(str(preset), PRESETS)
            raise ValueError(f"{where}.preset: unknown preset {preset!r}{hint}; known: {sorted(PRESETS)}")
        try:
            return dataclasses.replace(PRESETS[preset], **values)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


PRESETS: dict[str, Options] = {
    "default": Options(),
    "fast": Options(
        nn_bounds="estimate", substeps=5, zonotope_order=20, falsify_samples=64, falsify_steps=10
    ),
    "tight": Options(substeps=20, zonotope_order=100, split_budget=256),
}
"""Named presets: "default", "fast" (cheaper bounds, coarser time steps) and "tight" (finer, more splits)."""
