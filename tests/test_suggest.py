"""Tests of nncs/suggest.py: case-insensitive 'did you mean' suggestions, closest first, never the word itself."""

from nncs.suggest import close_matches, did_you_mean


def test_case_is_ignored_and_the_candidate_keeps_its_spelling():
    assert close_matches("ACC", ["acc", "acc_arch", "tora"])[:1] == ["acc"]
    assert close_matches("Steps", ["steps", "seed"]) == ["steps"]


def test_exact_but_for_case_comes_first_and_the_word_itself_is_never_suggested():
    assert close_matches("acc", ["acc", "ACC", "acc_arch"], cutoff=0.5) == ["ACC", "acc_arch"]


def test_nothing_close_gives_nothing():
    assert close_matches("zzzz", ["always", "goal", "avoid"]) == []
    assert did_you_mean("zzzz", ["always", "goal", "avoid"]) == ""


def test_did_you_mean_names_the_best_candidates():
    assert did_you_mean("alwys", ["always", "goal", "avoid"]) == "; did you mean 'always'?"
    assert did_you_mean("pendullum", ["pendulum", "pendulum_wide", "tora"], n=2) == (
        "; did you mean 'pendulum' or 'pendulum_wide'?"
    )


def test_at_most_n_and_a_cutoff():
    many = [f"seed{i}" for i in range(10)]
    assert len(close_matches("seed", many, n=3)) == 3
    assert close_matches("seed", ["sxxx"], cutoff=0.9) == []


def test_similar_files_of_the_wanted_kind_and_a_missing_folder(tmp_path):
    from nncs.suggest import similar_files

    for name in ("ctrl.onnx", "ctrl.json", "ctrl.txt", "zzzzzz.onnx"):
        (tmp_path / name).write_text("x")
    found = similar_files(tmp_path / "ctrll.onnx", (".onnx", ".json"))
    assert set(found) == {tmp_path / "ctrl.onnx", tmp_path / "ctrl.json"}
    assert similar_files(tmp_path / "ctrll.onnx", (".onnx",), usable=lambda f: f.suffix == ".json") == []
    assert similar_files(tmp_path / "nowhere" / "a.onnx", (".onnx",)) is None
