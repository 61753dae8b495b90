"""The activation registry (nncs/nn/network.py ACTIVATIONS): each class is the one place that knows its name,
ONNX form, shape and relaxation facts; the loaders and reach methods ask it. Known answers by sampling and
by hand."""

import numpy as np
import pytest
from onnx.reference import ReferenceEvaluator

from nncs.nn.io import network_from_onnx_model, network_to_onnx_model
from nncs.nn.io.onnx_io import ACTIVATION_OPS
from nncs.nn.io.text_formats import network_from_json_dict, network_to_json_dict
from nncs.nn.methods import RULES, check_supported, reach
from nncs.nn.methods.relax import lines, parallel
from nncs.nn.network import (
    ACTIVATIONS,
    IDENTITY,
    PIECEWISE_LINEAR,
    S_SHAPED,
    LeakyReLU,
    Linear,
    Network,
    PiecewiseLinear,
    ReLU,
    activation_from_name,
)
from nncs.sets import Box

CLASSES = list(dict.fromkeys(ACTIVATIONS.values()))
INSTANCES = [cls() for cls in CLASSES] + [LeakyReLU(0.3)]


@pytest.mark.parametrize("act", INSTANCES, ids=repr)
def test_every_activation_declares_its_knowledge(act):
    assert act.shape in (IDENTITY, PIECEWISE_LINEAR, S_SHAPED)
    assert ACTIVATIONS[act.name] is type(act)
    x = np.linspace(-6, 6, 1201)
    y = act.forward(x)
    if act.monotone:
        assert np.all(np.diff(y) >= 0)
    if act.shape == PIECEWISE_LINEAR:
        bps, slopes, icepts = act.pieces()
        k = np.searchsorted(bps, x, side="left")
        np.testing.assert_allclose(slopes[k] * x + icepts[k], y, atol=1e-15)
    if act.shape == S_SHAPED:
        h = 1e-6
        np.testing.assert_allclose(
            act.derivative(x), (act.forward(x + h) - act.forward(x - h)) / (2 * h), atol=1e-5
        )  # O(h) at a kink of f' (softsign at 0)
        assert act.derivative(np.array([act.inflection]))[0] >= act.derivative(x).max() - 1e-12


@pytest.mark.parametrize("act", INSTANCES, ids=repr)
def test_every_activation_round_trips_through_json_and_onnx(act):
    rng = np.random.default_rng(0)
    net = Network(
        [Linear(rng.normal(size=(3, 2)), rng.normal(size=3)), act, Linear(rng.normal(size=(1, 3)), [0.1])]
    )
    back = network_from_json_dict(network_to_json_dict(net))
    x = rng.normal(size=(40, 2)) * 3
    np.testing.assert_array_equal(back(x), net(x))
    assert activation_from_name(act.to_spec(), "here") == act
    assert type(act) in ACTIVATION_OPS[act.onnx_op]
    model = network_to_onnx_model(net)
    ref = ReferenceEvaluator(model).run(None, {"input": x})[0]
    tol = 1e-6 if act.parameters else 1e-12  # parameters travel as float32 ONNX attributes (LeakyRelu alpha)
    np.testing.assert_allclose(ref, net(x), rtol=tol, atol=tol)
    np.testing.assert_allclose(network_from_onnx_model(model)(x), net(x), rtol=1e-12, atol=1e-12)


def test_a_name_that_is_taken_is_refused_and_nothing_is_registered():
    before = dict(ACTIVATIONS)
    with pytest.raises(ValueError, match="name 'relu' is taken by ReLU"):

        class Other(PiecewiseLinear):  # noqa: F841
            name = "brandnewname"
            aliases = ("relu",)

    assert ACTIVATIONS == before


def test_a_class_defined_elsewhere_is_supported_everywhere_by_its_declaration_alone():
    """A three-piece monotone piecewise-linear activation (not a clip), defined here: its class is all it takes."""

    class Bent(PiecewiseLinear):
        """0.1 x - 0.9 below -1, x on [-1, 1], 0.2 x + 0.8 above 1."""

        name = "testbent3"

        def pieces(self):
            return np.array([-1.0, 1.0]), np.array([0.1, 1.0, 0.2]), np.array([-0.9, 0.0, 0.8])

        def jax(self, x):
            from nncs._jax import jnp

            return jnp.where(x < -1, 0.1 * x - 0.9, jnp.where(x > 1, 0.2 * x + 0.8, x))

    def bent(x):  # by hand
        return np.where(x < -1, 0.1 * x - 0.9, np.where(x > 1, 0.2 * x + 0.8, x))

    try:
        act = Bent()
        grid = np.linspace(-5, 5, 1001)
        np.testing.assert_allclose(act.forward(grid), bent(grid), atol=1e-15)
        # relaxations: sound on dense grids (the generic piecewise-linear lines)
        rng = np.random.default_rng(1)
        a, b = rng.normal(size=300) * 3, rng.normal(size=300) * 3
        l, u = np.minimum(a, b), np.maximum(a, b)
        x = l[:, None] + (u - l)[:, None] * np.linspace(0, 1, 801)[None, :]
        y = bent(x)
        L = lines(act, l, u)
        for k in range(L.low_s.shape[1]):
            assert np.all(L.low_s[:, k, None] * x + L.low_t[:, k, None] <= y)
            assert np.all(L.up_s[:, k, None] * x + L.up_t[:, k, None] >= y)
        s, t_lo, t_hi = parallel(act, l, u)
        assert np.all(s[:, None] * x + t_lo[:, None] <= y) and np.all(s[:, None] * x + t_hi[:, None] >= y)
        # every method, the sampled image inside the output
        rng = np.random.default_rng(2)
        net = Network(
            [
                Linear(rng.normal(size=(4, 2)), rng.normal(size=4)),
                act,
                Linear(rng.normal(size=(2, 4)), rng.normal(size=2)),
            ]
        )
        box = Box([-1.0, -0.5], [1.5, 1.0])
        xs = np.vstack([box.sample(1000, 3), box.vertices()])
        W1, b1, W2, b2 = net.layers[0].W, net.layers[0].b, net.layers[2].W, net.layers[2].b
        ys = bent(xs @ W1.T + b1) @ W2.T + b2
        for method in ("exact-star", "approx-star", "approx-zono", "abs-dom", "fit"):
            check_supported(net, method)
            out = reach(net, box, method)
            assert np.array([o.contains(ys, tol=1e-7) for o in out]).any(axis=0).all(), method
        assert ("star", Bent, "exact-star") in RULES
        # the JSON format knows it by name; ONNX refuses it by name (no onnx_op)
        back = network_from_json_dict(network_to_json_dict(net))
        np.testing.assert_array_equal(back(xs), net(xs))
        with pytest.raises(ValueError, match="cannot save .*Bent"):
            network_to_onnx_model(net)
    finally:
        del ACTIVATIONS["testbent3"]
        for key in [k for k in RULES if k[1] is Bent]:
            del RULES[key]


def test_alpha_crown_only_where_slopes_in_0_1_are_valid_lower_lines():
    assert [cls.__name__ for cls in CLASSES if cls.alpha_crown] == ["ReLU"]
    assert ReLU.alpha_crown
