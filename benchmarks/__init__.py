"""Benchmarks for dualad; run ``python -m benchmarks.forward`` from the repository root."""
