"""Tests of the plant library (plants/): each model against its published equations, the registry, examples."""

import importlib

import numpy as np
import pytest

import nncs  # noqa: F401
from nncs import plants
from nncs.dynamics.symbolic import SymbolicPlant

# the equations as published (shared/benchmarks/closed_loop/README.md and the sources in each docstring),
# written independently of the sympy models: f(x, u, w) -> x'
HAND = {
    "acc": lambda x, u, w: [
        x[1],
        x[2],
        -2 * x[2] + 2 * -2.0 - 1e-4 * x[1] ** 2,
        x[4],
        x[5],
        -2 * x[5] + 2 * u[0] - 1e-4 * x[4] ** 2,
    ],
    "acc_linear": lambda x, u, w: [x[1], x[2], -2 * x[2] - 4.0, x[4], x[5], -2 * x[5] + 2 * u[0]],
    "tora": lambda x, u, w: [x[1], -x[0] + 0.1 * np.sin(x[2]), x[3], u[0]],
    "pendulum": lambda x, u, w: [x[1], 2 * np.sin(x[0]) + 8 * u[0]],
    "unicycle": lambda x, u, w: [x[3] * np.cos(x[2]), x[3] * np.sin(x[2]), u[1] - 20, u[0] - 20 + w[0]],
    "double_integrator": lambda x, u, w: [x[1], u[0]],
    "double_integrator_discrete": lambda x, u, w: [x[0] + x[1] + 0.5 * u[0], x[1] + u[0]],
    "van_der_pol": lambda x, u, w: [x[1], (1 - x[0] ** 2) * x[1] - x[0] + u[0]],
    "dubins": lambda x, u, w: [np.cos(x[2]), np.sin(x[2]), u[0]],
    "docking": lambda x, u, w: [
        x[2],
        x[3],
        2 * 0.001027 * x[3] + 3 * 0.001027**2 * x[0] + u[0] / 12,
        -2 * 0.001027 * x[2] + u[1] / 12,
    ],
    "double_pendulum": lambda x, u, w: _double_pendulum(x, u),
    "cartpole": lambda x, u, w: [
        x[1],
        2 * u[0],
        x[3],
        (0.08 * 0.41 * (9.8 * np.sin(x[2]) - 2 * u[0] * np.cos(x[2])) - 0.0021 * x[3]) / 0.0105,
    ],
    "nav": lambda x, u, w: [x[2] * np.cos(x[3]), x[2] * np.sin(x[3]), u[0], u[1]],
    "quad": lambda x, u, w: _quad(x, u),
}


def _double_pendulum(x, u):
    """The shared README's double-pendulum equations, term by term."""
    th1, th2, d1, d2 = x
    s, c = np.sin(th1 - th2), np.cos(th1 - th2)
    B = s * d1**2 + 8 * u[1] + 2 * np.sin(th2) - c * (4 * u[0] + 2 * np.sin(th1) - s * d2**2 / 2)
    return [
        d1,
        d2,
        4 * u[0] + 2 * np.sin(th1) - s * d2**2 / 2 + c * B / (2 * (c**2 / 2 - 1)),
        -B / (c**2 / 2 - 1),
    ]


def _quad(x, u):
    """The Beard quadrotor model of the shared README with its constants (rotation matrix written out)."""
    g, m, Jx, Jy, Jz = 9.81, 1.4, 0.054, 0.054, 0.104
    phi, th, psi = x[6:9]
    p, q, r = x[9:12]
    cph, sph, cth, sth, cps, sps = np.cos(phi), np.sin(phi), np.cos(th), np.sin(th), np.cos(psi), np.sin(psi)
    R = np.array(
        [
            [cth * cps, sph * sth * cps - cph * sps, cph * sth * cps + sph * sps],
            [cth * sps, sph * sth * sps + cph * cps, cph * sth * sps - sph * cps],
            [sth, -sph * cth, -cph * cth],
        ]
    )
    vel = np.array(x[3:6])
    acc = [
        r * x[4] - q * x[5] - g * sth,
        p * x[5] - r * x[3] + g * cth * sph,
        q * x[3] - p * x[4] + g * cth * cph - g - u[0] / m,
    ]
    angles = [
        p + sph * np.tan(th) * q + cph * np.tan(th) * r,
        cph * q - sph * r,
        sph / cth * q + cph / cth * r,
    ]
    rates = [(Jy - Jz) / Jx * q * r + u[1] / Jx, (Jz - Jx) / Jy * p * r + u[2] / Jy, (Jx - Jy) / Jz * p * q]
    return [*(R @ vel), *acc, *angles, *rates]


