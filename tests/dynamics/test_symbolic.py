"""Tests of nncs/dynamics/symbolic.py: parsing and validation, JAX f/Jacobians/Hessians, intervals, affine parts."""

import jax
import numpy as np
import pytest
import sympy as sp

import nncs  # noqa: F401  (float64 JAX)
from nncs import plants
from nncs.dynamics import interval as I
from nncs.dynamics.symbolic import SymbolicPlant


def _acc_f(z, mu=1e-4, a_lead=-2.0):
    xl, vl, gl, xe, ve, ge, a = z
    return np.array([vl, gl, -2 * gl + 2 * a_lead - mu * vl**2, ve, ge, -2 * ge + 2 * a - mu * ve**2])


def test_f_and_derivatives_match_hand_written_acc():
    p = plants.get("acc")
    rng = np.random.default_rng(0)
    for _ in range(5):
        z = rng.uniform(-5, 40, size=7)
        np.testing.assert_allclose(np.asarray(p.f(z[:6], z[6:], np.zeros(0))), _acc_f(z), rtol=1e-14)
        J = np.asarray(p.jacobian_joint(z))
        Jh = np.zeros((6, 7))
        Jh[0, 1] = Jh[1, 2] = Jh[3, 4] = Jh[4, 5] = 1.0
        Jh[2, 1], Jh[2, 2] = -2e-4 * z[1], -2.0
        Jh[5, 4], Jh[5, 5], Jh[5, 6] = -2e-4 * z[4], -2.0, 2.0
        np.testing.assert_allclose(J, Jh, atol=1e-15)
        np.testing.assert_allclose(np.asarray(p.jac_x(z[:6], z[6:], np.zeros(0))), Jh[:, :6], atol=1e-15)
        np.testing.assert_allclose(np.asarray(p.jac_u(z[:6], z[6:], np.zeros(0))), Jh[:, 6:], atol=1e-15)
        H = np.asarray(p.hessian(z))
        Hh = np.zeros((6, 7, 7))
        Hh[2, 1, 1] = Hh[5, 4, 4] = -2e-4
        np.testing.assert_allclose(H, Hh, atol=1e-18)


def test_disturbance_jacobian_and_vmap():
    p = plants.get("unicycle")
    x = np.array([1.0, 2.0, 0.3, 1.5])
    u = np.array([20.5, 19.0])
    w = np.array([1e-4])
    np.testing.assert_allclose(np.asarray(p.jac_w(x, u, w)), [[0.0], [0.0], [0.0], [1.0]])
    X = np.random.default_rng(1).normal(size=(7, 4))
    batch = np.asarray(jax.vmap(p.f, in_axes=(0, None, None))(X, u, w))
    rows = np.stack([p.f_numpy(xi, u, w) for xi in X])
    np.testing.assert_allclose(batch, rows, rtol=1e-14)
    np.testing.assert_allclose(
        np.asarray(p.f_batch(X, np.tile(u, (7, 1)), np.tile(w, (7, 1)))), rows, rtol=1e-14
    )


def test_compiled_once():
    p = plants.get("tora")
    assert p.f is p.f and p.hessian is p.hessian
    for s in range(3):
        p.f(np.full(4, float(s)), np.ones(1), np.zeros(0))
    assert p.f._cache_size() == 1


@pytest.mark.parametrize("name", plants.names())
def test_interval_evaluation_encloses_points(name):
    p = plants.get(name)
    lo, hi = plants.example_joint_box(name)
    box = I.Interval(lo, hi)
    F = p.f_interval(box)
    H = p.hessian_interval(box)
    rng = np.random.default_rng(2)
    pts = np.vstack([lo, hi, rng.uniform(lo, hi, size=(50, len(lo)))])
    for z in pts:
        fz = np.asarray(p.f_joint(z))
        assert np.all(F.lo <= fz) and np.all(fz <= F.hi)
        hz = np.asarray(p.hessian(z))
        assert np.all(H.lo <= hz + 1e-15) and np.all(hz - 1e-15 <= H.hi)


