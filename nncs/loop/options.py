"""The one options object of closed-loop reachability and verification, with named presets.

Every field has a default that works for the bundled case studies; problem files set them under [options].
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

SET_TYPES = ("auto", "star", "zonotope")
NN_METHODS = ("auto", "approx-star", "exact-star", "abs-dom", "approx-zono", "fit")


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
        max_star_vars: a state star with more predicate variables is replaced by an outer zonotope of
            `zonotope_order` (as a star) before the next period.
        max_sets: exact-star: abort (unknown) when the union holds more sets than this.
        split_budget: verify: at most this many initial-set parts when refining a failed proof.
        fit_tol: nn_method "fit": stop splitting the network input box when the residual bound is within this
            fraction of the sampled residual range of that range.
        fit_max_boxes: nn_method "fit": at most this many input sub-boxes bounded per control period.
        falsify_samples: verify: random initial states simulated before reachability.
        falsify_steps: verify: gradient-ascent iterations of the falsifier.
        seed: random seed of falsification and sampling.
        progress: show tqdm progress bars (None: only when attached to a terminal).
        timeout: verify: wall-clock limit in seconds (None: no limit); at the limit the verdict is "unknown"
            and the report keeps the parts proven so far.
    """

    set_type: str = "auto"
    nn_method: str = "auto"
    nn_bounds: str = "auto"
    time_step: float | None = None
    substeps: int = 10
    zonotope_order: float = 50.0
    max_star_vars: int = 3000
    max_sets: int = 1000
    split_budget: int = 64
    fit_tol: float = 0.2
    fit_max_boxes: int = 512
    falsify_samples: int = 256
    falsify_steps: int = 30
    seed: int = 0
    progress: bool | None = None
    timeout: float | None = None

    def __post_init__(self):
        if self.set_type not in SET_TYPES:
            raise ValueError(f"options.set_type must be one of {SET_TYPES}, got {self.set_type!r}")
        if self.nn_method not in NN_METHODS:
            raise ValueError(f"options.nn_method must be one of {NN_METHODS}, got {self.nn_method!r}")
        if self.nn_bounds not in ("auto", "lp", "estimate"):
            raise ValueError(f"options.nn_bounds must be 'auto', 'lp' or 'estimate', got {self.nn_bounds!r}")
        if self.set_type == "zonotope" and self.nn_method not in ("auto", "approx-zono", "fit"):
            raise ValueError(f"options.nn_method {self.nn_method!r} needs star sets; with set_type 'zonotope' use approx-zono or fit")
        if self.set_type == "star" and self.nn_method == "approx-zono":
            raise ValueError("options.nn_method 'approx-zono' needs set_type 'zonotope' (or 'auto')")
        for name, least in (("substeps", 1), ("max_star_vars", 1), ("max_sets", 1), ("split_budget", 1),
                            ("fit_max_boxes", 1), ("falsify_samples", 0), ("falsify_steps", 0), ("seed", 0)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"options.{name} must be an integer >= {least}, got {value!r}")
        for name, value in (("time_step", self.time_step), ("fit_tol", self.fit_tol),
                            ("zonotope_order", self.zonotope_order), ("timeout", self.timeout)):
            if value is None and name in ("time_step", "timeout"):
                continue
            if not isinstance(value, (int, float, np.number)) or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"options.{name} must be a finite number, got {value!r}")
        if self.time_step is not None and not self.time_step > 0:
            raise ValueError(f"options.time_step must be positive, got {self.time_step!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"options.timeout must be a positive number of seconds, got {self.timeout!r}")
        if not self.fit_tol > 0:
            raise ValueError(f"options.fit_tol must be positive, got {self.fit_tol!r}")
        if not self.zonotope_order >= 1:
            raise ValueError(f"options.zonotope_order must be at least 1, got {self.zonotope_order!r}")
        if self.progress is not None and not isinstance(self.progress, bool):
            raise ValueError(f"options.progress must be true, false or absent, got {self.progress!r}")

    @classmethod
    def from_dict(cls, values: dict, where: str = "options") -> "Options":
        """Build Options from a mapping (e.g. a problem file's [options]); unknown keys raise ValueError."""
        values = dict(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known - {"preset"})
        if unknown:
            raise ValueError(f"{where}: unknown option(s) {unknown}; known: {sorted(known | {'preset'})}")
        preset = values.pop("preset", "default")
        if preset not in PRESETS:
            raise ValueError(f"{where}.preset: unknown preset {preset!r}; known: {sorted(PRESETS)}")
        try:
            return dataclasses.replace(PRESETS[preset], **values)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None


PRESETS: dict[str, Options] = {
    "default": Options(),
    "fast": Options(nn_bounds="estimate", substeps=5, zonotope_order=20, falsify_samples=64, falsify_steps=10),
    "tight": Options(substeps=20, zonotope_order=100, split_budget=256),
}
"""Named presets: "default", "fast" (cheaper bounds, coarser time steps) and "tight" (finer, more splits)."""
