"""Heat-pump coefficient of performance from source and sink temperatures."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def cop_carnot(
    source_temp_c: ArrayLike,
    sink_temp_c: float,
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
    sink_temp_c : supply (flow) temperature [degC]
    carnot_efficiency : fraction of the Carnot COP reached [1]
    cop_max : upper cap [1]
    """
    src = np.asarray(source_temp_c, dtype=np.float64) + 273.15
    sink = sink_temp_c + 273.15
    lift = sink - src
    with np.errstate(divide="ignore", invalid="ignore"):
        cop = np.where(lift > 0, carnot_efficiency * sink / lift, cop_max)
    return np.minimum(cop, cop_max)
