"""Generate the README figure (docs/acc_reach.png): exactly what `nncs run acc --plot docs/acc_reach.png` writes.

Run from the repository root: `python docs/make_figures.py` (a few seconds); it rewrites the PNG through the
command line's own code path (`nncs.cli.main`), so the README shows what a user of `nncs run acc` gets.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nncs.cli import main  # noqa: E402

COMMAND = ["run", "acc", "--quiet"]
"""The README figure's command, without its --plot target (added by `acc_figure`)."""


def acc_figure(out: Path) -> int:
    """Run `nncs run acc --quiet --plot OUT` (the README's figure) and return its exit status.

    Args:
        out: the PNG to write.
    Returns:
        The command's exit status (0 when it answered).
    """
    return main([*COMMAND, "--plot", str(out)])


if __name__ == "__main__":
    target = ROOT / "docs" / "acc_reach.png"
    status = acc_figure(target)
    print(f"{target.relative_to(ROOT)}: exit status {status}, {target.stat().st_size // 1024} KiB")
    sys.exit(status)
