"""Imitation training of feed-forward controllers in JAX: fit a network to an expert on sampled inputs.

Full-batch Adam on the mean squared error, fixed seeds, float64: the same call gives bit-identical weights.
`python -m nncs.controllers.train acc` retrains the project's ACC controller and rewrites its ONNX file and card.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

import nncs  # noqa: F401  (switches JAX to float64 before any array is made)
from nncs.nn.network import ACTIVATIONS, Identity, Linear, Network

__all__ = ["TrainOptions", "ImitationResult", "train_imitation", "imitate", "sample_inputs", "main"]


@dataclass(frozen=True)
class TrainOptions:
    """Settings of `imitate` beyond the network shape, seed and step count.

    Attributes:
        n_samples: number of training inputs drawn from the sampler (all used in every step: full batch).
        learning_rate: Adam step size at step 0; it decays along a cosine to `learning_rate * final_lr_ratio`.
        final_lr_ratio: ratio of the last step size to the first (in (0, 1]).
        beta1, beta2, eps: Adam's moment decay rates and denominator offset.
        n_validation: number of fresh inputs (an independent random stream) for the reported fit errors.
    """

    n_samples: int = 20000
    learning_rate: float = 1e-2
    final_lr_ratio: float = 1e-2
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    n_validation: int = 20000

    def __post_init__(self):
        if int(self.n_samples) < 1:
            raise ValueError(f"TrainOptions.n_samples must be >= 1, got {self.n_samples}")
        if int(self.n_validation) < 1:
            raise ValueError(f"TrainOptions.n_validation must be >= 1, got {self.n_validation}")
        if not (np.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(
                f"TrainOptions.learning_rate must be positive and finite, got {self.learning_rate}"
            )
        if not (0 < self.final_lr_ratio <= 1):
            raise ValueError(f"TrainOptions.final_lr_ratio must be in (0, 1], got {self.final_lr_ratio}")
        for name in ("beta1", "beta2"):
            if not (0 <= getattr(self, name) < 1):
                raise ValueError(f"TrainOptions.{name} must be in [0, 1), got {getattr(self, name)}")
        if not self.eps > 0:
            raise ValueError(f"TrainOptions.eps must be positive, got {self.eps}")


@dataclass(frozen=True)
class ImitationResult:
    """What `imitate` returns.

    Attributes:
        network: the trained network on raw inputs and outputs (input/output scaling folded into its weights).
        losses: training MSE (raw output units squared) before every step, shape (steps,).
        final_loss: training MSE of the returned network (raw units), computed in numpy.
        val_rmse, val_max_abs_error: fit errors on `n_validation` fresh samples (raw units).
        input_lower, input_upper: the per-input range of the training samples.
        time_s: wall time of the training (including JAX compilation).
        seed, steps, layers, activation, options: the settings used.
    """

    network: Network
    losses: np.ndarray
    final_loss: float
    val_rmse: float
    val_max_abs_error: float
    input_lower: np.ndarray
    input_upper: np.ndarray
    time_s: float
    seed: int
    steps: int
    layers: tuple[int, ...]
    activation: str
    options: TrainOptions = field(default_factory=TrainOptions)


def sample_inputs(sampler, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw `n` inputs from `sampler`: a set with `.sample(n, rng)` (e.g. `nncs.Box`) or a callable `(n, rng)`.

    Returns:
        float64 array (n, d). Raises ValueError if the sampler gives a wrong shape or non-finite values.
    """
    if hasattr(sampler, "sample"):
        x = sampler.sample(n, rng)
    elif callable(sampler):
        x = sampler(n, rng)
    else:
        raise ValueError(
            f"sampler: expected a set with .sample(n, rng) or a callable (n, rng), got {type(sampler).__name__}"
        )
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != n or x.shape[1] < 1:
        raise ValueError(f"sampler: expected an array of shape ({n}, d), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("sampler: returned NaN or infinite inputs")
    return x


def _expert_targets(expert: Callable, x: np.ndarray) -> np.ndarray:
    y = np.asarray(expert(x), dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"expert: for inputs of shape {x.shape} expected outputs (n, m) or (n,), got {np.shape(y)}"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("expert: returned NaN or infinite outputs")
    return y


def _activation_name(activation) -> str:
    key = str(activation).strip().lower().replace("_", "").replace("-", "")
    if key not in ACTIVATIONS or ACTIVATIONS[key] is Identity:
        known = sorted(k for k, v in ACTIVATIONS.items() if v is not Identity)
        raise ValueError(f"activation: unknown or linear hidden activation {activation!r} (known: {known})")
    return key


def _fold(params, in_center, in_inv_scale, out_mean, out_scale, act_name: str) -> Network:
    """The raw-unit network: `x -> out_mean + out_scale * net((x - in_center) * in_inv_scale)` (exact fold up to rounding)."""
    Ws = [np.asarray(W, dtype=np.float64) for W, _ in params]
    bs = [np.asarray(b, dtype=np.float64) for _, b in params]
    # first layer: W (x - c) * s + b = (W diag(s)) x + (b - W (c * s))
    W0 = Ws[0] * in_inv_scale[None, :]
    b0 = bs[0] - Ws[0] @ (in_center * in_inv_scale)
    Ws[0], bs[0] = W0, b0
    Ws[-1] = out_scale[:, None] * Ws[-1]
    bs[-1] = out_scale * bs[-1] + out_mean
    layers: list = []
    for k, (W, b) in enumerate(zip(Ws, bs)):
        layers.append(Linear(W, b))
        if k < len(Ws) - 1:
            layers.append(ACTIVATIONS[act_name]())
    return Network(tuple(layers))


@functools.lru_cache(maxsize=16)
def _runner(
    act_name: str, steps: int, lr0: float, ratio: float, b1: float, b2: float, eps: float
) -> Callable:
    """The jitted training run `(params, x, y, out_scale^2) -> (params, raw losses)` (compiled once per shape)."""
    import jax
    import jax.numpy as jnp

    act = ACTIVATIONS[act_name]().jax

    def predict(p, xs):
        h = xs
        for k, (W, b) in enumerate(p):
            h = h @ W.T + b
            if k < len(p) - 1:
                h = act(h)
        return h

    def loss_fn(p, xs, ys, scale2):
        r2 = (predict(p, xs) - ys) ** 2
        return jnp.mean(r2), jnp.mean(r2 * scale2)  # (standardised loss that is minimised, raw-unit MSE)

    @jax.jit
    def run(p, xs, ys, scale2):
        def step(carry, k):
            p, m, v = carry
            (_, raw), g = jax.value_and_grad(loss_fn, has_aux=True)(p, xs, ys, scale2)
            t = k + 1.0
            lr = lr0 * (ratio + (1.0 - ratio) * 0.5 * (1.0 + jnp.cos(jnp.pi * k / steps)))
            m = jax.tree_util.tree_map(lambda a, gg: b1 * a + (1 - b1) * gg, m, g)
            v = jax.tree_util.tree_map(lambda a, gg: b2 * a + (1 - b2) * gg * gg, v, g)
            p = jax.tree_util.tree_map(
                lambda w, a, c: w - lr * (a / (1 - b1**t)) / (jnp.sqrt(c / (1 - b2**t)) + eps), p, m, v
            )
            return (p, m, v), raw

        zeros = jax.tree_util.tree_map(jnp.zeros_like, p)
        (p, _, _), losses = jax.lax.scan(step, (p, zeros, zeros), jnp.arange(steps, dtype=jnp.float64))
        return p, losses

    return run


def imitate(
    expert: Callable,
    sampler,
    layers: Sequence[int],
    activation: str = "relu",
    seed: int = 0,
    steps: int = 5000,
    options: TrainOptions | None = None,
) -> ImitationResult:
    """Fit a feed-forward network to `expert` on inputs drawn from `sampler` (full-batch Adam on the MSE).

    Inputs are scaled to [-1, 1] per coordinate over the training samples and outputs standardised while
    training; the scalings are folded into the first and last Linear layers of the returned network, which
    therefore maps raw inputs to raw outputs. An input that is constant over the samples gets a zero weight
    column (the network ignores it). Deterministic: the data come from `numpy.random.default_rng(seed)`, the
    initial weights (Glorot-uniform, zero biases) from `jax.random.PRNGKey(seed)`.

    Args:
        expert: numpy function of inputs (n, d) -> outputs (n, m) or (n,).
        sampler: where training inputs come from: a set with `.sample(n, rng)` (e.g. `nncs.Box`) or a
            callable `(n, rng) -> (n, d)`.
        layers: hidden layer sizes, e.g. (20, 20, 20, 20, 20); the output layer is linear.
        activation: hidden activation name (relu, tanh, sigmoid, leakyrelu, satlin, satlins).
        seed: the random seed for data and initial weights.
        steps: number of Adam steps (>= 1).
        options: `TrainOptions` (sample count, learning-rate schedule, Adam constants).

    Returns:
        ImitationResult with the trained `Network` and the training record. The network approximates the
        expert (no guarantee); fit errors on fresh samples are reported, not bounded.

    Raises:
        ValueError naming the argument for bad layer sizes, an unknown activation, steps < 1, or an expert or
        sampler that returns wrong shapes or non-finite values.
    """
    import jax
    import jax.numpy as jnp

    options = options or TrainOptions()
    hidden = tuple(int(h) for h in layers)
    if any(h < 1 for h in hidden) or any(h != float(g) for h, g in zip(hidden, layers)):
        raise ValueError(f"layers: hidden sizes must be positive integers, got {list(layers)}")
    act_name = _activation_name(activation)
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    seed = int(seed)

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    x = sample_inputs(sampler, int(options.n_samples), rng)
    y = _expert_targets(expert, x)
    n_in, n_out = x.shape[1], y.shape[1]

    lo, hi = x.min(axis=0), x.max(axis=0)
    in_center = (lo + hi) / 2
    half = (hi - lo) / 2
    in_inv_scale = np.where(half > 0, 1.0 / np.where(half > 0, half, 1.0), 0.0)
    out_mean = y.mean(axis=0)
    out_scale = y.std(axis=0)
    out_scale = np.where(out_scale > 0, out_scale, 1.0)
    xn = jnp.asarray((x - in_center) * in_inv_scale)
    yn = jnp.asarray((y - out_mean) / out_scale)

    sizes = (n_in,) + hidden + (n_out,)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(sizes) - 1)
    params = []
    for key, fan_in, fan_out in zip(keys, sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        W = jax.random.uniform(key, (fan_out, fan_in), dtype=jnp.float64, minval=-limit, maxval=limit)
        params.append((W, jnp.zeros(fan_out, dtype=jnp.float64)))
    run = _runner(
        act_name,
        steps,
        float(options.learning_rate),
        float(options.final_lr_ratio),
        float(options.beta1),
        float(options.beta2),
        float(options.eps),
    )
    params, losses = run(params, xn, yn, jnp.asarray(out_scale**2))
    losses = np.asarray(losses)
    net = _fold(params, in_center, in_inv_scale, out_mean, out_scale, act_name)
    elapsed = time.perf_counter() - t0

    final_loss = float(np.mean((net(x) - y) ** 2))
    xv = sample_inputs(sampler, int(options.n_validation), np.random.default_rng([seed, 1]))
    err = net(xv) - _expert_targets(expert, xv)
    return ImitationResult(
        network=net,
        losses=losses,
        final_loss=final_loss,
        val_rmse=float(np.sqrt(np.mean(err**2))),
        val_max_abs_error=float(np.max(np.abs(err))),
        input_lower=lo,
        input_upper=hi,
        time_s=elapsed,
        seed=seed,
        steps=steps,
        layers=hidden,
        activation=act_name,
        options=options,
    )


def train_imitation(
    expert: Callable,
    sampler,
    layers: Sequence[int],
    activation: str = "relu",
    seed: int = 0,
    steps: int = 5000,
    options: TrainOptions | None = None,
) -> Network:
    """The trained network of `imitate(...)` (same arguments; see there). Deterministic for a given seed."""
    return imitate(expert, sampler, layers, activation, seed, steps, options).network


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m nncs.controllers.train NAME [--out DIR] [--steps N] [--seed S]`: retrain and rewrite NAME's files."""
    import importlib

    from nncs.controllers import RECIPES

    parser = argparse.ArgumentParser(prog="python -m nncs.controllers.train", description=main.__doc__)
    parser.add_argument("name", choices=sorted(RECIPES), help="which controller to retrain")
    parser.add_argument(
        "--out", default=None, help="folder for the .onnx and .json files (default: controllers/)"
    )
    parser.add_argument("--steps", type=int, default=None, help="Adam steps (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the recipe's)")
    args = parser.parse_args(argv)
    recipe = importlib.import_module(RECIPES[args.name][0])
    recipe.build(out_dir=args.out, steps=args.steps, seed=args.seed, log=print)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
