"""Runnable verification problems (TOML files and any case-specific scripts), run by `nncs run NAME`."""
