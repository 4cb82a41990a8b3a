"""Heat-pump coefficient of performance from source and sink temperatures."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def cop_carnot(
    source_temp_c: ArrayLike,
    sink_temp_c: ArrayLike,
    carnot_efficiency: float,
    cop_max: float,
) -> NDArray[np.float64]:
    """COP as a fraction of the Carnot limit, capped.

    .. math::
        COP_t = \\min(COP_{max}, \\eta_C T_{sink} / (T_{sink} - T_{src,t}))

    with temperatures in kelvin. Where the source is as warm as the sink or warmer, the
    cap applies. FACTS: field air-source COP about 2.7 above -10 degC; ground source
    3.5-4.3; a Carnot fraction of 0.4-0.5 reproduces both.

    Parameters
    ----------
    source_temp_c : outdoor air or ground/brine temperature [degC]
    sink_temp_c : supply (flow) temperature [degC], a number or one per step
    carnot_efficiency : fraction of the Carnot COP reached [1]
    cop_max : upper cap [1]
    """
    src = np.asarray(source_temp_c, dtype=np.float64) + 273.15
    sink = np.asarray(sink_temp_c, dtype=np.float64) + 273.15
    lift = sink - src
    with np.errstate(divide="ignore", invalid="ignore"):
        cop = np.where(lift > 0, carnot_efficiency * sink / lift, cop_max)
    return np.minimum(cop, cop_max)


def supply_temperature_c(
    temp_air_c: ArrayLike,
    points: tuple[tuple[float, float], tuple[float, float]],
) -> NDArray[np.float64]:
    """Weather-compensated supply temperature of a heating loop [degC].

    .. math:: T_s(t) = T_{s,1} + (T_{s,2} - T_{s,1})
              \\frac{\\min(\\max(T_a(t), T_{a,1}), T_{a,2}) - T_{a,1}}{T_{a,2} - T_{a,1}}

    a straight line between two points (outdoor temperature, supply temperature), held
    flat outside them. VTT's archetype model: radiators 60 degC at -30 degC outdoor to
    20 degC at +20 degC; floor heating 40 to 20 degC over the same range
    (FACTS-HEAT-TARIFFS-COSTS section 2, vttresearch/ArchetypeBuildingModel).

    Parameters
    ----------
    temp_air_c : outdoor temperature [degC]
    points : ((T_a1, T_s1), (T_a2, T_s2)) with T_a1 < T_a2 [degC]
    """
    (a1, s1), (a2, s2) = points
    t = np.clip(np.asarray(temp_air_c, dtype=np.float64), a1, a2)
    out: NDArray[np.float64] = s1 + (s2 - s1) * (t - a1) / (a2 - a1)
    return out


def capacity_factor(
    temp_source_c: ArrayLike, curve: tuple[tuple[float, float], ...], cutoff_c: float | None
) -> NDArray[np.float64]:
    """Heat-pump heat-output capacity relative to its rating, by source temperature [1].

    Linear interpolation in ``curve`` (source temperature [degC], factor), held flat
    outside it; zero below ``cutoff_c`` (the unit stops). REopt's air-source default:
    0.38 / 0.64 / 1.0 / 1.4 at -20.6 / -8.3 / 8.3 / 26.7 degC; a Toshiba HWS-802 gives
    46 % of its +7 degC output at -20 degC (FACTS-HEAT-TARIFFS-COSTS section 3).
    """
    t = np.asarray(temp_source_c, dtype=np.float64)
    xs = np.array([p[0] for p in curve], dtype=np.float64)
    ys = np.array([p[1] for p in curve], dtype=np.float64)
    f: NDArray[np.float64] = np.interp(t, xs, ys)
    if cutoff_c is not None:
        f = np.where(t < cutoff_c, 0.0, f)
    return f
