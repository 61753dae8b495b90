"""Softsign, the activation added in one class (nncs/nn/network.py): every reach method, both loaders, and
sound relaxations. Known answers come from independent computation: x / (1 + |x|) by hand in numpy, the
ONNX reference evaluator, finite differences, dense sampling."""

import numpy as np
import onnx
import pytest
import scipy.io
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from nncs.nn.io import load_network, network_from_onnx_model, network_to_onnx_model, save_network
from nncs.nn.io.onnx_io import ACTIVATION_OPS, SUPPORTED_OPS
from nncs.nn.io.text_formats import network_from_json_dict, network_to_json_dict
from nncs.nn.methods import RULES, ReachOptions, check_supported, reach
from nncs.nn.methods.relax import affine_pieces, lines, parallel
from nncs.nn.network import ACTIVATIONS, S_SHAPED, Linear, Network, ReLU, Softsign, activation_from_name
from nncs.sets import Box, Star, Zonotope

N_SAMPLES = 1000


def softsign(x):
    """The reference: x / (1 + |x|), written out here (not the class's forward)."""
    return x / (1.0 + np.abs(x))


def random_softsign_net(seed: int, dims=(2, 5, 4, 2)) -> Network:
    rng = np.random.default_rng(seed)
    layers = []
    for k in range(len(dims) - 1):
        layers.append(Linear(rng.normal(size=(dims[k + 1], dims[k])), rng.normal(size=dims[k + 1]) * 0.5))
        if k < len(dims) - 2:
            layers.append(Softsign())
    return Network(layers)


def by_hand(net: Network, x: np.ndarray) -> np.ndarray:
    """The network evaluated with the hand-written softsign (independent of Softsign.forward)."""
    for lay in net.layers:
        x = x @ lay.W.T + lay.b if isinstance(lay, Linear) else softsign(x)
    return x


def input_box(seed: int) -> Box:
    rng = np.random.default_rng(seed + 100)
    lo = rng.uniform(-1.5, 0.5, 2)
    return Box(lo, lo + rng.uniform(0.2, 2.0, 2))


def samples(box: Box, seed: int) -> np.ndarray:
    return np.vstack([box.sample(N_SAMPLES, seed), box.vertices()])


# ---------------------------------------------------------------------------------------------- the class
def test_softsign_is_registered_once_with_its_knowledge():
    assert ACTIVATIONS["softsign"] is Softsign
    assert Softsign.shape == S_SHAPED and Softsign.monotone and not Softsign.alpha_crown
    assert Softsign.inflection == 0.0
    assert ACTIVATION_OPS["Softsign"] == (Softsign,) and "Softsign" in SUPPORTED_OPS
    x = np.linspace(-50, 50, 10001)
    np.testing.assert_array_equal(Softsign().forward(x), softsign(x))
    from nncs._jax import jnp

    np.testing.assert_allclose(np.asarray(Softsign().jax(jnp.asarray(x))), softsign(x), rtol=1e-15, atol=0)


def test_derivative_matches_finite_differences():
    act = Softsign()
    x = np.concatenate([np.linspace(-30, 30, 6001), [0.0, 1e-9, -1e-9, 1e3, -1e3]])
    h = 1e-6 * (1.0 + np.abs(x))
    fd = (softsign(x + h) - softsign(x - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(x), fd, rtol=1e-6, atol=1e-9)
    # the S-shape contract the relaxations rely on: f' rises up to the inflection and falls after it
    d = act.derivative(np.linspace(-20, 20, 4001))
    assert np.all(np.diff(d[:2001]) >= 0) and np.all(np.diff(d[2000:]) <= 0)
    # convex left of 0, concave right of 0 (second differences of the hand-written function)
    for side in (np.linspace(-20, 0, 2001), np.linspace(0, 20, 2001)):
        second = softsign(side[2:]) - 2 * softsign(side[1:-1]) + softsign(side[:-2])
        assert np.all(second >= -1e-15) if side[0] < 0 else np.all(second <= 1e-15)


# ---------------------------------------------------------------------------------------------- relaxations
def _intervals():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=400) * 4, rng.normal(size=400) * 4
    l, u = np.minimum(a, b), np.maximum(a, b)
    extra = [
        (0.0, 0.0),
        (2.5, 2.5),
        (-3.0, -3.0),
        (-1e10, -1e10),
        (1e-300, 1e-300),  # l = u
        (-1e12, 1e12),
        (-1e100, 1e100),
        (-1e150, 1e150),
        (-1e9, 1e-3),
        (-1e-3, 1e9),  # huge, across 0
        (1e6, 1e9),
        (-1e9, -1e6),
        (1e-12, 1e100),
        (-1e100, -1e-12),  # huge, one side
        (-1e-9, 1e-9),
        (0.0, 1e-12),
        (-1e-12, 0.0),
        (0.0, 5.0),
        (-5.0, 0.0),
        (-0.5, 0.5),
        (-40.0, 0.1),
    ]
    l = np.concatenate([l, [e[0] for e in extra]])
    u = np.concatenate([u, [e[1] for e in extra]])
    return l, u


