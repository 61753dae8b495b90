"""Tests of nncs/nn/io: ONNX, .nnet, JSON and .mat loaders, saving round trips, and clear errors."""

import json

import numpy as np
import onnx
import pytest
import scipy.io
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import nncs  # noqa: F401
from nncs.nn import load_network, save_network
from nncs.nn.network import LeakyReLU, Linear, Network, ReLU, SatLin, SatLins, Sigmoid, Tanh
from tests.samples import TINY_NNET

RNG = np.random.default_rng(0)


def _model(nodes, inits, in_shape, out_name, out_shape, opset=13, elem=TensorProto.DOUBLE):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", elem, in_shape)],
        [helper.make_tensor_value_info(out_name, elem, out_shape)],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _every_operator_model():
    W1 = RNG.normal(size=(3, 4))  # MatMul weight (in, out)
    b1 = RNG.normal(size=4)
    W2 = RNG.normal(size=(4, 4))  # Gemm with transB
    b2 = RNG.normal(size=4)
    inits = {
        "mean": RNG.normal(size=(1, 3)), "scale": np.abs(RNG.normal(size=(1, 3))) + 0.5, "W1": W1, "b1": b1,
        "W2": W2, "b2": b2, "mul": RNG.normal(size=4), "lo": np.array(-0.3), "hi": np.array(0.8),
        "shape": np.array([-1, 4], dtype=np.int64), "W3": RNG.normal(size=(4, 2)),
    }  # fmt: skip
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["s"], name="sub"),
        helper.make_node("Div", ["s", "scale"], ["d"], name="div"),
        helper.make_node("Flatten", ["d"], ["f"], axis=1),
        helper.make_node("MatMul", ["f", "W1"], ["m"]),
        helper.make_node("Add", ["m", "b1"], ["a"]),
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("Gemm", ["r", "W2", "b2"], ["g"], transB=1, alpha=0.7, beta=1.3),
        helper.make_node("LeakyRelu", ["g"], ["lr"], alpha=0.2),
        helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.full(4, 0.1), "c")),
        helper.make_node("Add", ["c", "lr"], ["a2"]),
        helper.make_node("Mul", ["a2", "mul"], ["mu"]),
        helper.make_node("Tanh", ["mu"], ["t"]),
        helper.make_node("Reshape", ["t", "shape"], ["rs"]),
        helper.make_node("Clip", ["rs", "lo", "hi"], ["cl"]),
        helper.make_node("Identity", ["cl"], ["id"]),
        helper.make_node("Sigmoid", ["id"], ["sg"]),
        helper.make_node("MatMul", ["sg", "W3"], ["y"]),
    ]
    return _model(nodes, inits, ["N", 3], "y", ["N", 2])


def test_onnx_every_supported_operator_matches_reference_evaluator(tmp_path):
    model = _every_operator_model()
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    net = load_network(path)
    x = RNG.normal(size=(25, 3)) * 2
    expected = ReferenceEvaluator(model).run(None, {"x": x})[0]
    # alpha, beta are float32 attributes: read as the decimals they spell, so agreement is to float32 precision
    np.testing.assert_allclose(net(x), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "lo,hi", [(0.0, 1.0), (-1.0, 1.0), (0.0, np.inf), (-2.0, np.inf), (-np.inf, 0.5), (-0.5, 2.0)]
)
def test_onnx_clip_variants(tmp_path, lo, hi):
    inits = {"lo": np.array(lo), "hi": np.array(hi)}
    model = _model([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], inits, [1, 3], "y", [1, 3])
    onnx.save(model, tmp_path / "c.onnx")
    net = load_network(tmp_path / "c.onnx")
    x = np.linspace(-3, 3, 30).reshape(10, 3)
    np.testing.assert_allclose(net(x), np.clip(x, lo, hi), atol=1e-12)


def test_onnx_unknown_operator_names_operator_and_node(tmp_path):
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="first"),
        helper.make_node("Softmax", ["r"], ["y"], name="smax"),
    ]
    onnx.save(_model(nodes, {}, [1, 3], "y", [1, 3]), tmp_path / "u.onnx")
    with pytest.raises(ValueError, match=r"unsupported ONNX operator 'Softmax' at node 1 'smax'"):
        load_network(tmp_path / "u.onnx")


