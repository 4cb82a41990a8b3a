"""The results notebook runs against a real pecopt output folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pecopt.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def test_notebook_code_cells_run_on_a_fresh_output(tmp_path, monkeypatch):
    scenario = tmp_path / "kera_day.yaml"
    text = (ROOT / "scenarios" / "kera.yaml").read_text()
    text = text.replace('start: "2025-01-01T00:00"', 'start: "2025-10-25T00:00"').replace(
        'end: "2026-01-01T00:00"',
        'end: "2025-10-27T00:00"',  # holds the autumn DST change
    )
    scenario.write_text(text)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["solve", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("PECOPT_RUN", str(out))
    nb = json.loads((ROOT / "notebooks" / "explore_results.ipynb").read_text())
    namespace: dict[str, object] = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "notebook", "exec"), namespace)  # noqa: S102
    daily = namespace["daily"]
    assert len(daily) >= 2 * 2  # two local days (one of 25 h) x two carriers
