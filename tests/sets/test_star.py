"""Tests of nncs/sets/star.py: exact maps and intersections, LP bounds against scipy, sampling, polygons."""

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import linprog

import nncs
from nncs.sets import lp
from tests.sets.strategies import random_affine, random_star, seeds, stars

SETTINGS = settings(max_examples=30, deadline=None)


def scipy_range(star: nncs.Star, direction: np.ndarray) -> tuple[float, float]:
    """min and max of direction.x over the star, by scipy's linprog (an independent LP path)."""
    obj = star.V.T @ direction
    kw = dict(
        A_ub=star.C if star.nconstraints else None,
        b_ub=star.d if star.nconstraints else None,
        bounds=list(zip(star.lb, star.ub)),
        method="highs",
    )
    lo = linprog(obj, **kw)
    hi = linprog(-obj, **kw)
    assert lo.status == 0 and hi.status == 0
    return direction @ star.c + lo.fun, direction @ star.c - hi.fun


def test_known_bounds_and_intersection():
    s = nncs.Box([0, 0], [1, 1]).to_star().affine_map(np.array([[1.0, 1.0], [1.0, -1.0]]), [1.0, 0.0])
    lo, hi = s.bounds()
    np.testing.assert_allclose(lo, [1, -1], atol=1e-9)
    np.testing.assert_allclose(hi, [3, 1], atol=1e-9)
    cut = s.intersect_halfspace([1.0, 0.0], 2.0)  # keeps x0 <= 2: the triangle (1,0), (2,-1), (2,1)
    lo, hi = cut.bounds()
    np.testing.assert_allclose(lo, [1, -1], atol=1e-9)
    np.testing.assert_allclose(hi, [2, 1], atol=1e-9)
    assert cut.contains([[1.5, 0.4], [1.5, 0.6], [2.5, 0]]).tolist() == [True, False, False]
    assert not cut.is_empty()
    assert cut.intersect_halfspace([-1.0, 0.0], -2.5).is_empty()
    assert s.box().contains([[3, 1], [1, -1]]).all()


def test_box_of_predicate_is_cheap_outer():
    s = nncs.Box([0, 0], [1, 1]).to_star().intersect_halfspace([1.0, 1.0], 1.0)
    b = s.box()
    assert np.all(b.ub >= 1) and np.allclose(b.ub, [1, 1], rtol=0, atol=1e-14)  # predicate bounds only (plus
    # the outward rounding slack): looser than the LP bounds
    lo, hi = s.bounds()
    np.testing.assert_allclose(hi, [1, 1], atol=1e-9)
    assert s.support_function([1.0, 1.0])[0] == pytest.approx(1.0, abs=1e-9)


@SETTINGS
@given(stars(), seeds)
def test_affine_map_sound_and_bounds_tight(star, seed):
    rng = np.random.default_rng(seed)
    pts = star.sample(100, rng)
    assert star.contains(pts).all()
    lo, hi = star.bounds()
    assert np.all(pts >= lo - 1e-9) and np.all(pts <= hi + 1e-9)
    assert star.box().contains(pts).all()
    for i in range(star.dim):
        s_lo, s_hi = scipy_range(star, np.eye(star.dim)[i])
        assert lo[i] <= s_lo + 1e-9 and hi[i] >= s_hi - 1e-9  # outer
        assert lo[i] == pytest.approx(s_lo, abs=1e-6) and hi[i] == pytest.approx(s_hi, abs=1e-6)  # tight
    W, b = random_affine(rng, star.dim, 3)
    image = star.affine_map(W, b)
    assert image.contains(pts @ W.T + b).all()
    assert image.nvars == star.nvars


