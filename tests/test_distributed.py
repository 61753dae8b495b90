"""Tests of nncs/distributed.py: verify and verify-nn on a LocalCluster of 2 processes (127.0.0.1 only) decide
exactly as the serial path; a counterexample cancels the rest, a killed worker loses nothing, the time limit
holds across workers, and `--scheduler` reaches a scheduler and worker started as separate processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from nncs.cli import main
from nncs.nn.verify import VerifyOptions, verify_property
from nncs.problem import load_problem
from nncs.verify import verify
from nncs.vnnlib import parse_vnnlib
from tests.nn.planted import forward, planted_pair
from tests.test_cli_commands import _problem

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A LocalCluster of 2 single-threaded worker processes on 127.0.0.1, torn down after the module."""
    from nncs.distributed import connect

    cache = tmp_path_factory.mktemp("jax_cache")
    old = os.environ.get("NNCS_JAX_CACHE")
    os.environ["NNCS_JAX_CACHE"] = str(cache)
    try:
        with connect(workers=2) as c:
            c.wait_for_workers(2, timeout=60)
            yield c
    finally:
        if old is None:
            os.environ.pop("NNCS_JAX_CACHE", None)
        else:
            os.environ["NNCS_JAX_CACHE"] = old


def _summary(v):
    """What must agree between the serial and the distributed run."""
    parts = [(b.lb.tolist(), b.ub.tolist(), s) for b, s, _ in v.parts]
    cex = None if v.counterexample is None else np.asarray(v.counterexample.x0).tolist()
    return v.status, v.message, parts, cex, v.reasons


@pytest.mark.parametrize(
    "constraint,changes,status",
    [
        ("x <= 1.158", {}, "safe"),  # proven on 5 parts
        ("x <= 1.105", {}, "unsafe"),  # found by the first falsification
        ("x <= 1.105", {"falsify_samples": 0}, "unsafe"),  # found after the failed proof, on a worker
        ("x <= 1.1575", {"split_budget": 4}, "unknown"),  # the budget is spent
    ],
)
def test_distributed_verify_decides_exactly_as_the_serial_path(tmp_path, client, constraint, changes, status):
    problem = load_problem(_problem(tmp_path, constraint=constraint))
    options = replace(problem.options, progress=False, **changes)
    serial = verify(problem, options)
    distributed = verify(problem, options, client=client)
    assert serial.status == status
    assert _summary(distributed) == _summary(serial)
    if status == "safe":
        assert len(serial.parts) > 1  # the case actually splits
        assert all(r is not None for r in distributed.results)


def test_workers_option_starts_and_stops_its_own_cluster(tmp_path):
    problem = load_problem(_problem(tmp_path, constraint="x <= 1.158"))
    options = replace(problem.options, progress=False)
    assert _summary(verify(problem, replace(options, workers=2))) == _summary(verify(problem, options))


def test_the_time_limit_holds_across_workers(tmp_path, client):
    problem = load_problem(_problem(tmp_path, constraint="x <= 1.158"))
    options = replace(problem.options, progress=False, falsify_samples=0, timeout=0.5)
    start = time.perf_counter()
    v = verify(problem, options, client=client)
    assert time.perf_counter() - start < 0.5 + 10  # the limit, plus cancelling and collecting
    assert v.status == "unknown" and "time limit" in v.message
    assert all(s in ("unproven", "unchecked") for _, s, _ in v.parts)
    _no_tasks_left(client)


def _tasks_of_ours(client) -> list[str]:
    """The keys of the nncs tasks the scheduler holds (every one is submitted through
    `nncs.distributed.submit`, as `_prepared_call`)."""

    def ours(dask_scheduler):
        return [str(k) for k in dask_scheduler.tasks if str(k).startswith("_prepared_call")]

    return client.run_on_scheduler(ours)


