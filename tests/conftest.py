"""Shared test set-up: keep every test's side files inside its own ``tmp_path``."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _logs_in_tmp_path(tmp_path, monkeypatch):
    """Internal-error logs (``pecopt.cli.edge``) go under ``tmp_path``, not ``~``."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
