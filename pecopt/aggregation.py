"""Typical periods for fast year-long sizing: a year of inputs reduced to k real periods.

The horizon is cut into D whole periods of L hours (a week by default); ``tsam``
(hierarchical clustering, medoid representation) groups them into k clusters on the
per-step sums of every numeric input column (demand, PV per kWp, prices, COP, EV plug
counts, ...: every table's columns, summed over its assets, so nothing is listed by
name). Each cluster is represented by its medoid, an **original** period, so every input
of the representative, EV trips and sessions included, is real data of that period.
The model then has k L steps; step t counts ``weight[t]`` = (the cluster's number of
periods) x (horizon steps / (D L)) times in every energy sum (the few steps after the
last whole period are spread pro rata), and ``order[d]`` links each original period to
its representative so that stores carry energy across the year (Kotzur et al. 2018,
"Time series aggregation for energy system design: modeling seasonal storage", Applied
Energy 213, 123-135).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pecopt.errors import ScenarioError
from pecopt.model.technology import Periods

TIMESTAMP = "timestamp"


@dataclass(frozen=True)
class Selection:
    """The representative periods chosen in a horizon."""

    steps: np.ndarray  # horizon step indices of the representatives, in model order
    weight: np.ndarray  # per model step: real steps it stands for
    periods: Periods


def features(tables: Mapping[str, pd.DataFrame], index: pd.DatetimeIndex) -> pd.DataFrame:
    """Per-step sums of every numeric column of every table with a ``timestamp``
    (booleans as counts), named ``<table>.<column>``, on ``index``."""
    cols: dict[str, np.ndarray] = {}
    for name, df in tables.items():
        if TIMESTAMP not in df.columns or df.empty:
            continue
        num = df.select_dtypes(include=["number", "bool"]).astype(np.float64)
        if num.empty:
            continue
        sums = num.groupby(pd.DatetimeIndex(df[TIMESTAMP]), sort=True).sum()
        sums = sums.reindex(index, fill_value=0.0)
        for c in sums.columns:
            v = sums[c].to_numpy(np.float64)
            if np.ptp(v) > 0:  # a constant column tells the clustering nothing
                cols[f"{name}.{c}"] = v
    return pd.DataFrame(cols, index=index)


def select(
    tables: Mapping[str, pd.DataFrame],
    index: pd.DatetimeIndex,
    *,
    k: int,
    period_h: float,
    dt_h: float,
    timezone: str,
    file: str | None = None,
) -> Selection:
    """Choose ``k`` representative periods of ``period_h`` hours in the horizon."""
    import tsam

    length = int(round(period_h / dt_h))
    n = len(index)
    d = n // length
    if length < 1 or d < 2:
        raise ScenarioError(
            file, "aggregation.period_h", f"the horizon holds fewer than two {period_h:g}-h periods"
        )
    if not 1 <= k < d:
        raise ScenarioError(
            file, "aggregation.typical_periods", f"must be between 1 and {d - 1} (got {k})"
        )
    feat = features(tables, index)
    whole = feat.iloc[: d * length]
    # tsam wants a naive regular index; the clustering only needs the period structure
    data = whole.set_axis(pd.date_range("2001-01-01", periods=len(whole), freq=f"{dt_h}h"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = tsam.aggregate(
            data,
            k,
            period_duration=period_h,
            temporal_resolution=dt_h,
            cluster=tsam.ClusterConfig(method="hierarchical", representation="medoid"),
            preserve_column_means=False,
        )
    centers = np.asarray(res.clustering.cluster_centers, dtype=np.int64)  # original periods
    assign = np.asarray(res.cluster_assignments, dtype=np.int64)[:d]
    # representatives in time order; order[d] = position of d's representative
    rank = np.argsort(np.argsort(centers))
    chosen = np.sort(centers)
    counts = np.bincount(rank[assign], minlength=k).astype(np.float64)
    scale = n / (d * length)
    weight = np.repeat(counts * scale, length)
    steps = (chosen[:, None] * length + np.arange(length)[None, :]).ravel()
    from pecopt.ingest.power_fee import billing_windows

    bw = billing_windows(index, dt_h, tz=timezone)
    month_of_step = bw.window_month[bw.step_window]
    middle = np.minimum(np.arange(d) * length + length // 2, n - 1)
    periods = Periods(
        length=length,
        k=k,
        order=rank[assign],
        original=chosen,
        month_labels=bw.months,
        month_share=bw.month_share,
        month_of_period=month_of_step[middle],
    )
    return Selection(steps, weight, periods)


def restrict(
    tables: Mapping[str, pd.DataFrame], index: pd.DatetimeIndex, sel: Selection
) -> dict[str, pd.DataFrame]:
    """Every table cut to the chosen steps: rows with a ``timestamp`` among them; session
    tables (``first_utc``, ``last_utc``) to the sessions that start in them, cut at the
    end of their representative period."""
    keep = index[sel.steps]
    model_pos = pd.Series(np.arange(sel.steps.size), index=keep)
    length = sel.periods.length
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        if TIMESTAMP in df.columns:
            ts = pd.DatetimeIndex(df[TIMESTAMP])
            out[name] = df[ts.isin(keep)].reset_index(drop=True)
        elif {"first_utc", "last_utc"} <= set(df.columns) and len(df):
            first = pd.DatetimeIndex(df["first_utc"])
            inside = first.isin(keep)
            sub = df[inside].copy()
            start = model_pos[first[inside]].to_numpy()
            end = (start // length) * length + length - 1  # last step of its period
            last = pd.DatetimeIndex(sub["last_utc"]).tz_convert("UTC").tz_localize(None)
            limit = keep[end].tz_convert("UTC").tz_localize(None)
            cut = np.minimum(last.to_numpy(), limit.to_numpy())
            sub["last_utc"] = pd.DatetimeIndex(cut).tz_localize("UTC")
            out[name] = sub.reset_index(drop=True)
        else:
            out[name] = df
    return out
