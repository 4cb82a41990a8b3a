"""The report of a replay (:mod:`pecopt.workflows.replay`): what the nightly job is worth.

A pure function of the replay's table (one row per day) and KPIs: the headline figures
(net cost of each controller, the value of optimisation, the cost of forecast errors),
the cumulative billed money of pecopt's settled days and of the rule-based controller
with the perfect-foresight optimum's total, the forecast errors per day, and the monthly
table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from pecopt.report.html import Figures, esc, number, page, table

__all__ = ["render_replay"]


def _cumulative(t: pd.DataFrame, k: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    days = pd.to_datetime(t["day"])
    for col, name in (("realised_cost_eur", "pecopt, settled"),
                      ("rule_based_cost_eur", "rule-based controller")):  # fmt: skip
        fig.add_trace(go.Scatter(x=days, y=t[col].cumsum(), name=name, mode="lines"))
    pf = k["perfect_foresight"].get("billed_eur")
    if pf is not None:
        fig.add_trace(
            go.Scatter(x=[days.iloc[-1]], y=[pf], name="perfect foresight (period total)",
                       mode="markers", marker={"size": 11, "symbol": "diamond"})
        )  # fmt: skip
    fig.update_layout(
        title="Cumulative billed cost", yaxis_title="EUR", height=420,
        margin={"t": 60, "l": 70, "r": 20, "b": 50}, legend={"orientation": "h", "y": -0.15},
    )  # fmt: skip
    return fig


def _errors(t: pd.DataFrame) -> go.Figure | None:
    cols = [c for c in t.columns if c.startswith("forecast_error_")]
    if not cols:
        return None
    fig = go.Figure()
    days = pd.to_datetime(t["day"])
    for c in cols:
        name = c.removeprefix("forecast_error_")
        price = name.endswith("_eur_per_kwh")
        label = name + (" [EUR/kWh]" if price else " [%]")
        fig.add_trace(go.Scatter(x=days, y=t[c] * (1 if price else 100), name=label, mode="lines"))
    fig.update_layout(
        title="Forecast error on each delivery day (relative MAE of powers; MAE of prices)",
        height=380, margin={"t": 60, "l": 70, "r": 20, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return fig


def _scenario_based(t: pd.DataFrame, k: dict[str, Any]) -> str:
    """The scenario-based controller against the deterministic one (``--members``):
    net cost, imbalance, the spread of the daily realised cost, VSS and EVPI."""
    sb, st = k.get("scenario_based"), k.get("stochastic")
    if sb is None or st is None:
        return ""
    real = k["realised"]
    daily = sb["daily_cost_eur"]
    rows = [
        [esc(name), number(d["net_cost_eur"], "EUR"), number(imb, "EUR"),
         number(daily[key]["mean"], "EUR"), number(daily[key]["std"], "EUR"),
         number(daily[key]["p95"], "EUR"), number(evpi, "EUR")]
        for name, d, imb, key, evpi in (
            ("deterministic", real, sb["deterministic_imbalance_eur"], "deterministic",
             sb["evpi_deterministic_eur"]),
            (f"scenario-based, {sb['members']} members", st, sb["stochastic_imbalance_eur"],
             "stochastic", sb["evpi_eur"]),
        )
    ]  # fmt: skip
    grid = table(
        ["plan", "net cost EUR", "imbalance EUR", "daily mean EUR", "daily std EUR",
         "daily p95 EUR", "EVPI EUR"], rows,
    )  # fmt: skip
    return (
        f"<h2>Scenario-based against deterministic plans</h2>{grid}"
        f"<p>Same days, same forecasts; members drawn around each night's forecast with "
        f"error size {esc(sb['member_noise'])} (seed {esc(sb['member_seed'])}). Scenario-based "
        f"minus deterministic: {number(sb['stochastic_minus_deterministic_net_eur'], 'EUR')} "
        f"EUR net. Value of the stochastic solution (expected cost of the deterministic "
        f"plan's first stage under the members minus the scenario-based optimum, summed "
        f"over {sb['vss_nights']} nights): {number(sb['vss_eur'], 'EUR')} EUR. EVPI: a plan's "
        f"net cost minus perfect foresight's. Nights that fell back to the deterministic "
        f"plan: {sb['nights_fallback']}.</p>"
    )


def render_replay(t: pd.DataFrame, k: dict[str, Any], title: str) -> str:
    """The replay report as one self-contained HTML page."""
    figs = Figures()
    real, rule, pf = k["realised"], k["rule_based"], k["perfect_foresight"]
    both = (("pecopt, settled on what happened", real), ("rule-based controller", rule))
    known = (*both, ("perfect foresight", pf)) if "error" not in pf else both
    rows = [
        [esc(name), number(d["net_cost_eur"], "EUR"), number(d["billed_eur"], "EUR"),
         number(d.get("penalty_eur"), "EUR"), number(d.get("value_left_eur"), "EUR"),
         number(d["co2_kg"], "kg"), number(d["ev_charged_kwh"], "kWh")]
        for name, d in known
    ]  # fmt: skip
    headline = table(
        ["controller", "net cost EUR", "billed EUR", "penalties EUR", "value left EUR",
         "CO2 kg", "EV charged kWh"], rows,
    )  # fmt: skip
    summary = (
        f"<p><b>Value of optimisation</b> (rule-based minus pecopt): "
        f"{number(k['value_of_optimisation_eur'], 'EUR')} EUR. <b>Cost of forecast errors and "
        f"of the rolling horizon</b> (pecopt minus perfect foresight): "
        f"{number(k['cost_of_forecast_errors_eur'], 'EUR')} EUR"
        f"{esc(' (the reference failed: ' + pf['error'] + ')') if 'error' in pf else ''}"
        ". Net cost = billed money + "
        "penalties (unmet energy) - the value of the energy left in the stores at the end."
        f" Nights degraded: {k['nights_degraded']} of {k['days']}.</p>"
    )
    monthly = table(
        ["month", "pecopt EUR", "rule-based EUR", "value of optimisation EUR"],
        [[esc(m), number(v["realised_cost_eur"], "EUR"), number(v["rule_based_cost_eur"], "EUR"),
          number(v["value_of_optimisation_eur"], "EUR")] for m, v in k["monthly"].items()],
    )  # fmt: skip
    body = (
        f"<h2>What the nightly job is worth</h2>{headline}{summary}"
        f"{figs.div('cumulative', _cumulative(t, k))}"
        f"<h2>Forecast errors</h2>{figs.div('errors', _errors(t))}"
        f"<h2>By month (billed money)</h2>{monthly}"
        f"{_scenario_based(t, k)}"
    )
    fc = k.get("forecast", {})
    header = (
        f"<h1>{esc(title)}</h1><p>pecopt replay: {k['days']} nights, forecast "
        f"{esc(fc.get('mode', '?'))} (seed {esc(fc.get('seed', '?'))})</p>"
    )
    return page(f"pecopt replay: {title}", header, body, figs)
