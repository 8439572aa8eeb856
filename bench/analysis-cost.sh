#!/usr/bin/env bash
# What the analysis stages cost, as ratios between replays of the same capture measured alternately in one
# run (the machine is shared and noisy: quote the ratios, not the seconds):
#   issue 5: inventory + OpenAPI export   vs  replay without inventory and findings   (target < 1.25)
#   issue 6: sensitive data + rules       vs  replay with the inventory only          (target < 1.30)
#   usage: bench/analysis-cost.sh [CAPTURE]     (run from the project root)
#          default capture: $BENCH_DATA/api-mix.pcap (../shared/bench/make-captures.sh makes it)
#   env:   RUNS=5 BENCH_DATA=/tmp/bench-data SENSOR="cmd"
set -euo pipefail
DATA="${BENCH_DATA:-/tmp/bench-data}"; RUNS="${RUNS:-5}"
CAP="${1:-$DATA/api-mix.pcap}"
[ -s "$CAP" ] || { echo "no capture at $CAP (API_MB=300 STATIC_MB=300 ../shared/bench/make-captures.sh all)"; exit 1; }
if [ -z "${SENSOR:-}" ]; then
  dotnet publish src/Sensor.Cli -c Release -o "$DATA/sensor-analysis" >"$DATA/sensor-analysis-publish.log" 2>&1 || { tail -20 "$DATA/sensor-analysis-publish.log"; exit 1; }
  SENSOR="dotnet $DATA/sensor-analysis/sensor.dll"
fi
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
export SENSOR_KEY_FILE="$WORK/hmac.key"
cat "$CAP" >/dev/null
now() { date +%s.%N; }
declare -A T RSS CPU
run() {   # name, extra args
  rm -f "$WORK/$1.duckdb"*
  /usr/bin/time -f "%M %U %S" -o "$WORK/rss" $SENSOR replay "$CAP" --db "$WORK/$1.duckdb" --quiet ${2:-} >/dev/null 2>"$WORK/err" &
  local t0; t0=$(now); wait $! || { cat "$WORK/err"; exit 1; }
  local rss user sys; read -r rss user sys < <(tail -1 "$WORK/rss")
  T[$1]+="$(echo "$(now) - $t0" | bc) "; RSS[$1]+="$rss "; CPU[$1]+="$(echo "$user + $sys" | bc) "
}
for i in $(seq 1 "$RUNS"); do
  run base "--no-inventory --no-findings"
  run inventory "--no-findings"
  run all ""
  t0=$(now); $SENSOR openapi export --db "$WORK/inventory.duckdb" --out "$WORK/out" >/dev/null; T[export]+="$(echo "$(now) - $t0" | bc) "
done
median() { printf '%s\n' $@ | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
B=$(median ${T[base]}); I=$(median ${T[inventory]}); A=$(median ${T[all]}); E=$(median ${T[export]})
CB=$(median ${CPU[base]}); CI=$(median ${CPU[inventory]}); CA=$(median ${CPU[all]})
printf 'capture %s, %d runs (medians)\n' "$(basename "$CAP")" "$RUNS"
# CPU time (user + system) is printed beside the wall time: on a shared machine it moves less.
printf '  replay, no inventory, no findings  %6.2f s   cpu %6.2f s   peak RSS %s MiB\n' "$B" "$CB" "$(( $(median ${RSS[base]} | cut -d. -f1) / 1024 ))"
printf '  replay with inventory              %6.2f s   cpu %6.2f s   peak RSS %s MiB\n' "$I" "$CI" "$(( $(median ${RSS[inventory]} | cut -d. -f1) / 1024 ))"
printf '  replay with inventory + findings   %6.2f s   cpu %6.2f s   peak RSS %s MiB\n' "$A" "$CA" "$(( $(median ${RSS[all]} | cut -d. -f1) / 1024 ))"
printf '  openapi export                     %6.2f s\n' "$E"
# Each run's ratios as well as the medians': on a shared machine their spread says how far one figure can be trusted.
per_run() { paste -d' ' <(printf '%s\n' $1) <(printf '%s\n' $2) <(printf '%s\n' $3) | awk "{ printf \" %.2f\", $4 }"; }
printf '  per run, inventory + export / plain:%s\n' "$(per_run "${T[base]}" "${T[inventory]}" "${T[export]}" '($2 + $3) / $1')"
printf '  per run, with findings / inventory: %s\n' "$(per_run "${T[inventory]}" "${T[all]}" "${T[all]}" '$2 / $1')"
awk -v b="$B" -v i="$I" -v e="$E" 'BEGIN { printf "  inventory + export: ratio %.2f to the plain replay (target < 1.25)\n", (i + e) / b }'
awk -v i="$I" -v a="$A" 'BEGIN { printf "  sensitive data + rules: ratio %.2f to the replay with inventory (target < 1.30)\n", a / i }'
awk -v b="$CB" -v i="$CI" -v a="$CA" 'BEGIN { printf "  in cpu time: inventory %.2f to the plain replay (without the export), findings %.2f to the replay with inventory\n", i / b, a / i }'
