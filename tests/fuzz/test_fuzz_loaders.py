"""Fuzzing of every loader: problem TOML, JSON / ONNX / .nnet / .mat networks, VNN-LIB, JSON reports for `nncs plot`.

Property (issue 10): on a mutated or generated file a loader returns a result or raises a ValueError with a
non-empty, short message naming the file, within a time and memory limit (tests/fuzz/mutate.py); the CLI
exits 0 or 2 and never prints a traceback. Seeds are the real files of the repository (case studies,
controllers, the shared benchmarks when present). Runs are derandomised (reproducible); long runs:
NNCS_FUZZ_EXAMPLES=N (examples per loader), NNCS_FUZZ_SEED=S (a different random stream), see run_long.py.
Defects already found on this branch are in mutate.KNOWN_DEFECTS, with one reproducer each in REPRODUCERS.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st

import nncs  # noqa: F401  (float64 JAX)
from nncs.nn.io import load_network, network_to_json_dict
from nncs.problem import benchmarks_dir, load_problem
from nncs.vnnlib import load_vnnlib
from tests.fuzz import mutate as M
from tests.samples import TINY_NNET

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(tempfile.mkdtemp(prefix="nncs_fuzz_"))
_SEED = os.environ.get("NNCS_FUZZ_SEED")


def fuzz_settings(default_examples: int):
    """Bounded, reproducible hypothesis settings (NNCS_FUZZ_EXAMPLES / NNCS_FUZZ_SEED for long runs)."""
    s = settings(
        max_examples=M.max_examples(default_examples),
        deadline=None,
        derandomize=_SEED is None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )

    def wrap(f):
        f = s(f)
        return hseed(int(_SEED))(f) if _SEED is not None else f

    return wrap


def _write(name: str, data: bytes | str) -> Path:
    path = WORK / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


# ---------------------------------------------------------------------------------------------- seeds
def _shared() -> Path | None:
    root = benchmarks_dir(ROOT)
    return root if root is not None and root.is_dir() else None


def _problem_seeds() -> list[dict]:
    """The case-study problem files as dicts, network paths made absolute (so the mutants load from WORK)."""
    seeds = []
    for path in sorted(ROOT.glob("case_studies/**/*.toml")):
        data = tomllib.loads(path.read_text())
        net = data.get("controller", {}).get("network", "")
        if net.startswith("@benchmarks/"):
            if _shared() is None:
                continue
            full = _shared() / net[len("@benchmarks/") :]
        else:
            full = (path.parent / net).resolve()
        if not full.is_file():
            continue
        data["controller"]["network"] = str(full)
        seeds.append(data)
    acc_json = str(ROOT / "controllers" / "acc_controller.onnx")
    seeds.append(
        {  # a symbolic plant with every [plant] key (the case studies use library models)
            "name": "double_integrator",
            "plant": {
                "states": ["x", "v"],
                "inputs": ["u"],
                "dynamics": ["v", "u * k + w - 0.1*sin(x)"],
                "parameters": {"k": 1.5},
                "disturbances": {"w": [-0.01, 0.01]},
                "time": "continuous",
            },
            "controller": {
                "network": acc_json,
                "period": 0.1,
                "inputs": ["x", "v", "x + v", "1", "0.5*x - v"],
                "outputs": ["y0 / 10"],
            },
            "initial": {"lower": [0.0, -0.1], "upper": [0.1, 0.1]},
            "horizon": {"steps": 10},
            "spec": [
                {"always": ["x <= 5", "x >= -5"], "from": 0.0, "to": 1.0},
                {"goal": ["v <= 10"]},
                {"avoid": ["x >= 4", "v >= 4"]},
            ],
            "options": {"preset": "fast", "seed": 0},
        }
    )
    return seeds


PROBLEM_SEEDS = _problem_seeds()
PROBLEM_TEXT_SEEDS = [M.dumps_toml(d).encode() for d in PROBLEM_SEEDS]


def test_toml_emitter_round_trips_every_seed():
    for data in PROBLEM_SEEDS:
        assert tomllib.loads(M.dumps_toml(data)) == data
    odd = {"a": [float("inf"), -0.0, 'q"\\\n\x01', True, [], {}], "b": {"c d": {"e": [1, [2, [3]]]}}}
    back = tomllib.loads(M.dumps_toml(odd))
    assert back["b"] == odd["b"] and back["a"][0] == float("inf") and back["a"][2] == odd["a"][2]


def test_seeds_load():
    """Every seed is a valid input (so the fuzzer starts from files the loaders accept)."""
    assert len(PROBLEM_SEEDS) >= (
        2 if _shared() is None else 3
    )  # the bundled controllers' case studies at least
    for i, text in enumerate(PROBLEM_TEXT_SEEDS):
        load_problem(_write(f"seed{i}.toml", text))
    for suffix, seeds in NETWORK_SEEDS.items():
        for i, data in enumerate(seeds):
            load_network(_write(f"seed{i}{suffix}", data))
    for i, text in enumerate(VNNLIB_SEEDS):
        load_vnnlib(_write(f"seed{i}.vnnlib", text))
    for i, rep in enumerate(REPORT_SEEDS):
        out = WORK / f"seed{i}.png"
        assert _cli_plot(_write(f"seed{i}.json", json.dumps(rep)), out) == (0, "")
        assert out.is_file()


def _check_problem(data: bytes) -> None:
    path = _write("case.toml", data)
    M.report(M.check_outcome("problem", lambda: load_problem(path), path.name), data, ".toml")


@fuzz_settings(60)
@given(
    data=M.mutated_bytes(
        PROBLEM_TEXT_SEEDS,
        tokens=[
            b"[options]\n",
            b"[[spec]]\n",
            b"preset = {}\n",
            b"uper = [1, 2]\n",
            b"steps = 0\n",
            b'"1/0"',
            b"nan",
        ],
    )
)
def test_fuzz_problem_text(data):
    _check_problem(data)


@fuzz_settings(80)
@given(data=st.sampled_from(PROBLEM_SEEDS).flatmap(lambda s: M.mutated_tree(s, deep_max=300)))
def test_fuzz_problem_structure(data):
    if not isinstance(data, dict):
        data = {"name": data}
    try:
        text = M.dumps_toml(data)
    except RecursionError:
        return  # the emitter itself cannot write it (deeper than Python's stack): not an input
    _check_problem(text.encode())


@fuzz_settings(10)
@given(depth=st.integers(1, 100_000), kind=st.sampled_from(["[", "{a = "]))
def test_fuzz_problem_deep_nesting(depth, kind):
    close = "]" if kind == "[" else "}"
    _check_problem(
        (M.dumps_toml(PROBLEM_SEEDS[0]) + "extra = " + kind * depth + "1" + close * depth).encode()
    )


# ---------------------------------------------------------------------------------------------- networks
NNET_TINY = TINY_NNET


def _nnet_text(seed: int, sizes: list[int]) -> str:
    """A .nnet file of a random ReLU network with the given layer sizes (header normalisation included)."""
    rng = np.random.default_rng(seed)
    n_in, n_out = sizes[0], sizes[-1]
    lines = [f"{len(sizes) - 1},{n_in},{n_out},{max(sizes)},", ",".join(map(str, sizes)) + ",", "0,"]
    lines += [
        ",".join(repr(float(v)) for v in row) + ","
        for row in (
            rng.uniform(-2, -1, n_in),
            rng.uniform(1, 2, n_in),
            rng.normal(size=n_in + 1),
            rng.uniform(0.5, 2, n_in + 1),
        )
    ]
    for k in range(len(sizes) - 1):
        W, b = rng.normal(size=(sizes[k + 1], sizes[k])), rng.normal(size=sizes[k + 1])
        lines += [",".join(repr(float(v)) for v in row) + "," for row in W] + [f"{float(v)!r}," for v in b]
    return "\n".join(lines) + "\n"


def _mat_bytes(layers: list[tuple], acts: list | None = None) -> bytes:
    """A .mat file (NNV layout: cell arrays W, b, optional act_fcns) holding `layers` = [(W, b), ...]."""
    import scipy.io

    cw = np.empty((1, len(layers)), dtype=object)
    cb = np.empty((1, len(layers)), dtype=object)
    for i, (W, b) in enumerate(layers):
        cw[0, i], cb[0, i] = W, b
    content = {"W": cw, "b": cb}
    if acts is not None:
        ca = np.empty((1, len(acts)), dtype=object)
        for i, a in enumerate(acts):
            ca[0, i] = a
        content["act_fcns"] = ca
    buf = io.BytesIO()
    scipy.io.savemat(buf, content)
    return buf.getvalue()


def _network_seeds() -> dict[str, list[bytes]]:
    rng = np.random.default_rng(0)
    seeds: dict[str, list[bytes]] = {
        ".json": [
            json.dumps(
                network_to_json_dict(load_network(ROOT / "controllers" / "acc_controller.onnx"))
            ).encode()
        ],
        ".onnx": [(ROOT / "controllers" / "acc_controller.onnx").read_bytes()],
        ".nnet": [NNET_TINY.encode(), _nnet_text(1, [3, 5, 4, 2]).encode()],
        ".mat": [
            _mat_bytes(
                [
                    (rng.normal(size=(4, 3)), rng.normal(size=(4, 1))),
                    (rng.normal(size=(2, 4)), rng.normal(size=(2, 1))),
                ]
            ),
            _mat_bytes(
                [
                    (rng.normal(size=(3, 2)), rng.normal(size=(3, 1))),
                    (rng.normal(size=(1, 3)), rng.normal(size=(1, 1))),
                ],
                ["tanh", "purelin"],
            ),
        ],
    }
    shared = _shared()
    if shared is not None:
        for name in ("closed_loop/networks/single_pendulum.json", "closed_loop/networks/acc_tanh_3x20.json"):
            if (shared / name).is_file():
                seeds[".json"].append((shared / name).read_bytes())
        acas = shared / "acasxu" / "onnx" / "ACASXU_run2a_1_1_batch_2000.onnx"
        if acas.is_file():
            seeds[".onnx"].append(acas.read_bytes())
    return seeds


NETWORK_SEEDS = _network_seeds()


def _check_network(suffix: str, data: bytes) -> None:
    path = _write("case" + suffix, data)
    M.report(M.check_outcome("network" + suffix, lambda: load_network(path), path.name), data, suffix)


@fuzz_settings(40)
@given(
    data=M.mutated_bytes(
        NETWORK_SEEDS[".json"],
        tokens=[
            b'"activation": "tansig"',
            b"[[]]",
            b"[]",
            b"NaN",
            b"Infinity",
            b'{"name": "leakyrelu", "alpha": "x"}',
        ],
    )
)
def test_fuzz_json_network_text(data):
    _check_network(".json", data)


@fuzz_settings(60)
@given(
    data=st.sampled_from(
        [json.loads(s) for s in NETWORK_SEEDS[".json"][:1]]
        + [
            {
                "layers": [
                    {"W": [[1.0, 2.0]], "b": [0.5], "activation": "relu"},
                    {"W": [[1.0]], "b": [0.0], "activation": {"name": "leakyrelu", "alpha": 0.1}},
                ]
            }
        ]
    ).flatmap(lambda s: M.mutated_tree(s, deep_max=500))
)
def test_fuzz_json_network_structure(data):
    _check_network(".json", json.dumps(data, allow_nan=True).encode())


@fuzz_settings(8)
@given(depth=st.integers(1, 200_000), kind=st.sampled_from(["[", '{"a": ']))
def test_fuzz_json_network_deep_nesting(depth, kind):
    close = "]" if kind == "[" else "}"
    _check_network(".json", ('{"layers": ' + kind * depth + "1" + close * depth + "}").encode())


@fuzz_settings(40)
@given(data=M.mutated_bytes(NETWORK_SEEDS[".onnx"]))
def test_fuzz_onnx_bytes(data):
    _check_network(".onnx", data)


@st.composite
def mutated_onnx(draw) -> bytes:
    """A seed ONNX model with a few protobuf-level edits: initializers reshaped, NaN-filled or dropped, an
    operator renamed, a node or attribute dropped, input dimensions set to 0 / -1 / huge, an input renamed."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(draw(st.sampled_from(NETWORK_SEEDS[".onnx"][:1])))
    g = model.graph
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ["init_shape", "init_nan", "init_drop", "op", "node_drop", "attr", "dim", "rename"]
            )
        )
        if op.startswith("init") and g.initializer:
            k = draw(st.integers(0, len(g.initializer) - 1))
            arr = numpy_helper.to_array(g.initializer[k])
            if op == "init_drop":
                del g.initializer[k]
                continue
            if op == "init_nan":
                arr = arr.copy()
                arr.reshape(-1)[draw(st.integers(0, max(0, arr.size - 1)))] = draw(
                    st.sampled_from([np.nan, np.inf, 1e38])
                )
            else:
                arr = arr.reshape(-1)[: draw(st.integers(0, arr.size))]
                arr = arr.reshape(draw(st.sampled_from([(-1,), (1, -1), (-1, 1)]))) if arr.size else arr
            g.initializer[k].CopyFrom(numpy_helper.from_array(arr, g.initializer[k].name))
        elif op == "op" and g.node:
            g.node[draw(st.integers(0, len(g.node) - 1))].op_type = draw(
                st.sampled_from(
                    [
                        "Relu",
                        "Gemm",
                        "MatMul",
                        "Add",
                        "Conv",
                        "Softmax",
                        "Clip",
                        "Reshape",
                        "Flatten",
                        "Div",
                        "Sub",
                        "",
                    ]
                )
            )
        elif op == "node_drop" and g.node:
            del g.node[draw(st.integers(0, len(g.node) - 1))]
        elif op == "attr" and g.node:
            node = g.node[draw(st.integers(0, len(g.node) - 1))]
            if node.attribute:
                del node.attribute[0]
            else:
                node.attribute.append(
                    onnx.helper.make_attribute(
                        draw(st.sampled_from(["transA", "transB", "alpha", "axis"])),
                        draw(st.sampled_from([1, 0, 2.5, -1])),
                    )
                )
        elif op == "dim" and g.input:
            dims = g.input[0].type.tensor_type.shape.dim
            if dims:
                dims[-1].dim_value = draw(st.sampled_from([0, 1, 3, 10**9]))
        elif op == "rename" and g.node:
            node = g.node[draw(st.integers(0, len(g.node) - 1))]
            if node.input:
                node.input[0] = draw(st.sampled_from(["missing", "", node.output[0] if node.output else "x"]))
    return model.SerializeToString()


