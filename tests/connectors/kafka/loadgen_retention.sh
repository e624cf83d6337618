#!/bin/sh
# vigil-loadgen's Kafka mode against the mock cluster, which deletes the oldest messages beyond
# 5 MiB per partition: 80 000 events on one partition must all stay in the topic (kcat reads them
# back from offset 0), and 400 000 must make it fail loudly instead of reporting success — the
# benchmark once waited for events that were gone.
# Usage: loadgen_retention.sh MOCK_KAFKA_CLUSTER VIGIL_LOADGEN
set -eu
MOCK_BIN=$1; LOADGEN=$2; DIR=$(mktemp -d); MOCK=
trap '[ -n "$MOCK" ] && kill $MOCK 2>/dev/null; rm -rf "$DIR"' EXIT
start_mock() {
  [ -n "$MOCK" ] && kill $MOCK && wait $MOCK 2>/dev/null || true
  : > "$DIR/mock.out"
  "$MOCK_BIN" events:1 > "$DIR/mock.out" 2>&1 & MOCK=$!
  while [ ! -s "$DIR/mock.out" ]; do sleep 0.1; done; B=$(head -1 "$DIR/mock.out")
}

start_mock
"$LOADGEN" --events 80000 --hosts 500 kafka "$B" events > "$DIR/ok.json"
grep -q '"ok":true' "$DIR/ok.json"
FIRST=$(kcat -b "$B" -C -e -q -t events -o beginning -c 1 -f '%o\n')
COUNT=$(kcat -b "$B" -C -e -q -t events -o beginning -f '%o\n' | wc -l)
[ "$FIRST" = 0 ] || { echo "the topic starts at offset $FIRST: the oldest events were deleted"; exit 1; }
[ "$COUNT" = 80000 ] || { echo "the topic holds $COUNT of 80000 events"; exit 1; }

start_mock
if "$LOADGEN" --events 400000 --hosts 500 kafka "$B" events > "$DIR/over.json" 2> "$DIR/over.err"; then
  echo "vigil-loadgen reported success although the topic cannot keep 400000 events"; exit 1
fi
grep -q "deleted the oldest" "$DIR/over.err" || { cat "$DIR/over.err"; exit 1; }
echo "80000 events kept from offset 0; 400000 refused: $(cat "$DIR/over.err")"
