"""Tests of nncs/nn/reach/relax.py: every relaxation bounds its activation on the whole interval (dense grids)."""

import numpy as np
import pytest

from nncs.nn.methods.relax import affine_pieces, lines, parallel
from nncs.nn.network import LeakyReLU, ReLU, SatLin, SatLins, Sigmoid, Tanh

ACTS = [ReLU(), LeakyReLU(0.2), LeakyReLU(3.0), Tanh(), Sigmoid(), SatLin(), SatLins()]


def _intervals(seed=0, n=300):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n) * 3, rng.normal(size=n) * 3
    l, u = np.minimum(a, b), np.maximum(a, b)
    # include one-sided, crossing and degenerate cases explicitly
    l = np.concatenate([l, [-2.0, 0.5, -3.0, -0.5, 1.0, 0.0]])
    u = np.concatenate([u, [-0.5, 2.0, 3.0, 0.5, 1.0, 0.0]])
    return l, u


@pytest.mark.parametrize("act", ACTS, ids=repr)
def test_lines_and_parallel_bound_the_activation(act):
    l, u = _intervals()
    t = np.linspace(0, 1, 401)
    x = l[:, None] + (u - l)[:, None] * t[None, :]  # (n, 401)
    y = act.forward(x)
    L = lines(act, l, u)
    for k in range(L.low_s.shape[1]):
        assert np.all(L.low_s[:, k, None] * x + L.low_t[:, k, None] <= y)
        assert np.all(L.up_s[:, k, None] * x + L.up_t[:, k, None] >= y)
    assert np.all(L.ylo[:, None] <= y) and np.all(L.yhi[:, None] >= y)
    s, t_lo, t_hi = parallel(act, l, u)
    assert np.all(s[:, None] * x + t_lo[:, None] <= y) and np.all(s[:, None] * x + t_hi[:, None] >= y)
    ls, lt, us, ut = L.best(l, u)
    assert np.all(ls[:, None] * x + lt[:, None] <= y) and np.all(us[:, None] * x + ut[:, None] >= y)


def test_relu_triangle_and_deepz_coefficients():
    l, u = np.array([-1.0]), np.array([3.0])
    L = lines(ReLU(), l, u)
    np.testing.assert_allclose(L.up_s[0], [0.75, 0.75])
    np.testing.assert_allclose(L.up_t[0], [0.75, 0.75], atol=1e-9)
    np.testing.assert_allclose(sorted(L.low_s[0]), [0.0, 1.0])
    s, t_lo, t_hi = parallel(ReLU(), l, u)
    np.testing.assert_allclose(
        [s[0], t_lo[0], t_hi[0]], [0.75, 0.0, 0.75], atol=1e-9
    )  # DeepZ: lambda, 0, -lambda l


def test_affine_pieces_detects_single_pieces_only():
    l = np.array([0.2, -2.0, -1.0, 0.1, 1.5, -0.5])
    u = np.array([0.8, -1.0, 1.0, 1.2, 2.0, 0.0])
    mask, s, t = affine_pieces(SatLin(), l, u)
    assert mask.tolist() == [True, True, False, False, True, True]
    assert s[mask].tolist() == [1.0, 0.0, 0.0, 0.0] and t[mask].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert not affine_pieces(Tanh(), l, u)[0].any()
