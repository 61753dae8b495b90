"""nncs.nn.bounds, the one back-substitution engine: DeepPoly (abs-dom over a star), CROWN and alpha-CROWN
(verify-nn over boxes) are sound by sampling, agree with an independent DeepPoly written here, and carry the
rounding slack (an exact rational evaluation stays inside the bounds of a point input)."""

from fractions import Fraction

import numpy as np
import pytest

from nncs.nn.bounds import LinearBounds, backsubstitute, bisect_boxes, bound_objectives
from nncs.nn.methods.poly import PolyState, poly_activation, poly_linear
from nncs.nn.methods.relax import affine_pieces, lines
from nncs.nn.network import LeakyReLU, Linear, Network, ReLU, Sigmoid, Tanh
from nncs.sets import Box
from tests.nn.random_nets import random_net

ACTS = {
    "relu": [ReLU],
    "tanh": [Tanh],
    "sigmoid": [Sigmoid],
    "leaky": [lambda: LeakyReLU(0.1)],
    "mixed": [ReLU, Tanh, Sigmoid, lambda: LeakyReLU(0.2)],
}
N_SAMPLES = 3000


def deeppoly_state(net: Network, star, concretize: str = "box") -> PolyState:
    """Run the abs-dom rules through every layer of `net` from `star`."""
    P = PolyState(star, (), star.dim, concretize)
    for layer in net.layers:
        P = (poly_linear if isinstance(layer, Linear) else poly_activation)(P, layer, None)[0]
    return P


def random_box(rng, n):
    lo = rng.normal(size=n)
    return lo, lo + rng.uniform(0.05, 1.0, size=n)


def box_samples(rng, lo, hi, n=N_SAMPLES):
    x = lo + (hi - lo) * rng.random((n, lo.size))
    corners = np.where(rng.random((64, lo.size)) < 0.5, lo, hi)  # the box's corners are often extreme
    return np.vstack([x, corners])