def _no_tasks_left(client, wait: float = 10.0) -> None:
    """Assert that the scheduler holds no task of ours (cancelled or finished and released) within `wait` s."""
    deadline = time.perf_counter() + wait
    while (left := _tasks_of_ours(client)) and time.perf_counter() < deadline:
        time.sleep(0.1)
    assert not left, f"tasks still on the scheduler: {left[:5]}"


def test_a_worker_killed_mid_task_loses_nothing(tmp_path, client):
    problem = load_problem(_problem(tmp_path, constraint="x <= 1.158"))
    options = replace(problem.options, progress=False)
    serial = verify(problem, options)
    for _ in range(3):  # a run can end before the killer sees a busy worker: then run again
        client.wait_for_workers(2, timeout=60)
        pids = client.run(os.getpid)  # worker address -> process id
        killed = []
        stop = threading.Event()

        def kill_a_busy_worker(pids=pids, killed=killed, stop=stop):
            while not stop.is_set():
                busy = [w for w, tasks in client.processing().items() if tasks and w in pids]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(busy[0])
                    return
                time.sleep(0.005)

        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        try:
            distributed = verify(problem, options, client=client)
        finally:
            stop.set()
            killer.join()
        assert _summary(distributed) == _summary(serial)
        if killed:
            break
    assert killed, "no worker was busy to be killed in three runs"
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it


def test_an_attempt_whose_scattered_problem_was_lost_is_resubmitted(tmp_path, client):
    """A worker that dies holding the only copy of the scattered problem makes Dask cancel the attempts that
    need it (CI saw this); the runner scatters the problem again and reruns them, with the serial outcome."""
    from nncs.distributed import DaskRunner
    from nncs.verify import attempt_part

    problem = load_problem(_problem(tmp_path, constraint="x <= 1.158"))
    options = replace(problem.options, progress=False)
    serial = attempt_part(problem, problem.initial, options, True, None)
    runner = DaskRunner(client, problem, options, None)
    attempt = runner.submit(problem.initial, True)
    lost = runner.problem.future()
    client.cancel([lost], force=True)  # what the scheduler does when the data's last holder is removed
    outcome = runner.outcome(attempt)
    assert runner.resubmitted == 1  # the attempt needed the lost copy: it was started again
    assert lost.status == "cancelled" and runner.problem.future() is not lost
    assert (outcome.ok, outcome.reason) == (serial.ok, serial.reason)
    assert not serial.ok  # the first attempt fails here, so the reason is a real comparison
    del outcome, runner
    _no_tasks_left(client)


def test_a_scattered_value_is_scattered_again_once_its_copy_is_lost(client):
    from nncs.distributed import Scattered

    value = Scattered(client, np.arange(5.0))
    first = value.future()
    assert value.future() is first  # kept while it is there
    client.cancel([first], force=True)
    again = value.future()
    assert again is not first and again.status == "finished"
    np.testing.assert_array_equal(client.submit(np.sum, again).result(), 10.0)


# ------------------------------------------------------------------------------------------ verify-nn
def test_split_property_covers_each_case_box_exactly():
    from nncs.distributed import split_property

    prop = parse_vnnlib(planted_pair(0, d=3)[0].vnnlib)
    case = prop.cases[0]
    subs = split_property(prop, 8)
    assert len(subs) >= 8
    boxes = [s.cases[0] for s in subs]
    volume = sum(np.prod(b.ub - b.lb) for b in boxes)
    assert volume == pytest.approx(np.prod(case.ub - case.lb))
    points = np.random.default_rng(0).uniform(case.lb, case.ub, size=(2000, case.lb.size))
    inside = np.zeros(len(points), dtype=bool)
    for b in boxes:
        assert np.all(b.lb >= case.lb) and np.all(b.ub <= case.ub)
        assert b.unsafe is case.unsafe
        inside |= np.all((points >= b.lb) & (points <= b.ub), axis=1)
    assert inside.all()


