"""End-to-end checks of `nncs verify-nn`: holds / violated through a real subprocess, the JSON report, errors."""

import json
import subprocess
import sys

import numpy as np

from nncs.nn import save_network
from nncs.nn.network import Linear, Network, ReLU

PROP = """(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(assert (>= X_0 0))
(assert (<= X_0 1))
(assert (>= X_1 -1))
(assert (<= X_1 1))
(assert (>= Y_0 {threshold}))
"""


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "nncs", "verify-nn", *map(str, args)], capture_output=True, text=True
    )


def _net(tmp_path):
    # y = relu(x0 + x1) + relu(x0 - x1): on [0,1] x [-1,1] its maximum is 2 (at x0 = 1, |x1| = 1... and x1 = 0)
    net = Network(
        [
            Linear(np.array([[1.0, 1.0], [1.0, -1.0]]), [0.0, 0.0]),
            ReLU(),
            Linear(np.array([[1.0, 1.0]]), [0.0]),
        ]
    )
    path = tmp_path / "net.onnx"
    save_network(net, path)
    return path


def test_holds_and_json_report(tmp_path):
    prop = tmp_path / "p.vnnlib"
    prop.write_text(PROP.format(threshold=2.01))
    report = tmp_path / "r.json"
    out = _run(_net(tmp_path), prop, "--timeout", 30, "--json", report)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "holds"
    data = json.loads(report.read_text())
    assert data["result"] == "holds" and data["counterexample"] is None
    assert set(data) >= {"result", "time_s", "counterexample", "method"} and data["time_s"] > 0


def test_violated_prints_a_confirmed_counterexample(tmp_path):
    prop = tmp_path / "p.vnnlib"
    prop.write_text(PROP.format(threshold=1.9))
    report = tmp_path / "r.json"
    out = _run(_net(tmp_path), prop, "--json", report)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "violated"
    cex = json.loads(report.read_text())["counterexample"]
    x = np.array(cex["x"])
    y = np.maximum(x[0] + x[1], 0) + np.maximum(x[0] - x[1], 0)
    assert 0 <= x[0] <= 1 and -1 <= x[1] <= 1 and y >= 1.9
    assert abs(y - cex["y"][0]) < 1e-12


def test_bad_files_exit_2_with_a_message(tmp_path):
    prop = tmp_path / "p.vnnlib"
    prop.write_text(PROP.format(threshold=1.0).replace("(assert (>= Y_0", "(assert (>= Y_0 1 2"))
    out = _run(_net(tmp_path), prop)
    assert out.returncode == 2 and "p.vnnlib: line 8" in out.stderr
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(_net(tmp_path).read_bytes()[:40])
    out = _run(broken, prop)
    assert out.returncode == 2 and "broken.onnx" in out.stderr
