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


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(title)
    return text[start : text.index("\n## ", start + 1)]


def _in_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a folder that sees the repository's scenarios (README paths are relative
    to the repository) but keeps what the example writes (runs/...) out of it."""
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.chdir(tmp_path)


def _run(line: str) -> str:
    import shlex

    from typer.testing import CliRunner

    from pecopt.cli.main import app

    res = CliRunner().invoke(app, shlex.split(line)[1:])
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.slow
def test_replay_on_issued_forecasts_runs_as_written(tmp_path, monkeypatch):
    section = _section("## Replaying a period of nights")
    code = re.search(r"```python\n(.*?)```", section, re.S)
    command = re.search(r"```\n(pecopt replay [^\n]*--forecast runs/forecasts[^\n]*)\n```", section)
    assert code is not None and command is not None
    _in_copy(tmp_path, monkeypatch)
    exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102
    _run(command.group(1))
    import json

    k = json.loads((tmp_path / "runs" / "replay_issued" / "kpis.json").read_text())
    assert len(k["forecast"]["files"]) == 7
    assert k["realised"]["net_cost_eur"] >= k["perfect_foresight"]["net_cost_eur"] * (1 - 1e-9)


@pytest.mark.slow
def test_replay_sweep_runs_as_written_and_gives_the_readmes_table(tmp_path, monkeypatch):
    import pandas as pd

    section = _section("## Replaying a period of nights")
    block = re.search(r"```\n(pecopt sweep [^\n]*)\n(pecopt query [^\n]*)\n```", section)
    assert block is not None
    _in_copy(tmp_path, monkeypatch)
    _run(block.group(1))
    shown = _run(block.group(2))
    assert "noisy:0.3" in shown
    kpis = pd.concat(pd.read_parquet(f) for f in (tmp_path / "runs/replays/kpis").glob("*.parquet"))
    table = section[section.index("| forecast | pecopt, settled") :]
    for mode, row in kpis.set_index("replay.forecast").iterrows():
        pattern = rf"^\| {re.escape(str(mode))} \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$"
        said = re.search(pattern, table, re.M)
        assert said is not None, mode
        got = [row["realised_net_cost_eur"], row["rule_based_net_cost_eur"],
               row["perfect_foresight_net_cost_eur"]]  # fmt: skip
        assert [round(x) for x in got] == [float(x.replace(",", "")) for x in said.groups()]


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