def _grid(l, u, n=4001):
    t = np.linspace(0.0, 1.0, n)
    x = l[:, None] + (u - l)[:, None] * t[None, :]
    x[:, 0], x[:, -1] = l, u
    # near the ends and the inflection too (a grid step of 1e97 would miss them)
    near = np.stack([np.clip(v, l, u) for v in (0.0, 1e-9, -1e-9, 1.0, -1.0, 1e3, -1e3)], axis=1)
    ends = np.concatenate(
        [
            l[:, None] + (u - l)[:, None] * np.geomspace(1e-12, 1e-3, 50)[None, :],
            u[:, None] - (u - l)[:, None] * np.geomspace(1e-12, 1e-3, 50)[None, :],
        ],
        axis=1,
    )
    return np.clip(np.hstack([x, near, ends]), l[:, None], u[:, None])


def test_lines_parallel_and_best_are_sound_on_dense_grids():
    act = Softsign()
    l, u = _intervals()
    x = _grid(l, u)
    y = softsign(x)
    L = lines(act, l, u)
    assert np.all(np.isfinite(L.low_s)) and np.all(np.isfinite(L.up_t))
    for k in range(L.low_s.shape[1]):
        assert np.all(L.low_s[:, k, None] * x + L.low_t[:, k, None] <= y)
        assert np.all(L.up_s[:, k, None] * x + L.up_t[:, k, None] >= y)
    assert np.all(L.ylo[:, None] <= y) and np.all(L.yhi[:, None] >= y)
    ls, lt, us, ut = L.best(l, u)
    assert np.all(ls[:, None] * x + lt[:, None] <= y) and np.all(us[:, None] * x + ut[:, None] >= y)
    s, t_lo, t_hi = parallel(act, l, u)
    assert np.all(s >= 0)
    assert np.all(s[:, None] * x + t_lo[:, None] <= y) and np.all(s[:, None] * x + t_hi[:, None] >= y)
    assert not affine_pieces(act, l, u)[0].any()  # never treated as affine, not even on a point


def test_relaxation_is_tight_on_a_point_and_within_the_range():
    act = Softsign()
    l = np.array([0.0, 2.5, -3.0])
    L = lines(act, l, l)
    np.testing.assert_allclose(L.ylo, softsign(l), atol=1e-11)
    np.testing.assert_allclose(L.yhi, softsign(l), atol=1e-11)
    l, u = np.array([-1e100]), np.array([1e100])
    L = lines(act, l, u)
    assert L.ylo[0] >= -1.0 - 1e-9 and L.yhi[0] <= 1.0 + 1e-9


# ---------------------------------------------------------------------------------------------- reach methods
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", ["approx-star", "approx-zono", "abs-dom", "fit"])
def test_every_relaxing_method_contains_the_sampled_image(method, seed):
    net = random_softsign_net(seed)
    box = input_box(seed)
    x = samples(box, seed)
    y = by_hand(net, x)
    check_supported(net, method)
    (out,) = reach(net, box, method)
    assert out.dim == 2
    lo, hi = out.bounds()
    assert np.all(y >= lo - 1e-9) and np.all(y <= hi + 1e-9)
    assert out.contains(y, tol=1e-7).all()


@pytest.mark.parametrize("method", ["approx-star", "abs-dom", "fit"])
def test_star_methods_keep_the_input_dependency(method):
    """The joint set [x; y] (input predicate variables first) contains every sampled (x, net(x))."""
    net = random_softsign_net(3)
    S = input_box(3).to_star()
    (T,) = reach(net, S, method)
    m = S.nvars
    assert T.nvars >= m
    joint = Star(
        np.concatenate([S.c, T.c]),
        np.vstack([np.hstack([S.V, np.zeros((S.dim, T.nvars - m))]), T.V]),
        T.C,
        T.d,
        T.lb,
        T.ub,
    )
    x = samples(input_box(3), 3)[:300]
    assert joint.contains(np.hstack([x, by_hand(net, x)]), tol=1e-7).all()


def test_approx_zono_on_a_zonotope_input_and_star_input():
    net = random_softsign_net(4)
    Z = Zonotope(np.array([0.2, -0.3]), np.array([[0.5, 0.2, 0.0], [0.1, -0.4, 0.3]]))
    x = Z.sample(N_SAMPLES, 4)
    for method in ("approx-zono", "approx-star", "abs-dom", "fit"):
        (out,) = reach(net, Z, method)
        assert out.contains(by_hand(net, x), tol=1e-7).all(), method