@fuzz_settings(50)
@given(data=mutated_onnx())
def test_fuzz_onnx_structure(data):
    _check_network(".onnx", data)


@fuzz_settings(80)
@given(data=M.mutated_bytes(NETWORK_SEEDS[".nnet"], tokens=[b"//", b",,", b"0,", b"-3,", b"inf,", b"nan,"]))
def test_fuzz_nnet_text(data):
    _check_network(".nnet", data)


_NASTY_ARRAYS = st.sampled_from(
    [
        np.zeros((0, 3)),
        np.zeros((3, 0)),
        np.zeros((0,)),
        np.array([[np.nan]]),
        np.array([[np.inf, 1.0]]),
        np.ones((2, 2, 2)),
        np.array(["ab"]),
        np.array([[1e308]]),
        np.ones((1, 1)),
        np.ones((3, 1)),
        np.ones((1, 3)),
        np.array([[True]]),
    ]
)


@st.composite
def mat_files(draw) -> bytes:
    """A .mat file with 1-3 layers whose W / b are random, mismatched or nasty arrays, and optional act_fcns."""
    n = draw(st.integers(1, 3))
    dims = [draw(st.integers(1, 4)) for _ in range(n + 1)]
    layers = []
    for k in range(n):
        W = np.ones((dims[k + 1], dims[k])) * 0.5
        b = np.zeros((dims[k + 1], 1))
        if draw(st.integers(0, 2)) == 0:
            W = draw(_NASTY_ARRAYS)
        if draw(st.integers(0, 3)) == 0:
            b = draw(_NASTY_ARRAYS)
        layers.append((W, b))
    acts = None
    if draw(st.booleans()):
        acts = [
            draw(st.sampled_from(["relu", "tanh", "purelin", "logsig", "softmax", "", "poslin", "satlin"]))
            for _ in range(draw(st.integers(max(0, n - 1), n + 1)))
        ]
    try:
        return _mat_bytes(layers, acts)
    except (ValueError, TypeError):  # scipy cannot write it: not an input
        return _mat_bytes(layers[:1])


