"""`abs-dom`: DeepPoly-style symbolic linear bounds with back-substitution to the input predicate.

The result is a Star over the input's predicate variables followed by one variable per output (outer approx.).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nncs.nn.network import Activation
from nncs.nn.methods.relax import MARGIN, affine_pieces, lines
from nncs.sets import Star

__all__ = ["PolyState", "poly_linear", "poly_activation", "backsubstitute"]


@dataclass(frozen=True)
class PolyState:
    """DeepPoly abstract element: the input star and the steps (affine maps, per-neuron linear bounds) so far.

    A step is ("affine", W, b) or ("act", ls, lt, us, ut) meaning `ls x + lt <= y <= us x + ut` element-wise.
    `concretize` is "box" (the predicate box) or "lp" (the input star's predicate polytope by LP).
    """

    input: Star
    steps: tuple = field(default=())
    dim: int = 0
    concretize: str = "box"

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Sound (lower, upper) of the current neurons by back-substitution (outer approximation)."""
        eye = np.eye(self.dim)
        AL, aL = backsubstitute(self, eye, lower=True)
        AU, aU = backsubstitute(self, eye, lower=False)
        return _concretize(self, AL, aL, lower=True), _concretize(self, AU, aU, lower=False)

    def to_star(self) -> Star:
        """Return the Star over [input predicate a; outputs y] with `L a + l <= y <= U a + u` (outer approx.)."""
        S = self.input
        eye = np.eye(self.dim)
        AL, aL = backsubstitute(self, eye, lower=True)
        AU, aU = backsubstitute(self, eye, lower=False)
        lo, hi = _concretize(self, AL, aL, True), _concretize(self, AU, aU, False)
        m, n = S.nvars, self.dim
        C = np.vstack([
            np.hstack([S.C, np.zeros((S.nconstraints, n))]),
            np.hstack([AL, -eye]),
            np.hstack([-AU, eye]),
        ])  # fmt: skip
        d = np.concatenate([S.d, -aL, aU])
        V = np.hstack([np.zeros((n, m)), eye])
        return Star(np.zeros(n), V, C, d, np.concatenate([S.lb, lo]), np.concatenate([S.ub, hi]))


def backsubstitute(state: PolyState, Lam: np.ndarray, lower: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return (A, a0) with `Lam z >= A a + a0` (lower) or `<=` (upper) for every input predicate point a.

    `z` is the current layer; the bound is sound for all inputs (outer approximation).
    """
    Lam = np.array(Lam, dtype=float)
    off = np.zeros(Lam.shape[0])
    err = np.zeros(Lam.shape[0])
    for step in reversed(state.steps):
        if step[0] == "affine":
            _, W, b = step
            off += Lam @ b
            err += np.abs(Lam) @ np.abs(b)
            Lam = Lam @ W
        else:
            _, ls, lt, us, ut = step
            pos, neg = np.maximum(Lam, 0.0), np.minimum(Lam, 0.0)
            if lower:
                off += pos @ lt + neg @ ut
                Lam = pos * ls + neg * us
            else:
                off += pos @ ut + neg @ lt
                Lam = pos * us + neg * ls
            err += np.abs(pos) @ np.abs(lt) + np.abs(neg) @ np.abs(ut)
    S = state.input
    off += Lam @ S.c
    err += np.abs(Lam) @ np.abs(S.c)
    A = Lam @ S.V
    slack = 16 * np.finfo(float).eps * (err + np.abs(A).sum(axis=1) * (1 + np.abs(S.lb).max(initial=0) + np.abs(S.ub).max(initial=0)))
    return A, (off - slack if lower else off + slack)


def _concretize(state: PolyState, A: np.ndarray, a0: np.ndarray, lower: bool) -> np.ndarray:
    S = state.input
    if state.concretize == "lp" and S.nconstraints:
        prog = S.lp_program
        vals = np.array([prog.minimize(r) if lower else prog.maximize(r) for r in A])
        return a0 + vals
    if state.concretize not in ("box", "lp"):
        raise ValueError(f"options.concretize must be 'box' or 'lp', got {state.concretize!r}")
    pos, neg = np.maximum(A, 0.0), np.minimum(A, 0.0)
    if lower:
        v = a0 + pos @ S.lb + neg @ S.ub
        return v - MARGIN * (1 + np.abs(v))
    v = a0 + pos @ S.ub + neg @ S.lb
    return v + MARGIN * (1 + np.abs(v))


def poly_linear(P: PolyState, layer, opts) -> list[PolyState]:
    """Affine layer: recorded exactly."""
    return [PolyState(P.input, P.steps + (("affine", layer.W, layer.b),), layer.out_dim, P.concretize)]


def poly_activation(P: PolyState, act: Activation, opts) -> list[PolyState]:
    """Activation: one lower and one upper line per neuron, chosen by least area (DeepPoly); outer approximation."""
    l, u = P.bounds()
    mask, s, t = affine_pieces(act, l, u)
    ls, lt, us, ut = s.copy(), t.copy(), s.copy(), t.copy()
    R = np.flatnonzero(~mask)
    if R.size:
        a, b, c, d = lines(act, l[R], u[R]).best(l[R], u[R])
        ls[R], lt[R], us[R], ut[R] = a, b, c, d
    return [PolyState(P.input, P.steps + (("act", ls, lt, us, ut),), P.dim, P.concretize)]
