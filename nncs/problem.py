"""Problem files (TOML): one closed-loop verification problem, parsed into a `Problem` with errors naming keys.

The format is DESIGN.md's; `case_studies/acc.toml` documents every key. Every table is checked: an unknown key
is an error that suggests the nearest known one, every value is type-checked (numbers finite, lists of the
right length, [initial] lower <= upper), and sizes are bounded (`MAX_STEPS`, `MAX_PROBLEM_BYTES`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nncs.dynamics.symbolic import SymbolicPlant
from nncs.loop.options import PRESETS, Options
from nncs.loop.system import ClosedLoop
from nncs.sets import Box
from nncs.spec import SPEC_KINDS, make_spec
from nncs.suggest import close_matches, did_you_mean, similar_files

__all__ = [
    "Problem",
    "ProblemError",
    "load_problem",
    "parse_problem",
    "benchmarks_dir",
    "check_keys",
    "MAX_STEPS",
    "MAX_PROBLEM_BYTES",
]

BENCHMARKS_PREFIX = "@benchmarks/"
"""Network paths starting with this are resolved in the shared benchmark folder (see `benchmarks_dir`)."""

MAX_STEPS = 10**6
"""The largest [horizon] steps accepted (a larger horizon cannot be computed in any reasonable time)."""

MAX_PROBLEM_BYTES = 10 * 2**20
"""The largest problem file accepted (10 MiB)."""

MAX_OPTION_INT = 2**63 - 1
"""The largest magnitude of an integer in [options] (the range of TOML's 64-bit integers)."""

TOP_LEVEL_KEYS = ("name", "plant", "controller", "initial", "horizon", "spec", "options")
PLANT_KEYS = ("states", "inputs", "dynamics", "parameters", "disturbances", "time", "name")
MODEL_KEYS = ("model", "parameters")
CONTROLLER_KEYS = ("network", "period", "inputs", "outputs")
INITIAL_KEYS = ("lower", "upper")
HORIZON_KEYS = ("steps",)
SPEC_KEYS = (*SPEC_KINDS, "from", "to")
OPTION_KEYS = tuple(f.name for f in dataclasses.fields(Options)) + ("preset",)


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


def _short(value: Any, limit: int = 80) -> str:
    """repr(value) cut to about `limit` characters (never the whole of a huge input)."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's digit limit for str()
        return "<a huge integer>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind_name(value: Any) -> str:
    return {dict: "table", list: "list", str: "string", bool: "boolean", int: "integer", float: "float"}.get(
        type(value), type(value).__name__
    )


def check_keys(table: dict, known: Iterable[str], where: str, note: str = "") -> None:
    """Raise ProblemError when `table` has a key not in `known`, suggesting the nearest known key.

    Args:
        table: the parsed TOML table.
        known: its allowed keys.
        where: "FILE: [table]", the start of the message.
        note: appended to the message (e.g. why a key that exists elsewhere is not allowed here).
    Raises:
        ProblemError: "FILE: [table]: unknown key 'uper'; did you mean 'upper'?" (or the known keys when none is
        close), naming every unknown key (the first five).
    """
    known = sorted(known)
    unknown = sorted((k for k in table if k not in known), key=str)
    if not unknown:
        return
    parts = []
    for key in unknown[:5]:
        close = close_matches(str(key), known, n=1)
        parts.append((_short(key), close[0] if close else None))
    more = f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
    if len(parts) == 1 and parts[0][1] is not None:
        text = f"unknown key {parts[0][0]}; did you mean {parts[0][1]!r}?"
    else:
        names = ", ".join(k + (f" (did you mean {c!r}?)" if c else "") for k, c in parts)
        text = f"unknown key{'s' if len(unknown) > 1 else ''} {names}{more}; known keys: {', '.join(known)}"
    raise ProblemError(f"{where}: {text}{note}")


def _join(where: str, key: str) -> str:
    """The name of `key` inside `where`: "FILE: [table].key", or "FILE: key" at the top level (where = "FILE:")."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _get(table: dict, key: str, where: str, kind, required: bool = True, default: Any = None):
    """table[key] checked to be of `kind` (float accepts integers, as a float); ProblemError names where.key.

    `where` is "FILE: [table]" (or "FILE:" for the top level)."""
    if key not in table:
        if required:
            raise ProblemError(f"{where.rstrip(':')}: missing key '{key}'")
        return default
    value = table[key]
    if kind is float:
        return _number(value, _join(where, key))
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = {dict: "a table", list: "a list", str: "a string", int: "an integer", bool: "true or false"}[
            kind
        ]
        raise ProblemError(f"{_join(where, key)}: expected {names}, got {_kind_name(value)} {_short(value)}")
    return value


def _number(value: Any, where: str) -> float:
    """`value` as a finite float; ProblemError naming `where` for a non-number, NaN, inf or a huge integer."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProblemError(f"{where}: expected a number, got {_kind_name(value)} {_short(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ProblemError(f"{where}: {_short(value)} is too large for a float") from None
    if not math.isfinite(number):
        raise ProblemError(f"{where}: expected a finite number, got {value}")
    return number


def _number_list(table: dict, key: str, where: str, length: int | None = None) -> np.ndarray:
    """table[key] as a float array of finite numbers (of `length` when given); ProblemError names where.key[i]."""
    value = _get(table, key, where, list)
    if length is not None and len(value) != length:
        raise ProblemError(f"{where}.{key}: expected {length} numbers (one per state), got {len(value)}")
    return np.array([_number(v, f"{where}.{key}[{i}]") for i, v in enumerate(value)], dtype=float)


def _string_list(table: dict, key: str, where: str, required: bool = True) -> list[str] | None:
    """table[key] checked to be a list of strings (None when absent and not required)."""
    value = _get(table, key, where, list, required=required)
    if value is None:
        return None
    for i, v in enumerate(value):
        if not isinstance(v, str):
            raise ProblemError(f"{where}.{key}[{i}]: expected a string, got {_kind_name(v)} {_short(v)}")
    return value


def _number_table(table: dict, key: str, where: str) -> dict[str, float]:
    """table[key] (optional) as a mapping name -> finite number; ProblemError names where.key.name."""
    value = _get(table, key, where, dict, required=False, default={})
    return {name: _number(v, f"{where}.{key}.{name}") for name, v in value.items()}


def _model_parameter_names(model: str) -> list[str] | None:
    """The keyword parameters of the library plant `model`'s factory (None for an unknown plant, which
    `plants.get` then refuses with the list of known ones)."""
    from nncs import plants

    if model not in plants.names():
        return None
    return plants.parameter_names(model)


def _model_plant(table: dict, where: str) -> SymbolicPlant:
    from nncs import plants

    check_keys(
        table,
        MODEL_KEYS,
        where,
        note=" (with 'model', the plant is the library's: only 'parameters' may be given)",
    )
    model = _get(table, "model", where, str)
    known_models = plants.names()
    if model not in known_models:
        hint = did_you_mean(model, known_models) or f"; known plants: {', '.join(known_models)}"
        raise ProblemError(f"{where}.model: unknown plant {_short(model)}{hint}")
    params = _get(table, "parameters", where, dict, required=False, default={})
    names = _model_parameter_names(model)
    if names is not None:
        check_keys(params, names, f"{where}.parameters", note=f" (parameters of plant {model!r})")
    values = {}
    for name, v in params.items():
        values[name] = v if isinstance(v, str) else _number(v, f"{where}.parameters.{name}")
    try:
        return plants.get(model, **values)
    except (ValueError, TypeError) as exc:
        raise ProblemError(f"{where}.parameters: {exc}") from None


def _plant(table: dict, file: str) -> SymbolicPlant:
    where = f"{file}: [plant]"
    if "model" in table:
        return _model_plant(table, where)
    # 'model' is a known key too (a misspelt 'modle' suggests it); with it the table is _model_plant's
    check_keys(table, (*PLANT_KEYS, "model"), where, note=" ('model' names a library plant instead)")
    states = _string_list(table, "states", where)
    inputs = _string_list(table, "inputs", where, required=False) or []
    dynamics = _string_list(table, "dynamics", where)
    parameters = _number_table(table, "parameters", where)
    raw = _get(table, "disturbances", where, dict, required=False, default={})
    disturbances = {}
    for name, bounds in raw.items():
        key = f"{where}.disturbances.{name}"
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ProblemError(f"{key}: expected [lower, upper], got {_kind_name(bounds)} {_short(bounds)}")
        lo, hi = _number(bounds[0], f"{key}[0]"), _number(bounds[1], f"{key}[1]")
        if lo > hi:
            raise ProblemError(f"{key}: lower {lo:g} > upper {hi:g}")
        disturbances[name] = (lo, hi)
    time_kind = _get(table, "time", where, str, required=False, default="continuous")
    name = _get(table, "name", where, str, required=False, default=Path(file).stem)
    try:
        return SymbolicPlant(
            states,
            inputs,
            dynamics,
            parameters=parameters,
            disturbances=disturbances,
            time=time_kind,
            name=name,
        )
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        raise ProblemError(f"{where}: {exc}") from None


def _network_path(value: str, base: Path, where: str) -> Path:
    if value.startswith(BENCHMARKS_PREFIX):
        root = benchmarks_dir(base)
        if root is None:
            raise ProblemError(
                f"{where}: {_short(value)} needs the shared benchmark folder; set NNCS_SHARED_BENCHMARKS"
            )
        path = root / value[len(BENCHMARKS_PREFIX) :]
        relative = f"{BENCHMARKS_PREFIX} names the shared benchmark folder {_short(str(root.resolve()))}"
    elif Path(value).is_absolute():
        path, relative = Path(value), "an absolute path"
    else:
        path = base / value
        relative = (
            f"a relative path is read relative to the problem file's folder {_short(str(base.resolve()))}"
        )
    try:
        exists = path.is_file()
    except (OSError, ValueError):
        exists = False
    if not exists:
        tried = _short(str(path.resolve()), 200)
        raise ProblemError(
            f"{where}: network file {_short(value)} not found: tried {tried} ({relative})"
            f"{_nearby_networks(path)}"
        )
    return path


def _nearby_networks(path: Path) -> str:
    """'; did you mean ...?' naming network files close to `path` in its folder (or saying that the folder
    does not exist); '' when none is close."""
    from nncs.nn.io import NETWORK_SUFFIXES

    close = similar_files(path, NETWORK_SUFFIXES)
    if close is None:
        return f"; folder {_short(str(path.parent.resolve()), 200)} does not exist"
    return f"; did you mean {' or '.join(repr(f.name) for f in close)} (in that folder)?" if close else ""


def _options(raw: dict, where: str) -> Options:
    """[options] as Options: unknown keys (with a suggestion), the preset and the value types checked here,
    the values' ranges by `Options`."""
    check_keys(raw, OPTION_KEYS, where)
    if "preset" in raw:
        preset = raw["preset"]
        if not isinstance(preset, str):
            raise ProblemError(
                f"{where}.preset: expected a string, one of {', '.join(sorted(PRESETS))}; "
                f"got {_kind_name(preset)} {_short(preset)}"
            )
        if preset not in PRESETS:
            hint = did_you_mean(preset, sorted(PRESETS))
            raise ProblemError(
                f"{where}.preset: unknown preset {_short(preset)}{hint} (known: {', '.join(sorted(PRESETS))})"
            )
    for key, value in raw.items():
        if key == "initial_split" and isinstance(value, list):
            for i, count in enumerate(value):
                if not isinstance(count, int) or isinstance(count, bool):
                    raise ProblemError(
                        f"{where}.initial_split[{i}]: expected an integer, got {_kind_name(count)} {_short(count)}"
                    )
            continue
        if isinstance(value, (dict, list)):
            raise ProblemError(
                f"{where}.{key}: expected a number, a string or true/false, "
                f"got {_kind_name(value)} {_short(value)}"
            )
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OPTION_INT:
            raise ProblemError(f"{where}.{key}: {_short(value)} is too large (at most {MAX_OPTION_INT})")
    try:
        return Options.from_dict(raw, where)
    except (ValueError, TypeError, OverflowError) as exc:
        message = str(exc)
        raise ProblemError(message if message.startswith(where) else f"{where}: {message}") from None


