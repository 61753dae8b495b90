"""Dask-distributed verification: speed-up of 2 workers over 1 on this machine, cold start with and without the
persistent compilation cache, and a simulated scale-out to 8, 32 and 128 workers from recorded part times.

Run with `python -m benchmarks distributed [speedup] [acas] [cache] [scaleout]` (default: all four).
"""

from __future__ import annotations

import heapq
import os
import statistics
import sys
import tempfile
import time
import tomllib
from dataclasses import replace
from pathlib import Path

from nncs import case_studies
from nncs.problem import benchmarks_dir, parse_problem

SPLIT_VARIANTS = {
    # name: (case study, initial-set widening about its centre, options)
    "tora_wide": ("tora", 3.0, {"split_budget": 256}),
    "acc_arch_10_20_wide": ("acc_arch_10_20", 2.0, {"split_budget": 256}),
}
"""Problems that need many initial-set parts: bundled case studies with their initial box widened."""


def split_problem(name: str):
    """The problem of SPLIT_VARIANTS[name] (parsed from the case study's file with its initial box widened)."""
    case, widen, options = SPLIT_VARIANTS[name]
    path = case_studies.path(case)
    data = tomllib.loads(path.read_text())
    lo, hi = data["initial"]["lower"], data["initial"]["upper"]
    mid = [(a + b) / 2 for a, b in zip(lo, hi)]
    data["initial"]["lower"] = [m - widen * (m - a) for m, a in zip(mid, lo)]
    data["initial"]["upper"] = [m + widen * (b - m) for m, b in zip(mid, hi)]
    data.setdefault("options", {}).update(options)
    problem = parse_problem(data, str(path), path.parent)
    return replace(problem, name=name, options=replace(problem.options, progress=False))


def _timed_verify(problem, client=None):
    from nncs.verify import verify

    start = time.perf_counter()
    v = verify(problem, client=client)
    return v, time.perf_counter() - start


def speedup(names=("tora_wide",)) -> None:
    """Serial vs a 2-worker LocalCluster on problems that split: wall time (warm: each side run once before)."""
    from nncs.distributed import connect

    print(
        f"{'problem':22s} {'verdict':8s} {'parts':>5s} {'1 worker s':>10s} {'2 workers s':>11s} {'speed-up':>8s}"
    )
    with connect(workers=2) as client:
        for name in names:
            problem = split_problem(name)
            _timed_verify(problem)  # warm: JAX compiled in this process
            serial, t1 = _timed_verify(problem)
            _timed_verify(problem, client)  # warm: compiled on the workers
            dist, t2 = _timed_verify(problem, client)
            same = (serial.status, len(serial.parts)) == (dist.status, len(dist.parts))
            print(
                f"{name:22s} {serial.status:8s} {len(serial.parts):5d} {t1:10.2f} {t2:11.2f} {t1 / t2:7.2f}x"
                + ("" if same else "  DIFFERENT VERDICT")
            )


def acas(prop: str = "prop_1") -> None:
    """ACAS Xu phi1 (45 instances) as a batch: one process vs a 2-worker LocalCluster."""
    from nncs.batch import Instance, run_batch
    from nncs.distributed import connect

    root = benchmarks_dir()
    if root is None or not (root / "acasxu").is_dir():
        print("acas: the shared ACAS Xu benchmarks are not here")
        return
    rows = [r.split(",") for r in (root / "acasxu" / "instances.csv").read_text().splitlines() if r.strip()]
    instances = [
        Instance("acasxu", f"{m},{p}", model=str(root / "acasxu" / m), prop=str(root / "acasxu" / p))
        for m, p, *_ in rows
        if p.endswith(f"{prop}.vnnlib")
    ]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        serial = run_batch(instances, Path(tmp) / "serial.csv", progress=False)
        t1 = time.perf_counter() - start
        with connect(workers=2) as client:
            start = time.perf_counter()
            dist = run_batch(instances, Path(tmp) / "dist.csv", client=client, progress=False)
            t2 = time.perf_counter() - start
            start = time.perf_counter()  # again on the same workers: their imports and compilations done
            again = run_batch(instances, Path(tmp) / "again.csv", client=client, progress=False)
            t3 = time.perf_counter() - start
    print(f"ACAS Xu {prop}: {len(instances)} instances; 1 process {t1:.1f} s {dict(serial)}")
    print(f"  2 workers, fresh: {t2:.1f} s {dict(dist)} (cluster start excluded), speed-up {t1 / t2:.2f}x")
    print(f"  2 workers, warm:  {t3:.1f} s {dict(again)}, speed-up {t1 / t3:.2f}x")


def _cold_first_runs(problem, cache: str) -> tuple[float, float]:
    """On a fresh cluster with NNCS_JAX_CACHE=`cache`: the seconds of the first attempt on one fresh worker,
    and of the first whole run on a fresh 2-worker cluster (cluster start excluded)."""
    from nncs.distributed import _attempt_task, connect, submit

    old = os.environ.get("NNCS_JAX_CACHE")
    os.environ["NNCS_JAX_CACHE"] = cache
    try:
        with connect(workers=1) as client:
            [shared] = client.scatter([problem], broadcast=True, hash=False)
            start = time.perf_counter()
            submit(client, _attempt_task, shared, problem.initial, problem.options, True, None).result()
            first = time.perf_counter() - start
        with connect(workers=2) as client:
            client.wait_for_workers(2)
            whole = _timed_verify(problem, client)[1]
        return first, whole
    finally:
        if old is None:
            os.environ.pop("NNCS_JAX_CACHE")
        else:
            os.environ["NNCS_JAX_CACHE"] = old


