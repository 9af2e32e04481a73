#!/usr/bin/env bash
# The Debian tools the suite uses as real peers, in one list: "command package".
# `pnpm test` runs this first. Missing tools are installed with apt-get when
# running as root (or with sudo that needs no password); otherwise the script
# names them and stops, since the tests that use them would fail.
set -euo pipefail

tools=(
  "openssl openssl"   # openssl s_client as a TLS peer, test certificates
  "socat socat"       # UDP peer in the interoperability tests
  "ss iproute2"       # reads the kernel's listen queues in the accept tests
  "haproxy haproxy"   # a real proxy in front of the server in the PROXY protocol tests
  "gcc gcc libc6-dev" # builds @commio/native (the native transport) and its sanitizer run
)

missing=()
for entry in "${tools[@]}"; do
  read -r command packages <<<"$entry"
  # shellcheck disable=SC2206 # one entry may name several packages
  command -v "$command" >/dev/null 2>&1 || missing+=($packages)
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "test tools missing: ${missing[*]}; install them with: apt-get install ${missing[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null 2>&1 || { echo "test tools missing: ${missing[*]} (no apt-get here: install them by hand)" >&2; exit 1; }
echo "installing test tools: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
