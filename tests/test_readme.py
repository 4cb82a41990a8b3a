"""The README's library example runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_library_example_prints_what_the_readme_says(monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Using pecopt as a library") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    said = re.search(r"prints `([^`]+)`", section)
    assert code is not None and said is not None
    monkeypatch.chdir(ROOT)  # the example names scenarios/kera.yaml
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102
    assert out.getvalue().strip() == said.group(1)


@pytest.mark.slow
def test_replay_example_runs_as_written_and_gives_the_readmes_figures(tmp_path, monkeypatch):
    import json
    import shlex

    from typer.testing import CliRunner

    from pecopt.cli.main import app

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Replaying a period of nights") :]
    command = re.search(r"```\n(pecopt replay .*?)\n```", section, re.S)
    assert command is not None
    args = shlex.split(command.group(1))[1:]
    out = tmp_path / "replay"
    args[args.index("--out") + 1] = str(out)  # the example's own folder is runs/replay
    monkeypatch.chdir(ROOT)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    mode = args[args.index("--forecast") + 1]
    row = re.search(
        rf"^\| {re.escape(mode)} \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", section, re.M
    )
    assert row is not None, f"no README row for {mode}"
    said = [float(x.replace(",", "")) for x in row.groups()]
    k = json.loads((out / "kpis.json").read_text())
    got = [k[c]["net_cost_eur"] for c in ("realised", "rule_based", "perfect_foresight")]
    assert [round(x) for x in got] == said


@pytest.mark.slow
def test_alternatives_example_runs_as_written_and_gives_the_readmes_ranges(tmp_path, monkeypatch):
    import shlex

    import pandas as pd
    from typer.testing import CliRunner

    from pecopt.cli.main import app

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Near-optimal designs") :]
    command = re.search(r"```\n(pecopt alternatives .*?)\n```", section, re.S)
    assert command is not None
    args = shlex.split(command.group(1))[1:]
    out = tmp_path / "alternatives"
    args[args.index("--out") + 1] = str(out)  # the example's own folder is runs/alternatives
    monkeypatch.chdir(ROOT)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    got = pd.read_parquet(out / "ranges.parquet").set_index("target")
    rows = re.findall(
        r"^\| `([^`]+)`[^|]*\| [^|]+ \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", section, re.M
    )
    assert len(rows) >= 5, "no README table of ranges"
    for target, *said in rows:
        lo, _, hi = (float(x.replace(",", "")) for x in said)
        # the ends are optima of LPs (the optimum's own sizes may differ between equal plans)
        assert got.loc[target, "min"] == pytest.approx(lo, abs=max(1.0, 0.005 * lo)), target
        assert got.loc[target, "max"] == pytest.approx(hi, abs=max(1.0, 0.005 * hi)), target
