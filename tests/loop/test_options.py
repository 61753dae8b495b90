"""Options (nncs/loop/options.py): every numeric field refuses values that are not finite numbers, huge ints too."""

import sys

import numpy as np
import pytest

import nncs
from nncs import plants
from nncs.loop.options import Options
from nncs.loop.system import ClosedLoop
from nncs.nn.network import Linear, Network
from nncs.sets import Box


@pytest.mark.parametrize("field", ["time_step", "zonotope_order", "fit_tol", "timeout"])
@pytest.mark.parametrize("value", [10**400, float("nan"), float("inf"), "1", True])
def test_number_fields_refuse_non_finite_and_huge_values_with_a_short_message(field, value):
    with pytest.raises(ValueError, match=f"options.{field}") as exc:
        Options(**{field: value})
    assert len(str(exc.value)) < 200


@pytest.mark.parametrize("value", [0, -1.0])
def test_timeout_must_be_positive(value):
    with pytest.raises(ValueError, match="timeout"):
        Options(timeout=value)
    assert Options(timeout=2.5).timeout == 2.5 and Options().timeout is None


def test_the_remainder_option_is_checked_and_reaches_the_flowpipe(monkeypatch):
    with pytest.raises(ValueError, match="remainder"):
        Options(remainder="quartic")
    reach_module = sys.modules["nncs.loop.reach"]
    seen = []
    real = reach_module.flowpipe

    def spy(plant, joint, inputs, period, fp_opts):
        seen.append(fp_opts.remainder)
        return real(plant, joint, inputs, period, fp_opts)

    monkeypatch.setattr(reach_module, "flowpipe", spy)
    controller = Network([Linear(np.array([[-1.0, -1.0]]), np.zeros(1))])
    system = ClosedLoop(plants.get("pendulum"), controller, 0.1)
    for remainder in ("box", "quadratic", "cubic"):
        seen.clear()
        nncs.reach(system, Box([1.0, 0.0], [1.05, 0.05]), 1, Options(remainder=remainder))
        assert seen == [remainder]


@pytest.mark.parametrize(
    "grid, match",
    [
        ((), "list of part counts"),
        ("33", "list of part counts"),
        (3, "list of part counts"),
        ((2, 0), r"initial_split\[1\] must be an integer >= 1"),
        ((2, True), r"initial_split\[1\] must be an integer >= 1"),
        ((2, 1.5), r"initial_split\[1\] must be an integer >= 1"),
        ((10, 10), "gives 100 parts, more than options.split_budget = 64"),
    ],
)
def test_initial_split_is_checked(grid, match):
    with pytest.raises(ValueError, match=match):
        Options(initial_split=grid)


def test_initial_split_is_kept_as_a_tuple():
    assert Options(initial_split=[3, 1, 2]).initial_split == (3, 1, 2)
    assert Options(initial_split=(10, 10), split_budget=100).initial_split == (10, 10)
