"""Fuzzing of every nncs loader (problem TOML, networks, VNN-LIB, JSON reports): see test_fuzz_loaders.py."""
