"""Flowpipes run bounded (issue 10): sub-interval counts beyond MAX_SUB_INTERVALS refused, and the check_time
hook called once per sub-step (so a time limit can stop a long period)."""

import pytest

from nncs.dynamics.flowpipe import MAX_SUB_INTERVALS, FlowpipeOptions, flowpipe
from nncs.dynamics.symbolic import SymbolicPlant
from nncs.sets import Box

LINEAR = SymbolicPlant(["x", "v"], ["u"], ["v", "u - 0.1*v"], name="double_integrator")
NONLINEAR = SymbolicPlant(["x", "v"], ["u"], ["v", "u - sin(x)"], name="pendulum")
X0 = Box([0.0, 0.0], [0.1, 0.1])
U = Box([-0.1], [0.1])


class Stop(Exception):
    pass


@pytest.mark.parametrize("plant", [LINEAR, NONLINEAR])
def test_check_time_runs_per_sub_step(plant):
    calls = []
    fp = flowpipe(plant, X0, U, 0.5, FlowpipeOptions(substeps=7, check_time=lambda: calls.append(1)))
    assert len(fp.segments) == 7 and len(calls) >= 7

    def stop():
        raise Stop

    with pytest.raises(Stop):
        flowpipe(plant, X0, U, 0.5, FlowpipeOptions(substeps=7, check_time=stop))


def test_substeps_beyond_the_limit_are_refused():
    with pytest.raises(ValueError, match=str(MAX_SUB_INTERVALS)):
        FlowpipeOptions(substeps=MAX_SUB_INTERVALS + 1)
    with pytest.raises(ValueError, match="sub-intervals"):
        flowpipe(LINEAR, X0, U, 1.0, FlowpipeOptions(time_step=1.0 / (10 * MAX_SUB_INTERVALS)))


def test_a_stiff_linear_plant_needing_too_many_sub_intervals_is_refused():
    stiff = SymbolicPlant(["x"], ["u"], ["-1e9*x + u"], name="stiff")
    with pytest.raises(ValueError, match="too stiff"):
        flowpipe(stiff, Box([0.0], [1.0]), Box([0.0], [0.0]), 1.0)


def test_check_time_is_not_part_of_equality():
    assert FlowpipeOptions(check_time=lambda: None) == FlowpipeOptions()
