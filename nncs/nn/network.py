"""Feed-forward networks as a sequence of layers: affine maps and element-wise activations.

A `Network` evaluates in numpy (float64, batched) and as a jit-friendly JAX function; it composes and slices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence, Union

import numpy as np

__all__ = [
    "Linear",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "SatLin",
    "SatLins",
    "Identity",
    "Layer",
    "Activation",
    "Network",
    "ACTIVATIONS",
    "activation_from_name",
    "network_from_pairs",
]


@dataclass(frozen=True, eq=False)
class Linear:
    """The affine layer `x -> W x + b`, with `W` of shape (out, in) and `b` of shape (out,)."""

    W: np.ndarray
    b: np.ndarray

    def __post_init__(self):
        W = np.array(self.W, dtype=float)
        if W.ndim == 1:
            W = W.reshape(1, -1)
        if W.ndim != 2:
            raise ValueError(f"Linear: W must be a 2-D array (out, in), got shape {W.shape}")
        b = np.zeros(W.shape[0]) if self.b is None else np.array(self.b, dtype=float).reshape(-1)
        if b.shape != (W.shape[0],):
            raise ValueError(f"Linear: b has shape {b.shape}, expected ({W.shape[0]},) to match W {W.shape}")
        W.setflags(write=False)
        b.setflags(write=False)
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)

    @property
    def in_dim(self) -> int:
        """Number of inputs."""
        return self.W.shape[1]

    @property
    def out_dim(self) -> int:
        """Number of outputs."""
        return self.W.shape[0]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return `x W^T + b` for x of shape (n, in)."""
        return x @ self.W.T + self.b

    def jax(self, x):
        """The same map on a JAX array."""
        from nncs._jax import jnp

        return x @ jnp.asarray(self.W).T + jnp.asarray(self.b)

    def __repr__(self) -> str:
        return f"Linear({self.in_dim} -> {self.out_dim})"


class Activation:
    """An element-wise activation (dimension preserving). Subclasses define `forward` and `jax`."""

    name = "activation"

    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def jax(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.__dict__.items()))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(Activation):
    """`max(x, 0)`."""

    name = "relu"

    def forward(self, x):
        return np.maximum(x, 0.0)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.maximum(x, 0.0)


class LeakyReLU(Activation):
    """`x` for x >= 0, `alpha x` for x < 0."""

    name = "leakyrelu"

    def __init__(self, alpha: float = 0.01):
        alpha = float(alpha)
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"LeakyReLU: alpha must be finite and >= 0, got {alpha}")
        self.alpha = alpha

    def forward(self, x):
        return np.where(x >= 0, x, self.alpha * x)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.where(x >= 0, x, self.alpha * x)

    def __repr__(self) -> str:
        return f"LeakyReLU({self.alpha})"


class Tanh(Activation):
    """`tanh(x)`."""

    name = "tanh"

    def forward(self, x):
        return np.tanh(x)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.tanh(x)


class Sigmoid(Activation):
    """`1 / (1 + exp(-x))`."""

    name = "sigmoid"

    def forward(self, x):
        # numerically stable logistic function
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    def jax(self, x):
        from nncs._jax import jax

        return jax.nn.sigmoid(x)


class SatLin(Activation):
    """Saturating linear: clip to [0, 1]."""

    name = "satlin"

    def forward(self, x):
        return np.clip(x, 0.0, 1.0)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.clip(x, 0.0, 1.0)


class SatLins(Activation):
    """Symmetric saturating linear: clip to [-1, 1]."""

    name = "satlins"

    def forward(self, x):
        return np.clip(x, -1.0, 1.0)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.clip(x, -1.0, 1.0)


class Identity(Activation):
    """The identity map."""

    name = "identity"

    def forward(self, x):
        return x

    def jax(self, x):
        return x


ACTIVATIONS: dict[str, type[Activation]] = {
    "relu": ReLU,
    "leakyrelu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "satlin": SatLin,
    "satlins": SatLins,
    "identity": Identity,
    "linear": Identity,
    "purelin": Identity,
}
"""Activation classes by name (the names JSON files and NNV use; `linear`/`purelin` mean identity)."""

Layer = Union[Linear, Activation]


