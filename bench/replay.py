"""Replay benchmark: a period of Kera nights in closed loop (issue #15).

    python bench/replay.py [--from 2025-01-01] [--to 2025-12-31] [--forecast perfect]
                           [--out bench/results/replay.json]

One ``pecopt replay`` of ``scenarios/kera_replay.yaml`` (Kera at 15 minutes, a 48-hour
look-ahead, the embedded year as the truth), in this process. Reported: the seconds of
each phase summed over the nights (``plan``: the night's model built and solved on the
forecast, with its fallbacks; ``settle``: the delivery day's model on the truth, following
the plan; ``rule``: the rule-based controller's day), per night, the settlement's share
of planning, the nights' total, the perfect-foresight solve of the whole period and the
whole command; the load average before and after (the machine is shared). The issue's
targets: 365 nights in at most 6 minutes, settling a day at most 20 % of planning it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCENARIO = REPO / "scenarios" / "kera_replay.yaml"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="first", default="2025-01-01")
    ap.add_argument("--to", dest="last", default="2025-12-31")
    ap.add_argument("--forecast", default="perfect")
    ap.add_argument("--scenario", type=Path, default=SCENARIO)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "replay.json")
    ap.add_argument("--keep", type=Path, help="keep the replay's output folder here")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="PATH=VALUE")
    args = ap.parse_args(argv)

    from pecopt.workflows.replay import replay

    load0 = os.getloadavg()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run = replay(
            args.scenario, args.keep or Path(tmp) / "replay", first=date.fromisoformat(args.first),
            last=date.fromisoformat(args.last), forecast=args.forecast, sets=tuple(args.sets),
            progress=lambda s: print(s, file=sys.stderr) if "night" not in s or
            s.split("/")[0].endswith("0") else None,
        )  # fmt: skip
    wall = time.perf_counter() - t0
    s, k = run.seconds, run.kpis
    nights = len(run.table)
    night_s = s["plan"] + s["settle"] + s["rule"]
    result = {
        "scenario": str(args.scenario.relative_to(REPO)),
        "from": args.first,
        "to": args.last,
        "forecast": args.forecast,
        "set": args.sets,
        "nights": nights,
        "seconds": {name: round(v, 2) for name, v in s.items()},
        "per_night_s": {p: round(s[p] / nights, 3) for p in ("plan", "settle", "rule")},
        "nights_s": round(night_s, 1),
        "settle_over_plan": round(s["settle"] / s["plan"], 3),
        "wall_s": round(wall, 1),
        "net_cost_eur": {
            w: round(k[w]["net_cost_eur"], 2)
            for w in ("realised", "rule_based", "perfect_foresight")
            if isinstance(k.get(w), dict) and "net_cost_eur" in k[w]
        },
        "realised_over_perfect": k.get("realised_over_perfect"),
        "items_eur": {
            w: {i: round(v, 2) for i, v in k[w].get("items_eur", {}).items()}
            for w in ("realised", "rule_based", "perfect_foresight")
            if isinstance(k.get(w), dict)
        },
        "ev_charged_kwh": {
            w: round(k[w]["ev_charged_kwh"], 1)
            for w in ("realised", "rule_based", "perfect_foresight")
            if isinstance(k.get(w), dict) and "ev_charged_kwh" in k[w]
        },
        "loadavg_before": [round(x, 2) for x in load0],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "cores": len(os.sched_getaffinity(0)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
