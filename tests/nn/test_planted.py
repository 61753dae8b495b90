"""verify_property on planted counterexamples (tests/nn/planted.py): never `holds` on a planted violation, never
`violated` on a proven-safe twin (counterexamples confirmed by an independent numpy forward pass), most found.

NNCS_PLANTED_PAIRS=N runs more pairs (default 10); NNCS_PLANTED_TIMEOUT the seconds per instance (default 5).
"""

import os

import numpy as np

import nncs  # noqa: F401
from nncs.nn.verify import VerifyOptions, verify_property
from nncs.vnnlib import parse_vnnlib
from tests.nn.planted import THRESHOLD, forward, planted_pair

PAIRS = int(os.environ.get("NNCS_PLANTED_PAIRS", "10"))
TIMEOUT = float(os.environ.get("NNCS_PLANTED_TIMEOUT", "5"))


def test_uniform_sampling_misses_the_planted_violations():
    """The violations are hidden: 100k uniform samples per instance never reach the threshold."""
    rng = np.random.default_rng(0)
    for seed in range(5):
        bad, _ = planted_pair(seed)
        x = rng.uniform(-1, 1, size=(100_000, bad.x_star.size))
        assert forward(bad.weights, x)[:, 0].max() < THRESHOLD


def test_planted_counterexamples():
    counts = {"violated": {}, "holds": {}}
    for seed in range(PAIRS):
        for inst in planted_pair(seed, d=3 + seed % 3):
            res = verify_property(
                inst.net, parse_vnnlib(inst.vnnlib), VerifyOptions(timeout=TIMEOUT, seed=seed)
            )
            counts[inst.expected][res.result] = counts[inst.expected].get(res.result, 0) + 1
            if inst.expected == "violated":
                assert res.result != "holds", f"seed {seed}: 'holds' on a planted violation at {inst.x_star}"
            else:
                assert res.result != "violated", f"seed {seed}: 'violated' on a twin proven safe"
            if res.result == "violated":
                x = np.array(res.counterexample["x"])
                assert np.all(x >= -1) and np.all(x <= 1)
                assert forward(inst.weights, x)[0, 0] >= THRESHOLD
    print(f"planted: {counts}")
    assert counts["violated"].get("violated", 0) >= 0.5 * PAIRS, counts
