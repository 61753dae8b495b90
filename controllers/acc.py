"""The project's ACC controller: a 5x20 ReLU network imitating a smooth saturated linear cruise law.

NNV's interface (inputs v_set, t_gap, v_ego, d_rel, v_rel; output a_ego); `build()` retrains it and writes
acc_controller.onnx and its card acc_controller.json after checking the closed loop in simulation.
"""

from __future__ import annotations

import itertools
import json
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np

import nncs
from nncs.nn import Network, save_network

__all__ = [
    "INPUTS", "OUTPUTS", "STATE_MAP", "V_SET", "T_GAP", "EXPERT", "EXPERT_FORMULA", "LAYERS", "SEED", "STEPS",
    "TRAIN_LOWER", "TRAIN_UPPER", "INITIAL_LOWER", "INITIAL_UPPER", "PERIOD", "HORIZON",
    "expert", "training_region", "network_inputs", "safety_margin", "initial_states", "closed_loop_check", "build",
]  # fmt: skip

INPUTS = ("v_set", "t_gap", "v_ego", "d_rel", "v_rel")
OUTPUTS = ("a_ego",)
STATE_MAP = (
    "30",
    "1.4",
    "v_ego",
    "x_lead - x_ego",
    "v_lead - v_ego",
)  # network inputs as expressions in the states
V_SET, T_GAP = 30.0, 1.4

# the expert: a = C + R tanh((u - C) / R),  u = K_D (d_rel - D_0 - t_gap v_ego) + K_V v_rel + K_S (v_set - v_ego)
EXPERT = {"K_D": 0.04, "K_V": 0.8, "K_S": 0.3, "D_0": 45.0, "C": -0.5, "R": 2.5}
EXPERT_FORMULA = (
    "a_ego = C + R*tanh((u - C)/R), u = K_D*(d_rel - D_0 - t_gap*v_ego) + K_V*v_rel + K_S*(v_set - v_ego); "
    "a smooth saturation of a linear law to (C - R, C + R) = (-3, 2) m/s^2 with slope 1 at u = C. "
    "D_0 + t_gap*v_ego is the desired gap: the 10 m + 1.4 v_ego safe distance plus 35 m of headroom."
)

LAYERS = (20, 20, 20, 20, 20)
ACTIVATION = "relu"
SEED = 0
STEPS = 6000
N_SAMPLES = 4000
LEARNING_RATE = 3e-2

# training region in network-input space: covers the closed-loop trajectories from the initial set with room to spare
TRAIN_LOWER = np.array([V_SET, T_GAP, 22.0, 55.0, -7.0])
TRAIN_UPPER = np.array([V_SET, T_GAP, 36.0, 115.0, 5.0])

# the benchmark (plants.get("acc")): states x_lead, v_lead, g_lead, x_ego, v_ego, g_ego
INITIAL_LOWER = np.array([90.0, 32.0, 0.0, 10.0, 30.0, 0.0])
INITIAL_UPPER = np.array([110.0, 32.2, 0.0, 11.0, 30.2, 0.0])
PERIOD, HORIZON = 0.1, 50
HERE = Path(__file__).resolve().parent


def expert(inputs: np.ndarray) -> np.ndarray:
    """The expert acceleration for network inputs (n, 5) `[v_set, t_gap, v_ego, d_rel, v_rel]` -> (n, 1)."""
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(INPUTS):
        raise ValueError(f"expert: inputs must have shape (n, {len(INPUTS)}), got {x.shape}")
    v_set, t_gap, v_ego, d_rel, v_rel = x.T
    k = EXPERT
    u = k["K_D"] * (d_rel - k["D_0"] - t_gap * v_ego) + k["K_V"] * v_rel + k["K_S"] * (v_set - v_ego)
    return (k["C"] + k["R"] * np.tanh((u - k["C"]) / k["R"]))[:, None]


def training_region() -> nncs.Box:
    """The box of network inputs the training samples are drawn from (uniformly); v_set and t_gap are fixed."""
    return nncs.Box(TRAIN_LOWER, TRAIN_UPPER)


