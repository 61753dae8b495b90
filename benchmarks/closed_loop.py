"""Closed-loop case studies: verdict and wall time of `nncs.verify`, cold (fresh process, JAX compiling) and warm
(the median of 3 more runs in that process).

Run with `python -m benchmarks closed_loop [NAME ...]`; NNV's published figures are printed beside ours.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from nncs import case_studies

NNV_SECONDS = {  # shared/benchmarks/closed_loop/README.md (other hardware)
    "acc_arch": "~15 s (ARCH-COMP scripts)",
    "tora": "~25 s",
    "tora_relu_tanh": "~38 min (with splitting)",
    "tora_sigmoid": "~1 h (with splitting)",
    "acc_linear": "~2 s per case (CAV 2020)",
    **{f"acc_cav2020_v{v}": "~500-550 s (CAV 2020)" for v in range(24, 30)},
}

DEFAULT = [
    "acc",
    "acc_arch",
    "acc_linear",
    "tora",
    "tora_relu_tanh",
    "tora_sigmoid",
    "pendulum",
    "pendulum_wide",
    "unicycle",
    "acc_arch_3_20",
    "acc_arch_7_20",
    "acc_arch_10_20",
    "acc_arch_tanh",
] + [f"acc_cav2020_v{v}" for v in range(24, 30)]

_CHILD = """
import json, sys, time
import nncs
problem = nncs.load_problem(sys.argv[1])
out = []
for _ in range(4):
    v = nncs.verify(problem)
    out.append((v.status, v.time_s, len(v.parts)))
print(json.dumps(out))
"""


def run_case(name: str) -> dict:
    """Verify one case 4 times in a fresh process: verdict, cold seconds (first run), warm seconds (median of
    the other 3), parts."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(case_studies.path(name))],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        return {"name": name, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    (status, cold, parts), warm = runs[0], statistics.median(t for _, t, _ in runs[1:])
    return {"name": name, "verdict": status, "cold_s": cold, "warm_s": warm, "parts": parts}


def main(names: list[str] | None = None) -> None:
    names = names or DEFAULT
    print(f"{'case':20s} {'verdict':8s} {'cold s':>8s} {'warm s':>8s} {'parts':>5s}   NNV (published)")
    for name in names:
        r = run_case(name)
        if "error" in r:
            print(f"{name:20s} error: {r['error']}")
            continue
        print(
            f"{name:20s} {r['verdict']:8s} {r['cold_s']:8.2f} {r['warm_s']:8.2f} {r['parts']:5d}   "
            f"{NNV_SECONDS.get(name, '-')}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
