"""Tests of `nncs.dynamics.flowpipe.remainder_bound`: the linearisation remainder f(z) - f(z*) - J(z*)(z - z*)
of sampled points of random zonotopes lies in every bound ("box", "quadratic", "cubic"), each tighter bound is
inside the looser ones, the quadratic one is close to the sampled range on a correlated set where the box one is
not, the cubic one where the Hessian varies and the quadratic one is not, and third- and fourth-order terms that
vanish at the expansion point are still covered."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nncs import plants
from nncs.dynamics import flowpipe as flowpipe_module
from nncs.dynamics.flowpipe import FlowpipeOptions, remainder_bound
from nncs.dynamics.symbolic import SymbolicPlant

NONLINEAR = ["pendulum", "van_der_pol", "double_pendulum", "unicycle", "quad", "tora", "cartpole", "acc"]


def _remainders(plant, z_star, pts):
    """f(z) - f(z*) - J(z*)(z - z*) at the points (float evaluation)."""
    f0, J = plant.linearize(z_star)
    f0, J = np.asarray(f0), np.asarray(J)
    fz = np.array([np.asarray(plant.f_joint(z)) for z in pts])
    return fz - f0 - (pts - z_star) @ J.T


def _zonotope(plant, rng, scale):
    """A random zonotope in z = [x; u; w] about the plant's example point: centre, generators, box radii."""
    lo, hi = plants.example_joint_box(plant.name)
    N = lo.size
    c = rng.uniform(lo, hi)
    G = rng.normal(size=(N, 2 * N)) * scale * (hi - lo + 1e-3)[:, None] / N
    r = rng.uniform(0, scale, size=N) * (hi - lo + 1e-3) / 4
    return c, G, r


def _points(rng, c, G, r, k):
    beta = rng.choice([-1.0, 1.0], size=(k, G.shape[1])) * rng.uniform(0.5, 1.0, size=(k, G.shape[1]))
    gamma = rng.uniform(-1.0, 1.0, size=(k, len(r)))
    return c + beta @ G.T + gamma * r


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(NONLINEAR),
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([0.05, 0.3, 1.0]),
    offset=st.floats(0.0, 0.5),
)
def test_sampled_remainders_lie_in_both_bounds(name, seed, scale, offset):
    plant = plants.get(name)
    rng = np.random.default_rng(seed)
    c, G, r = _zonotope(plant, rng, scale)
    z_star = c + offset * G[:, 0]  # the expansion point need not be the centre (the flowpipe's is not)
    pts = np.vstack([_points(rng, c, G, r, 300), z_star])
    R = _remainders(plant, z_star, pts)
    slack = 1e-9 * (1.0 + np.abs(R).max(axis=0))
    bounds = {}
    for method in ("box", "quadratic", "cubic"):
        L = bounds[method] = remainder_bound(plant, z_star, c, G, r, method)
        assert np.all(R >= L.lo - slack) and np.all(R <= L.hi + slack), (name, method)
    box, quad, cubic = bounds["box"], bounds["quadratic"], bounds["cubic"]
    assert np.all(quad.lo >= box.lo) and np.all(quad.hi <= box.hi)  # intersected with the box bound
    assert np.all(cubic.lo >= quad.lo) and np.all(cubic.hi <= quad.hi)  # and the cubic with the quadratic


def test_on_a_correlated_set_the_quadratic_bound_is_near_the_sampled_range_and_the_box_one_is_not():
    # x' = x y over a thin diagonal set y = -x: the remainder (x - x*)(y - y*) = -d^2 in [-0.01, 0]
    plant = SymbolicPlant(["x", "y"], [], ["x*y", "0"], name="product")
    c, G, r = np.zeros(2), np.array([[0.1], [-0.1]]), np.zeros(2)
    pts = c + np.linspace(-1, 1, 201)[:, None] * G[:, 0]
    R = _remainders(plant, c, pts)[:, 0]
    sampled = R.max() - R.min()
    quad = remainder_bound(plant, c, c, G, r)
    box = remainder_bound(plant, c, c, G, r, "box")
    assert quad.lo[0] <= R.min() and R.max() <= quad.hi[0]
    assert quad.width()[0] <= 1.01 * sampled + 1e-15
    assert box.width()[0] >= 1.9 * sampled  # the box [-0.1, 0.1]^2 gives [-0.01, 0.01]


def test_where_the_hessian_varies_the_cubic_bound_is_near_the_sampled_range_and_the_quadratic_one_is_not():
    # x' = x^3 about x* = 0.5 on [0, 1]: the remainder 1.5 d^2 + d^3 (d = x - x*) lies in [0, 0.5]. The cubic
    # bound holds each power over [-0.5, 0.5]: [0, 0.375] + [-0.125, 0.125]; the quadratic one is no better than
    # the box bound 0.5 H(B) D^2 = 0.5 [0, 6] [0, 0.25] (its own split gives [0, 0.375] + 0.5 [-3, 3] [0, 0.25])
    plant = SymbolicPlant(["x"], [], ["x**3"], name="cube")
    z_star, c, G, r = np.array([0.5]), np.array([0.5]), np.array([[0.3]]), np.array([0.2])
    R = _remainders(plant, z_star, np.linspace(0.0, 1.0, 201)[:, None])[:, 0]
    sampled = R.max() - R.min()
    cubic = remainder_bound(plant, z_star, c, G, r, "cubic")
    quad = remainder_bound(plant, z_star, c, G, r, "quadratic")
    assert cubic.lo[0] <= R.min() and R.max() <= cubic.hi[0]
    assert cubic.width()[0] <= 1.26 * sampled  # 0.625 against 0.5
    assert quad.width()[0] >= 1.45 * sampled  # 0.75


