"""Fuzzing helpers: bounded calls, the loader property, known defects, file mutations and a small TOML emitter.

The property every loader must meet (issue 10, "Every input checked"): on any input it returns a result or
raises a ValueError (a subclass is fine) whose message is non-empty, short and names the file, within a time
and memory limit; any other exception, a silent hang or a memory blow-up is a defect. `run_case` checks one
input and returns None (the property holds) or a `Defect`; `KNOWN_DEFECTS` lists the defect signatures the
fuzzer found on the code of this branch so that the suite stays green until they are fixed (delete entries as
the fixes land: the reproducer tests in test_fuzz_loaders.py are strict xfails and start failing when fixed).
Not a test module itself.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import math
import os
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

# ---------------------------------------------------------------------------------------------- limits
CASE_SECONDS = float(os.environ.get("NNCS_FUZZ_CASE_SECONDS", "5"))
"""Per-case wall-clock limit (s): a loader that takes longer on a small file is a defect (generous: 2 shared cores)."""
CASE_MEMORY_MB = float(os.environ.get("NNCS_FUZZ_CASE_MB", "600"))
"""Per-case growth of the resident set (MB) past which the case is stopped and counted a defect."""
MAX_MESSAGE = 1000
"""Longest acceptable error message (characters): messages must cut long inputs short (~80 chars)."""


class CaseLimit(BaseException):
    """Raised in the main thread by the watchdog when a case runs past its time or memory limit.

    A BaseException so that no `except Exception` in the code under test swallows it.
    """

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def _rss_mb() -> float:
    """The resident set size of this process in MB (Linux /proc; 0 when unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def bounded(fn: Callable[[], Any], seconds: float = CASE_SECONDS, memory_mb: float = CASE_MEMORY_MB) -> Any:
    """Call `fn()` with a time and memory watchdog; return its value.

    Args:
        fn: the call; must run in the main thread (the watchdog interrupts it with a signal).
        seconds: wall-clock limit.
        memory_mb: allowed growth of the resident set.
    Returns:
        fn's value.
    Raises:
        CaseLimit("timeout" or "memory") when a limit is passed (checked every 10 ms; code stuck inside one C
        call is interrupted only when it returns to Python); whatever fn raises otherwise.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("bounded() must run in the main thread")
    base = _rss_mb()
    state = {"kind": None}
    stop = threading.Event()
    main_id = threading.main_thread().ident

    def handler(signum, frame):
        if state["kind"] is not None:
            raise CaseLimit(state["kind"])

    def watch():
        t0 = time.monotonic()
        while not stop.wait(0.01):
            if time.monotonic() - t0 > seconds:
                state["kind"] = "timeout"
            elif _rss_mb() - base > memory_mb:
                state["kind"] = "memory"
            if state["kind"] is not None:
                signal.pthread_kill(main_id, signal.SIGUSR1)
                if stop.wait(0.5):  # re-send while the main thread is stuck in C code
                    return

    old = signal.signal(signal.SIGUSR1, handler)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return fn()
    finally:
        stop.set()
        watcher.join()
        signal.signal(signal.SIGUSR1, old)


# ---------------------------------------------------------------------------------------------- defects
@dataclass(frozen=True)
class Defect:
    """A violation of the loader property: which loader, what kind, the exception, where it was raised.

    kind: "exception" (not a ValueError), "empty-message", "no-file-name", "long-message", "timeout",
    "memory", "traceback" (CLI printed a traceback) or "exit-code" (CLI exit status not 0 or 2).
    """

    loader: str
    kind: str
    exc_type: str
    where: str
    message: str

    def signature(self) -> str:
        """The defect's identity for KNOWN_DEFECTS: 'loader|kind|exc_type|where'."""
        return f"{self.loader}|{self.kind}|{self.exc_type}|{self.where}"


# Defect signatures 'loader|kind|exc_type|where' (fnmatch patterns) still open. The reproducers in REPRODUCERS
# (test_fuzz_loaders.py) of the defects found so far must now pass; a known one runs as a strict xfail.
KNOWN_DEFECTS: list[str] = [
    # empty: every signature found by the fuzzer (27 in the first runs) is fixed; add one here only with an issue
]


def is_known(defect: Defect) -> bool:
    """Whether `defect` matches one of KNOWN_DEFECTS."""
    return any(fnmatch.fnmatchcase(defect.signature(), pat) for pat in KNOWN_DEFECTS)


def _where(exc: BaseException) -> str:
    """'module.py:function' of the innermost frame of exc's traceback inside nncs/ (else the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}nncs{os.sep}" in f.filename]
    f = (ours or frames or [None])[-1]
    return "?" if f is None else f"{Path(f.filename).name}:{f.name}"


def check_outcome(
    loader: str,
    fn: Callable[[], Any],
    name: str | None,
    seconds: float = CASE_SECONDS,
    value_error_ok: bool = True,
) -> Defect | None:
    """Run `fn` bounded and return the Defect when the loader property fails (None when it holds).

    Args:
        loader: label of the loader (for the signature).
        fn: the call under test.
        name: a string the error message must contain (the file's name), or None to skip that check.
        seconds: the time limit.
        value_error_ok: False for the CLI, where no exception at all may escape `main`.
    """
    try:
        bounded(fn, seconds)
    except CaseLimit as e:
        return Defect(loader, e.kind, "-", "-", f"{e.kind} past {seconds:g} s / {CASE_MEMORY_MB:g} MB")
    except ValueError as e:
        if not value_error_ok:
            return Defect(loader, "exception", type(e).__name__, _where(e), str(e)[:200])
        msg = str(e)
        if not msg.strip():
            return Defect(loader, "empty-message", type(e).__name__, _where(e), msg)
        if len(msg) > MAX_MESSAGE:
            return Defect(loader, "long-message", type(e).__name__, _where(e), msg[:200] + "...")
        if name is not None and name not in msg:
            return Defect(loader, "no-file-name", type(e).__name__, _where(e), msg[:200])
    except RecursionError as e:  # before Exception: a RuntimeError subclass, named by its type below
        return Defect(loader, "exception", type(e).__name__, _where(e), str(e)[:200])
    except Exception as e:  # noqa: BLE001 - any other exception is what the fuzzer looks for
        return Defect(loader, "exception", type(e).__name__, _where(e), str(e)[:200])
    return None


LOG = os.environ.get("NNCS_FUZZ_LOG")
"""When set, every defect found (known or not) is appended to this JSON-lines file with its input."""
TOLERATE_ALL = os.environ.get("NNCS_FUZZ_TOLERATE_ALL") == "1"
"""When set (long runs), unknown defects are logged, not failed, so one run collects many."""


def report(defect: Defect | None, data: bytes | str | None = None, suffix: str = "") -> None:
    """Fail on an unknown defect (log it when NNCS_FUZZ_LOG is set); known defects pass.

    Raises:
        AssertionError describing an unknown defect (unless NNCS_FUZZ_TOLERATE_ALL=1).
    """
    if defect is None:
        return
    if LOG:
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else (data or b"")
        entry = {
            "signature": defect.signature(),
            "known": is_known(defect),
            "message": defect.message[:300],
            "suffix": suffix,
            "size": len(raw),
            "input_b64": base64.b64encode(raw[:20000]).decode(),
        }
        with open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")
    if is_known(defect) or TOLERATE_ALL:
        return
    shown = data if data is None or len(data) < 400 else data[:400]
    raise AssertionError(
        f"loader property violated: {defect.signature()}: {defect.message!r}\ninput: {shown!r}"
    )


# ---------------------------------------------------------------------------------------------- examples
def max_examples(default: int) -> int:
    """The examples per loader: `default`, or $NNCS_FUZZ_EXAMPLES for long runs."""
    env = os.environ.get("NNCS_FUZZ_EXAMPLES")
    return int(env) if env else default


# ---------------------------------------------------------------------------------------------- byte mutations
NASTY_NUMBERS = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-1e309",
    "1e-320",
    "0",
    "-0",
    "-1",
    "0.0",
    "99999999999999999999",
    "1e18",
    "2147483648",
    "-9223372036854775809",
    "1e6",
    "3.5",
    "1_000",
    "0x10",
    "1e",
    ".",
    "--1",
    "+",
    "1/0",
    "True",
    "null",
    "",
]
NASTY_BYTES = [
    b"\xff",
    b"\xfe\xff",
    b"\x00",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\r",
    b"\n",
    b"\t",
    b'"',
    b"'",
    b"(",
    b")",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"=",
    b";",
    b"#",
    b"//",
    b"\\",
    b"\xef\xbb\xbf",
    "ｘ".encode(),
    "é".encode(),
    b"__import__",
    b".equals",
    b"**",
    b"1e999",
]


@st.composite
def mutated_bytes(draw, seeds: list[bytes], tokens: list[bytes] = (), max_ops: int = 4) -> bytes:
    """A seed file with a few random edits: truncation, byte flips, insertions, deletions, duplication,
    numeric tokens swapped for nasty numbers, nasty bytes (non-UTF-8, brackets, ...), or the empty file."""
    data = bytearray(draw(st.sampled_from(seeds)))
    if draw(st.integers(0, 40)) == 0:
        return b""
    pool = list(NASTY_BYTES) + list(tokens) + [n.encode() for n in NASTY_NUMBERS]
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(
            st.sampled_from(["truncate", "flip", "insert", "delete", "dup", "number", "number", "token"])
        )
        n = len(data)
        pos = draw(st.integers(0, n)) if n else 0
        if op == "truncate":
            del data[pos:]
        elif op == "flip" and n:
            data[min(pos, n - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 32))]
        elif op == "dup" and n:
            end = min(n, pos + draw(st.integers(1, 200)))
            data[pos:pos] = data[pos:end] * draw(st.integers(1, 50))
        elif op == "number":
            spans = _number_spans(bytes(data))
            if spans:
                a, b = draw(st.sampled_from(spans))
                data[a:b] = draw(st.sampled_from(NASTY_NUMBERS)).encode()
        else:
            data[pos:pos] = draw(st.sampled_from(pool))
    return bytes(data)


def _number_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of the numeric literals in data (at most 200 of them)."""
    import re

    return [m.span() for m in re.finditer(rb"-?\d+(\.\d*)?([eE][-+]?\d+)?", data)][:200]


# ---------------------------------------------------------------------------------------------- structured
def _atoms() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(
            [
                0,
                1,
                -1,
                2**63,
                -(2**63) - 1,
                10**30,
                0.0,
                -0.0,
                1e308,
                -1e308,
                5e-324,
                math.nan,
                math.inf,
                -math.inf,
                True,
                False,
                "",
                "x",
                "nan",
                "1e999",
                "y0",
                "__class__",
                "ｘ",
                "x_lead - x_ego",
                "1/0",
                "sin(",
                "é",
                [],
                {},
                [[]],
                [1, "a"],
                {"a": 1},
            ]
        ),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
    )


def deep(depth: int, kind: str = "list") -> Any:
    """A value nested `depth` levels deep (lists, or dicts with key 'a')."""
    v: Any = 0
    for _ in range(depth):
        v = [v] if kind == "list" else {"a": v}
    return v


def _paths(obj: Any, prefix: tuple = (), out: list | None = None, limit: int = 400) -> list[tuple]:
    """Every path (tuple of keys / indices) into the nested lists and dicts of obj (at most `limit`)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    out.append(prefix)
    if isinstance(obj, dict):
        for k, v in obj.items():
            _paths(v, prefix + (k,), out, limit)
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:20]):
            _paths(v, prefix + (i,), out, limit)
    return out


def _get_path(obj: Any, path: tuple) -> Any:
    for k in path:
        obj = obj[k]
    return obj


@st.composite
def mutated_tree(draw, seed: Any, max_ops: int = 3, deep_max: int = 3000) -> Any:
    """A copy of the JSON-like `seed` with a few structured edits: a value replaced by another type, a huge or
    NaN number, a deep nesting, a key deleted, an unknown key added, a list entry dropped or repeated."""
    obj = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(1, max_ops))):
        paths = _paths(obj)
        path = draw(st.sampled_from(paths))
        op = draw(
            st.sampled_from(["replace", "replace", "replace", "deep", "delete", "add", "repeat", "drop"])
        )
        parent = _get_path(obj, path[:-1]) if path else None
        if op == "replace" or (op in ("delete", "repeat", "drop") and not path):
            value = draw(_atoms())
        elif op == "deep":
            value = deep(draw(st.integers(1, deep_max)), draw(st.sampled_from(["list", "dict"])))
        else:
            value = None
        if not path:
            if op == "add" and isinstance(obj, dict):
                obj[draw(st.sampled_from(["uper", "horizon_s", "layers2", "extra", "W "]))] = draw(_atoms())
            elif value is not None:
                obj = value
            continue
        key = path[-1]
        if op == "delete":
            del parent[key]
        elif op == "add":
            target = _get_path(obj, path)
            if isinstance(target, dict):
                target[draw(st.sampled_from(["uper", "horizon_s", "lowr", "activaton", "x", ""]))] = draw(
                    _atoms()
                )
            elif isinstance(target, list):
                target.append(draw(_atoms()))
        elif op == "repeat" and isinstance(parent, list):
            parent[key:key] = [parent[key]] * draw(st.integers(1, 30))
        elif op == "drop" and isinstance(parent, list):
            del parent[key:]
        elif value is not None:
            parent[key] = value
    return obj


# ---------------------------------------------------------------------------------------------- TOML emitter
def _toml_key(k: str) -> str:
    return _toml_str(str(k))


def _toml_str(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04X}")
        elif 0xD800 <= o <= 0xDFFF:  # lone surrogates cannot be written; keep the file valid UTF-8
            out.append("\\uFFFD")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v: Any) -> str:
    """The TOML inline form of a JSON-like value (floats nan/inf as TOML's nan/inf)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    if v is None:  # TOML has no null: write it as a string so the loader sees a wrong type
        return '"null"'
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def dumps_toml(data: dict) -> str:
    """A TOML document for the JSON-like dict `data`: one `key = inline value` line per top-level key.

    (tomllib is read-only; inline tables and arrays of inline tables express every mapping tomllib returns,
    except dates, which problem files do not use.)
    """
    return "".join(f"{_toml_key(k)} = {toml_value(v)}\n" for k, v in data.items())
