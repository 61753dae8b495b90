"""End-to-end tests of every `nncs` command (verify, run, list, verify-nn, plot) through real subprocesses,
with their outputs and exit statuses, plus in-process checks of the error messages (suggestions, --quiet)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from nncs.cli import main
from nncs.nn import save_network
from nncs.nn.network import network_from_pairs

PNG = b"\x89PNG\r\n\x1a\n"

TOML = """# a double integrator under a small ReLU controller
name = "di"

[plant]
model = "double_integrator"

[controller]
network = "ctrl.json"
period = 0.2

[initial]
lower = [0.9, -0.1]
upper = [1.1, 0.1]

[horizon]
steps = 5

[[spec]]
always = ["{constraint}"]

[options]
substeps = 4
falsify_samples = 16
falsify_steps = 2
"""


def nncs_cmd(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "nncs", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def _problem(tmp_path, constraint="x <= 1.5", name="di.toml"):
    rng = np.random.default_rng(0)
    net = network_from_pairs(
        [
            (rng.normal(size=(4, 2)) * 0.3, np.zeros(4), "relu"),
            (rng.normal(size=(1, 4)) * 0.3, np.zeros(1), "identity"),
        ]
    )
    save_network(net, tmp_path / "ctrl.json")
    path = tmp_path / name
    path.write_text(TOML.format(constraint=constraint))
    return path


@pytest.fixture(scope="module")
def safe_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    problem = _problem(tmp)
    report, png = tmp / "r.json", tmp / "r.png"
    out = nncs_cmd("verify", problem, "--json", report, "--plot", png)
    return tmp, problem, report, png, out


def test_verify_safe_writes_report_and_plot(safe_run):
    tmp, problem, report, png, out = safe_run
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "safe"
    assert lines[1].startswith("di: proven") and "time" in lines[1]
    assert f"report written to {report}" in out.stdout and f"plot written to {png}" in out.stdout
    data = json.loads(report.read_text())
    assert data["verdict"] == "safe" and data["name"] == "di" and data["states"] == ["x", "v"]
    assert len(data["steps"]) == 6 and data["counterexample"] is None
    np.testing.assert_allclose(
        data["steps"][0]["lower"], [0.9, -0.1]
    )  # t = 0: the initial box (outward-rounded)
    assert data["steps"][0]["lower"][0] <= 0.9
    assert png.read_bytes()[:8] == PNG


def test_verify_unsafe_and_quiet(tmp_path):
    problem = _problem(tmp_path, "x <= 1.0")
    report = tmp_path / "u.json"
    out = nncs_cmd("verify", problem, "--json", report, "--quiet")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "unsafe\n"  # --quiet: the verdict only, no progress bars
    assert out.stderr == ""
    data = json.loads(report.read_text())
    assert data["verdict"] == "unsafe"
    assert max(x[0] for x in data["counterexample"]["trajectory"]["x"]) > 1.0
    png = tmp_path / "u.png"
    out = nncs_cmd("plot", report, "--out", png, "--states", "x")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"plot written to {png}" and png.read_bytes()[:8] == PNG


def test_plot_command_default_out_and_quiet(safe_run):
    tmp, problem, report, png, _ = safe_run
    out = nncs_cmd("plot", report, "--quiet")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert (tmp / "r.png").read_bytes()[:8] == PNG


def test_plot_command_errors(tmp_path, capsys):
    out = nncs_cmd("plot", tmp_path / "nope.json")
    assert out.returncode == 2 and "no such report file" in out.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert main(["plot", str(bad)]) == 2
    assert "not a JSON report" in capsys.readouterr().err
    bad.write_text('{"a": 1}')
    assert main(["plot", str(bad)]) == 2
    assert "not an nncs report" in capsys.readouterr().err


def test_list_and_quiet():
    out = nncs_cmd("list")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].startswith("acc ") and "ACC" in out.stdout
    out = nncs_cmd("list", "--quiet")
    names = out.stdout.split()
    assert out.returncode == 0 and "acc" in names and "tora" in names and all(" " not in n for n in names)


def test_run_acc_quiet_json(tmp_path):
    out = nncs_cmd("run", "acc", "--quiet", "--no-plot", "--json", tmp_path / "acc.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "safe\n"
    assert not (tmp_path / "acc.png").exists()
    assert json.loads((tmp_path / "acc.json").read_text())["states"][3] == "x_ego"


def test_run_typo_suggests_names():
    out = nncs_cmd("run", "tora_sigmoidd")
    assert out.returncode == 2
    assert "unknown case study 'tora_sigmoidd'" in out.stderr and "did you mean tora_sigmoid" in out.stderr


def test_verify_nn_quiet(tmp_path):
    net = network_from_pairs(
        [(np.array([[1.0, 1.0]]), np.zeros(1), "relu"), (np.array([[1.0]]), np.zeros(1), "identity")]
    )
    save_network(net, tmp_path / "n.onnx")
    prop = tmp_path / "p.vnnlib"
    prop.write_text(
        "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
        "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 1))\n"
        "(assert (>= Y_0 2.5))\n"
    )
    out = nncs_cmd("verify-nn", tmp_path / "n.onnx", prop, "--quiet", "--timeout", 30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "holds\n"


# -- error messages, in process (fast) ------------------------------------------------------------------


def test_verify_missing_file_suggests_near_names(tmp_path, capsys):
    _problem(tmp_path, name="double.toml")
    assert main(["verify", str(tmp_path / "doubel.toml")]) == 2
    err = capsys.readouterr().err
    assert "no such problem file" in err and "did you mean" in err and "double.toml" in err


def test_verify_case_study_name_points_to_run(capsys):
    assert main(["verify", "acc"]) == 2
    assert "nncs run acc" in capsys.readouterr().err


def test_verify_folder_and_bad_problem(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    bad = _problem(tmp_path)
    bad.write_text(bad.read_text().replace("steps = 5", "stepz = 5"))
    assert main(["verify", str(bad)]) == 2
    assert "horizon" in capsys.readouterr().err


def test_verify_nn_missing_files(tmp_path, capsys):
    (tmp_path / "model.onnx").write_bytes(b"")
    assert main(["verify-nn", str(tmp_path / "modle.onnx"), str(tmp_path / "p.vnnlib")]) == 2
    err = capsys.readouterr().err
    assert "no such network file" in err and "model.onnx" in err
    assert main(["verify-nn", str(tmp_path / "model.onnx"), str(tmp_path / "p.vnnlib")]) == 2
    assert "no such property file" in capsys.readouterr().err


def test_plot_bad_states(safe_run, capsys):
    _, _, report, _, _ = safe_run
    assert main(["plot", str(report), "--states", "z"]) == 2
    assert "unknown state 'z'" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("verify", "run", "list", "verify-nn", "plot"):
        assert command in out
