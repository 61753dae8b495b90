"""Work on many cores or a cluster with Dask distributed: the initial-set parts of `verify`, the input
sub-boxes of `verify-nn` and the instances of `nncs batch`. Imported only when a run asks for workers.

Workers are separate processes. Each task calls `prepare_worker` first: it imports nncs's JAX door (float64 on)
and points JAX's persistent compilation cache at one folder shared by the whole cluster, so a jitted function
compiled by one worker is read from disk by the others; problems are scattered to every worker once, so the
functions a worker compiled for a problem stay with it across that problem's tasks.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from nncs.loop.options import Options, TimeLimitReached
from nncs.problem import Problem
from nncs.sets import Box
from nncs.verify import PartOutcome, attempt_part

__all__ = [
    "connect",
    "submit",
    "DaskRunner",
    "Scattered",
    "prepare_worker",
    "default_cache_dir",
    "CACHE_ENV",
    "WORKER_ENV",
]

CACHE_ENV = "NNCS_JAX_CACHE"
"""Environment variable naming JAX's persistent compilation cache folder ("off": no cache)."""


def default_cache_dir() -> Path | None:
    """The persistent compilation cache folder: $NNCS_JAX_CACHE, else ~/.cache/nncs/jax (None when "off")."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "off", "0", "none") else Path(value)
    return Path.home() / ".cache" / "nncs" / "jax"


WORKER_ENV = {
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
"""The environment of local worker processes: one thread each (JAX's XLA and BLAS), so N workers use N cores
and do not oversubscribe them. Workers started by hand should be given the same (see the README)."""

_PREPARED: dict[str, str | None] = {}


def prepare_worker(cache_dir: str | None) -> None:
    """Once per process: JAX with float64 and, when `cache_dir` is given, its persistent compilation cache
    there (every compilation cached, however short)."""
    if "cache" in _PREPARED:
        return
    _restore_malloc_thresholds()
    from nncs._jax import jax

    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(cache_dir))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _PREPARED["cache"] = cache_dir


def _restore_malloc_thresholds() -> bool:
    """Undo Dask's MALLOC_TRIM_THRESHOLD_=65536 in this process (glibc only; True when done).

    Dask's nanny starts workers with it, which also freezes glibc's mmap threshold at 128 KiB: every array past
    it is then mapped and unmapped afresh, and nncs's bound propagation runs about twice as slow. These are
    the thresholds glibc's own adaptation reaches on 64-bit machines (trim 64 MiB, mmap 32 MiB).
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_TRIM_THRESHOLD, 64 * 2**20)) and bool(
            libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20)
        )
    except (OSError, AttributeError):  # not glibc
        return False


@contextmanager
def connect(
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    dashboard: bool = False,
    memory_limit: str | float | int | None = "auto",
) -> Iterator:
    """A Dask `Client`: `client` itself when given, else one connected to `scheduler` ("tcp://host:port"),
    else a `LocalCluster` of `workers` single-threaded processes on 127.0.0.1 (closed on exit).

    Args:
        workers: local worker processes (when neither client nor scheduler is given).
        scheduler: the address of a running `dask scheduler`.
        client: an existing `distributed.Client` (left open on exit).
        dashboard: start the local cluster's dashboard and print its link (to stderr).
        memory_limit: each local worker's memory limit (Dask's meaning: "auto" shares the machine's memory
            evenly; a worker past it is restarted and its task retried elsewhere).
    Raises:
        ValueError when the scheduler cannot be reached.
    """
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    with ExitStack() as stack:
        if scheduler is not None:
            try:
                connected = Client(scheduler, timeout="5s")
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None
        else:
            cluster = LocalCluster(
                n_workers=max(1, int(workers or 1)),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                # the scheduler's HTTP server always starts: on a free loopback port, never a fixed one
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": bool(dashboard)},
                memory_limit=memory_limit,
                silence_logs=40,  # errors only
                env=dict(WORKER_ENV),
            )
            stack.callback(cluster.close)
            connected = Client(cluster)
        stack.callback(connected.close)  # closed before the local cluster (callbacks run last in, first out)
        if dashboard:
            print(f"dashboard: {connected.dashboard_link}", file=sys.stderr)
        yield connected


def submit(client, fn, *args, priority: int = 0):
    """Submit `fn(*args)` to the cluster, run after `prepare_worker` on its worker (with this process's cache
    folder, `default_cache_dir`); returns the future. Every nncs task goes through here."""
    cache = default_cache_dir()
    cache = None if cache is None else str(cache)
    return client.submit(_prepared_call, cache, fn, *args, pure=False, priority=priority)


def _prepared_call(cache: str | None, fn, *args):
    prepare_worker(cache)
    return fn(*args)


