"""The closed loop: a plant and a neural controller, their joint reachability, and falsification.

`ClosedLoop` joins them; `reach` steps sets through both every control period.
"""

from nncs.loop.options import PRESETS, Options
from nncs.loop.reach import PeriodReach, ReachResult, reach
from nncs.loop.system import ClosedLoop

__all__ = ["ClosedLoop", "reach", "ReachResult", "PeriodReach", "Options", "PRESETS"]
