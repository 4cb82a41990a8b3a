"""Plausibility warnings: inputs that validate but look like unit slips.

A scenario can be valid and still wrong by a factor of 100 or 1000: a network fee of
3.5 EUR/kWh (cents typed as euros), a 0.45 kW heat pump (MW typed as kW), a PV array
with ``azimuth_deg: 0`` (north in pvlib, where a PVGIS user means south). The rules
below are keyed on the **unit suffix of field names** (units are in every name) and on a
few physical checks, so a new technology's records are checked without being listed:

==========================  ==================================================  =========
field or table              suspicious when                                     see
==========================  ==================================================  =========
``*eur_per_kwh``            above 1 EUR/kWh; a ``*margin*``/``*fee*`` below 0   prices
``*_kw``, ``*_kw_el``       0 < value < 1 kW (under ``assets``); above 1 GW     power
``*_kwp``                   above 1 GW                                          power
``azimuth_deg``             within 45 deg of north (0/360) on a tilted plane    PV
``tilt_deg``                >= 85 deg with >= 50 kWp (or >= 300 m2)             PV
``*_kwh_m2_yr``             outside elec 5-300, space heat 5-300, hot water     demand
                            0-80 kWh/m2/yr
``power_kw``                above 4 x ``capacity_kwh`` of the same record       storage
``eta*``, ``*efficiency``   exactly 1.0 (lossless)                              losses
``cop*``                    above 8                                             COP
``end: cyclic``             on a horizon shorter than a day                     storage
tables ``*eur_per_kwh``     mean over the horizon above 1 EUR/kWh               prices
tables ``cop``              above 8                                             COP
EV tables                   a session or a trip needs more than the battery     EVs
==========================  ==================================================  =========

A table rule is skipped for a technology whose records already gave the same kind of
warning (a fee typed in the YAML is reported once, at its line). Warnings never fail a
command; ``pecopt validate --strict`` makes them errors.

Sources for the ranges: typical Finnish specific demands (electricity 20-120, space
heat 30-150, hot water 5-40 kWh/m2/yr, ``../shared/reference/FACTS.md``) widened by
about a factor of 2.5 either way; heat-pump seasonal COPs 2-5 (FACTS: heat pumps).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from pecopt.inputs import DistrictInputs
from pecopt.model.linear import FloatArray
from pecopt.model.registry import TECHNOLOGIES
from pecopt.scenario.loader import field_name
from pecopt.scenario.yaml_source import DataPath, YamlDocument

__all__ = ["Finding", "check", "records"]

#: EUR/kWh above which a price looks like cents typed as euros
MAX_PRICE_EUR_PER_KWH = 1.0
#: kW below which a district asset's power looks like MW typed as kW
MIN_ASSET_KW = 1.0
#: kW above which any power looks like W typed as kW (1 GW)
MAX_KW = 1e6
#: plausible specific demands [kWh/m2/yr] by the field's prefix
DEMAND_RANGES: dict[str, tuple[float, float]] = {
    "elec": (5.0, 300.0),
    "space_heat": (5.0, 300.0),
    "hot_water": (0.0, 80.0),
}
#: a store whose power exceeds this many times its energy [1/h] fills in under 15 min
MAX_C_RATE_PER_H = 4.0
MAX_COP = 8.0
#: azimuths within this many degrees of north (0/360) face north
NORTH_DEG = 45.0
#: tilts from which a plane is vertical (a facade), and the size that makes it doubtful
VERTICAL_DEG = 85.0
BIG_KWP = 50.0
BIG_AREA_M2 = 300.0
#: below this tilt the azimuth does not matter
FLAT_DEG = 5.0
MIN_CYCLIC_H = 24.0


@dataclass(frozen=True)
class Finding:
    """One plausibility warning: ``file:line:column: field: problem``."""

    file: str
    field: str
    problem: str
    line: int | None = None
    column: int | None = None
    kind: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.field}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "kind": self.kind,
            "problem": self.problem,
        }


def records(model: BaseModel, path: DataPath = ()) -> Iterator[tuple[DataPath, BaseModel]]:
    """Every record (pydantic model) inside ``model``, with its path in the YAML data
    (``("assets", "heat_pumps", 0)``), ``model`` itself first."""
    yield path, model
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from records(value, (*path, name))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from records(item, (*path, name, i))


def _numbers(value: Any) -> FloatArray | None:
    """A number or a list of numbers as an array; None for anything else (files, text)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return np.array([float(value)])
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        return np.asarray(value, dtype=np.float64)
    return None


def _label(record: BaseModel) -> str:
    name = getattr(record, "name", None)
    return f" ({name})" if isinstance(name, str) else ""


#: one record-level doubt: (field path, kind, problem)
Doubt = tuple[DataPath, str, str]


