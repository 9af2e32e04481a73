#!/usr/bin/env bash
# Builds @commio/native with AddressSanitizer and UndefinedBehaviorSanitizer
# and runs the addon's own tests against that build (once, in CI).
# Node itself is not instrumented: libasan is preloaded so the addon's
# allocations and accesses are checked; leak reports are limited to the
# addon (Node's own allocations at exit are suppressed).
set -euo pipefail
cd "$(dirname "$0")/.."

CC="${CC:-gcc}"
out="packages/native/build-sanitize"
COMMIO_NATIVE_OUT=build-sanitize COMMIO_NATIVE_CFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1' \
  CC="$CC" node packages/native/scripts/build.mjs --strict

libasan="$("$CC" -print-file-name=libasan.so)"
if [[ ! -e "$libasan" ]]; then
  echo "native-sanitize: $CC has no libasan.so ($libasan)" >&2
  exit 1
fi
suppressions="$(mktemp)"
trap 'rm -f "$suppressions"' EXIT
# Leaks are reported only when a frame of the addon is on the allocating stack.
printf 'leak:/usr/bin/node\nleak:libstdc++\nleak:libc.so\n' >"$suppressions"

export COMMIO_NATIVE_PATH="$PWD/$out/commio_native.node"
export COMMIO_REQUIRE_NATIVE=1
export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:verify_asan_link_order=0:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$suppressions:print_suppressions=0"
# The addon's own tests (native-core goes through the core and its leak checks: it runs in the suite).
pnpm exec ava test/native-echo.test.ts test/native-write.test.ts test/native-transport.test.ts test/native-process.test.ts "$@"