@pytest.mark.parametrize("kind", list(ACTS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_mode_bounds_every_sampled_objective_over_a_box(kind, seed):
    rng = np.random.default_rng(100 + seed)
    net = random_net(seed, 3, [6, 5], 2, ACTS[kind])
    C, e = rng.normal(size=(3, 2)), rng.normal(size=3)
    lo, hi = random_box(rng, 3)
    x = box_samples(rng, lo, hi)
    obj = net(x) @ C.T - e  # (N, 3)
    lb, ub = lo[None], hi[None]
    modes = {
        "crown": lambda C_, e_: bound_objectives(net.layers, lb, ub, C_, e_)[0][0],
        "crown-objective-only": lambda C_, e_: bound_objectives(
            net.layers, lb, ub, C_, e_, backsub_every=False
        )[0][0],
        "crown-gathered-rows": lambda C_, e_: bound_objectives(net.layers, lb, ub, C_, e_, opts_dense=2.0)[0][
            0
        ],
        "alpha-crown": lambda C_, e_: bound_objectives(net.layers, lb, ub, C_, e_, alpha_steps=6)[0][0],
    }
    for name, f in modes.items():
        low, high = f(C, e), -f(-C, -e)
        assert np.all(obj >= low), name
        assert np.all(obj <= high), name
    star = Box(lo, hi).to_star()
    for conc in ("box", "lp"):
        P = deeppoly_state(Network(list(net.layers) + [Linear(C, -e)]), star, conc)
        low, high = P.bounds()
        assert np.all(obj >= low) and np.all(obj <= high), conc


@pytest.mark.parametrize("kind", list(ACTS))
@pytest.mark.parametrize("seed", [3, 4])
def test_deeppoly_over_a_star_bounds_samples_and_its_linear_bounds_hold_pointwise(kind, seed):
    rng = np.random.default_rng(200 + seed)
    net = random_net(seed, 3, [5, 4], 2, ACTS[kind])
    lo, hi = random_box(rng, 3)
    star = Box(lo, hi).to_star()
    mid = (lo + hi) / 2
    star = star.intersect_halfspace(rng.normal(size=(2, 3)), rng.normal(size=(2, 3)) @ mid + 0.2)
    a = star.sample_predicate(N_SAMPLES, rng)
    x = star.c + a @ star.V.T
    y = net(x)
    for conc in ("box", "lp"):
        P = deeppoly_state(net, star, conc)
        lin = P.linear_bounds()
        assert isinstance(lin, LinearBounds)
        low, high = P.bounds()
        assert np.all(y >= low) and np.all(y <= high), conc
        assert np.all(a @ lin.lower_A[0].T + lin.lower_b[0] <= y)
        assert np.all(y <= a @ lin.upper_A[0].T + lin.upper_b[0])
        out = P.to_star()  # the joint star's predicate over (a, y) holds every sampled pair
        z = np.hstack([a, y])
        assert np.all(z @ out.C.T <= out.d + 1e-9 * (1 + np.abs(out.d)))
        assert np.all((z >= out.lb) & (z <= out.ub))
    lp_low, lp_high = deeppoly_state(net, star, "lp").bounds()
    box_low, box_high = deeppoly_state(net, star, "box").bounds()
    assert np.all(lp_low >= box_low - 1e-9 * (1 + np.abs(box_low)))  # the LP sees the constraints too
    assert np.all(lp_high <= box_high + 1e-9 * (1 + np.abs(box_high)))


def reference_deeppoly(net: Network, lo: np.ndarray, hi: np.ndarray):
    """An independent DeepPoly over a box (no rounding slack): per layer, each neuron's rows back-substituted
    to the input with the least-area lines of relax.lines; returns the output (lower, upper)."""
    weights = []  # per step: ("lin", W, b) or ("act", ls, lt, us, ut)
    dim = lo.size
    for layer in net.layers:
        if isinstance(layer, Linear):
            weights.append(("lin", layer.W, layer.b))
            dim = layer.W.shape[0]
            continue
        l, u = _ref_bounds(weights, dim, lo, hi)
        mask, s, t = affine_pieces(layer, l, u)
        ls, lt, us, ut = s.copy(), t.copy(), s.copy(), t.copy()
        amb = ~mask
        if amb.any():
            ls[amb], lt[amb], us[amb], ut[amb] = lines(layer, l[amb], u[amb]).best(l[amb], u[amb])
        weights.append(("act", ls, lt, us, ut))
    return _ref_bounds(weights, dim, lo, hi)


def _ref_bounds(weights, dim, lo, hi):
    out = []
    for lower in (True, False):
        vals = []
        for i in range(dim):
            lam, c = np.eye(dim)[i], 0.0
            for w in reversed(weights):
                if w[0] == "lin":
                    c += lam @ w[2]
                    lam = lam @ w[1]
                else:
                    _, ls, lt, us, ut = w
                    take_low = (lam >= 0) == lower
                    s, t = np.where(take_low, ls, us), np.where(take_low, lt, ut)
                    c += lam @ t
                    lam = lam * s
            vals.append(c + (np.where(lam > 0, lo, hi) if lower else np.where(lam > 0, hi, lo)) @ lam)
        out.append(np.array(vals))
    return out


@pytest.mark.parametrize("kind", list(ACTS))
@pytest.mark.parametrize("seed", [5, 6, 7])
def test_deeppoly_path_equals_an_independent_deeppoly_within_the_rounding_slack(kind, seed):
    rng = np.random.default_rng(300 + seed)
    net = random_net(seed, 3, [5, 4, 3], 2, ACTS[kind])
    lo, hi = random_box(rng, 3)
    ref_low, ref_high = reference_deeppoly(net, lo, hi)
    low, high = deeppoly_state(net, Box(lo, hi).to_star()).bounds()
    tol = 1e-7 * (1 + np.abs(ref_low) + np.abs(ref_high))
    np.testing.assert_array_less(np.abs(low - ref_low), tol)
    np.testing.assert_array_less(np.abs(high - ref_high), tol)
    assert np.all(low <= ref_low + tol) and np.all(high >= ref_high - tol)


def exact_output(net: Network, x: np.ndarray) -> list[Fraction]:
    """The network's output at x in exact rational arithmetic (piecewise-linear activations only)."""
    v = [Fraction(float(t)) for t in x]
    for layer in net.layers:
        if isinstance(layer, Linear):
            v = [
                sum((Fraction(float(w)) * t for w, t in zip(row, v)), Fraction(float(b)))
                for row, b in zip(layer.W, layer.b)
            ]
        elif isinstance(layer, LeakyReLU):
            v = [t if t >= 0 else Fraction(float(layer.alpha)) * t for t in v]
        else:
            v = [max(t, Fraction(0)) for t in v]
    return v


@pytest.mark.parametrize("seed", range(6))
def test_rounding_slack_covers_the_exact_value_at_a_point_input(seed):
    """A point box makes every neuron affine: without an outward rounding slack, a bound is the float evaluation
    itself and lands on the wrong side of the exact value about half the time."""
    rng = np.random.default_rng(400 + seed)
    layers = []
    dims = [4, 8, 8, 3]
    for k in range(3):
        layers.append(
            Linear(
                rng.normal(size=(dims[k + 1], dims[k])) * 10 ** rng.uniform(-3, 3),
                rng.normal(size=dims[k + 1]) * 1e3,
            )
        )
        if k < 2:
            layers.append(ReLU() if k % 2 else LeakyReLU(0.3))
    net = Network(layers)
    x = rng.normal(size=4) / 3
    exact = exact_output(net, x)
    P = deeppoly_state(net, Box(x, x).to_star())
    low, high = P.bounds()
    crown_low = bound_objectives(net.layers, x[None], x[None], np.eye(3), np.zeros(3))[0][0]
    crown_high = -bound_objectives(net.layers, x[None], x[None], -np.eye(3), np.zeros(3))[0][0]
    for i, v in enumerate(exact):
        assert Fraction(float(low[i])) <= v <= Fraction(float(high[i]))
        assert Fraction(float(crown_low[i])) <= v <= Fraction(float(crown_high[i]))


def test_backsubstitute_rows_and_dense_groupings_agree():
    rng = np.random.default_rng(7)
    net = random_net(1, 3, [6], 4, [ReLU])
    B = 5
    lo = rng.normal(size=(B, 3))
    hi = lo + rng.uniform(0.1, 1.0, size=(B, 3))
    L1, act, L2 = net.layers[:3]
    pre_lo = np.maximum(L1.W, 0) @ lo.T + np.minimum(L1.W, 0) @ hi.T + L1.b[:, None]
    pre_hi = np.maximum(L1.W, 0) @ hi.T + np.minimum(L1.W, 0) @ lo.T + L1.b[:, None]
    l, u = pre_lo.T, pre_hi.T
    mask, s, t = affine_pieces(act, l.reshape(-1), u.reshape(-1))
    ls, lt, us, ut = (v.copy() for v in (s, t, s, t))
    R = np.flatnonzero(~mask)
    ls[R], lt[R], us[R], ut[R] = lines(act, l.reshape(-1)[R], u.reshape(-1)[R]).best(
        l.reshape(-1)[R], u.reshape(-1)[R]
    )
    steps = [("affine", L1.W, L1.b), ("act",) + tuple(v.reshape(B, -1) for v in (ls, lt, us, ut))]
    mags = [np.maximum(np.abs(lo), np.abs(hi)), np.maximum(np.abs(l), np.abs(u))]
    dense = backsubstitute(
        steps, np.broadcast_to(L2.W, (B,) + L2.W.shape), np.broadcast_to(L2.b, (B, 4)), lo, hi, mags=mags
    )
    rows = np.repeat(np.arange(B), 4)
    gathered = backsubstitute(
        steps, np.tile(L2.W, (B, 1))[:, None, :], np.tile(L2.b, B)[:, None], lo, hi, mags=mags, rows=rows
    )
    np.testing.assert_allclose(gathered.lower.reshape(B, 4), dense.lower, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gathered.upper.reshape(B, 4), dense.upper, rtol=1e-12, atol=1e-12)
    x = box_samples(rng, lo[2], hi[2])
    y = x @ L1.W.T + L1.b
    y = np.maximum(y, 0) @ L2.W.T + L2.b
    assert np.all(y >= dense.lower[2]) and np.all(y <= dense.upper[2])
    assert np.all(x @ dense.lower_A[2].T + dense.lower_b[2] <= y)
    assert np.all(y <= x @ dense.upper_A[2].T + dense.upper_b[2])


def test_bisect_boxes_halves_cover_the_box():
    lo, hi = np.zeros((2, 3)), np.ones((2, 3))
    L, U = bisect_boxes(lo, hi, np.array([0, 2]))
    assert L.shape == (4, 3)
    np.testing.assert_array_equal(U[0], [0.5, 1, 1])
    np.testing.assert_array_equal(L[3], [0, 0, 0.5])


@pytest.mark.parametrize("kind", list(ACTS))
@pytest.mark.parametrize("seed", [0, 1])
def test_an_input_term_in_the_objective_is_bounded_soundly_and_keeps_the_dependency(kind, seed):
    """Objectives `C net(x) + D x - e`: every sampled value lies above the lower bound (all modes), and with
    D cancelling the network's slope at the centre the bound is far narrower than bounding the two terms apart."""
    rng = np.random.default_rng(500 + seed)
    net = random_net(seed, 3, [6, 5], 2, ACTS[kind])
    lo, hi = random_box(rng, 3)
    lo, hi = lo, lo + (hi - lo) * 0.1  # a small box: the network is nearly affine on it
    C, e = rng.normal(size=(3, 2)), rng.normal(size=3)
    mid, h = (lo + hi) / 2, 1e-6
    J = np.column_stack(
        [(net((mid + h * d)[None]) - net((mid - h * d)[None]))[0] / (2 * h) for d in np.eye(3)]
    )
    D = -C @ J + rng.normal(size=(3, 3)) * 0.01
    x = box_samples(rng, lo, hi)
    obj = net(x) @ C.T + x @ D.T - e
    lb, ub = lo[None], hi[None]
    for opts in ({}, {"backsub_every": False}, {"opts_dense": 2.0}, {"alpha_steps": 4}):
        low = bound_objectives(net.layers, lb, ub, C, e, D=D, **opts)[0][0]
        high = -bound_objectives(net.layers, lb, ub, -C, -e, D=-D, **opts)[0][0]
        assert np.all(obj >= low) and np.all(obj <= high), opts
    # apart: C net(x) - e bounded alone, plus the exact range of D x on the box
    net_low = bound_objectives(net.layers, lb, ub, C, e)[0][0]
    net_high = -bound_objectives(net.layers, lb, ub, -C, -e)[0][0]
    dx_range = np.abs(D) @ (hi - lo)
    together = high - low
    apart = net_high - net_low + dx_range
    assert np.all(together < 0.5 * apart), (together, apart)
    assert np.all(together >= obj.max(axis=0) - obj.min(axis=0))


@pytest.mark.parametrize("seed", range(3))
def test_rounding_slack_covers_an_input_term_at_a_point_input(seed):
    rng = np.random.default_rng(600 + seed)
    net = random_net(seed, 4, [8, 8], 3, [ReLU, lambda: LeakyReLU(0.3)])
    x = rng.normal(size=4) * 10 ** rng.uniform(-2, 2)
    C, D = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)) * 10 ** rng.uniform(-3, 3)
    e = rng.normal(size=2) * 100
    y = exact_output(net, x)
    exact = [
        sum((Fraction(float(C[r, j])) * y[j] for j in range(3)), Fraction(0))
        + sum((Fraction(float(D[r, k])) * Fraction(float(x[k])) for k in range(4)), Fraction(0))
        - Fraction(float(e[r]))
        for r in range(2)
    ]
    low = bound_objectives(net.layers, x[None], x[None], C, e, D=D)[0][0]
    high = -bound_objectives(net.layers, x[None], x[None], -C, -e, D=-D)[0][0]
    for r in range(2):
        assert Fraction(float(low[r])) <= exact[r] <= Fraction(float(high[r]))


