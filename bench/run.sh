#!/usr/bin/env bash
# pnpm bench: builds the benchmark servers, measures them beside the raw
# anchors (a C epoll echo server, Node's net and tls) with the project's own
# load harness (bench/load/), then runs the idle-memory / scale driver.
#
#   pnpm bench [harness options...]      e.g. pnpm bench --reps 5, pnpm bench --quick
#   pnpm bench --shared [options...]     the same servers with the shared harness
#                                        (../shared/bench), for side-by-side checks
#
# Environment:
#   BENCH_SCENARIOS  plain scenarios (default pp64-c1,pp64-c50,pp64-c500,stream16k,connect)
#   BENCH_TLS=1      also run the TLS servers and the tls-* scenarios (needs TLS in the core)
#   BENCH_README=0   skip bench/echo-readme.ts (the README's echo, Nagle on like node-net)
#   BENCH_READ_BUFFER=0  skip bench/echo-read-buffer.ts
#   BENCH_NATIVE=1   also run echo-checking on the native transport (commio-native, plain only)
#   BENCH_MEMORY=0   skip the memory / scale driver
#   BENCH_MEMORY_ARGS  arguments for bench/dist/idle-memory.js (default: its own)
#   BENCH_OUT        directory for raw results (default bench/results)
#   BENCH_REV        measure packages/core as of this git revision (built apart by
#                    bench/snapshot.sh) instead of the working tree
#   SHARED_BENCH     the shared harness directory for --shared (default ../shared/bench beside the repo)
# Needs cc, taskset, setsid, libssl-dev and openssl (Debian: build-essential util-linux libssl-dev openssl).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
OUT=${BENCH_OUT:-$ROOT/bench/results}
SCENARIOS=${BENCH_SCENARIOS:-pp64-c1,pp64-c50,pp64-c500,stream16k,connect}
NODE=${NODE:-node}

HARNESS=$ROOT/bench/load/harness.sh
if [ "${1:-}" = --shared ]; then
  shift
  HARNESS=$SHARED_BENCH/run-anchors.sh
  [ -x "$HARNESS" ] || { echo "bench: no harness at $HARNESS (set SHARED_BENCH)" >&2; exit 2; }
fi
cd "$ROOT"
if [ -n "${BENCH_REV:-}" ]; then
  SNAP=$(mktemp -d "${TMPDIR:-/tmp}/commio-bench.XXXXXX")
  trap 'rm -rf "$SNAP"' EXIT
  bash bench/snapshot.sh "$BENCH_REV" "$SNAP"
  DIST=$SNAP/bench/dist
else
  npx tsc -b bench
  DIST=$ROOT/bench/dist
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
servers=(--server "$NODE $DIST/echo-checking.js {port}" --name commio-checking)
[ "${BENCH_READ_BUFFER:-1}" = 0 ] || servers+=(--server "$NODE $DIST/echo-read-buffer.js {port}" --name commio-read-buffer)
# The echo exactly as the README teaches, with Nagle on like the node-net anchor (bench/echo-readme.ts).
[ "${BENCH_README:-1}" = 0 ] || servers+=(--server "$NODE $DIST/echo-readme.js {port}" --name commio-readme)
# The main echo on the native transport (@commio/native; TLS stays on Node's transport).
[ "${BENCH_NATIVE:-0}" = 0 ] || servers+=(--server "$NODE $DIST/echo-checking.js --transport native {port}" --name commio-native)
if [ "${BENCH_TLS:-0}" = 1 ]; then
  SCENARIOS="$SCENARIOS,tls-pp64-c50,tls-stream16k,tls-handshake"
  servers+=(
    --tls-server "$NODE $DIST/echo-checking.js --tls {cert} {key} {port}" --name commio-checking-tls
  )
  [ "${BENCH_READ_BUFFER:-1}" = 0 ] || servers+=(--tls-server "$NODE $DIST/echo-read-buffer.js --tls {cert} {key} {port}" --name commio-read-buffer-tls)
  [ "${BENCH_README:-1}" = 0 ] || servers+=(--tls-server "$NODE $DIST/echo-readme.js --tls {cert} {key} {port}" --name commio-readme-tls)
fi

status=0
echo "== throughput and latency: $HARNESS (raw lines, table and log: $OUT/anchors-$stamp.*)" >&2
core_rev=$(git rev-parse --short "${BENCH_REV:-HEAD}")
[ -n "${BENCH_REV:-}" ] || [ -z "$(git status --porcelain -- packages/core)" ] || core_rev="$core_rev+uncommitted"
echo "== core: $core_rev" >&2
echo "$core_rev" >"$OUT/anchors-$stamp.rev"
bash "$HARNESS" --scenarios "$SCENARIOS" "${servers[@]}" --out "$OUT/anchors-$stamp.jsonl" "$@" \
  2> >(tee "$OUT/anchors-$stamp.log" >&2) | tee "$OUT/anchors-$stamp.txt" || status=1

if [ "${BENCH_MEMORY:-1}" != 0 ]; then
  echo "== memory and scale: idle-memory.js" >&2
  # shellcheck disable=SC2086
  "$NODE" "$DIST/idle-memory.js" ${BENCH_MEMORY_ARGS:-} | tee "$OUT/memory-$stamp.txt" || status=1
fi
exit $status
