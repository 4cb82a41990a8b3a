"""The solve side: compile a Pyomo model to HiGHS arrays, run HiGHS, load the solution."""

from pecopt.solver.highs import SolveOutcome, Status, solve

__all__ = ["SolveOutcome", "Status", "solve"]
