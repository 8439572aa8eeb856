#!/usr/bin/env bash
# Records real loopback traffic between api-client.js and api-server.js into captures/rest-api.pcap.
# Run as root (tcpdump needs it):  bash captures/gen/record.sh      Optional: PORT=8081 bash ...
set -euo pipefail

GEN="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$GEN/../rest-api.pcap"
PORT="${PORT:-8080}"
WORK="$(mktemp -d)"
SERVER_PID="" TCPDUMP_PID=""

# Always stop what we started, even when a step fails.
cleanup() {
  [ -n "$TCPDUMP_PID" ] && kill -INT "$TCPDUMP_PID" 2>/dev/null && wait "$TCPDUMP_PID" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "run as root (tcpdump needs CAP_NET_RAW)" >&2; exit 1; }
command -v tcpdump >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y tcpdump; }
if ss -Htln "sport = :$PORT" | grep -q .; then echo "port $PORT is already in use" >&2; exit 1; fi

# 1. Server first, so the capture does not start with connection-refused noise.
node "$GEN/api-server.js" "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/server.log" && break; sleep 0.1; done
grep -q listening "$WORK/server.log" || { cat "$WORK/server.log" >&2; exit 1; }

# 2. tcpdump: -U flushes every packet; -Z root keeps it from dropping to a user that cannot write here.
tcpdump -i lo -s 0 -U -Z root -w "$WORK/rest-api.pcap" "tcp port $PORT and host 127.0.0.1" 2>"$WORK/tcpdump.log" &
TCPDUMP_PID=$!
# The 24-byte pcap file header is written once the capture is live.
for _ in $(seq 50); do [ "$(stat -c %s "$WORK/rest-api.pcap" 2>/dev/null || echo 0)" -ge 24 ] && break; sleep 0.1; done
[ "$(stat -c %s "$WORK/rest-api.pcap" 2>/dev/null || echo 0)" -ge 24 ] || { cat "$WORK/tcpdump.log" >&2; exit 1; }
sleep 0.3                                          # small margin for the kernel filter to attach

# 3. Traffic.
node "$GEN/api-client.js" "$PORT" | tee "$WORK/client.json"

# 4. Let the last FIN/ACKs land, then stop tcpdump cleanly (SIGINT writes out everything) and the server.
sleep 0.5
kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
cat "$WORK/tcpdump.log" >&2
kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
mv "$WORK/rest-api.pcap" "$OUT"
chmod 644 "$OUT"

# 5. Cross-check with tshark when available: every request the client sent must be in the file.
if command -v tshark >/dev/null; then
  sent=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).requests)' "$WORK/client.json")
  reqs=$(tshark -r "$OUT" -Y http.request 2>/dev/null | wc -l)
  resps=$(tshark -r "$OUT" -Y http.response 2>/dev/null | wc -l)
  conns=$(tshark -r "$OUT" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | wc -l)
  echo "$OUT: $(stat -c %s "$OUT") bytes, client sent $sent, tshark sees $reqs requests / $resps responses on $conns connections"
  [ "$reqs" = "$sent" ] && [ "$resps" = "$sent" ] || { echo "MISMATCH" >&2; exit 1; }
fi
