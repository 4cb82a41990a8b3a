"""The notebooks run in a real Jupyter kernel (nbclient) on real pecopt outputs, and every
chart they make is in their HTML export (nbconvert) and draws in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from typer.testing import CliRunner

from pecopt.cli.main import app
from pecopt.testing import extending

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PLOTLY_JSON = "application/vnd.plotly.v1+json"
CHROMIUM = Path("/usr/bin/chromium")


def execute(name: str, check: str = "") -> tuple[nbformat.NotebookNode, str]:
    """Run notebook ``name`` in a fresh python3 kernel from the notebooks folder (the
    kernel inherits this process's environment: PECOPT_* set by the test), with ``check``
    appended as a last cell; its HTML export."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    if check:
        nb.cells.append(nbformat.v4.new_code_cell(check))
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on a failure
    html, _ = HTMLExporter().from_notebook_node(nb)
    return nb, html


def charts(nb: nbformat.NotebookNode) -> list[str]:
    """The div id of every Plotly chart the executed notebook displayed (its HTML output
    next to the Plotly JSON)."""
    ids = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_JSON in data:
                html = data["text/html"]
                found = re.search(r'<div (?=[^>]*class="plotly-graph-div")[^>]*id="([^"]+)"', html)
                assert found is not None, "a chart without its HTML rendering"
                ids.append(found.group(1))
    return ids


def in_html(html: str, ids: list[str]) -> None:
    """Each chart's div and its drawing call are in the export, with plotly.js inlined
    (the page needs no network)."""
    assert html.count('class="plotly-graph-div"') == len(ids)
    for div in ids:
        assert re.search(rf'<div (?=[^>]*class="plotly-graph-div")[^>]*id="{div}"', html), div
        assert re.search(rf'Plotly\.newPlot\(\s*"{div}"', html), div
    assert not re.search(r'<script[^>]*src="[^"]*plot\.ly', html)
    assert html.count("* plotly.js v") == 1  # the bundle, once, before the first chart


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    """The explore notebook run on a fresh two-day Kera output: (notebook, HTML, folder)."""
    tmp = tmp_path_factory.mktemp("explore")
    days = {"start": "2025-10-25T00:00", "end": "2025-10-27T00:00"}  # the autumn DST change
    scenario = extending(tmp / "kera_days.yaml", ROOT / "scenarios" / "kera.yaml",
                         {"horizon": days})  # fmt: skip
    out = tmp / "run"
    result = CliRunner().invoke(app, ["solve", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    # two local days (one of 25 h) x two carriers; the chart shows the electricity bus
    check = (
        f"assert RUN == Path({str(out)!r})\n"
        "assert len(daily) >= 2 * 2, daily\n"
        "assert {t.name for t in fig.data} == set(el['asset']) and len(fig.data) >= 3"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PECOPT_RUN", str(out))
        nb, html = execute("explore_results.ipynb", check)
    return nb, html, tmp


def test_explore_notebook_runs_on_a_fresh_output_and_its_chart_is_in_the_html(explored):
    nb, html, _ = explored
    ids = charts(nb)
    assert len(ids) == 1  # the electricity bus (it used to be built but never displayed)
    in_html(html, ids)


@pytest.mark.slow
def test_explore_notebooks_chart_draws_in_chromium(explored):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    nb, html, tmp = explored
    page = tmp / "explore.html"
    page.write_text(html, encoding="utf-8")
    assert drawn(page) == charts(nb)


@pytest.mark.slow
def test_compare_notebook_runs_and_its_two_charts_are_in_the_html(tmp_path, monkeypatch):
    monkeypatch.setenv("PECOPT_LAYOUTS", str(ROOT / "scenarios" / "kera_layouts.yaml"))
    monkeypatch.setenv("PECOPT_HORIZON", "2025-01-06T00:00/2025-01-07T00:00")
    monkeypatch.setenv("PECOPT_WORK", str(tmp_path / "work"))
    check = (
        "assert table.index[0] == 'base' and len(table) == 6, table\n"
        "assert table['horizon_h'].tolist() == [24.0] * 6\n"
        "assert summary.loc['base', 'cost_total_vs_base_eur'] == 0.0\n"
        "assert len(fig_delta.data) >= 1 and len(fig_plane.data) >= 1"
    )
    nb, html = execute("compare_layouts.ipynb", check)
    ids = charts(nb)
    assert len(ids) == 2  # the differences to the base, and the cost-CO2 plane
    in_html(html, ids)
    assert (tmp_path / "work" / "out" / "report.html").is_file()
    if CHROMIUM.exists():  # the export draws its charts offline
        page = tmp_path / "compare.html"
        page.write_text(html, encoding="utf-8")
        assert drawn(page) == ids


def drawn(page: Path) -> list[str]:
    """The ids of the Plotly charts that drew an SVG with at least one trace in Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox"])  # fmt: skip
        tab = browser.new_page()
        failed: list[str] = []
        tab.on("requestfailed", lambda r: failed.append(r.url))  # offline: the CDN's MathJax
        tab.goto(page.resolve().as_uri(), wait_until="load")
        ids = tab.evaluate(
            """() => Array.from(document.querySelectorAll("div.plotly-graph-div"))
              .filter(d => d._fullLayout && d.querySelectorAll("g.trace").length > 0)
              .map(d => d.id)"""
        )
        browser.close()
    assert [u for u in failed if "plot" in u] == []
    return list(ids)
