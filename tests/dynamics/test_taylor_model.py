"""Tests of nncs/dynamics/taylor_model.py: random expressions in up to 3 variables (+, -, *, powers, exp, sin,
cos, sqrt, 1/x) built as Taylor models; at sampled domain points the exact value (mpmath, 40 digits, an
independent evaluation) lies in the model's enclosure there and in the model's bound over the domain."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nncs.dynamics.taylor_model import MAX_MONOMIALS, TaylorModel, monomials

mpmath.mp.dps = 40

UNARY = ("exp", "sin", "cos", "sqrt", "recip")
BINARY = ("add", "sub", "mul")


def expressions(n: int):
    leaves = st.one_of(
        st.tuples(st.just("var"), st.integers(0, n - 1)),
        st.tuples(st.just("const"), st.floats(-2, 2, allow_nan=False)),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(BINARY), inner, inner),
            st.tuples(st.sampled_from(UNARY), inner),
            st.tuples(st.just("pow"), inner, st.integers(0, 3)),
        ),
        max_leaves=6,
    )


def build(expr, xs, n, order):
    """The Taylor model of `expr`; sqrt and 1/x take `a*a + 1` of their argument (positive)."""
    kind = expr[0]
    if kind == "var":
        return xs[expr[1]]
    if kind == "const":
        return TaylorModel.constant(expr[1], n, order)
    if kind in BINARY:
        a, b = build(expr[1], xs, n, order), build(expr[2], xs, n, order)
        return {"add": a + b, "sub": a - b, "mul": a * b}[kind]
    if kind == "pow":
        return build(expr[1], xs, n, order) ** expr[2]
    a = build(expr[1], xs, n, order)
    if kind in ("sqrt", "recip"):
        a = a * a + 1.0
        return a.sqrt() if kind == "sqrt" else a.reciprocal()
    return getattr(a, kind)()


def exact(expr, x):
    """The value of `expr` at the point x (mpmath numbers)."""
    kind = expr[0]
    if kind == "var":
        return x[expr[1]]
    if kind == "const":
        return mpmath.mpf(expr[1])
    if kind in BINARY:
        a, b = exact(expr[1], x), exact(expr[2], x)
        return {"add": a + b, "sub": a - b, "mul": a * b}[kind]
    if kind == "pow":
        return exact(expr[1], x) ** expr[2]
    a = exact(expr[1], x)
    if kind in ("sqrt", "recip"):
        a = a * a + 1
        return mpmath.sqrt(a) if kind == "sqrt" else 1 / a
    return {"exp": mpmath.exp, "sin": mpmath.sin, "cos": mpmath.cos}[kind](a)


def _inside(value, lo, hi) -> bool:
    return mpmath.mpf(float(lo)) <= value <= mpmath.mpf(float(hi))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 3).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(1, 4),
            st.lists(st.tuples(st.floats(-2, 1.5), st.floats(0, 1.0)), min_size=n, max_size=n),
            expressions(n),
            st.integers(0, 2**31),
        )
    )
)
def test_sampled_points_evaluate_inside_the_model(case):
    n, order, box, expr, seed = case
    lo = np.array([a for a, _ in box])
    hi = lo + np.array([w for _, w in box])
    xs = TaylorModel.box(lo, hi, order)
    model = build(expr, xs, n, order)
    whole = model.bound()
    rng = np.random.default_rng(seed)
    t = np.vstack([rng.uniform(-1, 1, size=(12, n)), -np.ones((1, n)), np.ones((1, n))])
    at = model.evaluate(t)
    for k, tk in enumerate(t):
        # the point of the domain that t denotes: x_i = mid_i + rad_i t_i with the model's own (exact) floats
        x = [mpmath.mpf(float(v.coeffs.lo[0])) + mpmath.mpf(float(v.coeffs.lo[1 + i])) * mpmath.mpf(float(tk[i]))
             for i, v in enumerate(xs)]  # fmt: skip
        value = exact(expr, x)
        assert _inside(value, at.lo[k], at.hi[k]), (
            f"{expr} at t = {tk}: {value} not in [{at.lo[k]}, {at.hi[k]}]"
        )
        assert _inside(value, whole.lo, whole.hi), (
            f"{expr}: {value} outside the bound [{whole.lo}, {whole.hi}]"
        )


def test_the_variables_cover_their_box():
    for lo, hi in ((0.1, 0.3), (-1.0, 1e-300), (2.0, 2.0), (-3.7, 12.25)):
        (x,) = TaylorModel.box([lo], [hi], 3)
        b = x.bound()
        assert b.lo <= lo and b.hi >= hi


def test_exp_is_tight_at_high_order():
    (x,) = TaylorModel.box([0.0], [1.0], 6)
    b = x.exp().bound()
    assert b.lo <= 1.0 and b.hi >= math.e  # an enclosure ...
    assert b.hi - math.e < 1e-3  # ... whose upper end is tight (the remainder is e / 7! * 0.5^7)
    r = x.exp().remainder
    assert 0 < r.hi - r.lo < 1e-4


def test_products_keep_the_dependency_that_intervals_lose():
    (x,) = TaylorModel.box([-1.0], [1.0], 2)
    zero = x * x - x * x  # the same polynomial twice: the coefficients cancel to rounding
    b = zero.bound()
    assert b.lo <= 0 <= b.hi and b.hi - b.lo < 1e-12


def test_refusals_are_clear():
    (x,) = TaylorModel.box([-1.0], [1.0], 3)
    with pytest.raises(ValueError, match="may contain 0"):
        x.reciprocal()
    with pytest.raises(ValueError, match="is not positive"):
        x.sqrt()
    with pytest.raises(ValueError, match="different domains or orders"):
        x + TaylorModel.box([0.0], [1.0], 2)[0]
    with pytest.raises(ValueError, match="finite lo <= hi"):
        TaylorModel.box([1.0], [0.0], 2)
    with pytest.raises(ValueError, match="at most"):
        monomials(40, 10)
    assert len(monomials(3, 4)) == math.comb(7, 4) and MAX_MONOMIALS >= 1000


# ------------------------------------------------------------------------------------ expressions and steps
def _states(x0_box, order, n_extra=1):
    """Models of the box's states in n + n_extra variables (the extra ones: time)."""
    lo, hi = np.asarray(x0_box[0], float), np.asarray(x0_box[1], float)
    n = lo.size + n_extra
    return [TaylorModel.variable(i, lo[i], hi[i], n, order) for i in range(lo.size)], n


