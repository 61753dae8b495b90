"""Start-up wall times: `import nncs`, `nncs --help` and `nncs list`, each in a fresh interpreter.

Run with `python -m benchmarks startup`. Prints the median of 5 runs of each command (the interpreter's own start
included; `python -X importtime -c "import nncs"` breaks the import down).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "import sys; from nncs.cli import main; sys.exit(main())"  # what the `nncs` console script runs
COMMANDS = {
    "python -c 'import nncs'": [sys.executable, "-c", "import nncs"],
    "nncs --help": [sys.executable, "-c", ENTRY, "--help"],
    "nncs list": [sys.executable, "-c", ENTRY, "list"],
    "python -m nncs --help": [sys.executable, "-m", "nncs", "--help"],
}


def median_wall(cmd: list[str], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    baseline = median_wall([sys.executable, "-c", "pass"])
    print(f"{'python -c pass (interpreter alone)':36s} {baseline:7.3f} s")
    for name, cmd in COMMANDS.items():
        print(f"{name:36s} {median_wall(cmd):7.3f} s")


if __name__ == "__main__":
    main()
