"""Unit tests of pecopt.model.linear: the vectorised rows are ordinary Pyomo components
whose expressions say exactly what the arrays say."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn.standard_repn import generate_standard_repn

from pecopt.errors import InfeasibleError
from pecopt.model.linear import add_objective, add_rows, add_var, meta, term, values


def _row(con, i):
    """(lower, {var name: coefficient}, upper) of row i, read by Pyomo."""
    c = con[i]
    repn = generate_standard_repn(c.body)
    coefs = {v.name: float(a) for v, a in zip(repn.linear_vars, repn.linear_coefs, strict=True)}
    lo = None if c.lower is None else float(pyo.value(c.lower)) - repn.constant
    up = None if c.upper is None else float(pyo.value(c.upper)) - repn.constant
    return lo, coefs, up


def test_add_var_bounds_scalar_and_per_element():
    m = pyo.ConcreteModel()
    x = add_var(m, "x", 3, 0.0, [1.0, np.inf, 5.0])
    assert [x[i].lb for i in range(3)] == [0.0, 0.0, 0.0]
    assert [x[i].ub for i in range(3)] == [1.0, None, 5.0]
    b = add_var(m, "b", 2, binary=True)
    assert b[0].is_binary() and meta(b).binary
    assert meta(x).n == 3 and meta(x).data[2] is x[2]


def test_rows_are_the_arrays():
    # soc[t] - 0.9 soc[t-1] - 2 ch[t] = [1, 0, 0]   (cyclic predecessor)
    m = pyo.ConcreteModel()
    soc = add_var(m, "soc", 3)
    ch = add_var(m, "ch", 3)
    t = np.arange(3)
    con = add_rows(
        m,
        "bal",
        3,
        [term(soc, 1.0), term(soc, -0.9, np.roll(t, 1)), term(ch, -2.0)],
        equal=[1.0, 0.0, 0.0],
    )
    lo, coefs, up = _row(con, 0)
    assert lo == up
    # rows are scaled by their commonest coefficient; compare up to that factor
    k = coefs["soc[0]"]
    assert coefs == pytest.approx({"soc[0]": k, "soc[2]": -0.9 * k, "ch[0]": -2.0 * k})
    assert lo == pytest.approx(1.0 * k)


def test_inequality_bounds_swap_when_scaled_by_a_negative_coefficient():
    m = pyo.ConcreteModel()
    x = add_var(m, "x", 2)
    # -2 x[k] <= -1  (all coefficients -2: scaled to x >= 0.5)
    con = add_rows(m, "c", 2, [term(x, -2.0)], upper=-1.0)
    lo, coefs, up = _row(con, 1)
    assert coefs == {"x[1]": 1.0} and lo == pytest.approx(0.5) and up is None


def test_duplicate_entries_are_summed():
    m = pyo.ConcreteModel()
    x = add_var(m, "x", 2)
    con = add_rows(m, "c", 1, [term(x, 1.0, [0, 1], [0, 0]), term(x, 2.0, [0], [0])], upper=4.0)
    _, coefs, up = _row(con, 0)
    assert coefs["x[0]"] / coefs["x[1]"] == pytest.approx(3.0)


def test_empty_rows_are_dropped_or_reported():
    m = pyo.ConcreteModel()
    x = add_var(m, "x", 3)
    con = add_rows(m, "c", 3, [term(x, 1.0, [0, 2], [0, 2])], equal=[1.0, 0.0, 2.0])
    assert len(con) == 2  # the row with no term and a zero right-hand side is dropped
    with pytest.raises(InfeasibleError, match="heat balance"):
        add_rows(m, "d", 2, [term(x, 1.0, [0], [0])], equal=[1.0, 5.0], what="heat balance")


def test_a_term_outside_the_family_is_refused():
    # a sum over three steps given to a one-row family with the steps as rows: before,
    # the Pyomo row held step 0 alone and the compiler failed with an IndexError
    m = pyo.ConcreteModel()
    x = add_var(m, "x", 3)
    with pytest.raises(ValueError, match=r"c: terms name rows \[1, 2\] outside a family of 1 row"):
        add_rows(m, "c", 1, [term(x, 1.0)], upper=5.0)
    with pytest.raises(ValueError, match=r"rows \[-1\]"):
        add_rows(m, "d", 3, [term(x, 1.0, row=[0, 1, -1])], upper=5.0)
    con = add_rows(m, "e", 1, [term(x, 1.0, row=[0, 0, 0])], upper=5.0)
    assert _row(con, 0) == (None, {"x[0]": 1.0, "x[1]": 1.0, "x[2]": 1.0}, 5.0)


def test_objective_merges_and_drops_zeros():
    m = pyo.ConcreteModel()
    x = add_var(m, "x", 3)
    obj = add_objective(m, [term(x, [1.0, 0.0, 2.0]), term(x, 1.0, [0], [0])], constant=3.0)
    repn = generate_standard_repn(obj.expr)
    coefs = {v.name: a for v, a in zip(repn.linear_vars, repn.linear_coefs, strict=True)}
    assert coefs == {"x[0]": 2.0, "x[2]": 2.0} and repn.constant == 3.0


def test_values_read_from_pyomo():
    m = pyo.ConcreteModel()
    x = add_var(m, "x", 3)
    x[0].set_value(1.5)
    x[2].set_value(-2.0)
    got = values(x)
    assert got[0] == 1.5 and np.isnan(got[1]) and got[2] == -2.0


def test_a_built_model_solves_the_same_in_pyomo_and_pecopt():
    # min x0 + 2 x1  s.t.  x0 + x1 >= 3,  x0 <= 1  ->  x0 = 1, x1 = 2, objective 5
    from pecopt.scenario.schema import SolverOptions
    from pecopt.solver import solve

    m = pyo.ConcreteModel()
    x = add_var(m, "x", 2, 0.0, [1.0, np.inf])
    add_rows(m, "c", 1, [term(x, 1.0, [0, 1], [0, 0])], lower=3.0)
    add_objective(m, [term(x, [1.0, 2.0])])
    out = solve(m, SolverOptions())
    assert out.objective == pytest.approx(5.0)
    assert x[0].value == pytest.approx(1.0) and x[1].value == pytest.approx(2.0)


def test_the_bulk_solution_load_holds_on_this_pyomo():
    # load_solution sets VarData._value and ._stale in bulk where Pyomo's set_value does
    # nothing more for a float; a Pyomo release that changes that must fail here (pecopt
    # would silently fall back to set_value, one Python call per variable)
    from pecopt.solver.compile import fast_load_ok

    assert fast_load_ok()


def test_bulk_load_leaves_pyomo_as_set_value_and_appsi_would():
    # the same model loaded by the bulk path and by set_value (as appsi_highs loads):
    # equal values, stale flags and untouched variables, and Pyomo evaluates the same
    # objective
    from pyomo.core.staleflag import StaleFlagManager

    from pecopt.model.core import build_model
    from pecopt.solver.compile import _load, compile_model, load_solution
    from pecopt.testing import tiny_inputs

    inputs = tiny_inputs(6, elec_kw=[2, 3, 4, 3, 2, 1], spot=[0.1, 0.2, 0.1, 0.3, 0.2, 0.1])
    a, b = build_model(inputs).model, build_model(inputs).model
    for m in (a, b):
        m.spare = pyo.Var(initialize=7.0)  # appears nowhere: keeps its value, goes stale
    lp, layout = compile_model(a)
    x = np.linspace(0.5, 9.5, lp.num_col)
    va = list(a.component_data_objects(pyo.Var))
    vb = list(b.component_data_objects(pyo.Var))
    load_solution(layout, x)
    stale_a = [v.stale for v in va]  # stale flags are global: read each right away
    _, layout_b = compile_model(b)
    StaleFlagManager.mark_all_as_stale()
    _load(layout_b, x, fast=False)
    StaleFlagManager.mark_all_as_stale(delayed=True)
    assert [v.name for v in va] == [v.name for v in vb]
    assert [v.value for v in va] == [v.value for v in vb]
    assert stale_a == [v.stale for v in vb]
    assert a.spare.value == 7.0 and stale_a[va.index(a.spare)]
    assert sum(stale_a) == 1
    obj_a = next(a.component_data_objects(pyo.Objective, active=True))
    obj_b = next(b.component_data_objects(pyo.Objective, active=True))
    assert pyo.value(obj_a) == pyo.value(obj_b)
