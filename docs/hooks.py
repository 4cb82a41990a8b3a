"""mkdocs hook: the pages generated from the code, added to the site's files as it builds.

- ``reference/scenario.md``: the scenario reference (:mod:`pecopt.scenario.reference`);
- ``reference/technologies.md``: each technology of the registry, its module docstring (the
  equations) rendered by mkdocstrings, in build order;
- ``notebooks/*.ipynb``: the notebooks of the repository, read where they are (so they run
  in that folder, as they do in Jupyter) and executed by mkdocs-jupyter.

Sphinx roles left in rendered docstrings (``:func:``) are dropped. Nothing is written into
the working tree.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
#: A Sphinx role left in a rendered docstring: ``:func:`~pecopt.x``` -> ``pecopt.x``.
ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj):(<code>)~?")


def _technologies() -> str:
    from pecopt.model.registry import TECHNOLOGIES

    lines = [
        "# Technologies and their equations",
        "",
        "One file per technology in `pecopt/model/blocks/`: its parameter record (keys in the "
        "[scenario reference](scenario.md)), its block's variables and constraints, and the "
        "flows it tags. Listed from the registry (`pecopt/model/registry.py`), in build order; "
        "each section is the module's docstring. Units: power kW, energy kWh, money EUR, "
        "emissions kg CO2e; `dt` is the step length in hours.",
        "",
    ]
    for key, tech in TECHNOLOGIES.items():
        module, record = tech.build.__module__, tech.unit.__name__
        lines += [
            f"## `{key}`",
            "",
            f"`{module}`, parameters: [{record}](scenario.md#{record.lower()})",
            "",
            f"::: {module}",
            "    options:",
            "      members: false",
            "      show_root_heading: false",
            "      show_root_toc_entry: false",
            "",
        ]
    return "\n".join(lines)


@event_priority(100)  # before mkdocs-jupyter, which picks the notebooks out of the files
def on_files(files: Files, config: Any) -> Files:
    from pecopt.scenario.reference import scenario_reference

    files.append(File.generated(config, "reference/scenario.md", content=scenario_reference()))
    files.append(File.generated(config, "reference/technologies.md", content=_technologies()))
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        # a real file at its place in the repository (mkdocs-jupyter reads its path)
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def on_page_content(html: str, **kwargs: Any) -> str:
    """Docstrings are written for Sphinx-style roles; the site shows the name as code."""
    return ROLE.sub(r"\1", html)
