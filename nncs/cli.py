"""The `nncs` command line: verification of problem files, networks and bundled case studies, and report plots.

Subcommands: verify, run, list, verify-nn, batch, plot. Every one takes --quiet; exit status 0 on an answer (whatever
the verdict, including "unknown" at a --timeout), 2 for bad input (a missing or malformed file, an unknown case
study, a bad flag value, a size nncs refuses, an output path in a missing folder), 1 when the computation fails.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nncs._version import __version__
from nncs.suggest import similar_files

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

NNET_NOTE = (
    "A .nnet network is loaded with its header normalisation applied (the network maps raw inputs to raw "
    "outputs), so it can disagree with an ONNX export of the same network that works on normalised "
    "inputs; --no-nnet-normalize loads the bare network on normalised inputs and outputs."
)


def positive_seconds(text: str) -> float:
    """argparse type of --timeout: a positive, finite number of seconds (see `nncs.loop.options.parse_seconds`)."""
    from nncs.loop.options import parse_seconds

    try:
        return parse_seconds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `nncs` command."""
    parser = argparse.ArgumentParser(
        prog="nncs",
        description="Reachability analysis and safety verification of neural-network control systems.",
        epilog="Exit status: 0 with an answer (safe, unsafe, unknown, holds, violated, ...), 2 for bad input, "
        "1 when a computation fails.",
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
    ver.set_defaults(handler=_cmd_verify)
    run = sub.add_parser(
        "run",
        help="verify a bundled case study by name (see `nncs list`)",
        description="Verify a bundled case study; writes NAME.png (the specs over time) unless "
        "--plot names another file or --no-plot is given.",
    )
    run.add_argument("name", help="case-study name, e.g. acc")
    _add_report_flags(run)
    run.add_argument("--no-plot", action="store_true", help="do not write the default NAME.png")
    run.set_defaults(handler=_cmd_run)
    lst = sub.add_parser("list", help="list the bundled case studies")
    lst.add_argument("--quiet", action="store_true", help="print only the names")
    lst.set_defaults(handler=_cmd_list)
    vnn = sub.add_parser(
        "verify-nn",
        help="check a VNN-LIB property of a network (holds / violated / unknown / timeout)",
        description="Check a VNN-LIB property of a network: prints holds, violated (with a counterexample that "
        "the forward pass confirms), unknown or timeout.",
        epilog=NNET_NOTE,
    )
    vnn.add_argument("model", help="network file: .onnx, .nnet, .json or .mat")
    vnn.add_argument("property", help="VNN-LIB property file (.vnnlib)")
    vnn.add_argument("--timeout", type=positive_seconds, default=116.0, help="seconds (default 116)")
    vnn.add_argument(
        "--no-nnet-normalize",
        dest="nnet_normalize",
        action="store_false",
        help="load a .nnet network without its header normalisation (see below)",
    )
    vnn.add_argument("--json", dest="json_path", default=None, help="write the JSON report to this path")
    vnn.add_argument("--quiet", action="store_true", help="print only the result")
    _add_cluster_flags(vnn)
    vnn.set_defaults(handler=_verify_nn)
    bat = sub.add_parser(
        "batch",
        help="run many problems or network properties, one result row each (CSV + JSON lines)",
        description="Run every instance of LIST (a folder of .toml problems, or a CSV of problem.toml[,timeout] "
        "or model,property[,timeout] rows as in VNN-COMP's instances.csv) and append a row (benchmark, "
        "instance, result, time, message) to --out as each finishes; --resume continues a killed run.",
    )
    bat.add_argument("list", help="folder of .toml files, or a CSV of instances")
    bat.add_argument("--out", required=True, help="results CSV (JSON lines go beside it, as .jsonl)")
    bat.add_argument(
        "--timeout", type=positive_seconds, default=None, help="seconds per instance when its row gives none"
    )
    bat.add_argument("--resume", action="store_true", help="skip the instances already in --out")
    bat.add_argument("--quiet", action="store_true", help="print only the counts")
    bat.add_argument(
        "--progress", action="store_true", help="show the progress bar even when not on a terminal"
    )
    _add_cluster_flags(bat)
    bat.set_defaults(handler=_cmd_batch)
    plot = sub.add_parser(
        "plot",
        help="draw a JSON report (from --json) as a PNG",
        description="Draw a JSON report written by `nncs verify --json` or `nncs run --json` as a PNG: its "
        "specs, the per-step state bounds and its counterexample, if any.",
    )
    plot.add_argument("report", help="JSON report file")
    plot.add_argument("--out", default=None, help="PNG to write (default: the report's name with .png)")
    plot.add_argument(
        "--states",
        default=None,
        help="comma-separated state indices or names to draw (default: the non-constant ones)",
    )
    plot.add_argument("--quiet", action="store_true", help="print nothing")
    plot.set_defaults(handler=_plot_report)
    return parser


def worker_count(text: str) -> int:
    """argparse type of --workers: an integer from 1 to MAX_WORKERS."""
    from nncs.loop.options import MAX_WORKERS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of workers, got {text[:40]!r}") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_WORKERS}, got {value}")
    return value


