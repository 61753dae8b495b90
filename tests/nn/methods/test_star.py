"""Tests of `nncs.nn.methods.star`: `neuron_bounds` (LP bounds inside the estimate and around every sampled
value; the estimate kept when the LP solver fails) and approx-star through a tanh layer when it does."""

import numpy as np
import pytest

from nncs.nn.methods import ReachOptions, reach
from nncs.nn.methods.star import neuron_bounds
from nncs.nn.network import Linear, Network, Tanh
from nncs.sets import Star, lp


def _constrained_star():
    # the triangle a1 + a2 <= 0.5 of [-1, 1]^2, mapped by a rotation-like V
    V = np.array([[3.0, 1.0], [-1.0, 2.0], [0.5, -4.0]])
    return Star(
        np.array([0.2, -0.1, 0.0]), V, np.array([[1.0, 1.0]]), np.array([0.5]), -np.ones(2), np.ones(2)
    )


def test_lp_bounds_are_inside_the_estimate_and_contain_every_sample():
    S = _constrained_star()
    lo_e, hi_e = neuron_bounds(S, Tanh(), "estimate")
    lo, hi = neuron_bounds(S, Tanh(), "lp")
    assert np.all(lo >= lo_e) and np.all(hi <= hi_e)
    assert np.any(hi < hi_e - 0.1)  # the constraint cuts the box corner a = (1, 1)
    x = S.sample(2000, np.random.default_rng(0))
    assert np.all(x >= lo - 1e-12) and np.all(x <= hi + 1e-12)


def test_a_failing_lp_solver_leaves_the_estimate(monkeypatch):
    S = _constrained_star()

    def refuse(self, objectives):
        raise lp.InfeasibleLP("LP is infeasible: the set is empty")

    monkeypatch.setattr(lp.LinearProgram, "bounds", refuse)
    lo, hi = neuron_bounds(S, Tanh(), "lp")
    np.testing.assert_array_equal((lo, hi), neuron_bounds(S, Tanh(), "estimate"))
    # a whole approx-star reach with LP bounds still runs, and its output contains the sampled outputs
    net = Network([Linear(np.array([[2.0, -1.0, 0.5], [0.3, 1.0, -2.0]]), np.zeros(2)), Tanh()])
    (Y,) = reach(net, S, "approx-star", ReachOptions(bounds="lp"))
    x = S.sample(2000, np.random.default_rng(1))
    y = net.forward(x)
    box = Y.box()
    assert np.all(y >= box.lb - 1e-12) and np.all(y <= box.ub + 1e-12)


def test_an_unknown_bounds_mode_is_refused():
    with pytest.raises(ValueError, match="bounds"):
        neuron_bounds(_constrained_star(), Tanh(), "exact")
