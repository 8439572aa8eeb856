#!/usr/bin/env bash
# Highest zero-loss replay rate of the live sensor, per capture backend, beside tcpdump's in the same run.
# A capture is sent with tcpreplay into one end of a veth pair in a private network namespace at rising
# rates while the capturer listens on the other end. For the sensor, "zero loss" means every frame sent was
# captured AND went through the pipeline: no kernel/ring drop, no input-queue drop, packets_received = sent.
#   usage: bench/live-zero-loss.sh [CAPTURE]       (root; run from the project root)
#          default capture: $BENCH_DATA/api-mix.pcap (../shared/bench/make-captures.sh makes it)
#   env:   RATES="100 250 500 1000 1500 2000 top"  (Mbit/s, or top = --topspeed)
#          CAPTURERS="tcpdump pcap afpacket"  BUF_MB=512 (kernel buffer / ring per capturer)
#          SENSOR_ARGS="" (extra `sensor run` arguments)
# Prints per run: achieved rate, frames sent, frames processed, drops, transactions stored, the time the
# sensor needed to finish after the last frame, its peak RSS; then the highest zero-loss rate per capturer.
set -euo pipefail
DATA="${BENCH_DATA:-/tmp/bench-data}"
CAP="${1:-$DATA/api-mix.pcap}"
RATES="${RATES:-100 250 500 1000 1500 2000 top}"; CAPTURERS="${CAPTURERS:-tcpdump pcap afpacket}"; BUF_MB="${BUF_MB:-512}"
[ "$(id -u)" = 0 ] || { echo "needs root (network namespace, veth pair)"; exit 1; }
[ -s "$CAP" ] || { echo "no capture at $CAP (API_MB=300 STATIC_MB=300 ../shared/bench/make-captures.sh all)"; exit 1; }
for t in tcpreplay tcpdump ip; do command -v $t >/dev/null || { echo "needs $t"; exit 1; }; done
OUT="$DATA/sensor-live"
dotnet publish src/Sensor.Cli -c Release -o "$OUT" >"$DATA/sensor-live-publish.log" 2>&1 || { tail -20 "$DATA/sensor-live-publish.log"; exit 1; }
SENSOR="dotnet $OUT/sensor.dll"
WORK=$(mktemp -d)
NS=sensorbench$$
cleanup() { ip netns del $NS 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
ip netns add $NS
ip -n $NS link add vA type veth peer name vB
ip netns exec $NS sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for i in vA vB lo; do ip -n $NS link set $i up; done
# Taps sit after GRO: merged segments would undercount frames. The capture holds <= MTU frames already.
ip netns exec $NS ethtool -K vB gro off lro off >/dev/null 2>&1 || true
ip netns exec $NS ethtool -K vA tso off gso off >/dev/null 2>&1 || true
export SENSOR_KEY_FILE="$WORK/hmac.key"
cat "$CAP" >/dev/null
now() { date +%s.%N; }
hwm() { awk '/VmHWM/ {print $2}' /proc/"$1"/status 2>/dev/null || true; }
q() { $SENSOR query "$1" --db "$WORK/live.duckdb" --format csv 2>/dev/null | tail -1; }
live() { $SENSOR status --db "$WORK/live.duckdb" --all 2>/dev/null | awk -v k="$1" '$1 == k {gsub(",", "", $2); print $2}'; }
declare -A BEST
printf "%-9s %-5s %8s %10s %10s %8s %9s %9s %8s\n" capturer rate achMbps sent processed drops stored drain_s rss_MiB
for cap in $CAPTURERS; do
  BEST[$cap]=none
  for r in $RATES; do
    rm -f "$WORK"/live.duckdb* "$WORK"/*.log
    case $cap in
      tcpdump) ip netns exec $NS tcpdump -i vB -s 0 -B $((BUF_MB * 1024)) -w /dev/null 2>"$WORK/cap.log" & cp=$! ;;
      pcap|afpacket)
        ip netns exec $NS env SENSOR_Metrics__Listen= SENSOR_Capture__BufferSizeMb=$BUF_MB $SENSOR run -i vB --backend $cap --db "$WORK/live.duckdb" ${SENSOR_ARGS:-} >"$WORK/cap.log" 2>&1 & cp=$!
        for _ in $(seq 300); do [ -S "$WORK/live.duckdb.sock" ] && break; sleep 0.1; done ;;
      *) echo "unknown capturer $cap"; exit 2 ;;
    esac
    sleep 1
    if [ "$r" = top ]; then ra=--topspeed; else ra="--mbps=$r"; fi
    ip netns exec $NS tcpreplay -q -K $ra -i vA "$CAP" >"$WORK/replay.log" 2>&1 || true
    sent=$(grep -oP 'Actual: \K[0-9]+' "$WORK/replay.log" | head -1); sent=${sent:-0}
    ach=$(grep -oP 'Rated: .*?, \K[0-9.]+(?= Mbps)' "$WORK/replay.log" | head -1)
    t_end=$(now); rss=0; drain=0
    if [ "$cap" != tcpdump ]; then
      # Wait until the pipeline has worked off what the buffers hold: transactions stop changing.
      prev=-1
      while kill -0 $cp 2>/dev/null; do
        cur="$(live http.transactions)/$(live capture.packets_received)"
        [ "$cur" = "$prev" ] && break
        prev=$cur; h=$(hwm $cp); [ -n "$h" ] && rss=$h; sleep 1
      done
      drain=$(echo "$(now) - $t_end - 1" | bc)
      h=$(hwm $cp); [ -n "$h" ] && rss=$h
    else
      sleep 2
    fi
    kill -TERM $cp 2>/dev/null || true
    wait $cp 2>/dev/null || true
    if [ "$cap" = tcpdump ]; then
      got=$(grep -oP '^[0-9]+(?= packets captured)' "$WORK/cap.log" || echo 0)
      drops=$(grep -oP '^[0-9]+(?= packets dropped by kernel)' "$WORK/cap.log" || echo 0); stored=-
    else
      stat() { local v; v=$(q "select coalesce(max(value), 0) from capture_stats where stage = '$1' and counter = '$2' and recorded_at = (select max(recorded_at) from capture_stats)"); echo "${v:-0}"; }
      got=$(stat pipeline packets_in)
      drops=$(( $(stat capture kernel_drops) + $(stat capture ring_drops) + $(stat pipeline input_queue_drops) ))
      stored=$(q "select count(*) from http_transactions")
    fi
    ok=no; [ "$drops" = 0 ] && [ "$got" -ge "$sent" ] && [ "$sent" -gt 0 ] && ok=yes
    [ $ok = yes ] && BEST[$cap]="$r (${ach:-?} Mbit/s achieved)"
    printf "%-9s %-5s %8s %10s %10s %8s %9s %9.1f %8d %s\n" "$cap" "$r" "${ach:-?}" "$sent" "$got" "$drops" "$stored" "$drain" $((rss / 1024)) "$([ $ok = yes ] && echo zero-loss || echo LOSS)"
  done
done
echo
for cap in $CAPTURERS; do echo "highest zero-loss rate, $cap: ${BEST[$cap]}"; done
