#!/bin/sh
# Measures consumed events/s from the mock cluster into committed state: produces N events with
# kcat over 8 partitions (100 hosts), then times vigild from start until /metrics counts them all.
# Usage: tests/connectors/kafka/throughput.sh BUILD_DIR [N]
set -eu
BUILD=$1; N=${2:-200000}; DIR=$(mktemp -d); trap 'kill $MOCK $VIGILD 2>/dev/null; rm -rf $DIR' EXIT
"$BUILD/tests/connectors/kafka/mock_kafka_cluster" events:8 > "$DIR/mock.out" 2>&1 & MOCK=$!
while [ ! -s "$DIR/mock.out" ]; do sleep 0.1; done; B=$(head -1 "$DIR/mock.out")
python3 - "$N" "$DIR" <<'PY'
import sys
n, d = int(sys.argv[1]), sys.argv[2]
with open(d + "/events.txt", "w") as f:
    for i in range(n):
        f.write('h%d\t{"host":"h%d","type":"disk","state":"problem","severity":"major","message":"n%d"}\n' % (i % 100, i % 100, i))
PY
kcat -b "$B" -P -t events -K '	' -l "$DIR/events.txt" -X linger.ms=50 -X batch.num.messages=10000
PORT=$((20000 + $$ % 20000))
cat > "$DIR/vigil.yaml" <<Y
data_dir: $DIR/data
http: {listen: 127.0.0.1:$PORT}
rules: {files: [$(cd "$(dirname "$0")/../../.." && pwd)/config/rules.d/*.yaml]}
kafka: {brokers: "$B", topics: [events], group: bench, properties: {session.timeout.ms: "6000"}}
Y
START=$(date +%s.%N)
"$BUILD/daemon/vigild" --config "$DIR/vigil.yaml" > "$DIR/vigild.log" 2>&1 & VIGILD=$!
# The clock includes the ~3 s group join of the mock cluster; the rate is also shown without it.
while :; do
  # Committed state: the incidents' event counts as the API reads them from the store.
  C=$(curl -s "127.0.0.1:$PORT/api/v1/incidents?limit=200" |
      python3 -c 'import json,sys; print(sum(i["event_count"] for i in json.load(sys.stdin)["incidents"]))' 2>/dev/null || echo 0)
  [ "${C:-0}" = "$N" ] && break; sleep 0.2
done
END=$(date +%s.%N)
ASSIGNED=$(grep -m1 "kafka: assigned" "$DIR/vigild.log" | sed 's/^ts=\([^ ]*\).*/\1/')
python3 -c "
import datetime,sys
s,e,n=float('$START'),float('$END'),$N
a=datetime.datetime.fromisoformat('$ASSIGNED'.rstrip('Z')).replace(tzinfo=datetime.timezone.utc).timestamp()
print(f'{n} events committed in {e-s:.2f} s from start ({n/(e-s):.0f}/s); {e-a:.2f} s from assignment ({n/(e-a):.0f} events/s)')"
