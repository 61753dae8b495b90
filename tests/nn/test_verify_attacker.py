"""verify-nn does not silently drop a failing attacker: only a missing JAX is tolerated (and recorded in the
result's stats); any other error while setting the attacker up propagates."""

import sys

import numpy as np
import pytest

import nncs.nn.verify
from nncs.nn.network import Linear, Network, ReLU
from nncs.nn.verify import VerifyOptions, verify_property
from nncs.vnnlib import VnnlibCase, VnnlibProperty


class BrokenAttacker:
    """An attacker whose setup fails with an unexpected error (not a missing JAX)."""

    def __init__(self, net):
        raise RuntimeError("attacker setup failed")


def small_property(n_in=2):
    # output y0 <= -100 is unsafe; the network's output is >= 0, so the property holds
    case = VnnlibCase(lb=np.zeros(n_in), ub=np.ones(n_in), unsafe=((np.array([[1.0]]), np.array([-100.0])),))
    return VnnlibProperty(n_inputs=n_in, n_outputs=1, cases=(case,))


def test_an_unexpected_attacker_error_propagates(monkeypatch):
    monkeypatch.setattr(nncs.nn.verify, "_Attacker", BrokenAttacker)
    net = Network([Linear(np.ones((3, 2)), np.zeros(3)), ReLU(), Linear(np.ones((1, 3)), np.zeros(1))])
    with pytest.raises(RuntimeError, match="attacker setup failed"):
        verify_property(net, small_property(), VerifyOptions(timeout=10))


def test_a_missing_jax_is_recorded_in_the_stats(monkeypatch):
    # a fresh architecture (not in the compiled-step cache), so the attacker imports JAX
    net = Network([Linear(np.ones((7, 2)), np.zeros(7)), ReLU(), Linear(np.ones((1, 7)), np.zeros(1))])
    monkeypatch.setitem(sys.modules, "nncs._jax", None)  # `from nncs._jax import ...` raises ImportError
    res = verify_property(net, small_property(), VerifyOptions(timeout=10, alpha_steps=0))
    assert res.result == "holds"
    assert "gradient attack unavailable" in res.stats["attack_error"]
