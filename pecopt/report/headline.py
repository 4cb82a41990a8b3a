"""The headline: a dozen key figures a designer reads first, with labels, units and
meaningful digits, for one run or side by side for the variants of a comparison (or the
points of a Pareto front) with their differences to the first.

Every figure is read from one flat row of key figures (the columns of
``comparison.parquet``, :func:`pecopt.results.summary.flat_kpis`), so a run and a
comparison show the same numbers. A difference smaller than :data:`NOISE` of the values
compared is the solver's rounding, and shown as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pecopt.report.html import esc, number, table
from pecopt.units import label_of, unit_of

#: A difference below this share of the larger of the two values is numerical noise.
NOISE = 1e-7
#: Below this a value is noise whatever it is compared with (1e-6 kWh of unmet energy).
FLOOR = 1e-4
#: Hours of a year, less a little: a row or run of at least this long is a full year.
YEAR_H = 8760 - 1e-6

Row = Mapping[Any, Any]


def _num(row: Row, name: str) -> float | None:
    v = row.get(name)
    if isinstance(v, bool) or not isinstance(v, int | float | np.floating | np.integer):
        return None
    f = float(v)
    return None if f != f else f


def _sum(row: Row, names: list[str]) -> float | None:
    vals = [_num(row, n) for n in names]
    got = [v for v in vals if v is not None]
    return float(sum(got)) if got else None


@dataclass(frozen=True)
class Figure:
    """One headline figure: ``label``; its ``unit`` per year (``per_year``) or as it is;
    ``value`` from a flat row, already in that unit; ``status`` the column of a PED
    verdict shown beside the value; ``missing`` what a row without it shows."""

    label: str
    unit: str
    value: Callable[[Row], float | None]
    per_year: bool = False
    status: str | None = None
    missing: str = "n/a"


def _heat_import(row: Row) -> float | None:
    names = [f"{c}_import_kwh" for c in ("heat", "space_heat", "hot_water")]
    v = _sum(row, names)
    return None if v is None else v / 1000.0


def _scaled(name: str, k: float) -> Callable[[Row], float | None]:
    def f(row: Row) -> float | None:
        v = _num(row, name)
        return None if v is None else v * k

    return f


#: The headline, in order (at most a dozen rows).
FIGURES: tuple[Figure, ...] = (
    Figure("Total cost incl. annualised investment", "EUR", _scaled("cost_total_eur", 1), True),
    Figure(
        "of which annualised investment (with fixed O&M)",
        "EUR",
        _scaled("investment_eur", 1),
        True,
        missing="none: no capacity with cost data was sized",
    ),
    Figure("Net CO2 emissions", "t CO2e", _scaled("co2_net_kg", 1e-3), True),
    Figure(
        "PED, final energy: surplus",
        "MWh",
        _scaled("ped_final_energy_surplus_kwh", 1e-3),
        True,
        "ped_final_energy_status",
    ),
    Figure(
        "PED, weighted energy: surplus",
        "MWh",
        _scaled("ped_weighted_energy_surplus_kwh", 1e-3),
        True,
        "ped_weighted_energy_status",
    ),
    Figure(
        "PED, greenhouse gases: net emissions",
        "t CO2e",
        _scaled("ped_ghg_net_co2_kg", 1e-3),
        True,
        "ped_ghg_status",
    ),
    Figure("Self-sufficiency (electricity)", "%", _scaled("self_sufficiency", 100.0)),
    Figure("Peak grid import", "kW", _scaled("peak_grid_import_kw", 1)),
    Figure("District heat import", "MWh", _heat_import, True),
    Figure("Peak district heat import", "kW", _scaled("peak_district_heat_import_kw", 1)),
    Figure(
        "Local electricity generation", "MWh", _scaled("electricity_generation_kwh", 1e-3), True
    ),
    Figure("Unmet energy", "kWh", _scaled("unmet_total_kwh", 1), True),
)


def unit_label(f: Figure, full_year: bool) -> str:
    """``EUR/yr`` for a yearly figure of a full year, ``EUR`` over a shorter horizon."""
    return f"{f.unit}/yr" if f.per_year and full_year else f.unit


def fmt(v: float | None, unit: str = "", missing: str = "n/a") -> str:
    """A headline value: thousands separators, digits that mean something, no ``-0``."""
    if v is None or v != v:
        return missing
    if unit == "%":
        return number(v / 100.0, "%")
    return number(v)


def denoise(v: float | None, scale: float = 0.0) -> float | None:
    """``v``, or 0 where it is below :data:`NOISE` of ``scale`` (the largest value it is
    shown with) or below :data:`FLOOR`: the solver's rounding, not a quantity."""
    if v is None or v != v:
        return v
    return 0.0 if abs(v) <= max(NOISE * scale, FLOOR) else v


