"""`abs-dom`: DeepPoly-style symbolic linear bounds with back-substitution to the input predicate.

The result is a Star over the input's predicate variables followed by one variable per output (outer approx.).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nncs.nn.bounds import LinearBounds, backsubstitute, relaxed_magnitude
from nncs.nn.methods.relax import MARGIN, affine_pieces, lines
from nncs.nn.network import Activation
from nncs.sets import Star

__all__ = ["PolyState", "poly_linear", "poly_activation"]


@dataclass(frozen=True)
class PolyState:
    """DeepPoly abstract element: the input star and the steps (affine maps, per-neuron linear bounds) so far.

    A step is ("affine", W, b) or ("act", ls, lt, us, ut, l, u) meaning `ls x + lt <= y <= us x + ut`
    element-wise for pre-activations x in [l, u].
    `concretize` is "box" (the predicate box) or "lp" (the input star's predicate polytope by LP).
    """

    input: Star
    steps: tuple = field(default=())
    dim: int = 0
    concretize: str = "box"

    predicate: Star | None = field(default=None, compare=False, repr=False)
    """The input's predicate polytope `{a}` as a star (LP concretisation); set from `input` when None, and
    passed on to the next states so that they share one LP model."""

    def __post_init__(self):
        if self.concretize not in ("box", "lp"):
            raise ValueError(f"options.concretize must be 'box' or 'lp', got {self.concretize!r}")
        if self.predicate is None:
            S = self.input
            object.__setattr__(self, "predicate", S.with_basis(np.zeros(S.nvars), np.eye(S.nvars)))

    def linear_bounds(self) -> LinearBounds:
        """Linear bounds of the current neurons over the input predicate by back-substitution (outer approx.).

        One group of `dim` rows: coefficients (1, dim, m) on the predicate variables a, constants and
        concretised bounds (1, dim); sound, rounding slack included.
        """
        S = self.input
        pmag = np.maximum(np.abs(S.lb), np.abs(S.ub))[None, :]
        table = [("affine", S.V, S.c)]  # the input map x = c + V a, then the network's steps
        mags = [pmag]
        zmag = np.abs(S.c)[None, :] + pmag @ np.abs(S.V).T  # bounds on |x|
        for st in self.steps:
            if st[0] == "affine":
                table.append(st)
                mags.append(zmag)
                zmag = zmag @ np.abs(st[1]).T + np.abs(st[2])
            else:
                l, u = st[5], st[6]
                table.append(("act",) + tuple(v[None, :] for v in st[1:5]))
                mags.append(np.minimum(zmag, np.maximum(np.abs(l), np.abs(u))[None, :]))
                zmag = np.minimum(zmag, relaxed_magnitude(st, l, u)[None, :])
        concretize = None
        if self.concretize == "lp" and S.nconstraints:
            pred = self.predicate

            def concretize(A, lower):
                rows = A.reshape(-1, A.shape[-1])
                v = -pred.support_function(-rows) if lower else pred.support_function(rows)
                return v.reshape(A.shape[:-1])

        lb, ub = S.lb[None, :], S.ub[None, :]
        Lam = np.eye(self.dim)[None]
        return backsubstitute(table, Lam, np.zeros((1, self.dim)), lb, ub, mags=mags, concretize=concretize)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Sound (lower, upper) of the current neurons by back-substitution (outer approximation)."""
        lo, hi = self._concrete(self.linear_bounds())
        return lo, hi

    def _concrete(self, lin: LinearBounds) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = lin.lower[0], lin.upper[0]
        if self.concretize == "lp" and self.input.nconstraints:
            return lo, hi
        return lo - MARGIN * (1 + np.abs(lo)), hi + MARGIN * (1 + np.abs(hi))

    def to_star(self) -> Star:
        """Return the Star over [input predicate a; outputs y] with `L a + l <= y <= U a + u` (outer approx.)."""
        S = self.input
        eye = np.eye(self.dim)
        lin = self.linear_bounds()
        AL, aL, AU, aU = lin.lower_A[0], lin.lower_b[0], lin.upper_A[0], lin.upper_b[0]
        lo, hi = self._concrete(lin)
        m, n = S.nvars, self.dim
        C = np.vstack([
            np.hstack([S.C, np.zeros((S.nconstraints, n))]),
            np.hstack([AL, -eye]),
            np.hstack([-AU, eye]),
        ])  # fmt: skip
        d = np.concatenate([S.d, -aL, aU])
        V = np.hstack([np.zeros((n, m)), eye])
        return Star(np.zeros(n), V, C, d, np.concatenate([S.lb, lo]), np.concatenate([S.ub, hi]))


def poly_linear(P: PolyState, layer, opts) -> list[PolyState]:
    """Affine layer: recorded exactly."""
    return [
        PolyState(
            P.input, P.steps + (("affine", layer.W, layer.b),), layer.out_dim, P.concretize, P.predicate
        )
    ]


def poly_activation(P: PolyState, act: Activation, opts) -> list[PolyState]:
    """Activation: one lower and one upper line per neuron, chosen by least area (DeepPoly); outer approximation."""
    l, u = P.bounds()
    mask, s, t = affine_pieces(act, l, u)
    ls, lt, us, ut = s.copy(), t.copy(), s.copy(), t.copy()
    R = np.flatnonzero(~mask)
    if R.size:
        a, b, c, d = lines(act, l[R], u[R]).best(l[R], u[R])
        ls[R], lt[R], us[R], ut[R] = a, b, c, d
    return [PolyState(P.input, P.steps + (("act", ls, lt, us, ut, l, u),), P.dim, P.concretize, P.predicate)]