@fuzz_settings(40)
@given(data=mat_files())
def test_fuzz_mat_structure(data):
    _check_network(".mat", data)


@fuzz_settings(30)
@given(data=M.mutated_bytes(NETWORK_SEEDS[".mat"], max_ops=2))
def test_fuzz_mat_bytes(data):
    _check_network(".mat", data)


# ---------------------------------------------------------------------------------------------- VNN-LIB
def _vnnlib_seeds() -> list[bytes]:
    seeds = [
        b"""; two inputs, two outputs, a disjunction of boxes and of unsafe regions
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)
(assert (or (and (>= X_0 -1) (<= X_0 1) (>= X_1 0) (< X_1 0.5))
            (and (> X_0 1) (<= X_0 2) (>= X_1 -0.5) (<= X_1 0.5))))
(assert (or (>= Y_0 3.5) (and (<= (+ Y_1 (* 2 Y_0)) -2.5) (= Y_0 (- Y_1 1)))))
"""
    ]
    shared = _shared()
    if shared is not None:
        for k in (1, 2, 6):
            p = shared / "acasxu" / "vnnlib" / f"prop_{k}.vnnlib"
            if p.is_file():
                seeds.append(p.read_bytes())
    return seeds


VNNLIB_SEEDS = _vnnlib_seeds()


