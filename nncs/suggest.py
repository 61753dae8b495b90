"""'Did you mean ...?' suggestions for misspelt names (keys, case studies, files, options, state names).

One matcher for every message: case-insensitive (`ACC` suggests `acc`), closest first, never more than `n`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_matches", "did_you_mean"]


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
