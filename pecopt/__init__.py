"""pecopt: positive-energy district optimisation with Pyomo and HiGHS."""

__version__ = "0.1.0"
