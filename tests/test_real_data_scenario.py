"""The real-data Kera scenario (EPW weather, 2023 spot prices from ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"real data not found at {SHARED}")
def test_real_data_scenario_validates():
    result = CliRunner().invoke(app, ["validate", str(ROOT / "scenarios" / "kera_real_2023.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