def network_inputs(states: np.ndarray) -> np.ndarray:
    """Network inputs `[30, 1.4, v_ego, x_lead - x_ego, v_lead - v_ego]` for plant states (n, 6) -> (n, 5)."""
    s = np.asarray(states, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != 6:
        raise ValueError(f"network_inputs: states must have shape (n, 6), got {s.shape}")
    n = s.shape[0]
    return np.stack(
        [np.full(n, V_SET), np.full(n, T_GAP), s[:, 4], s[:, 0] - s[:, 3], s[:, 1] - s[:, 4]], axis=1
    )


def safety_margin(states: np.ndarray) -> np.ndarray:
    """`x_lead - x_ego - (10 + 1.4 v_ego)` for states (..., 6): safe where >= 0."""
    s = np.asarray(states, dtype=np.float64)
    return s[..., 0] - s[..., 3] - (10.0 + T_GAP * s[..., 4])


def initial_states(n_random: int, seed: int) -> np.ndarray:
    """The 2^4 distinct corners of the initial box (g_lead = g_ego = 0) followed by `n_random` uniform samples."""
    box = nncs.Box(INITIAL_LOWER, INITIAL_UPPER)
    free = np.flatnonzero(INITIAL_UPPER > INITIAL_LOWER)
    corners = []
    for bits in itertools.product((0, 1), repeat=free.size):
        c = INITIAL_LOWER.copy()
        c[free] = np.where(np.array(bits, bool), INITIAL_UPPER[free], INITIAL_LOWER[free])
        corners.append(c)
    return np.vstack([np.array(corners), box.sample(n_random, np.random.default_rng(seed))])


def closed_loop_check(
    controller: Callable[[np.ndarray], np.ndarray],
    n_random: int = 2000,
    seed: int = 1,
    steps: int = HORIZON,
    substeps: int = 10,
    confirm: bool = True,
) -> dict:
    """Simulate the ACC closed loop from the corners and random points of the initial set; report the margins.

    Args:
        controller: network-input function (n, 5) -> (n, 1) (the expert or a network), applied every period
            with zero-order hold.
        n_random, seed: random initial states (besides the 16 corners).
        steps: control periods of 0.1 s; substeps: RK4 steps per period (the margin is checked at every one).
        confirm: re-integrate the worst trajectory with the tight reference integrator (DOP853, tol 1e-10).

    Returns:
        dict with `min_margin` (over all trajectories and sample times), the worst initial state, the
        per-input range of the network inputs along the trajectories, and (if confirm) the reference margin.
        Evidence from simulation, not a proof.
    """
    from nncs import plants
    from nncs.dynamics.simulate import simulate
    from nncs.loop.simulate import reference_closed_loop

    plant = plants.get("acc")
    x0 = initial_states(n_random, seed)
    times, xs = simulate(
        plant, x0, PERIOD, steps, controller=lambda s: controller(network_inputs(s)), substeps=substeps
    )
    margins = safety_margin(xs)
    per_traj = margins.min(axis=1)
    worst = int(np.argmin(per_traj))
    flat = network_inputs(xs.reshape(-1, 6))
    out = {
        "n_initial_states": int(x0.shape[0]),
        "n_corners": int(x0.shape[0] - n_random),
        "seed": seed,
        "steps": steps,
        "period": PERIOD,
        "integrator": f"RK4, {substeps} substeps per period (nncs.dynamics.simulate)",
        "min_margin": float(per_traj.min()),
        "worst_initial_state": x0[worst].tolist(),
        "worst_time": float(times[int(np.argmin(margins[worst]))]),
        "final_margin_range": [float(margins[:, -1].min()), float(margins[:, -1].max())],
        "trajectory_inputs_lower": flat.min(axis=0).tolist(),
        "trajectory_inputs_upper": flat.max(axis=0).tolist(),
        "inside_training_region": bool(np.all(training_region().contains(flat))),
    }
    if confirm:
        _, ref, _ = reference_closed_loop(
            plant,
            lambda s: controller(network_inputs(s[None]))[0],
            x0[worst],
            PERIOD,
            steps,
            samples_per_period=substeps + 1,
            rtol=1e-10,
            atol=1e-10,
        )
        out["reference_min_margin_at_worst"] = float(safety_margin(ref).min())
    return out


def build(
    out_dir: str | Path | None = None,
    steps: int | None = None,
    seed: int | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Retrain the ACC controller, check the closed loop in simulation, write `acc_controller.onnx` and the card.

    Args:
        out_dir: where to write (default: this package's folder); steps, seed: override STEPS and SEED.
        log: optional function receiving progress lines.
    Returns:
        The card (also written as acc_controller.json). Raises RuntimeError if the simulated closed loop with
        the trained network is unsafe or leaves the training region (nothing is written then).
    """
    import jax

    from nncs.controllers.train import TrainOptions, imitate

    log = log or (lambda s: None)
    out_dir = Path(out_dir) if out_dir is not None else HERE
    steps = STEPS if steps is None else int(steps)
    seed = SEED if seed is None else int(seed)
    options = TrainOptions(n_samples=N_SAMPLES, learning_rate=LEARNING_RATE)
    res = imitate(expert, training_region(), LAYERS, ACTIVATION, seed, steps, options)
    log(
        f"trained {steps} steps in {res.time_s:.1f} s: loss {res.losses[0]:.3g} -> {res.final_loss:.3g}, "
        f"validation RMSE {res.val_rmse:.3g}, max error {res.val_max_abs_error:.3g} m/s^2"
    )
    net: Network = res.network
    check_expert = closed_loop_check(expert, confirm=False)
    check_net = closed_loop_check(net)
    log(
        f"closed loop: minimal safety margin {check_net['min_margin']:.2f} m with the network "
        f"({check_expert['min_margin']:.2f} m with the expert) over {check_net['n_initial_states']} initial states"
    )
    if check_net["min_margin"] <= 0 or not check_net["inside_training_region"]:
        raise RuntimeError(f"the trained ACC controller fails the closed-loop check: {check_net}")

    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path, card_path = out_dir / "acc_controller.onnx", out_dir / "acc_controller.json"
    save_network(net, onnx_path)
    sizes = [net.n_inputs] + [lay.out_dim for _, lay in net.linear_layers()]
    card = {
        "name": "acc_controller",
        "description": "nncs's own ACC controller (NNV/ARCH-COMP interface), trained by imitation of a classical law.",
        "files": {"onnx": onnx_path.name, "card": card_path.name},
        "retrain": "python -m nncs.controllers.train acc",
        "interface": {
            "inputs": list(INPUTS),
            "outputs": list(OUTPUTS),
            "state_map": list(STATE_MAP),
            "plant_states": ["x_lead", "v_lead", "g_lead", "x_ego", "v_ego", "g_ego"],
            "note": "v_set and t_gap were fixed at 30 and 1.4 in training: their weights are zero (the network "
            "ignores them). Output a_ego is used as is (m/s^2).",
        },
        "architecture": {
            "layer_sizes": sizes,
            "hidden_activation": ACTIVATION,
            "output_activation": "linear",
            "parameters": int(sum(lay.W.size + lay.b.size for _, lay in net.linear_layers())),
        },
        "expert": {"formula": EXPERT_FORMULA, "parameters": dict(EXPERT)},
        "training": {
            "region": {"inputs": list(INPUTS), "lower": TRAIN_LOWER.tolist(), "upper": TRAIN_UPPER.tolist()},
            "distribution": "uniform in the region (numpy default_rng(seed))",
            "n_samples": options.n_samples,
            "seed": seed,
            "steps": steps,
            "layers": list(LAYERS),
            "optimizer": (
                f"full-batch Adam (beta1 {options.beta1}, beta2 {options.beta2}, eps {options.eps}), "
                f"cosine step size {options.learning_rate} -> {options.learning_rate * options.final_lr_ratio}; "
                "MSE loss on inputs scaled to [-1,1] and standardised outputs (folded into the weights); "
                "Glorot-uniform init from jax.random.PRNGKey(seed)"
            ),
            "initial_loss": float(res.losses[0]),
            "final_loss": res.final_loss,
            "time_s": round(res.time_s, 2),
            "jax": jax.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "fit": {
            "validation_samples": options.n_validation,
            "validation_rmse": res.val_rmse,
            "validation_max_abs_error": res.val_max_abs_error,
            "units": "m/s^2",
        },
        "closed_loop_check": {
            "plant": "plants.get('acc') (a_lead = -2, mu = 1e-4)",
            "initial_set": {"lower": INITIAL_LOWER.tolist(), "upper": INITIAL_UPPER.tolist()},
            "safety": "x_lead - x_ego >= 10 + 1.4 v_ego",
            "network": check_net,
            "expert": check_expert,
        },
    }
    card_path.write_text(json.dumps(card, indent=1) + "\n")
    log(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes) and {card_path}")
    return card
