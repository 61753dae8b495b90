"""Every run bounded (issue 10): options.timeout in verify / reach / falsify, size limits refused up front, and
network methods that cannot handle a controller's layers refused before any work."""

import dataclasses
import importlib
import time
import tomllib

import numpy as np
import pytest

import nncs
from nncs import case_studies
from nncs.loop import Options, reach
from nncs.loop.falsify import falsify
from nncs.loop.options import (
    MAX_FALSIFY_SAMPLES,
    MAX_SPLIT_BUDGET,
    MAX_SUBSTEPS,
    TimeLimitReached,
    check_run_limits,
)
from nncs.problem import benchmarks_dir, parse_problem

verify_module = importlib.import_module("nncs.verify")  # the module (nncs.verify is also the function)

GENEROUS = 60.0  # seconds: a run past this means a time check is missing (the limits in the tests are ~1-2 s)


def load_variant(name, scale=1.0, **options):
    """A case study with its initial box scaled about its centre and extra [options]."""
    path = case_studies.path(name)
    text = path.read_text()
    shared = benchmarks_dir(path.parent)
    if "@benchmarks/" in text and (shared is None or not shared.is_dir()):
        pytest.skip(f"{name} needs the shared benchmark data (set NNCS_SHARED_BENCHMARKS)")
    data = tomllib.loads(text)
    lo, hi = np.array(data["initial"]["lower"]), np.array(data["initial"]["upper"])
    c, r = (lo + hi) / 2, (hi - lo) / 2 * scale
    data["initial"]["lower"], data["initial"]["upper"] = (c - r).tolist(), (c + r).tolist()
    data.setdefault("options", {}).update({"progress": False, **options})
    return parse_problem(data, str(path), path.parent)


def box_volume(b):
    return float(np.prod(b.ub - b.lb))


def assert_parts_partition(problem, verdict):
    """The reported parts tile the initial set (every state is in some part: none is silently dropped)."""
    parts = [b for b, _, _ in verdict.parts]
    assert parts, "the report must list the parts"
    assert all(
        problem.initial.contains_box(b)
        if hasattr(problem.initial, "contains_box")
        else (np.all(b.lb >= problem.initial.lb - 1e-12) and np.all(b.ub <= problem.initial.ub + 1e-12))
        for b in parts
    )
    assert sum(box_volume(b) for b in parts) == pytest.approx(box_volume(problem.initial), rel=1e-9)


# ------------------------------------------------------------------------------------------ verify
def test_verify_timeout_gives_unknown_with_the_parts(tmp_path):
    # TORA with a 3x wider initial set needs ~13 parts and > 40 s to (mostly) prove; a 1.5 s limit stops it
    problem = load_variant("tora", 3.0, timeout=1.5, split_budget=500)
    t = time.perf_counter()
    verdict = nncs.verify(problem)
    elapsed = time.perf_counter() - t
    assert verdict.status == "unknown"
    assert "time limit" in verdict.message
    assert elapsed < GENEROUS
    assert {s for _, s, _ in verdict.parts} <= {"proven", "unproven", "unchecked"}
    assert_parts_partition(problem, verdict)
    report = verdict.to_dict()
    assert report["verdict"] == "unknown" and report["options"]["timeout"] == 1.5
    assert len(report["parts"]) == len(verdict.parts)
    verdict.write_json(tmp_path / "r.json")  # the report is writable as JSON


def test_timeout_keeps_the_parts_proven_before_it(monkeypatch):
    # deterministic: the whole set's proof is made to fail (so verify splits), the first half is proven for
    # real, and the time limit is made to strike during the second half's proof
    problem = load_variant("acc", 1.0, timeout=1000.0)
    real = verify_module._prove
    calls = []

    def fake(problem_, part, options, deadline=None):
        calls.append(part)
        if len(calls) == 1:
            return False, None, "forced failure of the whole set", options
        if len(calls) == 2:
            return real(problem_, part, options, deadline)
        raise TimeLimitReached("the time limit of 1000 s was reached")

    monkeypatch.setattr(verify_module, "_prove", fake)
    verdict = nncs.verify(problem)
    assert verdict.status == "unknown" and "time limit" in verdict.message
    assert "forced failure of the whole set" in verdict.message  # the last failed proof says why
    statuses = [s for _, s, _ in verdict.parts]
    assert statuses == ["proven", "unproven"], statuses
    assert verdict.parts[0][2] is not None and verdict.parts[0][2].complete
    assert_parts_partition(problem, verdict)
    report = verdict.to_dict()
    assert [p["status"] for p in report["parts"]] == ["proven", "unproven"]
    assert len(report["steps"]) == problem.steps + 1  # the proven part's bounds are in the report


def test_timeout_never_turns_into_safe():
    # a problem verify proves quickly without a limit: with a limit too short for it, never "safe"
    problem = load_variant("tora", 1.0)
    assert nncs.verify(problem).status == "safe"
    short = nncs.verify(problem, dataclasses.replace(problem.options, timeout=0.05))
    assert short.status == "unknown" and "time limit" in short.message


