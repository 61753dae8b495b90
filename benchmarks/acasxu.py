"""ACAS Xu wall time: total and per-property, phi1-phi4 over the 45 networks and phi5-phi10, next to nnenum's figures.

Run: python -m benchmarks acasxu (env NNCS_ACASXU_PROPS=1,3 and NNCS_ACASXU_TIMEOUT=S narrow it down).
"""

from __future__ import annotations

import os
import sys

NNENUM_REFERENCE_S = {"prop_1": 385.0, "prop_3": 17.0, "prop_4": 8.0}
"""nnenum's verification time in seconds on this kind of machine, one process (issue 3): totals over 45 networks."""


def main(argv: list[str] | None = None) -> None:
    """Run the selected ACAS Xu instances once and print totals and medians per property with nnenum's figures."""
    from nncs.case_studies.acasxu.run import default_data_dir, load_instances, run_instances, summarize

    data = default_data_dir()
    if not (data / "ground_truth.csv").is_file():
        print(f"ACAS Xu data not found at {data}; skipped", file=sys.stderr)
        return
    props = {int(p) for p in os.environ.get("NNCS_ACASXU_PROPS", "").split(",") if p} or set(range(1, 11))
    timeout = float(os.environ["NNCS_ACASXU_TIMEOUT"]) if os.environ.get("NNCS_ACASXU_TIMEOUT") else None
    rows = run_instances(load_instances(data, props), data, timeout, out_csv=None, verbose=False)
    s = summarize(rows)
    print(f"acasxu: {s['instances']} instances, {s['holds']} holds / {s['violated']} violated / {s['unknown']} unknown "
          f"/ {s['timeout']} timeout, {s['wrong']} wrong, total {s['total_s']} s")  # fmt: skip
    for name, v in s["per_property"].items():
        ref = NNENUM_REFERENCE_S.get(name)
        ratio = f", nnenum {ref:.0f} s ({ref / max(v['total_s'], 1e-9):.1f}x faster)" if ref else ""
        print(f"  {name}: total {v['total_s']} s, median {v['median_s']} s over {v['n']}{ratio}")


if __name__ == "__main__":
    main(sys.argv[1:])
