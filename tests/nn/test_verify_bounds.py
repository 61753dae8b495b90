"""verify-nn runs bounded (issue 10): VerifyOptions validated, the time limit honoured inside the attack and
the branch loop."""

import dataclasses
import time

import pytest

from nncs.nn.network import ReLU
from nncs.nn.verify import VerifyOptions, verify_property
from nncs.vnnlib import parse_vnnlib
from tests.nn.random_nets import random_net
from tests.nn.test_verify import _prop_text

GENEROUS = 60.0  # seconds: a run past this means a time check is missing


@pytest.mark.parametrize(
    "value", [-1, -1.0, 0, 0.0, float("nan"), float("inf"), float("-inf"), "5", None, True]
)
def test_bad_timeout_is_an_error(value):
    with pytest.raises(ValueError, match="timeout"):
        VerifyOptions(timeout=value)


@pytest.mark.parametrize(
    "field, value",
    [
        ("attack_samples", -1),
        ("attack_samples", 10**6 + 1),
        ("attack_restarts", 0),
        ("attack_steps", -1),
        ("batch", 0),
        ("batch", 2.5),
        ("seed", -3),
        ("box_samples", -1),
        ("alpha_steps", -1),
        ("alpha_after", -1),
        ("box_attack", -1),
        ("box_attack_steps", -1),
        ("min_width", float("nan")),
        ("min_width", -0.1),
        ("min_width", 1.0),
        ("backsub_every", 1),
        ("reuse_bounds", "yes"),
    ],
)
def test_bad_numeric_options_are_errors(field, value):
    with pytest.raises(ValueError, match=field):
        VerifyOptions(**{field: value})


def test_replace_validates_too():
    with pytest.raises(ValueError, match="timeout"):
        dataclasses.replace(VerifyOptions(), timeout=-1.0)


def _hard_instance():
    # 8 -> 64 -> 64 -> 64 -> 1 ReLU net on [-1, 1]^8; the attack's best output is ~234 (found by raising the
    # threshold until the attack stopped finding one), so "y >= 260" is neither quickly violated nor quickly proven
    net = random_net(3, 8, [64, 64, 64], 1, [ReLU])
    prop = parse_vnnlib(_prop_text(8, 1, [-1.0] * 8, [1.0] * 8, "(assert (>= Y_0 260.0))\n"))
    return net, prop


def test_timeout_is_honoured_in_the_branch_loop():
    net, prop = _hard_instance()
    t = time.perf_counter()
    r = verify_property(net, prop, VerifyOptions(timeout=1.0))
    assert time.perf_counter() - t < GENEROUS
    assert r.result == "timeout"
    assert r.stats["boxes"] > 0  # it got past the attack into the branch loop


def test_timeout_is_honoured_inside_a_huge_attack():
    net, prop = _hard_instance()
    t = time.perf_counter()
    r = verify_property(net, prop, VerifyOptions(timeout=0.5, attack_samples=10**6, attack_steps=10**5))
    assert time.perf_counter() - t < GENEROUS
    assert r.result == "timeout" and r.stats["boxes"] == 0  # stopped inside the attack
