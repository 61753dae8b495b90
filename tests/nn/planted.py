"""Planted counterexamples (SoundnessBench style): ReLU networks whose violation hides in a tiny box.

Each instance is y(x) = g(x) + H * p(x) on the input box [-1, 1]^d with the unsafe region y >= T = 1, where g is
a random ReLU network scaled so that interval arithmetic proves |g| <= 0.5 on the box, and p is a narrow
pyramid of ReLUs: p(x) = relu(1 - sum_i |x_i - x*_i| / r) (|t| = relu(t) + relu(-t)), 1 at the hidden point x*
and 0 outside the L1 ball of radius r around it. "violated" twins use H = 2 (y(x*) >= 1.5: certain, checked
with numpy); "holds" twins use H = 0.4 (y <= 0.5 + 0.4 < 1, proven by the interval bound computed here, not by
nncs). Uniform sampling hits the violation with probability below r^d / d! (1e-8 for d = 4, r = 1e-2).
Not a test module itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nncs.nn.network import Linear, Network, ReLU

THRESHOLD = 1.0
H_VIOLATED, H_HOLDS = 2.0, 0.4


@dataclass(frozen=True)
class Planted:
    """One planted instance: numpy weights, the nncs Network, the VNN-LIB text, x*, the expected answer."""

    weights: tuple  # ((W1, b1), (W2, b2), (W3, b3)), ReLU after the first two
    net: Network
    vnnlib: str
    x_star: np.ndarray
    expected: str  # "violated" or "holds"


def forward(weights, x: np.ndarray) -> np.ndarray:
    """The planted network's output at x (rows), computed with plain numpy (independent of nncs)."""
    z = np.atleast_2d(x)
    for k, (W, b) in enumerate(weights):
        z = z @ W.T + b
        if k < len(weights) - 1:
            z = np.maximum(z, 0.0)
    return z


def interval_upper(weights, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A sound upper bound of the network's outputs over the box [lo, hi] by interval arithmetic (numpy).

    Rounding: each layer's bounds are widened by 1e-9 relative plus 1e-12, far above float64 error here.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    for k, (W, b) in enumerate(weights):
        Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
        nlo, nhi = Wp @ lo + Wn @ hi + b, Wp @ hi + Wn @ lo + b
        pad = 1e-9 * (np.abs(W) @ np.maximum(np.abs(lo), np.abs(hi)) + np.abs(b)) + 1e-12
        lo, hi = nlo - pad, nhi + pad
        if k < len(weights) - 1:
            lo, hi = np.maximum(lo, 0), np.maximum(hi, 0)
    return hi


def _interval_abs(weights, lo, hi) -> float:
    """max |output| bound of a one-output network over [lo, hi] (interval arithmetic)."""
    neg = [(W, b) for W, b in weights[:-1]] + [(-weights[-1][0], -weights[-1][1])]
    return float(max(interval_upper(weights, lo, hi)[0], interval_upper(neg, lo, hi)[0]))


def planted_pair(seed: int, d: int = 4, hidden: int = 8, r: float = 1e-2) -> tuple[Planted, Planted]:
    """A (violated, holds) pair sharing the base network g and the hidden point x*.

    Args:
        seed: random seed; d: input dimension; hidden: base network width; r: L1 radius of the bump.
    Returns:
        (the violated twin, the holds twin).
    """
    rng = np.random.default_rng(seed)
    lo, hi = -np.ones(d), np.ones(d)
    g = [
        (rng.normal(size=(hidden, d)), rng.normal(size=hidden) * 0.5),
        (rng.normal(size=(hidden, hidden)) / np.sqrt(hidden), rng.normal(size=hidden) * 0.5),
        (rng.normal(size=(1, hidden)), rng.normal(size=1) * 0.5),
    ]
    scale = 0.5 / max(_interval_abs(g, lo, hi), 1e-12)
    g[2] = (g[2][0] * scale, g[2][1] * scale)
    assert _interval_abs(g, lo, hi) <= 0.5 + 1e-9
    x_star = rng.uniform(-0.9, 0.9, size=d)
    pair = []
    for H, expected in ((H_VIOLATED, "violated"), (H_HOLDS, "holds")):
        eye = np.eye(d)
        W1 = np.vstack([g[0][0], eye, -eye])  # bump: relu(x - x*), relu(x* - x)
        b1 = np.concatenate([g[0][1], -x_star, x_star])
        W2 = np.zeros((hidden + 1, hidden + 2 * d))
        W2[:hidden, :hidden] = g[1][0]
        W2[hidden, hidden:] = -1.0 / r  # 1 - sum |x_i - x*_i| / r
        b2 = np.concatenate([g[1][1], [1.0]])
        W3 = np.concatenate([g[2][0][0], [H]])[None, :]
        b3 = g[2][1].copy()
        weights = ((W1, b1), (W2, b2), (W3, b3))
        net = Network([Linear(W1, b1), ReLU(), Linear(W2, b2), ReLU(), Linear(W3, b3)])
        text = "".join(f"(declare-const X_{i} Real)\n" for i in range(d)) + "(declare-const Y_0 Real)\n"
        text += "".join(f"(assert (>= X_{i} -1.0))\n(assert (<= X_{i} 1.0))\n" for i in range(d))
        text += f"(assert (>= Y_0 {THRESHOLD!r}))\n"
        if expected == "violated":
            assert forward(weights, x_star)[0, 0] >= THRESHOLD + 0.4  # the planted violation is certain
        else:
            assert interval_upper(weights, lo, hi)[0] < THRESHOLD  # proven safe, independently of nncs
        pair.append(Planted(weights, net, text, x_star, expected))
    return pair[0], pair[1]
