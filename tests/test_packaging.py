"""The install layout: plants/, controllers/ and case_studies/ are installed as nncs.plants, nncs.controllers
and nncs.case_studies (setup.py's package-dir mapping), and no generic top-level name lands in site-packages."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import importlib.util, json
import nncs.plants, nncs.controllers, nncs.case_studies, nncs.case_studies.closed_loop
print(json.dumps({
    "top_level": {n: importlib.util.find_spec(n) is not None for n in ("plants", "controllers", "case_studies")},
    "files": [m.__file__ for m in (nncs.plants, nncs.controllers, nncs.case_studies)],
    "plants": nncs.plants.names(),
    "case_study": str(nncs.case_studies.path("acc")),
}))
"""


def test_bundled_folders_are_installed_under_nncs_only(tmp_path):
    # run outside the repository, so only what is installed can be imported
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "", "PYTHONPATH": ""},
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["top_level"] == {"plants": False, "controllers": False, "case_studies": False}
    folders = [Path(f).parent.name for f in found["files"]]
    assert folders == ["plants", "controllers", "case_studies"]
    assert "acc" in found["plants"] and Path(found["case_study"]).is_file()
