"""Edits of a built model live in :mod:`pecopt.model.transforms`: each named edit against a
tiny case worked out by hand, and no workflow writes rows or fixes variables itself."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from pecopt.api import build, solve
from pecopt.model.transforms import fix_sizes, keep_stage, sizes
from pecopt.solver import solve as solve_model
from pecopt.testing import inputs_of, tiny_scenario

PACKAGE = Path(__file__).resolve().parents[1] / "pecopt"
#: calls that edit a built model (rows, variables, objectives, fixing, bounds, activity)
EDITS = {"add_rows", "add_var", "add_objective", "add_component", "fix", "unfix", "setub",
         "setlb", "deactivate", "activate", "del_component"}  # fmt: skip


def _calls(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in EDITS:
                out.append((node.lineno, name))
    return out


def test_no_workflow_edits_a_model_itself() -> None:
    files = [*sorted((PACKAGE / "workflows").glob("*.py")), PACKAGE / "api.py"]
    found = {f.name: c for f in files if (c := _calls(f))}
    assert found == {}, f"model edits outside pecopt/model/transforms.py: {found}"


def test_nothing_finds_a_variable_by_its_name() -> None:
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        for suffix in ('"_new"', '"_modules"', "find_component("):
            assert suffix not in text, (path, suffix)


def _battery_design(capex_per_kwh_over_horizon: float, unit: float | None) -> dict:
    """Two hours: PV 4 kW then none; load 1 kW; import 0.3 EUR/kWh, export worth 0; a
    lossless battery whose size costs ``capex`` EUR/kWh over the horizon."""
    years = 2 / 8760
    cap = {"max": 100.0, "capex_eur_per_unit": capex_per_kwh_over_horizon / years,
           "lifetime_yr": 1.0}  # fmt: skip
    if unit is not None:
        cap["unit_size"] = unit
    s = tiny_scenario(2, elec_kw=1.0, spot=0.3, export=0.0, pv_kw=np.array([4.0, 0.0]))
    s["assets"]["batteries"] = [
        {"name": "bat", "eta_charge": 1.0, "eta_discharge": 1.0, "power_kw": 10.0,
         "capacity_kwh": cap, "soc_initial_kwh": 0.0, "end": "free"}
    ]  # fmt: skip
    s["economics"] = {"discount_rate": 0.0}
    return s


@pytest.mark.parametrize(("unit", "built_kwh"), [(None, 1.0), (0.4, 1.2)])
def test_sizes_are_read_and_fixed_by_their_tags(unit: float | None, built_kwh: float) -> None:
    # Storing the 3 kWh of surplus pays 0.3 EUR per kWh needed in hour 2 (1 kWh) against
    # 0.1 EUR/kWh of capacity: 1 kWh is built (in 0.4 kWh modules: 3 modules, 1.2 kWh).
    sol = solve(built := build(inputs_of(_battery_design(0.1, unit))))
    chosen = sizes(built.district)
    assert chosen == {"bat.energy_kwh": pytest.approx(built_kwh, abs=1e-6)}
    assert sol.objective == pytest.approx(0.1 * built_kwh, abs=1e-6)
    # fixed in another model of the same scenario (one whose capacity would cost more)
    other = build(inputs_of(_battery_design(0.5, unit)))
    fix_sizes(other.district, chosen)
    again = solve(other)
    assert sizes(other.district) == {k: pytest.approx(v, abs=1e-9) for k, v in chosen.items()}
    assert again.objective == pytest.approx(0.5 * built_kwh, abs=1e-6)
    with pytest.raises(KeyError):
        fix_sizes(other.district, {"nothing.energy_kwh": 1.0})


@pytest.mark.parametrize("tol", [0.0, 0.1])
def test_keep_stage_holds_the_first_stage_within_its_tolerance(tol: float) -> None:
    # Load 1 kW for 2 hours, import at a positive price, exports worth 0. Stage 2
    # maximises the grid import: the only way to import more is to export it again, which
    # costs money, so the kept cost row binds: at tol 0 the import stays the load (2 kWh),
    # at tol 0.1 the cost rises by 10 % of max(1 EUR, its optimum) and the import with it.
    from pecopt.model.core import Stage
    from pecopt.results.extract import ValueCache, total

    built = build(inputs_of(tiny_scenario(2, elec_kw=1.0, spot=0.1, export=0.0)))
    dm = built.district
    opts = built.inputs.common.solver
    best = solve_model(built.model, opts).objective
    cost = dm.stages[0]
    grid_import = [t for f in dm.flows if f.role == "import" for t in f.terms]
    more = tuple(t.__class__(t.var, t.index, -t.coef, t.row) for t in grid_import)
    keep_stage(dm, cost, best, tol, Stage("import", "kWh", more))
    second = solve_model(built.model, opts)
    value = ValueCache()
    kept = best + tol * max(1.0, abs(best))  # the tolerance is relative to max(1, |best|)
    assert total(cost.terms, value) + cost.constant == pytest.approx(kept, rel=1e-7)
    imported = total(grid_import, value)  # kW summed over 1-hour steps: kWh
    assert -second.objective == pytest.approx(imported, rel=1e-9)
    if tol == 0:
        assert imported == pytest.approx(2.0, abs=1e-6)
    else:
        assert imported > 2.0 + 1e-3


@pytest.mark.parametrize(
    ("spread", "imports", "short_long_kwh"),
    [(0.5, [3.0, 0.0], 0.0), (0.01, [0.0, 0.0], 3.0)],
)
def test_imbalance_bills_the_deviation_from_the_day_ahead_position(
    spread: float, imports: list[float], short_long_kwh: float
) -> None:
    """Two hours, a 1 kW load, import at 0.1 EUR/kWh, a lossless battery holding 2 kWh
    whose energy is worth nothing at the end; the day-ahead position bought 3 kWh in
    hour 1 and nothing in hour 2. At a 0.5 EUR/kWh spread the day follows the position
    (import 3 kWh, 2 of them into the battery: 0.3 EUR, no imbalance); at 0.01 it uses the
    battery and imports nothing, 3 kWh long in hour 1: 0.03 EUR of imbalance."""
    from pecopt.model.transforms import IMBALANCE, imbalance
    from pecopt.results.extract import ValueCache, per_row

    s = tiny_scenario(2, elec_kw=1.0, spot=0.1, export=0.0)
    s["assets"]["batteries"] = [
        {"name": "bat", "eta_charge": 1.0, "eta_discharge": 1.0, "power_kw": 10.0,
         "capacity_kwh": 10.0, "soc_initial_kwh": 2.0, "end": "free"}
    ]  # fmt: skip
    built = build(inputs_of(s))
    imbalance(built.district, np.array([3.0, 0.0]), spread)
    sol = solve(built)
    grid = [t for f in built.district.flows if f.role == "import" for t in f.terms]
    got = per_row(grid, ValueCache(), 2)
    np.testing.assert_allclose(got, imports, atol=1e-6)
    assert sol.results.cost_items_eur[IMBALANCE] == pytest.approx(spread * short_long_kwh)
    energy = sum(v for k, v in sol.results.cost_items_eur.items() if k != IMBALANCE)
    assert sol.objective == pytest.approx(energy + spread * short_long_kwh, abs=1e-9)
    assert energy == pytest.approx(0.1 * sum(imports), abs=1e-9)
