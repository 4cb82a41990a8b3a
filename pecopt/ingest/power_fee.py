"""Power-fee arithmetic: metering windows, billing months and the fee of a schedule.

A distribution power fee (Finnish DSOs; FACTS-HEAT-TARIFFS-COSTS section 5) is paid per
month on the month's highest mean import power over a metering window:

.. math::

    F = \\sum_m f\\, s_m\\, \\hat P_m, \\qquad
    \\hat P_m = \\max_{w \\in m} \\frac{1}{|w|} \\sum_{t \\in w} P_t

with :math:`f` the fee [EUR/kW per month], :math:`w` the clock windows of length
``window_h`` (60 min under the Energiavirasto rule of Feb 2026, which DSOs apply by
1 Jan 2029 at the latest; a 15-min window was proposed and dropped), :math:`m` the local
calendar months and :math:`s_m` the share of month :math:`m` inside the horizon (its hours
in the horizon over its hours; 1 for a whole month, DST included). A month cut by the
horizon thus pays pro rata to its time in the horizon, on the peak seen in that part.

Windows are clock-aligned on the UTC grid (for whole-hour zone offsets such as
Europe/Helsinki, the local clock hours and quarter hours). A window shorter than the
model step is the step itself: an hourly model sees hourly means, the lower bound of the
15-minute peak. A window cut by the horizon start or end averages the steps inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from pecopt.ingest.timeseries import step_hours

__all__ = ["BillingWindows", "billing_windows", "monthly_power_fee"]


@dataclass(frozen=True)
class BillingWindows:
    """Metering windows and billing months of a horizon.

    Attributes
    ----------
    step_window
        Window of each step, shape (n,), values 0..W-1 in time order.
    window_size
        Steps of each window inside the horizon, shape (W,).
    window_month
        Billing month of each window (of its first step, local time), shape (W,).
    months
        Local months ``YYYY-MM``, shape (M,).
    month_share
        Hours of each month inside the horizon over the month's hours [1], shape (M,).
    """

    step_window: NDArray[np.int64]
    window_size: NDArray[np.int64]
    window_month: NDArray[np.int64]
    months: tuple[str, ...]
    month_share: NDArray[np.float64]


def billing_windows(
    index: pd.DatetimeIndex,
    window_h: float,
    *,
    tz: str = "Europe/Helsinki",
    dt_h: float | None = None,
) -> BillingWindows:
    """The metering windows and local billing months of ``index``.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Canonical UTC index (fixed step).
    window_h : float
        Metering window [h], a whole number of steps when longer than the step (e.g. 1.0
        on a 15-min index: 4 steps); a window at most one step long is the step.
    tz : str
        Zone of the billing calendar (default Europe/Helsinki).
    dt_h : float, optional
        The step [h], for an index that is not regular (typical periods one after the
        other); by default read from the index.

    Returns
    -------
    BillingWindows
    """
    n = len(index)
    dt = dt_h if dt_h is not None else (step_hours(index) if n > 1 else 1.0)
    if window_h <= dt * (1 + 1e-9):
        step_window = np.arange(n, dtype=np.int64)
    else:
        k = window_h / dt
        if abs(k - round(k)) > 1e-9:
            raise ValueError(f"window {window_h} h is not a whole number of {dt} h steps")
        start = index.floor(pd.Timedelta(hours=window_h))
        _, inverse = np.unique(np.asarray(start.asi8), return_inverse=True)
        step_window = inverse.astype(np.int64)
    window_size = np.bincount(step_window).astype(np.int64)
    first = np.searchsorted(step_window, np.arange(window_size.size))
    local = index.tz_convert(tz)
    key = np.asarray(local.year, dtype=np.int64) * 12 + np.asarray(local.month) - 1
    month_keys, month_of_step = np.unique(key, return_inverse=True)
    hours = np.bincount(month_of_step, minlength=month_keys.size) * dt
    share = np.empty(month_keys.size)
    labels = []
    for j, mk in enumerate(month_keys.tolist()):
        y, m = divmod(mk, 12)
        begin = pd.Timestamp(year=y, month=m + 1, day=1, tz=tz)
        end = begin + pd.DateOffset(months=1)
        share[j] = hours[j] / ((end - begin) / pd.Timedelta(hours=1))
        labels.append(f"{y:04d}-{m + 1:02d}")
    return BillingWindows(
        step_window=step_window,
        window_size=window_size,
        window_month=month_of_step[first].astype(np.int64),
        months=tuple(labels),
        month_share=share,
    )


def monthly_power_fee(
    import_kw: NDArray[np.float64],
    index: pd.DatetimeIndex,
    fee_eur_per_kw_month: float,
    window_h: float = 1.0,
    *,
    tz: str = "Europe/Helsinki",
) -> pd.DataFrame:
    """The monthly power fee of an import schedule (see the module docstring).

    Parameters
    ----------
    import_kw : numpy.ndarray
        Import power per step [kW].
    index : pandas.DatetimeIndex
        Its canonical UTC index.
    fee_eur_per_kw_month : float
        Power fee :math:`f` [EUR/kW per month].
    window_h : float
        Metering window [h] (default 1 h).
    tz : str
        Zone of the billing calendar.

    Returns
    -------
    pandas.DataFrame
        One row per local month: ``month`` (``YYYY-MM``), ``peak_kw`` (highest window
        mean :math:`\\hat P_m`), ``share`` (:math:`s_m`) and ``fee_eur``
        (:math:`f s_m \\hat P_m`).
    """
    x = np.asarray(import_kw, dtype=float)
    if x.shape != (len(index),):
        raise ValueError(f"import_kw has shape {x.shape}, the index {len(index)} steps")
    bw = billing_windows(index, window_h, tz=tz)
    means = np.bincount(bw.step_window, weights=x) / bw.window_size
    peak = np.full(len(bw.months), -np.inf)
    np.maximum.at(peak, bw.window_month, means)
    return pd.DataFrame(
        {
            "month": list(bw.months),
            "peak_kw": peak,
            "share": bw.month_share,
            "fee_eur": fee_eur_per_kw_month * bw.month_share * peak,
        }
    )