def _check_layer(i: int, layer) -> None:
    if isinstance(layer, Linear):
        if layer.W.size == 0:
            raise ValueError(f"layer {i} (Linear): W has shape {layer.W.shape}; a layer needs at least one input "
                             f"and one neuron")
        for name, arr in (("W", layer.W), ("b", layer.b)):
            if not np.all(np.isfinite(arr)):
                bad = np.argwhere(~np.isfinite(arr))[0].tolist()
                raise ValueError(f"layer {i} (Linear): {name} has a NaN or infinite entry at {bad}")
    elif not isinstance(layer, Activation):
        raise ValueError(f"layer {i}: {layer!r} is not a Linear layer or an activation")


@dataclass(frozen=True, eq=False)
class Network:
    """A feed-forward network: `layers` applied in order to inputs of dimension `n_inputs`.

    Args:
        layers: sequence of `Linear` and activation layers.
        n_inputs: input dimension; needed only when the network does not start with a Linear layer
            (then it is taken from the first Linear layer, or must be given when there is none).
    Raises:
        ValueError naming the layer index on NaN/inf weights, on a Linear layer whose input dimension does
        not match the previous layer's output, or on an object that is not a layer.
    """

    layers: tuple = field(default=())
    n_inputs: int | None = None

    def __post_init__(self):
        layers = tuple(self.layers)
        for i, layer in enumerate(layers):
            _check_layer(i, layer)
        n_in = self.n_inputs
        if n_in is None:
            first = next((lay for lay in layers if isinstance(lay, Linear)), None)
            if first is None:
                raise ValueError("Network: n_inputs must be given when the network has no Linear layer")
            n_in = first.in_dim
        n_in = int(n_in)
        if n_in <= 0:
            raise ValueError(f"Network: n_inputs must be positive, got {n_in}")
        dims = [n_in]
        for i, layer in enumerate(layers):
            if isinstance(layer, Linear):
                if layer.in_dim != dims[-1]:
                    raise ValueError(
                        f"layer {i} (Linear): expects {layer.in_dim} inputs but the previous layer gives {dims[-1]}"
                    )
                dims.append(layer.out_dim)
            else:
                dims.append(dims[-1])
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "n_inputs", n_in)
        object.__setattr__(self, "_dims", tuple(dims))
        object.__setattr__(self, "_jax_cache", {})

    # ---------------------------------------------------------------- shape
    @property
    def n_outputs(self) -> int:
        """Output dimension."""
        return self._dims[-1]

    @property
    def dims(self) -> tuple[int, ...]:
        """Dimension before each layer and after the last (length len(layers) + 1)."""
        return self._dims

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator:
        return iter(self.layers)

    def __getitem__(self, key):
        """`net[i]` is layer i; `net[i:j]` is the sub-network of those layers (step 1 only)."""
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self.layers))
            if step != 1:
                raise ValueError(f"Network slicing needs step 1, got {step}")
            return Network(self.layers[start:stop], n_inputs=self._dims[start])
        return self.layers[key]

    def __repr__(self) -> str:
        inner = ", ".join(repr(lay) for lay in self.layers)
        return f"Network({self.n_inputs} -> {self.n_outputs}: [{inner}])"

    # ---------------------------------------------------------------- composition
    def then(self, other: "Network") -> "Network":
        """Return the network computing `other(self(x))`; raises ValueError on mismatched dimensions."""
        if not isinstance(other, Network):
            raise ValueError(f"then: expected a Network, got {type(other).__name__}")
        if other.n_inputs != self.n_outputs:
            raise ValueError(f"then: this network has {self.n_outputs} outputs but the next expects {other.n_inputs}")
        return Network(self.layers + other.layers, n_inputs=self.n_inputs)

    def simplified(self) -> "Network":
        """Return an equivalent network without Identity layers and with consecutive Linear layers merged.

        Exact in real arithmetic (merging rounds the products of weight matrices in float64).
        """
        out: list = []
        for layer in self.layers:
            if isinstance(layer, Identity):
                continue
            if isinstance(layer, Linear) and out and isinstance(out[-1], Linear):
                prev = out.pop()
                layer = Linear(layer.W @ prev.W, layer.W @ prev.b + layer.b)
            out.append(layer)
        return Network(tuple(out), n_inputs=self.n_inputs)

    # ---------------------------------------------------------------- evaluation
    def _as_batch(self, x) -> tuple[np.ndarray, bool]:
        x = np.asarray(x, dtype=float)
        single = x.ndim == 1
        if single:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"Network input must have shape (n, {self.n_inputs}) or ({self.n_inputs},), got {np.shape(x)}")
        return x, single

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Return the outputs for inputs x of shape (n, n_inputs) -> (n, n_outputs), or (n_inputs,) -> (n_outputs,)."""
        x, single = self._as_batch(x)
        for layer in self.layers:
            x = layer.forward(x)
        return x[0] if single else x

    forward = __call__

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Return the values before each layer and after the last, for x of shape (n, n_inputs)."""
        x, _ = self._as_batch(x)
        values = [x]
        for layer in self.layers:
            x = layer.forward(x)
            values.append(x)
        return values

    def jax_fn(self, jit: bool = True) -> Callable:
        """Return a JAX function `f(x)` of x with shape (n_inputs,) or (n, n_inputs); jitted once and cached.

        Import nncs first so that JAX runs in float64.
        """
        if jit in self._jax_cache:
            return self._jax_cache[jit]
        from nncs._jax import jax, jnp

        params = [
            (jnp.asarray(lay.W.T), jnp.asarray(lay.b)) if isinstance(lay, Linear) else None for lay in self.layers
        ]
        layers = self.layers

        def f(x):
            for layer, p in zip(layers, params):
                if p is None:
                    x = layer.jax(x)
                else:
                    x = x @ p[0] + p[1]
            return x

        fn = jax.jit(f) if jit else f
        self._jax_cache[jit] = fn
        return fn

    # ---------------------------------------------------------------- views
    def linear_layers(self) -> list[tuple[int, Linear]]:
        """Return the (index, layer) pairs of the Linear layers."""
        return [(i, lay) for i, lay in enumerate(self.layers) if isinstance(lay, Linear)]

    def equals(self, other: "Network", atol: float = 0.0) -> bool:
        """Return True when both networks have the same layer types and weights (to `atol`)."""
        if not isinstance(other, Network) or len(self) != len(other) or self.n_inputs != other.n_inputs:
            return False
        for a, b in zip(self.layers, other.layers):
            if isinstance(a, Linear) and isinstance(b, Linear):
                if a.W.shape != b.W.shape or not (np.allclose(a.W, b.W, atol=atol, rtol=0) and np.allclose(a.b, b.b, atol=atol, rtol=0)):
                    return False
            elif a != b:
                return False
        return True


