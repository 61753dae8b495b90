"""Neural networks in nncs: the layer model, file formats and reachability methods.

`nncs.nn.reach(net, input_set, method=...)` maps an input set through a `Network` (the rules live in `nncs.nn.methods`).
"""

from nncs.nn.io import load_network, save_network
from nncs.nn.methods import ReachOptions, reach
from nncs.nn.network import (
    Identity,
    LeakyReLU,
    Linear,
    Network,
    ReLU,
    SatLin,
    SatLins,
    Sigmoid,
    Softsign,
    Tanh,
)

__all__ = [
    "Network", "Linear", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "SatLin", "SatLins", "Softsign", "Identity",
    "load_network", "save_network", "reach", "ReachOptions",
]  # fmt: skip