@pytest.mark.parametrize("seed", [0, 1])
def test_distributed_verify_nn_gives_the_planted_answers(client, seed):
    from nncs.distributed import verify_property_distributed

    options = VerifyOptions(timeout=60)
    for inst in planted_pair(seed, d=3):
        prop = parse_vnnlib(inst.vnnlib)
        serial = verify_property(inst.net, prop, options)
        distributed = verify_property_distributed(client, inst.net, prop, options, pieces=8)
        assert distributed.result == serial.result == inst.expected
        assert distributed.stats["sub_properties"] >= 8
        if inst.expected == "violated":  # a counterexample checked by an independent forward pass
            x = np.array(distributed.counterexample["x"])
            assert np.all(np.abs(x) <= 1.0) and forward(inst.weights, x)[0, 0] >= 1.0
    _no_tasks_left(client)


ACAS = [("1_1", "prop_3", "holds"), ("1_2", "prop_2", "violated"), ("2_1", "prop_4", None)]


@pytest.mark.parametrize("net,prop,_", ACAS[:2])
def test_distributed_verify_nn_matches_serial_on_acas_xu(client, net, prop, _):
    from nncs.nn.verify import verify_nn_files
    from nncs.problem import benchmarks_dir

    root = benchmarks_dir()
    if root is None or not (root / "acasxu").is_dir():
        pytest.skip("the shared ACAS Xu benchmarks are not here")
    model = root / "acasxu" / "onnx" / f"ACASXU_run2a_{net}_batch_2000.onnx"
    vnnlib = root / "acasxu" / "vnnlib" / f"{prop}.vnnlib"
    expected = {
        (r.split(",")[0], r.split(",")[1]): r.split(",")[3]
        for r in (root / "acasxu" / "ground_truth.csv").read_text().splitlines()[1:]
    }[(f"onnx/{model.name}", f"vnnlib/{vnnlib.name}")]
    serial = verify_nn_files(model, vnnlib, timeout=100)
    distributed = verify_nn_files(model, vnnlib, timeout=100, client=client)
    assert distributed.result == serial.result == expected


