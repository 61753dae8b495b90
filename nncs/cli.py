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


def main(argv: list[str] | None = None) -> int:
    """Run the `nncs` command with `argv` (default: sys.argv[1:]) and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
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