def parse_problem(data: dict, file: str = "<problem>", base: Path | None = None) -> Problem:
    """Build a Problem from the parsed TOML mapping `data` (see `load_problem`).

    Args:
        data: the parsed TOML document.
        file: the file name used in messages.
        base: the folder relative network paths are resolved in (default: the current directory).
    Returns:
        The Problem (its `path` is None; `load_problem` sets it).
    Raises:
        ProblemError naming the file, the table and the key.
    """
    from nncs.nn.io import load_network

    base = base or Path.cwd()
    if not isinstance(data, dict):
        raise ProblemError(f"{file}: expected a TOML document (a table), got {_kind_name(data)}")
    check_keys(data, TOP_LEVEL_KEYS, f"{file}: top level")
    top = f"{file}:"
    name = _get(data, "name", top, str, required=False, default=Path(file).stem)
    plant = _plant(_get(data, "plant", top, dict), file)
    n = plant.n_states

    where = f"{file}: [controller]"
    ctrl = _get(data, "controller", top, dict)
    check_keys(ctrl, CONTROLLER_KEYS, where)
    network = _get(ctrl, "network", where, str)
    if not network.strip():
        raise ProblemError(f"{where}.network: empty; give the network file (relative to the problem file)")
    path = _network_path(network, base, f"{where}.network")
    try:
        net = load_network(path)
    except (ValueError, OSError) as exc:
        raise ProblemError(f"{where}.network: {exc}") from None
    period = _get(ctrl, "period", where, float)
    if not period > 0:
        raise ProblemError(f"{where}.period: must be a positive number of seconds, got {period:g}")
    inputs = _string_list(ctrl, "inputs", where, required=False)
    outputs = _string_list(ctrl, "outputs", where, required=False)
    try:
        system = ClosedLoop(plant, net, period, inputs, outputs)
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        raise ProblemError(f"{where}: {exc}") from None

    where = f"{file}: [initial]"
    init = _get(data, "initial", top, dict)
    check_keys(init, INITIAL_KEYS, where)
    lower, upper = _number_list(init, "lower", where, n), _number_list(init, "upper", where, n)
    for i in np.flatnonzero(lower > upper):
        raise ProblemError(
            f"{where}: lower[{i}] = {lower[i]:g} > upper[{i}] = {upper[i]:g} "
            f"(state {_short(plant.state_names[i])})"
        )
    try:
        initial = Box(lower, upper)
    except ValueError as exc:
        raise ProblemError(f"{where}: {exc}") from None

    where = f"{file}: [horizon]"
    horizon_table = _get(data, "horizon", top, dict)
    check_keys(horizon_table, HORIZON_KEYS, where)
    steps = _get(horizon_table, "steps", where, int)
    if steps < 1:
        raise ProblemError(f"{where}.steps: must be at least 1, got {_short(steps)}")
    if steps > MAX_STEPS:
        raise ProblemError(f"{where}.steps: {_short(steps)} is more than the limit of {MAX_STEPS} steps")

    if isinstance(data.get("spec"), dict):
        raise ProblemError(
            f"{file}: 'spec' must be an array of tables ([[spec]] entries), got a single [spec] table"
        )
    raw_specs = _get(data, "spec", top, list)
    if not raw_specs:
        raise ProblemError(f"{file}: [[spec]] needs at least one entry")
    specs = []
    for i, entry in enumerate(raw_specs):
        where = f"{file}: spec[{i}]"
        if not isinstance(entry, dict):
            raise ProblemError(
                f"{where}: expected a [[spec]] table with always/goal/avoid, "
                f"got {_kind_name(entry)} {_short(entry)}"
            )
        check_keys(entry, SPEC_KEYS, where)
        kinds = [k for k in SPEC_KINDS if k in entry]
        if len(kinds) != 1:
            raise ProblemError(
                f"{where}: give exactly one of {', '.join(repr(k) for k in SPEC_KINDS)} "
                f"(got {kinds or 'none'})"
            )
        window = None
        if "from" in entry or "to" in entry:
            horizon = steps * period
            window = (
                _get(entry, "from", where, float, required=False, default=0.0),
                _get(entry, "to", where, float, required=False, default=horizon),
            )
            beyond = [k for k, v in zip(("from", "to"), window) if k in entry and v > horizon * (1 + 1e-12)]
            if beyond:
                raise ProblemError(
                    f"{where}: '{beyond[0]}' = {entry[beyond[0]]} s lies past the horizon "
                    f"({steps} steps x {period} s = {horizon:g} s): that part would never be checked"
                )
        constraints = _string_list(entry, kinds[0], where)
        try:
            specs.append(
                make_spec(
                    kinds[0],
                    constraints,
                    plant.state_names,
                    window,
                    f"{where}.{kinds[0]}",
                    constants=plant.exact_parameters,
                )
            )
        except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
            message = str(exc)
            raise ProblemError(
                message if message.startswith(where) else f"{where}.{kinds[0]}: {message}"
            ) from None

    options = _options(_get(data, "options", top, dict, required=False, default={}), f"{file}: [options]")
    return Problem(name, system, initial, steps, tuple(specs), options, None)


