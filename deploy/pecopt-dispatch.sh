#!/usr/bin/env bash
# The nightly dispatch job: plan tomorrow (site time) from the carried state, keep a log.
#
# Configuration (environment, e.g. /etc/pecopt/dispatch.env read by the systemd unit):
#   PECOPT_SCENARIO  scenario file with a dispatch: section          (required)
#   PECOPT_STATE     state store folder                              (default /var/lib/pecopt/state)
#   PECOPT_RUNS      parent of the per-day output folders            (default /var/lib/pecopt/runs)
#   PECOPT_LOGS      folder of the per-day log files                 (default /var/log/pecopt)
#   PECOPT_BIN       the pecopt command                              (default: pecopt on PATH)
#   PECOPT_TZ        site time zone for "tomorrow"                   (default Europe/Helsinki)
#   PECOPT_DAY       delivery day YYYY-MM-DD                         (default: tomorrow)
#   PECOPT_RETRIES   tries while another run holds the store (75)    (default 3, 60 s apart)
#
# Output: $PECOPT_RUNS/<day>/ (replaced atomically by a re-run of the same day);
# log: $PECOPT_LOGS/dispatch-<day>.log (appended, one block per try). The exit code is
# pecopt's: 0 plan, 10 plan in degraded mode, 2 bad input, 3 no plan possible,
# 4 solver failure, 75 store locked (after the retries), 1 internal error.
set -u
: "${PECOPT_SCENARIO:?set PECOPT_SCENARIO to the dispatch scenario file}"
state="${PECOPT_STATE:-/var/lib/pecopt/state}"
runs="${PECOPT_RUNS:-/var/lib/pecopt/runs}"
logs="${PECOPT_LOGS:-/var/log/pecopt}"
bin="${PECOPT_BIN:-pecopt}"
tz="${PECOPT_TZ:-Europe/Helsinki}"
day="${PECOPT_DAY:-$(TZ="$tz" date -d tomorrow +%F)}"
retries="${PECOPT_RETRIES:-3}"
mkdir -p "$runs" "$logs"
log="$logs/dispatch-$day.log"
# internal-error tracebacks of pecopt go beside the logs
export XDG_STATE_HOME="${XDG_STATE_HOME:-$logs}"

try=1
while :; do
    (
        echo "=== $(date -u +%FT%TZ) pecopt dispatch $PECOPT_SCENARIO --day $day (try $try)"
        "$bin" dispatch "$PECOPT_SCENARIO" --day "$day" --state "$state" --out "$runs/$day"
        code=$?
        echo "=== $(date -u +%FT%TZ) exit $code"
        exit "$code"
    ) >>"$log" 2>&1
    code=$?
    if [ "$code" -ne 75 ] || [ "$try" -ge "$retries" ]; then
        break
    fi
    try=$((try + 1))
    sleep "${PECOPT_RETRY_SECONDS:-60}"
done
tail -n 20 "$log"  # the last try's summary also to the journal / cron mail
exit "$code"