def _check_vnnlib(data: bytes) -> None:
    path = _write("case.vnnlib", data)
    M.report(M.check_outcome("vnnlib", lambda: load_vnnlib(path), path.name), data, ".vnnlib")


@fuzz_settings(100)
@given(
    data=M.mutated_bytes(
        VNNLIB_SEEDS,
        tokens=[
            b"(and ",
            b"(or ",
            b"(assert ",
            b"X_0",
            b"X_00",
            b"Y_0",
            b"X_7",
            b"(declare-const X_0 Real)",
            b"(declare-const X_00 Real)",
            b"(declare-const X_99 Real)",
            b"(declare-const Y_3 Int)",
            b"(* X_0 X_1)",
            b"(<= X_0 nan)",
            b"(>= Y_0 inf)",
            b"()",
        ],
    )
)
def test_fuzz_vnnlib_text(data):
    _check_vnnlib(data)


@st.composite
def vnnlib_generated(draw) -> bytes:
    """A VNN-LIB file built from declarations, input bounds and an output formula of random shape and size."""
    n_x, n_y = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    idx = st.one_of(st.integers(0, 4), st.sampled_from([10, 1000, 100_000, 10**8]))
    decls = [f"(declare-const X_{i} Real)" for i in range(n_x)] + [
        f"(declare-const Y_{i} Real)" for i in range(n_y)
    ]
    if draw(st.booleans()):
        decls.append(f"(declare-const {draw(st.sampled_from(['X', 'Y']))}_{draw(idx)} Real)")
    num = st.one_of(
        st.sampled_from(["nan", "inf", "-inf", "1e309", "0", "-0", "1e-320"]), st.floats(-10, 10).map(repr)
    )
    lines = decls + [f"(assert (>= X_{i} {draw(num)}))\n(assert (<= X_{i} {draw(num)}))" for i in range(n_x)]

    def formula(depth):
        if depth == 0 or draw(st.integers(0, 2)) == 0:
            return f"({draw(st.sampled_from(['<=', '>=', '<', '>', '=']))} Y_{draw(st.integers(0, n_y))} {draw(num)})"
        head = draw(st.sampled_from(["and", "or"]))
        return f"({head} " + " ".join(formula(depth - 1) for _ in range(draw(st.integers(0, 3)))) + ")"

    lines += [f"(assert {formula(draw(st.integers(0, 4)))})" for _ in range(draw(st.integers(0, 3)))]
    return "\n".join(lines).encode()