def test_an_input_term_of_the_wrong_shape_is_refused():
    net = random_net(0, 3, [4], 2, [ReLU])
    with pytest.raises(ValueError, match="D must have shape"):
        bound_objectives(net.layers, np.zeros((1, 3)), np.ones((1, 3)), np.eye(2), np.zeros(2), D=np.eye(3))


@pytest.mark.parametrize("kind", ["relu", "tanh", "sigmoid", "mixed"])
@pytest.mark.parametrize("seed", range(3))
def test_shared_rows_give_the_bounds_of_the_same_rows_per_box(kind, seed):
    """backsubstitute(shared=True) (rows common to every box, the first activation and affine step by matrix
    products) agrees with the same rows broadcast per box, and its bounds hold at sampled points."""
    rng = np.random.default_rng(700 + seed)
    net = random_net(seed, 3, [12, 10], 4, ACTS[kind])
    B = 6
    lb = rng.normal(size=(B, 3))
    ub = lb + rng.uniform(0.1, 1.5, size=(B, 3))
    keep: list = []
    bound_objectives(net.layers, lb, ub, np.eye(4), np.zeros(4), keep=keep)
    # the steps up to the second activation's input, with the first activation's DeepPoly lines on each box
    W1, b1, W2, b2 = net.layers[0].W, net.layers[0].b, net.layers[2].W, net.layers[2].b
    l, u = keep[0]
    act = net.layers[1]
    mask, s_aff, t_aff = affine_pieces(act, l.reshape(-1), u.reshape(-1))
    ls, lt, us, ut = s_aff.copy(), t_aff.copy(), s_aff.copy(), t_aff.copy()
    R = np.flatnonzero(~mask)
    if R.size:
        ls[R], lt[R], us[R], ut[R] = lines(act, l.reshape(-1)[R], u.reshape(-1)[R]).best(
            l.reshape(-1)[R], u.reshape(-1)[R]
        )
    steps = [("affine", W1, b1), ("act",) + tuple(v.reshape(l.shape) for v in (ls, lt, us, ut))]
    xabs = np.maximum(np.abs(lb), np.abs(ub))
    pre = xabs @ np.abs(W1).T + np.abs(b1)
    mags = [xabs, np.minimum(pre, np.maximum(np.abs(l), np.abs(u)))]
    const = np.broadcast_to(b2, (B, b2.size))
    fast = backsubstitute(steps, W2, const, lb, ub, mags=mags, shared=True)
    slow = backsubstitute(steps, np.broadcast_to(W2, (B,) + W2.shape), const, lb, ub, mags=mags)
    for a, b in [
        (fast.lower, slow.lower),
        (fast.upper, slow.upper),
        (fast.lower_A, slow.lower_A),
        (fast.upper_A, slow.upper_A),
    ]:
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
    for k in range(B):
        x = box_samples(rng, lb[k], ub[k], 500)
        z = (np.maximum(x @ W1.T + b1, 0) if kind == "relu" else act.forward(x @ W1.T + b1)) @ W2.T + b2
        assert np.all(z >= fast.lower[k]) and np.all(z <= fast.upper[k])
        pointwise_low = np.einsum("kn,sn->sk", fast.lower_A[k], x) + fast.lower_b[k]
        pointwise_high = np.einsum("kn,sn->sk", fast.upper_A[k], x) + fast.upper_b[k]
        assert np.all(pointwise_low <= z + 1e-9) and np.all(z <= pointwise_high + 1e-9)


@pytest.mark.parametrize("kind", ["tanh", "relu"])
def test_the_dense_intermediate_bounds_agree_with_the_gathered_rows(kind):
    rng = np.random.default_rng(9)
    net = random_net(2, 3, [16, 16], 2, ACTS[kind])
    lb = rng.normal(size=(5, 3))
    ub = lb + 2.0
    C, e = rng.normal(size=(3, 2)), rng.normal(size=3)
    dense = bound_objectives(net.layers, lb, ub, C, e, opts_dense=0.0)[0]
    gathered = bound_objectives(net.layers, lb, ub, C, e, opts_dense=2.0)[0]
    np.testing.assert_allclose(dense, gathered, rtol=1e-8, atol=1e-8)