def scheduler_address(text: str) -> str:
    """argparse type of --scheduler: a Dask scheduler address such as tcp://127.0.0.1:8786."""
    if "://" not in text or any(c.isspace() for c in text) or len(text) > 200:
        raise argparse.ArgumentTypeError(f"expected an address like tcp://HOST:PORT, got {text[:60]!r}")
    return text


def _add_cluster_flags(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--workers",
        type=worker_count,
        default=None,
        help="prove on a local Dask cluster of N worker processes (default 1: this process, no Dask; "
        "overrides [options] workers)",
    )
    group.add_argument(
        "--scheduler",
        type=scheduler_address,
        default=None,
        help="prove on an existing Dask cluster (started with `dask scheduler` and `dask worker`)",
    )
    p.add_argument("--dashboard", action="store_true", help="print the Dask dashboard's link")


def _add_report_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", dest="json_path", default=None, help="write the JSON report to this path")
    p.add_argument("--plot", dest="plot_path", default=None, help="write a plot of the specs over time (PNG)")
    p.add_argument("--quiet", action="store_true", help="print only the verdict (no progress bars)")
    p.add_argument("--progress", action="store_true", help="show progress bars even when not on a terminal")
    p.add_argument(
        "--timeout",
        type=positive_seconds,
        default=None,
        help="wall-clock limit in seconds (overrides [options] timeout); at the limit the verdict is "
        "unknown and the report keeps the parts proven so far",
    )
    _add_cluster_flags(p)


def _error(command: str, message: str) -> int:
    print(f"nncs {command}: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _missing_file_hint(
    path: Path, suffixes: tuple[str, ...], usable: Callable[[Path], bool] | None = None
) -> str:
    """'; did you mean ...?' naming files of the wanted kind close to `path` in its folder ('' when none; see
    `nncs.suggest.similar_files`)."""
    close = similar_files(path, suffixes, usable)
    if close is None:
        return f"; folder {str(path.parent if str(path.parent) else Path('.'))!r} does not exist"
    return f"; did you mean {', '.join(str(f) for f in close)}?" if close else ""


def _loads_as_report(path: Path) -> bool:
    """Whether `path` is a JSON report that `nncs plot` can draw."""
    from nncs.plot import load_report

    try:
        load_report(path)
    except (ValueError, OSError):
        return False
    return True


def _check_file(
    command: str,
    value: str,
    what: str,
    suffixes: tuple[str, ...],
    usable: Callable[[Path], bool] | None = None,
) -> str | None:
    """None when `value` is an existing file; else the error message (with suggestions of `usable` files)."""
    path = Path(value)
    if path.is_file():
        return None
    if path.is_dir():
        return f"{value}: is a folder, expected a {what}"
    hint = _missing_file_hint(path, suffixes, usable)
    if command == "verify" and not path.suffix:
        from nncs import case_studies

        same = [n for n in case_studies.names() if n.casefold() == value.casefold()]
        if same:
            hint = f"; {same[0]!r} is a bundled case study: run `nncs run {same[0]}`"
    return f"{value}: no such {what}{hint}"


def _check_output(value: str | None, what: str) -> str | None:
    """None when `value` (an output path, or None) can be written to; else the error message."""
    if value is None:
        return None
    path = Path(value)
    if path.is_dir():
        return f"{what} {value!r} is a folder, expected a file name"
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return f"{what} {value!r}: folder {str(folder)!r} does not exist"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{what} {value!r}: cannot write there (no permission)"
    return None


