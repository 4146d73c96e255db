"""Finding the wrong line of a hand derivation (the forum thread on a tanh network).

The forum's two derivations (tests/forum001.py), whose locals keep the thread's names: the
chain rule forward (``dh1_dwh``: the tangent of ``h1`` along ``w_h``) and the backward pass
(``dh2_raw``: the adjoint of ``h2_raw``). Both use ``1 - raw**2`` where ``1 - tanh(raw)**2``
belongs; the references are the closed forms and JAX.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad.checking.diagnose import first_mismatches

from .forum001 import analytic, backward, fixed, loss

H0 = 0.5


def test_backward_pass_points_at_dh2_raw():
    (mismatch,) = first_mismatches(loss, backward, (2.0, 40.0))
    assert mismatch.kind == "adjoint" and mismatch.manual_name == "dh2_raw"
    assert mismatch.step == "h2_raw" and mismatch.rule == "h2_bar * (1 - tanh**2 h2_raw)"
    h2_raw = 2.0 * np.tanh(1.0)
    assert float(mismatch.manual) == pytest.approx((1 - h2_raw**2) * 40.0, rel=1e-15)
    # dualad's adjoint of h2_raw: d y2 / d h2_raw by JAX
    expected = jax.grad(lambda r: 40.0 * jnp.tanh(r))(h2_raw)
    assert float(mismatch.dualad) == pytest.approx(float(expected), rel=1e-14)


def test_forward_chain_rule_points_at_dh1_dwh():
    (mismatch,) = first_mismatches(loss, analytic, (2.0, 40.0))
    assert mismatch.kind == "tangent" and mismatch.manual_name == "dh1_dwh"
    assert mismatch.step == "h1" and mismatch.rule == "h1_raw_dot * (1 - tanh**2 h1_raw)"
    assert float(mismatch.manual) == 0.0  # (1 - 1**2) * 0.5
    expected = jax.grad(lambda w: jnp.tanh(w * H0))(2.0)
    assert float(mismatch.dualad) == pytest.approx(float(expected), rel=1e-14)


def test_a_correct_derivation_has_no_mismatch():
    assert first_mismatches(loss, fixed, (2.0, 40.0)) == []
    assert dualad.compare(loss, fixed, 2.0, 40.0).agrees


def test_compare_reports_the_first_intermediate():
    report = str(dualad.compare(loss, backward, 2.0, 40.0))
    assert "differs" in report
    assert "the first intermediate that differs is dh2_raw = -52.8" in report
    assert "h2_raw_bar = h2_bar * (1 - tanh**2 h2_raw) = 6.93" in report
    assert "the first intermediate that differs is dh2_raw" in (
        dualad.compare(loss, backward, 2.0, 40.0)._repr_markdown_())  # Jupyter's view too


def test_nothing_to_match_gives_no_mismatch():
    assert first_mismatches(loss, lambda w_h, w_y: (0.0, 0.0), (2.0, 40.0)) == []
