"""'Did you mean ...?' suggestions for misspelt names (keys, case studies, files, options, state names).

One matcher for every message: case-insensitive (`ACC` suggests `acc`), closest first, never more than `n`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["close_matches", "did_you_mean", "similar_files"]


def close_matches(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates closest to `word` ignoring case, best first (at most `n`; exact-but-for-case ones first).

    Args:
        word: the misspelt name.
        candidates: the known names (returned as they are spelt there).
        n: the most suggestions returned.
        cutoff: the least similarity (difflib's ratio, 0..1) of a suggestion.
    Returns:
        A list of candidates (empty when none is close).
    """
    word = str(word)
    by_folded: dict[str, list[str]] = {}
    for c in candidates:
        by_folded.setdefault(str(c).casefold(), []).append(str(c))
    folded = word.casefold()
    exact = [c for c in by_folded.get(folded, []) if c != word]
    close = difflib.get_close_matches(folded, list(by_folded), n=n, cutoff=cutoff)
    found = exact + [c for key in close for c in by_folded[key] if c != word and c not in exact]
    return found[:n]


def did_you_mean(word: str, candidates: Iterable[str], n: int = 1, cutoff: float = 0.6) -> str:
    """ "; did you mean 'x'?" (or "'x', 'y'" for several) naming the closest candidates; "" when none is close."""
    found = close_matches(word, candidates, n=n, cutoff=cutoff)
    return f"; did you mean {' or '.join(repr(c) for c in found)}?" if found else ""


def similar_files(
    path: Path, suffixes: Iterable[str], usable: Callable[[Path], bool] | None = None, n: int = 3
) -> list[Path] | None:
    """The files in `path`'s folder, of the given kinds, whose names are closest to its name (for a file that
    does not exist); None when the folder itself does not exist.

    Args:
        path: the file asked for.
        suffixes: the file kinds suggested (lower case, with the dot).
        usable: when given, only files for which it is True are suggested (e.g. reports that load).
        n: the most suggestions.
    """
    folder = path.parent if str(path.parent) else Path(".")
    suffixes = tuple(suffixes)
    try:
        if not folder.is_dir():
            return None
        names = [f.name for f in folder.iterdir() if f.suffix.lower() in suffixes and f.is_file()]
    except (OSError, ValueError):
        return []
    close = [folder / c for c in close_matches(path.name, names, n=10, cutoff=0.5)]
    if usable is not None:
        close = [f for f in close if usable(f)]
    return close[:n]
