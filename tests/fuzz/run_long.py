"""Long fuzzing run: repeat the loader fuzz tests with fresh random seeds for a number of minutes, then summarise.

Usage: python -m tests.fuzz.run_long [MINUTES] [EXAMPLES_PER_LOADER_PER_ROUND]   (defaults 10 and 200)
Every defect (known or not) is logged to fuzz_long.jsonl with its input (base64); the summary prints the
cases run, the minutes, and each distinct defect signature with its count, whether it is in KNOWN_DEFECTS,
and a reproducer file written to fuzz_long_repro/.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run the rounds and print the summary; return 0."""
    minutes = float(argv[0]) if argv else 10.0
    per_round = int(argv[1]) if len(argv) > 1 else 200
    log = Path("fuzz_long.jsonl").resolve()
    log.unlink(missing_ok=True)
    repro = Path("fuzz_long_repro")
    repro.mkdir(exist_ok=True)
    t0, rounds, cases = time.time(), 0, 0
    n_tests = 15  # the hypothesis loader tests in test_fuzz_loaders.py (deep-nesting / bomb ones included)
    while time.time() - t0 < minutes * 60:
        env = dict(
            os.environ,
            NNCS_FUZZ_EXAMPLES=str(per_round),
            NNCS_FUZZ_SEED=str(random.randrange(2**31)),
            NNCS_FUZZ_TOLERATE_ALL="1",
            NNCS_FUZZ_LOG=str(log),
        )
        left = max(300, int(minutes * 60 - (time.time() - t0)) + 300)
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "tests/fuzz/test_fuzz_loaders.py",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-k",
                    "fuzz_",
                ],
                env=env,
                timeout=left,
                capture_output=True,
            )
        except subprocess.TimeoutExpired:
            print("last round cut at the time limit (its defects are in the log)")
            break
        rounds += 1
        cases += per_round * n_tests
    elapsed = (time.time() - t0) / 60
    sigs: collections.Counter = collections.Counter()
    first: dict = {}
    if log.is_file():
        for line in log.read_text().splitlines():
            e = json.loads(line)
            sigs[e["signature"]] += 1
            first.setdefault(e["signature"], e)
    print(
        f"{rounds} rounds, about {cases} cases (max; hypothesis may stop a test early), {elapsed:.1f} minutes"
    )
    for k, (sig, n) in enumerate(sigs.most_common()):
        e = first[sig]
        suffix = e["suffix"].split()[0] if e["suffix"] else ".bin"
        (repro / f"defect{k}{suffix}").write_bytes(base64.b64decode(e["input_b64"]))
        print(
            f"{n:5d} {'known' if e['known'] else 'NEW  '} {sig}  -> {repro}/defect{k}{suffix}  {e['message'][:100]!r}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
