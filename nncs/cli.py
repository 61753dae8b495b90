"""The `nncs` command line: verification of problem files, networks and bundled case studies.

Subcommands are added as the pieces they drive land; `--version` and `--help` always work.
"""

from __future__ import annotations

import argparse
import sys

from nncs._version import __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `nncs` command."""
    parser = argparse.ArgumentParser(
        prog="nncs",
        description="Reachability analysis and safety verification of neural-network control systems.",
    )
    parser.add_argument("--version", action="version", version=f"nncs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    ver = sub.add_parser(
        "verify",
        help="verify a closed-loop problem file (safe / unsafe / unknown)",
        description="Verify a closed-loop problem (TOML): prints the verdict and the time; exit status 0 whatever "
        "the verdict, 2 for a bad problem file.",
    )
    ver.add_argument("problem", help="problem file (.toml)")
    _add_report_flags(ver)
    run = sub.add_parser("run", help="verify a bundled case study by name (see `nncs list`)")
    run.add_argument("name", help="case-study name, e.g. acc")
    _add_report_flags(run)
    sub.add_parser("list", help="list the bundled case studies")
    vnn = sub.add_parser(
        "verify-nn",
        help="check a VNN-LIB property of a network (holds / violated / unknown / timeout)",
        description="Check a VNN-LIB property of a network: prints holds, violated (with a counterexample that "
        "the forward pass confirms), unknown or timeout.",
    )
    vnn.add_argument("model", help="network file: .onnx, .nnet, .json or .mat")
    vnn.add_argument("property", help="VNN-LIB property file (.vnnlib)")
    vnn.add_argument("--timeout", type=float, default=116.0, help="seconds (default 116)")
    vnn.add_argument("--json", dest="json_path", default=None, help="write the JSON report to this path")
    return parser


def _add_report_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", dest="json_path", default=None, help="write the JSON report to this path")
    p.add_argument("--plot", dest="plot_path", default=None, help="write a plot of the specs over time (PNG)")
    p.add_argument("--quiet", action="store_true", help="print only the verdict")


def _verify_problem(problem_path, args, default_plot: str | None = None) -> int:
    from nncs.problem import load_problem
    from nncs.verify import verify

    try:
        problem = load_problem(problem_path)
    except ValueError as e:
        print(f"nncs: error: {e}", file=sys.stderr)
        return 2
    verdict = verify(problem)
    print(verdict.status)
    if not args.quiet:
        print(f"{problem.name}: {verdict.message}; time {verdict.time_s:.2f} s")
        if verdict.counterexample is not None:
            print(f"counterexample x0 = {verdict.counterexample.x0.tolist()}")
    if args.json_path:
        verdict.write_json(args.json_path)
        if not args.quiet:
            print(f"report written to {args.json_path}")
    plot_path = args.plot_path or default_plot
    if plot_path:
        from nncs.plot import save_verdict_plot

        save_verdict_plot(problem, verdict, plot_path)
        if not args.quiet:
            print(f"plot written to {plot_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the `nncs` command with `argv` (default: sys.argv[1:]) and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "verify":
        return _verify_problem(args.problem, args)
    if args.command in ("run", "list"):
        import case_studies

        if args.command == "list":
            for name in case_studies.names():
                print(f"{name:24s} {case_studies.describe(name)}")
            return 0
        try:
            path = case_studies.path(args.name)
        except ValueError as e:
            print(f"nncs run: error: {e}", file=sys.stderr)
            return 2
        return _verify_problem(path, args, default_plot=f"{args.name}.png")
    if args.command == "verify-nn":
        from nncs.nn.verify import verify_nn_files

        try:
            report = verify_nn_files(args.model, args.property, timeout=args.timeout, json_path=args.json_path)
        except ValueError as e:
            print(f"nncs verify-nn: error: {e}", file=sys.stderr)
            return 2
        print(report.result)
        if report.counterexample is not None:
            print(f"counterexample x = {report.counterexample['x']}")
            print(f"               y = {report.counterexample['y']}")
        print(f"time {report.time_s:.3f} s")
        if args.json_path:
            print(f"report written to {args.json_path}")
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
