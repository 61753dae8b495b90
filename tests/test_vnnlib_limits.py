"""VNN-LIB files from strangers (nncs/vnnlib.py): names, numbers, nesting, sizes and time are all bounded."""

import time

import pytest

from nncs.vnnlib import MAX_CASES, VnnlibTimeout, load_vnnlib, parse_vnnlib

HEAD = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
BOX = "(assert (>= X_0 0))\n(assert (<= X_0 1))\n"


@pytest.mark.parametrize(
    "text,message",
    [
        (
            HEAD + "(assert (>= X_0 nan))\n(assert (<= X_0 1))\n(assert (>= Y_0 1))",
            "line 4: number 'nan' is not finite",
        ),
        (HEAD + BOX + "(assert (>= Y_0 inf))", "not finite"),
        (HEAD + BOX + "(assert (>= Y_0 1e999))", "not finite"),
        (HEAD + "(declare-const X_00 Real)\n" + BOX, "leading zeros"),
        (HEAD + "(declare-const X_0 Real)\n" + BOX, "declared twice"),
        ("(declare-const X_100000000 Real)\n(declare-const Y_0 Real)\n", "limit of"),
        (HEAD + "(declare-const X_2 Real)\n" + BOX, "X_1 is not declared"),
        (HEAD + BOX + "(assert " + "(and " * 5000 + "(>= Y_0 1)" + ")" * 5001, "nested deeper than"),
        (
            HEAD + BOX + "(assert (and " + " ".join(["(or (>= Y_0 1) (>= Y_1 2))"] * 24) + "))",
            f"more than {MAX_CASES}",
        ),
        (HEAD + BOX + "(assert (or (>= Y_0 1) (>= Y_1 2)))\n" * 24, f"more than {MAX_CASES}"),
    ],
)
def test_malformed_or_oversized_properties_are_refused_with_the_line(text, message):
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="prop.vnnlib") as exc:
        parse_vnnlib(text, source="prop.vnnlib")
    assert message in str(exc.value) and len(str(exc.value)) < 300
    assert time.perf_counter() - t0 < 30  # refused before any expansion (generous: shared cores)


def test_an_unused_output_is_accepted_and_sets_the_output_count():
    prop = parse_vnnlib(HEAD + "(declare-const Y_2 Real)\n" + BOX + "(assert (>= Y_0 1))")
    assert prop.n_outputs == 3 and prop.n_inputs == 1
    ((A, b),) = prop.cases[0].unsafe
    assert A.tolist() == [[-1.0, 0.0, 0.0]] and b.tolist() == [-1.0]


def test_many_asserts_parse_in_one_pass_and_keep_every_constraint():
    n = 20_000
    text = HEAD + BOX * (n // 2) + "".join(f"(assert (<= Y_0 {k}))\n" for k in range(100))
    prop = parse_vnnlib(text)
    (case,) = prop.cases
    assert case.lb.tolist() == [0.0] and case.ub.tolist() == [1.0]
    ((A, b),) = case.unsafe
    assert A.shape == (100, 2) and sorted(b.tolist()) == list(range(100))


def test_a_deadline_stops_parsing_and_non_utf8_files_name_the_file(tmp_path):
    with pytest.raises(VnnlibTimeout, match="time limit"):
        parse_vnnlib(HEAD + BOX * 5000 + "(assert (>= Y_0 1))", source="p", deadline=time.perf_counter() - 1)
    path = tmp_path / "p.vnnlib"
    path.write_bytes(b"\xff" + (HEAD + BOX).encode())
    with pytest.raises(ValueError, match="p.vnnlib: not UTF-8"):
        load_vnnlib(path)


def test_disjunctions_still_expand_exactly_below_the_limit():
    prop = parse_vnnlib(HEAD + BOX + "(assert (and " + " ".join(["(or (>= Y_0 1) (>= Y_1 2))"] * 3) + "))")
    (case,) = prop.cases
    assert len(case.unsafe) == 8  # 2**3 conjunctions, each of 3 rows
    assert all(A.shape == (3, 2) for A, _ in case.unsafe)
