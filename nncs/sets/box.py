"""Axis-aligned boxes `{x : lb <= x <= ub}`: initial sets, input partitions and cheap outer bounds.

Every operation here is exact unless its docstring says it is an outer approximation.
"""

from __future__ import annotations

import numpy as np

from nncs.sets.base import Set, as_vector, same_dim


class Box(Set):
    """The box `{x : lb <= x <= ub}` with finite bounds.

    Args:
        lb, ub: vectors of equal length with `lb <= ub` elementwise (a degenerate side lb == ub is allowed).
    """

    zonotope_exact = True

    def __init__(self, lb, ub):
        lb = as_vector("lb", lb)
        ub = as_vector("ub", ub, lb.shape[0])
        bad = np.flatnonzero(lb > ub)
        if bad.size:
            raise ValueError(
                f"lb > ub in dimensions {bad.tolist()} (lb={lb[bad].tolist()}, ub={ub[bad].tolist()})"
            )
        self.lb = lb
        self.ub = ub

    @property
    def dim(self) -> int:
        return self.lb.shape[0]

    @property
    def center(self) -> np.ndarray:
        """The midpoint `(lb + ub) / 2`."""
        return (self.lb + self.ub) / 2

    @property
    def radius(self) -> np.ndarray:
        """The half-widths `(ub - lb) / 2`."""
        return (self.ub - self.lb) / 2

    def __repr__(self) -> str:
        return f"Box(lb={self.lb.tolist()}, ub={self.ub.tolist()})"

    def _affine_map(self, W, b):
        """`{W x + b : x in self}` as a Zonotope (exact in real arithmetic; see Zonotope.affine_map)."""
        return self.to_zonotope()._affine_map(W, b)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (lb, ub) (exact)."""
        return self.lb.copy(), self.ub.copy()

    def box(self) -> Box:
        """Return the box itself (exact)."""
        return self

    def _contains(self, p, tol: float) -> np.ndarray:
        """Which points satisfy `lb - tol <= x <= ub + tol` (exact up to `tol`)."""
        return np.all((p >= self.lb - tol) & (p <= self.ub + tol), axis=1)

    def _sample(self, n: int, rng) -> np.ndarray:
        """`n` points drawn uniformly from the box."""
        return self.lb + (self.ub - self.lb) * rng.random((n, self.dim))

    def vertices(self) -> np.ndarray:
        """Return the 2^dim corners (exact), shape (2^dim, dim); refuses dim > 20."""
        if self.dim > 20:
            raise ValueError(f"a {self.dim}-D box has too many vertices to enumerate")
        corners = (np.arange(2**self.dim)[:, None] >> np.arange(self.dim)) & 1
        return np.where(corners.astype(bool), self.ub, self.lb)

    def _support_function(self, D) -> np.ndarray:
        """`max_{x in box} d.x` for each direction (exact)."""
        return D @ self.center + np.abs(D) @ self.radius

    def _polygon_2d(self, dims, tol: float) -> np.ndarray:
        """The four corners of the projection onto `dims`, counter-clockwise (exact; `tol` is unused)."""
        lo, hi = self.lb[list(dims)], self.ub[list(dims)]
        return np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])

    def intersection(self, other: Box) -> Box | None:
        """Return the intersection with another box (exact), or None when it is empty."""
        self._checked("intersection", same_dim, self, other)
        lb = np.maximum(self.lb, other.lb)
        ub = np.minimum(self.ub, other.ub)
        return None if np.any(lb > ub) else Box(lb, ub)

    def hull(self, other: Box) -> Box:
        """Return the smallest box containing both boxes (an outer approximation of their union)."""
        self._checked("hull", same_dim, self, other)
        return Box(np.minimum(self.lb, other.lb), np.maximum(self.ub, other.ub))

    def split(self, dim: int, parts: int = 2) -> list[Box]:
        """Split into `parts` equal boxes along dimension `dim` (exact: their union is the box)."""
        if not 0 <= dim < self.dim:
            raise ValueError(f"split dimension {dim} is outside [0, {self.dim})")
        if parts < 1:
            raise ValueError(f"parts must be at least 1, got {parts}")
        cuts = np.linspace(self.lb[dim], self.ub[dim], parts + 1)
        cuts[-1] = self.ub[dim]
        out = []
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            lb, ub = self.lb.copy(), self.ub.copy()
            lb[dim], ub[dim] = lo, hi
            out.append(Box(lb, ub))
        return out

    def volume(self) -> float:
        """Return the product of the side lengths (exact up to rounding)."""
        return float(np.prod(self.ub - self.lb))

    def to_zonotope(self):
        """Return the same set as a Zonotope with one generator per non-degenerate side (exact, the radius
        rounded up so that the rounded centre's zonotope still holds every corner)."""
        from nncs.sets.zonotope import Zonotope

        c = self.center
        radius = np.where(self.ub > self.lb, np.nextafter(np.maximum(self.ub - c, c - self.lb), np.inf), 0.0)
        keep = radius > 0
        return Zonotope(c, np.diag(radius)[:, keep])

    def to_star(self):
        """Return the same set as a Star whose predicate variables are the box coordinates (exact)."""
        from nncs.sets.star import Star

        n = self.dim
        return Star(np.zeros(n), np.eye(n), np.zeros((0, n)), np.zeros(0), self.lb, self.ub)