@SETTINGS
@given(stars(), seeds)
def test_bounds_attained_by_star_points(star, seed):
    program = lp.LinearProgram(star.C, star.d, star.lb, star.ub)
    lo, hi = star.bounds()
    for i in range(star.dim):
        for sign, bound in ((1, lo[i]), (-1, hi[i])):
            a, _ = program.argmin(sign * star.V[i])
            x = star.c + star.V @ a
            assert star.contains(x, tol=1e-6)[0]
            assert x[i] == pytest.approx(bound, abs=1e-6)


@SETTINGS
@given(stars(), seeds)
def test_support_function_and_zonotope_outer(star, seed):
    rng = np.random.default_rng(seed)
    pts = star.sample(100, rng)
    directions = rng.normal(size=(5, star.dim))
    h = star.support_function(directions)
    assert np.all(pts @ directions.T <= h + 1e-9)
    for d, value in zip(directions, h):
        assert value == pytest.approx(scipy_range(star, d)[1], abs=1e-6)
    z = star.to_zonotope()
    assert z.contains(pts).all()
    tight = star.tighten_predicate_bounds()
    assert np.all(tight.lb >= star.lb) and np.all(tight.ub <= star.ub)
    assert tight.contains(pts).all()


@SETTINGS
@given(stars(max_dim=3), stars(max_dim=3), seeds)
def test_products_and_sums(a, b, seed):
    rng = np.random.default_rng(seed)
    pa, pb = a.sample(40, rng), b.sample(40, rng)
    assert a.cartesian_product(b).contains(np.hstack([pa, pb])).all()
    if a.dim == b.dim:
        assert a.minkowski_sum(b).contains(pa + pb).all()


def test_shared_product_keeps_dependency():
    rng = np.random.default_rng(7)
    x = random_star(rng, 2, 3, 2)
    # an "output" star over x's predicate plus one appended variable, as neural reach builds it
    extra_C = np.hstack([rng.normal(size=(1, 3)), [[1.0]]])
    u = nncs.Star(
        [0.5],
        np.hstack([rng.normal(size=(1, 3)), [[2.0]]]),
        np.vstack([np.hstack([x.C, np.zeros((x.nconstraints, 1))]), extra_C]),
        np.concatenate([x.d, [5.0]]),
        np.append(x.lb, -1),
        np.append(x.ub, 1),
    )
    joint = x.cartesian_product(u, shared=True)
    assert joint.nvars == 4 and joint.dim == 3
    a = u.sample_predicate(200, rng)
    points = np.hstack([x.c + a[:, :3] @ x.V.T, u.c + a @ u.V.T])
    assert joint.contains(points).all()
    # dependency: a point pairing x from one predicate value with u from another is (generally) outside
    mixed = np.hstack([points[:50, :2], points[50:100, 2:]])
    separate = x.cartesian_product(u)
    assert separate.contains(mixed).all()
    assert not joint.contains(mixed).all()
    with pytest.raises(ValueError, match="predicate"):
        x.cartesian_product(random_star(rng, 1, 4, 1), shared=True)


@SETTINGS
@given(stars(), seeds)
def test_samples_satisfy_predicate(star, seed):
    a = star.sample_predicate(200, np.random.default_rng(seed))
    assert np.all(a >= star.lb - 1e-9) and np.all(a <= star.ub + 1e-9)
    assert np.all(a @ star.C.T <= star.d + 1e-7)


def test_sampling_of_thin_predicate_uses_hit_and_run():
    # x0 + x1 <= -1.9 inside [-1, 1]^2 is a tiny corner: rejection alone would almost never hit it
    s = nncs.Box([-1, -1], [1, 1]).to_star().intersect_halfspace([1.0, 1.0], -1.9)
    pts = s.sample(300, 0)
    assert np.all(pts.sum(axis=1) <= -1.9 + 1e-9)
    assert np.all(pts >= -1 - 1e-12)
    assert np.ptp(pts[:, 0]) > 0.05  # spread over the corner, not one point


