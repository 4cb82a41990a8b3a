"""Shared helpers for the pecopt benchmark scripts.

Every measurement script in ``bench/`` runs in its own fresh Python process,
writes one JSON dict and exits.  This module holds the small pieces they share:

* :func:`peak_rss_mb` -- peak resident set size of the current process,
* :func:`process_startup_seconds` -- interpreter start-up before the script's
  first line (best effort, Linux only),
* :func:`apply_highs_options` -- set HiGHS options from a dict, cast to the
  option's own type,
* :func:`highs_result` -- model status, objective, MIP bound/gap and counters
  from a solved ``highspy.Highs``,
* :func:`write_json` -- write a result dict,
* :func:`run_subprocess_json` -- run a script in a fresh interpreter and load
  the JSON it wrote (used by ``bench/run.py`` to run measurements side by side),
* :func:`pecopt_cli` -- run a ``pecopt`` command in a fresh process, timed from outside.

The module only imports the standard library, so importing it does not
disturb the ``import`` phase that the scripts time.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """Return the peak resident set size of this process in MB (MiB).

    ``ru_maxrss`` is reported in KiB on Linux (bytes on macOS).
    """
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # pragma: no cover - not the benchmark host
        return rss / (1024.0 * 1024.0)
    return rss / 1024.0


def process_startup_seconds(script_top_wall: float) -> float | None:
    """Seconds between process creation and ``script_top_wall`` (a ``time.time()``).

    Reads the process start time from ``/proc/self/stat`` (clock-tick
    resolution, usually 10 ms).  Returns ``None`` where ``/proc`` is missing.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            stat = fh.read()
        # Field 22 (starttime), counted after the ")" that closes the comm field.
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        started = btime + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return max(0.0, script_top_wall - started)


def apply_highs_options(h: Any, options: dict[str, Any]) -> None:
    """Set every HiGHS option in ``options`` on ``h``; ``None`` values are skipped.

    Values are cast to the option's declared type (bool/int/double/string), so
    ``{"time_limit": 120}`` or ``{"threads": "2"}`` both work.  Raises
    ``ValueError`` for unknown options or rejected values.
    """
    import highspy

    casts = {
        highspy.HighsOptionType.kBool: _to_bool,
        highspy.HighsOptionType.kInt: int,
        highspy.HighsOptionType.kDouble: float,
        highspy.HighsOptionType.kString: str,
    }
    for name, value in options.items():
        if value is None:
            continue
        status, otype = h.getOptionType(name)
        if status != highspy.HighsStatus.kOk:
            raise ValueError(f"unknown HiGHS option {name!r}")
        if h.setOptionValue(name, casts[otype](value)) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS rejected {name}={value!r}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes"}
    return bool(value)


def highs_result(h: Any, is_mip: bool | None = None) -> dict[str, Any]:
    """Collect status and solution quality figures from a solved ``highspy.Highs``.

    ``is_mip`` says whether the model has integer columns; when ``None`` it is
    inferred from ``mip_node_count`` (HiGHS leaves it at -1 after an LP solve),
    which avoids copying the model out of HiGHS.

    Keys: ``model_status`` (string), ``objective`` (``None`` without a primal
    solution), ``primal_solution_status`` (int; 2 = feasible), ``mip_dual_bound``,
    ``mip_gap`` (both ``None`` for LPs or when not finite), ``mip_node_count``,
    ``simplex_iterations``, ``ipm_iterations``, ``highs_run_time`` (HiGHS' own clock).
    """
    info = h.getInfo()
    if is_mip is None:
        is_mip = int(info.mip_node_count) >= 0
    has_primal = int(info.primal_solution_status) == 2
    return {
        "model_status": h.modelStatusToString(h.getModelStatus()),
        "objective": _finite(info.objective_function_value) if has_primal else None,
        "primal_solution_status": int(info.primal_solution_status),
        "mip_dual_bound": _finite(info.mip_dual_bound) if is_mip else None,
        "mip_gap": _finite(info.mip_gap) if is_mip else None,
        "mip_node_count": int(info.mip_node_count) if is_mip else None,
        "simplex_iterations": int(info.simplex_iteration_count),
        "ipm_iterations": int(info.ipm_iteration_count),
        "highs_run_time": float(h.getRunTime()),
    }


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) and abs(x) < 1e30 else None


#: ``python -c PECOPT_CLI ARGS`` runs ``pecopt ARGS`` with this interpreter
PECOPT_CLI = "import sys; from pecopt.cli.main import main; sys.argv[0] = 'pecopt'; main()"


def pecopt_cli(*args: str) -> float:
    """Run ``pecopt ARGS`` in a fresh process (it must exit 0); its wall time [s], Python
    start and imports included."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", PECOPT_CLI, *args], check=True, capture_output=True)
    return time.perf_counter() - t0


def write_json(path: str | os.PathLike[str] | None, result: dict[str, Any]) -> None:
    """Write ``result`` as indented JSON to ``path`` (stdout when ``None`` or ``-``)."""
    text = json.dumps(result, indent=2, sort_keys=False)
    if path is None or str(path) == "-":
        print(text)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text + "\n", encoding="utf-8")


def run_subprocess_json(
    cmd: list[str],
    *,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Run a benchmark script in a fresh Python process and return its JSON dict.

    ``cmd`` is the script path followed by its arguments, e.g.
    ``["bench/plain_highspy.py", "--T", "168", "--B", "10"]``; the current
    interpreter (``sys.executable``) is prepended unless ``cmd[0]`` already is
    an interpreter.  If ``cmd`` has no ``--json PATH``, a temporary file is
    appended and removed afterwards.

    Adds to the loaded dict: ``subprocess_wall_s`` (wall time of the whole
    child process, interpreter start to exit, measured here) and ``cmd``.
    Raises ``RuntimeError`` (with the tail of stderr) if the child fails or
    writes no JSON.
    """
    cmd = [str(c) for c in cmd]
    if not Path(cmd[0]).name.startswith("python"):
        cmd = [sys.executable, *cmd]
    tmp: str | None = None
    if "--json" in cmd:
        json_path = cmd[cmd.index("--json") + 1]
    else:
        fd, tmp = tempfile.mkstemp(prefix="pecopt_bench_", suffix=".json")
        os.close(fd)
        os.unlink(tmp)  # the child creates it; a leftover empty file would mask failures
        json_path = tmp
        cmd = [*cmd, "--json", json_path]
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=False
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not Path(json_path).is_file():
            raise RuntimeError(
                f"benchmark command failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                f"{proc.stderr[-4000:]}"
            )
        result = json.loads(Path(json_path).read_text(encoding="utf-8"))
    finally:
        if tmp is not None and Path(tmp).exists():
            Path(tmp).unlink()
    result["subprocess_wall_s"] = wall
    result["cmd"] = cmd
    return result
