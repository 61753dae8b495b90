"""Batch runs (`nncs batch`): many problem files or network properties, one result row per instance.

Rows are appended (CSV and JSON lines) as instances finish, in this process or on a Dask cluster, so a run that
was killed resumes where it stopped (`resume=True` skips the instances already in the output).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Instance", "read_instances", "run_instance", "run_batch", "COLUMNS", "done_instances"]

COLUMNS = ("benchmark", "instance", "result", "time", "message")
"""The columns of the results CSV (those of the VNN-COMP and ARCH-COMP repeatability packages, plus a message)."""

MAX_INSTANCES = 100_000
"""The most instances one list may name."""

MAX_LIST_BYTES = 16 * 2**20
"""The largest instance list (CSV) read."""


@dataclass(frozen=True)
class Instance:
    """One instance of a batch.

    Attributes:
        benchmark: the benchmark's name (the list's folder name).
        instance: its name in the results: the problem file, or "model,property", as the list gives them.
        problem: the problem file (.toml) of a closed-loop instance, else None.
        model, prop: the network and VNN-LIB files of a network instance, else None.
        timeout: its time limit in seconds (None: the batch's).
    """

    benchmark: str
    instance: str
    problem: str | None = None
    model: str | None = None
    prop: str | None = None
    timeout: float | None = None


def _timeout_cell(text: str, where: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    from nncs.loop.options import parse_seconds

    try:
        return parse_seconds(text)
    except ValueError as exc:
        raise ValueError(f"{where}: timeout {text[:40]!r}: {exc}") from None


def read_instances(source: str | Path) -> list[Instance]:
    """The instances of a folder (every .toml in it and below, sorted) or of a CSV list.

    A CSV row is `problem.toml[,timeout]` or `model,property[,timeout]` (VNN-COMP's instances.csv), with paths
    relative to the CSV's folder; blank lines and lines starting with '#' are skipped.

    Raises:
        ValueError naming the list and the row for a missing file, a bad timeout, a row of the wrong shape,
        an empty list or more than MAX_INSTANCES instances.
    """
    from nncs.nn.io import read_text

    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.toml") if p.is_file())
        instances = [Instance(path.resolve().name, str(p.relative_to(path)), problem=str(p)) for p in files]
    elif path.is_file():
        text = read_text(path, "instance list", MAX_LIST_BYTES, ValueError)
        base, instances = path.parent, []
        benchmark = base.resolve().name
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            where = f"{path}: row {number}"
            if cells[0].lower().endswith(".toml"):
                if len(cells) > 2:
                    raise ValueError(f"{where}: expected problem.toml[,timeout], got {len(cells)} columns")
                files, timeout = cells[:1], _timeout_cell(cells[1] if len(cells) > 1 else "", where)
            else:
                if not 2 <= len(cells) <= 3:
                    raise ValueError(
                        f"{where}: expected model,property[,timeout] or problem.toml[,timeout], "
                        f"got {len(cells)} column(s)"
                    )
                files, timeout = cells[:2], _timeout_cell(cells[2] if len(cells) > 2 else "", where)
            full = [base / f for f in files]
            for f, given in zip(full, files):
                if not f.is_file():
                    raise ValueError(f"{where}: no such file {given!r} (tried {str(f.resolve())!r})")
            name = ",".join(files)
            if len(full) == 1:
                instances.append(Instance(benchmark, name, problem=str(full[0]), timeout=timeout))
            else:
                instances.append(
                    Instance(benchmark, name, model=str(full[0]), prop=str(full[1]), timeout=timeout)
                )
            if len(instances) > MAX_INSTANCES:
                raise ValueError(f"{path}: more than {MAX_INSTANCES} instances")
    else:
        raise ValueError(f"{path}: no such instance list (a folder of .toml files or a CSV)")
    if not instances:
        raise ValueError(f"{path}: no instances (no .toml files, or no rows)")
    return instances


def run_instance(inst: Instance, timeout: float | None = None) -> dict:
    """Decide one instance in this process; returns its row (COLUMNS as keys).

    result: safe / unsafe / unknown for a problem file, holds / violated / unknown / timeout for a network
    property, "error" (with the message) for input that cannot be run. time: seconds.
    """
    from dataclasses import replace

    limit = inst.timeout if inst.timeout is not None else timeout
    t0 = time.perf_counter()
    try:
        if inst.problem is not None:
            from nncs.problem import load_problem
            from nncs.verify import verify

            problem = load_problem(inst.problem)
            options = replace(
                problem.options,
                progress=False,
                workers=1,
                timeout=limit if limit is not None else problem.options.timeout,
            )
            verdict = verify(problem, options)
            result, message = verdict.status, verdict.message
        else:
            from nncs.nn.verify import verify_nn_files

            report = verify_nn_files(inst.model, inst.prop, timeout=limit if limit is not None else 116.0)
            result = report.result
            message = (
                "" if report.counterexample is None else f"counterexample x = {report.counterexample['x']}"
            )
    except (ValueError, OSError) as exc:
        result, message = "error", str(exc)
    except RuntimeError as exc:
        result, message = "error", f"computation failed: {exc}"
    return {
        "benchmark": inst.benchmark,
        "instance": inst.instance,
        "result": result,
        "time": round(time.perf_counter() - t0, 4),
        "message": " ".join(str(message).split())[:2000],  # one line: rows are line-oriented
    }


def _complete_lines(path: Path) -> list[str]:
    """The lines of `path` without a last line cut off mid-write (one that does not end with a newline)."""
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    lines = text.split("\n")
    return lines[:-1]  # after the last newline: "" for a complete file, else the partial line


def done_instances(out: Path) -> set[str]:
    """The instances already in the results CSV `out` (and its .jsonl); a row cut off by a killed run is
    dropped from both files, so that instance runs again.

    Raises:
        ValueError when `out` is not a results file (its header is not COLUMNS).
    """
    if not out.is_file():
        return set()
    lines = _complete_lines(out)
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ValueError(f"{out}: not an nncs batch results file (its header is not {','.join(COLUMNS)})")
    good = [r for r in rows[1:] if len(r) == len(COLUMNS)]
    _write_rows(out, good)
    done = {r[1] for r in good}
    kept = []
    for line in _complete_lines(_json_lines_path(out)):
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and row.get("instance") in done:
            kept.append(line)
    _json_lines_path(out).write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    return done


def _write_rows(out: Path, rows: list[list[str]]) -> None:
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def _json_lines_path(out: Path) -> Path:
    return out.with_suffix(".jsonl")


def run_batch(
    instances: Iterable[Instance],
    out: str | Path,
    timeout: float | None = None,
    client=None,
    resume: bool = False,
    progress: bool | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> Counter:
    """Run every instance and append its row to `out` (CSV) and to `out` with suffix .jsonl as it finishes.

    Args:
        instances: from `read_instances`.
        out: the results CSV; it must not exist unless `resume`.
        timeout: each instance's limit in seconds when its row gives none.
        client: a Dask client: instances run on its workers (in list order of priority); None: here, in turn.
        resume: skip the instances already in `out` (a half-written last row is dropped and rerun).
        progress: tqdm bar over instances with the count of each result (None: only on a terminal).
        on_row: called with each row as it is written.
    Returns:
        The count of each result among the rows written now.
    Raises:
        ValueError when `out` exists and `resume` is False, or is not a results file.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    if out.exists() and not resume:
        raise ValueError(f"{out}: exists; pass --resume to continue it, or choose another file")
    done = done_instances(out) if resume else set()
    if not out.exists():
        _write_rows(out, [])
        _json_lines_path(out).write_text("")
    todo = [i for i in instances if i.instance not in done]
    counts: Counter = Counter()
    bar = tqdm(
        total=len(todo), desc="instances", unit="inst", disable=None if progress is None else not progress
    )

    def write(row: dict) -> None:
        with out.open("a", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow([row[c] for c in COLUMNS])
        with _json_lines_path(out).open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        counts[row["result"]] += 1
        bar.update(1)
        bar.set_postfix(dict(sorted(counts.items())), refresh=False)
        if on_row is not None:
            on_row(row)

    try:
        if client is None:
            for inst in todo:
                write(run_instance(inst, timeout))
        else:
            from distributed import as_completed

            from nncs.distributed import submit

            futures = [
                submit(client, run_instance, inst, timeout, priority=-k) for k, inst in enumerate(todo)
            ]
            for future in as_completed(futures):
                write(future.result())
    finally:
        bar.close()
    return counts
