#!/usr/bin/env bash
# Scans the TLS echo example with testssl.sh (Debian package `testssl.sh`)
# and fails when it offers a protocol below TLS 1.2, a weak cipher, or when
# testssl.sh flags a known vulnerability.
#
#   bash scripts/testssl.sh            # results in a temporary directory
#   TESTSSL_OUT=dir bash scripts/testssl.sh
#
# The example runs with a self-signed certificate made in memory, so the
# certificate's trust findings (self-signed, no OCSP/CRL, short chain) are
# expected and not counted; everything about protocols, ciphers and
# vulnerabilities is.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v testssl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq testssl.sh >/dev/null
fi

out=${TESTSSL_OUT:-$(mktemp -d)}
mkdir -p "$out"
node --import=tsx --conditions=commio-source examples/echo-server.ts --tls 0 >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

port=""
for _ in $(seq 1 200); do
  port=$(grep -oE 'listening on [^ ]+:[0-9]+' "$out/server.log" | grep -oE '[0-9]+$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "testssl: the TLS echo example did not start:" >&2
  cat "$out/server.log" >&2
  exit 1
fi

# Protocols, cipher categories, forward secrecy, server preferences and
# defaults, and every vulnerability check.
rm -f "$out/testssl.json"
testssl --quiet --color 0 --warnings off --jsonfile "$out/testssl.json" \
  --protocols --std --fs --server-preference --server-defaults --vulnerable \
  "127.0.0.1:$port" >"$out/testssl.txt" 2>&1 || true
echo "testssl: full report in $out/testssl.txt and $out/testssl.json"

node --input-type=module - "$out/testssl.json" <<'JS'
import { readFileSync } from 'node:fs';
const findings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const problems = [];
const offered = (id) => findings.find((f) => f.id === id)?.finding ?? 'missing';
// No protocol below TLS 1.2.
for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) {
  if (!/not offered/.test(offered(id))) problems.push(`${id}: ${offered(id)}`);
}
for (const id of ['TLS1_2', 'TLS1_3']) console.log(`${id}: ${offered(id)}`);
// Certificate trust findings are expected for a self-signed test certificate.
const certificate = /^(cert|intermediate_cert|OCSP|DNS_CAA|chain_of_trust|trust)/i;
// HTTP-only checks do not apply to a raw TLS echo service.
const httpOnly = /^(HSTS|HPKP|BREACH|banner|cookie|security_headers|HTTP)/i;
for (const f of findings) {
  if (certificate.test(f.id) || httpOnly.test(f.id)) continue;
  if (['MEDIUM', 'HIGH', 'CRITICAL'].includes(f.severity)) problems.push(`${f.id} (${f.severity}): ${f.finding}`);
}
// Weak cipher categories must be "not offered".
for (const id of ['cipherlist_NULL', 'cipherlist_aNULL', 'cipherlist_EXPORT', 'cipherlist_LOW', 'cipherlist_3DES_IDEA', 'cipherlist_OBSOLETED']) {
  const f = findings.find((x) => x.id === id);
  if (f !== undefined && !/not offered/.test(f.finding)) problems.push(`${id}: ${f.finding}`);
}
const vulnerabilities = findings.filter((f) => /^(heartbleed|CCS|ticketbleed|ROBOT|secure_renego|secure_client_renego|CRIME_TLS|POODLE_SSL|fallback_SCSV|SWEET32|FREAK|DROWN|LOGJAM|BEAST|LUCKY13|RC4)/.test(f.id));
for (const f of vulnerabilities) console.log(`${f.id}: ${f.severity} ${f.finding}`);
if (problems.length > 0) {
  console.log(`testssl: FAIL\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`testssl: PASS (${findings.length} findings checked, ${vulnerabilities.length} vulnerability checks)`);
JS