def cache(name: str = "tora_wide") -> None:
    """Cold start on fresh workers: without the persistent compilation cache, filling it, and reading it."""
    problem = split_problem(name)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            label: _cold_first_runs(problem, folder)
            for label, folder in (("no cache", "off"), ("filling", tmp), ("from cache", tmp))
        }
    print(
        f"{name} on fresh workers (cluster start excluded): first attempt on 1 worker / whole run on 2 workers"
    )
    for label, (first, whole) in runs.items():
        print(f"  {label:10s} {first:6.2f} s / {whole:6.2f} s")


def _record_parts(problem):
    """Run verify serially, recording each attempt's seconds and outcome and the halves of each split part."""
    import importlib

    v = importlib.import_module("nncs.verify")  # the module (nncs.verify is also the function)

    seconds, ok, children = {}, {}, {}
    attempt, split = v.attempt_part, v._split

    def recording_attempt(problem, part, options, first, deadline=None):
        out = attempt(problem, part, options, first, deadline)
        seconds[id(part)], ok[id(part)] = out.seconds, out.ok
        return out

    def recording_split(part, initial):
        halves = split(part, initial)
        children[id(part)] = halves
        return halves

    v.attempt_part, v._split = recording_attempt, recording_split
    try:
        verdict = v.verify(problem)
    finally:
        v.attempt_part, v._split = attempt, split
    return verdict, seconds, children


def makespan(root, seconds: dict, children: dict, workers: int, overhead: float) -> float:
    """Simulated wall time of the distributed refinement on `workers` workers: every queued part starts on the
    first free worker in queue order (each task costs its recorded seconds plus `overhead`), and a failed
    part's halves are queued when the coordinator reaches it in queue order (as `verify` does)."""
    free = [0.0] * workers
    finish = {}

    def submit(part, at: float) -> None:
        start = max(at, heapq.heappop(free))
        finish[id(part)] = start + seconds[id(part)] + overhead
        heapq.heappush(free, finish[id(part)])

    submit(root, 0.0)
    queue, now = [root], 0.0
    while queue:
        part = queue.pop(0)
        now = max(now, finish[id(part)])
        for half in children.get(id(part), []):
            if id(half) in seconds:
                submit(half, now)
                queue.append(half)
    return now


def _critical_path(root, seconds: dict, children: dict) -> float:
    kids = [h for h in children.get(id(root), []) if id(h) in seconds]
    return seconds[id(root)] + max((_critical_path(h, seconds, children) for h in kids), default=0.0)


def scheduler_overhead(tasks: int = 200) -> float:
    """Seconds per task of a no-op task's round trip on a 2-worker LocalCluster (submit, run, gather)."""
    from nncs.distributed import connect

    with connect(workers=2) as client:
        client.wait_for_workers(2)
        client.gather(client.map(abs, range(-10, 0), pure=False))  # warm the connections
        start = time.perf_counter()
        futures = [client.submit(abs, -k, pure=False) for k in range(tasks)]
        client.gather(futures)
        return (time.perf_counter() - start) / tasks


def scaleout(name: str = "tora_wide") -> None:
    """Per-part times of a large run recorded, then the makespan for 1, 2, 8, 32 and 128 workers."""
    problem = split_problem(name)
    _record_parts(problem)  # warm
    verdict, seconds, children = _record_parts(problem)
    overhead = scheduler_overhead()
    total, n = sum(seconds.values()), len(seconds)
    crit = _critical_path(problem.initial, seconds, children)
    print(
        f"{name}: {verdict.status}, {n} attempts, {total:.1f} s of attempts (median "
        f"{statistics.median(seconds.values()):.3f} s), critical path {crit:.1f} s, "
        f"scheduler overhead {overhead * 1e3:.1f} ms per task"
    )
    base = makespan(problem.initial, seconds, children, 1, overhead)
    for w in (1, 2, 8, 32, 128):
        m = makespan(problem.initial, seconds, children, w, overhead)
        bound = max(total / w, crit)
        print(
            f"  {w:4d} workers: makespan {m:7.2f} s, speed-up {base / m:6.2f}x "
            f"(lower bound max(total / W, critical path) = {bound:.2f} s)"
        )


def main(args: list[str] | None = None) -> None:
    parts = args or ["speedup", "acas", "cache", "scaleout"]
    for part in parts:
        if part not in ("speedup", "acas", "cache", "scaleout"):
            print(f"unknown part {part!r}; choose from speedup, acas, cache, scaleout", file=sys.stderr)
            continue
        print(f"-- {part}")
        globals()[part]()


if __name__ == "__main__":
    main(sys.argv[1:])