def _field_doubts(path: DataPath, record: BaseModel, hours: float) -> Iterator[Doubt]:
    """The rules of the module table on one record's own fields."""
    fields = {name: getattr(record, name) for name in type(record).model_fields}
    who = _label(record)
    in_assets = bool(path) and path[0] == "assets"
    for name, value in fields.items():
        at = (*path, name)
        x = _numbers(value)
        if x is None:
            continue
        hi, lo = float(x.max()), float(x.min())
        if (name == "eur_per_kwh" or name.endswith("_eur_per_kwh")) and "penalty" not in name:
            if hi > MAX_PRICE_EUR_PER_KWH:
                yield (
                    at,
                    "price",
                    (
                        f"{hi:g} EUR/kWh is above {MAX_PRICE_EUR_PER_KWH:g} EUR/kWh{who}: cents "
                        f"typed as euros? ({hi:g} c/kWh is {hi / 100:g} EUR/kWh)"
                    ),
                )
            if lo < 0 and ("margin" in name or "fee" in name):
                yield (
                    at,
                    "price",
                    (
                        f"{lo:g} EUR/kWh is negative{who}: a fee or margin that pays the buyer; "
                        "a sign slip?"
                    ),
                )
        elif f"_{name}".endswith(("_kw", "_kw_el", "_kwp")):  # also a field named "kwp"
            unit = "kWp" if name.endswith("kwp") else "kW"
            scalar = x.size == 1 and not isinstance(value, list | tuple)
            if in_assets and scalar and name.endswith(("_kw", "_kw_el")) and 0 < lo < MIN_ASSET_KW:
                yield (
                    at,
                    "power",
                    (
                        f"{lo:g} kW is below {MIN_ASSET_KW:g} kW for a district asset{who}: MW "
                        f"typed as kW? ({lo:g} MW is {lo * 1000:g} kW)"
                    ),
                )
            if hi > MAX_KW:
                yield at, "power", f"{hi:g} {unit} is above 1 GW{who}: W typed as kW?"
        elif name.endswith("_kwh_m2_yr"):
            stem = name.removesuffix("_kwh_m2_yr")
            if stem in DEMAND_RANGES:
                low, high = DEMAND_RANGES[stem]
                if not low <= hi <= high:
                    yield (
                        at,
                        "demand",
                        (
                            f"{hi:g} kWh/m2/yr is outside the plausible {low:g}-{high:g} "
                            f"kWh/m2/yr for {stem.replace('_', ' ')}{who}: a total typed as a "
                            "figure per m2, or MWh as kWh?"
                        ),
                    )
        elif (name.startswith("eta") or name.endswith("efficiency")) and hi == 1.0:
            yield at, "efficiency", f"exactly 1.0{who}: lossless; intended?"
        elif (name == "cop" or name.startswith("cop_")) and hi > MAX_COP:
            yield (
                at,
                "cop",
                (
                    f"COP {hi:g} is above {MAX_COP:g}{who}: heat pumps deliver about 2-5; "
                    "heat output typed as COP?"
                ),
            )
    tilt = fields.get("tilt_deg")
    az = fields.get("azimuth_deg")
    if isinstance(az, int | float) and (tilt is None or tilt > FLAT_DEG):
        if az <= NORTH_DEG or az >= 360.0 - NORTH_DEG:
            yield (
                (*path, "azimuth_deg"),
                "orientation",
                (
                    f"azimuth {az:g} deg faces north{who}: pvlib's convention is 180 = south "
                    "(0 = north, 90 = east); PVGIS uses 0 = south"
                ),
            )
    size = fields.get("kwp") or 0.0
    area = fields.get("area_m2") or 0.0
    if isinstance(tilt, int | float) and tilt >= VERTICAL_DEG:
        if size >= BIG_KWP or area >= BIG_AREA_M2:
            what = f"{size:g} kWp" if size else f"{area:g} m2"
            yield (
                (*path, "tilt_deg"),
                "orientation",
                (
                    f"tilt {tilt:g} deg is vertical (a facade) for {what}{who}: tilt is measured "
                    "from the horizontal (0 = flat roof)"
                ),
            )
    power, energy = fields.get("power_kw"), fields.get("capacity_kwh")
    if isinstance(power, int | float) and isinstance(energy, int | float) and energy > 0:
        if power > MAX_C_RATE_PER_H * energy:
            yield (
                (*path, "power_kw"),
                "storage",
                (
                    f"power {power:g} kW is more than {MAX_C_RATE_PER_H:g} x the energy "
                    f"{energy:g} kWh{who} (full to empty in {60 * energy / power:.0f} min): "
                    "kW and kWh swapped, or MWh typed as kWh?"
                ),
            )
    if fields.get("end") == "cyclic" and hours < MIN_CYCLIC_H:
        yield (
            (*path, "end"),
            "storage",
            (
                f"end: cyclic on a horizon of {hours:g} h{who}: the store must end where it "
                "started within less than a day; cyclic is meant for long (design) horizons "
                "(use end: free, initial or value)"
            ),
        )