@pytest.mark.parametrize("name", plants.names())
def test_third_derivative_enclosures_contain_the_automatic_derivatives_at_sampled_points(name):
    # JAX's forward-mode third derivatives (an independent computation) lie in the symbolic interval enclosure
    from nncs._jax import jax

    p = plants.get(name)
    lo, hi = plants.example_joint_box(name)
    H, T = p.hessian_third_interval(I.Interval(lo, hi))
    np.testing.assert_array_equal(T.lo, p.third_interval(I.Interval(lo, hi)).lo)
    third = jax.jit(jax.jacfwd(jax.jacfwd(jax.jacfwd(p._jax_flat))))
    rng = np.random.default_rng(4)
    for z in np.vstack([lo, hi, rng.uniform(lo, hi, size=(20, len(lo)))]):
        tz, hz = np.asarray(third(z)), np.asarray(p.hessian(z))
        slack = 1e-12 * (1.0 + np.abs(tz))
        assert np.all(T.lo <= tz + slack) and np.all(tz - slack <= T.hi), name
        assert np.all(H.lo <= hz + 1e-15) and np.all(hz - 1e-15 <= H.hi), (
            name
        )  # the Hessians evaluated with T
    assert p.third_derivatives_are_zero == (not np.any(T.lo) and not np.any(T.hi))


def test_affine_detection_and_linear_parts():
    p = plants.get("acc_linear")
    assert p.is_affine and p.hessian_is_zero
    A, B, c, E = p.linear_parts()
    Ah = np.zeros((6, 6))
    Ah[0, 1] = Ah[1, 2] = Ah[3, 4] = Ah[4, 5] = 1.0
    Ah[2, 2] = Ah[5, 5] = -2.0
    np.testing.assert_array_equal(A, Ah)
    np.testing.assert_array_equal(B, [[0], [0], [0], [0], [0], [2.0]])
    np.testing.assert_array_equal(c, [0, 0, -4.0, 0, 0, 0])
    assert E.shape == (6, 0)
    assert not plants.get("acc").is_affine
    with pytest.raises(ValueError, match="not affine"):
        plants.get("acc").linear_parts()
    # mu = 0 through with_parameters makes the nonlinear ACC affine
    assert plants.get("acc").with_parameters(mu=0.0).is_affine
    d = SymbolicPlant(["x"], ["u"], ["3*x - u + w + 1"], disturbances={"w": (-1, 1)})
    A, B, c, E = d.linear_parts()
    assert (A[0, 0], B[0, 0], c[0], E[0, 0]) == (3.0, -1.0, 1.0, 1.0)


def test_sympy_symbols_and_caret_power():
    x, v = sp.symbols("x v", real=True)
    p = SymbolicPlant([x, v], ["u"], [v, "x^2 + u"])
    np.testing.assert_allclose(p.f_numpy([3.0, 1.0], [0.5]), [1.0, 9.5])
    assert not p.is_affine


def test_rational_constants_are_enclosed():
    p = SymbolicPlant(["x"], [], ["x/3"])
    out = p.f_interval(I.Interval(np.array([1.0]), np.array([1.0])))
    assert out.lo[0] < 1 / 3 < out.hi[0]  # 1/3 is not a double: the enclosure must straddle its rounding


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dynamics=["x + y"]), r"dynamics of 'x'.*unknown names \['y'\]"),
        (dict(dynamics=["floor(x)"]), "unsupported function 'floor'"),
        (dict(dynamics=["x", "x"]), "2 expressions for 1 states"),
        (dict(time="hybrid"), "time must be one of"),
        (dict(parameters={"k": float("nan")}), "parameter 'k'.*not finite"),
        (dict(parameters={"k": float("inf")}), "parameter 'k'.*not finite"),
        (dict(parameters={"k": "abc"}), "parameter 'k'.*not a number"),
        (dict(states=["x", "x"], dynamics=["k", "k"]), "'x' is declared more than once"),
        (dict(inputs=["k"]), "'k' is declared more than once"),
        (dict(states=["lambda"], dynamics=["k"]), "'lambda' is not a valid name"),
        (dict(dynamics=["x +* 2"]), "cannot parse"),
        (dict(disturbances={"w": (1.0, -1.0)}), "disturbance 'w': lower bound"),
        (dict(disturbances={"w": (0.0, float("inf"))}), "disturbance 'w'.*not finite"),
        (dict(states=[]), "at least one state"),
        (dict(dynamics=["E*x"]), r"dynamics of 'x'.*unknown names \['E'\]"),
    ],
)
def test_bad_definitions_raise_value_error_naming_the_problem(kwargs, message):
    args = dict(states=["x"], inputs=[], dynamics=["k*x"], parameters={"k": 1.0})
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        SymbolicPlant(**args)


