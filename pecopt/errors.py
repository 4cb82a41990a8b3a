"""The pecopt error tree.

Every error a user can cause is a :class:`PecoptError`; the CLI maps each class to an
exit code and prints its one-line message (no traceback):

======================  =========  ==============================================
class                   exit code  meaning
======================  =========  ==============================================
``ScenarioError``       2          the scenario file is invalid (key, value, type)
``OptionError``         2          a command-line option has an invalid value
``DataError``           2          an input data file is missing or malformed
``InfeasibleError``     3          the model has no feasible point
``SolverError``         4          HiGHS failed or stopped without a solution
======================  =========  ==============================================

One exit code is not an error: :data:`EXIT_NOT_OPTIMAL` (10), a plan was written but it
is not proven optimal (the time limit stopped the solver; ``kpis.json`` has
``solver.status: "time_limit"`` and the gap).
"""

from __future__ import annotations

from pathlib import Path

#: Exit code of a command that wrote a feasible plan which is not proven optimal (the time
#: limit stopped the solver): the caller may use the plan, knowing its gap.
EXIT_NOT_OPTIMAL = 10


class PecoptError(Exception):
    """Base class of every error pecopt reports to a user."""

    exit_code = 1


class ScenarioError(PecoptError):
    """The scenario file is invalid. The message names the file, the key and the problem.

    With ``line`` (and ``column``), 1-based, where the YAML parser knows them, the message
    reads ``file:line:column: field: problem``, the form editors and terminals link to.
    """

    exit_code = 2

    def __init__(
        self,
        file: str | Path | None,
        field: str,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.file = str(file) if file is not None else "<scenario>"
        self.field = field
        self.problem = problem
        self.line = line
        self.column = column
        where = self.file
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {field}: {problem}")


class OptionError(PecoptError):
    """A command-line option has an invalid value: ``--option: problem``."""

    exit_code = 2

    def __init__(self, option: str, problem: str) -> None:
        self.option = option
        self.problem = problem
        super().__init__(f"{option}: {problem}")


class DataError(PecoptError):
    """An input data file is missing or malformed. Names the file, the field and the problem."""

    exit_code = 2

    def __init__(self, file: str | Path | None, field: str, problem: str) -> None:
        self.file = str(file) if file is not None else "<data>"
        self.field = field
        self.problem = problem
        super().__init__(f"{self.file}: {field}: {problem}")


class InfeasibleError(PecoptError):
    """The optimisation problem has no feasible point; the message says what cannot be met."""

    exit_code = 3


class SolverError(PecoptError):
    """HiGHS failed, or stopped (time limit) without any feasible solution."""

    exit_code = 4
