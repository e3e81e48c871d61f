#!/bin/sh
# tools/bench/burst_rss.sh - does a burst of connections leave its memory
# behind? Reads the server's VmRSS from /proc before a burst of N TLS
# keep-alive connections (wrk, reviews of $BENCH_BODIES round robin), its
# peak during the burst, and after it, once the server reports no open
# connection (vmsnapd_open_connections in /metrics; a server without
# that metric, such as the baseline, is read after one second).
#
# usage: tools/bench/burst_rss.sh PID PORT [N [SECONDS]]
# prints: before_kb peak_kb after_kb
set -eu

PID=$1
PORT=$2
N=${3:-1000}
SECS=${4:-3}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
open_conns() {
    curl -sk "https://127.0.0.1:$PORT/metrics" 2>/dev/null |
        awk '/^vmsnapd_open_connections / {print $2}'
}

BEFORE=$(rss_kb)
SAMPLES=$(mktemp)
( while kill -0 "$PID" 2>/dev/null; do rss_kb; sleep 0.1; done ) >"$SAMPLES" &
SAMPLER=$!
BENCH_CLOSE=0 BENCH_DELAY_MS=0 wrk -t2 -c"$N" -d"${SECS}s" \
    -s tools/bench/reviews.lua "https://127.0.0.1:$PORT" >/dev/null 2>&1 || true
kill $SAMPLER 2>/dev/null || true
wait $SAMPLER 2>/dev/null || true
PEAK=$(sort -n "$SAMPLES" | tail -1)
rm -f "$SAMPLES"
# the closes reach the server shortly after wrk exits: wait for them
# (the /metrics request itself is the one connection left open)
i=0
while [ "$(open_conns)" != 1 ] && [ $i -lt 50 ]; do
    i=$((i + 1))
    sleep 0.1
done
[ $i -gt 0 ] || sleep 1
echo "$BEFORE ${PEAK:-$BEFORE} $(rss_kb)"
