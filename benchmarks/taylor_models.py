"""Taylor-model flowpipes against the zonotope flowpipe: the final box widths of one control period from the
same initial box with the input held, and the Taylor models' time per order.

Also the closed loop: ACC with nncs's own controller over 10 periods, the network's `fit` composed into the
Taylor models every period (`closed_loop_reach`), against `nncs.reach` (star sets).

Run with `python -m benchmarks taylor_models`.
"""

from __future__ import annotations

import time

import numpy as np

CASES = [  # plant, initial box, held input, period (s), sub-steps
    ("pendulum", ([1.0, 0.0], [1.2, 0.2]), [-0.3], 0.05, 4),
    ("tora", ([0.6, -0.7, -0.4, 0.5], [0.7, -0.6, -0.3, 0.6]), [0.2], 1.0, 10),
    ("van_der_pol", ([1.2, 2.3], [1.4, 2.5]), [0.0], 0.2, 10),
]


def main(args: list[str] | None = None) -> None:
    """Run with the Taylor-model orders given (default 3 and 5); `python -m benchmarks` passes its arguments."""
    orders = [int(a) for a in args] if args else [3, 5]
    from nncs import plants
    from nncs.dynamics.flowpipe import FlowpipeOptions, flowpipe
    from nncs.dynamics.taylor_model import TaylorModel, plant_flowpipe
    from nncs.sets import Box

    for name, (lo, hi), u, period, substeps in CASES:
        plant = plants.get(name)
        start = time.perf_counter()
        final = flowpipe(
            plant, Box(lo, hi), Box(u, u), period, FlowpipeOptions(substeps=substeps)
        ).final.box()
        print(
            f"{name}: zonotope flowpipe widths {np.round(final.ub - final.lb, 5)} ({time.perf_counter() - start:.2f} s)"
        )
        for order in orders:
            n = len(lo) + 1
            x0 = [TaylorModel.variable(i, lo[i], hi[i], n, order) for i in range(len(lo))]
            start = time.perf_counter()
            _, end = plant_flowpipe(plant, x0, u, period, substeps)
            seconds = time.perf_counter() - start
            widths = np.array([float(m.bound().hi - m.bound().lo) for m in end])
            print(f"  Taylor models, order {order}: widths {np.round(widths, 5)} ({seconds:.2f} s)")

    closed_loop()


def closed_loop(name: str = "acc", steps: int = 10, order: int = 2, substeps: int = 2) -> None:
    from dataclasses import replace

    from nncs import case_studies
    from nncs.dynamics.taylor_model import closed_loop_reach, substitute
    from nncs.loop.reach import reach
    from nncs.problem import load_problem

    problem = load_problem(case_studies.path(name))
    start = time.perf_counter()
    periods = closed_loop_reach(
        problem.system, problem.initial.lb, problem.initial.ub, steps, order, substeps
    )
    seconds = time.perf_counter() - start
    end = [substitute(m, m.n - 1, 1) for m in periods[-1][-1]]
    widths = np.array([float(m.bound().hi - m.bound().lo) for m in end])
    print(
        f"{name}, {steps} periods: Taylor models (order {order}, fit composed) widths {np.round(widths, 4)} ({seconds:.1f} s)"
    )
    start = time.perf_counter()
    result = reach(problem.system, problem.initial, steps, replace(problem.options, progress=False))
    seconds = time.perf_counter() - start
    final = result.final[0].box()
    print(f"  nncs.reach (stars): widths {np.round(final.ub - final.lb, 4)} ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
