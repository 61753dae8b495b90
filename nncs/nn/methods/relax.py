"""Sound linear relaxations of element-wise activations over pre-activation intervals [l, u].

Every relaxation here bounds the activation from both sides on the whole interval (outer approximation),
with a small outward margin that covers floating-point rounding; piecewise-linear pieces are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nncs.nn.network import PIECEWISE_LINEAR, S_SHAPED, Activation

__all__ = ["Lines", "pieces", "affine_pieces", "lines", "parallel", "MARGIN", "widen"]

MARGIN = 1e-12
"""Absolute outward margin (times 1 + |value|) added to relaxation offsets and floating-point bounds."""


def widen(lo: np.ndarray, hi: np.ndarray, rel: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Return [lo, hi] widened outward by `rel * (1 + |bound|)` (covers rounding in cheap bound estimates)."""
    return lo - rel * (1.0 + np.abs(lo)), hi + rel * (1.0 + np.abs(hi))


def pieces(act: Activation) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Return (breakpoints (p,), slopes (p+1,), intercepts (p+1,)) of a piecewise-linear activation, else None.

    Piece k covers [breakpoints[k-1], breakpoints[k]] with the function `slope[k] x + intercept[k]`
    (the activation's own `pieces()`).
    """
    if act.shape != PIECEWISE_LINEAR:
        return None
    bps, slopes, icepts = act.pieces()
    return np.asarray(bps, dtype=float), np.asarray(slopes, dtype=float), np.asarray(icepts, dtype=float)


def _is_clip(bps: np.ndarray, slopes: np.ndarray, icepts: np.ndarray) -> bool:
    """True for clip(x, p, q): two breakpoints p < q, slopes (0, 1, 0), intercepts (p, 0, q)."""
    return (
        len(bps) == 2
        and bps[0] < bps[1]
        and slopes.tolist() == [0.0, 1.0, 0.0]
        and icepts.tolist() == [bps[0], 0.0, bps[1]]
    )


def affine_pieces(act: Activation, l: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (mask, slope, intercept): where `mask`, the activation equals `slope x + intercept` on [l, u] (exact)."""
    pw = pieces(act)
    n = l.shape[0]
    if pw is None:
        return np.zeros(n, dtype=bool), np.zeros(n), np.zeros(n)
    bps, slopes, icepts = pw
    k_lo = np.searchsorted(
        bps, l, side="right"
    )  # piece index of l (a breakpoint itself belongs to the right piece)
    k_hi = np.searchsorted(bps, u, side="left")  # piece index of u (a breakpoint belongs to the left piece)
    mask = k_lo >= k_hi
    k = np.where(mask, k_hi, 0)
    return mask, slopes[k], icepts[k]


@dataclass(frozen=True)
class Lines:
    """Linear bounds per neuron: `y >= low_s x + low_t` and `y <= up_s x + up_t` for each of K columns.

    Also `ylo <= y <= yhi`. Arrays of shape (n, K) for the lines and (n,) for the bounds.
    """

    low_s: np.ndarray
    low_t: np.ndarray
    up_s: np.ndarray
    up_t: np.ndarray
    ylo: np.ndarray
    yhi: np.ndarray

    def best(self, l: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return one lower and one upper line per neuron: those of least area over [l, u] (DeepPoly choice)."""
        mid = ((l + u) / 2)[:, None]
        i_lo = np.argmax(self.low_s * mid + self.low_t, axis=1)
        i_up = np.argmin(self.up_s * mid + self.up_t, axis=1)
        r = np.arange(l.shape[0])
        return self.low_s[r, i_lo], self.low_t[r, i_lo], self.up_s[r, i_up], self.up_t[r, i_up]


def _fun(act: Activation, x: np.ndarray) -> np.ndarray:
    return act.forward(x)


def _margin(t: np.ndarray) -> np.ndarray:
    return MARGIN * (1.0 + np.abs(t))


def _chord(act, l, u):
    fl, fu = _fun(act, l), _fun(act, u)
    width = u - l
    s = np.where(width > 0, (fu - fl) / np.where(width > 0, width, 1.0), 0.0)
    return s, fl - s * l


def lines(act: Activation, l: np.ndarray, u: np.ndarray) -> Lines:
    """Return sound linear lower/upper bounds (K = 2 each) of `act` over [l, u] per neuron (outer approximation).

    Piecewise-linear activations with one breakpoint, and clips, get the convex hull of their graph on [l, u]
    (triangle for ReLU); other piecewise-linear ones the chord-slope lines of `parallel`. S-shaped ones (tanh,
    sigmoid, softsign: see `SShaped`) get NNV's S-curve style bounds: chord and end tangents on the convex /
    concave side of the activation's inflection, and two parallel lines of slope min(f'(l), f'(u)) through the
    end points where the interval spans the inflection.
    """
    l = np.asarray(l, dtype=float)
    u = np.maximum(np.asarray(u, dtype=float), l)
    n = l.shape[0]
    fl, fu = _fun(act, l), _fun(act, u)
    ylo, yhi = np.minimum(fl, fu), np.maximum(fl, fu)
    pw = pieces(act)
    if pw is not None:
        bps, slopes, icepts = pw
        cs, ct = _chord(act, l, u)
        low_s, low_t = np.tile(cs[:, None], 2), np.tile(ct[:, None], 2)
        up_s, up_t = low_s.copy(), low_t.copy()
        if len(bps) == 1:  # max or min of two lines
            convex = slopes[0] <= slopes[1]
            pl = np.stack([np.full(n, slopes[0]), np.full(n, slopes[1])], axis=1)
            pt = np.stack([np.full(n, icepts[0]), np.full(n, icepts[1])], axis=1)
            if convex:
                low_s, low_t = pl, pt
            else:
                up_s, up_t = pl, pt
        elif _is_clip(bps, slopes, icepts):  # clip(x, p, q)
            p, q = bps
            # below: max(p, x) on the left part, min(x, q) on the right part; both crossed: the hull
            only_p = (l < p) & (u <= q)
            only_q = (l >= p) & (u > q)
            both = (l < p) & (u > q)
            low_s[only_p], low_t[only_p] = [0.0, 1.0], [p, 0.0]
            up_s[only_q], up_t[only_q] = [0.0, 1.0], [q, 0.0]
            if np.any(both):
                ub_, lb_ = u[both], l[both]
                s1 = (q - p) / (ub_ - p)  # line (p, p) - (u, q)
                low_s[both] = np.stack([np.zeros_like(s1), s1], axis=1)
                low_t[both] = np.stack([np.full_like(s1, p), p - s1 * p], axis=1)
                s2 = (q - p) / (q - lb_)  # line (l, p) - (q, q)
                up_s[both] = np.stack([np.zeros_like(s2), s2], axis=1)
                up_t[both] = np.stack([np.full_like(s2, q), p - s2 * lb_], axis=1)
            # within one piece the chord is the exact line, kept as both bounds
        else:  # any other continuous piecewise-linear function: the parallel lines of the chord slope
            s, t_lo, t_hi = _parallel_pieces(act, bps, l, u)
            low_s, low_t = np.tile(s[:, None], 2), np.tile(t_lo[:, None], 2)
            up_s, up_t = low_s.copy(), np.tile(t_hi[:, None], 2)
    elif act.shape == S_SHAPED:
        cs, ct = _chord(act, l, u)
        dl, du = act.derivative(l), act.derivative(u)
        tl_t, tu_t = fl - dl * l, fu - du * u  # tangents at l and u
        lam = np.minimum(dl, du)
        par_lo, par_hi = fl - lam * l, fu - lam * u
        low_s = np.stack([lam, lam], axis=1)
        low_t = np.stack([par_lo, par_lo], axis=1)
        up_s = np.stack([lam, lam], axis=1)
        up_t = np.stack([par_hi, par_hi], axis=1)
        concave = l >= act.inflection  # f'' <= 0 right of the inflection
        convex = u <= act.inflection
        low_s[concave] = np.stack([cs, cs], axis=1)[concave]
        low_t[concave] = np.stack([ct, ct], axis=1)[concave]
        up_s[concave] = np.stack([dl, du], axis=1)[concave]
        up_t[concave] = np.stack([tl_t, tu_t], axis=1)[concave]
        up_s[convex] = np.stack([cs, cs], axis=1)[convex]
        up_t[convex] = np.stack([ct, ct], axis=1)[convex]
        low_s[convex] = np.stack([dl, du], axis=1)[convex]
        low_t[convex] = np.stack([tl_t, tu_t], axis=1)[convex]
    else:
        raise ValueError(f"no relaxation for activation {act!r}")
    low_t = (
        low_t - _margin(low_t) - MARGIN * np.abs(low_s) * (1.0 + np.maximum(np.abs(l), np.abs(u)))[:, None]
    )
    up_t = up_t + _margin(up_t) + MARGIN * np.abs(up_s) * (1.0 + np.maximum(np.abs(l), np.abs(u)))[:, None]
    ylo, yhi = ylo - _margin(ylo), yhi + _margin(yhi)
    return Lines(low_s, low_t, up_s, up_t, ylo, yhi)


def _parallel_pieces(act: Activation, bps: np.ndarray, l: np.ndarray, u: np.ndarray):
    """Chord slope s and the extremes of act(x) - s x over the end points and breakpoints in [l, u] (exact)."""
    s, _ = _chord(act, l, u)
    cand = [l, u] + [np.clip(np.full_like(l, bp), l, u) for bp in bps]
    g = np.stack([_fun(act, x) - s * x for x in cand], axis=1)
    return s, g.min(axis=1), g.max(axis=1)


def parallel(act: Activation, l: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (s, t_lo, t_hi) with `s x + t_lo <= act(x) <= s x + t_hi` on [l, u] (DeepZ; outer approximation).

    Piecewise-linear: s is the chord slope and the offsets are extremes of act(x) - s x over the end points and
    breakpoints (exact for that slope). S-shaped: s = min(f'(l), f'(u)), the least slope on [l, u] (f' rises
    up to the inflection and falls after it), so act(x) - s x is nondecreasing.
    """
    l = np.asarray(l, dtype=float)
    u = np.maximum(np.asarray(u, dtype=float), l)
    pw = pieces(act)
    if pw is not None:
        s, t_lo, t_hi = _parallel_pieces(act, pw[0], l, u)
    elif act.shape == S_SHAPED:
        s = np.minimum(act.derivative(l), act.derivative(u))
        t_lo, t_hi = _fun(act, l) - s * l, _fun(act, u) - s * u
    else:
        raise ValueError(f"no relaxation for activation {act!r}")
    extra = MARGIN * np.abs(s) * (1.0 + np.maximum(np.abs(l), np.abs(u)))
    return s, t_lo - _margin(t_lo) - extra, t_hi + _margin(t_hi) + extra
