"""Zonotopes `{c + G e : e in [-1, 1]^m}`: the set type of nonlinear flowpipes and DeepZ.

Affine maps, Minkowski sums and products are exact; order reduction is a sound outer approximation.
"""

from __future__ import annotations

import numpy as np

from nncs.sets import lp
from nncs.sets.base import Set, as_matrix, as_vector, rounding_slack
from nncs.sets.box import Box


def girard_generators(G: np.ndarray, order: float, keep_first: int = 0) -> np.ndarray:
    """Girard's reduction of a generator matrix (n, m): at most `max(floor(order n), keep_first + n)` columns.

    The first `keep_first` generators are kept as they are (e.g. those shared with a predicate); of the others,
    the ones with the smallest `|g|_1 - |g|_inf` are replaced by their interval hull (n axis generators, the
    radius rounded up). The zonotope of the result contains that of G (outer approximation); G itself is
    returned when nothing needs reducing.
    """
    n, m = G.shape
    budget = max(int(np.floor(order * n)), keep_first + n)
    if m <= budget:
        return G
    rest = G[:, keep_first:]
    keep_count = budget - keep_first - n
    metric = np.abs(rest).sum(axis=0) - np.abs(rest).max(axis=0)
    ranked = np.argsort(metric, kind="stable")  # smallest first: these are the ones boxed
    boxed, kept = ranked[: rest.shape[1] - keep_count], np.sort(ranked[rest.shape[1] - keep_count :])
    radius = np.abs(rest[:, boxed]).sum(axis=1)
    radius = np.where(radius > 0, radius + rounding_slack(radius, boxed.size), 0.0)  # rounded up: outer
    return np.hstack([G[:, :keep_first], rest[:, kept], np.diag(radius)[:, radius > 0]])