def _attempt_task(
    problem: Problem, part: Box, options: Options, first: bool, wall_deadline: float | None
) -> PartOutcome:
    """One part attempt on a worker; a time limit there comes back as `timed_out` (never as a verdict)."""
    deadline = None if wall_deadline is None else time.perf_counter() + (wall_deadline - time.time())
    try:
        return attempt_part(problem, part, options, first, deadline)
    except TimeLimitReached as exc:
        return PartOutcome(False, None, "", None, timed_out=str(exc) or "the time limit was reached")


class Scattered:
    """A value scattered to every worker of `client`, scattered again when its copy is lost (a worker that dies
    holding the only copy makes Dask cancel the tasks that need it; `future()` then gives a fresh copy)."""

    def __init__(self, client, value):
        self.client = client
        self.value = value
        self._future = self._scatter()

    def _scatter(self):
        [future] = self.client.scatter([self.value], broadcast=True, hash=False)
        return future

    def future(self):
        """The future of the value on the cluster (scattered again if the last one is not "finished")."""
        if self._future.status != "finished":
            self._future = self._scatter()
        return self._future


def _lost_input(exc: BaseException) -> None:
    """Forget the traceback of a task cancelled because its scattered input was lost: Dask keeps the
    exception with the cancelled key, and its traceback would hold the caller's frame (and the retry's
    future), so the retry's task would never be released."""
    exc.__traceback__ = None


class DaskRunner:
    """Runs part attempts on a Dask cluster: each queued part is submitted at once (earlier parts first), the
    problem is scattered to every worker once, and outcomes are collected in the order `verify` asks for them.

    A worker that dies mid-task loses nothing: the scheduler reruns its task on another worker (Dask's
    `allowed-failures`), and the attempt is deterministic, so the outcome is the same. When the dead worker
    held the only copy of the scattered problem, Dask cancels the attempts that need it; those are
    resubmitted here with the problem scattered again (at most `MAX_RESUBMITS` times per attempt)."""

    MAX_RESUBMITS = 3

    def __init__(self, client, problem: Problem, options: Options, deadline: float | None):
        self.client = client
        self.options = options
        self.deadline = deadline
        self.wall_deadline = None if deadline is None else time.time() + (deadline - time.perf_counter())
        self.problem = Scattered(client, problem)
        self.pending: list = []
        self.calls: dict[str, tuple[Box, bool, int]] = {}  # future key -> (part, first, priority)
        self.submitted = 0
        self.resubmitted = 0  # attempts started again after their scattered problem was lost

    def _start(self, part: Box, first: bool, priority: int):
        future = submit(
            self.client,
            _attempt_task,
            self.problem.future(),
            part,
            self.options,
            first,
            self.wall_deadline,
            priority=priority,
        )
        self.calls[future.key] = (part, first, priority)
        self.pending.append(future)
        return future

    def submit(self, part: Box, first: bool):
        """Start the attempt on the cluster now; returns its future."""
        self.submitted += 1
        return self._start(part, first, priority=-self.submitted)  # the serial order: earlier parts first

    def _resubmit(self, future):
        """The same attempt started again, with the problem scattered again when its copy was lost."""
        part, first, priority = self.calls.pop(future.key)
        self.resubmitted += 1
        return self._start(part, first, priority)

    def outcome(self, future) -> PartOutcome:
        """The attempt's outcome (waiting at most until the deadline).

        Raises:
            TimeLimitReached at the deadline, or when the attempt stopped there on its worker.
        """
        from distributed.client import FutureCancelledError

        for resubmits in range(self.MAX_RESUBMITS + 1):
            timeout = None if self.deadline is None else max(0.0, self.deadline - time.perf_counter())
            try:
                result = future.result(timeout=timeout)
                break
            except TimeoutError:
                raise TimeLimitReached(f"the time limit of {self.options.timeout:g} s was reached") from None
            except FutureCancelledError as exc:
                if resubmits == self.MAX_RESUBMITS:
                    raise
                _lost_input(exc)
                retry = self._resubmit(future)
            finally:
                if future in self.pending:
                    self.pending.remove(future)
            future = retry
        self.calls.pop(future.key, None)
        if result.timed_out:
            raise TimeLimitReached(result.timed_out)
        return result

    def cancel(self) -> None:
        """Cancel every attempt not yet collected (the run has its verdict)."""
        if self.pending:
            self.client.cancel(self.pending)
            self.pending = []
        self.calls.clear()


