"""The interface every nncs set implements, and the argument checks that all set types share.

A set is an immutable value over float64 numpy arrays. The public methods of `Set` check their arguments
once, here (ValueError naming the type, the method and the argument), and call the subclass's computing
method `_name`: a set type implements computations only (the CORA `contains` -> `contains_` pattern).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from nncs.sets.box import Box
    from nncs.sets.star import Star
    from nncs.sets.zonotope import Zonotope


class Set(ABC):
    """A subset of R^dim. Subclasses: Box, Zonotope, Star, HPolytope.

    The public methods here are the interface every set type offers. Each checks its arguments once, here
    (ValueError naming the method and the argument, e.g. "Box.affine_map: W must have 2 columns, ..."), and
    calls the subclass's computing method of the same name with a leading underscore (`_affine_map`, ...),
    which receives checked float arrays. A new set type implements the abstract members only:

    - `dim`, `bounds()` (tight), `box()` (cheap and sound), `to_zonotope()`, `to_star()`;
    - `_affine_map(W, b)`, `_contains(points, tol)`, `_sample(n, rng)`, `_support_function(directions)`,
      `_polygon_2d(dims, tol)`;
    - optionally `zonotope_exact`, `_support_function_outer`, `_translate`, `_intersect_halfspace`, `_minkowski_sum`,
      `_joint_with`, `is_empty` (the defaults below are sound, or refuse).
    """

    __slots__ = ()

    zonotope_exact: ClassVar[bool] = False
    """True for the types whose `to_zonotope()` is exact (boxes, zonotopes): the operands zonotope operations
    accept."""

    # -- what every set type computes ---------------------------------------------------------------------
    @property
    @abstractmethod
    def dim(self) -> int:
        """The dimension of the ambient space."""

    @abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the tight per-dimension (lower, upper) bounds, widened outward only by solver tolerance."""

    @abstractmethod
    def box(self) -> Box:
        """Return a cheap sound outer Box."""

    @abstractmethod
    def to_zonotope(self) -> Zonotope:
        """Return a Zonotope containing the set (exact for boxes and zonotopes, outer otherwise)."""

    @abstractmethod
    def to_star(self) -> Star:
        """Return the set as a Star (exact; refused for an unbounded set)."""

    @abstractmethod
    def _affine_map(self, W: np.ndarray, b: np.ndarray) -> Set:
        """`affine_map` on checked arguments: W (k, dim), b (k,)."""

    @abstractmethod
    def _contains(self, points: np.ndarray, tol: float) -> np.ndarray:
        """`contains` on checked arguments: points (n, dim) (NaN-free), tol >= 0."""

    @abstractmethod
    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`sample` on checked arguments: n >= 0, a numpy Generator."""

    @abstractmethod
    def _support_function(self, directions: np.ndarray) -> np.ndarray:
        """`support_function` on checked arguments: directions (k, dim), finite."""

    @abstractmethod
    def _polygon_2d(self, dims: tuple[int, int], tol: float) -> np.ndarray:
        """`polygon_2d` on checked arguments: two distinct dimension indices, tol > 0."""

    # -- the checked public interface ---------------------------------------------------------------------
    def affine_map(self, W: np.ndarray, b: np.ndarray | None = None) -> Set:
        """Return `{W x + b : x in self}` (exact in real arithmetic; see each type for the result's type).

        Args:
            W: a (k, dim) matrix; b: a (k,) vector or None (zero).
        """
        W, b = self._checked("affine_map", affine_args, W, b, self.dim)
        return self._affine_map(W, b)

    def translate(self, v: np.ndarray) -> Set:
        """Return the set shifted by the vector `v` of length dim (exact in real arithmetic)."""
        v = self._checked("translate", as_vector, "v", v, self.dim)
        return self._translate(v)

    def contains(self, points: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Return a boolean array: which of `points` (shape (n, dim) or (dim,)) lie in the set (to `tol`)."""
        points = self._checked("contains", as_points, points, self.dim)
        return self._contains(points, self._checked("contains", as_tolerance, "tol", tol, True))

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Return `n` points of the set, shape (n, dim).

        Args:
            n: a non-negative integer; rng: a numpy Generator, a seed, or None.
        """
        return self._sample(self._checked("sample", as_count, "n", n), as_rng(rng))

    def support_function(self, directions: np.ndarray) -> np.ndarray:
        """Return `max_{x in self} d.x` for each direction d (rows of `directions`, or one (dim,) vector);
        exact up to each type's outward rounding or LP certification, so an upper bound at worst."""
        return self._support_function(self._checked("support_function", as_directions, directions, self.dim))

    def support_function_outer(self, directions: np.ndarray) -> np.ndarray:
        """Return a cheap upper bound on the support function for each direction (outer; no LP for stars).

        The same as `support_function` for the types whose support function is already cheap."""
        D = self._checked("support_function_outer", as_directions, directions, self.dim)
        return self._support_function_outer(D)

    def polygon_2d(self, dims=(0, 1), tol: float = 1e-3) -> np.ndarray:
        """Return the vertices (counter-clockwise) of the projection onto `dims`, shape (k, 2).

        Exact for boxes and zonotopes (`tol` unused); for stars and H-polytopes an inner polygon within
        `tol * diameter` of the projection.

        Args:
            dims: two distinct dimension indices; tol: the relative tolerance of inner polygons, > 0.
        """
        dims = self._checked("polygon_2d", projection_dims, dims, self.dim)
        return self._polygon_2d(dims, self._checked("polygon_2d", as_tolerance, "tol", tol, False))

    def intersect_halfspace(self, H: np.ndarray, g) -> Set:
        """Return `{x in self : H x <= g}` (exact); H is (k, dim) or (dim,), g is (k,) or a scalar.

        The result may be empty; test with `is_empty()`.
        """
        H, g = self._checked("intersect_halfspace", halfspace_args, H, g, self.dim)
        return self._intersect_halfspace(H, g)

    def minkowski_sum(self, other: Set) -> Set:
        """Return `{x + y : x in self, y in other}` (exact; the types each set type accepts are in its
        `_minkowski_sum`)."""
        self._checked("minkowski_sum", same_dim, self, other)
        return self._minkowski_sum(other)

    def joint_with(self, other: Set) -> Set:
        """Return the set of `[x; y]` over `other`'s predicate, when the leading predicate variables (or
        generators) of `other` are this set's: a point of `other` for predicate value `a` pairs with this
        set's point for the first variables of `a` (exact: the dependency between them is kept).

        The form of the state-and-control set of a control period: the network reach keeps the state set's
        variables first (nncs.nn's dependency contract). ValueError when `other` is not of this set's type or
        has fewer variables than this set.
        """
        if not isinstance(other, type(self)):
            raise ValueError(
                f"{type(self).__name__}.joint_with: other must be a {type(self).__name__} (the network "
                f"reach keeps the set type), got {type(other).__name__}"
            )
        return self._joint_with(other)

    def is_empty(self) -> bool:
        """Return True only when the set is certified empty (never wrongly True)."""
        return False

    # -- defaults a set type may replace ------------------------------------------------------------------
    def _support_function_outer(self, directions: np.ndarray) -> np.ndarray:
        return self._support_function(directions)

    def _translate(self, v: np.ndarray) -> Set:
        return self._affine_map(np.eye(self.dim), v)

    def _intersect_halfspace(self, H: np.ndarray, g: np.ndarray) -> Set:
        return self.to_star()._intersect_halfspace(H, g)  # to_star is exact

    def _minkowski_sum(self, other: Set) -> Set:
        raise ValueError(
            f"{type(self).__name__}.minkowski_sum is not available; convert first (to_zonotope() or to_star())"
        )

    def _joint_with(self, other: Set) -> Set:
        raise ValueError(
            f"{type(self).__name__}.joint_with is not available: a {type(self).__name__} has no "
            f"predicate variables to share"
        )

    def _checked(self, method: str, check, *args):
        """Run the argument check `check(*args)`; its ValueError is raised again naming `Type.method`."""
        try:
            return check(*args)
        except ValueError as exc:
            raise ValueError(f"{type(self).__name__}.{method}: {exc}") from None

    def __setattr__(self, name, value):  # immutability: attributes are set once, in __init__
        if hasattr(self, name):
            raise AttributeError(f"{type(self).__name__} is immutable; {name!r} cannot be changed")
        object.__setattr__(self, name, value)


def same_dim(a: Set, b: Set) -> None:
    """Check that `b` is a set of `a`'s dimension (ValueError otherwise)."""
    if not isinstance(b, Set):
        raise ValueError(f"expected a set, got {type(b).__name__}")
    if a.dim != b.dim:
        raise ValueError(f"sets have different dimensions: {a.dim} and {b.dim}")


def as_vector(name: str, value, length: int | None = None) -> np.ndarray:
    """Return `value` as a finite read-only float64 vector, or raise ValueError naming `name`."""
    arr = np.array(value, dtype=float)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a vector, got an array of shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    arr.setflags(write=False)
    return arr


def as_matrix(name: str, value, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """Return `value` as a finite read-only float64 matrix, or raise ValueError naming `name`."""
    arr = np.array(value, dtype=float)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(rows if rows is not None else 0, cols if cols is not None else 0)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {arr.shape}")
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows, got shape {arr.shape}")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    arr.setflags(write=False)
    return arr


def _as_rows(name: str, value, dim: int, allow_infinite: bool) -> np.ndarray:
    """Return `value` as a (k, dim) float array (one row of shape (dim,) becomes (1, dim)); ValueError naming it."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"{name} must have shape (k, {dim}) or ({dim},), got {np.shape(value)}")
    bad = np.isnan(arr) if allow_infinite else ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"{name} contain NaN" + ("" if allow_infinite else " or infinite entries"))
    return arr


def as_points(points, dim: int) -> np.ndarray:
    """Return `points` as an (n, dim) float array (a single point of shape (dim,) becomes (1, dim))."""
    return _as_rows("points", points, dim, allow_infinite=True)


def as_directions(directions, dim: int) -> np.ndarray:
    """Return `directions` as a (k, dim) float array (one direction of shape (dim,) becomes (1, dim))."""
    return _as_rows("directions", directions, dim, allow_infinite=False)


def affine_args(W, b, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Check the arguments of an affine map from R^dim: W of shape (k, dim), b of shape (k,) or None."""
    W = as_matrix("W", W, cols=dim)
    b = np.zeros(W.shape[0]) if b is None else as_vector("b", b, W.shape[0])
    return W, b


def halfspace_args(H, g, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Check half-space constraints `H x <= g` in R^dim: H of shape (k, dim) or (dim,), g of shape (k,) or a
    scalar; returns H as (k, dim) and g as (k,)."""
    H = as_matrix("H", np.atleast_2d(np.asarray(H, dtype=float)), cols=dim)
    g = as_vector("g", np.asarray(g, dtype=float).reshape(-1), H.shape[0])
    return H, g


def as_tolerance(name: str, value, allow_zero: bool) -> float:
    """Return `value` as a finite float tolerance, non-negative (or positive when not `allow_zero`)."""
    try:
        tol = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(tol) or tol < 0 or (tol == 0 and not allow_zero):
        raise ValueError(
            f"{name} must be a finite {'non-negative' if allow_zero else 'positive'} number, got {value!r}"
        )
    return tol


def as_count(name: str, value) -> int:
    """Return `value` as a non-negative int (integral floats are accepted), or raise ValueError naming it."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    try:
        count = int(value)
        integral = count == value
    except (TypeError, ValueError, OverflowError):
        integral = False
    if not integral or count < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return count


_EPS = np.finfo(float).eps
_TINY = np.finfo(float).tiny


def rounding_slack(magnitude, terms: int) -> np.ndarray:
    """An upper bound on the floating-point error of sums of `terms` products whose absolute values add up to
    `magnitude` (Higham's gamma bound `terms * eps / (1 - terms * eps)`, taken as `(terms + 2) * eps`, plus the
    smallest normal number for underflow). Added outward, it makes a computed bound a sound one."""
    return (int(terms) + 2) * _EPS * np.asarray(magnitude, dtype=float) + _TINY


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a numpy Generator from a Generator, a seed, or None (a fresh unseeded generator)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def projection_dims(dims, dim: int) -> tuple[int, int]:
    """Check a 2-D projection request: two distinct valid dimension indices."""
    dims = tuple(int(i) for i in dims)
    if len(dims) != 2:
        raise ValueError(f"dims must name exactly two dimensions for a 2-D projection, got {dims}")
    if dims[0] == dims[1] or not all(0 <= i < dim for i in dims):
        raise ValueError(f"dims {dims} must be two distinct indices in [0, {dim})")
    return dims
