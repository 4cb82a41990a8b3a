"""Duals and reduced costs through Pyomo's import suffixes (``m.dual``, ``m.rc``).

- random small LPs built with pecopt's row families (equality, <=, >= and ranged rows,
  families scaled or negated by :func:`pecopt.model.linear.add_rows`, empty rows dropped)
  plus Pyomo's own constraints, edits and fixes, minimised or maximised: every
  constraint's dual and every variable's reduced cost are those Pyomo's ``appsi_highs``
  gives on the same model;
- a two-step battery worked out by hand, checked against a re-solve with one more kWh;
- a MILP: the duals of the LP with the integers fixed at the plan, the model left as it was;
- a model without the suffixes gets no dual work.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn.standard_repn import generate_standard_repn

from pecopt.model.core import build_model
from pecopt.model.linear import add_objective, add_rows, add_var, term
from pecopt.scenario.schema import SolverOptions
from pecopt.solver import duals as duals_module
from pecopt.solver import highs, solve
from pecopt.testing import inputs_of, tiny_inputs, tiny_milp

appsi = pyo.SolverFactory("appsi_highs")
needs_appsi = pytest.mark.skipif(not appsi.available(), reason="appsi_highs is not available")

TOL = 1e-6


def with_suffixes(m: pyo.Block) -> pyo.Block:
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    m.rc = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    return m


# --------------------------------------------------------------------------- random LPs


def random_lp(seed: int) -> pyo.ConcreteModel:
    """A feasible, bounded LP (deterministic for a seed): boxed vector variables, row
    families of every kind built around an interior point ``x0`` (some rows tight at it),
    Pyomo constraints beside them, and Pyomo edits on top."""
    rng = np.random.default_rng(seed)
    m = pyo.ConcreteModel()
    sizes = rng.integers(3, 7, size=3)
    xs, x0 = [], []
    for k, n in enumerate(sizes):
        lo = rng.uniform(-5, 0, n)
        up = lo + rng.uniform(1, 6, n)
        xs.append(add_var(m, f"x{k}", int(n), lo, up))
        x0.append(lo + rng.uniform(0.2, 0.8, n) * (up - lo))
    add_var(m, "unused", 2, 0.0, 1.0)  # in no row and not in the objective

    def family(name: str, m_rows: int, kind: str, scale: float | None = None) -> None:
        terms, act = [], np.zeros(m_rows)
        for k in rng.choice(len(xs), size=2, replace=False):
            idx = rng.integers(0, sizes[k], m_rows)
            rows = np.arange(m_rows)
            live = np.ones(m_rows, bool)
            if name.startswith("holes"):
                live[[1, 4]] = False  # rows 1 and 4 have no term: dropped
            coef = rng.uniform(0.5, 3.0, m_rows) * rng.choice([-1.0, 1.0], m_rows)
            if scale is not None:
                coef[: m_rows - 1] = scale  # the commonest coefficient: the family is scaled
            terms.append(term(xs[k], coef[live], idx[live], rows[live]))
            np.add.at(act, rows[live], coef[live] * x0[k][idx[live]])
        # inequalities not tight at x0: rows through one point would make the optimum a
        # degenerate vertex, whose duals are not unique (equality rows are)
        slack = rng.uniform(0.1, 2, (2, m_rows))
        if kind == "eq":
            add_rows(m, name, m_rows, terms, equal=act)
        elif kind == "le":
            add_rows(m, name, m_rows, terms, upper=act + slack[0])
        elif kind == "ge":
            add_rows(m, name, m_rows, terms, lower=act - slack[0])
        else:
            add_rows(m, name, m_rows, terms, lower=act - slack[0], upper=act + slack[1])

    family("eq", 2, "eq")
    family("le", 4, "le", scale=-2.5)  # divided by -2.5: the rows are negated, bounds swap
    family("ge", 4, "ge", scale=4.0)
    family("ranged", 3, "range")
    family("holes_le", 6, "le")  # some rows have no term: dropped, the others renumbered

    # Pyomo's own rows: with a constant in the body, ranged, and over a fixed variable
    a, b, c = xs[0][0], xs[1][0], xs[2][0]
    m.user_le = pyo.Constraint(expr=a + 2 * b + 1.0 <= pyo.value(x0[0][0] + 2 * x0[1][0]) + 1.5)
    m.user_range = pyo.Constraint(
        expr=(float(x0[2][0] - x0[1][1]) - 0.5, c - xs[1][1], float(x0[2][0] - x0[1][1]) + 0.2)
    )
    # Pyomo edits of the fast path: a row edited, a row deactivated, a variable fixed
    for x, v in zip(xs, x0, strict=True):
        for k, value in enumerate(v):
            x[k].set_value(float(value))
    edited = m.ge[1].body + 0.5 * xs[2][1]  # now ranged around its value at x0
    at_x0 = pyo.value(edited)
    m.ge[1].set_value((at_x0 - float(rng.uniform(0, 1)), edited, at_x0 + 0.3))
    m.ranged[2].deactivate()
    xs[1][int(sizes[1]) - 1].fix(float(x0[1][-1]))
    sense = "max" if seed % 2 else "min"
    cost = [term(x, rng.uniform(-2, 2, int(n))) for x, n in zip(xs, sizes, strict=True)]
    add_objective(m, cost, constant=1.0, sense=sense)
    return m


@needs_appsi
@pytest.mark.parametrize("seed", range(30))
def test_duals_and_reduced_costs_are_those_of_pyomo_appsi_highs(seed):
    ours, ref = with_suffixes(random_lp(seed)), with_suffixes(random_lp(seed))
    out = solve(ours, SolverOptions())
    result = appsi.solve(ref)
    assert str(result.solver.termination_condition) == "optimal"
    assert out.objective == pytest.approx(pyo.value(ref.objective), rel=1e-9, abs=1e-9)

    rows = list(ours.component_data_objects(pyo.Constraint, active=True))
    ref_rows = list(ref.component_data_objects(pyo.Constraint, active=True))
    assert [c.name for c in rows] == [c.name for c in ref_rows]
    assert len(ours.dual) == len(rows) == len(ref.dual)
    got = np.array([ours.dual[c] for c in rows])
    want = np.array([ref.dual[c] for c in ref_rows])
    assert np.abs(want).max() > 1e-3  # some row binds: a real comparison
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)

    ref_vars = {v.name: value for v, value in ref.rc.items()}
    our_vars = {v.name: value for v, value in ours.rc.items()}
    assert our_vars.keys() == ref_vars.keys()
    assert "unused[0]" not in our_vars  # in no row, not in the objective: as Pyomo
    names = sorted(ref_vars)
    np.testing.assert_allclose(
        [our_vars[k] for k in names], [ref_vars[k] for k in names], rtol=TOL, atol=TOL
    )
    assert_optimal_duals(ours)


def test_the_random_lps_have_every_kind_of_row():
    m = random_lp(1)
    assert len(m.holes_le) < 6  # empty rows dropped
    assert all(c.equality for c in m.eq.values())
    # the <= family divided by -2.5: a >= row with unit coefficients in Pyomo
    assert m.le[0].upper is None and m.le[0].lower is not None
    repn = generate_standard_repn(m.le[0].body)
    assert list(repn.linear_coefs) == [1.0, 1.0]
    assert m.ge[0].upper is None and m.ranged[0].has_lb() and m.ranged[0].has_ub()
    assert next(m.component_data_objects(pyo.Objective)).sense == pyo.maximize


# ----------------------------------------------------------------- hand-worked battery


def two_step_battery():
    """Two hours, spot 0.1 then 0.3 EUR/kWh, exports worth nothing, 0 then 8 kW of load; a
    lossless 5 kWh / 10 kW battery starting empty, its end level worth nothing.

    The battery fills in hour 0 (5 kWh at 0.1) and empties in hour 1; 3 kWh are imported
    in hour 1 at 0.3: cost 0.5 + 0.9 = 1.4 EUR. One more kWh of load costs 0.1 in hour 0
    and 0.3 in hour 1 (the battery is full): those are the balance rows' marginal prices.
    One more kWh of battery capacity (the level's upper bound in hour 0) saves
    0.3 - 0.1 = 0.2 EUR: its reduced cost is -0.2."""
    bat = dict(
        name="b", capacity_kwh=5, power_kw=10, eta_charge=1.0, eta_discharge=1.0,
        soc_initial_kwh=0.0, end="free",
    )  # fmt: skip
    return tiny_inputs(2, elec_kw=[0, 8], spot=[0.1, 0.3], export=0.0, assets={"batteries": [bat]})


def _coef(c, var) -> float:
    """The coefficient of ``var`` in the body of constraint ``c``, as Pyomo holds it."""
    repn = generate_standard_repn(c.body)
    return float(dict(zip(map(id, repn.linear_vars), repn.linear_coefs, strict=True))[id(var)])


def test_two_step_battery_duals_are_the_marginal_prices():
    inputs = two_step_battery()
    m = with_suffixes(build_model(inputs).model)
    out = solve(m, inputs.common.solver)
    assert out.objective == pytest.approx(1.4, abs=1e-9)
    for t, price in enumerate((0.1, 0.3)):
        row = m.balance_electricity[t]
        # the row as Pyomo holds it is a (imports + ...) = a load, a = +-1 the import's
        # coefficient (pecopt may have negated the family): one more unit of right-hand
        # side is 1 / a kWh more load, bought at the price
        a = _coef(row, m.grid.imp[t])
        assert abs(a) == pytest.approx(1.0)
        assert m.dual[row] == pytest.approx(price / a, abs=1e-9)
    assert m.rc[m.batteries.b.soc[0]] == pytest.approx(-0.2, abs=1e-9)
    assert m.rc[m.grid.imp[1]] == pytest.approx(0.0, abs=1e-9)  # imported: basic

    # the marginal price meets a re-solve with one more kWh of load in hour 1
    row = m.balance_electricity[1]
    shift = _coef(row, m.grid.imp[1])  # the right-hand side of one more kWh of load
    row.set_value(row.body == pyo.value(row.upper) + shift)
    again = solve(m, inputs.common.solver)
    assert again.objective - out.objective == pytest.approx(0.3, abs=1e-9)
    assert again.objective - out.objective == pytest.approx(m.dual[row] * shift, abs=1e-9)


def test_the_library_api_fills_them_after_the_last_stage():
    import pecopt

    built = pecopt.build(two_step_battery())
    with_suffixes(built.model)
    sol = pecopt.solve(built)
    assert sol.objective == pytest.approx(1.4, abs=1e-9)
    row = built.model.balance_electricity[1]
    assert built.model.dual[row] == pytest.approx(0.3 / _coef(row, built.model.grid.imp[1]))
    assert sol.outcome.seconds["duals"] > 0.0


def test_a_staged_objective_gets_the_duals_of_its_last_stage():
    """The two-step battery under ``emissions`` with grid CO2 0.3 then 0.1 kg/kWh: the
    least emissions import all 8 kWh in hour 1 (0.8 kg); the cost stage keeps them and
    pays 2.4 EUR. There, shifting a kWh to hour 0 would save 0.2 EUR for 0.2 kg: the kept
    emissions are worth 1 EUR/kg, and a kWh of load costs its price plus its emissions at
    that value: 0.1 + 0.3 = 0.4 in hour 0 and 0.3 + 0.1 = 0.4 in hour 1."""
    import pecopt

    bat = dict(
        name="b", capacity_kwh=5, power_kw=10, eta_charge=1.0, eta_discharge=1.0,
        soc_initial_kwh=0.0, end="free",
    )  # fmt: skip
    inputs = tiny_inputs(
        2, elec_kw=[0, 8], spot=[0.1, 0.3], export=0.0, grid_co2=[0.3, 0.1],
        assets={"batteries": [bat]}, objective={"kind": "emissions"},
    )  # fmt: skip
    built = pecopt.build(inputs)
    m = with_suffixes(built.model)
    sol = pecopt.solve(built)
    assert sol.outcome.stages["emissions"] == pytest.approx(0.8, abs=1e-9)
    assert sol.outcome.stages["cost"] == pytest.approx(2.4, abs=1e-5)
    for t in range(2):
        row = m.balance_electricity[t]
        assert m.dual[row] == pytest.approx(0.4 / _coef(row, m.grid.imp[t]), abs=1e-9)
    kept = m.stage_emissions_kept[0]  # the row of the last stage only
    scale = 0.3 / _coef(kept, m.grid.imp[0])  # kg CO2e per unit of the row as held
    assert m.dual[kept] == pytest.approx(-1.0 * scale, abs=1e-9)
    assert_optimal_duals(m)


# ------------------------------------------------------------------------------ MILP


def assert_optimal_duals(m: pyo.Block, tol: float = 1e-6) -> None:
    """The model's suffixes prove its loaded solution optimal (KKT, read through Pyomo):
    every reduced cost is ``c_j - sum_i a_ij dual_i``; with ``s`` = 1 minimising, -1
    maximising, a row with ``s dual > 0`` is at its lower bound and one with ``s dual < 0``
    at its upper, and so for each variable and its reduced cost. Fixed variables are
    parameters (Pyomo folds them into the constants). Such duals are *an* optimal dual
    solution, however degenerate the LP is, and only optimal duals pass."""
    obj = next(m.component_data_objects(pyo.Objective, active=True))
    sense = 1.0 if obj.sense == pyo.minimize else -1.0
    repn = generate_standard_repn(obj.expr)
    terms = zip(repn.linear_vars, repn.linear_coefs, strict=True)
    lagrangian = {id(v): [v, float(c)] for v, c in terms}
    for c in m.component_data_objects(pyo.Constraint, active=True):
        y = m.dual[c]
        r = generate_standard_repn(c.body)
        body = pyo.value(c.body)
        for v, a in zip(r.linear_vars, r.linear_coefs, strict=True):
            lagrangian.setdefault(id(v), [v, 0.0])[1] -= float(a) * y
        if sense * y > tol:
            assert body == pytest.approx(pyo.value(c.lower), abs=tol), c.name
        elif sense * y < -tol:
            assert body == pytest.approx(pyo.value(c.upper), abs=tol), c.name
    free = {id(v) for v in m.rc if not v.fixed}
    assert free == lagrangian.keys()
    assert all(m.rc[v] == 0.0 for v in m.rc if v.fixed)
    for v, rc in lagrangian.values():
        assert m.rc[v] == pytest.approx(rc, abs=tol), v.name
        if sense * rc > tol:
            assert v.value == pytest.approx(v.lb, abs=tol), v.name
        elif sense * rc < -tol:
            assert v.value == pytest.approx(v.ub, abs=tol), v.name


def test_the_optimality_check_refuses_duals_that_are_not_optimal():
    inputs = two_step_battery()
    m = with_suffixes(build_model(inputs).model)
    solve(m, inputs.common.solver)
    assert_optimal_duals(m)
    m.dual[m.balance_electricity[1]] += 0.05  # a price that does not clear hour 1
    with pytest.raises(AssertionError):
        assert_optimal_duals(m)


@needs_appsi
def test_a_milp_gets_the_duals_of_its_fixed_lp_and_is_left_as_it_was():
    inputs = inputs_of(tiny_milp())
    m = with_suffixes(build_model(inputs).model)
    out = solve(m, inputs.common.solver)
    ints = [v for v in m.component_data_objects(pyo.Var) if v.is_integer() or v.is_binary()]
    assert out.size["binaries"] == len(ints) > 0
    assert not any(v.fixed for v in m.component_data_objects(pyo.Var))  # nothing fixed ...
    for comp, first, _ in out.layout.columns:  # ... and the plan's values kept
        for k, v in enumerate(comp.values()):
            if out.layout.referenced[first + k]:
                assert v.value == out.x[first + k], v.name
    assert all(m.rc[v] == 0.0 for v in ints)  # fixed in the fixed LP: parameters

    # they are optimal duals of the LP with the integers fixed at the plan: proven by KKT
    # (the fixed LP is degenerate, its duals are not unique, so no other solver's duals
    # need be the same) ...
    for v in ints:
        v.fix()
    assert_optimal_duals(m)
    # ... which has the MILP's optimum (the plan is optimal, so it is optimal for them too)
    ref = with_suffixes(build_model(inputs).model)
    values = {v.name: v.value for v in ints}
    for v in ref.component_data_objects(pyo.Var):
        if v.name in values:
            v.domain = pyo.Reals  # HiGHS gives a MIP no duals, even with every integer fixed
            v.fix(values[v.name])
    result = appsi.solve(ref)
    assert str(result.solver.termination_condition) == "optimal"
    assert pyo.value(ref.objective) == pytest.approx(out.objective, rel=1e-9)
    assert len(ref.dual) == len(m.dual)
    assert_optimal_duals(ref)  # the check accepts Pyomo's own duals of that LP as well
    # and the duals of the balance rows are prices both ways (equal where unique: every
    # electricity hour, whose marginal kWh comes from the grid)
    for t in range(24):
        row = m.balance_electricity[t]
        assert m.dual[row] == pytest.approx(ref.dual[ref.balance_electricity[t]], abs=TOL)


# ---------------------------------------------------------------- no suffix, no work


def test_without_the_suffixes_no_dual_work_is_done(monkeypatch):
    calls = []
    for name in ("load_duals", "fixed_lp_duals", "_lp_duals"):
        real = getattr(highs, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(highs, name, spy)
    for inputs in (two_step_battery(), inputs_of(tiny_milp())):
        m = build_model(inputs).model
        solve(m, inputs.common.solver)
        assert m.component("dual") is None
    assert calls == []

    # an export-only suffix named dual is not for the solver to fill
    inputs = two_step_battery()
    m = build_model(inputs).model
    m.dual = pyo.Suffix(direction=pyo.Suffix.EXPORT)
    solve(m, inputs.common.solver)
    assert calls == [] and len(m.dual) == 0

    # the spies do see the work when it is asked for
    m = with_suffixes(build_model(inputs).model)
    solve(m, inputs.common.solver)
    assert calls == ["_lp_duals", "load_duals"]
    assert duals_module.requested(m) == (m.dual, m.rc)


def test_the_bulk_suffix_fill_holds_on_this_pyomo_and_matches_the_public_one():
    assert duals_module.bulk_ok()
    m = random_lp(3)
    rows = list(m.component_data_objects(pyo.Constraint, active=True))
    cols = list(m.component_data_objects(pyo.Var))
    values = [0.5 * k for k in range(len(rows))]
    bulk, public = pyo.Suffix(direction=pyo.Suffix.IMPORT), pyo.Suffix()
    duals_module.put(bulk, rows, values)
    duals_module.put(bulk, cols, [-1.0] * len(cols))
    public.update(zip(rows + cols, values + [-1.0] * len(cols), strict=True))
    assert len(bulk) == len(public) == len(rows) + len(cols)
    assert all(bulk[c] == public[c] for c in rows + cols)
    assert bulk._dict == public._dict


def test_get_many_reads_a_suffix_as_its_public_interface_does(monkeypatch):
    m = random_lp(4)
    rows = list(m.component_data_objects(pyo.Constraint, active=True))
    cols = list(m.component_data_objects(pyo.Var))
    s = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    duals_module.put(s, rows[1:], [0.25 * k for k in range(1, len(rows))])
    duals_module.put(s, cols[:-1], [-1.0 - k for k in range(len(cols) - 1)])
    for data in (rows, cols):  # the first row and the last variable have no entry
        want = [s.get(d, -7.0) for d in data]
        np.testing.assert_array_equal(duals_module.get_many(s, data, -7.0), want)
    # a Pyomo that stores suffixes otherwise: the public interface, the same values
    monkeypatch.setattr(duals_module, "bulk_ok", lambda: False)
    np.testing.assert_array_equal(
        duals_module.get_many(s, rows, -7.0), [s.get(d, -7.0) for d in rows]
    )
