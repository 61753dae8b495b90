"""Tests of nncs/loop/reach.py: reference closed-loop trajectories stay inside the computed flowpipes."""

import numpy as np
import pytest

import nncs
from nncs import plants
from nncs.loop import ClosedLoop, Options, reach
from nncs.nn.network import network_from_pairs
from tests.loop.soundness import assert_inside, reference_traces


def corners_and_samples(box: nncs.Box, n: int, rng) -> np.ndarray:
    corners = box.vertices() if box.dim <= 4 else box.vertices()[rng.choice(2**box.dim, 8, replace=False)]
    return np.vstack([corners, box.sample(n, rng)])


def random_net(rng, sizes, activation):
    pairs = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        act = activation if i < len(sizes) - 2 else "linear"
        pairs.append((rng.normal(size=(b, a)) / np.sqrt(a), rng.normal(size=b) * 0.1, act))
    return network_from_pairs(pairs)


@pytest.fixture(scope="module")
def acc_system(shared_benchmarks):
    net = nncs.load_network(shared_benchmarks / "closed_loop/networks/acc_controller_5_20.json")
    return ClosedLoop(plants.get("acc"), net, 0.1, ["30", "1.4", "v_ego", "x_lead - x_ego", "v_lead - v_ego"])


ACC_X0 = nncs.Box([90, 32, 0, 10, 30, 0], [110, 32.2, 0, 11, 30.2, 0])


@pytest.mark.parametrize("set_type, steps", [("zonotope", 12), ("star", 4)])
def test_acc_trajectories_inside(acc_system, set_type, steps):
    rng = np.random.default_rng(0)
    result = reach(acc_system, ACC_X0, steps, Options(set_type=set_type))
    assert result.complete and len(result.periods) == steps
    kind = nncs.Zonotope if set_type == "zonotope" else nncs.Star
    assert all(isinstance(s, kind) for _, _, s in result.segments())
    x0 = corners_and_samples(ACC_X0, 6, rng)[::5]
    times, states = reference_traces(result, x0)
    assert assert_inside(result, times, states, rng, exact_every=20) > 0
    # control sets contain the controls actually applied at the sampling instants
    for p in result.periods[:3]:
        k = p.index
        u = acc_system.control(states[:, k * 20, :])
        assert p.controls[0].support_function(np.eye(1))[0] >= u.max() - 1e-9
        assert -p.controls[0].support_function(-np.eye(1))[0] <= u.min() + 1e-9


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize(
    "plant_name, box, period, set_type",
    [
        ("double_integrator", nncs.Box([0.5, -0.1], [0.6, 0.0]), 0.2, "star"),
        ("double_integrator", nncs.Box([0.5, -0.1], [0.6, 0.0]), 0.2, "zonotope"),
        ("van_der_pol", nncs.Box([1.0, 0.0], [1.05, 0.05]), 0.1, "zonotope"),
        ("van_der_pol", nncs.Box([1.0, 0.0], [1.05, 0.05]), 0.1, "star"),
        ("double_integrator_discrete", nncs.Box([0.5, -0.1], [0.6, 0.0]), 1.0, "star"),
    ],
)
def test_random_controllers_on_library_plants(plant_name, box, period, set_type, activation):
    rng = np.random.default_rng(abs(hash((plant_name, set_type, activation))) % 2**32)
    plant = plants.get(plant_name)
    net = random_net(rng, [plant.n_states, 8, 8, plant.n_inputs], activation)
    system = ClosedLoop(plant, net, period, controller_outputs=["0.5*y0"])
    result = reach(system, box, 5, Options(set_type=set_type))
    x0 = corners_and_samples(box, 8, rng)
    times, states = reference_traces(result, x0, samples=11 if plant.is_continuous else 2)
    assert assert_inside(result, times, states, rng, exact_every=5) > 0


