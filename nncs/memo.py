"""Per-object caches of built (e.g. jitted) functions.

A plant or closed loop keeps what was compiled for it, so repeated runs on the same object compile once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["Memoizing"]


class Memoizing:
    """Mixin giving an object a `memo(key, build)` cache (not part of its value: equality and copies ignore it)."""

    def memo(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value `build()` for `key`, computed on the first call for this object and kept with it.

        Args:
            key: what the value depends on besides the object (e.g. the number of steps and substeps).
            build: computes the value; called at most once per key.
        Returns:
            The cached value.
        """
        cache = self.__dict__.setdefault("_memo_cache", {})
        if key not in cache:
            cache[key] = build()
        return cache[key]

    def __getstate__(self) -> dict:
        """The object's state without its cache (compiled functions do not pickle; a copy rebuilds them)."""
        return {k: v for k, v in self.__dict__.items() if k != "_memo_cache"}

    def memo_keys(self) -> list[Hashable]:
        """The keys cached so far on this object, oldest first (for inspection and tests)."""
        return list(self.__dict__.get("_memo_cache", {}))
