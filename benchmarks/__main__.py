"""Run one benchmark module with its arguments, or all of them; each prints its medians.

Usage: python -m benchmarks [NAME [ARGS ...]]   e.g. python -m benchmarks closed_loop acc tora
"""

import importlib
import inspect
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> int:
    available = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")
    )
    if argv and argv[0] not in available:
        print(f"unknown benchmark {argv[0]!r}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    runs = [(argv[0], argv[1:])] if argv else [(name, []) for name in available]
    for name, args in runs:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}")
        if inspect.signature(module.main).parameters:
            module.main(args)
        else:
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
