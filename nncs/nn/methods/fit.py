"""`fit`: the network's output as an affine function of its input plus a soundly bounded residual interval.

`net(z) = A z + b + r(z)` with `r(z)` in `[r_lo, r_hi]` on the input set's box hull (input-splitting DeepPoly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nncs.nn.bounds import bisect_boxes, bound_objectives
from nncs.nn.methods.relax import MARGIN
from nncs.nn.network import IDENTITY, PIECEWISE_LINEAR, S_SHAPED, Activation, Linear, Network
from nncs.sets import Box, Star, Zonotope

__all__ = ["AffineFit", "fit_affine", "bound_residual", "fit_reach", "fit_supports"]


def fit_supports(layer) -> bool:
    """True for the layers `fit` can bound: Linear layers and monotone activations of a known shape
    (identity, piecewise-linear, S-shaped), which `nncs.nn.bounds.bound_objectives` relaxes."""
    if isinstance(layer, Linear):
        return True
    return (
        isinstance(layer, Activation)
        and layer.monotone
        and layer.shape in (IDENTITY, PIECEWISE_LINEAR, S_SHAPED)
    )


@dataclass(frozen=True)
class AffineFit:
    """`net(z) - (A z + b)` lies in `[r_lo, r_hi]` for every z of the box `[lo, hi]` (sound).

    Attributes:
        A: (n_out, n_in) slopes (zero in the input's constant coordinates); b: (n_out,) offsets.
        r_lo, r_hi: (n_out,) sound residual bounds on the box; s_lo, s_hi: the residual range over samples
            (inner estimate: the true range contains it).
        lo, hi: the box; boxes: sub-boxes bounded; complete: True when every output met the tolerance.
    """

    A: np.ndarray
    b: np.ndarray
    r_lo: np.ndarray
    r_hi: np.ndarray
    s_lo: np.ndarray
    s_hi: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    boxes: int
    complete: bool


def _forward(net: Network, Z: np.ndarray, chunk: int = 512) -> np.ndarray:
    """net(Z) in row chunks (small matrix products stay single-threaded in BLAS, which is faster on busy cores)."""
    return np.vstack([net(Z[k : k + chunk]) for k in range(0, Z.shape[0], chunk)])


def _layers(net: Network) -> list:
    """The network's layers without Identity layers, starting with a Linear layer (exact rewrite)."""
    layers = [lay for lay in net.layers if not (isinstance(lay, Activation) and lay.shape == IDENTITY)]
    if not layers or not isinstance(layers[0], Linear):
        layers.insert(0, Linear(np.eye(net.n_inputs), np.zeros(net.n_inputs)))
    return layers


def _fold_constants(layers: list, lo: np.ndarray, hi: np.ndarray) -> tuple[list, np.ndarray]:
    """Fold the box's zero-width coordinates into the first layer's bias; returns (layers, free coordinates)."""
    free = np.flatnonzero(hi > lo)
    const = np.flatnonzero(~(hi > lo))
    first = layers[0]
    W = first.W[:, free]
    b = first.b + first.W[:, const] @ lo[const]
    if free.size == 0:  # a point: keep one dummy input of zero width (weights zero)
        W = np.zeros((first.W.shape[0], 1))
    return [Linear(W, b)] + layers[1:], free


def fit_affine(
    net: Network, lo: np.ndarray, hi: np.ndarray, samples: int = 2000, rng=0, slope: str = "minimax"
) -> tuple:
    """Affine fit `net(z) ~ A z + b` over uniform samples, the corners and the centre of the box [lo, hi].

    Args:
        net: the network; lo, hi: the box (zero-width coordinates get slope 0).
        samples: number of random points; rng: seed or Generator.
        slope: "minimax" (least largest residual on the samples, one LP per output: the narrowest residual
            interval) or "lstsq" (least squares).
    Returns:
        (A, b, Z, R): slopes (n_out, n_in), offsets (n_out,), the sample points and their residuals.
    """
    rng = np.random.default_rng(rng)
    free = np.flatnonzero(hi > lo)
    n = lo.shape[0]
    Z = lo + (hi - lo) * rng.random((int(samples), n))
    if 0 < free.size <= 10:
        corners = ((np.arange(2**free.size)[:, None] >> np.arange(free.size)) & 1).astype(bool)
        C = np.broadcast_to(lo, (corners.shape[0], n)).copy()
        C[:, free] = np.where(corners, hi[free], lo[free])
        Z = np.vstack([Z, C, (lo + hi) / 2])
    Y = _forward(net, Z)
    M = np.hstack([Z[:, free], np.ones((Z.shape[0], 1))])
    if slope not in ("minimax", "lstsq"):
        raise ValueError(f"fit_affine: slope must be 'minimax' or 'lstsq', got {slope!r}")
    coef, *_ = np.linalg.lstsq(M, Y, rcond=None)
    if slope == "minimax" and free.size:
        coef = np.column_stack([_minimax(M, Y[:, j], coef[:, j]) for j in range(Y.shape[1])])
    A = np.zeros((Y.shape[1], n))
    A[:, free] = coef[:-1].T
    b = coef[-1]
    return A, b, Z, Y - Z @ A.T - b


def _minimax(M: np.ndarray, y: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Coefficients c minimising max |y - M c| (Chebyshev fit, an LP); falls back to `start` if the LP fails."""
    from nncs.sets import lp

    m, k = M.shape
    scale = max(float(np.abs(y - M @ start).max()), 1e-300)
    # variables (c, t): minimise t subject to -t <= (y - M c) / scale <= t
    A_ub = np.block([[-M / scale, -np.ones((m, 1))], [M / scale, -np.ones((m, 1))]])
    b_ub = np.concatenate([-y / scale, y / scale])
    lower = np.r_[np.full(k, -np.inf), 0.0]
    try:
        x, _ = lp.LinearProgram(A_ub, b_ub, lower, np.full(k + 1, np.inf)).argmin(np.r_[np.zeros(k), 1.0])
    except lp.LPError:
        return start
    c = x[:k]
    return c if np.abs(y - M @ c).max() <= np.abs(y - M @ start).max() else start


def bound_residual(
    net: Network,
    A: np.ndarray,
    b: np.ndarray,
    lo,
    hi,
    tol: float = 0.2,
    max_boxes: int = 512,
    batch: int = 32,
    samples: int = 2000,
    rng=0,
    split_dims: int = 2,
    check_time: Callable[[], None] | None = None,
) -> AffineFit:
    """Sound bounds of `net(z) - A z - b` over the box [lo, hi] by input-splitting branch and bound.

    Sub-boxes are bounded with `nncs.nn.bounds.bound_objectives` (DeepPoly with back-substitution; the affine
    part `-A z - b` joins each objective as a term of the input, so the bound is that of the residual itself, not
    the network's bound minus the range of `A z` on the sub-box) and split
    (never along zero-width coordinates) until each output's bound is within `tol` times its sampled residual
    range of that range, or `max_boxes` sub-boxes have been bounded.

    Args:
        net: the network; A (n_out, n_in), b (n_out,): the affine model; lo, hi: the box.
        tol: relative tolerance against the sampled residual range; max_boxes: budget of bounded sub-boxes;
        batch: sub-boxes per vectorised call; samples, rng: the sampled (inner) residual range;
        split_dims: each round splits an open sub-box in half along this many coordinates (2**k children).
        check_time: called before every batch of sub-boxes is bounded; it raises to stop (e.g. a time limit).
    Returns:
        AffineFit; `[r_lo, r_hi]` is a sound outer bound of the residual on the whole box.
    """
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    A, b = np.asarray(A, dtype=float), np.asarray(b, dtype=float)
    if lo.shape != hi.shape or lo.ndim != 1 or lo.shape[0] != net.n_inputs:
        raise ValueError(
            f"bound_residual: lo, hi must have shape ({net.n_inputs},), got {lo.shape}, {hi.shape}"
        )
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)):
        raise ValueError("bound_residual: need finite lo <= hi")
    n_out = net.n_outputs
    if A.shape != (n_out, net.n_inputs) or b.shape != (n_out,):
        raise ValueError(
            f"bound_residual: A must be ({n_out}, {net.n_inputs}) and b ({n_out},), got {A.shape}, {b.shape}"
        )
    rng = np.random.default_rng(rng)
    Zs = lo + (hi - lo) * rng.random((int(samples), lo.shape[0]))
    Zs = np.vstack([Zs, (lo + hi) / 2])
    Rs = _forward(net, Zs) - Zs @ A.T - b
    s_lo, s_hi = Rs.min(axis=0), Rs.max(axis=0)
    floor = 1e-6 * (1.0 + np.abs(Rs).max(axis=0) + np.abs(b))

    layers, free = _fold_constants(_layers(net), lo, hi)
    flo = lo[free] if free.size else np.zeros(1)
    fhi = hi[free] if free.size else np.zeros(1)
    Af = A[:, free] if free.size else np.zeros((n_out, 1))
    b_eff = b + A[:, ~(hi > lo)] @ lo[~(hi > lo)]
    # residual = net - A z - b: the affine part joins the objectives as a term of the input, so each bound keeps
    # the output's dependency on z (rows: the residual's lower bound, and minus its upper bound)
    C = np.vstack([np.eye(n_out), -np.eye(n_out)])
    e, D = np.concatenate([b_eff, -b_eff]), np.vstack([-Af, Af])
    width = fhi - flo

    def bound(L, U):
        low = np.empty((L.shape[0], 2 * n_out))
        G = np.empty((L.shape[0], 2 * n_out, L.shape[1]))
        for k in range(0, L.shape[0], batch):
            if check_time is not None:
                check_time()
            lk, gk = bound_objectives(layers, L[k : k + batch], U[k : k + batch], C, e, D=D)
            low[k : k + batch], G[k : k + batch] = lk, gk
        return low[:, :n_out], -low[:, n_out:], G

    target = np.maximum(tol * (s_hi - s_lo), floor)
    L, U = flo[None, :].copy(), fhi[None, :].copy()
    done_lo = np.full(n_out, np.inf)
    done_hi = np.full(n_out, -np.inf)
    used = 0
    splittable = width > 0
    while True:
        r_lo, r_hi, G = bound(L, U)
        used += L.shape[0]
        need = (r_lo < (s_lo - target)) | (
            r_hi > (s_hi + target)
        )  # (B, n_out): this output not yet tight enough
        open_ = need.any(axis=1) & (np.any(U - L > 0, axis=1) if splittable.any() else False)
        fin = ~open_
        if fin.any():
            done_lo = np.minimum(done_lo, r_lo[fin].min(axis=0))
            done_hi = np.maximum(done_hi, r_hi[fin].max(axis=0))
        if not open_.any() or used + 2 * int(open_.sum()) > max_boxes:
            if open_.any():
                done_lo = np.minimum(done_lo, r_lo[open_].min(axis=0))
                done_hi = np.maximum(done_hi, r_hi[open_].max(axis=0))
            complete = not open_.any() and bool(
                np.all(done_lo >= s_lo - target) and np.all(done_hi <= s_hi + target)
            )
            break
        L, U, G = L[open_], U[open_], G[open_]
        # split where the bounding functions vary most over the box (only the rows still needed), along the
        # `split_dims` most varying coordinates at once (2**k children: fewer, larger vectorised rounds)
        rows = np.concatenate([r_lo[open_] < s_lo - target, r_hi[open_] > s_hi + target], axis=1)[:, :, None]
        smear = (np.abs(G) * rows).sum(axis=1) * (U - L)
        k = int(min(split_dims, int(splittable.sum())))
        if used + 2**k * L.shape[0] > max_boxes:  # the next round bounds all 2**k children of each box
            k = 1
        order = np.argsort(-smear, axis=1)[:, :k]
        for j in range(k):
            L, U = bisect_boxes(L, U, order[:, j])
            order = np.vstack([order, order])
    # rounding of the folded constants and of the residual layer's bias (tiny; DeepPoly covers its own rounding)
    slack = 1e-9 * (1.0 + np.abs(A) @ np.maximum(np.abs(lo), np.abs(hi)) + np.abs(b) + np.abs(Rs).max(axis=0))
    return AffineFit(A, b, done_lo - slack, done_hi + slack, s_lo, s_hi, lo, hi, used, complete)


def fit_reach(net: Network, input_set, opts) -> list:
    """`fit` reach: the output set `A z + b + [r_lo, r_hi]` over the input set, keeping its dependencies (outer).

    A Zonotope input `c + G e` gives `Zonotope(A c + b + mid, [A G, diag(rad)])`: its first generators are
    the input's, the new ones (one per output) bound the residual. A Star input
    gives the Star over its predicate variables followed by one variable per output, the residual, with bounds
    [r_lo, r_hi]. A Box is first made a Zonotope. The residual is bounded, by `bound_residual`, on the input
    set's box hull (Zonotope: exact bounds; Star: LP bounds), widened by a rounding margin; so the joint set of
    input and output contains every (z, net(z)). Zero-width inputs are constants, never split.
    """
    if isinstance(input_set, Box):
        input_set = input_set.to_zonotope()
    if not isinstance(input_set, (Zonotope, Star)):
        raise ValueError(f"fit: input_set must be a Box, Zonotope or Star, got {type(input_set).__name__}")
    if input_set.dim != net.n_inputs:
        raise ValueError(f"fit: input set has dimension {input_set.dim}, the network expects {net.n_inputs}")
    lo, hi = input_set.bounds()
    free = hi > lo
    lo = np.where(
        free, lo - MARGIN * (1.0 + np.abs(lo)), lo
    )  # cover rounding of the hull (constants stay exact)
    hi = np.where(free, hi + MARGIN * (1.0 + np.abs(hi)), lo)
    A_z, b_z, _, _ = fit_affine(net, lo, hi, opts.fit_samples, opts.seed, opts.fit_slope)
    fit = bound_residual(
        net,
        A_z,
        b_z,
        lo,
        hi,
        opts.fit_tol,
        opts.fit_max_boxes,
        opts.fit_batch,
        opts.fit_samples,
        opts.seed + 1,
        check_time=getattr(opts, "check_time", None),
    )
    r_lo, r_hi = fit.r_lo, fit.r_hi
    n_out = net.n_outputs
    if isinstance(input_set, Zonotope):
        Y = input_set.affine_map(A_z, b_z)
        mid = (r_lo + r_hi) / 2
        rad = (r_hi - r_lo) / 2 + MARGIN * (1.0 + np.abs(Y.c) + np.abs(Y.G).sum(axis=1) + np.abs(mid))
        R = np.diag(rad)
        return [Zonotope(Y.c + mid, np.hstack([Y.G, R]))]
    S = input_set
    Y = S.affine_map(A_z, b_z)
    pad = MARGIN * (1.0 + np.abs(Y.c) + np.abs(Y.V).sum(axis=1))  # rounding of the affine image
    C = np.hstack([S.C, np.zeros((S.nconstraints, n_out))])
    return [
        Star(
            Y.c,
            np.hstack([Y.V, np.eye(n_out)]),
            C,
            S.d,
            np.concatenate([S.lb, r_lo - pad]),
            np.concatenate([S.ub, r_hi + pad]),
        )
    ]
