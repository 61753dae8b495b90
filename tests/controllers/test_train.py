"""Tests of controllers/train.py: determinism, loss reduction, the folded input/output scaling, and errors."""

import numpy as np
import pytest

import nncs
from nncs.controllers import train as T
from nncs.nn import Linear, ReLU, Tanh

BOX = nncs.Box([-2.0, 10.0, 5.0], [3.0, 30.0, 5.0])  # the third input is constant


def linear_expert(x):
    return 2.0 * x[:, 0] - 0.1 * x[:, 1] + 4.0  # shape (n,): accepted and treated as one output


def smooth_expert(x):
    return np.stack([np.tanh(x[:, 0]) + 0.05 * x[:, 1], x[:, 0] * 0.3], axis=1)


def weights(net):
    return [(lay.W, lay.b) for _, lay in net.linear_layers()]


def test_same_seed_gives_identical_weights_and_another_seed_does_not():
    opts = T.TrainOptions(n_samples=300, n_validation=100)
    a = T.train_imitation(smooth_expert, BOX, (8, 8), "relu", seed=3, steps=40, options=opts)
    T._runner.cache_clear()  # recompile, as a fresh process would
    b = T.train_imitation(smooth_expert, BOX, (8, 8), "relu", seed=3, steps=40, options=opts)
    c = T.train_imitation(smooth_expert, BOX, (8, 8), "relu", seed=4, steps=40, options=opts)
    for (Wa, ba), (Wb, bb) in zip(weights(a), weights(b)):
        assert np.array_equal(Wa, Wb) and np.array_equal(ba, bb)
    assert not all(np.array_equal(Wa, Wc) for (Wa, _), (Wc, _) in zip(weights(a), weights(c)))


def test_short_run_reduces_the_loss_and_reports_it_honestly():
    opts = T.TrainOptions(n_samples=500, n_validation=2000, learning_rate=1e-2)
    res = T.imitate(smooth_expert, BOX, (16, 16), "tanh", seed=0, steps=300, options=opts)
    assert res.losses.shape == (300,)
    assert res.losses[-1] < 0.05 * res.losses[0]
    # recompute the training MSE of the returned (folded) network independently on the same training inputs
    x = BOX.sample(500, np.random.default_rng(0))
    mse = np.mean((res.network(x) - smooth_expert(x)) ** 2)
    np.testing.assert_allclose(res.final_loss, mse, rtol=1e-9)
    # far below the MSE of the best constant predictor (the mean output variance)
    assert res.final_loss < 0.05 * np.mean(np.var(smooth_expert(x), axis=0))
    xv = BOX.sample(3000, np.random.default_rng(99))
    err = np.abs(res.network(xv) - smooth_expert(xv))
    assert err.max() < 3 * res.val_max_abs_error + 1e-9
    assert res.network.n_inputs == 3 and res.network.n_outputs == 2
    assert isinstance(res.network.layers[1], Tanh) and isinstance(res.network.layers[-1], Linear)


def test_network_maps_raw_units_and_ignores_constant_inputs():
    opts = T.TrainOptions(n_samples=400, n_validation=500, learning_rate=2e-2)
    res = T.imitate(linear_expert, BOX, (10,), "relu", seed=1, steps=400, options=opts)
    net = res.network
    assert [type(lay) for lay in net.layers] == [Linear, ReLU, Linear]
    np.testing.assert_array_equal(net.layers[0].W[:, 2], 0.0)  # constant input: zero weight column
    x = BOX.sample(1000, np.random.default_rng(5))
    y = linear_expert(x)[:, None]
    # outputs range over about [-3, 9] with standard deviation 3: an unscaled (standardised) output would miss by ~3
    assert np.max(np.abs(net(x) - y)) < 0.5 and np.sqrt(np.mean((net(x) - y) ** 2)) < 0.15
    x2 = x.copy()
    x2[:, 2] = -40.0
    np.testing.assert_array_equal(net(x2), net(x))
    np.testing.assert_allclose(res.input_lower[2], 5.0)
    assert np.all(res.input_lower[:2] >= BOX.lb[:2]) and np.all(res.input_upper[:2] <= BOX.ub[:2])


def test_callable_sampler_and_linear_model():
    def sampler(n, rng):
        return rng.uniform(-1, 1, size=(n, 2))

    res = T.imitate(
        lambda x: x @ np.array([[1.0], [-3.0]]) + 0.5,
        sampler,
        (),
        "relu",
        seed=0,
        steps=600,
        options=T.TrainOptions(n_samples=200, n_validation=200, learning_rate=5e-2),
    )
    W, b = weights(res.network)[0]
    np.testing.assert_allclose(W, [[1.0, -3.0]], atol=1e-3)
    np.testing.assert_allclose(b, [0.5], atol=1e-3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"layers": (0, 4)}, "layers"),
        ({"layers": (2.5,)}, "layers"),
        ({"activation": "softplusplus"}, "activation"),
        ({"activation": "identity"}, "activation"),
        ({"steps": 0}, "steps"),
        ({"expert": lambda x: np.full((x.shape[0], 1), np.nan)}, "expert"),
        ({"expert": lambda x: np.zeros((3, 1))}, "expert"),
        ({"sampler": lambda n, rng: np.zeros((n,))}, "sampler"),
        ({"sampler": lambda n, rng: np.full((n, 2), np.inf)}, "sampler"),
        ({"sampler": 42}, "sampler"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    args = {"expert": smooth_expert, "sampler": BOX, "layers": (4,), "activation": "relu", "steps": 2}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        T.imitate(
            args["expert"],
            args["sampler"],
            args["layers"],
            args["activation"],
            0,
            args["steps"],
            T.TrainOptions(n_samples=16, n_validation=16),
        )


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_samples", 0),
        ("n_validation", 0),
        ("learning_rate", -1.0),
        ("learning_rate", float("nan")),
        ("final_lr_ratio", 0.0),
        ("beta1", 1.0),
        ("beta2", -0.1),
        ("eps", 0.0),
    ],
)
def test_bad_options_raise_value_error(field, value):
    with pytest.raises(ValueError, match=field):
        T.TrainOptions(**{field: value})


def test_main_rejects_unknown_controller():
    with pytest.raises(SystemExit):
        T.main(["no_such_controller"])