def test_sampling_of_flat_predicate():
    # equality x0 = x1 written as two inequalities: an empty interior
    s = nncs.Box([-1, -1], [1, 1]).to_star().intersect_halfspace([[1.0, -1.0], [-1.0, 1.0]], [0.0, 0.0])
    pts = s.sample(50, 1)
    np.testing.assert_allclose(pts[:, 0], pts[:, 1], atol=1e-6)
    assert np.ptp(pts[:, 0]) > 0.1


@settings(max_examples=15, deadline=None)
@given(stars(max_dim=3, max_vars=4, max_constraints=4), seeds)
def test_polygon_2d_inner_and_close(star, seed):
    rng = np.random.default_rng(seed)
    if star.dim < 2:
        star = star.cartesian_product(nncs.Box([0], [1]).to_star())
    poly = star.polygon_2d((0, 1), tol=1e-4)
    # every vertex is a projected point of the star: check against the star projected to 2-D
    proj = star.affine_map(np.eye(star.dim)[:2])
    assert proj.contains(poly, tol=1e-6).all()
    # every sample projects within tol * diameter of the polygon: check with the polygon's half-planes
    pts = star.sample(200, rng)[:, :2]
    diameter = max(np.ptp(poly, axis=0).max(), 1e-9)
    if len(poly) >= 3:
        edges = np.roll(poly, -1, axis=0) - poly
        normals = np.column_stack([edges[:, 1], -edges[:, 0]])
        lengths = np.linalg.norm(normals, axis=1)
        ok = lengths > 1e-12
        normals = normals[ok] / lengths[ok, None]
        offsets = np.einsum("ij,ij->i", normals, poly[ok])
        assert np.all(pts @ normals.T <= offsets + 2e-4 * diameter + 1e-9)


@pytest.mark.parametrize(
    "args, word",
    [
        (([0, 0], [[1, 0]], [], [], [0], [1]), "V"),
        (([0], [[1, 0]], [[1, 0, 0]], [1], [0, 0], [1, 1]), "C"),
        (([0], [[1, 0]], [[1, 0]], [1, 2], [0, 0], [1, 1]), "d"),
        (([0], [[1, 0]], [], [], [0, 2], [1, 1]), "lb > ub"),
        (([0], [[1, np.nan]], [], [], [0, 0], [1, 1]), "V"),
        (([0], [[1, 0]], [], [], [0, -np.inf], [1, 1]), "lb"),
        (([0], [[1, 0]], [], [], [0, 0], [1]), "ub"),
    ],
)
def test_bad_arguments(args, word):
    with pytest.raises(ValueError, match=word):
        nncs.Star(*args)


def test_bad_operations():
    s = nncs.Box([0, 0], [1, 1]).to_star()
    with pytest.raises(ValueError, match="W"):
        s.affine_map(np.ones((2, 3)))
    with pytest.raises(ValueError, match="b"):
        s.affine_map(np.ones((2, 2)), [1, 2, 3])
    with pytest.raises(ValueError, match="H"):
        s.intersect_halfspace([1, 0, 0], 1)
    with pytest.raises(ValueError, match="dims"):
        s.polygon_2d((1, 1))
    with pytest.raises(ValueError, match="points"):
        s.contains(np.zeros((3, 3)))


def test_empty_star_bounds_raise():
    s = nncs.Box([0, 0], [1, 1]).to_star().intersect_halfspace([1.0, 0.0], -1.0)
    assert s.is_empty()
    with pytest.raises(lp.InfeasibleLP):
        s.bounds()


