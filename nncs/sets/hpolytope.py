"""H-polytopes `{x : H x <= g}`: specifications, unsafe regions and goal sets.

Intersections are exact; emptiness and set containment are decided by certified LPs.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from nncs.sets import lp
from nncs.sets.base import Set, as_matrix, as_vector, same_dim
from nncs.sets.box import Box
from nncs.sets.sampling import sample_polytope


class HPolytope(Set):
    """The polyhedron `{x : H x <= g}` (possibly unbounded; bounds() then reports infinities).

    Args:
        H: (k, n) constraint normals, k >= 0.
        g: (k,) offsets.
    """

    def __init__(self, H, g):
        H = as_matrix("H", np.atleast_2d(np.asarray(H, dtype=float)))
        g = as_vector("g", np.asarray(g, dtype=float).reshape(-1), H.shape[0])
        self.H, self.g = H, g

    @classmethod
    def from_box(cls, box: Box) -> HPolytope:
        """Return the box as 2n half-spaces (exact)."""
        eye = np.eye(box.dim)
        return cls(np.vstack([eye, -eye]), np.concatenate([box.ub, -box.lb]))

    @property
    def dim(self) -> int:
        return self.H.shape[1]

    @property
    def nconstraints(self) -> int:
        """The number of half-spaces k."""
        return self.H.shape[0]

    def __repr__(self) -> str:
        return f"HPolytope(dim={self.dim}, constraints={self.nconstraints})"

    @cached_property
    def _free_program(self) -> lp.LinearProgram:
        return lp.LinearProgram(self.H, self.g, np.full(self.dim, -np.inf), np.full(self.dim, np.inf))

    @cached_property
    def _program(self) -> lp.LinearProgram:
        """The LP used for bounds: over a finite enclosing box when the polytope is bounded.

        The box (tolerance-widened bounds plus a margin) cuts nothing off, and makes every bound
        dual-certified (see lp.LinearProgram); an unbounded polytope keeps the tolerance-widened LP.
        """
        free = self._free_program
        lo = np.empty(self.dim)
        hi = np.empty(self.dim)
        for i, e in enumerate(np.eye(self.dim)):
            try:
                lo[i], hi[i] = free.minimize(e), free.maximize(e)
            except lp.UnboundedLP:
                return free
        margin = 1.0 + 1e-3 * np.maximum(np.abs(lo), np.abs(hi))
        return lp.LinearProgram(self.H, self.g, lo - margin, hi + margin)

    def intersection(self, other: HPolytope) -> HPolytope:
        """Return the intersection with another H-polytope (exact: the constraints stacked)."""
        if not isinstance(other, HPolytope):
            raise ValueError(f"HPolytope.intersection needs an HPolytope, got {type(other).__name__}")
        self._checked("intersection", same_dim, self, other)
        return HPolytope(np.vstack([self.H, other.H]), np.concatenate([self.g, other.g]))

    def _affine_map(self, W, b) -> Set:
        """`{W x + b : x in self}` (exact).

        For an invertible square W the result is an HPolytope; otherwise the polytope must be bounded and
        the result is a Star over it.
        """
        if W.shape[0] == self.dim and np.linalg.matrix_rank(W) == self.dim:
            W_inv = np.linalg.inv(W)
            return HPolytope(self.H @ W_inv, self.g + self.H @ W_inv @ b)
        return self.to_star()._affine_map(W, b)

    def _intersect_halfspace(self, H, g) -> HPolytope:
        """`{x in self : H x <= g}` (exact: the constraints stacked)."""
        return HPolytope(np.vstack([self.H, H]), np.concatenate([self.g, g]))

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Return per-dimension bounds by LP (exact, widened by tolerance; infinite where unbounded).

        Raises lp.InfeasibleLP when the polytope is empty.
        """
        lo = np.empty(self.dim)
        hi = np.empty(self.dim)
        for i, e in enumerate(np.eye(self.dim)):
            lo[i] = self._bound(e, -1)
            hi[i] = self._bound(e, +1)
        return lo, hi

    def _bound(self, direction: np.ndarray, sense: int) -> float:
        try:
            return self._program.maximize(direction) if sense > 0 else self._program.minimize(direction)
        except lp.UnboundedLP:
            return sense * np.inf

    def box(self) -> Box:
        """Return the bounding box by LP (exact interval hull); ValueError if the polytope is unbounded."""
        lo, hi = self.bounds()
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ValueError("HPolytope.box: the polytope is unbounded")
        return Box(lo, hi)

    def _contains(self, p, tol: float) -> np.ndarray:
        """Which points satisfy `H x <= g + tol` (exact up to `tol`)."""
        return np.all(p @ self.H.T <= self.g + tol, axis=1)

    def _sample(self, n: int, rng) -> np.ndarray:
        """`n` points of the (bounded) polytope; see `sampling.sample_polytope`."""
        b = self.box()
        return sample_polytope(self.H, self.g, b.lb, b.ub, n, rng)

    def _polygon_2d(self, dims, tol: float) -> np.ndarray:
        """The inner polygon of the (bounded) polytope's projection, within `tol * diameter` of it (that of
        `to_star()`, see Star.polygon_2d)."""
        return self.to_star()._polygon_2d(dims, tol)

    def _support_function(self, D) -> np.ndarray:
        """`max_{x in P} d.x` for each direction (exact up to tolerance; inf if unbounded)."""
        return np.array([self._bound(d, +1) for d in D])

    def is_empty(self) -> bool:
        """Return True only when a phase-1 LP finds a positive minimum violation of `H x <= g` (as
        `Star.is_empty`; the variables are free here, so it is widened by the LP tolerance, not dual-certified).
        Never True for a polytope with a point, up to that tolerance."""
        if self.nconstraints == 0:
            return False
        return not lp.is_feasible(self.H, self.g, np.full(self.dim, -np.inf), np.full(self.dim, np.inf))

    def contains_set(self, other: Set) -> bool:
        """Return True only if every point of `other` satisfies every constraint (sound: LP support bounds).

        `other` is any set with a support function (Star, Zonotope, Box, HPolytope).
        """
        self._checked("contains_set", same_dim, self, other)
        if self.nconstraints == 0:
            return True
        pending = np.arange(self.nconstraints)
        pending = pending[other.support_function_outer(self.H) > self.g]  # stars: a cheap outer bound (no LP)
        if pending.size == 0:
            return True
        return bool(np.all(other.support_function(self.H[pending]) <= self.g[pending]))

    def to_star(self):
        """Return the (bounded) polytope as a Star with the identity basis (exact)."""
        from nncs.sets.star import Star

        b = self.box()
        return Star(np.zeros(self.dim), np.eye(self.dim), self.H, self.g, b.lb, b.ub)

    def to_zonotope(self):
        """Return the interval hull of the (bounded) polytope as a Zonotope (outer approximation)."""
        return self.box().to_zonotope()
