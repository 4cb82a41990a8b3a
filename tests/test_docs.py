"""The scenario reference: every field of the schema is described, with its unit, and is
listed in the generated page (plain pecopt code: no documentation tools needed)."""

from __future__ import annotations

import re
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from pecopt.scenario.layouts import LayoutsFile
from pecopt.scenario.reference import scenario_reference, unit
from pecopt.scenario.schema import Scenario
from pecopt.units import unit_of


def _models(tp: Any, seen: dict[type[BaseModel], None]) -> None:
    """Every model inside ``tp``, walked independently of the generator's own walk."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp in seen:
            return
        seen[tp] = None
        for field in tp.model_fields.values():
            _models(field.annotation, seen)
        return
    for arg in get_args(tp):
        _models(arg, seen)


def _all() -> list[type[BaseModel]]:
    seen: dict[type[BaseModel], None] = {}
    _models(Scenario, seen)
    _models(LayoutsFile, seen)
    return list(seen)


FIELDS = [(m, name) for m in _all() for name in m.model_fields]


def test_the_walk_reaches_the_technologies_and_their_nested_records():
    names = {m.__name__ for m in _all()}
    assert {"HeatPump", "Borehole", "EVFleet", "ResidentsFleet", "Trip", "Size"} <= names
    assert len(FIELDS) > 300  # the schema's size when this test was written: 330


@pytest.mark.parametrize(("model", "name"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n in FIELDS])
def test_every_field_has_a_description_with_the_unit_its_name_carries(model, name):
    text = model.model_fields[name].description
    assert text and text.strip(), f"{model.__name__}.{name} has no description"
    if unit_of(name, ""):  # capacity_kwh, time_limit_s, ...: the unit in brackets too
        assert unit(text), f"{model.__name__}.{name}: no [unit] in {text!r}"


def _sections(page: str) -> dict[str, str]:
    """Reference sections by anchor: ``## HeatPump {#heatpump}`` up to the next heading."""
    parts = re.split(r"^#{2,4} .*\{#([a-z0-9_]+)\}$", page, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_reference_lists_every_field_in_its_models_section():
    sections = _sections(scenario_reference())
    missing = []
    for model, name in FIELDS:
        body = sections.get(model.__name__.lower().lstrip("_"), "")
        row = re.search(rf"^\| `{name}` \| (.*) \|$", body, re.M)
        text = " ".join((model.model_fields[name].description or "").split())
        shown = row and re.sub(r"\\([|\[\]])", r"\1", row.group(1))  # Markdown escapes
        if not shown or text[:40] not in shown:
            missing.append(f"{model.__name__}.{name}")
    assert not missing


def test_a_row_gives_type_unit_default_and_description():
    sections = _sections(scenario_reference())
    rows = {
        m.group(1): m.group(2).split(" | ")
        for m in re.finditer(r"^\| `(\w+)` \| (.*) \|$", sections["battery"], re.M)
    }
    # capacity_kwh: a number >= 0 or a Size (linked), kWh, no default
    assert rows["capacity_kwh"][:3] == ["float (>= 0.0) or [Size](#size)", "kWh", "required"]
    assert rows["eta_charge"][:3] == ["float (> 0.0, <= 1.0)", "1", "`0.95`"]
    assert rows["end"][0] == '`"cyclic"` or `"initial"` or `"free"` or `"value"`'
    # inherited fields are listed with the subclass's own
    assert "wear_eur_per_kwh" in rows and rows["wear_eur_per_kwh"][1] == "EUR/kWh"
    hp = _sections(scenario_reference())["heatpump"]
    assert "At: `assets.heat_pumps[]`." in hp


def test_unit_is_the_first_bracket_that_is_not_a_note():
    assert unit("Largest import [kW]: a number") == "kW"
    assert unit("Energy use per km [assumption] [kWh/km]") == "kWh/km"
    assert unit("The fleet's name.") == ""
    assert unit("Shared by the chargers: ``sum_v c[v,t] <= P``.") == ""  # code, not a unit
