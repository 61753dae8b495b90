"""The closed loop: a plant, a neural controller sampled every period, and the affine maps between them.

`controller_inputs` map states to network inputs and `controller_outputs` map raw outputs y0, y1, ... to
plant inputs; both are affine expressions, applied exactly to sets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nncs.dynamics.symbolic import SymbolicPlant
from nncs.expressions import affine_map
from nncs.memo import Memoizing
from nncs.nn.network import Network


class ClosedLoop(Memoizing):
    """A plant under a feed-forward network controller with zero-order hold.

    Args:
        plant: the SymbolicPlant (continuous or discrete).
        controller: the Network; u(kT) = out(net(in(x(kT)))) is held over [kT, (k+1)T).
        period: the control period T > 0 (for a discrete plant: one step of its map).
        controller_inputs: expressions in the state names, one per network input (default: the states).
        controller_outputs: expressions in y0, y1, ... (the raw outputs), one per plant input
            (default: u_i = y_i, which needs as many outputs as inputs).
    Raises:
        ValueError for dimension mismatches, unknown names, non-affine maps or a bad period.
    """

    def __init__(
        self,
        plant: SymbolicPlant,
        controller: Network,
        period: float,
        controller_inputs: Sequence | None = None,
        controller_outputs: Sequence | None = None,
    ):
        if not isinstance(plant, SymbolicPlant):
            raise ValueError(f"ClosedLoop: plant must be a SymbolicPlant, got {type(plant).__name__}")
        if not isinstance(controller, Network):
            raise ValueError(f"ClosedLoop: controller must be a Network, got {type(controller).__name__}")
        period = float(period)
        if not (np.isfinite(period) and period > 0):
            raise ValueError(f"ClosedLoop: period must be a positive number, got {period}")
        states = list(plant.state_names)
        inputs = controller_inputs if controller_inputs is not None else states
        self.input_W, self.input_b = affine_map(list(inputs), states, "controller.inputs")
        if self.input_W.shape[0] != controller.n_inputs:
            raise ValueError(
                f"controller.inputs: {self.input_W.shape[0]} expressions but the network has {controller.n_inputs} inputs"
            )
        raw = [f"y{i}" for i in range(controller.n_outputs)]
        outputs = controller_outputs if controller_outputs is not None else raw
        self.output_W, self.output_b = affine_map(list(outputs), raw, "controller.outputs")
        if self.output_W.shape[0] != plant.n_inputs:
            raise ValueError(
                f"controller.outputs: {self.output_W.shape[0]} expressions but the plant has {plant.n_inputs} inputs "
                f"{list(plant.input_names)}"
            )
        self.plant = plant
        self.controller = controller
        self.period = period
        self.controller_inputs = tuple(str(e) for e in inputs)
        self.controller_outputs = tuple(str(e) for e in outputs)

    def __repr__(self) -> str:
        return f"ClosedLoop(plant={self.plant.name!r}, controller={self.controller!r}, period={self.period})"

    def control(self, x: np.ndarray) -> np.ndarray:
        """Return the plant inputs for a batch of states (N, n) (or one state (n,)), in numpy float64."""
        x = np.asarray(x, dtype=float)
        single = x.ndim == 1
        xb = x.reshape(1, -1) if single else x
        y = self.controller(xb @ self.input_W.T + self.input_b)
        u = y @ self.output_W.T + self.output_b
        return u[0] if single else u

    def control_jax(self):
        """Return a JAX function of a batch of states (N, n) -> plant inputs (N, p), for gradients."""
        from nncs._jax import jnp

        net = self.controller.jax_fn()
        Wi, bi, Wo, bo = (jnp.asarray(a) for a in (self.input_W, self.input_b, self.output_W, self.output_b))

        def control(x):
            return net(x @ Wi.T + bi) @ Wo.T + bo

        return control
