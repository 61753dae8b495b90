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
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the `nncs` command with `argv` (default: sys.argv[1:]) and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