def test_with_parameters_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown parameter"):
        plants.get("tora").with_parameters(zeta=1.0)


def test_pickle_round_trip_after_compilation():
    import pickle

    p = plants.get("unicycle")
    x, u, w = np.array([1.0, 2.0, 0.3, 1.5]), np.array([20.5, 19.0]), np.array([1e-4])
    before = np.asarray(p.f(x, u, w))
    q = pickle.loads(pickle.dumps(p))
    np.testing.assert_array_equal(np.asarray(q.f(x, u, w)), before)
    assert q.disturbance_names == ("w",) and q.parameters == p.parameters and q.name == p.name


def test_modules_are_not_shadowed_by_functions():
    import importlib

    import nncs.dynamics as D

    assert D.flowpipe is importlib.import_module("nncs.dynamics.flowpipe")
    assert D.simulate is importlib.import_module("nncs.dynamics.simulate")


def test_float_integer_exponent_is_an_integer_power_over_negative_boxes():
    p = SymbolicPlant(["x"], [], ["x**2.0 - x**3.0"])
    out = p.f_interval(I.Interval(np.array([-2.0]), np.array([-1.0])))
    # x^2 - x^3 over [-2, -1] is [2, 12]; interval arithmetic may widen but must enclose, and stay finite
    assert out.lo[0] <= 2.0 and out.hi[0] >= 12.0 and np.isfinite(out.lo[0]) and np.isfinite(out.hi[0])


def test_nominal_disturbance_is_the_midpoint_of_the_bounds():
    import numpy as np

    from nncs.dynamics.symbolic import SymbolicPlant

    bounded = SymbolicPlant(["x"], [], ["w - x"], disturbances={"w": (1.0, 3.0)})
    assert np.array_equal(bounded.nominal_disturbance, [2.0])
    named = SymbolicPlant(["x"], [], ["w - x"], disturbances=["w"])
    assert np.array_equal(named.nominal_disturbance, [0.0])
    assert SymbolicPlant(["x"], [], ["-x"]).nominal_disturbance is None


@pytest.mark.parametrize("name", plants.names())
def test_the_compiled_tape_gives_exactly_the_walkers_intervals(name):
    # IntervalProgram evaluates a flattened tape; `_eval` (the recursive walker that Taylor models share) is the
    # reference: the same operations in the same order give bit-identical bounds
    from nncs.dynamics.symbolic import _eval

    p = plants.get(name)
    programs = [p._f_program, p._hessian_entries[1], p._third_entries[1]]
    lo, hi = plants.example_joint_box(name)
    rng = np.random.default_rng(7)
    a, b = rng.uniform(lo, hi, size=(2, 3, len(lo)))
    box = I.Interval(np.minimum(a, b).T, np.maximum(a, b).T)  # three boxes along the last axis
    for program in (q for q in programs if q is not None):
        env = {v: box[i] for i, v in enumerate(program.variables)}
        for symbol, expr in program._replacements:
            env[symbol] = _eval(expr, env, program._funcs)
        walked = [_eval(e, env, program._funcs) for e in program._reduced]
        taped = program(box)
        for k, w in enumerate(walked):
            np.testing.assert_array_equal(taped.lo[k], np.broadcast_to(w.lo, (3,)))
            np.testing.assert_array_equal(taped.hi[k], np.broadcast_to(w.hi, (3,)))
