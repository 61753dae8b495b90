"""Tests of nncs/batch.py and `nncs batch`: folders and CSV lists of instances, one row per instance in CSV and
JSON lines, --resume after a killed run (a half-written row is rerun), the same rows on 2 Dask workers, and
clear errors for bad lists."""

from __future__ import annotations

import csv
import json

import pytest

from nncs.batch import COLUMNS, Instance, done_instances, read_instances, run_batch
from nncs.cli import main
from nncs.nn import save_network
from tests.nn.planted import planted_pair
from tests.test_cli_commands import _problem


def _suite(tmp_path):
    """A folder of two problem files (safe, unsafe) and a CSV naming them and two network properties."""
    folder = tmp_path / "suite"
    folder.mkdir()
    _problem(folder, constraint="x <= 1.5", name="safe.toml")
    _problem(folder, constraint="x <= 1.105", name="unsafe.toml")
    rows = ["safe.toml", "unsafe.toml,60"]
    expected = {"safe.toml": "safe", "unsafe.toml": "unsafe"}
    for inst in planted_pair(0, d=3):
        save_network(inst.net, folder / f"{inst.expected}.json")
        (folder / f"{inst.expected}.vnnlib").write_text(inst.vnnlib)
        rows.append(f"{inst.expected}.json,{inst.expected}.vnnlib,30")
        expected[f"{inst.expected}.json,{inst.expected}.vnnlib"] = inst.expected
    (folder / "instances.csv").write_text("# instance list\n" + "\n".join(rows) + "\n")
    return folder, expected


def _rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_a_csv_list_gives_one_row_per_instance_with_the_known_answers(tmp_path, capsys):
    folder, expected = _suite(tmp_path)
    out = tmp_path / "results.csv"
    assert main(["batch", str(folder / "instances.csv"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 instance(s): holds 1, safe 1, unsafe 1, violated 1" in printed
    rows = _rows(out)
    assert list(rows[0]) == list(COLUMNS)
    assert {r["instance"]: r["result"] for r in rows} == expected
    assert all(r["benchmark"] == "suite" and float(r["time"]) > 0 for r in rows)
    lines = [json.loads(line) for line in out.with_suffix(".jsonl").read_text().splitlines()]
    assert {r["instance"]: r["result"] for r in lines} == expected


def test_a_folder_runs_every_problem_file_in_it(tmp_path):
    folder, _ = _suite(tmp_path)
    instances = read_instances(folder)
    assert [i.instance for i in instances] == ["safe.toml", "unsafe.toml"]
    counts = run_batch(instances, tmp_path / "r.csv", progress=False)
    assert counts == {"safe": 1, "unsafe": 1}


def test_resume_skips_finished_rows_and_reruns_a_half_written_one(tmp_path, capsys):
    folder, expected = _suite(tmp_path)
    out = tmp_path / "results.csv"
    first = "safe.toml"
    # a killed run: the header, one complete row, and a row cut off mid-write
    out.write_text(",".join(COLUMNS) + f"\nsuite,{first},safe,0.5,proven\nsuite,unsafe.toml,uns")
    out.with_suffix(".jsonl").write_text(
        json.dumps({"instance": first, "result": "safe"}) + '\n{"instance": "unsafe.t'
    )
    assert main(["batch", str(folder / "instances.csv"), "--out", str(out), "--resume", "--quiet"]) == 0
    assert "3 instance(s)" in capsys.readouterr().out
    rows = _rows(out)
    assert [r["instance"] for r in rows].count(first) == 1 and rows[0]["time"] == "0.5"  # kept, not rerun
    assert {r["instance"]: r["result"] for r in rows} == expected
    jsonl = [json.loads(line) for line in out.with_suffix(".jsonl").read_text().splitlines()]
    assert sorted(r["instance"] for r in jsonl) == sorted(expected)
    assert main(["batch", str(folder / "instances.csv"), "--out", str(out), "--resume"]) == 0
    assert "nothing left to run" in capsys.readouterr().out


def test_an_existing_output_needs_resume_and_a_foreign_file_is_refused(tmp_path, capsys):
    folder, _ = _suite(tmp_path)
    out = tmp_path / "results.csv"
    out.write_text("a,b\n1,2\n")
    assert main(["batch", str(folder), "--out", str(out)]) == 2
    assert "exists; pass --resume" in capsys.readouterr().err
    assert main(["batch", str(folder), "--out", str(out), "--resume"]) == 2
    assert "not an nncs batch results file" in capsys.readouterr().err
    assert out.read_text() == "a,b\n1,2\n"  # left alone


@pytest.mark.parametrize(
    "rows,words",
    [
        ("missing.toml\n", ["row 1", "no such file 'missing.toml'"]),
        ("safe.toml,abc\n", ["row 1", "timeout 'abc'"]),
        ("safe.toml,-3\n", ["row 1", "positive"]),
        ("a.onnx\n", ["row 1", "model,property[,timeout]"]),
        ("a,b,c,d\n", ["row 1", "4 column(s)"]),
        ("# nothing\n\n", ["no instances"]),
    ],
)
def test_bad_lists_are_clear_errors_naming_the_row(tmp_path, capsys, rows, words):
    folder, _ = _suite(tmp_path)
    listing = folder / "bad.csv"
    listing.write_text(rows)
    assert main(["batch", str(listing), "--out", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err
    assert not (tmp_path / "r.csv").exists()


def test_done_instances_of_a_missing_file_is_empty(tmp_path):
    assert done_instances(tmp_path / "none.csv") == set()


def test_errors_in_an_instance_become_an_error_row_and_the_batch_goes_on(tmp_path):
    folder, _ = _suite(tmp_path)
    (folder / "broken.toml").write_text("name = [")
    instances = [Instance("suite", n, problem=str(folder / n)) for n in ("broken.toml", "safe.toml")]
    counts = run_batch(instances, tmp_path / "r.csv", progress=False)
    assert counts == {"error": 1, "safe": 1}
    rows = {r["instance"]: r for r in _rows(tmp_path / "r.csv")}
    assert "malformed TOML" in rows["broken.toml"]["message"]


def test_two_workers_give_the_same_rows(tmp_path, capsys):
    pytest.importorskip("distributed")
    folder, expected = _suite(tmp_path)
    out = tmp_path / "results.csv"
    assert main(["batch", str(folder / "instances.csv"), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert {r["instance"]: r["result"] for r in _rows(out)} == expected
