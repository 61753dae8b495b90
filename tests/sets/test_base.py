"""Tests of nncs/sets/base.py: the argument checks every set type shares, made once in `Set`.

One parametrised test per public method of the interface, over all set types: bad shapes, NaN (and where
refused, infinite) entries raise a ValueError naming the type, the method and the argument.
"""

import numpy as np
import pytest

import nncs
from nncs.sets.base import Set, same_dim
from tests.sets.strategies import SET_KINDS, random_set

NAN, INF = np.nan, np.inf

BAD_CALLS = [
    # (method, args, kwargs, the argument's words in the message)
    ("affine_map", (np.ones((2, 3)),), {}, "W must have 2 columns"),
    ("affine_map", (np.ones(2),), {}, "W must be a 2-D matrix"),
    ("affine_map", ([[NAN, 0.0], [0.0, 1.0]],), {}, "W contains NaN"),
    ("affine_map", ([[INF, 0.0], [0.0, 1.0]],), {}, "W contains NaN or infinite"),
    ("affine_map", (np.eye(2), [1.0, 2.0, 3.0]), {}, "b must have length 2"),
    ("affine_map", (np.eye(2), [NAN, 0.0]), {}, "b contains NaN"),
    ("translate", ([1.0, 2.0, 3.0],), {}, "v must have length 2"),
    ("translate", ([NAN, 0.0],), {}, "v contains NaN"),
    ("contains", (np.zeros((3, 3)),), {}, "points must have shape"),
    ("contains", ([NAN, 0.0],), {}, "points contain NaN"),
    ("contains", ([0.0, 0.0],), {"tol": NAN}, "tol must be a finite non-negative number"),
    ("contains", ([0.0, 0.0],), {"tol": -1.0}, "tol must be a finite non-negative number"),
    ("sample", (-1,), {}, "n must be a non-negative integer"),
    ("sample", (2.5,), {}, "n must be a non-negative integer"),
    ("sample", (True,), {}, "n must be a non-negative integer"),
    ("support_function", ([1.0, 0.0, 0.0],), {}, "directions must have shape"),
    ("support_function", ([NAN, 0.0],), {}, "directions contain NaN"),
    ("support_function", ([INF, 0.0],), {}, "directions contain NaN or infinite"),
    ("support_function_outer", ([[1.0, 0.0, 0.0]],), {}, "directions must have shape"),
    ("support_function_outer", ([0.0, NAN],), {}, "directions contain NaN"),
    ("polygon_2d", ((0, 0),), {}, "dims"),
    ("polygon_2d", ((0, 1, 1),), {}, "dims must name exactly two"),
    ("polygon_2d", ((0, 2),), {}, "dims"),
    ("polygon_2d", ((0, 1),), {"tol": 0.0}, "tol must be a finite positive number"),
    ("polygon_2d", ((0, 1),), {"tol": NAN}, "tol must be a finite positive number"),
    ("intersect_halfspace", ([1.0, 0.0, 0.0], 1.0), {}, "H must have 2 columns"),
    ("intersect_halfspace", ([1.0, 0.0], [1.0, 2.0]), {}, "g must have length 1"),
    ("intersect_halfspace", ([NAN, 0.0], 1.0), {}, "H contains NaN"),
    ("intersect_halfspace", ([1.0, 0.0], NAN), {}, "g contains NaN"),
    ("minkowski_sum", (nncs.Box([0.0], [1.0]),), {}, "sets have different dimensions: 2 and 1"),
    ("minkowski_sum", (np.zeros(2),), {}, "expected a set"),
    ("joint_with", (np.zeros(2),), {}, "other must be a"),
]


@pytest.mark.parametrize("kind", SET_KINDS)
@pytest.mark.parametrize(
    "method, args, kwargs, words", BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)]
)
def test_public_methods_refuse_bad_arguments_naming_the_method(kind, method, args, kwargs, words):
    s = random_set(kind, np.random.default_rng(0), 2)
    expected = f"{type(s).__name__}.{method}: {words}"
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(".", r"\.")):
        getattr(s, method)(*args, **kwargs)


@pytest.mark.parametrize("kind", SET_KINDS)
def test_public_methods_accept_good_arguments(kind):
    rng = np.random.default_rng(1)
    s = random_set(kind, rng, 3)
    pts = s.sample(20, rng)
    assert (
        pts.shape == (20, 3)
        and s.sample(0, rng).shape == (0, 3)
        and s.sample(np.int64(2), rng).shape == (2, 3)
    )
    assert s.contains(pts, tol=1e-7).all() and s.contains(pts[0]).shape == (1,)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    assert s.affine_map(W, b).contains(pts @ W.T + b, tol=1e-7).all()
    assert s.translate(b @ W).contains(pts + b @ W, tol=1e-7).all()
    D = rng.normal(size=(4, 3))
    h, h_outer = s.support_function(D), s.support_function_outer(D)
    assert np.all(pts @ D.T <= h + 1e-7) and np.all(h <= h_outer + 1e-7)
    assert s.support_function(D[0]).shape == (1,)
    cut = s.intersect_halfspace(D[0], h[0] - 1.0)
    inside = pts[pts @ D[0] <= h[0] - 1.0]
    assert cut.contains(inside, tol=1e-7).all()
    assert not cut.contains(pts[pts @ D[0] > h[0] - 1.0 + 1e-6]).any()
    assert s.polygon_2d((2, 0)).shape[1] == 2
    assert isinstance(s.to_zonotope(), nncs.Zonotope) and isinstance(s.to_star(), nncs.Star)
    assert s.to_zonotope().contains(pts, tol=1e-7).all() and s.to_star().contains(pts, tol=1e-7).all()


def test_every_set_type_implements_the_interface():
    for cls in (nncs.Box, nncs.Zonotope, nncs.Star, nncs.HPolytope):
        assert issubclass(cls, Set) and not cls.__abstractmethods__

    class Partial(Set):  # a set type that leaves out computing methods cannot be built
        @property
        def dim(self):
            return 1

    with pytest.raises(TypeError):
        Partial()


def test_same_dim():
    same_dim(nncs.Box([0], [1]), nncs.Zonotope([0.5], [[1.0]]))
    with pytest.raises(ValueError, match="sets have different dimensions: 1 and 2"):
        same_dim(nncs.Box([0], [1]), nncs.Box([0, 0], [1, 1]))
    with pytest.raises(ValueError, match="expected a set, got list"):
        same_dim(nncs.Box([0], [1]), [0.0])