def test_integrating_one_gives_the_elapsed_time():
    from nncs.dynamics.taylor_model import integrate_in

    one = TaylorModel.constant(1.0, 2, 3)
    tau = integrate_in(one, 1, 0.3)  # variable 1 is s; tau(s) = 0.3 (s + 1) / 2
    for s in (-1.0, -0.2, 0.5, 1.0):
        e = tau.evaluate(np.array([[0.7, s]]))
        assert e.lo[0] <= 0.15 * (s + 1) <= e.hi[0] and e.hi[0] - e.lo[0] < 1e-14


def _sample_points(rng, n_states, count=8):
    t = rng.uniform(-1, 1, size=(count, n_states))
    s = np.concatenate([[-1.0, 1.0], rng.uniform(-1, 1, size=count - 2)])
    return t, s


@pytest.mark.parametrize(
    "dynamics,box,h,order",
    [
        (["-x"], ([0.9], [1.1]), 0.2, 4),
        (["v", "-sin(x)"], ([0.9, -0.1], [1.1, 0.1]), 0.1, 4),  # a pendulum
        (["v", "(1 - x**2)*v - x"], ([1.2, 2.3], [1.3, 2.4]), 0.05, 5),  # Van der Pol
        (["-x + exp(-v)", "sqrt(1 + x**2) - v"], ([0.0, 0.5], [0.2, 0.7]), 0.05, 3),
    ],
)
def test_picard_steps_enclose_the_exact_solutions(dynamics, box, h, order):
    """Sampled initial states, solved by mpmath's Taylor-series ODE solver (30 digits), lie in the validated
    step's models at sampled times of the step."""
    import sympy as sp

    from nncs.dynamics.taylor_model import evaluate_expression, picard_step
    from nncs.expressions import parse_expression

    names = ["x", "v"][: len(dynamics)]
    exprs = [parse_expression(d, names, "test") for d in dynamics]
    symbols = [sp.Symbol(nm) for nm in names]
    x0, n = _states(box, order)
    k = len(names)

    def f(models):
        env = dict(zip(symbols, models))
        return [evaluate_expression(e, env, n, order) for e in exprs]

    step = picard_step(f, x0, time_var=k, h=h)
    fns = [sp.lambdify(symbols, e, modules="mpmath") for e in exprs]
    rng = np.random.default_rng(0)
    t, s = _sample_points(rng, k)
    mpmath.mp.dps = 30
    for tk in t:
        start = [mpmath.mpf(float(m.coeffs.lo[0])) + mpmath.mpf(float(m.coeffs.lo[1 + i])) * mpmath.mpf(float(tk[i]))
                 for i, m in enumerate(x0)]  # fmt: skip
        solution = mpmath.odefun(lambda _, y: [fn(*y) for fn in fns], 0, start)
        for sk in s:
            tau = mpmath.mpf(h) * (mpmath.mpf(float(sk)) + 1) / 2
            exact_state = solution(tau)
            point = np.array([[*tk, sk]])
            for i, m in enumerate(step):
                e = m.evaluate(point)
                assert _inside(exact_state[i], e.lo[0], e.hi[0]), (dynamics, tk, sk, i)
    width = max(float(m.remainder.hi - m.remainder.lo) for m in step)
    assert width < 1e-3  # a useful enclosure, not a trivially wide one