# ------------------------------------------------------------------------------------------- reach
def test_reach_with_timeout_stops_with_a_partial_result():
    problem = load_variant("tora", 3.0)
    opts = dataclasses.replace(problem.options, timeout=1.0, nn_method="fit")
    t = time.perf_counter()
    result = reach(problem.system, problem.initial, 2000, opts)
    assert time.perf_counter() - t < GENEROUS
    assert not result.complete and result.stopped == "timeout"
    assert "time limit" in result.message
    assert len(result.periods) < 2000
    # what was computed is consistent: the final sets are those entering the first period not computed
    assert len(result.final) >= 1
    if result.periods:
        assert result.sampling_bounds()[-1][0] == pytest.approx(result.periods[-1].t1)


def test_reach_callback_stop_is_told_apart_from_timeout():
    problem = load_variant("tora", 1.0)
    result = reach(problem.system, problem.initial, 3, problem.options, on_segment=lambda a, b, s: False)
    assert not result.complete and result.stopped == "callback"


def test_reach_refuses_too_many_steps_and_substeps():
    problem = load_variant("tora", 1.0)
    with pytest.raises(ValueError, match="1000000"):
        reach(problem.system, problem.initial, 10**6 + 1, problem.options)
    tiny = dataclasses.replace(problem.options, time_step=problem.system.period / (MAX_SUBSTEPS * 10))
    with pytest.raises(ValueError, match=str(MAX_SUBSTEPS)):
        reach(problem.system, problem.initial, 1, tiny)


# ----------------------------------------------------------------------------------------- falsify
def test_falsify_timeout_raises_time_limit():
    problem = load_variant("tora", 1.0)
    opts = dataclasses.replace(problem.options, falsify_samples=200_000, falsify_steps=100_000, timeout=0.5)
    t = time.perf_counter()
    with pytest.raises(TimeLimitReached):
        falsify(problem.system, problem.initial, problem.steps, problem.specs, opts)
    assert time.perf_counter() - t < GENEROUS


def test_falsification_batch_that_cannot_fit_is_refused_before_any_work(monkeypatch):
    problem = load_variant("tora", 1.0)
    big = dataclasses.replace(problem.options, falsify_samples=MAX_FALSIFY_SAMPLES)  # 1e6 x 201 x 4 floats
    monkeypatch.setattr(verify_module, "falsify", lambda *a, **k: pytest.fail("falsify must not start"))
    with pytest.raises(ValueError, match="floats"):
        nncs.verify(problem, big)


# ----------------------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    "field, value",
    [
        ("substeps", MAX_SUBSTEPS + 1),
        ("falsify_samples", MAX_FALSIFY_SAMPLES + 1),
        ("falsify_steps", 100_001),
        ("split_budget", MAX_SPLIT_BUDGET + 1),
        ("max_sets", 10**6 + 1),
        ("max_star_vars", 100_001),
        ("fit_max_boxes", 10**6 + 1),
        ("zonotope_order", 10_001.0),
    ],
)
def test_options_sizes_beyond_the_limits_are_refused_with_the_limit(field, value):
    with pytest.raises(ValueError, match=rf"options\.{field}.*limit"):
        Options(**{field: value})
    with pytest.raises(ValueError, match=field):
        Options.from_dict({field: value})


@pytest.mark.parametrize("value", [-1.0, 0.0, float("nan"), float("inf"), "5", True])
def test_options_bad_timeout_is_refused(value):
    with pytest.raises(ValueError, match="timeout"):
        Options(timeout=value)


def test_options_limits_leave_real_use_alone():
    Options(
        substeps=MAX_SUBSTEPS,
        falsify_samples=MAX_FALSIFY_SAMPLES,
        split_budget=MAX_SPLIT_BUDGET,
        timeout=1e-3,
    )
    check_run_limits(Options(), 4, 1.0, 500, True, falsify=True)


def test_check_run_limits_time_step_against_period():
    check_run_limits(Options(time_step=1e-4), 4, 1.0, 10)  # exactly 10_000 sub-intervals
    with pytest.raises(ValueError, match="sub-intervals"):
        check_run_limits(Options(time_step=1e-5), 4, 1.0, 10)
    check_run_limits(Options(time_step=1e-9), 4, 1.0, 10, continuous=False)  # discrete plants: no sub-steps


# -------------------------------------------------------------------------- unsupported nn methods
def test_exact_star_on_a_tanh_controller_is_refused_up_front(monkeypatch):
    problem = load_variant("tora_relu_tanh", 1.0)  # ReLU hidden layers, tanh output
    opts = dataclasses.replace(problem.options, nn_method="exact-star")
    with pytest.raises(ValueError, match=r"exact-star.*layer \d+ \(Tanh"):
        reach(problem.system, problem.initial, problem.steps, opts)
    monkeypatch.setattr(verify_module, "falsify", lambda *a, **k: pytest.fail("falsify must not start"))
    with pytest.raises(ValueError, match=r"exact-star.*Tanh"):
        nncs.verify(problem, opts)
