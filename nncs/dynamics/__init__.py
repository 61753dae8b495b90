"""Plant dynamics: symbolic models compiled to JAX, interval arithmetic, simulation and flowpipes.

Imports nncs.sets only (never nncs.nn, nncs.loop or nncs.verify).
"""
