"""Tests of nncs/nn/verify.py: sound objective bounds, holds/violated on nets with known answers, ACAS Xu subset."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncs  # noqa: F401
from nncs.nn.network import LeakyReLU, Linear, Network, ReLU, SatLin, SatLins, Sigmoid, Tanh
from nncs.nn.verify import VerifyOptions, attack, bisect_boxes, bound_objectives, verify_property
from nncs.vnnlib import parse_vnnlib
from tests.nn.random_nets import random_net as _random_net

ACTS = [ReLU, lambda: LeakyReLU(0.1), Tanh, Sigmoid, SatLin, SatLins]


def random_net(seed, dims):
    return _random_net(seed, dims[0], dims[1:-1], dims[-1], ACTS)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_in=st.integers(1, 4),
    depth=st.integers(1, 4),
    backsub=st.booleans(),
    dense=st.sampled_from([0.0, 0.5, 2.0]),
)
def test_objective_bounds_are_sound_by_sampling(seed, n_in, depth, backsub, dense):
    rng = np.random.default_rng(seed)
    net = random_net(seed, [n_in] + [5] * depth + [3])
    lb = rng.uniform(-1, 0.5, size=(4, n_in))
    ub = lb + rng.uniform(0.0, 1.0, size=(4, n_in))
    C = rng.normal(size=(2, 3))
    e = rng.normal(size=2)
    low, G = bound_objectives(
        net.layers, lb, ub, C, e, backsub, dense
    )  # dense 0: per-box blocks, 2: gathered rows
    assert low.shape == (4, 2) and G.shape == (4, 2, n_in)
    for b in range(4):
        x = lb[b] + (ub[b] - lb[b]) * rng.random(size=(300, n_in))
        vals = net(x) @ C.T - e
        assert np.all(vals >= low[b] - 1e-12)


def _prop_text(n_in, n_out, lo, hi, unsafe):
    text = "".join(f"(declare-const X_{i} Real)\n" for i in range(n_in))
    text += "".join(f"(declare-const Y_{i} Real)\n" for i in range(n_out))
    for i in range(n_in):
        text += f"(assert (>= X_{i} {float(lo[i])!r}))\n(assert (<= X_{i} {float(hi[i])!r}))\n"
    return text + unsafe


@pytest.mark.parametrize("seed,reuse", [(s, s % 2 == 1) for s in range(6)])
def test_answers_agree_with_dense_sampling(seed, reuse):
    net = random_net(seed, [2, 6, 6, 1])
    lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    g = np.linspace(-1, 1, 401)
    y = net(np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2))[:, 0]
    lip = np.prod([np.abs(lay.W).sum(axis=1).max() for lay in net.layers if isinstance(lay, Linear)])
    gap = lip * 2.0 / 400  # the grid's maximum is within this of the true maximum
    above = float(y.max() + gap + 0.05)
    held = verify_property(net, parse_vnnlib(_prop_text(2, 1, lo, hi, f"(assert (>= Y_0 {above!r}))\n")),
                           VerifyOptions(timeout=60, reuse_bounds=reuse))  # fmt: skip
    assert held.result in ("holds", "timeout")  # never violated: no input reaches `above`
    assert held.result == "holds"
    below = float(y.max() - 0.05)
    bad = verify_property(net, parse_vnnlib(_prop_text(2, 1, lo, hi, f"(assert (>= Y_0 {below!r}))\n")),
                          VerifyOptions(reuse_bounds=reuse))  # fmt: skip
    assert bad.result == "violated"
    x = np.array(bad.counterexample["x"])
    assert np.all(x >= lo) and np.all(x <= hi) and net(x)[0] >= below
    np.testing.assert_array_equal(net(x), bad.counterexample["y"])


def test_disjunctive_output_and_input_cases():
    # y = (x0 + x1, x0 - x1) on two boxes; unsafe: y0 >= 3.5 or y1 <= -2.5: box A safe, box B reaches y0 = 4
    net = Network([Linear(np.array([[1.0, 1.0], [1.0, -1.0]]), [0.0, 0.0])])
    text = "".join(f"(declare-const X_{i} Real)\n(declare-const Y_{i} Real)\n" for i in range(2))
    box_a = "(and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1))"
    box_b = "(and (>= X_0 1) (<= X_0 2) (>= X_1 1) (<= X_1 2))"
    unsafe = "(assert (or (>= Y_0 3.5) (<= Y_1 -2.5)))\n"
    assert verify_property(net, parse_vnnlib(text + f"(assert {box_a})\n" + unsafe)).result == "holds"
    r = verify_property(net, parse_vnnlib(text + f"(assert (or {box_a} {box_b}))\n" + unsafe))
    assert r.result == "violated" and sum(r.counterexample["y"][:1]) >= 3.5


def test_dimension_mismatch_is_an_error():
    net = Network([Linear(np.eye(3), np.zeros(3))])
    with pytest.raises(ValueError, match="3 / 3"):
        verify_property(net, parse_vnnlib(_prop_text(2, 1, [0, 0], [1, 1], "(assert (>= Y_0 1))\n")))


# A fast subset of ACAS Xu with known answers (ground_truth.csv); each takes a few seconds here.
# 1_2 phi1 needs the influence split (smear splitting: > 365k sub-boxes), 1_9 phi7's counterexample lies on the
# input box's boundary (4M uniform samples miss it).
ACAS_SUBSET = [
    ("1_7", 3, "violated"),
    ("2_1", 2, "violated"),
    ("1_9", 4, "violated"),
    ("2_7", 3, "holds"),
    ("3_8", 3, "holds"),
    ("1_2", 1, "holds"),
    ("1_9", 7, "violated"),
]


@pytest.mark.parametrize("net_id,prop,expected", ACAS_SUBSET)
def test_acasxu_subset_matches_ground_truth(shared_benchmarks, net_id, prop, expected):
    import csv

    from nncs.nn import load_network
    from nncs.vnnlib import load_vnnlib

    d = shared_benchmarks / "acasxu"
    onnx = f"onnx/ACASXU_run2a_{net_id}_batch_2000.onnx"
    vnn = f"vnnlib/prop_{prop}.vnnlib"
    with (d / "ground_truth.csv").open() as f:
        truth = {(r["onnx"], r["vnnlib"]): r["expected"] for r in csv.DictReader(f)}
    assert truth[(onnx, vnn)] == expected
    net = load_network(d / onnx)
    spec = load_vnnlib(d / vnn)
    r = verify_property(net, spec, VerifyOptions(timeout=60))
    assert r.result == expected
    if expected == "violated":
        x, y = np.array(r.counterexample["x"]), net(np.array(r.counterexample["x"]))
        assert spec.violated_by(x, y)


@pytest.mark.parametrize("seed", [0, 1])
def test_alpha_optimised_bounds_are_sound_and_no_looser(seed):
    rng = np.random.default_rng(seed)
    dims = [3, 8, 8, 2]
    layers = []
    for k in range(3):
        layers.append(Linear(rng.normal(size=(dims[k + 1], dims[k])), rng.normal(size=dims[k + 1]) * 0.5))
        if k < 2:
            layers.append(ReLU())
    net = Network(layers)
    lb = rng.uniform(-1, 0.5, size=(16, 3))
    ub = lb + rng.uniform(0.1, 1.0, size=(16, 3))
    C, e = rng.normal(size=(2, 2)), rng.normal(size=2)
    plain, _ = bound_objectives(net.layers, lb, ub, C, e)
    opt, _ = bound_objectives(net.layers, lb, ub, C, e, alpha_steps=6)
    assert np.all(opt >= plain) and np.any(opt > plain + 1e-9)
    for b in range(16):
        x = lb[b] + (ub[b] - lb[b]) * rng.random(size=(400, 3))
        assert np.all(net(x) @ C.T - e >= opt[b] - 1e-12)


def _cancelling_net() -> Network:
    """y = x0 + (relu(x1) + relu(-x1)) - (relu(x1) + relu(-x1)) = x0: x1 has no effect on y, but crosses 4 ReLUs.

    DeepPoly's bounding function of y has no x1 term (the relaxations cancel), so `|coefficient| * width` never
    blames x1, while the gaps of the four crossing ReLUs are all due to it.
    """
    W1 = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [0.0, 1.0], [0.0, -1.0]])
    return Network(
        [Linear(W1, np.zeros(5)), ReLU(), Linear(np.array([[1.0, 1.0, 1.0, -1.0, -1.0]]), np.zeros(1))]
    )


def test_influence_blames_the_input_behind_the_relaxation_gaps():
    net = _cancelling_net()
    lb, ub = np.array([[0.0, -1.0]]), np.array([[0.1, 1.0]])
    x = lb + (ub - lb) * np.random.default_rng(0).random((1000, 2))
    np.testing.assert_allclose(net(x)[:, 0], x[:, 0], atol=1e-12)  # the construction is right
    low, G, infl = bound_objectives(net.layers, lb, ub, np.array([[-1.0]]), np.array([-0.6]), influence=True)
    low2, G2 = bound_objectives(net.layers, lb, ub, np.array([[-1.0]]), np.array([-0.6]))
    np.testing.assert_array_equal(low, low2)  # the score never changes the bound
    np.testing.assert_array_equal(G, G2)
    assert low[0, 0] < 0  # y <= 0.6 is not proven on the whole box: the gaps of the crossing ReLUs cost ~2
    smear = np.abs(G[0, 0]) * (ub - lb)[0]
    assert infl.shape == (1, 1, 2) and np.all(infl >= smear - 1e-12)
    assert infl[0, 0, 1] > infl[0, 0, 0]  # x1 (width 2, two crossing ReLUs) is to blame, not x0
    assert smear[1] < 1e-9 < smear[0]  # the bounding function's x1 term cancels: smear blames x0 ...
    assert infl[0, 0, 1] > 1.0  # ... while x1's share of the four ReLUs' gaps (0.5 each at the middle) is ~2


def test_influence_split_proves_what_smear_splitting_does_not():
    net = _cancelling_net()
    prop = parse_vnnlib(_prop_text(2, 1, [0.0, -1.0], [0.1, 1.0], "(assert (>= Y_0 0.6))\n"))
    r = verify_property(net, prop, VerifyOptions(timeout=20, split="influence", box_attack=0))
    assert r.result == "holds" and r.stats["boxes"] <= 3  # one split of x1 at 0 makes every ReLU stable
    smear = verify_property(net, prop, VerifyOptions(timeout=3, split="smear", box_attack=0))
    assert smear.result != "holds" or smear.stats["boxes"] > r.stats["boxes"]


def test_unknown_split_rule_is_an_error():
    with pytest.raises(ValueError, match="split"):
        VerifyOptions(split="random")


def test_attack_tries_the_input_box_boundary():
    # y = 1000 relu(x0 + x1 - 1.9995) >= 0.4 only where x0 + x1 >= 1.9996: a corner of area ~1e-7, where
    # uniform samples never land and the gradient is zero everywhere else; the corner (1, 1) itself violates
    net = Network(
        [
            Linear(np.array([[1.0, 1.0]]), np.array([-1.9995])),
            ReLU(),
            Linear(np.array([[1000.0]]), np.zeros(1)),
        ]
    )
    prop = parse_vnnlib(_prop_text(2, 1, [0.0, 0.0], [1.0, 1.0], "(assert (>= Y_0 0.4))\n"))
    found = attack(net, prop, VerifyOptions(attack_samples=2000, attack_restarts=1, attack_steps=1))
    assert found is not None
    x, y = found
    assert x.sum() >= 1.9996 and y[0] >= 0.4 and prop.violated_by(x, net(x))


def test_bisect_boxes_halves_each_box_along_its_coordinate():
    lb, ub = np.array([[0.0, -1.0], [2.0, 0.0]]), np.array([[1.0, 1.0], [4.0, 0.5]])
    L, U = bisect_boxes(lb, ub, np.array([1, 0]))
    np.testing.assert_array_equal(L, [[0.0, -1.0], [2.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
    np.testing.assert_array_equal(U, [[1.0, 0.0], [3.0, 0.5], [1.0, 1.0], [4.0, 0.5]])


@pytest.mark.parametrize("n, scale", [(200, 10.0), (2000, 1e4)])
def test_objective_bounds_survive_cancellation(n, scale):
    # y = W2 relu(W1 x) with W2 W1 cancelled to ~1e-16 of its terms: every rounding slack must be sized by the
    # terms (|W2| |W1| x ~ 1e4 .. 1e11), not by the tiny result; exact range from rational arithmetic
    from fractions import Fraction as F

    rng = np.random.default_rng(1)
    W1 = np.abs(rng.normal(size=(n, 1))) * scale
    W2 = rng.normal(size=(1, n)) * scale
    W2[0, -1] -= (W2 @ W1)[0, 0] / W1[-1, 0]
    coef = sum(
        F(float(a)) * F(float(b)) for a, b in zip(W2[0], W1[:, 0])
    )  # y = coef * x exactly, x in [1, 2]
    net = Network([Linear(W1, np.zeros(n)), ReLU(), Linear(W2, np.zeros(1))])
    low, _ = bound_objectives(
        net.layers, np.array([[1.0]]), np.array([[2.0]]), np.array([[1.0], [-1.0]]), np.zeros(2)
    )
    assert F(float(low[0, 0])) <= min(coef, 2 * coef) and F(float(-low[0, 1])) >= max(coef, 2 * coef)
