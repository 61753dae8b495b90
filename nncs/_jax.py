"""The one door to JAX inside nncs: importing this module imports jax and switches it to float64.

Every nncs module that computes with JAX imports `jax` / `jnp` from here (at the point of use, so that
`import nncs` stays cheap), which guarantees `jax_enable_x64` is on before any nncs JAX computation; every sound
computation in nncs relies on it. tests/test_startup.py checks that no other nncs module imports jax itself.
"""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402  (after the switch, on purpose)

__all__ = ["jax", "jnp"]
