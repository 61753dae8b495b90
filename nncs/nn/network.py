"""Feed-forward networks as a sequence of layers: affine maps and element-wise activations.

A `Network` evaluates in numpy (float64, batched) and as a jit-friendly JAX function; it composes and slices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from nncs.suggest import did_you_mean

__all__ = [
    "Linear",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "SatLin",
    "SatLins",
    "Softsign",
    "Identity",
    "Layer",
    "Activation",
    "PiecewiseLinear",
    "SShaped",
    "IDENTITY",
    "PIECEWISE_LINEAR",
    "S_SHAPED",
    "SHAPES",
    "normalise_name",
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


IDENTITY = "identity"
PIECEWISE_LINEAR = "piecewise-linear"
S_SHAPED = "s-shaped"
SHAPES = (IDENTITY, PIECEWISE_LINEAR, S_SHAPED)
"""The activation shapes the reach methods know how to relax (`Activation.shape`)."""

ACTIVATIONS: dict[str, type[Activation]] = {}
"""Activation classes by name and alias (the names JSON files and NNV use; `linear`/`purelin` mean identity).

Filled by the classes themselves: every subclass of `Activation` that sets its own `name` registers here."""


def normalise_name(name: str) -> str:
    """The registry key of an activation name: lower case, without '_', '-' and surrounding blanks."""
    return name.strip().lower().replace("_", "").replace("-", "")


def _number(value, what: str, where: str) -> float:
    if not isinstance(value, (int, float, np.floating, np.integer)) or isinstance(value, bool):
        raise ValueError(f"{where}: {what} must be a number, got {str(value)[:40]!r}")
    return float(value)


class Activation:
    """An element-wise activation (dimension preserving): the one place that knows everything about it.

    A subclass declares, as class attributes:
        name: its name in JSON / NNV files and in the registry `ACTIVATIONS`; aliases: other accepted names.
        parameters: {parameter: default} of its constructor's keyword arguments (e.g. LeakyReLU alpha).
        onnx_op: the ONNX operator computing it (None: no ONNX form); onnx_fixed: ONNX parameters that identify
            it among the classes sharing `onnx_op` (SatLin is Clip with min 0, max 1); onnx_inputs: the ONNX
            parameters passed as constant inputs, in input order, rather than attributes (Clip's min, max).
        shape: IDENTITY, PIECEWISE_LINEAR (define `pieces()`), S_SHAPED (define `inflection` and `derivative()`)
            or None (no relaxation known: only methods that evaluate the network can use it).
        monotone: nondecreasing (the symbolic-bound methods need it).
        alpha_crown: its lower relaxation line may be any slope in [0, 1] (alpha-CROWN's optimisable slopes).
    and the methods `forward` (numpy) and `jax` (JAX arrays; jit-compatible).
    """

    name = "activation"
    aliases: tuple[str, ...] = ()
    parameters: dict[str, float] = {}
    onnx_op: str | None = None
    onnx_fixed: dict[str, float] = {}
    onnx_inputs: tuple[str, ...] = ()
    shape: str | None = None
    monotone = True
    alpha_crown = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return  # an abstract family (PiecewiseLinear, SShaped) or a variant that keeps its parent's name
        if cls.shape is not None and cls.shape not in SHAPES:
            raise ValueError(
                f"activation {cls.__name__}: shape must be one of {SHAPES} or None, got {cls.shape!r}"
            )
        keys = [normalise_name(key) for key in (cls.name,) + tuple(cls.aliases)]
        for key in keys:  # all checked before any is registered
            if key in ACTIVATIONS and ACTIVATIONS[key].__qualname__ != cls.__qualname__:
                raise ValueError(
                    f"activation {cls.__name__}: name {key!r} is taken by {ACTIVATIONS[key].__name__}"
                )
        for key in keys:
            ACTIVATIONS[key] = cls

    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def jax(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------ parameters and file formats
    def params(self) -> dict[str, float]:
        """The values of the declared `parameters` of this instance."""
        return {p: getattr(self, p) for p in self.parameters}

    def to_spec(self) -> str | dict:
        """Its JSON / text-format description: the name, or `{"name": ..., parameter: value, ...}`."""
        return {"name": self.name, **self.params()} if self.parameters else self.name

    @classmethod
    def from_spec(cls, spec: str | dict, where: str) -> Activation:
        """The activation of a JSON description (name, or dict with the declared parameters; absent ones take
        their defaults). Raises ValueError naming `where` on a parameter that is not a valid number."""
        values = {}
        for p, default in cls.parameters.items():
            value = spec.get(p, default) if isinstance(spec, dict) else default
            values[p] = _number(value, f"{cls.name} {p}", where)
        try:
            return cls(**values)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None

    def onnx_params(self) -> dict[str, float]:
        """Its ONNX parameters (attributes and constant inputs): `onnx_fixed` and the declared parameters."""
        return {**self.onnx_fixed, **self.params()}

    @classmethod
    def from_onnx(cls, params: dict) -> Activation | None:
        """The activation an ONNX `onnx_op` node with these parameters computes, or None when it is not this
        class (its `onnx_fixed` values differ). Absent declared parameters take their defaults."""
        for key, value in cls.onnx_fixed.items():
            if key not in params or float(params[key]) != value:
                return None
        return cls(**{p: float(params.get(p, d)) for p, d in cls.parameters.items()})

    # ------------------------------------------------------------ value semantics
    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.__dict__.items()))))

    def __repr__(self) -> str:
        args = ", ".join(repr(v) for v in self.params().values())
        return f"{type(self).__name__}({args})"


class PiecewiseLinear(Activation):
    """A continuous piecewise-linear activation: `pieces()` gives its breakpoints, slopes and intercepts.

    exact-star splits at the breakpoints; the relaxing methods use the hull of its graph (relax.py).
    """

    shape = PIECEWISE_LINEAR

    def pieces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - abstract
        """Return (breakpoints (p,) increasing, slopes (p+1,), intercepts (p+1,)): piece k covers
        [breakpoints[k-1], breakpoints[k]] with the function `slope[k] x + intercept[k]`."""
        raise NotImplementedError

    def forward(self, x):
        bps, slopes, icepts = self.pieces()
        k = np.searchsorted(bps, x, side="left")
        return slopes[k] * x + icepts[k]


class SShaped(Activation):
    """A smooth-enough S-shaped activation (CORA's nnSShapeLayer): increasing, convex on (-inf, inflection],
    concave on [inflection, inf); so its derivative increases up to `inflection` and decreases after it.

    Subclasses set `inflection` and define `derivative` (need not be smooth at the inflection: softsign's is not).
    The relaxations (relax.py) use only these facts: chords and end-point tangents on the convex or concave
    side, and lines of slope min(f'(l), f'(u)) (the least slope on [l, u]) across the inflection.
    """

    shape = S_SHAPED
    inflection = 0.0

    def derivative(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """f'(x) element-wise (numpy)."""
        raise NotImplementedError


class ReLU(PiecewiseLinear):
    """`max(x, 0)`."""

    name = "relu"
    onnx_op = "Relu"
    alpha_crown = True

    def pieces(self):
        return np.array([0.0]), np.array([0.0, 1.0]), np.array([0.0, 0.0])

    def forward(self, x):
        return np.maximum(x, 0.0)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.maximum(x, 0.0)


class LeakyReLU(PiecewiseLinear):
    """`x` for x >= 0, `alpha x` for x < 0."""

    name = "leakyrelu"
    parameters = {"alpha": 0.01}
    onnx_op = "LeakyRelu"

    def __init__(self, alpha: float = 0.01):
        alpha = float(alpha)
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"LeakyReLU: alpha must be finite and >= 0, got {alpha}")
        self.alpha = alpha

    def pieces(self):
        return np.array([0.0]), np.array([self.alpha, 1.0]), np.array([0.0, 0.0])

    def forward(self, x):
        return np.where(x >= 0, x, self.alpha * x)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.where(x >= 0, x, self.alpha * x)


class Tanh(SShaped):
    """`tanh(x)`."""

    name = "tanh"
    onnx_op = "Tanh"
    inflection = 0.0

    def forward(self, x):
        return np.tanh(x)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.tanh(x)

    def derivative(self, x):
        return 1.0 - np.tanh(x) ** 2


class Sigmoid(SShaped):
    """`1 / (1 + exp(-x))`."""

    name = "sigmoid"
    onnx_op = "Sigmoid"
    inflection = 0.0

    def forward(self, x):
        # numerically stable logistic function
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    def jax(self, x):
        from nncs._jax import jax

        return jax.nn.sigmoid(x)

    def derivative(self, x):
        s = self.forward(x)
        return s * (1.0 - s)


class SatLin(PiecewiseLinear):
    """Saturating linear: clip to [0, 1]."""

    name = "satlin"
    onnx_op = "Clip"
    onnx_fixed = {"min": 0.0, "max": 1.0}
    onnx_inputs = ("min", "max")

    def pieces(self):
        return np.array([0.0, 1.0]), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])

    def forward(self, x):
        return np.clip(x, 0.0, 1.0)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.clip(x, 0.0, 1.0)


class SatLins(PiecewiseLinear):
    """Symmetric saturating linear: clip to [-1, 1]."""

    name = "satlins"
    onnx_op = "Clip"
    onnx_fixed = {"min": -1.0, "max": 1.0}
    onnx_inputs = ("min", "max")

    def pieces(self):
        return np.array([-1.0, 1.0]), np.array([0.0, 1.0, 0.0]), np.array([-1.0, 0.0, 1.0])

    def forward(self, x):
        return np.clip(x, -1.0, 1.0)

    def jax(self, x):
        from nncs._jax import jnp

        return jnp.clip(x, -1.0, 1.0)


class Softsign(SShaped):
    """`x / (1 + |x|)`: odd, increasing, convex for x < 0 and concave for x > 0; f'(x) = 1 / (1 + |x|)^2
    (continuous, not differentiable at the inflection 0)."""

    name = "softsign"
    onnx_op = "Softsign"
    inflection = 0.0

    def forward(self, x):
        return x / (1.0 + np.abs(x))

    def jax(self, x):
        from nncs._jax import jnp

        return x / (1.0 + jnp.abs(x))

    def derivative(self, x):
        return 1.0 / (1.0 + np.abs(x)) ** 2


class Identity(Activation):
    """The identity map."""

    name = "identity"
    aliases = ("linear", "purelin")
    onnx_op = "Identity"
    shape = IDENTITY

    def forward(self, x):
        return x

    def jax(self, x):
        return x


Layer = Linear | Activation


def _check_layer(i: int, layer) -> None:
    if isinstance(layer, Linear):
        if layer.W.size == 0:
            raise ValueError(
                f"layer {i} (Linear): W has shape {layer.W.shape}; a layer needs at least one input "
                f"and one neuron"
            )
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

    def __getstate__(self) -> dict:
        """The network's state without its compiled functions (they do not pickle; a copy rebuilds them)."""
        return {k: v for k, v in self.__dict__.items() if k != "_jax_cache"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
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
    def then(self, other: Network) -> Network:
        """Return the network computing `other(self(x))`; raises ValueError on mismatched dimensions."""
        if not isinstance(other, Network):
            raise ValueError(f"then: expected a Network, got {type(other).__name__}")
        if other.n_inputs != self.n_outputs:
            raise ValueError(
                f"then: this network has {self.n_outputs} outputs but the next expects {other.n_inputs}"
            )
        return Network(self.layers + other.layers, n_inputs=self.n_inputs)

    def simplified(self) -> Network:
        """Return an equivalent network without Identity layers and with consecutive Linear layers merged.

        Exact in real arithmetic (merging rounds the products of weight matrices in float64).
        """
        out: list = []
        for layer in self.layers:
            if isinstance(layer, Activation) and layer.shape == IDENTITY:
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
            raise ValueError(
                f"Network input must have shape (n, {self.n_inputs}) or ({self.n_inputs},), got {np.shape(x)}"
            )
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
            (jnp.asarray(lay.W.T), jnp.asarray(lay.b)) if isinstance(lay, Linear) else None
            for lay in self.layers
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

    def equals(self, other: Network, atol: float = 0.0) -> bool:
        """Return True when both networks have the same layer types and weights (to `atol`)."""
        if not isinstance(other, Network) or len(self) != len(other) or self.n_inputs != other.n_inputs:
            return False
        for a, b in zip(self.layers, other.layers):
            if isinstance(a, Linear) and isinstance(b, Linear):
                if a.W.shape != b.W.shape or not (
                    np.allclose(a.W, b.W, atol=atol, rtol=0) and np.allclose(a.b, b.b, atol=atol, rtol=0)
                ):
                    return False
            elif a != b:
                return False
        return True


def activation_from_name(name, where: str) -> Activation:
    """The activation named `name` (see ACTIVATIONS; case, '_' and '-' ignored), or a dict
    `{"name": ..., parameter: value}` such as `{"name": "leakyrelu", "alpha": a}` (see `Activation.from_spec`).

    Raises ValueError naming `where` for an unknown name or a bad parameter.
    """
    spec = name
    if isinstance(name, dict):
        name = name.get("name", "")
        if not isinstance(name, str):
            name = str(name)
    if not isinstance(name, str):
        raise ValueError(
            f"{where}: an activation is a name or {{'name': 'leakyrelu', 'alpha': a}}, got {str(name)[:40]!r}"
        )
    key = normalise_name(name)
    if key not in ACTIVATIONS:
        hint = did_you_mean(key, ACTIVATIONS)
        raise ValueError(f"{where}: unknown activation {name[:40]!r}{hint} (known: {sorted(ACTIVATIONS)})")
    return ACTIVATIONS[key].from_spec(spec, where)


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
        if act.shape != IDENTITY:
            layers.append(act)
    return Network(tuple(layers))
