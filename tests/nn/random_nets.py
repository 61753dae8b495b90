"""Random feed-forward networks for the tests of nncs/nn: Linear layers with normal weights, activations cycled.

Shared by tests/nn/test_verify.py and tests/nn/reach/ (not a test module itself).
"""

import numpy as np

from nncs.nn.network import Linear, Network


def random_net(seed: int, n_in: int, hidden: list[int], n_out: int, acts) -> Network:
    """A network n_in -> hidden... -> n_out; hidden layer k uses `acts[(seed + k) % len(acts)]()`."""
    rng = np.random.default_rng(seed)
    dims = [n_in] + list(hidden) + [n_out]
    layers = []
    for k in range(len(dims) - 1):
        layers.append(Linear(rng.normal(size=(dims[k + 1], dims[k])), rng.normal(size=dims[k + 1]) * 0.5))
        if k < len(hidden):
            layers.append(acts[(seed + k) % len(acts)]())
    return Network(layers)
