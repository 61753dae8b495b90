"""End-to-end checks of the `nncs` command: --version and --help through a real subprocess."""

import subprocess
import sys

import nncs


def test_version_prints_package_version():
    out = subprocess.run(
        [sys.executable, "-m", "nncs", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"nncs {nncs.__version__}"


def test_help_lists_usage():
    out = subprocess.run([sys.executable, "-m", "nncs", "--help"], capture_output=True, text=True, check=True)
    assert "usage: nncs" in out.stdout
