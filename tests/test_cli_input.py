"""Bad input to the `nncs` command: every --timeout value checked, output paths checked before any work, --plot
writing exactly the file it reports, malformed JSON reports for `nncs plot`, and verify-nn's .nnet flag."""

import argparse
import json
import math

import numpy as np
import pytest

import nncs.nn.verify
from nncs.cli import main, positive_seconds
from tests.test_cli_commands import PNG, _problem

GOOD_REPORT = {
    "name": "r",
    "verdict": "safe",
    "states": ["x", "v"],
    "steps": [
        {"t": 0.0, "lower": [0.0, 1.0], "upper": [1.0, 2.0]},
        {"t": 0.1, "lower": [0.5, 1.0], "upper": [1.5, 2.5]},
    ],
    "counterexample": None,
}


@pytest.mark.parametrize("text", ["-1", "0", "nan", "inf", "-inf", "abc", ""])
def test_timeout_values_that_are_not_positive_finite_seconds_are_refused(text, capsys, tmp_path):
    problem = _problem(tmp_path)
    for argv in (
        ["verify", str(problem), "--timeout", text],
        ["run", "acc", "--timeout", text],
        ["verify-nn", "m.onnx", "p.vnnlib", "--timeout", text],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        assert "--timeout" in capsys.readouterr().err


def test_positive_seconds_accepts_positive_finite_numbers():
    assert positive_seconds("2.5") == 2.5
    assert positive_seconds("1e-3") == 1e-3
    for bad in ("0", "-0.0", "nan", "1e999"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_seconds(bad)
    assert not math.isnan(positive_seconds("7"))


def test_verify_timeout_gives_unknown_with_exit_0_and_the_proven_parts(tmp_path, capsys):
    problem = _problem(tmp_path)
    report = tmp_path / "r.json"
    # the limit strikes during the first falsification batch or the first proof: never "safe"
    assert main(["verify", str(problem), "--timeout", "1e-4", "--json", str(report), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == "unknown"
    data = json.loads(report.read_text())
    assert data["verdict"] == "unknown" and "time limit" in data["message"]
    assert data["options"]["timeout"] == 1e-4
    assert all(p["status"] in ("unproven", "unchecked") for p in data["parts"])


@pytest.mark.parametrize("flag", ["--json", "--plot"])
def test_outputs_in_a_missing_folder_or_onto_a_folder_are_refused_before_running(flag, tmp_path, capsys):
    problem = _problem(tmp_path)
    assert main(["verify", str(problem), flag, str(tmp_path / "no" / "such" / "r.out")]) == 2
    err = capsys.readouterr().err
    assert flag in err and "does not exist" in err
    assert main(["verify", str(problem), flag, str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_verify_nn_json_into_a_missing_folder_is_refused(tmp_path, capsys):
    model, prop = tmp_path / "m.onnx", tmp_path / "p.vnnlib"
    model.write_bytes(b"x")
    prop.write_text("(declare-const X_0 Real)")
    assert main(["verify-nn", str(model), str(prop), "--json", str(tmp_path / "missing" / "r.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_plot_flag_without_suffix_writes_exactly_the_reported_file(tmp_path, capsys):
    problem = _problem(tmp_path)
    target = tmp_path / "picture"
    assert main(["verify", str(problem), "--plot", str(target)]) == 0
    assert f"plot written to {target}" in capsys.readouterr().out
    assert target.read_bytes()[:8] == PNG
    assert not (tmp_path / "picture.png").exists()


def test_no_nnet_normalize_is_passed_to_verify_nn_files_and_documented(tmp_path, monkeypatch, capsys):
    calls = []

    class Report:
        result, counterexample, time_s = "holds", None, 0.0

    def fake(model, prop, **kw):
        calls.append(kw)
        return Report()

    monkeypatch.setattr(nncs.nn.verify, "verify_nn_files", fake)
    model, prop = tmp_path / "m.nnet", tmp_path / "p.vnnlib"
    model.write_text("x")
    prop.write_text("x")
    assert main(["verify-nn", str(model), str(prop)]) == 0
    assert main(["verify-nn", str(model), str(prop), "--no-nnet-normalize"]) == 0
    assert "nnet_normalize" not in calls[0] and calls[1]["nnet_normalize"] is False
    with pytest.raises(SystemExit):
        main(["verify-nn", "--help"])
    assert "header normalisation" in capsys.readouterr().out


def _mutations():
    def edit(fn):
        r = json.loads(json.dumps(GOOD_REPORT))
        fn(r)
        return r

    yield "top level not an object", [1, 2]
    yield "steps missing", {"verdict": "safe"}
    yield "steps not a list", edit(lambda r: r.update(steps="abc"))
    yield "a step not an object", edit(lambda r: r["steps"].__setitem__(0, "step"))
    yield "lower missing", edit(lambda r: r["steps"][0].pop("lower"))
    yield "lower a string", edit(lambda r: r["steps"][0].update(lower="0"))
    yield "upper with a dict", edit(lambda r: r["steps"][1].update(upper=[{"a": 1}, 2.0]))
    yield "t a list", edit(lambda r: r["steps"][0].update(t=[0.0]))
    yield "lengths disagree", edit(lambda r: r["steps"][1].update(lower=[0.5], upper=[1.5]))
    yield "lengths disagree with states", edit(lambda r: r.update(states=["x"]))
    yield "states not names", edit(lambda r: r.update(states=[1, 2]))
    yield "verdict not a string", edit(lambda r: r.update(verdict=3))
    yield "lower above upper", edit(lambda r: r["steps"][0].update(lower=[5.0, 1.0]))
    yield (
        "counterexample without x0",
        edit(lambda r: r.update(counterexample={"trajectory": {"t": [], "x": []}})),
    )
    yield (
        "trajectory rows disagree",
        edit(
            lambda r: r.update(
                counterexample={"x0": [0.0, 1.0], "trajectory": {"t": [0.0, 0.1], "x": [[0.0, 1.0]]}}
            )
        ),
    )
    yield (
        "trajectory row too short",
        edit(lambda r: r.update(counterexample={"x0": [0.0, 1.0], "trajectory": {"t": [0.0], "x": [[0.0]]}})),
    )
    yield "nothing to draw", edit(lambda r: r.update(steps=[]))


@pytest.mark.parametrize("label,report", list(_mutations()), ids=[m[0] for m in _mutations()])
def test_malformed_reports_are_a_clear_error_naming_the_file(label, report, tmp_path, capsys):
    path = tmp_path / "rep.json"
    path.write_text(json.dumps(report))
    assert main(["plot", str(path), "--out", str(tmp_path / "o.png")]) == 2, label
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err and len(err) < 400
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize(
    "content",
    [
        b'\xff\xfe{"verdict": 1}',
        b"[" * 100000 + b"]" * 100000,
        b'{"verdict": "safe", "steps": [{"t": NaN, "lower": [0], "upper": [1]}]}',
    ],
)
def test_unreadable_reports_are_a_clear_error(content, tmp_path, capsys):
    path = tmp_path / "rep.json"
    path.write_bytes(content)
    assert main(["plot", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and len(err) < 400


def test_a_well_formed_report_still_plots_and_bad_states_are_refused(tmp_path, capsys):
    path = tmp_path / "rep.json"
    path.write_text(json.dumps(GOOD_REPORT))
    assert main(["plot", str(path), "--out", str(tmp_path / "o.png"), "--states", "v,0"]) == 0
    assert (tmp_path / "o.png").read_bytes()[:8] == PNG
    for states in ("w", "7", "x,,v"):
        assert main(["plot", str(path), "--out", str(tmp_path / "p.png"), "--states", states]) == 2
        assert "Traceback" not in capsys.readouterr().err
    assert np.isfinite(GOOD_REPORT["steps"][0]["t"])


def _verification_must_not_start(monkeypatch):
    """Make every verification entry point fail the test if it is reached."""
    import importlib

    verify_module = importlib.import_module("nncs.verify")  # `nncs.verify` is also the re-exported function

    def never(*args, **kwargs):
        raise AssertionError("the verification started before the output paths were checked")

    monkeypatch.setattr(verify_module, "verify", never)
    monkeypatch.setattr(nncs.nn.verify, "verify_nn_files", never)


@pytest.mark.parametrize("flag", ["--json", "--plot"])
def test_bad_output_paths_are_refused_before_the_verification_starts(flag, tmp_path, monkeypatch, capsys):
    _verification_must_not_start(monkeypatch)
    problem = _problem(tmp_path)
    missing = str(tmp_path / "no" / "r.out")
    assert main(["verify", str(problem), flag, missing]) == 2
    assert f"{flag} {missing!r}: folder" in capsys.readouterr().err
    assert main(["run", "acc", flag, missing]) == 2
    assert "does not exist" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os

        if not os.access(locked, os.W_OK):  # root may write anywhere: then only the folder check applies
            assert main(["verify", str(problem), flag, str(locked / "r.out")]) == 2
            assert "cannot write there" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_verify_nn_bad_output_is_refused_before_the_check_starts(tmp_path, monkeypatch, capsys):
    _verification_must_not_start(monkeypatch)
    model, prop = tmp_path / "m.onnx", tmp_path / "p.vnnlib"
    model.write_bytes(b"x")
    prop.write_text("(declare-const X_0 Real)")
    assert main(["verify-nn", str(model), str(prop), "--json", str(tmp_path / "no" / "r.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_case_study_names_are_suggested_ignoring_case(capsys):
    assert main(["run", "ACC", "--no-plot"]) == 2
    assert "unknown case study 'ACC'; did you mean acc" in capsys.readouterr().err
    assert main(["verify", "ACC"]) == 2
    assert "'acc' is a bundled case study: run `nncs run acc`" in capsys.readouterr().err


def test_plot_suggests_only_reports_it_can_draw(tmp_path, capsys):
    (tmp_path / "report.json").write_text(json.dumps(GOOD_REPORT))
    (tmp_path / "reports.json").write_text(json.dumps({"not": "a report"}))
    (tmp_path / "report1.json").write_text("{ broken")
    assert main(["plot", str(tmp_path / "reportt.json")]) == 2
    err = capsys.readouterr().err
    assert "no such report file" in err and str(tmp_path / "report.json") in err
    assert "reports.json" not in err and "report1.json" not in err


def test_a_misspelt_key_is_named_by_the_command_with_exit_2(tmp_path, capsys):
    problem = _problem(tmp_path)
    problem.write_text(problem.read_text().replace("steps = 5", "step = 5"))
    assert main(["verify", str(problem)]) == 2
    err = capsys.readouterr().err
    assert "[horizon]: unknown key 'step'; did you mean 'steps'?" in err and "missing key" not in err
