"""pecopt: positive-energy district optimisation with Pyomo and HiGHS.

The library API: :func:`load_scenario`, :func:`build` (``.model`` is the Pyomo model)
and :func:`solve`; see :mod:`pecopt.api`.
"""

from pecopt.api import Built, Solution, build, load_scenario, solve

__version__ = "0.2.0.dev0"

__all__ = ["Built", "Solution", "__version__", "build", "load_scenario", "solve"]