def test_a_step_too_long_is_refused():
    import sympy as sp

    from nncs.dynamics.taylor_model import evaluate_expression, picard_step
    from nncs.expressions import parse_expression

    expr = parse_expression("x**2", ["x"], "test")
    x0, n = _states(([1.0], [1.1]), 3)

    def f(models):
        return [evaluate_expression(expr, {sp.Symbol("x"): models[0]}, n, 3)]

    with pytest.raises(ValueError, match="no remainder validated"):
        picard_step(f, x0, time_var=1, h=2.0)  # x' = x^2 from 1 blows up at t = 1


def test_unsupported_operations_are_named():
    import sympy as sp

    from nncs.dynamics.taylor_model import evaluate_expression

    x = TaylorModel.box([0.0], [1.0], 2)[0]
    with pytest.raises(ValueError, match="unsupported operation tanh"):
        evaluate_expression(sp.tanh(sp.Symbol("x")), {sp.Symbol("x"): x}, 1, 2)


@pytest.mark.parametrize(
    "name,box,u,w,period,substeps,order",
    [
        ("pendulum", ([1.0, 0.0], [1.2, 0.2]), [-0.3], None, 0.05, 2, 4),
        ("tora", ([0.6, -0.7, -0.4, 0.5], [0.7, -0.6, -0.3, 0.6]), [0.2], None, 1.0, 8, 3),
        ("unicycle", ([9.5, -4.5, 2.1, 1.5], [9.55, -4.45, 2.11, 1.51]), [19.5, 20.2], [1e-4], 0.2, 4, 3),
        ("acc", ([90, 32, 0, 10, 30, 0], [110, 32.2, 0, 11, 30.2, 0]), [-1.0], None, 0.1, 2, 2),
    ],
)
def test_plant_flowpipes_enclose_exact_trajectories_at_every_substep(
    name, box, u, w, period, substeps, order
):
    """The library plants under held inputs: mpmath Taylor-series solutions (25 digits) from sampled initial
    states lie, at sampled times of every sub-step and at the end of the period, in the Taylor-model flowpipe
    (built from the initial box with no boxing between sub-steps)."""
    import sympy as sp

    from nncs import plants
    from nncs.dynamics.taylor_model import plant_flowpipe

    plant = plants.get(name)
    x0, n = _states(box, order)
    segments, end = plant_flowpipe(plant, x0, u, period, substeps, w)
    assert len(segments) == substeps and all(m.n == n for m in end)
    symbols = [*plant.state_symbols, *plant.input_symbols, *plant.disturbance_symbols]
    fns = [sp.lambdify(symbols, e, modules="mpmath") for e in plant.dynamics]
    fixed = [mpmath.mpf(v) for v in [*u, *(w or [])]]
    h = period / substeps
    rng = np.random.default_rng(1)
    mpmath.mp.dps = 25
    k = plant.n_states
    for tk in rng.uniform(-1, 1, size=(3, k)):
        start = [mpmath.mpf(float(m.coeffs.lo[0])) + mpmath.mpf(float(m.coeffs.lo[1 + i])) * mpmath.mpf(float(tk[i]))
                 for i, m in enumerate(x0)]  # fmt: skip
        solution = mpmath.odefun(lambda _, y: [fn(*y, *fixed) for fn in fns], 0, start)
        for j, step in enumerate(segments):
            for sk in (-1.0, rng.uniform(-1, 1), 1.0):
                exact_state = solution(mpmath.mpf(h) * (j + (mpmath.mpf(float(sk)) + 1) / 2))
                for i, m in enumerate(step):
                    e = m.evaluate(np.array([[*tk, sk]]))
                    assert _inside(exact_state[i], e.lo[0], e.hi[0]), (name, j, sk, i)
        final = solution(mpmath.mpf(period))
        for i, m in enumerate(end):
            e = m.evaluate(np.array([[*tk, 0.3]]))  # the end state does not depend on s
            assert _inside(final[i], e.lo[0], e.hi[0]), (name, "end", i)