def test_bounds_and_support_are_outer_in_exact_arithmetic():
    # {c + v a0 : a0 + a1 <= 0.5, a in [-1, 1]^2} has the exact maximum c + v (a0 = 1, a1 = -1); with |c| ~ 1e4
    # adding the centre to the LP's bound can round below it
    from fractions import Fraction as F

    rng = np.random.default_rng(4)
    for _ in range(100):
        c, v = rng.uniform(1e3, 1e4, 1), rng.uniform(0.1, 1)
        s = nncs.Star(c, [[v, 0.0]], [[1.0, 1.0]], [0.5], [-1, -1], [1, 1])
        exact_max, exact_min = F(float(c[0])) + F(float(v)), F(float(c[0])) - F(float(v))
        lo, hi = s.bounds()
        assert F(float(hi[0])) >= exact_max and F(float(lo[0])) <= exact_min
        assert F(float(s.support_function([1.0])[0])) >= exact_max
        assert F(float(s.support_function_outer([1.0])[0])) >= exact_max
        assert F(float(s.box().ub[0])) >= exact_max
        z = s.to_zonotope()
        assert F(float(z.c[0])) + sum(abs(F(float(g))) for g in z.G[0]) >= exact_max


def test_with_basis_keeps_the_predicate_and_shares_the_lp_model():
    s = nncs.Box([0, 0], [1, 1]).to_star().intersect_halfspace([1.0, 1.0], 1.0)
    s.bounds()  # builds the LP model
    W = np.array([[2.0, -1.0], [0.5, 0.5]])
    mapped = s.affine_map(W, [1.0, 0.0])
    assert mapped.lp_program is s.lp_program
    fresh = nncs.Star(mapped.c, mapped.V, s.C, s.d, s.lb, s.ub)
    np.testing.assert_allclose(mapped.bounds(), fresh.bounds(), rtol=0, atol=1e-12)
    pts = s.sample(200, 0) @ W.T + [1.0, 0.0]
    assert mapped.contains(pts).all()


@settings(max_examples=15, deadline=None)
@given(stars(max_dim=4, max_vars=4, max_constraints=4), seeds)
def test_polygon_2d_inner_against_samples_and_support(star, seed):
    from tests.sets.strategies import check_polygon_2d

    rng = np.random.default_rng(seed)
    if star.dim < 2:
        star = star.cartesian_product(nncs.Box([0], [1]).to_star())
    dims = tuple(rng.choice(star.dim, 2, replace=False))
    check_polygon_2d(star, dims, rng, star.sample(200, rng), exact=False, tol=1e-4)


def test_joint_with_keeps_the_dependency_of_a_restricted_predicate():
    rng = np.random.default_rng(11)
    x = random_star(rng, 2, 3, 1)
    # a branch output: x's variables restricted by an extra constraint (a split), plus one appended variable
    C = np.vstack([np.hstack([x.C, np.zeros((1, 1))]), [[1.0, 0.0, 0.0, 0.0]], [[0.5, -1.0, 0.0, 1.0]]])
    mid = (x.lb[0] + x.ub[0]) / 2
    d = np.concatenate([x.d, [mid], [1.0]])
    u = nncs.Star([0.1], rng.normal(size=(1, 4)), C, d, np.append(x.lb, -1), np.append(x.ub, 1))
    joint = x.joint_with(u)
    assert joint.dim == 3 and joint.nvars == 4
    a = u.sample_predicate(200, rng)
    assert np.all(a[:, 0] <= mid + 1e-9)
    pairs = np.hstack([x.c + a[:, :3] @ x.V.T, u.c + a @ u.V.T])
    assert joint.contains(pairs).all()
    mixed = np.hstack([pairs[:100, :2], pairs[100:, 2:]])
    assert not joint.contains(
        mixed
    ).all()  # a state paired with another state's control is (generally) outside
    with pytest.raises(ValueError, match="joint_with"):
        u.joint_with(x)  # x has fewer variables than u
    with pytest.raises(ValueError, match="joint_with"):
        x.joint_with(x.to_zonotope())


def test_lp_program_is_the_predicate_model():
    s = nncs.Box([0, 0], [1, 1]).to_star().intersect_halfspace([1.0, 1.0], 1.0)
    prog = s.lp_program
    assert prog is s.lp_program
    assert prog.maximize(np.array([1.0, 1.0])) == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(
        s.support_function_outer([1.0, 1.0]), [2.0], atol=1e-12
    )  # the predicate box only
