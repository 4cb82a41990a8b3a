"""Heat-pump COP from temperatures, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from pecopt.ingest.cop import cop_carnot


def test_cop_is_a_carnot_fraction():
    # 0 degC source, 45 degC sink: 0.45 * 318.15 K / 45 K = 3.1815
    assert cop_carnot(0.0, 45.0, 0.45, 6.0) == pytest.approx(3.1815)
    # -20 degC: 0.45 * 318.15 / 65 = 2.20258...
    assert cop_carnot(-20.0, 45.0, 0.45, 6.0) == pytest.approx(0.45 * 318.15 / 65)


def test_cop_is_capped_and_safe_when_the_source_is_warmer_than_the_sink():
    out = cop_carnot(np.array([40.0, 45.0, 50.0]), 45.0, 0.45, 5.0)
    # 0.45 * 318.15 / 5 = 28.6 -> cap 5; equal or warmer source -> cap, no division by zero
    np.testing.assert_allclose(out, [5.0, 5.0, 5.0])
