"""The README's library example runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

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
