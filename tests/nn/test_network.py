"""Tests of nncs/nn/network.py: validation, numpy and JAX forward passes, composition and slicing."""

import jax
import numpy as np
import pytest

import nncs  # noqa: F401  (float64 JAX)
from nncs.nn.network import (
    Identity,
    LeakyReLU,
    Linear,
    Network,
    ReLU,
    SatLin,
    SatLins,
    Sigmoid,
    Tanh,
    network_from_pairs,
)

ACTS = [ReLU(), LeakyReLU(0.1), Tanh(), Sigmoid(), SatLin(), SatLins(), Identity()]


def _random_net(rng, dims, acts):
    layers = []
    for k in range(len(dims) - 1):
        layers.append(Linear(rng.normal(size=(dims[k + 1], dims[k])), rng.normal(size=dims[k + 1])))
        if k < len(acts):
            layers.append(acts[k])
    return Network(layers)


def _reference(x, layers):
    """Independent per-sample evaluation with explicit formulas."""
    out = []
    for v in x:
        for lay in layers:
            if isinstance(lay, Linear):
                v = np.array(
                    [sum(lay.W[i, j] * v[j] for j in range(len(v))) + lay.b[i] for i in range(lay.W.shape[0])]
                )
            elif isinstance(lay, ReLU):
                v = np.array([max(t, 0.0) for t in v])
            elif isinstance(lay, LeakyReLU):
                v = np.array([t if t >= 0 else lay.alpha * t for t in v])
            elif isinstance(lay, Tanh):
                v = np.array([np.tanh(t) for t in v])
            elif isinstance(lay, Sigmoid):
                v = np.array([1.0 / (1.0 + np.exp(-t)) for t in v])
            elif isinstance(lay, SatLin):
                v = np.array([min(max(t, 0.0), 1.0) for t in v])
            elif isinstance(lay, SatLins):
                v = np.array([min(max(t, -1.0), 1.0) for t in v])
        out.append(v)
    return np.array(out)


def test_forward_matches_reference_for_every_activation():
    rng = np.random.default_rng(0)
    net = _random_net(rng, [3, 6, 6, 6, 6, 6, 6, 6, 2], ACTS)
    x = rng.normal(size=(20, 3)) * 2
    np.testing.assert_allclose(net(x), _reference(x, net.layers), rtol=1e-12, atol=1e-12)
    assert net(x[0]).shape == (2,)
    np.testing.assert_allclose(net(x[0]), net(x)[0])
    assert net.n_inputs == 3 and net.n_outputs == 2


def test_jax_fn_matches_numpy_and_is_differentiable():
    rng = np.random.default_rng(1)
    net = _random_net(rng, [4, 5, 5, 5, 5, 5, 5, 5, 3], ACTS)
    x = rng.normal(size=(7, 4))
    f = net.jax_fn()
    np.testing.assert_allclose(np.asarray(f(x)), net(x), rtol=1e-12, atol=1e-12)
    assert f is net.jax_fn()  # compiled once and cached
    g = jax.grad(lambda v: f(v)[0])(x[0])
    eps = 1e-6
    fd = np.array([(net(x[0] + eps * e)[0] - net(x[0] - eps * e)[0]) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-5, atol=1e-6)


def test_then_and_slicing_compose_to_the_same_function():
    rng = np.random.default_rng(2)
    a = _random_net(rng, [2, 4, 3], [ReLU()])
    b = _random_net(rng, [3, 5, 1], [Tanh()])
    ab = a.then(b)
    x = rng.normal(size=(10, 2))
    np.testing.assert_allclose(ab(x), b(a(x)))
    np.testing.assert_allclose(ab[:3](x), a(x))
    np.testing.assert_allclose(ab[3:](a(x)), b(a(x)))
    assert ab[1:3].n_inputs == 4
    assert isinstance(ab[0], Linear)
    with pytest.raises(ValueError, match="outputs"):
        b.then(a)


def test_simplified_merges_linear_layers_and_keeps_the_function():
    rng = np.random.default_rng(3)
    net = Network(
        [
            Linear(rng.normal(size=(3, 2)), rng.normal(size=3)),
            Identity(),
            Linear(rng.normal(size=(4, 3)), rng.normal(size=4)),
            ReLU(),
            Linear(rng.normal(size=(1, 4)), [0.0]),
        ]
    )
    s = net.simplified()
    assert [type(lay).__name__ for lay in s.layers] == ["Linear", "ReLU", "Linear"]
    x = rng.normal(size=(10, 2))
    np.testing.assert_allclose(s(x), net(x), rtol=1e-12)


def test_shape_mismatch_names_the_layer():
    with pytest.raises(ValueError, match="layer 2"):
        Network([Linear(np.ones((3, 2)), np.zeros(3)), ReLU(), Linear(np.ones((1, 4)), np.zeros(1))])
    with pytest.raises(ValueError, match="b has shape"):
        Linear(np.ones((3, 2)), np.zeros(2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_weights_name_the_layer(bad):
    W = np.ones((2, 2))
    W[1, 0] = bad
    with pytest.raises(ValueError, match=r"layer 2 \(Linear\): W"):
        Network([Linear(np.eye(2), np.zeros(2)), ReLU(), Linear(W, np.zeros(2))])
    with pytest.raises(ValueError, match=r"layer 0 \(Linear\): b"):
        Network([Linear(np.eye(2), np.array([0.0, bad]))])


def test_bad_input_shape_and_missing_dimension():
    net = Network([Linear(np.eye(2), np.zeros(2))])
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        net(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n_inputs"):
        Network([ReLU()])
    assert Network([ReLU()], n_inputs=3)(np.array([-1.0, 0.5, 2.0])).tolist() == [0.0, 0.5, 2.0]


def test_network_from_pairs_rejects_unknown_activation():
    with pytest.raises(ValueError, match="layer 1: unknown activation 'swish'"):
        network_from_pairs([(np.eye(2), np.zeros(2), "relu"), (np.eye(2), np.zeros(2), "swish")])
