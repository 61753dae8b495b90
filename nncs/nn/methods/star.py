"""Star-set layer rules: `exact-star` (splitting piecewise-linear activations) and `approx-star` (relaxations).

Affine layers are exact. Relaxation variables are appended after the input's predicate variables.
"""

from __future__ import annotations

import numpy as np

from nncs.nn.methods.relax import affine_pieces, lines, pieces, widen
from nncs.nn.network import Activation
from nncs.sets import Star, lp
from nncs.sets.base import rounding_slack

__all__ = ["neuron_bounds", "approx_star_activation", "exact_star_activation", "star_linear"]


def star_linear(S: Star, layer, opts) -> list[Star]:
    """Affine layer on a star (exact)."""
    return [S.affine_map(layer.W, layer.b)]


def _lp_bounds_rows(S: Star, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Certified LP (min, max) of the coordinates `rows` of S (outer by the LP certificate, one batch of LPs,
    widened by the rounding of adding the centre)."""
    lo, hi = S.lp_program.bounds(S.V[rows])
    slack = rounding_slack(np.abs(S.c[rows]) + np.maximum(np.abs(lo), np.abs(hi)), 1)
    return lo + S.c[rows] - slack, hi + S.c[rows] + slack


def neuron_bounds(S: Star, act: Activation | None, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Return sound (lower, upper) bounds of each coordinate of S.

    mode "estimate": the predicate box mapped through V (cheap, outer). mode "lp": the estimate, then LPs
    (exact up to certification) for the coordinates where `act` is not affine on the estimated interval. When
    the LP solver fails on the star (HiGHS can declare a non-empty but badly scaled star infeasible, as on
    Docking's saturated tanh neurons), the estimate is kept: it bounds the coordinates of any star, empty or not.
    """
    box = S.box()
    lo, hi = widen(box.lb, box.ub)
    if mode == "estimate" or S.nconstraints == 0:
        return lo, hi
    if mode != "lp":
        raise ValueError(f"options.bounds must be 'lp' or 'estimate', got {mode!r}")
    need = np.arange(S.dim) if act is None else np.flatnonzero(~affine_pieces(act, lo, hi)[0])
    if need.size:
        try:
            l2, h2 = _lp_bounds_rows(S, need)
        except lp.LPError:  # the estimate stays: sound whatever the solver concluded
            return lo, hi
        lo[need] = np.maximum(lo[need], l2)
        hi[need] = np.minimum(hi[need], h2)
    return lo, hi


def _apply_affine_rows(c: np.ndarray, V: np.ndarray, mask: np.ndarray, s: np.ndarray, t: np.ndarray) -> None:
    c[mask] = s[mask] * c[mask] + t[mask]
    V[mask] = s[mask, None] * V[mask]


def approx_star_activation(S: Star, act: Activation, opts) -> list[Star]:
    """Activation on a star by NNV-style relaxation (outer approximation; one star out).

    Neurons where the activation is affine on their bounds are mapped exactly; each other neuron j gets a new
    predicate variable b_j (appended) with `lower lines <= b_j <= upper lines` in terms of its input and
    `f(l) <= b_j <= f(u)`: the triangle for ReLU, the S-curve bounds for S-shaped activations (tanh, sigmoid, ...).
    """
    l, u = neuron_bounds(S, act, opts.bounds)
    mask, s, t = affine_pieces(act, l, u)
    c, V = S.c.copy(), S.V.copy()
    R = np.flatnonzero(~mask)
    _apply_affine_rows(c, V, mask, s, t)
    if R.size == 0:
        return [Star(c, V, S.C, S.d, S.lb, S.ub)]
    L = lines(act, l[R], u[R])
    m, nr = S.nvars, R.size
    cR, VR = S.c[R], S.V[R]
    rows, rhs = [], []
    eye = np.eye(nr)
    for k in range(L.low_s.shape[1]):
        keep = (
            np.ones(nr, dtype=bool)
            if k == 0
            else (L.low_s[:, k] != L.low_s[:, 0]) | (L.low_t[:, k] != L.low_t[:, 0])
        )
        if np.any(keep):  # low_s * x + low_t <= b
            rows.append(np.hstack([L.low_s[keep, k, None] * VR[keep], -eye[keep]]))
            rhs.append(-L.low_s[keep, k] * cR[keep] - L.low_t[keep, k])
        keep = (
            np.ones(nr, dtype=bool)
            if k == 0
            else (L.up_s[:, k] != L.up_s[:, 0]) | (L.up_t[:, k] != L.up_t[:, 0])
        )
        if np.any(keep):  # b <= up_s * x + up_t
            rows.append(np.hstack([-L.up_s[keep, k, None] * VR[keep], eye[keep]]))
            rhs.append(L.up_s[keep, k] * cR[keep] + L.up_t[keep, k])
    C = np.vstack([np.hstack([S.C, np.zeros((S.nconstraints, nr))])] + rows)
    d = np.concatenate([S.d] + rhs)
    c[R] = 0.0
    V = np.hstack([V, np.zeros((S.dim, nr))])
    V[R] = 0.0
    V[R, m + np.arange(nr)] = 1.0
    return [Star(c, V, C, d, np.concatenate([S.lb, L.ylo]), np.concatenate([S.ub, L.yhi]))]


def exact_star_activation(S: Star, act: Activation, opts) -> list[Star]:
    """Piecewise-linear activation on a star by splitting (exact: the union equals the image).

    A neuron splits only where its LP bounds on the current star straddle a breakpoint; the pieces of a split
    carry the constraints `bp_k-1 <= x_j <= bp_k` and the exact affine map of that piece.
    """
    pw = pieces(act)
    if pw is None:
        raise ValueError(
            f"exact-star handles piecewise-linear activations only, not {act!r}; use approx-star"
        )
    bps, slopes, icepts = pw
    l0, u0 = neuron_bounds(S, None, "estimate")
    mask0 = affine_pieces(act, l0, u0)[0]
    work: list[Star] = [S]
    check = getattr(opts, "check_time", None)
    for j in np.flatnonzero(~mask0):
        nxt: list[Star] = []
        for T in work:
            if check is not None:
                check()
            if T.nconstraints:
                lj, uj = _lp_bounds_rows(T, np.array([j]))
                lj, uj = float(lj[0]), float(uj[0])
            else:
                b = T.box()
                lj, uj = float(b.lb[j]), float(b.ub[j])
            k_lo = int(np.searchsorted(bps, lj, side="right"))
            k_hi = int(np.searchsorted(bps, uj, side="left"))
            if k_lo >= k_hi:  # within one piece: no split
                nxt.append(_map_row(T, j, slopes[k_hi], icepts[k_hi]))
                continue
            for k in range(k_lo, k_hi + 1):
                H, g = [], []
                if k > 0:  # x_j >= bps[k-1]
                    H.append(-T.V[j])
                    g.append(T.c[j] - bps[k - 1])
                if k < len(bps):  # x_j <= bps[k]
                    H.append(T.V[j])
                    g.append(bps[k] - T.c[j])
                P = Star(T.c, T.V, np.vstack([T.C, np.array(H)]), np.concatenate([T.d, g]), T.lb, T.ub)
                lo_k = bps[k - 1] if k > 0 else -np.inf
                hi_k = bps[k] if k < len(bps) else np.inf
                overlap = min(uj, hi_k) - max(lj, lo_k)
                if overlap < 1e-9 * (1.0 + abs(lj) + abs(uj)) and P.is_empty():
                    continue  # a sliver from the LP tolerance, certified empty
                nxt.append(_map_row(P, j, slopes[k], icepts[k]))
        if len(nxt) > opts.max_stars:
            raise RuntimeError(f"exact-star: more than {opts.max_stars} stars (options.max_stars)")
        work = nxt
    out = []
    mask, s, t = affine_pieces(act, l0, u0)
    for T in work:
        c, V = T.c.copy(), T.V.copy()
        _apply_affine_rows(c, V, mask, s, t)
        out.append(T.with_basis(c, V))
    return out


def _map_row(T: Star, j: int, s: float, t: float) -> Star:
    c, V = T.c.copy(), T.V.copy()
    c[j] = s * c[j] + t
    V[j] = s * V[j]
    return T.with_basis(c, V)