def activation_from_name(name, where: str) -> Activation:
    """The activation named `name` (see ACTIVATIONS; case, '_' and '-' ignored), or `{"name": "leakyrelu",
    "alpha": a}`. Raises ValueError naming `where` for an unknown name."""
    if isinstance(name, dict):
        key = str(name.get("name", "")).lower()
        if key == "leakyrelu":
            alpha = name.get("alpha", 0.01)
            if not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
                raise ValueError(f"{where}: leakyrelu alpha must be a number, got {str(alpha)[:40]!r}")
            try:
                return LeakyReLU(float(alpha))
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
        name = key
    if not isinstance(name, str):
        raise ValueError(f"{where}: an activation is a name or {{'name': 'leakyrelu', 'alpha': a}}, got "
                         f"{str(name)[:40]!r}")
    key = name.strip().lower().replace("_", "").replace("-", "")
    if key not in ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {name[:40]!r} (known: {sorted(ACTIVATIONS)})")
    return ACTIVATIONS[key]()


def network_from_pairs(pairs: Sequence[tuple[np.ndarray, np.ndarray, str | Activation]]) -> Network:
    """Return the network of `(W, b, activation)` triples: `x <- act(W x + b)` for each triple in turn.

    Args:
        pairs: W (out, in), b (out,), activation name (see ACTIVATIONS) or Activation instance.
    Raises:
        ValueError naming the layer on an unknown activation or bad shapes.
    """
    layers: list = []
    for i, (W, b, act) in enumerate(pairs):
        try:
            layers.append(Linear(W, b))
        except ValueError as e:
            raise ValueError(f"layer {i}: {e}") from None
        if not isinstance(act, Activation):
            act = activation_from_name(act, f"layer {i}")
        if not isinstance(act, Identity):
            layers.append(act)
    return Network(tuple(layers))
