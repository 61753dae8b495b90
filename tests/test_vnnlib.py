"""Tests of nncs/vnnlib.py: the ACAS Xu properties, disjunctions, semantics and line-numbered errors."""

import numpy as np
import pytest

from nncs.vnnlib import load_vnnlib, parse_vnnlib

HEADER = "".join(f"(declare-const X_{i} Real)\n" for i in range(2)) + "".join(
    f"(declare-const Y_{i} Real)\n" for i in range(3)
)


def test_all_ten_acasxu_properties_parse(shared_benchmarks):
    folder = shared_benchmarks / "acasxu" / "vnnlib"
    props = {i: load_vnnlib(folder / f"prop_{i}.vnnlib") for i in range(1, 11)}
    for p in props.values():
        assert (p.n_inputs, p.n_outputs) == (5, 5)
        for case in p.cases:
            assert np.all(case.lb <= case.ub)
    # phi1: box from the file's text and Y_0 >= 3.991125645861615 as -Y_0 <= -3.99...
    (c1,) = props[1].cases
    np.testing.assert_allclose(c1.lb, [0.6, -0.5, -0.5, 0.45, -0.5])
    np.testing.assert_allclose(c1.ub, [0.679857769, 0.5, 0.5, 0.5, -0.45])
    ((A, b),) = c1.unsafe
    np.testing.assert_array_equal(A, [[-1, 0, 0, 0, 0]])
    np.testing.assert_allclose(b, [-3.991125645861615])
    # phi2: COC maximal, one conjunction of four inequalities
    ((A, b),) = props[2].cases[0].unsafe
    assert A.shape == (4, 5)
    assert props[2].cases[0].is_unsafe(np.array([5.0, 1, 2, 3, 4]))[0]
    assert not props[2].cases[0].is_unsafe(np.array([3.0, 1, 2, 4, 4]))[0]
    # phi6: two input boxes, each with four unsafe disjuncts
    assert len(props[6].cases) == 2 and all(len(c.unsafe) == 4 for c in props[6].cases)
    assert props[6].cases[0].lb[1] == pytest.approx(0.11140846) and props[6].cases[1].ub[1] == pytest.approx(
        -0.11140846
    )
    # phi7: unsafe when SL or SR is minimal: two conjunctions of three
    assert [A.shape for A, _ in props[7].cases[0].unsafe] == [(3, 5), (3, 5)]
    y = np.array([1.0, 1.0, 1.0, 0.5, 2.0])  # SL minimal
    assert props[7].violated_by(props[7].cases[0].lb, y)
    assert not props[7].violated_by(props[7].cases[0].lb, np.array([0.0, 1, 1, 0.5, 2]))


def test_linear_terms_and_nested_or_and():
    text = (
        HEADER
        + """
(assert (and (>= X_0 -1) (<= X_0 1)))
(assert (<= X_1 (+ 1 1)))   ; comment (with parentheses)
(assert (>= X_1 0))
(assert (or (and (<= (+ Y_0 (* 2 Y_1)) 3) (>= Y_2 (- Y_0 1))) (> Y_1 4)))
"""
    )
    p = parse_vnnlib(text)
    (case,) = p.cases
    np.testing.assert_array_equal(case.lb, [-1, 0])
    np.testing.assert_array_equal(case.ub, [1, 2])
    (A1, b1), (A2, b2) = case.unsafe
    np.testing.assert_array_equal(A1, [[1, 2, 0], [1, 0, -1]])
    np.testing.assert_array_equal(b1, [3, 1])
    np.testing.assert_array_equal(A2, [[0, -1, 0]])
    np.testing.assert_array_equal(b2, [-4])
    assert case.is_unsafe(np.array([[0.0, 1.0, 0.0], [0, 5, 0], [0, 3, 0]])).tolist() == [True, True, False]


def test_input_disjunction_makes_separate_cases():
    text = (
        HEADER
        + """
(assert (or (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1))
            (and (>= X_0 2) (<= X_0 3) (>= X_1 0) (<= X_1 1))))
(assert (>= Y_0 0))
"""
    )
    p = parse_vnnlib(text)
    assert sorted(c.lb[0] for c in p.cases) == [0, 2]


@pytest.mark.parametrize(
    "body,line,msg",
    [
        ("(assert (<= X_0 1)\n", 6, "never closed"),
        ("(assert (<= X_0 1)))\n", 6, "unmatched"),
        ("(assert (<= X_7 1))\n", 6, "X_7 is used before"),
        ("\n(assert (<= (* X_0 X_1) 1))\n", 7, "not linear"),
        ("(assert (foo X_0 1))\n", 6, "unsupported operator 'foo'"),
        ("(assert (<= (+ X_0 Y_0) 1))\n", 6, "mixing inputs"),
        ("(assert (<= (+ X_0 X_1) 1))\n", 6, "single input"),
        ("(check-sat)\n", 6, "unsupported command"),
        ("(assert (<= X_0 abc))\n", 6, "unknown symbol 'abc'"),
    ],
)
def test_malformed_files_report_the_line(body, line, msg):
    with pytest.raises(ValueError, match=rf"line {line}: .*{msg}"):
        parse_vnnlib(HEADER + body, source="p.vnnlib")


def test_unbounded_input_is_an_error(tmp_path):
    path = tmp_path / "u.vnnlib"
    path.write_text(
        HEADER + "(assert (<= X_0 1))\n(assert (>= X_0 0))\n(assert (>= X_1 0))\n(assert (>= Y_0 0))\n"
    )
    with pytest.raises(ValueError, match="u.vnnlib: input X_1 has no finite"):
        load_vnnlib(path)


def test_strict_constraints_are_kept_for_counterexamples():
    text = (
        "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
        "(assert (> X_0 0))\n(assert (<= X_0 1))\n(assert (< Y_0 Y_1))\n"
    )
    prop = parse_vnnlib(text)
    (case,) = prop.cases
    assert case.lb[0] == 0.0 and case.lb_open[0] and not case.ub_open[0]
    assert case.is_unsafe(np.array([[0.0, 1.0]]))[0] and not case.is_unsafe(np.array([[1.0, 1.0]]))[0]
    assert not prop.violated_by(np.array([0.0]), np.array([0.0, 1.0]))  # X_0 = 0 is outside X_0 > 0
    assert prop.violated_by(np.array([0.5]), np.array([0.0, 1.0]))
    assert not prop.violated_by(np.array([0.5]), np.array([1.0, 1.0]))  # Y_0 = Y_1 is not Y_0 < Y_1


def test_strict_output_face_is_not_a_violation():
    # y = (relu(x), 0) on [0, 1]: y0 < y1 never holds (y0 >= 0 = y1), although y0 <= y1 holds at x = 0
    from nncs.nn.network import Linear, Network, ReLU
    from nncs.nn.verify import VerifyOptions, verify_property

    net = Network(
        [Linear(np.array([[1.0]]), np.zeros(1)), ReLU(), Linear(np.array([[1.0], [0.0]]), np.zeros(2))]
    )
    text = (
        "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
        "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (< Y_0 Y_1))\n"
    )
    r = verify_property(net, parse_vnnlib(text), VerifyOptions(timeout=5))
    assert r.result != "violated"