def test_exact_star_refuses_softsign_clearly_before_any_work():
    net = Network([Linear(np.eye(2), np.zeros(2)), ReLU(), Linear(np.eye(2), np.zeros(2)), Softsign()])
    calls = []
    with pytest.raises(
        ValueError,
        match=r"'exact-star' does not support layer 3 \(Softsign\(\)\): exact-star needs "
        r"piecewise-linear activations \(ReLU, LeakyReLU, SatLin, SatLins\)",
    ):
        reach(
            net, Box([-1.0, -1.0], [1.0, 1.0]), "exact-star", ReachOptions(check_time=lambda: calls.append(1))
        )
    assert calls == []
    assert ("star", Softsign, "exact-star") not in RULES
    for key in (
        ("star", Softsign, "approx-star"),
        ("zono", Softsign, "approx-zono"),
        ("poly", Softsign, "abs-dom"),
    ):
        assert key in RULES


def test_verify_property_bounds_a_softsign_network():
    """bound_objectives (the symbolic bounds behind fit and verify) is sound on Softsign layers."""
    from nncs.nn.verify import bound_objectives

    net = random_softsign_net(5)
    box = input_box(5)
    C = np.array([[1.0, -1.0], [-1.0, 0.0]])
    e = np.zeros(2)
    low, _ = bound_objectives(list(net.layers), box.lb[None], box.ub[None], C, e)
    y = by_hand(net, samples(box, 5))
    assert np.all(y @ C.T - e >= low[0] - 1e-9)


# ---------------------------------------------------------------------------------------------- loaders
def test_onnx_export_round_trip_equals_reference_evaluator(tmp_path):
    net = random_softsign_net(6, dims=(3, 6, 5, 2))
    path = tmp_path / "softsign.onnx"
    save_network(net, path)
    model = onnx.load(path)
    assert [n.op_type for n in model.graph.node].count("Softsign") == 2
    x = np.random.default_rng(6).normal(size=(200, 3)) * 3
    ref = ReferenceEvaluator(model).run(None, {"input": x})[0]
    np.testing.assert_allclose(ref, by_hand(net, x), rtol=1e-12, atol=1e-12)
    back = load_network(path)
    assert back.equals(net)
    np.testing.assert_allclose(back(x), ref, rtol=1e-12, atol=1e-12)


def test_onnx_import_of_a_hand_built_softsign_graph():
    rng = np.random.default_rng(8)
    W1, b1, W2 = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2))
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Softsign", ["hb"], ["s"]),
        helper.make_node("MatMul", ["s", "W2"], ["y"]),
    ]
    inits = [numpy_helper.from_array(v, k) for k, v in (("W1", W1), ("b1", b1), ("W2", W2))]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["N", 2])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    net = network_from_onnx_model(model)
    assert any(isinstance(lay, Softsign) for lay in net.layers)
    x = rng.normal(size=(100, 3)) * 4
    expected = softsign(x @ W1 + b1) @ W2
    np.testing.assert_allclose(net(x), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        ReferenceEvaluator(model).run(None, {"x": x})[0], expected, rtol=1e-12, atol=1e-12
    )
    again = network_from_onnx_model(network_to_onnx_model(net))
    assert again.equals(net)


def test_json_round_trip_and_names(tmp_path):
    net = random_softsign_net(9)
    data = network_to_json_dict(net)
    assert [layer["activation"] for layer in data["layers"]] == ["softsign", "softsign", "linear"]
    path = tmp_path / "net.json"
    save_network(net, path)
    back = load_network(path)
    assert back.equals(net)
    x = np.random.default_rng(9).normal(size=(50, 2))
    np.testing.assert_array_equal(back(x), net(x))
    np.testing.assert_allclose(back(x), by_hand(net, x), rtol=1e-13, atol=1e-13)
    for name in ("Softsign", "soft_sign", "SOFT-SIGN", {"name": "softsign"}):
        assert activation_from_name(name, "here") == Softsign()
    hand = {"layers": [{"W": [[2.0]], "b": [0.5], "activation": "softsign"}]}
    np.testing.assert_allclose(
        network_from_json_dict(hand)(np.array([[1.0], [-3.0]])),
        softsign(np.array([[2.5], [-5.5]])),
        rtol=1e-15,
    )


def test_nnv_mat_file_with_softsign_layers(tmp_path):
    rng = np.random.default_rng(10)
    W = np.empty(2, dtype=object)
    b = np.empty(2, dtype=object)
    acts = np.empty(2, dtype=object)
    W[0], W[1] = rng.normal(size=(4, 2)), rng.normal(size=(1, 4))
    b[0], b[1] = rng.normal(size=(4, 1)), rng.normal(size=(1, 1))
    acts[0], acts[1] = "softsign", "purelin"
    scipy.io.savemat(tmp_path / "n.mat", {"W": W, "b": b, "act_fcns": acts})
    net = load_network(tmp_path / "n.mat")
    x = rng.normal(size=(30, 2))
    expected = softsign(x @ W[0].T + b[0].T) @ W[1].T + b[1].T
    np.testing.assert_allclose(net(x), expected, rtol=1e-13, atol=1e-13)
