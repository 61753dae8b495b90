"""Linear bounds of a network's outputs by back-substitution: one engine for DeepPoly, CROWN and alpha-CROWN.

A network is seen as a table of *steps*, one per layer: `("affine", W, b)` (exact), `("act", ls, lt, us, ut)`
(a linear relaxation `ls z + lt <= act(z) <= us z + ut` per box and neuron, arrays (B, n)) or None (identity).
`backsubstitute` carries row functions `Lam y + const` of the last step's output back through the table to the
input, choosing per coefficient sign the lower or upper line, and concretises them over an input box (or by a
caller's LP). Every user shares it:

- DeepPoly (`nncs.nn.methods.poly`, reach method abs-dom): one input star; the star's map `x = c + V a` is the
  first step, so the bounds are over its predicate variables a, concretised over the predicate box or by LP.
- CROWN (`bound_objectives`, used by verify-nn and the fit method): a batch of input boxes, intermediate neuron
  bounds by forward symbolic intervals tightened by back-substitution, then the objective rows.
- alpha-CROWN (`optimise_alphas`): the same back-substitution in JAX with the crossing ReLUs' lower slopes as
  parameters, optimised by gradient ascent; the slopes found are re-evaluated soundly by `backsubstitute`.

Floating point: with per-step input magnitudes (`mags`), the bounds are widened by a slack that bounds the
rounding of every product and sum by the size of its terms (not of their possibly cancelled sum), so they are
sound outer bounds. Model: jax_verify's backward_crown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nncs.nn.methods.relax import affine_pieces, lines, parallel
from nncs.nn.network import IDENTITY, Linear

__all__ = [
    "EPS",
    "LinearBounds",
    "backsubstitute",
    "relaxed_magnitude",
    "bound_objectives",
    "optimise_alphas",
    "bisect_boxes",
]

EPS = 1e-11
"""Relative slack per step that covers floating-point rounding of the symbolic bounds (times the terms' size)."""


@dataclass(frozen=True)
class LinearBounds:
    """`lower_A x + lower_b <= Lam f(x) + const <= upper_A x + upper_b` and `lower <= ... <= upper` on the input set.

    Shapes: coefficients (G, K, n0), constants and concretised bounds (G, K), for G groups (boxes or gathered
    rows) of K rows each. The constants include the rounding slack (sound, outer). A side not asked for is None.
    """

    lower_A: np.ndarray | None
    lower_b: np.ndarray | None
    lower: np.ndarray | None
    upper_A: np.ndarray | None
    upper_b: np.ndarray | None
    upper: np.ndarray | None


def backsubstitute(
    steps: Sequence,
    Lam,
    const,
    lb=None,
    ub=None,
    *,
    mags: Sequence | None = None,
    lower: bool = True,
    upper: bool = True,
    rows=None,
    record: list | None = None,
    concretize: Callable | None = None,
    input_term=None,
    shared: bool = False,
    xp=np,
) -> LinearBounds:
    """Bound the row functions `Lam y + const + D x` of the last step's output y by linear functions of the input x.

    Args:
        steps: per layer, ("affine", W, b), ("act", ls, lt, us, ut, ...) with arrays (B, n), or None (identity).
        Lam: (G, K, n) rows per group; const: (G, K).
        lb, ub: (B, n0) the input box of each group (for the concretisation and the rounding slack); None: no
            concretised bounds (the returned lower / upper are then None).
        mags: per step, (B, n) bounds on the magnitude of its input (None for identity); None: no rounding slack
            (not sound: only for gradient objectives such as `optimise_alphas`).
        lower, upper: which sides to compute.
        rows: (G,) the box of each group when G differs from B (the step arrays are gathered); None: G == B.
        record: if given, receives the lower side's row coefficients on each relaxed step's output (last first).
        concretize: `concretize(A, lower) -> (G, K)` the min (lower) / max (upper) of `A x` over the input set,
            replacing the box's (e.g. an LP over a star's predicate; it must be sound itself).
        input_term: None, or D (G, K, n0): a term `D x` of the network input added to each row exactly (its
            coefficients join the back-substituted ones before concretisation, so the bound keeps the
            dependency between the output and the input: e.g. the residual `net(x) - A x`).
        shared: Lam is one (K, n) array of rows shared by every group (G = B, rows None): the last
            activation and the affine step before it are then back-substituted as matrix products with the
            rows' positive and negative parts (the same bound and slack, without (G, K, n) temporaries).
        xp: the array module (numpy, or jax.numpy for a differentiable bound).
    Returns:
        LinearBounds: sound outer bounds (with `mags`), exact back-substitution of the given relaxations otherwise.
    """
    sides = {}
    for side, wanted in ((True, lower), (False, upper)):
        if wanted:
            sides[side] = _side(
                steps,
                Lam,
                const,
                lb,
                ub,
                mags,
                side,
                rows,
                record if side else None,
                concretize,
                xp,
                input_term,
                shared,
            )
    lo, hi = sides.get(True, (None, None, None)), sides.get(False, (None, None, None))
    return LinearBounds(lo[0], lo[1], lo[2], hi[0], hi[1], hi[2])


def _shared_act_affine(P, N, act, affine, mag_act, mag_aff, lower):
    """Rows `Lam = P + N` (P >= 0 >= N, shared by all B groups) back through an activation step and the affine
    step before it: the (B, K, n0) coefficients, the (B, K) constant added and the (B, K) size of the terms
    (for the rounding slack; it bounds the terms of these products as `_side` bounds its own)."""
    ls, lt, us, ut = act[1:5]
    _, W, b = affine
    s_pos, t_pos, s_neg, t_neg = (ls, lt, us, ut) if lower else (us, ut, ls, lt)
    absN = -N
    # through the activation: positive coefficients take (s_pos, t_pos), negative ones (s_neg, t_neg)
    const = t_pos @ P.T + t_neg @ N.T
    mag = np.abs(t_pos) @ P.T + np.abs(t_neg) @ absN.T
    a_pos, a_neg = np.abs(s_pos), np.abs(s_neg)
    mag = mag + (a_pos * mag_act) @ P.T + (a_neg * mag_act) @ absN.T  # |Lam'| <= P |s_pos| + |N| |s_neg|
    # through the affine step: Lam' = P s_pos + N s_neg (per group), so Lam' b and Lam' W are products
    const = const + (s_pos * b) @ P.T + (s_neg * b) @ N.T
    terms = mag_aff @ np.abs(W).T + np.abs(b)
    mag = mag + (a_pos * terms) @ P.T + (a_neg * terms) @ absN.T
    B, n = s_pos.shape
    n0 = W.shape[1]

    def rows_times(R, s):  # R (s_b[:, None] W) for every group b, as one product (K, n) @ (n, B n0)
        S = (s.T[:, :, None] * W[:, None, :]).reshape(n, B * n0)
        return (R @ S).reshape(R.shape[0], B, n0).transpose(1, 0, 2)

    Lam = rows_times(P, s_pos) + rows_times(N, s_neg)
    return Lam, const, mag


def _side(
    steps, Lam, const, lb, ub, mags, lower, rows, record, concretize, xp, input_term=None, shared=False
):
    """One side of `backsubstitute`: (coefficients, constant with slack, concretised bound or None)."""
    take = (lambda v: v) if rows is None else (lambda v: v[rows])
    G, K = const.shape
    first = len(steps) - 1
    fast = (
        shared
        and rows is None
        and record is None
        and xp is np
        and mags is not None
        and K > 1
        and len(steps) >= 2
        and steps[-1] is not None
        and steps[-1][0] == "act"
        and steps[-2] is not None
        and steps[-2][0] == "affine"
    )
    mag0 = terms_mag = None
    if fast:
        P, N = np.maximum(Lam, 0.0), np.minimum(Lam, 0.0)
        Lam, add, terms_mag = _shared_act_affine(
            P, N, steps[-1], steps[-2], mags[len(steps) - 1], mags[len(steps) - 2], lower
        )
        mag0 = np.abs(const)
        const = const + add
        first = len(steps) - 3
    elif shared:
        Lam = np.broadcast_to(Lam, (G,) + Lam.shape)
    # one row per group (gathered rows, alpha rows): 2-D arrays, which numpy multiplies faster than (G, 1, n)
    flat = K == 1
    if flat:
        Lam, const = Lam[:, 0, :], const[:, 0]
        if input_term is not None:
            input_term = input_term[:, 0, :]
    dot = "gn,gn->g" if flat else "gkn,gn->gk"  # each row with its group's vector
    ex = (lambda v: v) if flat else (lambda v: v[:, None, :])  # a group's vector against its rows
    track = mags is not None
    mag = xp.abs(const) if track else None
    if fast:
        mag = mag0 + terms_mag
    for i in range(first, -1, -1):
        step = steps[i]
        if step is None:
            continue
        if step[0] == "affine":
            _, W, b = step
            const = const + Lam @ b
            if track:
                terms = mags[i] @ np.abs(W).T + np.abs(b)  # (B, n_out): size of each row's terms
                mag = mag + xp.einsum(dot, xp.abs(Lam), take(terms))
            Lam = Lam @ W if flat else (Lam.reshape(G * K, -1) @ W).reshape(G, K, -1)
        else:
            if record is not None:
                record.append(Lam)
            ls, lt, us, ut = step[1:5]
            # lower: positive coefficients take the lower line, negative ones the upper line (upper: swapped)
            s_neg, t_neg, s_pos, t_pos = (us, ut, ls, lt) if lower else (ls, lt, us, ut)
            g_s, g_t = take(s_neg), take(t_neg)  # two statements: numpy reuses the freed buffers better
            g_ds, g_dt = take(s_pos - s_neg), take(t_pos - t_neg)
            pos = xp.maximum(Lam, 0.0)
            const = const + xp.einsum(dot, Lam, g_t) + xp.einsum(dot, pos, g_dt)
            if track:
                mag = mag + xp.einsum(dot, xp.abs(Lam), xp.abs(g_t) + xp.abs(g_dt))
            Lam = Lam * ex(g_s) + pos * ex(g_ds)
            if track:
                mag = mag + xp.einsum(dot, xp.abs(Lam), take(mags[i]))
    if input_term is not None:  # the sum's rounding is covered by the slack below (|Lam| times |x|)
        Lam = Lam + input_term
    val = None
    if lb is not None:
        blb, bub = take(lb), take(ub)
        if concretize is not None:
            val = const + concretize(Lam[:, None, :] if flat else Lam, lower).reshape(const.shape)
        else:
            lo_in, hi_in = (blb, bub) if lower else (bub, blb)
            val = (
                const
                + xp.einsum(dot, xp.maximum(Lam, 0.0), lo_in)
                + xp.einsum(dot, xp.minimum(Lam, 0.0), hi_in)
            )
    if track:
        if lb is None:
            raise ValueError("backsubstitute: the rounding slack needs the input box (lb, ub)")
        xabs = xp.maximum(xp.abs(blb), xp.abs(bub))
        slack = EPS * (len(steps) + 1) * (1.0 + mag + xp.einsum(dot, xp.abs(Lam), xabs))
        const = const - slack if lower else const + slack
        val = val - slack if lower else val + slack
    if flat:
        Lam, const, val = Lam[:, None, :], const[:, None], None if val is None else val[:, None]
    return Lam, const, val


def relaxed_magnitude(step: tuple, l: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Bound `|y|` for `ls z + lt <= y <= us z + ut`, z in [l, u] (outer: the lines' extremes at the end points)."""
    ls, lt, us, ut = step[1:5]
    return np.maximum.reduce(
        [np.abs(ls * l + lt), np.abs(ls * u + lt), np.abs(us * l + ut), np.abs(us * u + ut)]
    )


# ------------------------------------------------------------------------------------------------- CROWN
def bound_objectives(
    layers,
    lb: np.ndarray,
    ub: np.ndarray,
    C: np.ndarray,
    e: np.ndarray,
    backsub_every: bool = True,
    opts_dense: float = 0.5,
    prior: list | None = None,
    keep: list | None = None,
    alpha_steps: int = 0,
    influence: bool = False,
    D: np.ndarray | None = None,
):
    """Lower bounds of `C net(x) + D x - e` over each box (B, R) and input coefficients of the bounding functions.

    Intermediate neuron bounds: forward symbolic intervals (parallel relaxations), tightened with
    backsub_every by DeepPoly back-substitution for the neurons they leave ambiguous (all rows grouped per box
    when more than `opts_dense` of them are, else the ambiguous rows gathered); the objective is
    back-substituted. Sound outer bounds (rounding slack included).
    `prior`: per activation layer, (lower, upper) neuron bounds already known on these boxes (e.g. from
    a parent box), intersected in; `keep`: a list that receives this call's (lower, upper) per activation layer.
    `alpha_steps`: optimise the crossing ReLUs' lower slopes of the objective (alpha-CROWN, Linear/ReLU only).
    `influence`: also return, per box, row and input, how much of the bound's looseness that input accounts
    for (B, R, n0): its linear term `|G| * width` plus each relaxed neuron's gap between its bounding lines,
    weighted by the row's coefficient on it and shared among the inputs by their part of the neuron's range.
    A branching score only (it steers input splitting), never part of a bound.
    `D`: None, or (R, n0) coefficients of a term of the input itself in each objective (e.g. `net(x) - A x`
    for a residual), added exactly before concretisation, so the bound keeps the output's dependency on x.
    """
    act_index = 0

    B, n0 = lb.shape
    LAt = np.broadcast_to(np.eye(n0), (B, n0, n0)).copy()  # (B, n0, n): coefficient of input k in neuron j
    UAt = LAt.copy()
    la = np.zeros((B, n0))
    ua = np.zeros((B, n0))
    xabs = np.maximum(np.abs(lb), np.abs(ub))
    steps: list = []
    mags: list = []  # per layer: bounds on the magnitude of its input (see backsubstitute)
    zmag = xabs  # bounds on |current neurons| over each box
    shares: list = []
    act_bounds: list = []
    n_lin = 0

    def conc(At, a, lower):
        pos, neg = np.maximum(At, 0.0), np.minimum(At, 0.0)
        lo_in, hi_in = (lb, ub) if lower else (ub, lb)
        return a + np.einsum("bkn,bk->bn", pos, lo_in) + np.einsum("bkn,bk->bn", neg, hi_in)

    for idx, layer in enumerate(layers):
        if isinstance(layer, Linear):
            n_lin += 1
            Wp, Wn = np.maximum(layer.W, 0.0).T, np.minimum(layer.W, 0.0).T
            n = layer.W.shape[1]
            L2, U2 = LAt.reshape(-1, n), UAt.reshape(-1, n)
            LAt, UAt = (L2 @ Wp + U2 @ Wn).reshape(B, n0, -1), (U2 @ Wp + L2 @ Wn).reshape(B, n0, -1)
            la, ua = la @ Wp + ua @ Wn + layer.b, ua @ Wp + la @ Wn + layer.b
            # rounding: bounded by the size of the terms (|W| times the inputs' magnitudes), not of their sum
            slack = EPS * (1.0 + zmag @ np.abs(layer.W).T + np.abs(layer.b))
            la, ua = la - slack, ua + slack
            steps.append(("affine", layer.W, layer.b))
            mags.append(zmag)
            zmag = np.einsum("bkn,bk->bn", np.maximum(np.abs(LAt), np.abs(UAt)), xabs) + np.maximum(
                np.abs(la), np.abs(ua)
            )
            continue
        if layer.shape == IDENTITY:
            steps.append(None)
            mags.append(None)
            continue
        if influence:
            spread = (np.abs(LAt) + np.abs(UAt)) * (ub - lb)[
                :, :, None
            ]  # (B, n0, n): input k's part of neuron j
            shares.append(spread / np.maximum(spread.sum(axis=1, keepdims=True), 1e-300))
        conc_slack = EPS * (1.0 + zmag)  # rounding of the concretisation sums
        l = conc(LAt, la, True) - conc_slack
        u = conc(UAt, ua, False) + conc_slack
        if prior is not None:
            l, u = np.maximum(l, prior[act_index][0]), np.minimum(u, prior[act_index][1])
        if backsub_every and n_lin > 1:
            amb = ~affine_pieces(layer, l.reshape(-1), u.reshape(-1))[0].reshape(l.shape)
            bi, ni = np.nonzero(amb)
            if bi.size > opts_dense * amb.size and isinstance(layers[idx - 1], Linear):
                prev = layers[idx - 1]  # most neurons ambiguous: all rows of all boxes, grouped per box
                const = np.broadcast_to(prev.b, (B, prev.b.shape[0]))
                lb2 = backsubstitute(
                    steps[: idx - 1], prev.W, const, lb, ub, mags=mags[: idx - 1], shared=True
                )
                l, u = np.maximum(l, lb2.lower), np.minimum(u, lb2.upper)
            elif bi.size:
                # the row of neuron ni of the previous Linear layer, back-substituted from there
                prev = layers[idx - 1]
                P = bi.size
                if isinstance(prev, Linear):
                    Lam, const, upto = prev.W[ni], prev.b[ni].copy(), idx - 1
                else:
                    Lam, const, upto = np.eye(l.shape[1])[ni], np.zeros(P), idx
                lb2 = backsubstitute(
                    steps[:upto], Lam[:, None, :], const[:, None], lb, ub, mags=mags[:upto], rows=bi
                )
                l[bi, ni] = np.maximum(l[bi, ni], lb2.lower[:, 0])
                u[bi, ni] = np.minimum(u[bi, ni], lb2.upper[:, 0])
        u = np.maximum(u, l)
        act_bounds.append((l, u))
        pre_mag = np.minimum(zmag, np.maximum(np.abs(l), np.abs(u)))
        mags.append(pre_mag)
        if keep is not None:
            keep.append((l, u))
        act_index += 1
        shape = l.shape
        lf, uf = l.reshape(-1), u.reshape(-1)
        mask, s_aff, t_aff = affine_pieces(layer, lf, uf)
        s, t_lo, t_hi = s_aff.copy(), t_aff.copy(), t_aff.copy()
        bls, blt, bus, but = s_aff.copy(), t_aff.copy(), s_aff.copy(), t_aff.copy()
        R = np.flatnonzero(~mask)
        if R.size:
            s[R], t_lo[R], t_hi[R] = parallel(layer, lf[R], uf[R])
            bls[R], blt[R], bus[R], but[R] = lines(layer, lf[R], uf[R]).best(lf[R], uf[R])
        s, t_lo, t_hi = s.reshape(shape), t_lo.reshape(shape), t_hi.reshape(shape)
        if not layer.monotone or np.any(s < 0):
            raise ValueError(f"{layer!r}: symbolic bounds need monotone nondecreasing activations")
        LAt, la = s[:, None, :] * LAt, s * la + t_lo
        UAt, ua = s[:, None, :] * UAt, s * ua + t_hi
        la = la - EPS * (1.0 + s * pre_mag + np.abs(t_lo))  # rounding of the products and sums above
        ua = ua + EPS * (1.0 + s * pre_mag + np.abs(t_hi))
        steps.append(("act",) + tuple(v.reshape(shape) for v in (bls, blt, bus, but)))
        zmag = np.maximum(np.abs(layer.forward(l)), np.abs(layer.forward(u)))  # monotone: extremes at l, u
    R_ = C.shape[0]
    Cp, Cn = np.maximum(C, 0.0).T, np.minimum(C, 0.0).T
    GAt = np.einsum("bkn,nr->bkr", LAt, Cp) + np.einsum("bkn,nr->bkr", UAt, Cn)
    ga = la @ Cp + ua @ Cn - e
    ga = ga - EPS * (1.0 + zmag @ np.abs(C).T + np.abs(e))
    Dt = None
    if D is not None:
        D = np.asarray(D, dtype=float)
        if D.shape != (R_, n0):
            raise ValueError(f"bound_objectives: D must have shape ({R_}, {n0}), got {D.shape}")
        GAt = GAt + D.T[None]
        ga = ga - EPS * (1.0 + xabs @ np.abs(D).T + np.einsum("bkn,bk->bn", np.abs(GAt), xabs))
        Dt = np.tile(D, (B, 1))[:, None, :]
    low_f = conc(GAt, ga, True)
    rows_box = np.repeat(np.arange(B), R_)
    Lam = np.tile(C, (B, 1))[:, None, :]
    const = np.tile(-e, B)[:, None]
    record: list | None = [] if influence else None
    obj = backsubstitute(
        steps, Lam, const, lb, ub, mags=mags, upper=False, rows=rows_box, record=record, input_term=Dt
    )
    G = obj.lower_A
    low = np.maximum(low_f, obj.lower.reshape(B, R_))
    infl = None
    if influence:
        infl = np.abs(G.reshape(B, R_, n0)) * (ub - lb)[:, None, :]
        acts = [st for st in steps if st is not None and st[0] == "act"]
        for (_, ls, lt, us, ut), (lk, uk), share, lam in zip(acts, act_bounds, shares, reversed(record)):
            mid = (lk + uk) / 2  # the lines' gap at the middle of the neuron's range
            gap = np.maximum((us - ls) * mid + (ut - lt), 0.0)
            infl += np.einsum("brn,bkn->brk", np.abs(lam.reshape(B, R_, -1)) * gap[:, None, :], share)
    if alpha_steps and all(isinstance(lay, Linear) or lay.alpha_crown for lay in layers):
        # alpha-CROWN with fixed intermediate bounds: optimise each crossing ReLU's lower slope in [0, 1] per
        # (box, row) by gradient ascent; any slope in [0, 1] is a valid lower line, and the final bound is
        # re-evaluated in numpy with its rounding slack, so the result stays sound whatever the optimiser does.
        alphas = optimise_alphas(steps, C, e, lb, ub, alpha_steps)
        rows_steps = []
        k = 0
        for st in steps:
            if st is None or st[0] == "affine":
                rows_steps.append(st)
                continue
            ls, lt, us, ut = (np.repeat(v, R_, axis=0) for v in st[1:5])
            rows_steps.append(("act", np.where(ls != us, alphas[k], ls), lt, us, ut))
            k += 1
        rows_mags = [None if m is None else np.repeat(m, R_, axis=0) for m in mags]
        opt = backsubstitute(
            rows_steps,
            Lam,
            const,
            np.repeat(lb, R_, axis=0),
            np.repeat(ub, R_, axis=0),
            mags=rows_mags,
            upper=False,
            input_term=Dt,
        )
        low = np.maximum(low, opt.lower.reshape(B, R_))
        # G stays DeepPoly's: its coefficients steer the split choice better than the optimised ones
    if influence:
        return low, G.reshape(B, R_, n0), infl
    return low, G.reshape(B, R_, n0)


# ------------------------------------------------------------------------------------------- alpha-CROWN
_ALPHA_CACHE: dict = {}
"""Compiled slope optimisers by (step kinds and shapes, batch size, rows, steps): the arrays are arguments."""


def optimise_alphas(
    steps: Sequence, C: np.ndarray, e: np.ndarray, lb: np.ndarray, ub: np.ndarray, n_steps: int
) -> list[np.ndarray]:
    """Return per relaxed step (B*R, n) lower slopes in [0, 1] that (locally) maximise the lower bound of
    `C y - e` (JAX sign-gradient ascent through `backsubstitute`; Linear/ReLU steps only).

    Not a bound itself: the caller re-evaluates the slopes with `backsubstitute` (sound with its slack).
    """
    from nncs._jax import jax, jnp

    B, R = lb.shape[0], C.shape[0]
    size = max(1024, 1 << int(np.ceil(np.log2(max(B, 1)))))  # one compilation for every batch up to 1024
    pad = size - B
    kinds = tuple("skip" if st is None else st[0] for st in steps)
    key = (
        kinds,
        tuple(st[1].shape for st in steps if st is not None and st[0] == "affine"),
        size,
        R,
        n_steps,
    )
    Ws = [(st[1], st[2]) for st in steps if st is not None and st[0] == "affine"]
    rx = [
        tuple(np.concatenate([v, np.repeat(v[:1], pad, axis=0)]) for v in st[1:5])
        for st in steps
        if st is not None and st[0] == "act"
    ]
    plb = np.concatenate([lb, np.repeat(lb[:1], pad, axis=0)])
    pub = np.concatenate([ub, np.repeat(ub[:1], pad, axis=0)])
    if key not in _ALPHA_CACHE:

        def bound(alphas, Ws, rx, C, e, lb, ub):
            wi, ri, table = iter(Ws), iter(zip(alphas, rx)), []
            for kind in kinds:
                if kind == "affine":
                    table.append(("affine",) + tuple(next(wi)))
                elif kind == "act":
                    a, (ls, lt, us, ut) = next(ri)
                    ls, lt, us, ut = (jnp.repeat(v, R, axis=0) for v in (ls, lt, us, ut))
                    table.append(("act", jnp.where(ls != us, a, ls), lt, us, ut))
                else:
                    table.append(None)
            G = lb.shape[0] * R
            Lam = jnp.tile(C, (lb.shape[0], 1))[:, None, :]
            const = jnp.tile(-e, lb.shape[0]).reshape(G, 1)
            out = backsubstitute(
                table, Lam, const, jnp.repeat(lb, R, axis=0), jnp.repeat(ub, R, axis=0), upper=False, xp=jnp
            )
            return out.lower

        def optimise(alphas, Ws, rx, C, e, lb, ub):
            g = jax.grad(lambda al: jnp.sum(bound(al, Ws, rx, C, e, lb, ub)))

            def body(t, als):
                grads = g(als)
                return [jnp.clip(a + (0.5 * 0.8**t) * jnp.sign(d), 0.0, 1.0) for a, d in zip(als, grads)]

            return jax.lax.fori_loop(0, n_steps, body, alphas)

        _ALPHA_CACHE[key] = jax.jit(optimise)
    init = [np.repeat(r[0], R, axis=0) for r in rx]  # start from the DeepPoly choice, (size*R, n)
    out = _ALPHA_CACHE[key](init, Ws, rx, C, e, plb, pub)
    return [np.asarray(a)[: B * R] for a in out]


# --------------------------------------------------------------------------------------------- branching
def bisect_boxes(lb: np.ndarray, ub: np.ndarray, dim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Halve each box (B, n) along its coordinate `dim[i]`: (lower halves, then upper halves), (2B, n) (exact:
    the halves' union is the box)."""
    rows = np.arange(lb.shape[0])
    mid = (lb[rows, dim] + ub[rows, dim]) / 2
    ub_left, lb_right = ub.copy(), lb.copy()
    ub_left[rows, dim] = mid
    lb_right[rows, dim] = mid
    return np.vstack([lb, lb_right]), np.vstack([ub_left, ub])
