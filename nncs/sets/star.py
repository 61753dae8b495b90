"""Star sets `{c + V a : C a <= d, lb <= a <= ub}`: the dependency-keeping set type of neural reach.

Affine maps, half-space intersections and products are exact; bounds come from certified LPs.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from nncs.sets import lp
from nncs.sets.base import Set, as_matrix, as_rng, as_vector, rounding_slack
from nncs.sets.box import Box
from nncs.sets.sampling import sample_polytope

if TYPE_CHECKING:
    from nncs.sets.zonotope import Zonotope

MAX_POLYGON_DIRECTIONS = 256
"""The most support directions `Star.polygon_2d` refines to (its inner polygon has at most that many vertices)."""


class Star(Set):
    """The star set `{c + V a : C a <= d, lb <= a <= ub}` over predicate variables `a` of length m.

    Args:
        c: centre, shape (n,).
        V: basis, shape (n, m).
        C, d: predicate constraints, shapes (k, m) and (k,); k = 0 is allowed.
        lb, ub: finite predicate-variable bounds, shape (m,), lb <= ub.
    """

    def __init__(self, c, V, C, d, lb, ub):
        c = as_vector("c", c)
        V = np.asarray(V, dtype=float)
        if V.size == 0 and V.ndim < 2:
            V = np.zeros((c.shape[0], 0))
        V = as_matrix("V", V, rows=c.shape[0])
        m = V.shape[1]
        C = np.asarray(C, dtype=float)
        if C.size == 0:
            C = np.zeros((0, m))
        C = as_matrix("C", C, cols=m)
        d = as_vector("d", np.asarray(d, dtype=float).reshape(-1), C.shape[0])
        lb = as_vector("lb", np.asarray(lb, dtype=float).reshape(-1), m)
        ub = as_vector("ub", np.asarray(ub, dtype=float).reshape(-1), m)
        bad = np.flatnonzero(lb > ub)
        if bad.size:
            raise ValueError(f"predicate lb > ub for variables {bad.tolist()}")
        self.c, self.V, self.C, self.d, self.lb, self.ub = c, V, C, d, lb, ub

    @property
    def dim(self) -> int:
        return self.c.shape[0]

    @property
    def nvars(self) -> int:
        """The number of predicate variables m."""
        return self.V.shape[1]

    @property
    def nconstraints(self) -> int:
        """The number of predicate constraints k (rows of C), not counting the variable bounds."""
        return self.C.shape[0]

    def __repr__(self) -> str:
        return f"Star(dim={self.dim}, nvars={self.nvars}, constraints={self.nconstraints})"

    # -- constructors -------------------------------------------------------------------------------------
    @classmethod
    def from_box(cls, box: Box) -> Star:
        """Return the box as a star whose predicate variables are its coordinates (exact)."""
        return box.to_star()

    # -- exact operations ---------------------------------------------------------------------------------
    def _affine_map(self, W, b) -> Star:
        """`{W x + b : x in self}` over the same predicate (exact in real arithmetic).

        The float64 products `W c` and `W V` are rounded to nearest: an error of a few ulps of the terms' size,
        not enclosed here. Bounds, support functions and spec checks round their own sums outward; only under
        heavy cancellation (terms ~1e15 times the result) does the map's own rounding matter.
        """
        return self.with_basis(W @ self.c + b, W @ self.V)

    def with_basis(self, c, V) -> Star:
        """Return `{c + V a}` over this star's predicate (exact), sharing its LP model when already built.

        Stars that differ only in c and V (affine maps, exact-star's per-neuron rows) solve their LPs on one
        HiGHS model instead of building a model each.
        """
        out = Star(c, V, self.C, self.d, self.lb, self.ub)
        if "lp_program" in self.__dict__:
            out.__dict__["lp_program"] = self.__dict__["lp_program"]
        return out

    def _translate(self, v) -> Star:
        """The star shifted by `v` (exact in real arithmetic: `c + v` is rounded to nearest)."""
        return Star(self.c + v, self.V, self.C, self.d, self.lb, self.ub)

    def _intersect_halfspace(self, H, g) -> Star:
        """`{x in self : H x <= g}` (exact): the constraints appended to the predicate as `H V a <= g - H c`."""
        C = np.vstack([self.C, H @ self.V])
        d = np.concatenate([self.d, g - H @ self.c])
        return Star(self.c, self.V, C, d, self.lb, self.ub)

    def with_predicate_bounds(self, lb, ub) -> Star:
        """Return the star with predicate bounds intersected with [lb, ub] (exact for the new predicate)."""
        lb = np.maximum(self.lb, as_vector("lb", lb, self.nvars))
        ub = np.minimum(self.ub, as_vector("ub", ub, self.nvars))
        if np.any(lb > ub):
            raise ValueError("with_predicate_bounds: the new predicate bounds are empty")
        return Star(self.c, self.V, self.C, self.d, lb, ub)

    def _minkowski_sum(self, other: Set) -> Star:
        """`{x + y : x in self, y in other}` with the other's variables appended (exact).

        `other` may be any set (a Star, Zonotope, Box, or bounded HPolytope, by its exact `to_star()`); its
        predicate variables are independent of this star's.
        """
        other = other.to_star()
        return Star(
            self.c + other.c,
            np.hstack([self.V, other.V]),
            _block_diag(self.C, other.C),
            np.concatenate([self.d, other.d]),
            np.concatenate([self.lb, other.lb]),
            np.concatenate([self.ub, other.ub]),
        )

    def cartesian_product(self, other: Set, shared: bool = False) -> Star:
        """Return `{(x, y)}` of this star's points x and the other's points y (exact).

        Args:
            other: a Star (or Zonotope / Box, only with shared=False).
            shared: False: the predicates are independent (variables concatenated).
                True: the two stars are over one predicate: the star with fewer variables must have its
                variables, bounds and constraints as the leading part of the other's (the dependency-keeping
                contract of neural reach: outputs append relaxation variables to the input's). The product
                is then over the larger predicate, so `[x; u]` keeps every dependency.
        """
        if not isinstance(other, Set):
            raise ValueError(f"cartesian_product needs a Star, Zonotope or Box, got {type(other).__name__}")
        other = other.to_star()
        if not shared:
            return Star(
                np.concatenate([self.c, other.c]),
                _block_diag(self.V, other.V),
                _block_diag(self.C, other.C),
                np.concatenate([self.d, other.d]),
                np.concatenate([self.lb, other.lb]),
                np.concatenate([self.ub, other.ub]),
            )
        small, big = (self, other) if self.nvars <= other.nvars else (other, self)
        _check_prefix_predicate(small, big)
        m = big.nvars
        V_self = np.hstack([self.V, np.zeros((self.dim, m - self.nvars))])
        V_other = np.hstack([other.V, np.zeros((other.dim, m - other.nvars))])
        return Star(
            np.concatenate([self.c, other.c]), np.vstack([V_self, V_other]), big.C, big.d, big.lb, big.ub
        )

    def _joint_with(self, other: Star) -> Star:
        """`[x; y]` over `other`'s predicate, whose first variables are this star's (exact).

        Unlike `cartesian_product(shared=True)` the predicates are not compared: `other`'s may restrict this
        star's (an exact-star split adds constraints on the shared variables), and `[x; y]` over it holds
        exactly the pairs of that branch.
        """
        if other.nvars < self.nvars:
            raise ValueError(
                f"Star.joint_with: other must be a Star whose first {self.nvars} predicate variables "
                f"are this one's, got {other!r}"
            )
        V = np.hstack([self.V, np.zeros((self.dim, other.nvars - self.nvars))])
        return Star(
            np.concatenate([self.c, other.c]), np.vstack([V, other.V]), other.C, other.d, other.lb, other.ub
        )

    # -- bounds -------------------------------------------------------------------------------------------
    @cached_property
    def lp_program(self) -> lp.LinearProgram:
        """The HiGHS model of the predicate `{a : C a <= d, lb <= a <= ub}` (built once per predicate and shared
        by the stars of `with_basis`): its certified `bounds`, `maximize`, `minimize` and `argmin` give the
        LP answers over the predicate variables `a`."""
        return lp.LinearProgram(self.C, self.d, self.lb, self.ub)

    def box(self) -> Box:
        """Return the box of the predicate bounds mapped through V (cheap outer approximation, rounded outward)."""
        lo, hi = self._predicate_box_extent(np.eye(self.dim))
        fixed = ~np.any(self.V != 0, axis=1)  # coordinates without predicate terms are c itself, exactly
        return Box(np.where(fixed, self.c, lo), np.where(fixed, self.c, hi))

    def _predicate_box_extent(self, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(min, max) of `d.x` over `c + V a`, a in the predicate box, for each row d of D (no LP; outer:
        the floating-point error of `D V`, of the box's mid/radius and of the sums is added outward)."""
        objectives = D @ self.V
        mid, rad = (self.lb + self.ub) / 2, (self.ub - self.lb) / 2
        centre = D @ self.c + objectives @ mid
        spread = np.abs(objectives) @ rad
        scale = np.maximum(np.abs(self.lb), np.abs(self.ub))
        slack = rounding_slack(
            np.abs(D) @ np.abs(self.c) + (np.abs(D) @ np.abs(self.V)) @ scale, self.dim + self.nvars + 2
        )
        return centre - spread - slack, centre + spread + slack

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Return per-dimension (lower, upper) by 2n LPs over one model (exact, widened by certification).

        Without predicate constraints the predicate box gives the exact bounds with no LP.
        Raises lp.InfeasibleLP when the star is empty.
        """
        lo, hi = self._bounds
        return lo.copy(), hi.copy()

    @cached_property
    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.nconstraints == 0:
            b = self.box()
            return b.lb, b.ub
        lo, hi = self.lp_program.bounds(self.V)  # certified for the rows of V as stored
        slack = rounding_slack(np.abs(self.c) + np.maximum(np.abs(lo), np.abs(hi)), 1)  # adding the centre
        fixed = ~np.any(self.V != 0, axis=1)  # coordinates without predicate terms are c itself, exactly
        return np.where(fixed, self.c, self.c + lo - slack), np.where(fixed, self.c, self.c + hi + slack)

    def _support_function(self, D) -> np.ndarray:
        """A certified upper bound on `max_{x in star} d.x` for each direction (exact up to LP tolerance)."""
        if self.nconstraints == 0:
            return self._predicate_box_extent(D)[1]
        objectives = D @ self.V
        best = np.array(
            [self.lp_program.maximize(o) for o in objectives]
        )  # certified for the rounded objectives
        # the rounding of D V (times the predicate's size) and of adding D c, outward
        scale = np.maximum(np.abs(self.lb), np.abs(self.ub))
        magnitude = np.abs(D) @ np.abs(self.c) + (np.abs(D) @ np.abs(self.V)) @ scale + np.abs(best)
        return D @ self.c + best + rounding_slack(magnitude, self.dim + self.nvars + 2)

    def _support_function_outer(self, D) -> np.ndarray:
        """A cheap upper bound on the support function from the predicate box (outer; no LP)."""
        return self._predicate_box_extent(D)[1]

    def is_empty(self) -> bool:
        """Return True only when the predicate is certified empty by an LP (never wrongly True)."""
        if self.nconstraints == 0:
            return False
        return not lp.is_feasible(self.C, self.d, self.lb, self.ub)

    def tighten_predicate_bounds(self) -> Star:
        """Return the same set with each predicate bound tightened by LP (exact: the set does not change)."""
        if self.nconstraints == 0:
            return self
        lo, hi = self.lp_program.bounds(np.eye(self.nvars))
        return Star(self.c, self.V, self.C, self.d, np.maximum(lo, self.lb), np.minimum(hi, self.ub))

    def to_zonotope(self) -> Zonotope:
        """Return the zonotope of the predicate box mapped through V (outer approximation; exact if k = 0 up
        to its rounding, which one extra box generator per dimension covers)."""
        from nncs.sets.zonotope import Zonotope

        mid, rad = (self.lb + self.ub) / 2, (self.ub - self.lb) / 2
        keep = rad > 0
        scale = np.maximum(np.abs(self.lb), np.abs(self.ub))
        slack = rounding_slack(np.abs(self.c) + np.abs(self.V) @ scale, self.nvars + 2)
        return Zonotope(self.c + self.V @ mid, np.hstack([self.V[:, keep] * rad[keep], np.diag(slack)]))

    def to_star(self) -> Star:
        """Return the star itself (exact)."""
        return self

    # -- points -------------------------------------------------------------------------------------------
    def _contains(self, p, tol: float) -> np.ndarray:
        """Which points lie in the star, one LP per point over one model (exact up to `tol`)."""
        return lp.image_contains(p, self.c, self.V, self.C, self.d, self.lb, self.ub, tol)

    def sample_predicate(self, n: int, rng=None) -> np.ndarray:
        """Return `n` predicate vectors `a` satisfying `C a <= d`, `lb <= a <= ub`, shape (n, m)."""
        return sample_polytope(self.C, self.d, self.lb, self.ub, n, as_rng(rng))

    def _sample(self, n: int, rng) -> np.ndarray:
        """`n` points `c + V a` with `a` satisfying the whole predicate (not only its box)."""
        return self.c + self.sample_predicate(n, rng) @ self.V.T

    def _polygon_2d(self, dims, tol: float) -> np.ndarray:
        """The vertices (counter-clockwise) of the projection onto `dims`, shape (k, 2).

        Support points in iteratively refined directions (at most MAX_POLYGON_DIRECTIONS): the polygon lies
        inside the projection, and the projection lies within `tol * diameter` of it (an inner approximation
        exact to that tolerance).
        """
        i, j = dims
        max_directions = MAX_POLYGON_DIRECTIONS
        P, c = self.V[[i, j]], self.c[[i, j]]
        program = self.lp_program

        def support_point(angle: float) -> np.ndarray:
            direction = np.array([np.cos(angle), np.sin(angle)])
            a, _ = program.argmin(-(direction @ P))
            return c + P @ a

        angles = list(np.linspace(0, 2 * np.pi, 8, endpoint=False))
        points = [support_point(t) for t in angles]
        diameter = max(np.ptp(np.array(points), axis=0).max(), 1e-12)
        k = 0
        while k < len(angles) and len(angles) < max_directions:
            k_next = (k + 1) % len(angles)
            p, q = points[k], points[k_next]
            a0, a1 = angles[k], angles[k_next] + (2 * np.pi if k_next == 0 else 0.0)
            edge = q - p
            if np.linalg.norm(edge) <= tol * diameter or a1 - a0 <= 1e-9:
                k += 1
                continue
            normal_angle = np.arctan2(
                -edge[0], edge[1]
            )  # outward normal (ey, -ex) of the edge p -> q (ccw order)
            while normal_angle < a0:
                normal_angle += 2 * np.pi
            if not a0 < normal_angle < a1:
                k += 1
                continue
            new = support_point(normal_angle)
            normal = np.array([np.cos(normal_angle), np.sin(normal_angle)])
            if normal @ (new - p) <= tol * diameter:
                k += 1
                continue
            angles.insert(k + 1, normal_angle)  # angles stay sorted in [angles[0], angles[0] + 2 pi)
            points.insert(k + 1, new)
        return _convex_ring(np.array(points), 1e-7 * diameter)


def _convex_ring(points: np.ndarray, eps: float) -> np.ndarray:
    """The convex hull (counter-clockwise) of support points, without vertices within `eps` of the chord of
    their neighbours (LP round-off makes near-duplicate and slightly concave support points, whose edges
    point anywhere). Every vertex is one of `points`, so an inner polygon stays inner; dropping a vertex
    moves the boundary by at most `eps`."""
    pts = np.unique(points, axis=0)  # sorted by x, then y (exact: the vertices stay support points)
    if len(pts) <= 2:
        return _dedupe_ring(pts, eps)

    def chain(sequence):
        out: list[np.ndarray] = []
        for p in sequence:
            while len(out) >= 2:
                a, b = out[-2], out[-1]
                ab, ap = b - a, p - a
                cross = ab[0] * ap[1] - ab[1] * ap[0]
                # drop b when it is not strictly left of a -> p, or within eps of that chord
                if cross <= eps * max(np.linalg.norm(ap), 1e-300):
                    out.pop()
                else:
                    break
            out.append(p)
        return out

    lower, upper = chain(pts), chain(pts[::-1])
    hull = np.array(lower[:-1] + upper[:-1])
    return _dedupe_ring(hull, eps)


def _dedupe_ring(points: np.ndarray, eps: float) -> np.ndarray:
    keep = [0]
    for idx in range(1, len(points)):
        if np.linalg.norm(points[idx] - points[keep[-1]]) > eps:
            keep.append(idx)
    if len(keep) > 1 and np.linalg.norm(points[keep[-1]] - points[keep[0]]) <= eps:
        keep.pop()
    return points[keep]


def _block_diag(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    out = np.zeros((A.shape[0] + B.shape[0], A.shape[1] + B.shape[1]))
    out[: A.shape[0], : A.shape[1]] = A
    out[A.shape[0] :, A.shape[1] :] = B
    return out


def _check_prefix_predicate(small: Star, big: Star) -> None:
    """Check that `small`'s predicate is the leading part of `big`'s (else ValueError)."""
    m = small.nvars
    if not (np.array_equal(small.lb, big.lb[:m]) and np.array_equal(small.ub, big.ub[:m])):
        raise ValueError(
            "cartesian_product(shared=True): the predicate bounds differ; the stars are not over one predicate"
        )
    if small.nconstraints == 0:
        return
    padded = np.hstack([small.C, np.zeros((small.nconstraints, big.nvars - m))])
    rows = np.hstack([padded, small.d[:, None]])
    big_rows = np.hstack([big.C, big.d[:, None]])
    for row in rows:
        if not np.any(np.all(big_rows == row, axis=1)):
            raise ValueError(
                "cartesian_product(shared=True): a predicate constraint of one star is missing from the other's; "
                "the stars are not over one predicate"
            )