def _closed_loop_samples_inside(system, lower, upper, steps, periods, substeps, order, w=None, count=4):
    """Reference closed-loop trajectories (scipy DOP853 at 1e-12) from sampled initial states lie in the
    per-period Taylor models at every sample time (slack: 1e-9 relative, the integrator's accuracy)."""
    from nncs.loop.simulate import reference_closed_loop

    n = len(lower)
    variables = TaylorModel.box(lower, upper, order)  # the same initial models closed_loop_reach builds
    rng = np.random.default_rng(3)
    for tk in np.vstack([rng.uniform(-1, 1, size=(count, n)), np.ones((1, n)), -np.ones((1, n))]):
        x0 = np.array(
            [float(v.coeffs.lo[0]) + float(v.coeffs.lo[1 + i]) * tk[i] for i, v in enumerate(variables)]
        )
        times, states, _ = reference_closed_loop(
            system.plant, system.control, x0, system.period, steps, w=w if w is not None else (),
            samples_per_period=2 * substeps + 1,
        )  # fmt: skip
        for k, segments in enumerate(periods):
            for j, step in enumerate(segments):
                for q, sk in enumerate((-1.0, 0.0)):
                    index = k * 2 * substeps + 2 * j + q
                    for i, m in enumerate(step):
                        e = m.evaluate(np.array([[*tk, sk]]))
                        value = states[index, i]
                        slack = 1e-9 * max(1.0, abs(value))
                        assert e.lo[0] - slack <= value <= e.hi[0] + slack, (
                            k,
                            j,
                            sk,
                            i,
                            value,
                            e.lo[0],
                            e.hi[0],
                        )


def test_closed_loop_taylor_reach_encloses_reference_trajectories():
    """A pendulum under a small ReLU network: the network's fit composed into the models every period."""
    import nncs
    from nncs.dynamics.taylor_model import closed_loop_reach
    from nncs.nn.network import network_from_pairs

    rng = np.random.default_rng(0)
    net = network_from_pairs(
        [(rng.normal(size=(6, 2)) * 0.5, np.zeros(6), "relu"), (rng.normal(size=(1, 6)) * 0.3, np.zeros(1), "identity")]
    )  # fmt: skip
    from nncs import plants

    system = nncs.ClosedLoop(
        plants.get("pendulum"), net, 0.05, controller_inputs=["theta - 1.0", "theta_dot"]
    )
    lower, upper = [0.95, -0.05], [1.05, 0.05]  # ReLUs switch inside the box: the network is not affine there
    from nncs.dynamics.taylor_model import controller_models

    u = controller_models(system, TaylorModel.box(lower, upper, 3))
    assert float(u[0].coeffs.hi[0] - u[0].coeffs.lo[0]) > 1e-4  # the fit residual, in the constant term
    periods = closed_loop_reach(system, lower, upper, steps=6, order=3, substeps=2)
    assert len(periods) == 6
    _closed_loop_samples_inside(system, lower, upper, 6, periods, 2, 3)
