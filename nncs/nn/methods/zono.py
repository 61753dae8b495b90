"""Zonotope layer rules (`approx-zono`, DeepZ): exact affine maps, parallel-line relaxations of activations.

Each relaxed neuron appends one generator after the input's, so the input's generators keep their meaning.
"""

from __future__ import annotations

import numpy as np

from nncs.nn.methods.relax import affine_pieces, parallel, widen
from nncs.nn.network import Activation
from nncs.sets import Zonotope

__all__ = ["zono_linear", "zono_activation"]


def zono_linear(Z: Zonotope, layer, opts) -> list[Zonotope]:
    """Affine layer on a zonotope (exact)."""
    return [Z.affine_map(layer.W, layer.b)]


def zono_activation(Z: Zonotope, act: Activation, opts) -> list[Zonotope]:
    """DeepZ transformer (outer approximation): `y = s x + (t_lo + t_hi)/2 + (t_hi - t_lo)/2 e_new` per neuron.

    Neurons where the activation is affine on the zonotope's (exact) bounds are mapped exactly.
    """
    rad = np.abs(Z.G).sum(axis=1)
    l, u = widen(Z.c - rad, Z.c + rad)
    mask, s_aff, t_aff = affine_pieces(act, l, u)
    c, G = Z.c.copy(), Z.G.copy()
    c[mask] = s_aff[mask] * c[mask] + t_aff[mask]
    G[mask] = s_aff[mask, None] * G[mask]
    R = np.flatnonzero(~mask)
    if R.size == 0:
        return [Zonotope(c, G)]
    s, t_lo, t_hi = parallel(act, l[R], u[R])
    c[R] = s * c[R] + (t_lo + t_hi) / 2
    G[R] = s[:, None] * G[R]
    half = (t_hi - t_lo) / 2
    new = np.zeros((Z.dim, R.size))
    new[R, np.arange(R.size)] = half
    keep = half > 0
    return [Zonotope(c, np.hstack([G, new[:, keep]]))]