def difference(x: float | None, base: float | None, scale: float = 0.0) -> float | None:
    """``x - base``, 0 where it is below :data:`NOISE` of the larger value or of ``scale``
    (rounding)."""
    if x is None or base is None:
        return None
    return denoise(x - base, max(abs(x), abs(base), scale))


def delta_text(x: float | None, base: float | None, unit: str = "", scale: float = 0.0) -> str:
    """``(+1,234, +5.6%)``: the difference to the base, absolute and relative."""
    d = difference(x, base, scale)
    if d is None:
        return ""
    if unit == "%":  # a difference of percentages is in percentage points
        return f"({'+' if d > 0 else ''}{number(d)} pp)"
    rel = f", {'+' if d > 0 else ''}{number(d / abs(base), '%')}" if base else ""
    return f"({'+' if d > 0 else ''}{number(d)}{rel})"


def _full_year(rows: Sequence[Row]) -> bool:
    hours = [_num(r, "horizon_h") for r in rows]
    return all(h is not None and h >= YEAR_H for h in hours)


def _status(row: Row, f: Figure, short: bool = False) -> str:
    """The PED verdict of a row: in words, or ``short`` as a mark with the words on hover."""
    if f.status is None:
        return ""
    s = row.get(f.status)
    if not isinstance(s, str) or not s:
        return ""
    cls = "yes" if s == "PED" else "no"
    if short:
        mark = "\u2713" if s == "PED" else "\u2717" if s == "not a PED" else "?"
        return f"<b class='{cls}' title='{esc(s)}'>{mark}</b> "
    return f"<b class='{cls}'>{esc(s)}</b> "


def _shown(f: Figure, rows: Sequence[Row]) -> bool:
    return f.missing != "n/a" or any(f.value(r) is not None for r in rows)


def run_table(row: Row, full_year: bool) -> str:
    """The headline of one run: figure, value, unit."""
    rows = []
    for f in FIGURES:
        if not _shown(f, [row]):
            continue
        unit = unit_label(f, full_year)
        value = _status(row, f) + fmt(denoise(f.value(row)), f.unit, f.missing)
        rows.append([esc(f.label), value, esc(unit)])
    return table(["key figure", "value", "unit"], rows, numeric_from=1)


def compare_table(t: pd.DataFrame, key: str, base: str) -> str:
    """The headline of a comparison or front: one row per figure, the first member's value,
    then each other's with its difference to the first below it (PED verdicts as marks:
    \u2713 a PED, \u2717 not)."""
    records = t.to_dict("records")
    full = _full_year(records)
    names = t[key].astype(str).tolist()
    out = []
    for f in FIGURES:
        if not _shown(f, records):
            continue
        unit = unit_label(f, full)
        raw = [f.value(r) for r in records]
        scale = max((abs(v) for v in raw if v is not None and v == v), default=0.0)
        vals = [denoise(v, scale) for v in raw]
        # a value that differs from the first by noise only is shown as the first
        vals = [vals[0] if difference(v, vals[0], scale) == 0.0 else v for v in vals]
        label = f"{esc(f.label)} [{esc(unit)}]"
        if f.status:
            label += " <span class='note'>(\u2713 PED, \u2717 not)</span>"
        row = [label, _status(records[0], f, True) + fmt(vals[0], f.unit, "none")]
        for r, v in zip(records[1:], vals[1:], strict=True):
            d = delta_text(v, vals[0], f.unit, scale)
            text = _status(r, f, True) + fmt(v, f.unit, "none")
            row.append(text + (f"<br><span class='delta'>{d}</span>" if d else ""))
        out.append(row)
    header = ["key figure", f"{names[0]} ({base})", *names[1:]]
    return table(header, out, numeric_from=1, wrap=True)


def notes_list(notes: Mapping[str, str]) -> str:
    """Per-member notes as a list (``name: note``), or "" without any."""
    if not notes:
        return ""
    items = "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in notes.items())
    return f"<ul class='note'>{items}</ul>"


def words(name: str) -> str:
    """A column's name for people: its key figure label, or its name in words, with its
    unit: ``cost_dh_power_fee_eur`` -> "cost district heat power fee [EUR]"."""
    unit = "%" if name in ("self_sufficiency", "self_consumption") else unit_of(name, "")
    label = label_of(name)
    if label == name.replace("_", " "):
        stem = name
        for suffix in ("_eur_per_kwh", "_kg_per_kwh", "_eur", "_kwh", "_kwp", "_kw", "_kg", "_h"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        label = " ".join({"dh": "district heat", "ev": "EV"}.get(w, w) for w in stem.split("_"))
    return f"{label} [{unit}]" if unit else label
