"""Tests of nncs/nn/reach/fit.py: the `fit` method's joint (input, output) sets contain every sampled
(z, net(z)), its residual bounds are sound and tight where they can be checked, and its errors are clear."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncs
from nncs.nn.methods import ReachOptions, reach
from nncs.nn.methods.fit import bound_residual, fit_affine
from nncs.nn.network import LeakyReLU, Linear, Network, ReLU, Sigmoid, Tanh
from nncs.sets import Box, Star, Zonotope
from tests.nn.random_nets import random_net as _random_net

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ACTS = {"relu": ReLU, "leaky": lambda: LeakyReLU(0.1), "tanh": Tanh, "sigmoid": Sigmoid}


def random_net(seed: int, n_in: int, hidden: list[int], n_out: int, act: str) -> Network:
    return _random_net(seed, n_in, hidden, n_out, [ACTS[act]])


def random_zonotope(seed: int, n: int, constant: bool) -> Zonotope:
    rng = np.random.default_rng(seed + 7)
    G = rng.normal(size=(n, n + 2)) * 0.4
    if constant and n > 1:
        G[0] = 0.0  # a zero-width network input (like ACC's v_set)
    return Zonotope(rng.normal(size=n) * 0.5, G)


def joint_zonotope(inp: Zonotope, out: Zonotope) -> Zonotope:
    """[z; y] over the output's generators (the input's come first, the contract under test)."""
    G_in = np.hstack([inp.G, np.zeros((inp.dim, out.ngens - inp.ngens))])
    return Zonotope(np.concatenate([inp.c, out.c]), np.vstack([G_in, out.G]))


nets = st.tuples(
    st.integers(0, 10_000),
    st.integers(1, 3),
    st.lists(st.integers(2, 6), min_size=1, max_size=3),
    st.integers(1, 2),
    st.sampled_from(sorted(ACTS)),
    st.booleans(),
)


@SETTINGS
@given(spec=nets)
def test_zonotope_joint_set_contains_samples(spec):
    seed, n_in, hidden, n_out, act, constant = spec
    net = random_net(seed, n_in, hidden, n_out, act)
    Z = random_zonotope(seed, n_in, constant)
    (out,) = reach(net, Z, "fit", ReachOptions(fit_samples=300, fit_max_boxes=64))
    assert isinstance(out, Zonotope) and out.dim == n_out
    m = Z.ngens
    assert out.ngens == m + n_out
    rng = np.random.default_rng(seed)
    e = rng.uniform(-1, 1, (200, m))
    e[:50] = np.sign(e[:50])  # corners of the generator cube
    z = Z.c + e @ Z.G.T
    y = net(z)
    # by construction: with the input's factors e fixed, the residual factor that explains y lies in [-1, 1]
    lin = out.c + e @ out.G[:, :m].T
    R = out.G[:, m:]
    need = np.linalg.solve(R, (y - lin).T).T
    assert np.abs(need).max() <= 1 + 1e-9
    # and independently: the joint zonotope contains (z, net(z)) (LP membership)
    assert joint_zonotope(Z, out).contains(np.hstack([z, y])[::10], tol=1e-8).all()


@SETTINGS
@given(spec=nets)
def test_star_joint_set_contains_samples(spec):
    seed, n_in, hidden, n_out, act, _ = spec
    net = random_net(seed, n_in, hidden, n_out, act)
    rng = np.random.default_rng(seed)
    lo = rng.uniform(-1, 0.5, n_in)
    inp = Box(lo, lo + rng.uniform(0.05, 1.0, n_in)).to_star()
    inp = inp.intersect_halfspace(rng.normal(size=(1, n_in)), [0.2])
    if inp.is_empty():
        return
    (out,) = reach(net, inp, "fit", ReachOptions(fit_samples=300, fit_max_boxes=64))
    assert isinstance(out, Star) and out.nvars == inp.nvars + n_out
    m = inp.nvars
    np.testing.assert_array_equal(out.C[:, :m], inp.C)
    joint = inp.cartesian_product(out, shared=True)
    z = inp.sample(60, seed)
    assert joint.contains(np.hstack([z, net(z)]), tol=1e-7).all()
    # by construction: with the input's predicate point a fixed, the residual variable that explains y is in bounds
    a = inp.sample_predicate(300, seed + 1)
    need = net(inp.c + a @ inp.V.T) - out.c - a @ out.V[:, :m].T
    assert np.all(need >= out.lb[m:] - 1e-9) and np.all(need <= out.ub[m:] + 1e-9)
    for a in inp.sample_predicate(3, seed):  # and the LP membership test agrees
        fixed = out.with_predicate_bounds(np.concatenate([a, out.lb[m:]]), np.concatenate([a, out.ub[m:]]))
        assert fixed.contains(net(inp.c + inp.V @ a), tol=1e-7)[0]


@SETTINGS
@given(spec=nets)
def test_residual_bounds_sound_on_fresh_samples(spec):
    seed, n_in, hidden, n_out, act, constant = spec
    net = random_net(seed, n_in, hidden, n_out, act)
    rng = np.random.default_rng(seed + 3)
    lo = rng.uniform(-1, 0.5, n_in)
    hi = lo + rng.uniform(0.05, 1.5, n_in)
    if constant:
        hi[0] = lo[0]
    A, b, _, _ = fit_affine(net, lo, hi, 300, seed, slope="lstsq" if seed % 2 else "minimax")
    assert np.all(A[:, hi == lo] == 0)  # constants get no slope
    fit = bound_residual(net, A, b, lo, hi, tol=0.1, max_boxes=128, samples=200, rng=seed)
    z = np.vstack([Box(lo, hi).sample(500, seed + 11), Box(lo, hi).vertices()[:32]])
    r = net(z) - z @ A.T - b
    assert np.all(r >= fit.r_lo[None] - 1e-12) and np.all(r <= fit.r_hi[None] + 1e-12)
    assert np.all(fit.r_lo <= fit.s_lo) and np.all(fit.s_hi <= fit.r_hi)


def test_linear_network_has_a_vanishing_residual():
    # a network that is affine on the box (ReLUs all active): the fit is exact and the residual ~0
    rng = np.random.default_rng(5)
    W1, W2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    net = Network([Linear(W1, np.full(4, 50.0)), ReLU(), Linear(W2, [0.3, -0.2])])
    lo, hi = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 0.5, 2.0])
    Z = Zonotope((lo + hi) / 2, np.diag((hi - lo) / 2)[:, :2])
    (out,) = reach(net, Z, "fit")
    e = np.random.default_rng(1).uniform(-1, 1, (100, 2))
    y_lin = out.c + e @ out.G[:, :2].T
    np.testing.assert_allclose(y_lin, net(Z.c + e @ Z.G.T), atol=1e-6)
    assert np.abs(out.G[:, 2:]).max() < 1e-5


def test_relu_residual_is_tight_against_samples():
    # 1-D |z| = relu(z) + relu(-z) on [-1, 1]: best slope 0, residual range [0, 1] -> bounds close to it
    net = Network(
        [Linear(np.array([[1.0], [-1.0]]), [0.0, 0.0]), ReLU(), Linear(np.array([[1.0, 1.0]]), [0.0])]
    )
    lo, hi = np.array([-1.0]), np.array([1.0])
    A, b, _, _ = fit_affine(net, lo, hi, 500, 0)
    assert abs(A[0, 0]) < 1e-6 and abs(b[0] - 0.5) < 1e-3  # the Chebyshev fit of |z| on [-1, 1]
    fit = bound_residual(net, A, b, lo, hi, tol=0.05, max_boxes=256)
    assert fit.complete
    assert fit.r_lo[0] >= -0.5 - 0.06 and fit.r_hi[0] <= 0.5 + 0.06
    assert fit.r_lo[0] <= -0.5 + 1e-9 and fit.r_hi[0] >= 0.5 - 1e-6  # sound: the true range is [-0.5, 0.5]


def test_point_input_is_exact():
    net = random_net(1, 3, [5, 5], 2, "tanh")
    x = np.array([0.1, -0.2, 0.3])
    (out,) = reach(net, Box(x, x), "fit")
    lo, hi = out.bounds()
    y = net(x)
    assert np.all(lo <= y + 1e-12) and np.all(y <= hi + 1e-12) and np.all(hi - lo < 1e-6)


def test_acc_controller_bounds_much_tighter_than_deepz(shared_benchmarks):
    net = nncs.load_network(shared_benchmarks / "closed_loop/networks/acc_controller_10_20.json")
    lo, hi = np.array([30, 1.4, 30, 79, 1.8]), np.array([30, 1.4, 30.2, 100, 2.2])
    Z = Box(lo, hi).to_zonotope()
    (fit,) = reach(net, Z, "fit")
    (zono,) = reach(net, Z, "approx-zono")
    u = net(Box(lo, hi).sample(3000, 0))
    flo, fhi = fit.bounds()
    zlo, zhi = zono.bounds()
    assert flo[0] <= u.min() and u.max() <= fhi[0]
    assert (fhi - flo)[0] < 0.2 * (zhi - zlo)[0]  # DeepZ: about [-6.2, 4.4]
    assert (fhi - flo)[0] < 2.0 * np.ptp(u)  # within twice the sampled range (about [-0.03, 0.2])


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_s_shaped_residual_keeps_the_dependency_on_the_input(act, seed):
    """On a box where a tanh/sigmoid net is nearly affine, one back-substitution bounds the residual
    `net - A z - b` itself: far narrower than the net's own output range, which a bound of the net minus the
    range of `A z` could never beat; and sound on fresh samples."""
    net = random_net(seed, 3, [16, 16], 2, act)
    rng = np.random.default_rng(seed)
    lo = rng.uniform(-1, 0.5, 3)
    hi = lo + 0.02
    A, b, _, _ = fit_affine(net, lo, hi, 500, seed)
    fit = bound_residual(net, A, b, lo, hi, max_boxes=1)
    assert fit.boxes == 1
    z = np.vstack([Box(lo, hi).sample(2000, seed + 1), Box(lo, hi).vertices()])
    y = net(z)
    r = y - z @ A.T - b
    assert np.all(r >= fit.r_lo - 1e-12) and np.all(r <= fit.r_hi + 1e-12)
    assert np.all(fit.r_hi - fit.r_lo < 0.5 * np.ptp(y, axis=0))


def test_errors_are_clear():
    net = random_net(0, 2, [3], 1, "relu")
    A, b = np.zeros((1, 2)), np.zeros(1)
    with pytest.raises(ValueError, match="lo <= hi"):
        bound_residual(net, A, b, [1.0, 0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        bound_residual(net, A, b, [0.0], [1.0])
    with pytest.raises(ValueError, match="A must be"):
        bound_residual(net, np.zeros((2, 2)), b, [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="slope must be"):
        fit_affine(net, np.zeros(2), np.ones(2), slope="median")
    with pytest.raises(ValueError, match="dimension 3"):
        reach(net, Box([0.0] * 3, [1.0] * 3), "fit")
    assert "fit" in nncs.nn.methods.METHODS


def test_networks_with_identity_consecutive_linear_and_leading_activation():
    from nncs.nn.network import Identity

    rng = np.random.default_rng(2)
    net = Network(
        [
            ReLU(),
            Linear(rng.normal(size=(4, 2)), rng.normal(size=4)),
            Identity(),
            Linear(rng.normal(size=(3, 4)), rng.normal(size=3)),
            ReLU(),
            Linear(rng.normal(size=(1, 3)), [0.1]),
            ReLU(),
        ],
        n_inputs=2,
    )
    Z = Zonotope([0.2, -0.1], [[0.5, 0.1, 0.0], [0.0, 0.3, 0.4]])
    (out,) = reach(net, Z, "fit")
    e = rng.uniform(-1, 1, (300, 3))
    e[:100] = np.sign(e[:100])
    z = Z.c + e @ Z.G.T
    need = (net(z) - out.c - e @ out.G[:, :3].T) / out.G[0, 3]
    assert np.abs(need).max() <= 1 + 1e-9


@pytest.mark.parametrize("budget", [5, 20, 64])
def test_bound_residual_keeps_to_its_box_budget(budget):
    net = random_net(3, 3, [8, 8], 1, "relu")
    lo, hi = -np.ones(3), np.ones(3)
    A, b, _, _ = fit_affine(net, lo, hi)
    fit = bound_residual(net, A, b, lo, hi, tol=1e-6, max_boxes=budget)
    assert fit.boxes <= budget and not fit.complete
