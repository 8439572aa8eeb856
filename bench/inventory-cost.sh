#!/usr/bin/env bash
# What the inventory (issue 5: endpoints, parameters, schemas, security) and the OpenAPI export cost, as a
# ratio to the same replay without them, measured alternately in one run (the machine is shared and noisy:
# quote the ratio, not the seconds).
#   usage: bench/inventory-cost.sh [CAPTURE]     (run from the project root)
#          default capture: $BENCH_DATA/api-mix.pcap (../shared/bench/make-captures.sh makes it)
#   env:   RUNS=5 BENCH_DATA=/tmp/bench-data SENSOR="cmd"
set -euo pipefail
DATA="${BENCH_DATA:-/tmp/bench-data}"; RUNS="${RUNS:-5}"
CAP="${1:-$DATA/api-mix.pcap}"
[ -s "$CAP" ] || { echo "no capture at $CAP (API_MB=300 STATIC_MB=300 ../shared/bench/make-captures.sh all)"; exit 1; }
if [ -z "${SENSOR:-}" ]; then
  dotnet publish src/Sensor.Cli -c Release -o "$DATA/sensor-inv" >"$DATA/sensor-inv-publish.log" 2>&1 || { tail -20 "$DATA/sensor-inv-publish.log"; exit 1; }
  SENSOR="dotnet $DATA/sensor-inv/sensor.dll"
fi
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
cat "$CAP" >/dev/null
now() { date +%s.%N; }
base=(); inv=(); exp=(); rss_b=(); rss_i=()
for i in $(seq 1 "$RUNS"); do
  rm -f "$WORK"/*.duckdb*
  /usr/bin/time -f %M -o "$WORK/rss" $SENSOR replay "$CAP" --db "$WORK/b.duckdb" --quiet --no-inventory >/dev/null 2>"$WORK/err" &
  t0=$(now); wait $! || { cat "$WORK/err"; exit 1; }; t1=$(now)
  base+=("$(echo "$t1 - $t0" | bc)"); rss_b+=("$(tail -1 "$WORK/rss")")
  /usr/bin/time -f %M -o "$WORK/rss" $SENSOR replay "$CAP" --db "$WORK/i.duckdb" --quiet >/dev/null 2>"$WORK/err" &
  t0=$(now); wait $! || { cat "$WORK/err"; exit 1; }; t1=$(now)
  inv+=("$(echo "$t1 - $t0" | bc)"); rss_i+=("$(tail -1 "$WORK/rss")")
  t0=$(now); $SENSOR openapi export --db "$WORK/i.duckdb" --out "$WORK/out" >/dev/null; t1=$(now)
  exp+=("$(echo "$t1 - $t0" | bc)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
B=$(median "${base[@]}"); I=$(median "${inv[@]}"); E=$(median "${exp[@]}")
printf 'capture %s, %d runs (medians)\n' "$(basename "$CAP")" "$RUNS"
printf '  replay without inventory   %6.2f s   peak RSS %s MiB\n' "$B" "$(( $(median "${rss_b[@]}" | cut -d. -f1) / 1024 ))"
printf '  replay with inventory      %6.2f s   peak RSS %s MiB\n' "$I" "$(( $(median "${rss_i[@]}" | cut -d. -f1) / 1024 ))"
printf '  openapi export             %6.2f s\n' "$E"
awk -v b="$B" -v i="$I" -v e="$E" 'BEGIN { printf "  inventory + export cost: +%.0f%% of replay (ratio %.2f; target < 1.25)\n", (i + e - b) / b * 100, (i + e) / b }'
