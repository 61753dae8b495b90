"""Problem files (TOML): one closed-loop verification problem, parsed into a `Problem` with errors naming keys.

The format is DESIGN.md's; `case_studies/example.toml` documents every key.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nncs.dynamics.symbolic import SymbolicPlant
from nncs.loop.options import Options
from nncs.loop.system import ClosedLoop
from nncs.sets import Box
from nncs.spec import make_spec

__all__ = ["Problem", "ProblemError", "load_problem", "parse_problem", "benchmarks_dir"]

BENCHMARKS_PREFIX = "@benchmarks/"
"""Network paths starting with this are resolved in the shared benchmark folder (see `benchmarks_dir`)."""


class ProblemError(ValueError):
    """A problem file is malformed; the message names the file and the offending key."""


@dataclass(frozen=True)
class Problem:
    """A closed-loop verification problem: the system, the initial box, the horizon, the specs, the options."""

    name: str
    system: ClosedLoop
    initial: Box
    steps: int
    specs: tuple
    options: Options = field(default_factory=Options)
    path: Path | None = None

    @property
    def horizon(self) -> float:
        """The final time N * T."""
        return self.steps * self.system.period


def benchmarks_dir(start: Path | None = None) -> Path | None:
    """Return the shared benchmark folder: $NNCS_SHARED_BENCHMARKS, or the first `shared/benchmarks` found
    beside a parent of `start` (a problem file's folder) or of the current directory; None if there is none."""
    env = os.environ.get("NNCS_SHARED_BENCHMARKS")
    if env:
        return Path(env)
    for base in [p for p in (start, Path.cwd()) if p is not None]:
        for parent in [base.resolve(), *base.resolve().parents]:
            candidate = parent / "shared" / "benchmarks"
            if candidate.is_dir():
                return candidate
    return None


def _get(table: dict, key: str, where: str, kind, required: bool = True, default: Any = None):
    if key not in table:
        if required:
            raise ProblemError(f"{where}: missing key '{key}'")
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ProblemError(f"{where}.{key}: expected {names}, got {type(value).__name__} {value!r}")
    return value


def _number_list(table: dict, key: str, where: str, length: int | None = None) -> np.ndarray:
    value = _get(table, key, where, list)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ProblemError(f"{where}.{key}: expected a list of numbers, got {value!r}")
    if length is not None and len(value) != length:
        raise ProblemError(f"{where}.{key}: expected {length} numbers (one per state), got {len(value)}")
    return np.array(value, dtype=float)


def _plant(table: dict, file: str) -> SymbolicPlant:
    where = f"{file}: [plant]"
    if "model" in table:
        import plants

        model = _get(table, "model", where, str)
        params = _get(table, "parameters", where, dict, required=False, default={})
        unknown = sorted(set(table) - {"model", "parameters"})
        if unknown:
            raise ProblemError(f"{where}: with 'model' only 'parameters' may be given, not {unknown}")
        try:
            return plants.get(model, **params)
        except ValueError as exc:
            raise ProblemError(f"{where}.model: {exc}") from None
    known = {"states", "inputs", "dynamics", "parameters", "disturbances", "time", "name"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ProblemError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)} (or 'model')")
    states = _get(table, "states", where, list)
    inputs = _get(table, "inputs", where, list, required=False, default=[])
    dynamics = _get(table, "dynamics", where, list)
    parameters = _get(table, "parameters", where, dict, required=False, default={})
    disturbances = _get(table, "disturbances", where, dict, required=False, default={})
    time_kind = _get(table, "time", where, str, required=False, default="continuous")
    try:
        return SymbolicPlant(states, inputs, dynamics, parameters=parameters,
                             disturbances={k: tuple(v) for k, v in disturbances.items()}, time=time_kind,
                             name=table.get("name", Path(file).stem))
    except (ValueError, TypeError) as exc:
        raise ProblemError(f"{where}: {exc}") from None


def _network_path(value: str, base: Path, where: str) -> Path:
    if value.startswith(BENCHMARKS_PREFIX):
        root = benchmarks_dir(base)
        if root is None:
            raise ProblemError(f"{where}: {value!r} needs the shared benchmark folder; set NNCS_SHARED_BENCHMARKS")
        path = root / value[len(BENCHMARKS_PREFIX):]
    else:
        path = Path(value) if Path(value).is_absolute() else base / value
    if not path.is_file():
        raise ProblemError(f"{where}: network file {str(path)!r} does not exist")
    return path