# ------------------------------------------------------------------------------------ network properties
def split_property(prop, pieces: int) -> list:
    """The property's cases cut into at least `pieces` sub-properties (each case's input box bisected along
    its relatively widest input until there are enough boxes); exact: the union of the sub-boxes is each
    case's box (cut faces are closed on both sides, the outer faces keep their strictness), so the property
    holds exactly when it holds on every sub-property.

    Args:
        prop: a `nncs.vnnlib.VnnlibProperty`.
        pieces: the least number of sub-properties.
    Returns:
        A list of VnnlibProperty, each with one case.
    """
    import dataclasses

    import numpy as np

    cases = list(prop.cases)
    widths = {id(c): np.maximum(c.ub - c.lb, 1e-300) for c in cases}
    boxes = [(c, c.lb.copy(), c.ub.copy()) for c in cases]
    while len(boxes) < pieces:
        # bisect the box that is widest relative to its case, along that input
        score = [float(np.max((ub - lb) / widths[id(c)])) for c, lb, ub in boxes]
        k = int(np.argmax(score))
        c, lb, ub = boxes.pop(k)
        d = int(np.argmax((ub - lb) / widths[id(c)]))
        if not ub[d] > lb[d]:
            boxes.insert(k, (c, lb, ub))
            break  # every box is a point: nothing left to cut
        mid = 0.5 * (lb[d] + ub[d])
        left_ub, right_lb = ub.copy(), lb.copy()
        left_ub[d], right_lb[d] = mid, mid
        boxes[k:k] = [(c, lb, left_ub), (c, right_lb, ub)]
    out = []
    for c, lb, ub in boxes:
        lb_open = None if c.lb_open is None else c.lb_open & (lb == c.lb)
        ub_open = None if c.ub_open is None else c.ub_open & (ub == c.ub)
        case = dataclasses.replace(c, lb=lb, ub=ub, lb_open=lb_open, ub_open=ub_open)
        out.append(dataclasses.replace(prop, cases=(case,)))
    return out


def _property_task(net, prop, options, wall_deadline: float):
    """One sub-property on a worker, within what is left of the whole run's time."""
    import dataclasses

    from nncs.nn.verify import VerifyResult, verify_property

    left = wall_deadline - time.time()
    if not left > 0:
        return VerifyResult("timeout", 0.0, stats={"stopped": "before it started"})
    return verify_property(net, prop, dataclasses.replace(options, timeout=left))


def verify_property_distributed(client, net, prop, options, pieces: int | None = None):
    """Decide `prop` for `net` on a Dask cluster: the cases cut into sub-properties (`split_property`), each
    decided by `verify_property` on a worker, results streamed back as they finish.

    Returns:
        A VerifyResult: "violated" at the first confirmed counterexample (the remaining work is cancelled),
        "holds" when every sub-property holds, "timeout" when the time limit struck first, else "unknown".
        `stats` adds up the sub-runs' boxes and says how many sub-properties there were.
    """
    from distributed import as_completed

    from nncs.nn.verify import VerifyResult

    t0 = time.perf_counter()
    if prop.n_inputs != net.n_inputs or prop.n_outputs != net.n_outputs:
        raise ValueError(
            f"property {prop.source} has {prop.n_inputs} inputs / {prop.n_outputs} outputs, "
            f"the network {net.n_inputs} / {net.n_outputs}"
        )
    if pieces is None:
        pieces = 4 * max(1, len(client.scheduler_info().get("workers", {})))
    subs = split_property(prop, pieces)
    wall_deadline = time.time() + options.timeout
    from distributed.client import FutureCancelledError

    network = Scattered(client, net)
    subs_of: dict = {}  # future key -> its sub-property
    futures: list = []

    def start(sub):
        future = submit(client, _property_task, network.future(), sub, options, wall_deadline)
        subs_of[future.key] = sub
        futures.append(future)
        return future

    for sub in subs:
        start(sub)
    stats = {"boxes": 0, "rounds": 0, "sub_properties": len(subs), "resubmitted": 0}
    results: list[str] = []
    try:
        stream = as_completed(list(futures), timeout=max(0.0, options.timeout) + 5.0)
        for future in stream:
            try:
                res = future.result()
            except FutureCancelledError as exc:  # its worker died holding the only copy of the network: again
                if stats["resubmitted"] >= DaskRunner.MAX_RESUBMITS * len(subs):
                    raise
                _lost_input(exc)
                stats["resubmitted"] += 1
                stream.add(start(subs_of[future.key]))
                continue
            stats["boxes"] += int(res.stats.get("boxes", 0))
            stats["rounds"] += int(res.stats.get("rounds", 0))
            results.append(res.result)
            if res.result == "violated":
                return VerifyResult("violated", time.perf_counter() - t0, res.counterexample, stats=stats)
            if res.result == "timeout":
                return VerifyResult("timeout", time.perf_counter() - t0, stats=stats)
    except TimeoutError:
        return VerifyResult("timeout", time.perf_counter() - t0, stats=stats)
    finally:
        client.cancel(futures)
    status = "holds" if all(r == "holds" for r in results) else "unknown"
    return VerifyResult(status, time.perf_counter() - t0, stats=stats)
