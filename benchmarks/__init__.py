"""Performance measurements of nncs, run with `python -m benchmarks [NAME ...]`; never part of the tests."""
