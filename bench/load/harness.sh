#!/usr/bin/env bash
# The project's own load harness: builds loadgen and the C echo server into a
# temp directory, then measures each server (the anchors and any --server /
# --tls-server given) in each scenario, every run on a fresh server process,
# repetitions interleaved so drift of the machine hits every server alike.
# Raw JSON lines go to --out; the table (report.mjs) to stdout.
#
#   harness.sh [--quick] [--reps N] [--duration S] [--warmup S] [--scenarios a,b]
#              [--no-anchors] [--server 'CMD {port}' --name NAME]...
#              [--tls-server 'CMD {cert} {key} {port}' --name NAME]...
#              [--server-cpus 0] [--client-cpus 1] [--out FILE]
# Needs cc, libssl-dev, openssl, taskset and setsid (Debian: build-essential
# libssl-dev openssl util-linux).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=${NODE:-node}
reps=3 duration=2.5 warmup=1 scenarios=pp64-c1,pp64-c50,pp64-c500,stream16k,connect
server_cpus=0 client_cpus=1 anchors=1 out=
names=() cmds=() kinds=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) reps=1 duration=1 warmup=0.5 ;;
    --reps) reps=$2; shift ;;
    --duration) duration=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --scenarios) scenarios=$2; shift ;;
    --no-anchors) anchors=0 ;;
    --server | --tls-server)
      [ "${3:-}" = --name ] || { echo "harness: $1 needs --name NAME after it" >&2; exit 2; }
      kinds+=("$([ "$1" = --server ] && echo plain || echo tls)") cmds+=("$2") names+=("$4"); shift 3 ;;
    --server-cpus) server_cpus=$2; shift ;;
    --client-cpus) client_cpus=$2; shift ;;
    --out) out=$2; shift ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "harness: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

work=$(mktemp -d "${TMPDIR:-/tmp}/commio-load.XXXXXX")
trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -o "$work/loadgen" "$here/loadgen.c" "$here/stats.c" "$here/transport.c" -lssl -lcrypto
cc -O2 -Wall -o "$work/echo-epoll" "$here/echo-epoll.c" -lssl -lcrypto
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
[ -n "$out" ] || out=$work/raw.jsonl
: >"$out"

if [ "$anchors" = 1 ]; then
  kinds=(plain plain plain tls tls "${kinds[@]}")
  cmds=("$work/echo-epoll {port}" "$NODE $here/echo-node.mjs {port}" "$NODE $here/echo-node.mjs {port} --nodelay"
    "$work/echo-epoll {port} --tls {cert} {key}" "$NODE $here/echo-node.mjs {port} --tls {cert} {key}" "${cmds[@]}")
  names=(c-epoll node-net node-net-nodelay c-epoll-tls node-tls "${names[@]}")
fi

# Scenario -> whether it is TLS, and loadgen's arguments.
scenario_args() {
  case $1 in
    pp64-c1) echo "--mode pingpong -c 1 -s 64" ;;
    pp64-c50 | tls-pp64-c50) echo "--mode pingpong -c 50 -s 64" ;;
    pp64-c500) echo "--mode pingpong -c 500 -s 64" ;;
    pp4k-c50) echo "--mode pingpong -c 50 -s 4096" ;;
    stream16k | tls-stream16k) echo "--mode stream -c 4 -s 16384 -p 8" ;;
    connect | tls-handshake) echo "--mode connect -c 32 -s 64" ;;
    *) return 1 ;;
  esac
}
for s in ${scenarios//,/ }; do scenario_args "$s" >/dev/null || { echo "harness: unknown scenario $s" >&2; exit 2; }; done

free_port() { "$NODE" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
listening() { grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp; }

echo "harness: $reps rep(s) x ${duration}s, scenarios $scenarios; servers on CPU $server_cpus, loadgen on CPU $client_cpus" >&2
status=0
for rep in $(seq 1 "$reps"); do
  for scenario in ${scenarios//,/ }; do
    kind=plain tls_flag=
    if [[ $scenario == tls-* ]]; then kind=tls tls_flag=--tls; fi
    for i in "${!names[@]}"; do
      [ "${kinds[$i]}" = "$kind" ] || continue
      port=$(free_port)
      cmd=${cmds[$i]//\{port\}/$port}
      cmd=${cmd//\{cert\}/$work/cert.pem}
      cmd=${cmd//\{key\}/$work/key.pem}
      setsid taskset -c "$server_cpus" bash -c "exec $cmd" >"$work/server.log" 2>&1 &
      pid=$!
      for _ in $(seq 300); do listening "$port" && break; sleep 0.1; done
      rc=0
      # shellcheck disable=SC2046
      result=$(taskset -c "$client_cpus" "$work/loadgen" --port "$port" $(scenario_args "$scenario") $tls_flag \
        -d "$duration" -w "$warmup" --server-pid "$pid" --label "${names[$i]} $scenario") || rc=$?
      kill -TERM -- "-$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      [ "$rc" = 0 ] || status=1
      printf '{"server":"%s","tls_server":%s,"scenario":"%s","rep":%d,"rc":%d,"result":%s}\n' \
        "${names[$i]}" "$([ "$kind" = tls ] && echo true || echo false)" "$scenario" "$rep" "$rc" "${result:-null}" >>"$out"
    done
  done
done
"$NODE" "$here/report.mjs" "$out"
exit $status