def test_onnx_truncated_file_names_the_file(tmp_path):
    model = _every_operator_model()
    data = model.SerializeToString()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.onnx"):
        load_network(path)


def test_onnx_shape_mismatch_and_nan_weights(tmp_path):
    inits = {"W1": np.ones((3, 4)), "W2": np.ones((5, 2))}
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h"]), helper.make_node("MatMul", ["h", "W2"], ["y"])]
    onnx.save(_model(nodes, inits, [1, 3], "y", [1, 2]), tmp_path / "s.onnx")
    with pytest.raises(ValueError, match="s.onnx.*layer 1"):
        load_network(tmp_path / "s.onnx")
    W = np.ones((3, 2))
    W[0, 1] = np.nan
    onnx.save(
        _model([helper.make_node("MatMul", ["x", "W"], ["y"])], {"W": W}, [1, 3], "y", [1, 2]),
        tmp_path / "n.onnx",
    )
    with pytest.raises(ValueError, match="NaN"):
        load_network(tmp_path / "n.onnx")


def _all_activation_net():
    layers = []
    dims = [3, 5, 5, 5, 5, 5, 5, 2]
    acts = [ReLU(), LeakyReLU(0.05), Tanh(), Sigmoid(), SatLin(), SatLins()]
    for k in range(len(dims) - 1):
        layers.append(Linear(RNG.normal(size=(dims[k + 1], dims[k])), RNG.normal(size=dims[k + 1])))
        if k < len(acts):
            layers.append(acts[k])
    return Network(layers)


@pytest.mark.parametrize("ext", ["onnx", "json"])
def test_save_and_reload_is_the_same_function(tmp_path, ext):
    net = _all_activation_net()
    path = tmp_path / f"net.{ext}"
    save_network(net, path)
    back = load_network(path)
    x = RNG.normal(size=(40, 3)) * 3
    np.testing.assert_array_equal(back(x), net(x))
    assert back.equals(net)
    if ext == "onnx":  # and an independent ONNX evaluator agrees
        ref = ReferenceEvaluator(onnx.load(path)).run(None, {"input": x})[0]
        np.testing.assert_allclose(
            ref, net(x), rtol=1e-7, atol=1e-9
        )  # LeakyRelu alpha is a float32 attribute


def test_json_shared_networks_match_their_check_fields(shared_benchmarks):
    files = sorted((shared_benchmarks / "closed_loop" / "networks").glob("*.json"))
    assert files
    checked = 0
    for f in files:
        data = json.loads(f.read_text())
        net = load_network(f)
        assert net.n_inputs == len(data["layers"][0]["W"][0])
        if "check" in data:
            y = net(np.array(data["check"]["input"], dtype=float))
            np.testing.assert_allclose(y, data["check"]["output"], rtol=0, atol=1e-9, err_msg=f.name)
            checked += 1
    assert checked >= 8


