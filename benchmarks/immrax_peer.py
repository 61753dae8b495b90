"""Side-by-side peer figure: the ACC (ARCH-COMP) and TORA closed loops in immrax (JAX interval reachability).

Run with an interpreter that has immrax (never the project's venv): `/tmp/immrax-venv/bin/python -m benchmarks immrax_peer`.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

NETWORKS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "closed_loop" / "networks"

# Each problem as in case_studies/closed_loop/*.toml and shared/benchmarks/closed_loop/README.md.
# ctrl_A, ctrl_c: network input = ctrl_A @ x + ctrl_c; out_scale, out_shift: plant input = out_scale * y + out_shift.
PROBLEMS = {
    "acc_arch": {
        "network": "acc_controller_5_20.json",
        "states": ["x_lead", "v_lead", "g_lead", "x_ego", "v_ego", "g_ego"],
        "lower": [90.0, 32.0, 0.0, 10.0, 30.0, 0.0],
        "upper": [110.0, 32.2, 0.0, 11.0, 30.2, 0.0],
        "period": 0.1,
        "steps": 50,
        "dt": 0.01,
        # [v_set = 30, t_gap = 1.4, v_ego, x_lead - x_ego, v_lead - v_ego]
        "ctrl_A": [
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [1, 0, 0, -1, 0, 0],
            [0, 1, 0, 0, -1, 0],
        ],
        "ctrl_c": [30.0, 1.4, 0.0, 0.0, 0.0],
        "out_scale": 1.0,
        "out_shift": 0.0,
        # always: x_lead - x_ego - 1.4 v_ego >= 10 (one row H x >= g)
        "spec_H": [[1.0, 0.0, 0.0, -1.0, -1.4, 0.0]],
        "spec_g": [10.0],
    },
    "tora": {
        "network": "tora_controller_relu.json",
        "states": ["x1", "x2", "x3", "x4"],
        "lower": [0.6, -0.7, -0.4, 0.5],
        "upper": [0.7, -0.6, -0.3, 0.6],
        "period": 1.0,
        "steps": 20,
        "dt": 0.01,
        "ctrl_A": np.eye(4).tolist(),
        "ctrl_c": [0.0, 0.0, 0.0, 0.0],
        "out_scale": 1.0,
        "out_shift": -10.0,
        # always: -2 <= x_i <= 2
        "spec_H": np.vstack([np.eye(4), -np.eye(4)]).tolist(),
        "spec_g": [-2.0] * 8,
    },
}


def _acc_rhs(jnp, x, u):
    """ARCH-COMP ACC: a_lead = -2, mu = 1e-4; u = a_ego."""
    mu, a_lead = 1e-4, -2.0
    return jnp.array(
        [
            x[1],
            x[2],
            -2 * x[2] + 2 * a_lead - mu * x[1] ** 2,
            x[4],
            x[5],
            -2 * x[5] + 2 * u[0] - mu * x[4] ** 2,
        ]
    )


def _tora_rhs(jnp, x, u):
    """TORA: x1' = x2, x2' = -x1 + 0.1 sin x3, x3' = x4, x4' = u."""
    return jnp.array([x[1], -x[0] + 0.1 * jnp.sin(x[2]), x[3], u[0]])


RHS = {"acc_arch": _acc_rhs, "tora": _tora_rhs}


def _load_network(irx, eqx, jnp, name: str, workdir: Path):
    """An immrax NeuralNetwork (arch.txt in a scratch folder) holding the weights of a shared JSON network."""
    layers = json.loads((NETWORKS / name).read_text())["layers"]
    arch = [str(len(layers[0]["W"][0]))]
    for layer in layers:
        arch.append(str(len(layer["W"])))
        if layer["activation"] != "linear":
            arch.append(layer["activation"])
    folder = workdir / name.removesuffix(".json")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "arch.txt").write_text(" ".join(arch))
    net = irx.NeuralNetwork(folder, load=False)
    linear = [i for i, m in enumerate(net.seq.layers) if hasattr(m, "weight")]
    for i, layer in zip(linear, layers):
        net = eqx.tree_at(
            lambda n, i=i: n.seq.layers[i].weight, net, jnp.asarray(layer["W"], dtype=jnp.float64)
        )
        net = eqx.tree_at(
            lambda n, i=i: n.seq.layers[i].bias, net, jnp.asarray(layer["b"], dtype=jnp.float64)
        )
    check = json.loads((NETWORKS / name).read_text()).get("check")
    if check:
        got = np.asarray(net(jnp.asarray(check["input"], dtype=jnp.float64)))
        if not np.allclose(got, np.asarray(check["output"]), atol=1e-9):
            raise ValueError(
                f"{name}: immrax network disagrees with the file's check ({got} vs {check['output']})"
            )
    return net


def build(irx, eqx, jax, jnp, name: str, workdir: Path):
    """The jitted ZOH reach function of one problem: returns per-period sampling boxes and per-step flowpipe boxes.

    Per control period: u-box = CROWN (immrax.crown) of the controller over the state box; then the plant with
    u held (augmented state z = [x; u], u' = 0) is embedded with the mixed-Jacobian inclusion function
    (immrax.mjacemb) and the embedding ODE is integrated over the period with immrax's compute_trajectory.
    """
    p = PROBLEMS[name]
    n = len(p["states"])
    net = _load_network(irx, eqx, jnp, p["network"], workdir)
    A, c = jnp.asarray(p["ctrl_A"], dtype=jnp.float64), jnp.asarray(p["ctrl_c"], dtype=jnp.float64)
    scale, shift = p["out_scale"], p["out_shift"]

    def controller(x):
        return scale * net(A @ x + c) + shift

    rhs = RHS[name]

    class HeldPlant(irx.System):
        """Plant with the control input held over the period as extra states: z = [x; u], u' = 0."""

        def __init__(self):
            self.evolution = "continuous"
            self.xlen = n + 1

        def f(self, t, z):
            return jnp.concatenate([rhs(jnp, z[:n], z[n:]), jnp.zeros(1)])

    embsys = irx.mjacemb(HeldPlant())
    verifier = irx.crown(controller)
    T, dt, steps = p["period"], p["dt"], p["steps"]

    def period(carry, _):
        lo, hi = carry
        ix = irx.interval(lo, hi)
        iu = verifier(ix)(ix)
        z0 = irx.i2ut(irx.interval(jnp.concatenate([lo, iu.lower]), jnp.concatenate([hi, iu.upper])))
        traj = embsys.compute_trajectory(0.0, T, z0, (), dt, solver="tsit5")
        ts, ys = traj.ts, traj.ys
        ok = jnp.isfinite(ts)
        last = jnp.sum(ok) - 1
        zf = ys[last]
        flo, fhi = zf[:n], zf[n + 1 : 2 * n + 1]
        # every saved solver step of the period (padding rows repeated from the last one)
        pipe = jnp.where(ok[:, None], ys, zf[None, :])
        return (flo, fhi), (flo, fhi, pipe[:, :n], pipe[:, n + 1 : 2 * n + 1], iu.lower, iu.upper)

    @jax.jit
    def reach(lo, hi):
        return jax.lax.scan(period, (lo, hi), None, length=steps)

    def simulate(x0s):
        """Concrete ZOH trajectories (float64, tsit5 at dt/10) at the sampling instants, for a containment check."""
        import diffrax

        def one(x0):
            def step(x, _):
                u = controller(x)
                sol = diffrax.diffeqsolve(
                    diffrax.ODETerm(lambda t, y, a: rhs(jnp, y, u)), diffrax.Tsit5(), 0.0, T, dt / 10, x
                )
                return sol.ys[-1], sol.ys[-1]

            return jax.lax.scan(step, x0, None, length=steps)[1]

        return jax.jit(jax.vmap(one))(x0s)

    return reach, simulate


def build_continuous(irx, eqx, jax, jnp, name: str, workdir: Path):
    """immrax's own NNCS model (NNCSystem + NNCEmbeddingSystem, CROWN, interaction-aware): u = N(x(t)) at every t.

    This is continuous-time feedback, not the benchmarks' zero-order hold, so it is a different closed loop; it is
    run only to show what immrax's native NNCS path gives on the same plant, network and initial box.
    """
    from immutabledict import immutabledict

    p = PROBLEMS[name]
    n = len(p["states"])
    net = _load_network(irx, eqx, jnp, p["network"], workdir)
    A, c = jnp.asarray(p["ctrl_A"], dtype=jnp.float64), jnp.asarray(p["ctrl_c"], dtype=jnp.float64)
    scale, shift, rhs = p["out_scale"], p["out_shift"], RHS[name]

    class Controller(irx.Control):
        out_len = 1

        def __call__(self, x):
            return scale * net(A @ x + c) + shift

        def u(self, t, x):
            return self(x)

    class Plant(irx.OpenLoopSystem):
        def __init__(self):
            self.evolution = "continuous"
            self.xlen = n

        def f(self, t, x, u, w):
            return rhs(jnp, x, u)

    embsys = irx.NNCEmbeddingSystem(irx.NNCSystem(Plant(), Controller()), "crown", "local", "local")
    k = 1 + n + 1 + 1  # t, x, u, w
    kwargs = immutabledict({"permutations": irx.standard_permutation(k), "corners": irx.two_corners(k)})
    w = irx.icentpert(jnp.zeros(1), 0.0)

    def w_map(t, x):
        return w

    tf, dt = p["period"] * p["steps"], p["dt"]

    @jax.jit
    def reach(lo, hi):
        traj = embsys.compute_trajectory(
            0.0, tf, irx.i2ut(irx.interval(lo, hi)), (w_map,), dt, solver="euler", f_kwargs=kwargs
        )
        ok = jnp.isfinite(traj.ts)
        last = jnp.sum(ok) - 1
        ys = jnp.where(ok[:, None], traj.ys, traj.ys[last][None, :])
        return ys[:, :n], ys[:, n:], jnp.where(ok, traj.ts, traj.ts[last])

    return reach


def spec_margin(p: dict, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Interval lower bound of H x - g over boxes [lo, hi] (..., n), per row: exact for a box; all >= 0 is safe."""
    H, g = np.asarray(p["spec_H"]), np.asarray(p["spec_g"])
    with np.errstate(invalid="ignore", over="ignore"):
        m = lo @ np.clip(H, 0, None).T + hi @ np.clip(H, None, 0).T - g
    return np.where(np.isfinite(m), m, -np.inf)


def partitions(lower, upper, splits) -> tuple[np.ndarray, np.ndarray]:
    """A uniform grid of sub-boxes of [lower, upper] with splits[i] parts along dimension i (union = the box)."""
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    grids = [np.linspace(lower[i], upper[i], k + 1) for i, k in enumerate(splits)]
    idx = np.stack(np.meshgrid(*[np.arange(k) for k in splits], indexing="ij"), -1).reshape(-1, len(splits))
    lo = np.array([[grids[i][j] for i, j in enumerate(row)] for row in idx])
    hi = np.array([[grids[i][j + 1] for i, j in enumerate(row)] for row in idx])
    return lo, hi


def _timed(jax, f, *args):
    t0 = time.perf_counter()
    out = jax.block_until_ready(f(*args))
    return out, time.perf_counter() - t0


def run(irx, eqx, jax, jnp, name: str, mode: str, splits, workdir: Path) -> dict:
    """Cold (build + JIT + first run) and warm (second run) wall time, verdict and final widths of one problem.

    mode "zoh": the benchmark's sample-and-hold loop (see build); "continuous": immrax's native NNCS model. With
    splits, the initial box is cut into a grid and the parts run in one vmapped call; final widths are those of the
    hull over the parts. Verdict "safe" when the spec holds on every saved box of every part, else "unknown".
    """
    p = PROBLEMS[name]
    t0 = time.perf_counter()
    if mode == "zoh":
        reach, simulate = build(irx, eqx, jax, jnp, name, workdir)
    else:
        reach, simulate = build_continuous(irx, eqx, jax, jnp, name, workdir), None
    lo0, hi0 = partitions(p["lower"], p["upper"], splits or [1] * len(p["lower"]))
    f = jax.jit(jax.vmap(reach))
    out = jax.block_until_ready(f(jnp.asarray(lo0), jnp.asarray(hi0)))
    cold = time.perf_counter() - t0
    out, warm = _timed(jax, f, jnp.asarray(lo0), jnp.asarray(hi0))
    out = jax.tree_util.tree_map(np.asarray, out)
    if mode == "zoh":
        (flo, fhi), (slo, shi, plo, phi, _, _) = out  # plo: (parts, steps, saved, n)
        per_part = spec_margin(p, plo, phi).reshape(len(lo0), p["steps"], -1).min(-1)  # (parts, steps)
    else:
        plo, phi, ts = out  # (parts, saved, n), (parts, saved, n), (parts, saved)
        flo, fhi = plo[:, -1], phi[:, -1]
        m = spec_margin(p, plo, phi).min(-1)  # (parts, saved)
        T = p["period"]
        per_part = np.stack(
            [
                np.where((ts >= k * T - 1e-12) & (ts <= (k + 1) * T + 1e-12), m, np.inf).min(1)
                for k in range(p["steps"])
            ],
            1,
        )
    proven = per_part.min(1) >= 0
    bad = np.nonzero(per_part.min(0) < 0)[0]
    with np.errstate(invalid="ignore"):
        widths = np.max(fhi, 0) - np.min(flo, 0)
    r = {
        "name": name,
        "mode": mode,
        "parts": len(lo0),
        "proven_parts": int(proven.sum()),
        "verdict": "safe" if proven.all() else "unknown",
        "cold_s": cold,
        "warm_s": warm,
        "first_unproven_step": int(bad[0]) + 1 if len(bad) else None,
        "widths": widths.tolist(),
    }
    if simulate is not None and len(lo0) == 1:
        # sanity: simulated ZOH trajectories lie in the sampling-instant boxes
        x0s = np.random.default_rng(0).uniform(p["lower"], p["upper"], size=(64, len(p["lower"])))
        sims = np.asarray(simulate(jnp.asarray(x0s)))  # (64, steps, n)
        tol = 1e-9 * (1 + np.abs(sims))
        finite = np.all(np.isfinite(slo[0]) & np.isfinite(shi[0]), axis=1)  # steps whose box is still finite
        inside = (sims >= slo[0][None] - tol) & (sims <= shi[0][None] + tol)
        r["sims_inside"] = bool(np.all(inside[:, finite]))
        r["finite_steps"] = int(finite.sum())
        r["sim_final_widths"] = (sims[:, -1].max(0) - sims[:, -1].min(0)).tolist()
    return r


# (problem, mode, splits of the initial box); the first two rows are the side-by-side figure.
CONFIGS = [
    ("acc_arch", "zoh", None),
    ("tora", "zoh", None),
    ("acc_arch", "zoh", [40, 1, 1, 2, 2, 1]),
    ("acc_arch", "continuous", None),
    ("tora", "continuous", None),
]


def main(names: list[str] | None = None) -> None:
    """Print verdict, cold/warm wall time and final interval widths of immrax on ACC (ARCH-COMP) and TORA."""
    try:
        import immrax as irx
    except ImportError:
        print(
            "immrax_peer: skipped (immrax is not installed in this interpreter; run it with one that has it, "
            "e.g. /tmp/immrax-venv/bin/python -m benchmarks immrax_peer)"
        )
        return
    import equinox as eqx
    import jax

    jax.config.update("jax_enable_x64", True)
    from importlib.metadata import version

    import jax.numpy as jnp

    print(f"immrax {version('immrax')}, jax {jax.__version__}, {jax.devices()[0].platform}, float64")
    print(
        "zoh: per period CROWN u-box over the state box, plant with u held embedded with immrax.mjacemb, "
        "tsit5 at dt on the embedding ODE; continuous: immrax.NNCEmbeddingSystem (u = N(x(t))), euler at dt"
    )
    print(
        f"{'case':9s} {'mode':10s} {'parts':>5s} {'proven':>6s} {'verdict':8s} {'cold s':>7s} {'warm s':>7s} "
        f"{'1st bad step':>12s}  final widths"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, mode, splits in CONFIGS:
            if names and name not in names:
                continue
            r = run(irx, eqx, jax, jnp, name, mode, splits, Path(tmp))
            widths = ", ".join(f"{s}={w:.4g}" for s, w in zip(PROBLEMS[name]["states"], r["widths"]))
            bad = "-" if r["first_unproven_step"] is None else str(r["first_unproven_step"])
            print(
                f"{name:9s} {mode:10s} {r['parts']:5d} {r['proven_parts']:6d} {r['verdict']:8s} "
                f"{r['cold_s']:7.2f} {r['warm_s']:7.2f} {bad:>12s}  {widths}"
            )
            if "sims_inside" in r:
                print(
                    f"{'':9s} 64 simulated ZOH runs inside the sampling boxes: {r['sims_inside']} (on the "
                    f"{r['finite_steps']} steps with finite boxes); their final spread: "
                    + ", ".join(f"{w:.3g}" for w in r["sim_final_widths"])
                )
            if os.environ.get("IMMRAX_PEER_JSON"):
                print(json.dumps(r))


if __name__ == "__main__":
    main()
