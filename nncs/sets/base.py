"""The interface every nncs set implements, and the argument checks that all set types share.

A set is an immutable value over float64 numpy arrays; bad arguments raise ValueError naming them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nncs.sets.box import Box


class Set(ABC):
    """A subset of R^dim. Subclasses: Box, Zonotope, Star, HPolytope.

    Interface: `dim`, `affine_map(W, b)`, `bounds()` (tight), `box()` (cheap and sound),
    `contains(points)`, `sample(n, rng)`, `support_function(directions)`.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def dim(self) -> int:
        """The dimension of the ambient space."""

    @abstractmethod
    def affine_map(self, W: np.ndarray, b: np.ndarray | None = None) -> "Set":
        """Return `{W x + b : x in self}`."""

    @abstractmethod
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the tight per-dimension (lower, upper) bounds, widened outward only by solver tolerance."""

    @abstractmethod
    def box(self) -> "Box":
        """Return a cheap sound outer Box."""

    @abstractmethod
    def contains(self, points: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Return a boolean array: which of `points` (shape (n, dim) or (dim,)) lie in the set (to `tol`)."""

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Return `n` points of the set, shape (n, dim)."""

    @abstractmethod
    def support_function(self, directions: np.ndarray) -> np.ndarray:
        """Return `max_{x in self} d.x` for each direction d (rows of `directions`); an upper bound at worst."""

    def __setattr__(self, name, value):  # immutability: attributes are set once, in __init__
        if hasattr(self, name):
            raise AttributeError(f"{type(self).__name__} is immutable; {name!r} cannot be changed")
        object.__setattr__(self, name, value)


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
