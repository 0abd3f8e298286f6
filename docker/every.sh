#!/bin/sh
# every SECONDS COMMAND...: run COMMAND now and then every SECONDS, for ever; what cron
# or a Kubernetes CronJob does, for compose's `purge` service. A failed run is logged
# and the next one still happens. SIGTERM (docker compose stop) ends it at once,
# even mid-sleep.
set -u

interval=${1:?usage: every SECONDS COMMAND...}
shift
sleeper=
trap 'kill $sleeper 2>/dev/null; exit 0' TERM INT

while :; do
    "$@" || echo "every: '$*' failed (exit $?); next run in ${interval}s" >&2
    # In the background, so the trap runs as soon as a signal comes.
    sleep "$interval" &
    sleeper=$!
    wait "$sleeper"
done
