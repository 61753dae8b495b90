"""Quadrotor (12 states): position, velocity, roll/pitch/yaw and body rates, thrust and two torques.

Source: Beard, "Quadrotor dynamics and control" (2008), the model of the ARCH-COMP AINNCS "QUAD" benchmark
proposal (g = 9.81, m = 1.4, Jx = Jy = 0.054, Jz = 0.104, tau_psi = 0). Not the shipped QUAD/dynamics.m, which
has typos (see the shared benchmark README).
"""

from __future__ import annotations

from nncs.dynamics.symbolic import SymbolicPlant


def quad(
    g: float = 9.81,
    m: float = 1.4,
    Jx: float = 0.054,
    Jy: float = 0.054,
    Jz: float = 0.104,
    tau_psi: float = 0.0,
) -> SymbolicPlant:
    """The Beard quadrotor model (s, c, t: sin, cos, tan; phi = x7, th = x8, psi = x9):
    x1' = c(th)c(psi) x4 + (s(phi)s(th)c(psi) - c(phi)s(psi)) x5 + (c(phi)s(th)c(psi) + s(phi)s(psi)) x6,
    x2' = c(th)s(psi) x4 + (s(phi)s(th)s(psi) + c(phi)c(psi)) x5 + (c(phi)s(th)s(psi) - s(phi)c(psi)) x6,
    x3' = s(th) x4 - s(phi)c(th) x5 - c(phi)c(th) x6,
    x4' = x12 x5 - x11 x6 - g s(th), x5' = x10 x6 - x12 x4 + g c(th)s(phi),
    x6' = x11 x4 - x10 x5 + g c(th)c(phi) - g - u1/m,
    x7' = x10 + s(phi)t(th) x11 + c(phi)t(th) x12, x8' = c(phi) x11 - s(phi) x12,
    x9' = s(phi)/c(th) x11 + c(phi)/c(th) x12,
    x10' = (Jy - Jz)/Jx x11 x12 + u2/Jx, x11' = (Jz - Jx)/Jy x10 x12 + u3/Jy, x12' = (Jx - Jy)/Jz x10 x11 + tau_psi/Jz.

    Args:
        g: gravity; m: mass; Jx, Jy, Jz: moments of inertia; tau_psi: the yaw torque (0 in the benchmark).

    States: x1, x2 (position), x3 (altitude), x4..x6 (velocities), x7..x9 (roll, pitch, yaw), x10..x12 (rates).
    Inputs: u1 (thrust), u2, u3 (torques).
    Source: ARCH-COMP AINNCS QUAD (see shared/benchmarks/closed_loop/README.md).
    """
    for name, v in (("m", m), ("Jx", Jx), ("Jy", Jy), ("Jz", Jz)):
        if not v > 0:
            raise ValueError(f"quad: parameter {name!r} must be positive, got {v}")
    return SymbolicPlant(
        [f"x{k}" for k in range(1, 13)],
        ["u1", "u2", "u3"],
        [
            "cos(x8)*cos(x9)*x4 + (sin(x7)*sin(x8)*cos(x9) - cos(x7)*sin(x9))*x5"
            " + (cos(x7)*sin(x8)*cos(x9) + sin(x7)*sin(x9))*x6",
            "cos(x8)*sin(x9)*x4 + (sin(x7)*sin(x8)*sin(x9) + cos(x7)*cos(x9))*x5"
            " + (cos(x7)*sin(x8)*sin(x9) - sin(x7)*cos(x9))*x6",
            "sin(x8)*x4 - sin(x7)*cos(x8)*x5 - cos(x7)*cos(x8)*x6",
            "x12*x5 - x11*x6 - g*sin(x8)",
            "x10*x6 - x12*x4 + g*cos(x8)*sin(x7)",
            "x11*x4 - x10*x5 + g*cos(x8)*cos(x7) - g - u1/m",
            "x10 + sin(x7)*tan(x8)*x11 + cos(x7)*tan(x8)*x12",
            "cos(x7)*x11 - sin(x7)*x12",
            "sin(x7)/cos(x8)*x11 + cos(x7)/cos(x8)*x12",
            "(Jy - Jz)/Jx*x11*x12 + u2/Jx",
            "(Jz - Jx)/Jy*x10*x12 + u3/Jy",
            "(Jx - Jy)/Jz*x10*x11 + tau_psi/Jz",
        ],
        parameters={"g": g, "m": m, "Jx": Jx, "Jy": Jy, "Jz": Jz, "tau_psi": tau_psi},
        name="quad",
    )


def example() -> dict:
    """A one-period problem: the benchmark's 1 % initial set (JuliaReach's), inputs near hover, T = 0.1 s."""
    return {
        "state_lower": [-0.004] * 6 + [0.0] * 6,
        "state_upper": [0.004] * 6 + [0.0] * 6,
        "input_lower": [13.0, -0.1, -0.1],
        "input_upper": [14.5, 0.1, 0.1],
        "period": 0.1,
    }