def test_exact_star_branches_cover_trajectories():
    rng = np.random.default_rng(5)
    plant = plants.get("double_integrator")
    net = random_net(rng, [2, 6, 1], "relu")
    system = ClosedLoop(plant, net, 0.2)
    box = nncs.Box([-0.5, -0.5], [0.5, 0.5])
    result = reach(system, box, 3, Options(nn_method="exact-star"))
    assert max(len(p.flowpipes) for p in result.periods) >= 1
    x0 = corners_and_samples(box, 6, rng)
    times, states = reference_traces(result, x0, samples=4)
    # with a union, a state must lie in at least one branch's segment: check by exact membership
    segments = list(result.segments())
    for k, t in enumerate(times):
        covering = [s for t0, t1, s in segments if t0 - 1e-12 <= t <= t1 + 1e-12]
        inside = np.zeros(len(x0), dtype=bool)
        for s in covering:
            inside |= s.contains(states[:, k, :], tol=1e-7)
        assert inside.all(), f"a trajectory leaves the union at t = {t}"


def test_unicycle_with_disturbance(shared_benchmarks):
    rng = np.random.default_rng(2)
    net = nncs.load_network(shared_benchmarks / "closed_loop/networks/unicycle_controllerB.json")
    plant = plants.get("unicycle")
    system = ClosedLoop(plant, net, 0.2)
    box = nncs.Box([9.5, -4.5, 2.1, 1.5], [9.55, -4.45, 2.11, 1.51])
    result = reach(system, box, 6)
    x0 = corners_and_samples(box, 4, rng)[::3]
    w = rng.uniform(-1e-4, 1e-4, (len(x0), 1))
    times, states = reference_traces(result, x0, w=w, samples=11)
    assert assert_inside(result, times, states, rng) > 0


def test_on_segment_stops_early():
    rng = np.random.default_rng(1)
    plant = plants.get("double_integrator")
    system = ClosedLoop(plant, random_net(rng, [2, 4, 1], "relu"), 0.2)
    calls = []

    def stop_after_first_period(t0, t1, s):
        calls.append((t0, t1))
        return t1 < 0.2 - 1e-12

    result = reach(system, nncs.Box([0, 0], [0.1, 0.1]), 5, on_segment=stop_after_first_period)
    assert not result.complete
    assert len(result.periods) == 1


def test_bad_arguments():
    rng = np.random.default_rng(0)
    plant = plants.get("double_integrator")
    system = ClosedLoop(plant, random_net(rng, [2, 4, 1], "relu"), 0.2)
    with pytest.raises(ValueError, match="dimension"):
        reach(system, nncs.Box([0], [1]), 3)
    with pytest.raises(ValueError, match="steps"):
        reach(system, nncs.Box([0, 0], [1, 1]), 0)
    with pytest.raises(ValueError, match="set_type"):
        Options(set_type="polytope")
    with pytest.raises(ValueError, match="approx-zono"):
        Options(set_type="star", nn_method="approx-zono")


CASES = [
    ("acc", 10),
    ("acc_arch", 10),
    ("acc_linear", 10),
    ("acc_arch_tanh", 6),
    ("tora", 5),
    ("tora_relu_tanh", 10),
    ("tora_sigmoid", 10),
    ("pendulum", 20),
    ("unicycle", 8),
    ("acc_cav2020_v27", 8),
    ("double_pendulum_more_robust", 10, 0.25),  # the whole initial set is too wide for one nonlinear flowpipe
    ("double_pendulum_less_robust", 20, 1 / 3),  # the whole horizon of one part, with its cubic remainder
    ("quad_small", 6),
    ("quad", 10),  # the full ARCH X0 in one piece, with its fit controller bound
    ("nav_point", 4),
    ("nav_set", 4),
    ("docking", 2),
    ("docking_reduced", 10, 1 / 4),  # a part of its grid, with its fit controller bound on zonotopes
    ("cartpole_small", 10),
]


@pytest.mark.parametrize("name, steps, part", [c if len(c) == 3 else (*c, 1.0) for c in CASES])
def test_case_study_trajectories_inside(shared_benchmarks, name, steps, part):
    """Reference closed-loop trajectories from corners and samples of each case study's initial set (or of its
    lower corner part, `part` of its widths) stay in the flowpipes of the first `steps` periods (the soundness
    half of every verdict)."""
    from nncs import case_studies

    problem = nncs.load_problem(case_studies.path(name))
    rng = np.random.default_rng(len(name))
    initial = nncs.Box(
        problem.initial.lb, problem.initial.lb + part * (problem.initial.ub - problem.initial.lb)
    )
    result = reach(problem.system, initial, min(steps, problem.steps), problem.options)
    x0 = corners_and_samples(initial, 4, rng)
    x0 = x0[rng.choice(len(x0), min(len(x0), 10), replace=False)]
    plant = problem.system.plant
    w = (
        rng.uniform(*plant.disturbance_bounds, (len(x0), plant.n_disturbances))
        if plant.n_disturbances
        else None
    )
    times, states = reference_traces(result, x0, w=w, samples=6)
    assert assert_inside(result, times, states, rng) > 0


