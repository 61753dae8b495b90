"""Tests of nncs/nn/reach: soundness by sampling for every method and activation, exact-star exactness,
and the dependency contract (the input's predicate variables come first in the output)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncs
from nncs.nn.methods import ReachOptions, reach
from nncs.nn.network import LeakyReLU, Linear, Network, ReLU, SatLin, SatLins, Sigmoid, Tanh
from nncs.sets import Box, Zonotope
from tests.nn.random_nets import random_net

ALL_ACTS = [ReLU, lambda: LeakyReLU(0.1), Tanh, Sigmoid, SatLin, SatLins]
PWL_ACTS = [ReLU, lambda: LeakyReLU(0.1), SatLin, SatLins]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_input(seed: int, n: int):
    rng = np.random.default_rng(seed + 1000)
    lo = rng.uniform(-1, 0.5, n)
    return Box(lo, lo + rng.uniform(0.05, 1.0, n))


def inside_union(sets, y) -> np.ndarray:
    return np.array([s.contains(y, tol=1e-7) for s in sets]).any(axis=0)


nets = st.builds(
    lambda seed, n_in, hidden, n_out: (seed, n_in, hidden, n_out),
    st.integers(0, 10_000),
    st.integers(1, 3),
    st.lists(st.integers(2, 6), min_size=1, max_size=3),
    st.integers(1, 3),
)


@pytest.mark.parametrize("method", ["approx-star", "approx-zono", "abs-dom"])
@SETTINGS
@given(spec=nets)
def test_sound_by_sampling_every_activation(method, spec):
    seed, n_in, hidden, n_out = spec
    net = random_net(seed, n_in, hidden, n_out, ALL_ACTS)
    box = random_input(seed, n_in)
    x = np.vstack([box.sample(150, seed), box.vertices()[:16]])
    y = net(x)
    sets = reach(net, box, method)
    assert len(sets) == 1
    assert sets[0].dim == n_out
    assert inside_union(sets, y).all()
    lo, hi = sets[0].bounds()
    assert np.all(y >= lo - 1e-9) and np.all(y <= hi + 1e-9)


@SETTINGS
@given(spec=nets)
def test_approx_star_estimate_bounds_sound_and_looser(spec):
    seed, n_in, hidden, n_out = spec
    net = random_net(seed, n_in, hidden, n_out, ALL_ACTS)
    box = random_input(seed, n_in)
    y = net(box.sample(100, seed))
    (loose,) = reach(net, box, "approx-star", ReachOptions(bounds="estimate"))
    assert loose.contains(y, tol=1e-7).all()


@SETTINGS
@given(spec=nets)
def test_exact_star_sound_and_exact(spec):
    seed, n_in, hidden, n_out = spec
    net = random_net(seed, n_in, hidden, n_out, PWL_ACTS)
    box = random_input(seed, n_in)
    x = np.vstack([box.sample(150, seed), box.vertices()[:16]])
    sets = reach(net, box, "exact-star")
    assert inside_union(sets, net(x)).all()  # image within the union
    inp = box.to_star()
    for s in sets[:20]:  # and every point of every star is an image point (no relaxation)
        assert s.nvars == inp.nvars
        a = s.sample_predicate(5, seed)
        np.testing.assert_allclose(net(inp.c + a @ inp.V.T), s.c + a @ s.V.T, atol=1e-7)


def _grid(box: Box, n: int) -> np.ndarray:
    axes = [np.linspace(lo, hi, n) for lo, hi in zip(box.lb, box.ub)]
    return np.stack(np.meshgrid(*axes), axis=-1).reshape(-1, box.dim)


@pytest.mark.parametrize("seed", range(6))
def test_exact_star_union_bounds_attained_on_2d_nets(seed):
    net = random_net(seed, 2, [5, 4], 2, PWL_ACTS)
    box = Box([-1.0, -0.5], [0.5, 1.0])
    sets = reach(net, box, "exact-star")
    y = net(_grid(box, 301))
    lo = np.min([s.bounds()[0] for s in sets], axis=0)
    hi = np.max([s.bounds()[1] for s in sets], axis=0)
    assert np.all(y.min(axis=0) >= lo - 1e-7) and np.all(y.max(axis=0) <= hi + 1e-7)
    # a dense grid comes within the grid's resolution of the union's bounds: they are attained
    lip = np.prod([np.abs(lay.W).sum(axis=1).max() for lay in net.layers if isinstance(lay, Linear)])
    gap = lip * 1.5 / 300
    assert np.all(y.min(axis=0) - lo <= gap) and np.all(hi - y.max(axis=0) <= gap)
    # and the LP optimisers of each star map to network outputs
    inp = box.to_star()
    for s in sets:
        for row in np.eye(2):
            a, _ = s.lp_program.argmin(row @ s.V)
            np.testing.assert_allclose(net(inp.c + inp.V @ a), s.c + s.V @ a, atol=1e-6)


def test_exact_star_does_not_split_stable_neurons():
    # ReLU of a box that lies in x > 0: nothing splits; half-crossing: exactly one split
    net = Network([Linear(np.eye(2), [0.0, 0.0]), ReLU()])
    assert len(reach(net, Box([0.1, 0.2], [1.0, 2.0]), "exact-star")) == 1
    assert len(reach(net, Box([-1.0, 0.2], [1.0, 2.0]), "exact-star")) == 2
    assert len(reach(net, Box([-1.0, -0.2], [1.0, 2.0]), "exact-star")) == 4
    # the box estimate of x1 + x2 crosses 0, but on this star (x1 >= x2 + 1) its LP bound does not
    star = Box([-1.0, -1.0], [1.0, 1.0]).to_star().intersect_halfspace(np.array([[-1.0, 1.0]]), [-1.5])
    net2 = Network([Linear(np.array([[1.0, -1.0]]), [0.0]), ReLU()])
    assert len(reach(net2, star, "exact-star")) == 1
    sat = Network([Linear(np.eye(1), [0.0]), SatLin()])
    assert len(reach(sat, Box([-1.0], [2.0]), "exact-star")) == 3


@pytest.mark.parametrize("method", ["approx-star", "abs-dom"])
@SETTINGS
@given(spec=nets)
def test_dependency_contract_star(method, spec):
    seed, n_in, hidden, n_out = spec
    net = random_net(seed, n_in, hidden, n_out, ALL_ACTS)
    rng = np.random.default_rng(seed)
    inp = random_input(seed, n_in).to_star()
    inp = inp.intersect_halfspace(rng.normal(size=(1, n_in)), [0.3])  # a constrained input star
    if inp.is_empty():
        return
    (out,) = reach(net, inp, method)
    m = inp.nvars
    np.testing.assert_array_equal(out.C[: inp.nconstraints, :m], inp.C)
    assert np.all(out.C[: inp.nconstraints, m:] == 0)
    np.testing.assert_array_equal(out.lb[:m], inp.lb)
    for a in inp.sample_predicate(4, seed):
        y = net(inp.c + inp.V @ a)
        fixed = out.with_predicate_bounds(np.concatenate([a, out.lb[m:]]), np.concatenate([a, out.ub[m:]]))
        assert fixed.contains(y, tol=1e-7)[0]  # y is reachable with exactly this input predicate point


@SETTINGS
@given(spec=nets)
def test_dependency_contract_zono(spec):
    seed, n_in, hidden, n_out = spec
    net = random_net(seed, n_in, hidden, n_out, ALL_ACTS)
    rng = np.random.default_rng(seed)
    Z = Zonotope(rng.normal(size=n_in) * 0.3, rng.normal(size=(n_in, n_in + 1)) * 0.3)
    (out,) = reach(net, Z, "approx-zono")
    m = Z.ngens
    for e in rng.uniform(-1, 1, size=(4, m)):
        y = net(Z.c + Z.G @ e)
        S = out.to_star()
        fixed = S.with_predicate_bounds(
            np.concatenate([e, -np.ones(out.ngens - m)]), np.concatenate([e, np.ones(out.ngens - m)])
        )
        assert fixed.contains(y, tol=1e-7)[0]


def test_joint_input_output_star_is_exact_on_a_linear_network():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(2, 2))
    net = Network([Linear(W, [1.0, -1.0])])
    inp = Box([0.0, 0.0], [1.0, 1.0]).to_star()
    (out,) = reach(net, inp, "approx-star")
    joint = inp.cartesian_product(out, shared=True)
    x = inp.sample(20, 0)
    assert joint.contains(np.hstack([x, net(x)])).all()
    assert not joint.contains(np.hstack([x, net(x) + 0.1]), tol=1e-9).any()


def test_nncs_nn_reach_is_callable_and_errors_are_clear():
    net = Network([Linear(np.eye(2), [0.0, 0.0]), Tanh()])
    box = Box([0.0, 0.0], [1.0, 1.0])
    assert len(nncs.nn.reach(net, box)) == 1
    assert len(nncs.nn.reach(net, box, method="approx-zono")) == 1
    with pytest.raises(ValueError, match=r"method 'exact-star' does not support layer 1 \(Tanh\(\)\)"):
        nncs.nn.reach(net, box, method="exact-star")
    with pytest.raises(ValueError, match="unknown reach method 'deepz'"):
        reach(net, box, method="deepz")
    with pytest.raises(ValueError, match="dimension 3"):
        reach(net, Box([0.0] * 3, [1.0] * 3))
    (b,) = reach(net, box, "abs-dom", ReachOptions(output="box"))
    assert isinstance(b, Box)
    np.testing.assert_allclose(b.lb, [0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(b.ub, np.tanh([1.0, 1.0]), atol=1e-9)


def test_relu_triangle_matches_hand_computation():
    # y = relu(x), x in [-1, 3]: triangle y >= 0, y >= x, y <= 3/4 (x + 1); bounds exactly [0, 3]
    net = Network([Linear(np.eye(1), [0.0]), ReLU()])
    (s,) = reach(net, Box([-1.0], [3.0]), "approx-star")
    lo, hi = s.bounds()
    assert lo[0] == pytest.approx(0.0, abs=1e-9) and hi[0] == pytest.approx(3.0, abs=1e-9)
    joint = Box([-1.0], [3.0]).to_star().cartesian_product(s, shared=True)
    assert joint.contains(np.array([[1.0, 1.5]]))[0]  # inside the triangle
    assert not joint.contains(np.array([[1.0, 1.6]]), tol=1e-9)[0]  # above 3/4 (x + 1) = 1.5
    assert not joint.contains(np.array([[1.0, 0.9]]), tol=1e-9)[0]  # below y >= x
