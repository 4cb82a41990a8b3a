"""``deploy/pecopt-dispatch.sh``, the job the systemd timer and the cron line start: it
plans the day into ``$PECOPT_RUNS/<day>``, keeps a log per day, passes pecopt's exit
code on, and retries while another run holds the state store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pecopt.state import locked

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "pecopt-dispatch.sh"
PECOPT = Path(sys.executable).with_name("pecopt")


def _scenario(folder: Path) -> Path:
    doc = {
        "site": {"name": "tiny", "timezone": "Europe/Helsinki"},
        "horizon": {"start": "2025-03-10T00:00", "end": "2025-03-11T00:00"},
        "dispatch": {"resolution": "1h", "lookahead_h": 6},
        "demand": {"elec": 50.0},
        "assets": {
            "grid": {"tariff": {"spot": {"source": "series", "series": 0.08}}},
            "batteries": [{"name": "battery", "capacity_kwh": 50, "power_kw": 25}],
        },
    }
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _job(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT)],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PECOPT_SCENARIO": str(_scenario(folder)),
            "PECOPT_STATE": str(folder / "state"),
            "PECOPT_RUNS": str(folder / "runs"),
            "PECOPT_LOGS": str(folder / "logs"),
            "PECOPT_BIN": str(PECOPT),
            "PECOPT_DAY": "2025-03-10",
            **env,
        },
    )


@pytest.mark.slow  # three runs of pecopt; dispatch itself and its exit 75 are tested fast
def test_the_nightly_job_plans_and_keeps_its_log(tmp_path: Path) -> None:
    done = _job(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "runs" / "2025-03-10" / "setpoints.csv").is_file()
    log = (tmp_path / "logs" / "dispatch-2025-03-10.log").read_text()
    assert "pecopt dispatch" in log and "plan optimal" in log and log.rstrip().endswith("exit 0")
    with locked(tmp_path / "state"):  # another run holds the store: retried, then 75
        busy = _job(tmp_path, PECOPT_RETRIES="2", PECOPT_RETRY_SECONDS="0")
    assert busy.returncode == 75
    log = (tmp_path / "logs" / "dispatch-2025-03-10.log").read_text()
    assert "(try 2)" in log and log.rstrip().endswith("exit 75")
    assert "another pecopt dispatch run holds the state store" in busy.stdout
