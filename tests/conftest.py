"""Shared test set-up: JAX in float64, Hypothesis profiles (a smaller one for CI)."""

from __future__ import annotations

import os

import jax
from hypothesis import HealthCheck, settings

import dualad

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

# The walks of the registry (tests/test_registry.py, the float32 walk, traces) see every
# family, also those declared on first use only (scipy.special's, when SciPy is installed)
dualad.registry.load_optional_families()

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