@pytest.fixture(scope="module")
def acc_10_20_system(shared_benchmarks):
    net = nncs.load_network(shared_benchmarks / "closed_loop/networks/acc_controller_10_20.json")
    return ClosedLoop(plants.get("acc"), net, 0.1, ["30", "1.4", "v_ego", "x_lead - x_ego", "v_lead - v_ego"])


@pytest.mark.parametrize("set_type, steps", [("zonotope", 6), ("star", 3)])
def test_fit_acc_10_20_trajectories_inside(acc_10_20_system, set_type, steps):
    """nn_method "fit" (affine control + residual): reference trajectories of ACC with the 10x20 controller stay
    in the flowpipes, and the control sets contain the controls applied."""
    rng = np.random.default_rng(1)
    result = reach(acc_10_20_system, ACC_X0, steps, Options(set_type=set_type, nn_method="fit"))
    assert result.complete and len(result.periods) == steps
    x0 = corners_and_samples(ACC_X0, 6, rng)[::5]
    times, states = reference_traces(result, x0)
    assert assert_inside(result, times, states, rng, exact_every=20) > 0
    for p in result.periods:
        u = acc_10_20_system.control(states[:, p.index * 20, :])
        assert p.controls[0].support_function(np.eye(1))[0] >= u.max() - 1e-9
        assert -p.controls[0].support_function(-np.eye(1))[0] <= u.min() + 1e-9
    # the point of the method: the first control set is far tighter than DeepZ's (about [-6.2, 4.4])
    lo, hi = result.periods[0].controls[0].bounds()
    assert hi[0] - lo[0] < 1.0


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize(
    "plant_name, box, period, set_type",
    [
        ("double_integrator", nncs.Box([0.5, -0.1], [0.6, 0.0]), 0.2, "star"),
        ("van_der_pol", nncs.Box([1.0, 0.0], [1.05, 0.05]), 0.1, "zonotope"),
    ],
)
def test_fit_random_controllers_on_library_plants(plant_name, box, period, set_type, activation):
    rng = np.random.default_rng(abs(hash((plant_name, set_type, activation, "fit"))) % 2**32)
    plant = plants.get(plant_name)
    net = random_net(rng, [plant.n_states, 8, 8, plant.n_inputs], activation)
    system = ClosedLoop(plant, net, period, controller_outputs=["0.5*y0"])
    result = reach(system, box, 4, Options(set_type=set_type, nn_method="fit", fit_max_boxes=64))
    x0 = corners_and_samples(box, 8, rng)
    times, states = reference_traces(result, x0, samples=11)
    assert assert_inside(result, times, states, rng, exact_every=5) > 0


def test_fit_options_are_checked():
    Options(set_type="zonotope", nn_method="fit")
    Options(set_type="star", nn_method="fit")
    with pytest.raises(ValueError, match="fit_tol"):
        Options(fit_tol=0.0)
    with pytest.raises(ValueError, match="fit_max_boxes"):
        Options(fit_max_boxes=0)
    with pytest.raises(ValueError, match="nn_method"):
        Options(nn_method="fitted")


def test_max_sets_stops_exact_star_before_any_flowpipe(monkeypatch):
    # a wide ReLU controller on the double integrator: exact-star splits into many stars in the first period
    import sys

    reach_module = sys.modules["nncs.loop.reach"]  # the module (nncs.loop.reach is also the function's name)
    rng = np.random.default_rng(0)
    system = ClosedLoop(plants.get("double_integrator"), random_net(rng, [2, 16, 16, 1], "relu"), 0.1)
    built = []
    monkeypatch.setattr(reach_module, "flowpipe", lambda *a, **k: built.append(1))
    with pytest.raises(RuntimeError):
        reach(system, nncs.Box([-1.0, -1.0], [1.0, 1.0]), 3, Options(nn_method="exact-star", max_sets=2))
    assert not built
