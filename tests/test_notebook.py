"""The results notebook runs against a real pecopt output folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.testing import extending

ROOT = Path(__file__).resolve().parents[1]


def test_notebook_code_cells_run_on_a_fresh_output(tmp_path, monkeypatch):
    days = {"start": "2025-10-25T00:00", "end": "2025-10-27T00:00"}  # the autumn DST change
    scenario = extending(tmp_path / "kera_days.yaml", ROOT / "scenarios" / "kera.yaml",
                         {"horizon": days})  # fmt: skip
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