def _table_doubts(inputs: DistrictInputs, quiet: set[tuple[str, str]]) -> Iterator[Doubt]:
    """Rules on the ingested tables (series from files and inline lists); ``quiet`` holds
    (technology key, kind) pairs already reported from the records."""
    for table, df in inputs.tables.items():
        key = next((k for k in TECHNOLOGIES if table.startswith(k)), table)
        for col in df.columns:
            c = str(col)
            if c == "eur_per_kwh" or c.endswith("_eur_per_kwh"):
                values = pd.to_numeric(df[col], errors="coerce").to_numpy(np.float64)
                mean = float(np.nanmean(values)) if values.size else 0.0
                if mean > MAX_PRICE_EUR_PER_KWH and (key, "price") not in quiet:
                    yield (
                        (table, c),
                        "price",
                        (
                            f"mean {mean:g} EUR/kWh over the horizon is above "
                            f"{MAX_PRICE_EUR_PER_KWH:g} EUR/kWh: cents or EUR/MWh typed as EUR/kWh?"
                        ),
                    )
            elif c == "cop" and len(df) and (key, "cop") not in quiet:
                top = float(df[col].max())
                if top > MAX_COP:
                    yield (
                        (table, c),
                        "cop",
                        (
                            f"COP up to {top:g}, above {MAX_COP:g}: heat pumps deliver about 2-5; "
                            "heat output typed as COP?"
                        ),
                    )
    yield from _ev_doubts(inputs)


def _ev_doubts(inputs: DistrictInputs) -> Iterator[Doubt]:
    """EV sessions and trips that need more energy than the vehicle's battery holds."""
    fleets = {
        getattr(u, "name", None): u
        for t in TECHNOLOGIES.values()
        for u in t.units_of(inputs.scenario)
        if hasattr(u, "capacity_kwh") and hasattr(u, "charger_kw")
    }
    for table, df in inputs.tables.items():
        if "fleet" not in df.columns or not len(df):
            continue
        for fleet, rows in df.groupby("fleet", sort=False):
            spec = fleets.get(str(fleet))
            if spec is None:
                continue
            cap = float(spec.capacity_kwh)
            if "energy_kwh" in rows.columns:
                big = rows[rows["energy_kwh"] > cap]
                if len(big):
                    r = big.iloc[0]
                    yield (
                        (table, "energy_kwh"),
                        "ev",
                        (
                            f"fleet {fleet}: a session of vehicle {r['vehicle']} wants "
                            f"{r['energy_kwh']:g} kWh, more than the battery holds ({cap:g} kWh)"
                        ),
                    )
            if {"plugged", "drive_kwh", "vehicle"} <= set(rows.columns):
                for vehicle, v in rows.groupby("vehicle", sort=False):
                    plugged = v["plugged"].to_numpy(bool)
                    trip = np.cumsum(plugged)  # one id per stretch between plug-ins
                    drive = v["drive_kwh"].to_numpy(np.float64) * ~plugged
                    worst = float(np.bincount(trip, weights=drive).max()) if len(v) else 0.0
                    if worst > cap * (1 + 1e-9):
                        yield (
                            (table, "drive_kwh"),
                            "ev",
                            (
                                f"fleet {fleet}: vehicle {vehicle} drives {worst:g} kWh between "
                                f"plug-ins, more than its battery holds ({cap:g} kWh); the rest "
                                "is bought at the shortfall penalty"
                            ),
                        )
                        break


def check(inputs: DistrictInputs, doc: YamlDocument | None = None) -> list[Finding]:
    """Every plausibility warning of a scenario's inputs, in file order.

    Parameters
    ----------
    inputs
        The validated, ingested inputs (``pecopt.ingest.district.to_inputs``).
    doc
        The scenario file as read by :func:`pecopt.scenario.yaml_source.read_yaml`, for
        the line and column of each field (None: no positions).
    """
    file = inputs.common.file or "<scenario>"
    hours = inputs.common.n * inputs.common.dt_h
    found: list[Finding] = []
    quiet: set[tuple[str, str]] = set()
    for path, record in records(inputs.scenario):
        for at, kind, problem in _field_doubts(path, record, hours):
            mark = None
            if doc is not None:
                for k in range(len(at), 0, -1):  # the field, else the nearest record given
                    mark = doc.mark(at[:k])
                    if mark is not None:
                        break
            line, column = mark if mark else (None, None)
            found.append(Finding(file, field_name(at), problem, line, column, kind))
            if len(at) > 1 and at[0] == "assets":
                quiet.add((str(at[1]), kind))
    for at, kind, problem in _table_doubts(inputs, quiet):
        found.append(Finding(file, f"{field_name(at)} (input table)", problem, kind=kind))
    return sorted(found, key=lambda f: (f.line is None, f.line or 0, f.column or 0))