def load_problem(path: str | Path) -> Problem:
    """Read a TOML problem file (DESIGN.md's format) into a Problem.

    Args:
        path: the problem file (UTF-8 TOML, at most MAX_PROBLEM_BYTES).
    Returns:
        The Problem, with `path` set.
    Raises:
        ProblemError (a ValueError) naming the file and the key for a missing or unreadable file, a folder,
        non-UTF-8 text, bad TOML, an unknown, missing or mistyped key, a non-finite number, lower > upper, an
        unknown state name, a dimension mismatch, a non-affine map or a horizon past MAX_STEPS.
    """
    path = Path(path)
    if path.is_dir():
        raise ProblemError(f"{path}: is a folder, not a problem file")
    if not path.is_file():
        raise ProblemError(f"{path}: no such problem file")
    from nncs.nn.io import read_text

    text = read_text(path, "problem file", MAX_PROBLEM_BYTES, ProblemError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError(f"{path}: malformed TOML: {_short(str(exc), 200)[1:-1]}") from None
    except RecursionError:
        raise ProblemError(f"{path}: malformed TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        raise ProblemError(f"{path}: malformed TOML: {_short(str(exc), 200)[1:-1]}") from None
    problem = parse_problem(data, str(path), path.parent)
    return dataclasses.replace(problem, path=path)
