"""Hypothesis strategies for random sets: non-empty stars, zonotopes, boxes, with their affine maps."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import nncs

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def random_box(rng: np.random.Generator, n: int) -> nncs.Box:
    lb = rng.uniform(-3, 3, n)
    return nncs.Box(lb, lb + rng.uniform(0.1, 2, n))


def random_zonotope(rng: np.random.Generator, n: int, m: int) -> nncs.Zonotope:
    return nncs.Zonotope(rng.uniform(-2, 2, n), rng.normal(size=(n, m)))


def random_star(rng: np.random.Generator, n: int, m: int, k: int) -> nncs.Star:
    """A star with k random constraints, non-empty by construction (a random predicate point satisfies them)."""
    lb = rng.uniform(-2, 0, m)
    ub = lb + rng.uniform(0.2, 2, m)
    C = rng.normal(size=(k, m))
    inner = rng.uniform(lb, ub)
    d = C @ inner + rng.uniform(0.05, 1.0, k)
    return nncs.Star(rng.uniform(-1, 1, n), rng.normal(size=(n, m)), C, d, lb, ub)


@st.composite
def stars(draw, max_dim: int = 4, max_vars: int = 5, max_constraints: int = 5):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, max_dim))
    m = draw(st.integers(1, max_vars))
    k = draw(st.integers(0, max_constraints))
    return random_star(rng, n, m, k)


@st.composite
def zonotopes(draw, max_dim: int = 4, max_gens: int = 6):
    rng = np.random.default_rng(draw(seeds))
    return random_zonotope(rng, draw(st.integers(1, max_dim)), draw(st.integers(0, max_gens)))


@st.composite
def boxes(draw, max_dim: int = 4):
    rng = np.random.default_rng(draw(seeds))
    return random_box(rng, draw(st.integers(1, max_dim)))


def random_affine(rng: np.random.Generator, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