class Zonotope(Set):
    """The zonotope `{c + G e : e in [-1, 1]^m}`.

    Args:
        c: the centre, shape (n,).
        G: the generator matrix, shape (n, m); m = 0 (a single point) is allowed.
    """

    zonotope_exact = True

    def __init__(self, c, G):
        c = as_vector("c", c)
        G = np.asarray(G, dtype=float)
        if G.size == 0:
            G = np.zeros((c.shape[0], 0))
        self.c = c
        self.G = as_matrix("G", G, rows=c.shape[0])

    @property
    def dim(self) -> int:
        return self.c.shape[0]

    @property
    def ngens(self) -> int:
        """The number of generators m."""
        return self.G.shape[1]

    @property
    def order(self) -> float:
        """The order m / n."""
        return self.ngens / max(self.dim, 1)

    def __repr__(self) -> str:
        return f"Zonotope(dim={self.dim}, generators={self.ngens})"

    def _affine_map(self, W, b) -> Zonotope:
        """`{W x + b : x in self}` (exact in real arithmetic).

        The float64 products `W c` and `W G` are rounded to nearest: an error of a few ulps of the terms' size,
        not enclosed here. Bounds, support functions and spec checks round their own sums outward; only under
        heavy cancellation (terms ~1e15 times the result) does the map's own rounding matter.
        """
        return Zonotope(W @ self.c + b, W @ self.G)

    def _translate(self, v) -> Zonotope:
        """The zonotope shifted by `v` (exact in real arithmetic: `c + v` is rounded to nearest)."""
        return Zonotope(self.c + v, self.G)

    def _minkowski_sum(self, other: Set) -> Zonotope:
        """`{x + y : x in self, y in other}` for a Zonotope or Box `other` (exact; any `zonotope_exact` type)."""
        if not other.zonotope_exact:
            raise ValueError(
                f"minkowski_sum of a Zonotope needs a Zonotope or Box, got {type(other).__name__}"
            )
        other = other.to_zonotope()
        return Zonotope(self.c + other.c, np.hstack([self.G, other.G]))

    def _joint_with(self, other: Zonotope) -> Zonotope:
        """`[x; y]` sharing this zonotope's generators: `other`'s first generators are this one's (exact)."""
        if other.ngens < self.ngens:
            raise ValueError(
                f"Zonotope.joint_with: other must be a Zonotope whose first {self.ngens} generators "
                f"are this one's, got {other!r}"
            )
        G = np.hstack([self.G, np.zeros((self.dim, other.ngens - self.ngens))])
        return Zonotope(np.concatenate([self.c, other.c]), np.vstack([G, other.G]))

    def cartesian_product(self, other: Zonotope | Box) -> Zonotope:
        """Return `{(x, y) : x in self, y in other}` with independent generators (exact)."""
        if not (isinstance(other, Set) and other.zonotope_exact):
            raise ValueError(
                f"cartesian_product of a Zonotope needs a Zonotope or Box, got {type(other).__name__}"
            )
        other = other.to_zonotope()
        G = np.zeros((self.dim + other.dim, self.ngens + other.ngens))
        G[: self.dim, : self.ngens] = self.G
        G[self.dim :, self.ngens :] = other.G
        return Zonotope(np.concatenate([self.c, other.c]), G)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the per-dimension bounds `c -/+ sum_j |G_ij|` (exact, widened outward by their rounding error)."""
        r = np.abs(self.G).sum(axis=1)
        slack = np.where(r > 0, rounding_slack(np.abs(self.c) + r, self.ngens + 1), 0.0)  # c itself is exact
        return self.c - r - slack, self.c + r + slack

    def box(self) -> Box:
        """Return the interval hull (exact up to an outward rounding slack: the smallest enclosing box)."""
        return Box(*self.bounds())

    def _support_function(self, D) -> np.ndarray:
        """`d.c + sum_j |d.g_j|` for each direction d (exact, plus an outward rounding slack)."""
        value = D @ self.c + np.abs(D @ self.G).sum(axis=1)
        magnitude = np.abs(D) @ np.abs(self.c) + (np.abs(D) @ np.abs(self.G)).sum(axis=1)
        return value + rounding_slack(magnitude, self.dim + self.ngens + 1)

    def _contains(self, p, tol: float) -> np.ndarray:
        """Which points lie in the zonotope, by one LP per point (exact up to `tol`)."""
        if self.ngens == 0:
            return np.all(np.abs(p - self.c) <= tol * (1 + np.abs(p).max(axis=1, keepdims=True)), axis=1)
        m = self.ngens
        return lp.image_contains(
            p, self.c, self.G, np.zeros((0, m)), np.zeros(0), -np.ones(m), np.ones(m), tol
        )

    def _sample(self, n: int, rng) -> np.ndarray:
        """`n` points of the zonotope: half with uniform factors e, half with e at the corners {-1, 1}^m."""
        e = rng.uniform(-1.0, 1.0, (n, self.ngens))
        corner = rng.random(n) < 0.5
        e[corner] = np.sign(e[corner]) + (e[corner] == 0)
        return self.c + e @ self.G.T

    def reduce_order(self, order: float, method: str = "girard") -> Zonotope:
        """Return a zonotope with at most `order * dim` generators that contains this one (outer approximation).

        Girard's method (2005): the generators with the smallest `|g|_1 - |g|_inf` are replaced by their
        interval hull (a box, n generators); the others are kept unchanged.
        """
        if method != "girard":
            raise ValueError(f"unknown order-reduction method {method!r}; available: 'girard'")
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        G = girard_generators(self.G, order)
        return self if G is self.G else Zonotope(self.c, G)

    def remove_zero_generators(self) -> Zonotope:
        """Return the same zonotope without all-zero generator columns (exact)."""
        return Zonotope(self.c, self.G[:, np.any(self.G != 0, axis=0)])

    def _polygon_2d(self, dims, tol: float) -> np.ndarray:
        """The vertices of the projection onto `dims`, counter-clockwise, shape (k, 2) (exact; `tol` is unused)."""
        i, j = dims
        c = self.c[[i, j]]
        G = self.G[[i, j]]
        G = G[:, np.any(np.abs(G) > 0, axis=0)]
        if G.shape[1] == 0:
            return c.reshape(1, 2)
        flip = (G[1] < 0) | ((G[1] == 0) & (G[0] < 0))  # every generator points into the upper half-plane
        G = np.where(flip, -G, G)
        G = G[:, np.argsort(np.arctan2(G[1], G[0]))]
        start = c - G.sum(axis=1)  # the lowest vertex: every factor at -1
        steps = np.hstack([2 * G, -2 * G])
        verts = start + np.cumsum(steps, axis=1).T
        return np.vstack([start, verts[:-1]])

    def to_star(self):
        """Return the same set as a Star with predicate `e in [-1, 1]^m` and no other constraint (exact)."""
        from nncs.sets.star import Star

        m = self.ngens
        return Star(self.c, self.G, np.zeros((0, m)), np.zeros(0), -np.ones(m), np.ones(m))

    def to_zonotope(self) -> Zonotope:
        """Return the zonotope itself (exact)."""
        return self