def test_a_third_derivative_that_varies_over_the_set_is_covered_by_the_fourth_order_rest():
    # x' = x^4 about x* = 0: the Hessian and the third derivative vanish at x*, the remainder d^4 is [0, 1]
    plant = SymbolicPlant(["x"], [], ["x**4"], name="quartic")
    c, G, r = np.zeros(1), np.array([[0.6]]), np.array([0.4])
    R = _remainders(plant, np.zeros(1), np.linspace(-1, 1, 101)[:, None])[:, 0]
    L = remainder_bound(plant, np.zeros(1), c, G, r, "cubic")
    assert L.lo[0] <= 0.0 and 1.0 <= L.hi[0]
    assert np.all((L.lo[0] <= R) & (R <= L.hi[0]))


def test_the_cubic_bound_reduces_the_generators_of_a_large_set_to_bound_its_size(monkeypatch):
    # quad (12 states, 3 inputs): the cubic term's generators are reduced to N, and the bound stays sound
    plant = plants.get("quad")
    rng = np.random.default_rng(3)
    c, G, r = _zonotope(plant, rng, 0.3)
    sizes = []
    original = flowpipe_module._cubic_form_bound

    def spy(T, D):
        sizes.append(D.shape[1])
        return original(T, D)

    monkeypatch.setattr(flowpipe_module, "_cubic_form_bound", spy)
    L = remainder_bound(plant, c, c, G, r, "cubic")
    assert sizes == [1 + plant.n_joint]
    R = _remainders(plant, c, _points(rng, c, G, r, 300))
    assert np.all(R >= L.lo - 1e-9) and np.all(R <= L.hi + 1e-9)


def test_the_remainder_option_is_checked():
    with pytest.raises(ValueError, match="remainder"):
        FlowpipeOptions(remainder="quartic")


def test_a_hessian_that_varies_over_the_set_is_covered_by_the_third_order_term():
    # x' = x^3 about x* = 0: the Hessian 6x is 0 at x* and the remainder is d^3, exactly [-1, 1] on [-1, 1]
    plant = SymbolicPlant(["x"], [], ["x**3"], name="cubic")
    c, G, r = np.zeros(1), np.array([[0.6]]), np.array([0.4])
    pts = np.linspace(-1, 1, 101)[:, None]
    R = _remainders(plant, np.zeros(1), pts)[:, 0]
    for method in ("box", "quadratic"):
        L = remainder_bound(plant, np.zeros(1), c, G, r, method)
        assert L.lo[0] <= -1.0 and 1.0 <= L.hi[0], method
        assert np.all((L.lo[0] <= R) & (R <= L.hi[0]))


@pytest.mark.parametrize("order, n, N, M", [(2, 4, 6, 19), (3, 4, 6, 19), (3, 12, 15, 16)])
def test_form_coefficients_contain_every_contraction_of_matrices_in_the_interval(order, n, N, M):
    # midpoint-radius contraction: for random fixed F and matrices D~ drawn from the interval matrix D, the
    # contraction sum F D~ D~ (D~) computed in extended precision lies in the enclosure
    rng = np.random.default_rng(order * 100 + N)
    F = rng.normal(size=(n,) + (N,) * order) * 10.0 ** rng.integers(-3, 3)
    mid = rng.normal(size=(N, M)) * rng.uniform(1e-3, 10.0, size=(1, M))
    rad = np.abs(mid) * rng.choice([0.0, 1e-3, 1e-12], size=(N, M))
    D = flowpipe_module.iv.Interval(mid - rad, mid + rad)
    C = flowpipe_module._form_coefficients(F, D)
    subscripts = flowpipe_module._FORM_SUBSCRIPTS[order]
    for _ in range(5):
        Dt = (mid + rng.uniform(-1, 1, size=mid.shape) * rad).astype(np.longdouble)
        exact = np.einsum(subscripts, F.astype(np.longdouble), *(Dt,) * order)
        assert np.all(C.lo <= exact) and np.all(exact <= C.hi)
    # and it is tight: no wider than the interval radius allows plus a few hundred ulps
    spread = np.einsum(subscripts, np.abs(F), *((np.abs(mid) + rad),) * order) - np.einsum(
        subscripts, np.abs(F), *((np.abs(mid)),) * order
    )
    scale = np.einsum(subscripts, np.abs(F), *((np.abs(mid) + rad),) * order)
    assert np.all(C.hi - C.lo <= 2 * spread + 1e-12 * scale + 1e-300)


def test_form_coefficients_cover_the_rounding_of_a_cancelling_sum():
    # sum_jk F_jk over D = ones: 1e16 + 1 + 1 - 1e16 = 2 exactly, while floating point loses the ones
    F = np.zeros((1, 3, 3))
    F[0, 0, 0], F[0, 0, 1], F[0, 1, 0], F[0, 2, 2] = 1e16, 1.0, 1.0, -1e16
    D = flowpipe_module.iv.Interval(np.ones((3, 1)))
    C = flowpipe_module._form_coefficients(F, D)
    assert C.lo[0, 0, 0] <= 2.0 <= C.hi[0, 0, 0]
    assert C.hi[0, 0, 0] - C.lo[0, 0, 0] < 1e4  # the error bound, about 4 (2 N + 8) eps 2e16