def test_json_errors_name_the_layer(tmp_path):
    bad = {
        "layers": [
            {"W": [[1, 2]], "b": [0], "activation": "relu"},
            {"W": [[1, 2]], "b": [0], "activation": "linear"},
        ]
    }
    (tmp_path / "a.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match=r"layers\[1\].*expects 2 inputs"):
        load_network(tmp_path / "a.json")
    bad["layers"][1] = {"W": [[1]], "b": [0], "activation": "softplus"}
    (tmp_path / "b.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match=r"layers\[1\].*unknown activation 'softplus'"):
        load_network(tmp_path / "b.json")
    (tmp_path / "c.json").write_text('{"layers": [')
    with pytest.raises(ValueError, match="c.json: not a JSON network: invalid JSON"):
        load_network(tmp_path / "c.json")
    (tmp_path / "d.json").write_text('{"layers": [{"W": [[NaN]], "b": [0]}]}')
    with pytest.raises(ValueError, match="NaN"):
        load_network(tmp_path / "d.json")


def test_acasxu_onnx_files_load_and_match_reference_evaluator(shared_benchmarks):
    folder = shared_benchmarks / "acasxu" / "onnx"
    files = sorted(folder.glob("*.onnx"))
    assert len(files) == 45
    x = RNG.uniform(-0.5, 0.5, size=(8, 5))
    for f in files[::11]:
        net = load_network(f)
        assert (net.n_inputs, net.n_outputs) == (5, 5)
        assert sum(isinstance(lay, ReLU) for lay in net.layers) == 6
        ev = ReferenceEvaluator(onnx.load(f))
        for xi in x[:3]:
            ref = ev.run(None, {"input": xi.astype(np.float32).reshape(1, 1, 1, 5)})[0].reshape(-1)
            np.testing.assert_allclose(net(xi.astype(np.float32).astype(float)), ref, rtol=1e-4, atol=1e-5)


NNET = TINY_NNET


def test_nnet_normalisation_header_and_formula(tmp_path):
    path = tmp_path / "t.nnet"
    path.write_text(NNET)
    net = load_network(path)
    bare = load_network(path, normalize=False)
    clipped = load_network(path, clip_inputs=True)
    W1 = np.array([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.25]])
    b1 = np.array([0.1, 0.2, -0.3])
    W2 = np.array([[1.0, -1.0, 2.0]])
    for x in [np.array([0.3, 5.0]), np.array([-0.9, 1.0]), np.array([3.0, 20.0])]:
        xn = (x - [0.5, 4.0]) / [2.0, 8.0]
        y_bare = W2 @ np.maximum(W1 @ xn + b1, 0) + 0.5
        np.testing.assert_allclose(bare(xn), y_bare, atol=1e-12)
        np.testing.assert_allclose(net(x), y_bare * 3.0 + 2.0, atol=1e-12)
        xc = np.clip(x, [-1.0, 0.0], [1.0, 10.0])
        xcn = (xc - [0.5, 4.0]) / [2.0, 8.0]
        np.testing.assert_allclose(clipped(x), (W2 @ np.maximum(W1 @ xcn + b1, 0) + 0.5) * 3 + 2, atol=1e-12)
    (tmp_path / "short.nnet").write_text(NNET.rsplit("\n", 3)[0])
    with pytest.raises(ValueError, match="short.nnet: file ends"):
        load_network(tmp_path / "short.nnet")
    (tmp_path / "bad.nnet").write_text(NNET.replace("0.5,1.0,", "0.5,x,"))
    with pytest.raises(ValueError, match=r"bad.nnet: line 10"):
        load_network(tmp_path / "bad.nnet")


def test_mat_cell_arrays(tmp_path):
    Ws = [RNG.normal(size=(4, 3)), RNG.normal(size=(2, 4))]
    bs = [RNG.normal(size=(4, 1)), RNG.normal(size=(2, 1))]
    cell_W = np.empty((1, 2), dtype=object)
    cell_b = np.empty((1, 2), dtype=object)
    for i in range(2):
        cell_W[0, i], cell_b[0, i] = Ws[i], bs[i]
    scipy.io.savemat(tmp_path / "n.mat", {"W": cell_W, "b": cell_b})
    net = load_network(tmp_path / "n.mat")
    x = RNG.normal(size=(6, 3))
    expected = (np.maximum(x @ Ws[0].T + bs[0].T, 0)) @ Ws[1].T + bs[1].T
    np.testing.assert_allclose(net(x), expected, rtol=1e-12)
    acts = np.empty((1, 2), dtype=object)
    acts[0, 0], acts[0, 1] = "tansig", "purelin"
    scipy.io.savemat(tmp_path / "bad.mat", {"W": cell_W, "b": cell_b, "act_fcns": acts})
    with pytest.raises(ValueError, match="unknown activation 'tansig'"):
        load_network(tmp_path / "bad.mat")
    acts[0, 0] = "tanh"
    scipy.io.savemat(tmp_path / "t.mat", {"W": cell_W, "b": cell_b, "act_fcns": acts})
    np.testing.assert_allclose(
        load_network(tmp_path / "t.mat")(x), np.tanh(x @ Ws[0].T + bs[0].T) @ Ws[1].T + bs[1].T
    )
    scipy.io.savemat(tmp_path / "nob.mat", {"W": cell_W})
    with pytest.raises(ValueError, match="missing variable 'b'"):
        load_network(tmp_path / "nob.mat")


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="unknown network format '.h5'"):
        load_network(tmp_path / "x.h5")
    with pytest.raises(ValueError, match="no such file"):
        load_network(tmp_path / "x.onnx")
