"""Generate the README figure (docs/acc_reach.png): the ACC case study's reachable sets, proven safe.

Run from the repository root: `python docs/make_figures.py` (about 10 s); it rewrites the PNG.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nncs  # noqa: E402
from nncs import plot  # noqa: E402
from nncs.loop.simulate import simulate_closed_loop  # noqa: E402


def acc_figure(out: Path) -> str:
    """Verify case_studies/acc.toml and draw the gap against the safe distance, and a phase plane; return the verdict."""
    problem = nncs.load_problem(ROOT / "case_studies" / "acc.toml")
    verdict = nncs.verify(problem, nncs.Options(progress=False))
    results = (
        [verdict.result] if verdict.result is not None else [r for _, _, r in verdict.parts if r is not None]
    )
    x0 = problem.initial.sample(25, np.random.default_rng(0))
    traces = simulate_closed_loop(problem.system, x0, problem.steps)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.1, 1]})
    plot.plot_over_time(
        results,
        ["x_lead - x_ego"],
        ax=left,
        traces=traces,
        constraints=[problem.specs[0].text[0]],
        labels=["gap x_lead - x_ego"],
    )
    left.set_ylabel("m")
    left.set_title(
        f"ACC, nncs's 5x20 ReLU controller: {verdict.status} ({verdict.time_s:.1f} s)", fontsize="medium"
    )
    plot.plot_reach(results, ("x_ego", "v_ego"), ax=right, traces=traces)
    right.set_title("flowpipe of the ego car (colour: time)", fontsize="medium")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return verdict.status


if __name__ == "__main__":
    target = ROOT / "docs" / "acc_reach.png"
    status = acc_figure(target)
    print(f"{target.relative_to(ROOT)}: {status}, {target.stat().st_size // 1024} KiB")