@fuzz_settings(60)
@given(data=vnnlib_generated())
def test_fuzz_vnnlib_generated(data):
    _check_vnnlib(data)


_VNN_HEAD = (
    "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
    "(assert (>= X_0 0))\n(assert (<= X_0 1))\n"
)


BOMB_SECONDS = 2.0
"""A size bomb must be refused (or answered) quickly: its checks get this shorter time limit."""


@fuzz_settings(6)
@given(kind=st.sampled_from(["deep", "dnf", "asserts"]), size=st.integers(1, 50_000))
def test_fuzz_vnnlib_size_bombs(kind, size):
    """Deep nesting, an (and (or a b) ...) whose DNF doubles per term, many asserts: refused or answered, bounded."""
    if kind == "deep":
        text = _VNN_HEAD + "(assert " + "(and " * size + "(>= Y_0 1)" + ")" * size + ")\n"
    elif kind == "dnf":
        text = _VNN_HEAD + "(assert (and " + "(or (>= Y_0 1) (>= Y_1 2)) " * (size % 30 + 1) + "))\n"
    else:
        text = _VNN_HEAD + "(assert (or (>= Y_0 1) (>= Y_1 2)))\n" * (size % 5000)
    path = _write("case.vnnlib", text)
    M.report(M.check_outcome("vnnlib", lambda: load_vnnlib(path), path.name, BOMB_SECONDS), text, ".vnnlib")


