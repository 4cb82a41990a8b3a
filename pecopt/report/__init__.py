"""HTML reports of results folders: ``build_report(RUN_DIR)`` writes ``RUN_DIR/report.html``.

Modules: :mod:`~pecopt.report.data` (the only reader of the folder layout),
:mod:`~pecopt.report.tables` (numbers per figure), :mod:`~pecopt.report.figures` (one plotly
figure per function), :mod:`~pecopt.report.html` (the self-contained page) and
:mod:`~pecopt.report.build` (sections and the atomic write). Importing this package does
not import plotly; :func:`build_report` does.
"""

from __future__ import annotations

from pathlib import Path


def build_report(run_dir: Path, name: str | None = None) -> Path:
    """Write ``run_dir/report.html`` (see :func:`pecopt.report.build.build_report`)."""
    from pecopt.report.build import build_report as build

    return build(run_dir, name)


__all__ = ["build_report"]
