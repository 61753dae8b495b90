"""Runnable verification problems (TOML files and any case-specific scripts), run by `nncs run NAME`.

`names()` lists the bundled problems, `path(name)` finds one's file; names are the TOML file stems.
"""

from __future__ import annotations

from pathlib import Path

from nncs.suggest import close_matches

ROOT = Path(__file__).resolve().parent


def _files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(ROOT.rglob("*.toml"))}


def names() -> list[str]:
    """The names of the bundled problems, sorted."""
    return sorted(_files())


def path(name: str) -> Path:
    """The problem file of case study `name`; ValueError suggesting the nearest names when unknown."""
    files = _files()
    if name in files:
        return files[name]
    close = close_matches(name, list(files), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(files))}"
    raise ValueError(f"unknown case study {name!r}{hint}")


def describe(name: str) -> str:
    """The first comment line of the problem file (its one-line description)."""
    for line in path(name).read_text().splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""
