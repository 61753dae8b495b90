"""Network reach runs bounded (issue 10): unsupported method / layer pairs refused before any work, options
validated, and the `check_time` hook called inside the exact-star splits and the fit splitting rounds."""

import numpy as np
import pytest

from nncs.nn.methods import ReachOptions, check_supported, reach
from nncs.nn.methods.fit import bound_residual
from nncs.nn.network import LeakyReLU, Linear, Network, ReLU, SatLin, SatLins, Sigmoid, Tanh
from nncs.sets import Box
from tests.nn.random_nets import random_net


class Stop(Exception):
    pass


def counting_check(limit):
    """A check_time hook that raises Stop on its (limit + 1)-th call; calls are counted in .calls."""

    def check():
        check.calls += 1
        if check.calls > limit:
            raise Stop

    check.calls = 0
    return check


@pytest.mark.parametrize("act", [Tanh, Sigmoid])
def test_exact_star_on_smooth_activation_is_refused_before_any_work(act):
    net = Network([Linear(np.eye(2), np.zeros(2)), ReLU(), Linear(np.eye(2), np.zeros(2)), act()])
    check = counting_check(10**9)
    with pytest.raises(ValueError, match=r"'exact-star' does not support layer 3 .*piecewise-linear"):
        reach(net, Box([-1.0, -1.0], [1.0, 1.0]), "exact-star", ReachOptions(check_time=check))
    assert check.calls == 0  # refused before the first layer was propagated
    with pytest.raises(ValueError, match="layer 3"):
        check_supported(net, "exact-star")


@pytest.mark.parametrize("act", [ReLU, lambda: LeakyReLU(0.1), SatLin, SatLins, Tanh, Sigmoid])
@pytest.mark.parametrize("method", ["approx-star", "approx-zono", "abs-dom", "fit"])
def test_the_relaxing_methods_accept_every_activation(act, method):
    net = Network([Linear(np.eye(2), np.zeros(2)), act(), Linear(np.ones((1, 2)), np.zeros(1))])
    check_supported(net, method)  # no error
    assert len(reach(net, Box([-1.0, -1.0], [1.0, 1.0]), method)) == 1


def test_exact_star_accepts_piecewise_linear_activations():
    net = Network([Linear(np.eye(2), np.zeros(2)), ReLU(), Linear(np.eye(2), np.zeros(2)), SatLins()])
    check_supported(net, "exact-star")


def test_unknown_method_refused():
    net = Network([Linear(np.eye(2), np.zeros(2)), ReLU()])
    with pytest.raises(ValueError, match="unknown reach method"):
        check_supported(net, "magic")


@pytest.mark.parametrize(
    "field, value",
    [
        ("max_stars", 0),
        ("fit_samples", 0),
        ("fit_max_boxes", -1),
        ("fit_batch", 0),
        ("seed", -1),
        ("fit_tol", float("nan")),
        ("fit_tol", 0.0),
        ("max_stars", 2.5),
    ],
)
def test_reach_options_refuse_bad_numbers(field, value):
    with pytest.raises(ValueError, match=field):
        ReachOptions(**{field: value})


def test_exact_star_union_is_interruptible():
    # a 2 -> 30 -> 30 ReLU net on a wide box splits into many stars: the hook runs per star per split neuron
    net = random_net(1, 2, [30, 30], 1, [ReLU])
    box = Box([-3.0, -3.0], [3.0, 3.0])
    check = counting_check(25)
    with pytest.raises(Stop):
        reach(net, box, "exact-star", ReachOptions(check_time=check))
    assert check.calls == 26


def test_fit_splitting_is_interruptible():
    net = random_net(2, 3, [20, 20], 2, [ReLU])
    lo, hi = -np.ones(3), np.ones(3)
    A, b = np.zeros((2, 3)), np.zeros(2)
    free = bound_residual(net, A, b, lo, hi, tol=1e-6, max_boxes=200, batch=4)
    assert free.boxes > 8  # it needs many rounds: an interruption after 2 batches is real
    check = counting_check(2)
    with pytest.raises(Stop):
        bound_residual(net, A, b, lo, hi, tol=1e-6, max_boxes=200, batch=4, check_time=check)
    with pytest.raises(Stop):
        reach(
            net,
            Box(lo, hi),
            "fit",
            ReachOptions(fit_tol=1e-6, fit_max_boxes=200, fit_batch=4, check_time=counting_check(2)),
        )
