"""``pecopt --help`` reads well: ``-h``, flags without a type, arguments in capitals,
an example in each command's help."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pecopt.cli.main import app

runner = CliRunner()
COMMANDS = [["solve"], ["ingest"], ["validate"], ["report"], ["dispatch"], ["replay"],
            ["compare"], ["pareto"], ["alternatives"], ["sweep"], ["query"],
            ["runs", "list"]]  # fmt: skip


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "-h"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_each_command_has_h_an_example_and_no_bool(command):
    text = _help(*command)
    assert "<bool>" not in text
    assert "Example: pecopt " + command[0] in text
    assert "{" not in text.split("\n\n")[0] + text.split("Usage:")[1].splitlines()[0]


def test_usage_names_arguments_in_capitals():
    assert "solve [OPTIONS] [SCENARIO]" in _help("solve")
    assert "compare [OPTIONS] LAYOUTS" in _help("compare")
    assert "query [OPTIONS] FOLDER SQL" in _help("query")
    text = _help()
    assert "-h" in text and "<bool>" not in text


@pytest.mark.parametrize(
    "command",
    [c for c in COMMANDS if c[0] not in ("report", "query", "runs")],
    ids=" ".join,
)
def test_every_command_that_reads_a_scenario_takes_set(command):
    assert "--set" in _help(*command) and "PATH=VALUE" in _help(*command)


def test_help_imports_nothing_heavy():
    """``pecopt --help`` stays fast (0.1 s measured) because the CLI's import, --set and
    help classes included, loads none of the scientific stack; what it loads, not how
    long it takes, is what this checks (machine speed varies)."""
    import subprocess
    import sys

    heavy = ("pydantic", "pandas", "numpy", "pyomo", "yaml", "highspy", "pvlib")
    code = (
        "import sys, pecopt.cli.main; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