# ---------------------------------------------------------------------------------------------- JSON reports
REPORT_SEEDS = [
    {
        "name": "di",
        "states": ["x", "v"],
        "verdict": "safe",
        "time_s": 0.5,
        "message": "proven",
        "steps": [
            {"t": 0.1 * k, "lower": [0.1 * k, -0.1], "upper": [0.1 * k + 0.2, 0.1 + 0.01 * k]}
            for k in range(6)
        ],
        "parts": [{"lower": [0.0, -0.1], "upper": [0.1, 0.1], "status": "safe"}],
        "counterexample": None,
        "options": {"seed": 0},
    },
    {
        "name": "di",
        "states": ["x", "v"],
        "verdict": "unsafe",
        "time_s": 0.2,
        "message": "counterexample",
        "steps": [],
        "parts": [],
        "counterexample": {
            "x0": [0.0, 0.1],
            "w": [],
            "trajectory": {
                "t": [0.0, 0.1, 0.2],
                "x": [[0.0, 0.1], [0.01, 0.2], [0.03, 0.3]],
                "u": [[1.0], [1.0]],
            },
            "spec": 0,
            "violation": 0.1,
        },
        "options": {},
    },
]


def _cli_plot(report: Path, out: Path, states: str | None = None) -> tuple[int, str]:
    """Run `nncs plot REPORT --out OUT [--states S]` in-process; return (exit status, stderr)."""
    from nncs.cli import main

    err = io.StringIO()
    argv = ["plot", str(report), "--out", str(out), "--quiet"] + (
        ["--states", states] if states is not None else []
    )
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def _check_plot(data: bytes, states: str | None) -> None:
    import matplotlib.pyplot as plt

    path = _write("report.json", data)
    result: dict = {}

    def call():
        result["code"], result["err"] = _cli_plot(path, WORK / "report.png", states)

    defect = M.check_outcome("cli-plot", call, None, value_error_ok=False)
    plt.close("all")
    if defect is None:
        if "Traceback" in result["err"]:
            defect = M.Defect("cli-plot", "traceback", "-", "-", result["err"][-200:])
        elif result["code"] not in (0, 2):
            defect = M.Defect("cli-plot", "exit-code", str(result["code"]), "-", result["err"][-200:])
        elif result["code"] == 2 and path.name not in result["err"]:
            defect = M.Defect("cli-plot", "no-file-name", "-", "-", result["err"][:200])
    M.report(defect, data, f".json --states {states}")


_STATES = st.one_of(
    st.none(), st.sampled_from(["0", "1", "x", "v,x", "5", "-1", "q", "", ",", "0,0", "nan", "x0"])
)


@fuzz_settings(25)
@given(data=st.sampled_from(REPORT_SEEDS).flatmap(lambda s: M.mutated_tree(s, deep_max=200)), states=_STATES)
def test_fuzz_plot_report_structure(data, states):
    _check_plot(json.dumps(data, allow_nan=True).encode(), states)


@fuzz_settings(15)
@given(data=M.mutated_bytes([json.dumps(r).encode() for r in REPORT_SEEDS]), states=_STATES)
def test_fuzz_plot_report_text(data, states):
    _check_plot(data, states)


