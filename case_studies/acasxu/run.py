"""ACAS Xu runner: verify the VNN-COMP instances (all, or by property / network) and compare with the ground truth.

Usage: python -m case_studies.acasxu.run [--props 1,3] [--nets 1_1,2_9] [--timeout S] [--out results.csv]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nncs  # noqa: F401  (float64 JAX)
from nncs.nn.io import load_network
from nncs.nn.verify import VerifyOptions, verify_property
from nncs.vnnlib import load_vnnlib

__all__ = ["Instance", "default_data_dir", "load_instances", "run_instances", "summarize", "main"]


@dataclass(frozen=True)
class Instance:
    """One VNN-COMP instance: network file, property file, timeout and expected answer (holds / violated)."""

    onnx: str
    vnnlib: str
    timeout: float
    expected: str

    @property
    def net_id(self) -> str:
        """The network's `a_t` label, e.g. `1_1`."""
        parts = Path(self.onnx).stem.split("_")
        return f"{parts[2]}_{parts[3]}"

    @property
    def prop(self) -> int:
        """The property number."""
        return int(Path(self.vnnlib).stem.split("_")[1])


def default_data_dir() -> Path:
    """The ACAS Xu data folder: $NNCS_SHARED_BENCHMARKS/acasxu or ../shared/benchmarks/acasxu beside the repo."""
    env = os.environ.get("NNCS_SHARED_BENCHMARKS")
    base = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
    return base / "acasxu"


def load_instances(data_dir: Path, props=None, nets=None) -> list[Instance]:
    """Return the instances of ground_truth.csv (the 186 of instances.csv with answers), filtered."""
    path = Path(data_dir) / "ground_truth.csv"
    if not path.is_file():
        raise ValueError(f"{path}: not found (ACAS Xu data missing)")
    out = []
    with path.open() as f:
        for row in csv.DictReader(f):
            inst = Instance(row["onnx"], row["vnnlib"], float(row["timeout_s"]), row["expected"])
            if props and inst.prop not in props:
                continue
            if nets and inst.net_id not in nets:
                continue
            out.append(inst)
    return out


def run_instances(
    instances, data_dir: Path, timeout: float | None = None, out_csv=None, verbose: bool = True
):
    """Verify each instance; return rows (dicts) with result, time and whether it contradicts the ground truth.

    A "wrong" answer is holds / violated that differs from the expected one; unknown and timeout are not wrong.
    """
    rows = []
    writer = None
    fh = None
    if out_csv:
        fh = open(out_csv, "w", newline="")
        writer = csv.DictWriter(fh, fieldnames=["onnx", "vnnlib", "expected", "result", "time_s", "wrong"])
        writer.writeheader()
    nets: dict[str, object] = {}
    try:
        for inst in instances:
            if inst.onnx not in nets:
                nets[inst.onnx] = load_network(Path(data_dir) / inst.onnx)
            prop = load_vnnlib(Path(data_dir) / inst.vnnlib)
            t0 = time.perf_counter()
            res = verify_property(nets[inst.onnx], prop, VerifyOptions(timeout=timeout or inst.timeout))
            elapsed = time.perf_counter() - t0
            wrong = res.result in ("holds", "violated") and res.result != inst.expected
            row = {"onnx": inst.onnx, "vnnlib": inst.vnnlib, "expected": inst.expected, "result": res.result,
                   "time_s": round(elapsed, 3), "wrong": int(wrong)}  # fmt: skip
            rows.append(row)
            if writer:
                writer.writerow(row)
                fh.flush()
            if verbose:
                flag = "  WRONG" if wrong else ""
                print(
                    f"{inst.net_id:>4} phi{inst.prop:<2} {res.result:<9} {elapsed:8.2f} s  (expected {inst.expected}){flag}",
                    flush=True,
                )
    finally:
        if fh:
            fh.close()
    return rows


def summarize(rows) -> dict:
    """Counts of holds / violated / unknown / timeout, wrong answers, total and per-property times."""
    counts = {k: sum(r["result"] == k for r in rows) for k in ("holds", "violated", "unknown", "timeout")}
    per_prop: dict[str, list[float]] = {}
    for r in rows:
        per_prop.setdefault(Path(r["vnnlib"]).stem, []).append(float(r["time_s"]))
    return {
        **counts,
        "wrong": sum(int(r["wrong"]) for r in rows),
        "instances": len(rows),
        "total_s": round(sum(float(r["time_s"]) for r in rows), 2),
        "per_property": {k: {"total_s": round(sum(v), 2), "median_s": round(statistics.median(v), 3), "n": len(v)}
                         for k, v in sorted(per_prop.items(), key=lambda kv: int(kv[0].split("_")[1]))},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; exit status 1 when any answer contradicts the ground truth."""
    ap = argparse.ArgumentParser(
        prog="python -m case_studies.acasxu.run", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--props", default="", help="comma-separated property numbers (default: all)")
    ap.add_argument("--nets", default="", help="comma-separated networks a_t, e.g. 1_1,2_9 (default: all)")
    ap.add_argument(
        "--timeout", type=float, default=None, help="seconds per instance (default: instances.csv)"
    )
    ap.add_argument("--out", default="acasxu_results.csv", help="results CSV (default acasxu_results.csv)")
    ap.add_argument("--data", default=None, help="ACAS Xu data folder")
    args = ap.parse_args(argv)
    data = Path(args.data) if args.data else default_data_dir()
    props = {int(p) for p in args.props.split(",") if p}
    nets = {n for n in args.nets.split(",") if n}
    try:
        instances = load_instances(data, props, nets)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    rows = run_instances(instances, data, args.timeout, args.out)
    s = summarize(rows)
    print(f"{s['instances']} instances: {s['holds']} holds, {s['violated']} violated, {s['unknown']} unknown, "
          f"{s['timeout']} timeout; {s['wrong']} wrong; total {s['total_s']} s")  # fmt: skip
    for k, v in s["per_property"].items():
        print(f"  {k}: {v['n']} instances, total {v['total_s']} s, median {v['median_s']} s")
    return 1 if s["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
