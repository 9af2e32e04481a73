#!/usr/bin/env bash
# bench/snapshot.sh REV DIR: builds packages/core as of git revision REV,
# with the working tree's bench/, into DIR (made afresh), so a benchmark
# measures one known commit of the core whatever is being edited meanwhile.
# The servers are then DIR/bench/dist/*.js.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# = 2 ] || { echo "usage: bench/snapshot.sh REV DIR" >&2; exit 2; }
REV=$1
DIR=$2
case "$DIR" in /*) ;; *) DIR=$PWD/$DIR ;; esac
[ "$DIR" != / ] && [ "$DIR" != "$ROOT" ] || { echo "snapshot: refusing DIR=$DIR" >&2; exit 2; }
git -C "$ROOT" rev-parse --verify --quiet "$REV^{commit}" >/dev/null || { echo "snapshot: no commit $REV" >&2; exit 2; }

rm -rf "$DIR"
mkdir -p "$DIR/node_modules/@commio" "$DIR/bench"
# The core's build references the native package (its TypeScript part); the compiled addon is the working tree's.
git -C "$ROOT" archive "$REV" packages/core packages/native tsconfig.base.json package.json | tar -x -C "$DIR"
tar -C "$ROOT/bench" --exclude=./dist --exclude=./results -cf - . | tar -x -C "$DIR/bench"
# Dependencies come from the repository's install; @commio/core is the snapshot's.
ln -s "$ROOT/packages/core/node_modules" "$DIR/packages/core/node_modules"
ln -s ../../packages/core "$DIR/node_modules/@commio/core"
ln -s ../../packages/native "$DIR/node_modules/@commio/native"
[ -d "$ROOT/packages/native/build" ] && ln -s "$ROOT/packages/native/build" "$DIR/packages/native/build"
[ -d "$ROOT/packages/native/node_modules" ] && ln -s "$ROOT/packages/native/node_modules" "$DIR/packages/native/node_modules"
ln -s "$ROOT/node_modules/@types" "$DIR/node_modules/@types"
"$ROOT/node_modules/.bin/tsc" -b "$DIR/bench"
echo "snapshot: core at $(git -C "$ROOT" rev-parse --short "$REV"), bench from the working tree, built in $DIR" >&2