# ---------------------------------------------------------------------------------------------- reproducers
# One reproducer per defect found: (signature it shows on this branch, loader label, file suffix, content). A
# reproducer whose signature is in mutate.KNOWN_DEFECTS is a strict xfail: once its fix lands the test passes,
# the strict xfail fails, and the entry is removed from KNOWN_DEFECTS.
_NNET_INF = NNET_TINY.replace("2,2,1,3,", "inf,2,1,3,").encode()
_REPORT_BAD_STEPS = json.dumps({**REPORT_SEEDS[0], "steps": ["a", "b"]}).encode()
_REPORT_NO_X0 = json.dumps(
    {**REPORT_SEEDS[1], "counterexample": {"trajectory": {"t": [0.0], "x": [[0.0, 0.0]]}}}
).encode()
REPRODUCERS: list[tuple[str, str, str, bytes]] = [
    (
        "network.nnet|no-file-name|UnicodeDecodeError|text_formats.py:load_nnet",
        "network.nnet",
        ".nnet",
        b"\xff" + NNET_TINY.encode(),
    ),
    (
        "vnnlib|no-file-name|UnicodeDecodeError|vnnlib.py:load_vnnlib",
        "vnnlib",
        ".vnnlib",
        b"\xff" + VNNLIB_SEEDS[0],
    ),
    (
        "problem|no-file-name|UnicodeDecodeError|problem.py:load_problem",
        "problem",
        ".toml",
        b'name = "\xff"\n',
    ),
    (
        "network.json|no-file-name|UnicodeDecodeError|text_formats.py:load_json",
        "network.json",
        ".json",
        b"\xff{}",
    ),
    ("cli-plot|exception|UnicodeDecodeError|cli.py:_plot_report", "cli-plot", ".json", b"\xff{}"),
    (
        "problem|exception|RecursionError|problem.py:load_problem",
        "problem",
        ".toml",
        b"x = " + b"[" * 5000 + b"]" * 5000,
    ),
    (
        "problem|long-message|ProblemError|problem.py:_get",
        "problem",
        ".toml",
        M.dumps_toml(
            {**PROBLEM_SEEDS[0], "initial": {"lower": M.deep(300, "dict"), "upper": [0.0]}}
        ).encode(),
    ),
    (
        "network.json|exception|RecursionError|text_formats.py:load_json",
        "network.json",
        ".json",
        b'{"layers": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    ),
    (
        "vnnlib|exception|RecursionError|vnnlib.py:<listcomp>",
        "vnnlib",
        ".vnnlib",
        (_VNN_HEAD + "(assert " + "(and " * 5000 + "(>= Y_0 1)" + ")" * 5000 + ")\n").encode(),
    ),
    (
        "vnnlib|timeout|-|-",
        "vnnlib",
        ".vnnlib",
        (_VNN_HEAD + "(assert (and " + "(or (>= Y_0 1) (>= Y_1 2)) " * 24 + "))\n").encode(),
    ),
    ("vnnlib|memory|-|-", "vnnlib", ".vnnlib", (_VNN_HEAD + "(declare-const X_100000000 Real)\n").encode()),
    ("network.nnet|exception|OverflowError|text_formats.py:load_nnet", "network.nnet", ".nnet", _NNET_INF),
    ("cli-plot|exception|TypeError|plot.py:<listcomp>", "cli-plot", ".json", _REPORT_BAD_STEPS),
    ("cli-plot|exception|KeyError|plot.py:plot_report", "cli-plot", ".json", _REPORT_NO_X0),
]


def _reproducer_defect(loader: str, suffix: str, data: bytes):
    if loader == "cli-plot":
        path = _write("repro.json", data)
        res: dict = {}

        def call():
            res["code"], res["err"] = _cli_plot(path, WORK / "repro.png")

        d = M.check_outcome(loader, call, None, value_error_ok=False)
        if d is None and ("Traceback" in res["err"] or res["code"] not in (0, 2)):
            d = M.Defect(loader, "traceback", "-", "-", res["err"][-200:])
        return d
    path = _write("repro" + suffix, data)
    fn = load_problem if suffix == ".toml" else load_vnnlib if suffix == ".vnnlib" else load_network
    return M.check_outcome(loader, lambda: fn(path), path.name)


def _repro_params():
    out = []
    for i, (sig, loader, suffix, data) in enumerate(REPRODUCERS):
        known = any(__import__("fnmatch").fnmatchcase(sig, pat) for pat in M.KNOWN_DEFECTS)
        marks = [pytest.mark.xfail(reason=f"known defect {sig}", strict=True)] if known else []
        out.append(
            pytest.param(loader, suffix, data, id=f"{i}-{sig.split('|')[0]}-{sig.split('|')[1]}", marks=marks)
        )
    return out


@pytest.mark.parametrize("loader,suffix,data", _repro_params())
def test_reproducer(loader, suffix, data):
    defect = _reproducer_defect(loader, suffix, data)
    assert defect is None, f"{defect.signature()}: {defect.message}"
