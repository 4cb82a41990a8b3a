"""The validate workflow: check a scenario without solving it, and sum it up for a planner.

:func:`validate_scenario` loads and ingests the scenario (which validates it and every
file it points to), then :func:`summarise` derives the figures a planner can eyeball
(horizon, floor area, demand per m2, PV yield, mean prices, capacities) from the
ingested tables and the records, and :func:`pecopt.scenario.plausibility.check` lists
the values that look like unit slips. Nothing is written.

The summary is generic over the technologies of :mod:`pecopt.model.registry`: prices are
every ``*eur_per_kwh`` column of every table and every technology's marginal import
price; capacities are every field of a unit record whose name ends in ``_kw``,
``_kwh``, ``_kw_el``, ``_kw_heat``, ``_kwp`` or ``_m2``: a given one as its value, one the
optimiser sizes as the limit it is (``<= 5,000 kWh, sized``, with what exists already).

A layouts file (``base:`` and ``variants:``, as ``pecopt compare`` takes) is validated
whole (:func:`validate_layouts`): the base and every variant loaded, ingested and summed
up; a problem found while reading a variant's files, and a plausibility warning only a
variant has, name the variant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from pecopt.errors import DataError, PecoptError, ScenarioError
from pecopt.ingest.district import ingest, to_inputs
from pecopt.inputs import DistrictInputs
from pecopt.model.blocks.demand import LOADS
from pecopt.model.blocks.pv import TECHNOLOGY as PV
from pecopt.model.registry import TECHNOLOGIES
from pecopt.scenario import load_scenario
from pecopt.scenario.plausibility import Finding, check, records
from pecopt.scenario.types import Size, upper

__all__ = [
    "CAPACITY_SUFFIXES",
    "LayoutsValidation",
    "Validation",
    "capacity_text",
    "summarise",
    "validate_layouts",
    "validate_path",
    "validate_scenario",
]

#: record fields listed as capacities, by the unit at the end of their names
CAPACITY_SUFFIXES = ("_kw", "_kwh", "_kw_el", "_kw_heat", "_kwp", "_m2")
#: the unit each capacity suffix stands for
CAPACITY_UNITS = {"_kw": "kW", "_kwh": "kWh", "_kw_el": "kW el", "_kw_heat": "kW heat",
                  "_kwp": "kWp", "_m2": "m2"}  # fmt: skip


@dataclass(frozen=True)
class Validation:
    """A valid scenario's inputs, its summary and its plausibility warnings."""

    file: Path
    inputs: DistrictInputs
    summary: dict[str, Any]
    findings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        """The summary and the warnings as plain JSON-ready data."""
        return {
            "scenario": str(self.file),
            "valid": True,
            **self.summary,
            "warnings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class LayoutsValidation:
    """A valid layouts file: each variant's validation (the base first), its findings
    labelled with the variant; a finding the base has too is told once, for the base."""

    file: Path
    base: Path
    variants: dict[str, Validation]

    @property
    def findings(self) -> list[Finding]:
        return [f for v in self.variants.values() for f in v.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "layouts": str(self.file),
            "base": str(self.base),
            "valid": True,
            "variants": {
                name: {**v.summary, "warnings": [f.to_dict() for f in v.findings]}
                for name, v in self.variants.items()
            },
            "warnings": [f.to_dict() for f in self.findings],
        }


def validate_scenario(
    path: Path, overrides: dict[str, Any] | None = None, sets: tuple[str, ...] = ()
) -> Validation:
    """Load (with the ``--set PATH=VALUE`` options ``sets``), ingest and check ``path``;
    raises the usual input errors (exit 2)."""
    from pecopt.scenario.yaml_source import read_yaml

    scenario = load_scenario(path, overrides, sets)
    inputs = to_inputs(scenario, ingest(scenario, str(path)), str(path))
    doc = read_yaml(path)  # read again for the positions of the fields (milliseconds)
    return Validation(path, inputs, summarise(inputs), check(inputs, doc))


def is_layouts(path: Path) -> bool:
    """Whether ``path`` is a layouts file (a mapping with ``variants:``); False for
    anything else, including a file that cannot be read (the scenario loader then says
    what is wrong with it)."""
    from pecopt.scenario.yaml_source import YamlProblem, read_yaml

    try:
        data = read_yaml(path).data
    except YamlProblem:
        return False
    return isinstance(data, dict) and "variants" in data


def validate_path(path: Path, sets: tuple[str, ...] = ()) -> Validation | LayoutsValidation:
    """:func:`validate_layouts` for a layouts file, else :func:`validate_scenario`."""
    if is_layouts(path):
        return validate_layouts(path, sets)
    return validate_scenario(path, sets=sets)


def _in_variant(exc: ScenarioError | DataError, name: str, layouts: Path) -> PecoptError:
    """The same error, its problem naming the variant (unless its file already does)."""
    if f"(variant {name})" in exc.file:
        return exc
    problem = f"{exc.problem} (variant {name} of {layouts})"
    if isinstance(exc, ScenarioError):
        return ScenarioError(exc.file, exc.field, problem, line=exc.line, column=exc.column)
    return DataError(exc.file, exc.field, problem)


def validate_layouts(path: Path, sets: tuple[str, ...] = ()) -> LayoutsValidation:
    """Validate a layouts file whole: its keys and every variant's scenario
    (:func:`pecopt.scenario.layouts.load_layouts`), then each variant ingested (every
    file it names read and checked), summed up and checked for plausibility.

    Raises
    ------
    ScenarioError, DataError
        The first problem (exit 2); one found in a variant's files names the variant.
    """
    from pecopt.scenario.layouts import BASE, load_layouts
    from pecopt.scenario.yaml_source import read_yaml

    layouts = load_layouts(path, sets)
    out: dict[str, Validation] = {}
    told: set[tuple[str, str]] = set()
    for v in layouts.variants:
        label = f"{layouts.path} (variant {v.name})"
        try:
            inputs = to_inputs(v.scenario, ingest(v.scenario, label), label)
        except (ScenarioError, DataError) as exc:
            raise _in_variant(exc, v.name, layouts.path) from None
        base = v.name == BASE
        found = []
        for f in check(inputs, read_yaml(layouts.base) if base else None):
            if (f.field, f.problem) in told:
                continue  # the base's, told for the base
            if base:
                told.add((f.field, f.problem))
            file = str(layouts.base if base else layouts.path)
            found.append(replace(f, file=file, problem=f"{f.problem} (variant {v.name})"))
        out[v.name] = Validation(path, inputs, summarise(inputs), found)
    return LayoutsValidation(path, layouts.base, out)


def _energy_kwh(df: pd.DataFrame, column: str, dt_h: float) -> float:
    return float(df[column].to_numpy(np.float64).sum() * dt_h)


def _horizon(inputs: DistrictInputs) -> dict[str, Any]:
    c, s = inputs.common, inputs.scenario
    end = c.index[-1] + pd.Timedelta(hours=c.dt_h)
    return {
        "start_local": c.index[0].tz_convert(c.timezone).isoformat(),
        "end_local": end.tz_convert(c.timezone).isoformat(),
        "steps": c.n,
        "resolution": s.horizon.resolution,
        "hours": c.n * c.dt_h,
        "years": c.years,
    }


def _buildings(inputs: DistrictInputs) -> dict[str, Any]:
    """Count, heated floor area and demand from the ``loads`` table: over the horizon and
    per m2 of the buildings that have a floor area (archetypes); per year only for a
    horizon of a year or more (pro rata beyond a year: x 8760 h / the horizon's hours),
    None for a shorter one (a cold week is not a year's rate)."""
    s, c = inputs.scenario, inputs.common
    area = {
        b.name: sum(float(getattr(r, "floor_area_m2", 0.0)) for _, r in records(b))
        for b in s.buildings
    }
    total_area = sum(area.values())
    loads = inputs.tables.get(LOADS, pd.DataFrame(columns=["building"]))
    with_area = loads[loads["building"].map(lambda n: area.get(str(n), 0.0) > 0)]
    demand: dict[str, dict[str, float | None]] = {}
    for col in (str(x) for x in loads.columns if str(x).endswith("_kw")):
        kwh = _energy_kwh(loads, col, c.dt_h)
        per_m2 = _energy_kwh(with_area, col, c.dt_h) / total_area if total_area else None
        demand[col.removesuffix("_kw")] = {
            "horizon_mwh": kwh / 1000.0,
            "horizon_kwh_per_m2": per_m2,
            "mwh_per_year": _per_year(kwh / 1000.0, c.years),
            "kwh_per_m2_yr": _per_year(per_m2, c.years),
        }
    return {
        "count": len(s.buildings),
        "with_floor_area": sum(1 for a in area.values() if a > 0),
        "floor_area_m2": total_area,
        "district_series": s.demand is not None,
        "demand": demand,
    }


def _per_year(total: float | None, years: float) -> float | None:
    """``total`` over a horizon of ``years`` as an annual rate; None for less than a year."""
    if total is None or years < 1.0 - 1e-9:
        return None
    return total / years


def _pv(inputs: DistrictInputs) -> dict[str, Any]:
    """Rooftop kWp (records with ``kwp``) and their yield from the ``pv_available`` table;
    PV given as series (no kWp) as energy only."""
    c = inputs.common
    kwp = {
        str(getattr(r, "name", "")): upper(getattr(r, "kwp", 0.0))
        for _, r in records(inputs.scenario)
        if "kwp" in type(r).model_fields and "series" not in type(r).model_fields
    }
    data = inputs.data.get(PV.key)
    per_array = (
        pd.Series(data.available_kw.sum(axis=1) * c.dt_h, index=list(data.names))
        if data is not None
        else pd.Series(dtype=float)
    )
    rooftop_kwh = float(per_array[per_array.index.isin(list(kwp))].sum())
    other_kwh = float(per_array[~per_array.index.isin(list(kwp))].sum())
    total = sum(kwp.values())
    per_kwp = rooftop_kwh / total if total else None
    return {
        "arrays": len(kwp),
        "kwp": total,
        "horizon_kwh_per_kwp": per_kwp,
        "kwh_per_kwp_yr": _per_year(per_kwp, c.years),
        "horizon_mwh": rooftop_kwh / 1000.0,
        "series_horizon_mwh": other_kwh / 1000.0,
    }


def _prices(inputs: DistrictInputs) -> dict[str, Any]:
    """Mean marginal import price of every importing technology (ex VAT where its table
    has a ``vat`` column) and mean, min and max of every ``*eur_per_kwh`` column."""
    imports: dict[str, dict[str, float]] = {}
    for key, tech in TECHNOLOGIES.items():
        if tech.import_price is None or key not in inputs.data:
            continue
        price = np.asarray(tech.import_price(inputs.data[key]), dtype=np.float64)
        entry = {"mean_eur_per_kwh": float(price.mean())}
        ex_vat = getattr(inputs.data[key], "import_price_ex_vat", None)
        if ex_vat is not None:
            entry["mean_ex_vat_eur_per_kwh"] = float(np.asarray(ex_vat, np.float64).mean())
        imports[key] = entry
    columns: dict[str, dict[str, float]] = {}
    for name, df in inputs.tables.items():
        for col in (str(x) for x in df.columns):
            if (col == "eur_per_kwh" or col.endswith("_eur_per_kwh")) and len(df):
                v = df[col].to_numpy(np.float64)
                columns[f"{name}.{col}"] = {
                    "mean": float(v.mean()),
                    "min": float(v.min()),
                    "max": float(v.max()),
                }
    return {"import": imports, "columns": columns}


def _number(x: float) -> str:
    return f"{x:,.6g}"


def capacity_text(value: float | Size, unit: str) -> str:
    """How a capacity reads: a given one as its value (``1,000 kWh``), one the optimiser
    sizes as its limit (``<= 5,000 kWh, sized``, and ``existing 1,000`` when some is built
    already)."""
    if not isinstance(value, Size):
        return f"{_number(float(value))} {unit}"
    out = f"<= {_number(value.max)} {unit}, sized"
    if value.existing > 0:
        out += f", existing {_number(value.existing)}"
    return out


def _unit_of(name: str) -> str:
    ends = [s for s in CAPACITY_UNITS if f"_{name}".endswith(s)]
    return CAPACITY_UNITS[max(ends, key=len)] if ends else ""


def _capacities(inputs: DistrictInputs) -> list[dict[str, Any]]:
    """Every capacity-like field (:data:`CAPACITY_SUFFIXES`, not a rate such as
    ``*_eur_per_kwh``) of every unit record: ``value`` (a given one; None when sized),
    ``sized``, ``max`` and ``existing`` (sized ones), its ``field_unit`` and ``text``
    (:func:`capacity_text`)."""
    rows = []
    for key, tech in TECHNOLOGIES.items():
        for unit in tech.units_of(inputs.scenario):
            if not isinstance(unit, BaseModel):
                continue
            for name in type(unit).model_fields:
                value = getattr(unit, name)
                capacity = f"_{name}".endswith(CAPACITY_SUFFIXES) and "_per_" not in name
                if capacity and isinstance(value, int | float | Size):
                    sized = isinstance(value, Size)
                    row: dict[str, Any] = {
                        "technology": key,
                        "unit": str(getattr(unit, "name", key)),
                        "field": name,
                        "value": None if isinstance(value, Size) else float(value),
                        "sized": sized,
                        "field_unit": _unit_of(name),
                        "text": capacity_text(value, _unit_of(name)),
                    }
                    if isinstance(value, Size):
                        row |= {"max": upper(value), "existing": value.existing}
                    rows.append(row)
    return rows


def summarise(inputs: DistrictInputs) -> dict[str, Any]:
    """The figures of a scenario a planner can eyeball (plain data, JSON-ready)."""
    s = inputs.scenario
    return {
        "site": {
            "name": s.site.name,
            "latitude": s.site.latitude,
            "longitude": s.site.longitude,
            "timezone": s.site.timezone,
        },
        "horizon": _horizon(inputs),
        "buildings": _buildings(inputs),
        "pv": _pv(inputs),
        "prices": _prices(inputs),
        "capacities": _capacities(inputs),
    }
