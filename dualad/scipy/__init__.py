"""dualad.scipy: SciPy functions written in Python, differentiable (like ``jax.scipy``)."""