def parse_problem(data: dict, file: str = "<problem>", base: Path | None = None) -> Problem:
    """Build a Problem from the parsed TOML mapping `data` (see `load_problem`); ProblemError names the key."""
    from nncs.nn.io import load_network

    base = base or Path.cwd()
    known = {"name", "plant", "controller", "initial", "horizon", "spec", "options"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProblemError(f"{file}: unknown top-level key(s) {unknown}; known: {sorted(known)}")
    name = _get(data, "name", file, str, required=False, default=Path(file).stem)
    plant = _plant(_get(data, "plant", file, dict), file)
    n = plant.n_states

    where = f"{file}: [controller]"
    ctrl = _get(data, "controller", file, dict)
    unknown = sorted(set(ctrl) - {"network", "period", "inputs", "outputs"})
    if unknown:
        raise ProblemError(f"{where}: unknown key(s) {unknown}; known: ['inputs', 'network', 'outputs', 'period']")
    path = _network_path(_get(ctrl, "network", where, str), base, f"{where}.network")
    try:
        net = load_network(path)
    except ValueError as exc:
        raise ProblemError(f"{where}.network: {exc}") from None
    period = _get(ctrl, "period", where, float)
    inputs = _get(ctrl, "inputs", where, list, required=False)
    outputs = _get(ctrl, "outputs", where, list, required=False)
    try:
        system = ClosedLoop(plant, net, period, inputs, outputs)
    except ValueError as exc:
        raise ProblemError(f"{where}: {exc}") from None

    where = f"{file}: [initial]"
    init = _get(data, "initial", file, dict)
    lower, upper = _number_list(init, "lower", where, n), _number_list(init, "upper", where, n)
    try:
        initial = Box(lower, upper)
    except ValueError as exc:
        raise ProblemError(f"{where}: {exc}") from None

    where = f"{file}: [horizon]"
    steps = _get(_get(data, "horizon", file, dict), "steps", where, int)
    if steps < 1:
        raise ProblemError(f"{where}.steps: must be at least 1, got {steps}")

    raw_specs = _get(data, "spec", file, list)
    if not raw_specs:
        raise ProblemError(f"{file}: [[spec]] needs at least one entry")
    specs = []
    for i, entry in enumerate(raw_specs):
        where = f"{file}: spec[{i}]"
        if not isinstance(entry, dict):
            raise ProblemError(f"{where}: expected a table with always/goal/avoid")
        kinds = [k for k in ("always", "goal", "avoid") if k in entry]
        if len(kinds) != 1:
            raise ProblemError(f"{where}: give exactly one of 'always', 'goal', 'avoid' (got {kinds or 'none'})")
        unknown = sorted(set(entry) - {kinds[0], "from", "to"})
        if unknown:
            raise ProblemError(f"{where}: unknown key(s) {unknown}")
        window = None
        if "from" in entry or "to" in entry:
            horizon = steps * period
            window = (_get(entry, "from", where, float, required=False, default=0.0),
                      _get(entry, "to", where, float, required=False, default=horizon))
            beyond = [k for k, v in zip(("from", "to"), window) if k in entry and v > horizon * (1 + 1e-12)]
            if beyond:
                raise ProblemError(f"{where}: '{beyond[0]}' = {entry[beyond[0]]} s lies past the horizon "
                                   f"({steps} steps x {period} s = {horizon:g} s): that part would never be checked")
        constraints = _get(entry, kinds[0], where, list)
        try:
            specs.append(make_spec(kinds[0], constraints, plant.state_names, window, f"{where}.{kinds[0]}"))
        except ValueError as exc:
            raise ProblemError(f"{exc}") from None

    try:
        options = Options.from_dict(_get(data, "options", file, dict, required=False, default={}),
                                    f"{file}: [options]")
    except ValueError as exc:
        raise ProblemError(str(exc)) from None
    return Problem(name, system, initial, steps, tuple(specs), options, None)


def load_problem(path: str | Path) -> Problem:
    """Read a TOML problem file (DESIGN.md's format) into a Problem.

    Raises:
        ProblemError (a ValueError) naming the file and the key for a missing file, bad TOML, a missing or
        mistyped key, an unknown state name, a dimension mismatch or a non-affine map.
    """
    path = Path(path)
    if not path.is_file():
        raise ProblemError(f"{path}: no such problem file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError(f"{path}: malformed TOML: {exc}") from None
    problem = parse_problem(data, str(path), path.parent)
    return dataclasses.replace(problem, path=path)