def _verify_problem(command: str, problem_path, args, default_plot: str | None = None) -> int:
    from dataclasses import replace

    from nncs.problem import load_problem
    from nncs.verify import verify

    plot_path = args.plot_path or default_plot
    for value, what in ((args.json_path, "--json"), (plot_path, "--plot")):
        if (msg := _check_output(value, what)) is not None:
            return _error(command, msg)
    try:
        problem = load_problem(problem_path)
    except ValueError as e:
        return _error(command, str(e))
    progress = False if args.quiet else (True if args.progress else problem.options.progress)
    timeout = args.timeout if args.timeout is not None else problem.options.timeout
    workers = args.workers if args.workers is not None else problem.options.workers
    options = replace(problem.options, progress=progress, timeout=timeout, workers=workers)
    try:
        with _cluster(args, workers) as client:
            verdict = verify(problem, options, client=client)
    except ValueError as e:  # refused input (sizes, spec windows, unsupported methods, no scheduler)
        return _error(command, str(e))
    except RuntimeError as e:
        print(f"nncs {command}: verification failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    print(verdict.status)
    if not args.quiet:
        print(f"{problem.name}: {verdict.message}; time {verdict.time_s:.2f} s")
        if verdict.counterexample is not None:
            print(f"counterexample x0 = {verdict.counterexample.x0.tolist()}")
    if args.json_path:
        try:
            verdict.write_json(args.json_path)
        except OSError as e:
            return _error(command, f"cannot write the report: {e}")
        if not args.quiet:
            print(f"report written to {args.json_path}")
    if plot_path:
        from nncs.plot import save_verdict_plot

        try:
            save_verdict_plot(problem, verdict, plot_path)
        except OSError as e:
            return _error(command, f"cannot write the plot: {e}")
        if not args.quiet:
            print(f"plot written to {plot_path}")
    return EXIT_OK


@contextmanager
def _cluster(args, workers: int) -> Iterator:
    """The Dask client the flags ask for (--scheduler, --workers N > 1), or None for the in-process path."""
    if args.scheduler is None and workers <= 1:
        yield None
        return
    from nncs.distributed import connect

    with connect(workers=workers, scheduler=args.scheduler, dashboard=args.dashboard) as client:
        yield client


def _plot_report(args) -> int:
    from nncs.plot import load_report, save_report_plot

    if (msg := _check_file("plot", args.report, "report file", (".json",), _loads_as_report)) is not None:
        return _error("plot", msg)
    out = args.out or str(Path(args.report).with_suffix(".png"))
    if (msg := _check_output(out, "--out")) is not None:
        return _error("plot", msg)
    try:
        report = load_report(args.report)
    except ValueError as e:
        return _error("plot", str(e))
    states = None
    if args.states:
        states = [s.strip() for s in args.states.split(",")]
        if not all(states):
            return _error("plot", f"{args.report}: --states {args.states[:80]!r}: empty entry")
        states = [int(s) if s.lstrip("-").isdigit() and len(s) < 10 else s for s in states]
    try:
        save_report_plot(report, out, states)
    except ValueError as e:
        return _error("plot", f"{args.report}: {e}")
    except OSError as e:
        return _error("plot", f"cannot write {out}: {e}")
    if not args.quiet:
        print(f"plot written to {out}")
    return EXIT_OK


def _verify_nn(args) -> int:
    from nncs.nn.io import NETWORK_SUFFIXES
    from nncs.nn.verify import verify_nn_files

    for value, what, suffixes in (
        (args.model, "network file", NETWORK_SUFFIXES),
        (args.property, "property file", (".vnnlib",)),
    ):
        if (msg := _check_file("verify-nn", value, what, suffixes)) is not None:
            return _error("verify-nn", msg)
    if (msg := _check_output(args.json_path, "--json")) is not None:
        return _error("verify-nn", msg)
    extra = {} if args.nnet_normalize else {"nnet_normalize": False}
    try:
        with _cluster(args, args.workers or 1) as client:
            if client is not None:
                extra["client"] = client
            report = verify_nn_files(
                args.model, args.property, timeout=args.timeout, json_path=args.json_path, **extra
            )
    except ValueError as e:
        return _error("verify-nn", str(e))
    print(report.result)
    if not args.quiet:
        if report.counterexample is not None:
            print(f"counterexample x = {report.counterexample['x']}")
            print(f"               y = {report.counterexample['y']}")
        print(f"time {report.time_s:.3f} s")
        if args.json_path:
            print(f"report written to {args.json_path}")
    return EXIT_OK


def _cmd_batch(args) -> int:
    from nncs.batch import read_instances, run_batch

    if (msg := _check_output(args.out, "--out")) is not None:
        return _error("batch", msg)
    try:
        instances = read_instances(args.list)
    except ValueError as e:
        return _error("batch", str(e))

    def show(row: dict) -> None:
        if not args.quiet:
            print(f"{row['instance']}: {row['result']} ({row['time']:.2f} s)", flush=True)

    progress = False if args.quiet else (True if args.progress else None)
    try:
        with _cluster(args, args.workers or 1) as client:
            counts = run_batch(
                instances,
                args.out,
                args.timeout,
                client=client,
                resume=args.resume,
                progress=progress,
                on_row=show,
            )
    except ValueError as e:
        return _error("batch", str(e))
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing left to run"
    print(f"{sum(counts.values())} instance(s): {summary}; results in {args.out}")
    return EXIT_OK


def _cmd_verify(args) -> int:
    if (msg := _check_file("verify", args.problem, "problem file", (".toml",))) is not None:
        return _error("verify", msg)
    return _verify_problem("verify", args.problem, args)


def _cmd_list(args) -> int:
    from nncs import case_studies

    for name in case_studies.names():
        print(name if args.quiet else f"{name:24s} {case_studies.describe(name)}")
    return EXIT_OK


def _cmd_run(args) -> int:
    from nncs import case_studies

    try:
        path = case_studies.path(args.name)
    except ValueError as e:
        return _error("run", f"{e} (`nncs list` shows them all)")
    default_plot = None if args.no_plot else f"{args.name}.png"
    return _verify_problem("run", path, args, default_plot=default_plot)


def main(argv: list[str] | None = None) -> int:
    """Run the `nncs` command with `argv` (default: sys.argv[1:]) and return its exit status.

    Each subcommand's parser (in `build_parser`) names its handler with `set_defaults(handler=...)`; a new
    command is one `add_parser` block and one handler function, both in this module.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