def test_registry_lists_every_required_plant():
    assert set(HAND) == set(plants.names())
    with pytest.raises(ValueError, match="unknown plant 'nope'"):
        plants.get("nope")
    with pytest.raises(ValueError, match="bad parameters"):
        plants.get("tora", zeta=1.0)
    with pytest.raises(ValueError, match="unknown plant"):
        plants.example("nope")


@pytest.mark.parametrize("name", sorted(HAND))
def test_model_matches_published_equations(name):
    p = plants.get(name)
    assert isinstance(p, SymbolicPlant)
    rng = np.random.default_rng(0)
    ex = plants.example(name)
    lo = np.array(ex["state_lower"]) - 1.0
    hi = np.array(ex["state_upper"]) + 1.0
    dl, du = p.disturbance_box
    for _ in range(10):
        x = rng.uniform(lo, hi)
        u = rng.uniform(np.array(ex["input_lower"]) - 1, np.array(ex["input_upper"]) + 1)
        w = rng.uniform(dl, du)
        np.testing.assert_allclose(np.asarray(p.f(x, u, w)), HAND[name](x, u, w), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", sorted(HAND))
def test_module_documents_source_and_example(name):
    module = importlib.import_module(plants._REGISTRY[name][0])
    assert module.__doc__ and "source:" in module.__doc__.lower()
    factory = getattr(module, plants._REGISTRY[name][1])
    assert factory.__doc__ and len(factory.__doc__) > 40
    ex = plants.example(name)
    p = plants.get(name)
    assert len(ex["state_lower"]) == len(ex["state_upper"]) == p.n_states
    assert len(ex["input_lower"]) == len(ex["input_upper"]) == p.n_inputs
    assert np.all(np.less_equal(ex["state_lower"], ex["state_upper"])) and ex["period"] > 0


def test_affine_flags():
    affine = {n for n in plants.names() if plants.get(n).is_affine}
    assert affine == {"acc_linear", "double_integrator", "double_integrator_discrete", "docking"}


def test_parameters_change_the_model():
    p = plants.get("pendulum", m=1.0, L=1.0, g=9.81, c=0.5)
    np.testing.assert_allclose(p.f_numpy([0.3, 0.2], [1.0]), [0.2, 9.81 * np.sin(0.3) + (1.0 - 0.5 * 0.2)])
    with pytest.raises(ValueError, match="'m' must be positive"):
        plants.get("pendulum", m=0.0)
    with pytest.raises(ValueError, match="'w_bound'"):
        plants.get("unicycle", w_bound=-1.0)
    q = plants.get("unicycle", w_bound=0.5)
    np.testing.assert_array_equal(q.disturbance_box[1], [0.5])
    d = plants.get("double_integrator_discrete", dt=0.1)
    np.testing.assert_allclose(d.f_numpy([1.0, 2.0], [1.0]), [1.0 + 0.2 + 0.005, 2.1])


def test_acc_benchmark_initial_set_matches_readme(shared_benchmarks):
    text = (shared_benchmarks / "closed_loop" / "README.md").read_text()
    assert "x_lead in [90,110]" in text and "a_lead = -2" in text and "mu = 1e-4" in text
    ex = plants.example("acc")
    assert ex["state_lower"][0] == 90 and ex["state_upper"][0] == 110 and ex["period"] == 0.1


def test_parameter_names_are_what_get_accepts():
    from nncs import plants

    assert plants.parameter_names("acc") == ["a_lead", "mu"]  # plants/acc.py's signature, read by eye
    for name in plants.names():
        params = plants.parameter_names(name)
        assert len(set(params)) == len(params)
        with pytest.raises(ValueError, match="bad parameters"):
            plants.get(name, **{"not_a_parameter_" + "_".join(params): 1.0})
    with pytest.raises(ValueError, match="unknown plant"):
        plants.parameter_names("no_such_plant")
