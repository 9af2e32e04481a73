#!/usr/bin/env bash
# The suite (ava) on every Node.js line to be tested, one after another or
# TEST_NODE_JOBS at a time, then one summary line per line and a total.
#
#   scripts/test-suite.sh [ava arguments...]    (pnpm test runs it with none)
#
# Environment:
#   TEST_NODE_LINES  which Node.js to run on: "machine" (the node on PATH, only
#                    while the packages' `engines` admit it) and release lines
#                    fetched from the npm registry by scripts/node-line.sh.
#                    Default with CI=true: "machine" plus every line not at
#                    end of life (scripts/node-lines.txt); otherwise
#                    "machine" if admitted, else the newest of those lines.
#   TEST_FULL_LINE   the line that also runs the long reliability files
#                    (test/reliability-*.test.ts); the others run the rest.
#                    Default: the last of TEST_NODE_LINES. "all": every line.
#   TEST_NODE_JOBS   lines run at once (default 1; each ava already uses
#                    every core, so 2 only pays on a quiet machine).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

supported=$(cat scripts/node-lines.txt)  # the lines not at end of life
machine_admitted=$(node scripts/admits.mjs)
if [ -n "${TEST_NODE_LINES:-}" ]; then
  lines=$TEST_NODE_LINES
elif [ "${CI:-}" = true ]; then
  lines="machine $supported"
elif [ "$machine_admitted" = yes ]; then
  lines=machine
else
  lines=${supported##* }
fi

# Resolve each entry to a node binary; drop the machine's node when `engines`
# does not admit it, and a line that duplicates the machine's own.
machine_major=$(node -p 'process.versions.node.split(".")[0]')
names=() nodes=()
for entry in $lines; do
  if [ "$entry" = machine ]; then
    if [ "$machine_admitted" != yes ]; then
      echo "suite: skipping the machine's Node.js $(node --version): the packages' engines do not admit it" >&2
      continue
    fi
    names+=("machine $(node --version)") nodes+=("$(command -v node)")
  else
    if [[ " $lines " == *" machine "* && "$machine_admitted" = yes && "$entry" = "$machine_major" ]]; then continue; fi
    bin=$(scripts/node-line.sh "$entry") || { echo "suite: cannot get Node.js $entry" >&2; exit 1; }
    names+=("$entry $("$bin" --version)") nodes+=("$bin")
  fi
done
[ ${#nodes[@]} -gt 0 ] || { echo "suite: no Node.js to run on" >&2; exit 1; }

full=${TEST_FULL_LINE:-last}

# test:native-transport: the plain-TCP files once more, on the native
# transport (COMMIO_TEST_TRANSPORT=native), on the last line; only for a
# whole-suite run. TEST_NATIVE_TRANSPORT=0 leaves it out.
# The list (one file a line) is scripts/native-transport-files.txt, which `pnpm test:native-transport` runs too.
# The reliability files (and accept-emfile, whose child they share) run only
# when that last line is the full line, like the reliability files on the Node
# transport.
mapfile -t native_files < scripts/native-transport-files.txt
native_reliability_files=(test/reliability-abrupt.test.ts test/reliability-slow-readers.test.ts test/reliability-emfile.test.ts
  test/accept-emfile.test.ts test/reliability-integrity.test.ts test/reliability-slowloris.test.ts test/reliability-callbacks.test.ts)
native_line=-1
if [ $# -eq 0 ] && [ "${TEST_NATIVE_TRANSPORT:-1}" != 0 ]; then
  native_line=${#nodes[@]}
  if [ "$full" = last ] || [ "$full" = all ] || [ "$full" = "${names[-1]%% *}" ]; then
    native_files+=("${native_reliability_files[@]}")
  fi
  names+=("${names[-1]}, transport native") nodes+=("${nodes[-1]}")
fi
logs=$(mktemp -d "${TMPDIR:-/tmp}/commio-suite.XXXXXX")
trap 'rm -rf "$logs"' EXIT

# Runs ava under one node; its output goes to $logs/<i>.log, its status to $logs/<i>.rc.
run_line() {
  local i=$1 args=() transport=node
  if [ "$i" -eq "$native_line" ]; then
    args=("${native_files[@]}") transport=native
  elif [ $# -gt 1 ]; then
    args=("${@:2}")
  elif [ "$full" != all ] && ! { [ "$full" = last ] && [ "$i" -eq $((${#nodes[@]} - 1 - (native_line >= 0))) ]; } &&
    [ "$full" != "${names[$i]%% *}" ]; then
    args=('test/**/*.test.ts' '!test/reliability-*.test.ts')
  fi
  local what="the whole suite"
  [ ${#args[@]} -eq 0 ] || what="ava ${args[*]}"
  echo "== Node.js ${names[$i]}: $what" >>"$logs/$i.log"
  local started=$SECONDS
  COMMIO_TEST_TRANSPORT=$transport "${nodes[$i]}" node_modules/ava/entrypoints/cli.mjs "${args[@]}" >>"$logs/$i.log" 2>&1
  echo $? >"$logs/$i.rc"
  echo $((SECONDS - started)) >"$logs/$i.seconds"
}

jobs_at_once=${TEST_NODE_JOBS:-1}
if [ "$jobs_at_once" -le 1 ]; then
  for i in "${!nodes[@]}"; do
    : >"$logs/$i.log" # exists before tail opens it
    run_line "$i" "$@" &
    pid=$!
    # Follow the log while it runs, so a long suite shows progress.
    tail -n +1 -f --pid=$pid "$logs/$i.log" 2>/dev/null &
    wait $pid
    wait
  done
else
  running=0
  for i in "${!nodes[@]}"; do
    run_line "$i" "$@" &
    running=$((running + 1))
    if [ $running -ge "$jobs_at_once" ]; then wait -n; running=$((running - 1)); fi
  done
  wait
  for i in "${!nodes[@]}"; do cat "$logs/$i.log"; done
fi

# ava's summary per line ("N tests passed", "N test failed", hooks,
# uncaught exceptions), then the total. A run that failed without a failed
# test (a crash, a timeout) counts as one failure.
count() { { grep -E "^ +[0-9]+ (tests? |hooks? )?$2\$" "$1" || true; } | grep -Eo '^ *[0-9]+' | awk '{ s += $1 } END { print s + 0 }'; }
total_passed=0 total_failed=0 status=0
echo
for i in "${!nodes[@]}"; do
  rc=$(cat "$logs/$i.rc" 2>/dev/null || echo 1)
  passed=$(count "$logs/$i.log" passed)
  failed=$(( $(count "$logs/$i.log" failed) + $(count "$logs/$i.log" 'uncaught exceptions?') + $(count "$logs/$i.log" 'unhandled rejections?') ))
  if [ "$rc" -ne 0 ]; then
    status=1
    [ "$failed" -gt 0 ] || failed=1
  fi
  echo "suite on Node.js ${names[$i]} ($(cat "$logs/$i.seconds" 2>/dev/null || echo '?') s): $passed passed, $failed failed"
  total_passed=$((total_passed + passed)) total_failed=$((total_failed + failed))
done
echo "suite: $total_passed passed, $total_failed failed"
exit $status