# ------------------------------------------------------------------------------------------ --scheduler
@pytest.fixture()
def separate_cluster(tmp_path):
    """A `dask scheduler` and a `dask worker` started as separate processes on 127.0.0.1 (torn down here)."""
    scheduler_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker"]
    env = {**os.environ, "NNCS_JAX_CACHE": str(tmp_path / "cache")}
    procs = [
        subprocess.Popen(
            [
                *dask,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    ]
    try:
        deadline = time.perf_counter() + 60
        while not scheduler_file.exists() and time.perf_counter() < deadline:
            time.sleep(0.1)
        assert scheduler_file.exists(), "the scheduler did not start"
        procs.append(
            subprocess.Popen(
                [
                    *worker,
                    "--scheduler-file",
                    str(scheduler_file),
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        )
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_scheduler_flag_runs_on_a_separately_started_cluster(tmp_path, separate_cluster, capsys):
    assert separate_cluster.startswith("tcp://127.0.0.1:")
    problem = _problem(tmp_path, constraint="x <= 1.158")
    serial = verify(load_problem(problem), replace(load_problem(problem).options, progress=False))
    report = tmp_path / "r.json"
    assert (
        main(["verify", str(problem), "--scheduler", separate_cluster, "--json", str(report), "--quiet"]) == 0
    )
    assert capsys.readouterr().out.strip() == serial.status == "safe"
    import json

    data = json.loads(report.read_text())
    assert [(p["lower"], p["upper"], p["status"]) for p in data["parts"]] == _summary(serial)[2]


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    problem = _problem(tmp_path)
    assert main(["verify", str(problem), "--scheduler", "tcp://127.0.0.1:9", "--quiet"]) == 2
    assert "cannot reach the Dask scheduler 'tcp://127.0.0.1:9'" in capsys.readouterr().err


def test_cancel_drops_every_outstanding_attempt(tmp_path, client):
    from nncs.distributed import DaskRunner

    problem = load_problem(_problem(tmp_path, constraint="x <= 1.158"))
    runner = DaskRunner(client, problem, problem.options, None)
    parts = problem.initial.split(0) + problem.initial.split(1)
    handles = [runner.submit(p, False) for p in parts]
    keys = {h.key for h in handles}
    deadline = time.perf_counter() + 10
    while not keys <= set(_tasks_of_ours(client)) and time.perf_counter() < deadline:
        time.sleep(0.02)
    assert keys <= set(_tasks_of_ours(client))  # the check below sees these tasks
    assert runner.outcome(handles[0]).seconds > 0
    runner.cancel()
    assert all(h.status in ("cancelled", "finished") for h in handles[1:])
    del handles  # the collected attempt is released with its future
    _no_tasks_left(client)


def test_workers_in_a_problem_file_and_their_limit(tmp_path):
    from nncs.problem import ProblemError

    path = _problem(tmp_path)
    path.write_text(path.read_text().replace("substeps = 4", "substeps = 4\nworkers = 2"))
    assert load_problem(path).options.workers == 2
    path.write_text(path.read_text().replace("workers = 2", "workers = 5000"))
    with pytest.raises(ProblemError, match="workers = 5000 exceeds the limit 1024"):
        load_problem(path)


@pytest.mark.parametrize("value", ["0", "-2", "two", "2000"])
def test_bad_worker_counts_and_addresses_exit_2(tmp_path, value, capsys):
    problem = _problem(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["verify", str(problem), "--workers", value])
    assert exc.value.code == 2 and "--workers" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["verify", str(problem), "--scheduler", "not an address"])
    assert exc.value.code == 2 and "--scheduler" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["verify", str(problem), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert "not allowed with" in capsys.readouterr().err


def test_the_dashboard_link_is_printed_only_when_asked(capsys):
    from nncs.distributed import connect

    with connect(workers=1, dashboard=True) as c:
        assert c.dashboard_link.startswith("http://127.0.0.1:")
    assert "dashboard: http://127.0.0.1:" in capsys.readouterr().err
    with connect(workers=1):
        pass
    assert "dashboard" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "name,status", [("acc", "safe"), ("pendulum_wide", "unsafe"), ("tora_relu_tanh", "safe")]
)
def test_bundled_case_studies_give_the_same_verdict_on_workers(client, name, status):
    """None of the bundled case studies splits today (each is proven on one part, or falsified): their
    distributed runs must still agree with the serial ones, counterexample included."""
    from nncs import case_studies
    from nncs.problem import benchmarks_dir

    path = case_studies.path(name)
    root = benchmarks_dir(path.parent)
    uses_shared = any("@benchmarks/" in line.split("#")[0] for line in path.read_text().splitlines())
    if uses_shared and (root is None or not root.is_dir()):
        pytest.skip("the case study's network is in the shared benchmark folder, which is not here")
    problem = load_problem(path)
    options = replace(problem.options, progress=False)
    serial = verify(problem, options)
    assert serial.status == status
    assert _summary(verify(problem, options, client=client)) == _summary(serial)


def test_batch_and_verify_nn_run_on_a_separately_started_cluster(tmp_path, separate_cluster, capsys):
    from nncs.nn import save_network

    bad, good = planted_pair(1, d=3)
    for inst in (bad, good):
        save_network(inst.net, tmp_path / f"{inst.expected}.json")
        (tmp_path / f"{inst.expected}.vnnlib").write_text(inst.vnnlib)
    assert main(["verify-nn", str(tmp_path / "violated.json"), str(tmp_path / "violated.vnnlib"),
                 "--scheduler", separate_cluster, "--quiet"]) == 0  # fmt: skip
    assert capsys.readouterr().out.strip() == "violated"
    listing = tmp_path / "list.csv"
    listing.write_text("violated.json,violated.vnnlib,60\nholds.json,holds.vnnlib,60\n")
    out = tmp_path / "r.csv"
    assert main(["batch", str(listing), "--out", str(out), "--scheduler", separate_cluster, "--quiet"]) == 0
    assert "2 instance(s): holds 1, violated 1" in capsys.readouterr().out
