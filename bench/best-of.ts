/**
 * Best-of table for a noisy machine: from the raw JSON lines of
 * run-anchors.sh (`--out FILE`), per scenario and server, the best headline
 * (highest throughput), the lowest server CPU per operation and the p99 of
 * the least disturbed run, with ratios to the baseline (node-net for plain
 * scenarios, node-tls for TLS ones). Work done by other processes only ever
 * slows a run down, so with enough reps the best run is the closest to what
 * a quiet machine gives; the harness's medians remain the primary figures.
 *
 *   node bench/dist/best-of.js RAW.jsonl [RAW2.jsonl ...]
 */
import { readFileSync } from 'node:fs';

interface RunLine {
  server: string;
  tls_server: boolean;
  scenario: string;
  rc: number;
  result: {
    mode: string;
    msgs_per_s: number;
    rx_MBps: number;
    conns_per_s: number;
    server_cpu_us_per_op: number;
    other_cpu_pct: number;
    lat_us: { p99: number };
  } | null;
}

interface Cell {
  best: number;
  minUsPerOp: number;
  quietP99: number;
  quietOther: number;
  runs: number;
}

function headline(r: NonNullable<RunLine['result']>): number {
  if (r.mode === 'pingpong') return r.msgs_per_s;
  if (r.mode === 'stream') return r.rx_MBps;
  return r.conns_per_s;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node best-of.js RAW.jsonl [RAW2.jsonl ...]\n');
  process.exit(2);
}
const cells = new Map<string, Map<string, Cell>>();
for (const file of files) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const run = JSON.parse(line) as RunLine;
    const r = run.result;
    if (r === null || run.rc !== 0) continue;
    const byServer = cells.get(run.scenario) ?? new Map<string, Cell>();
    cells.set(run.scenario, byServer);
    const cell = byServer.get(run.server) ?? { best: 0, minUsPerOp: Infinity, quietP99: 0, quietOther: Infinity, runs: 0 };
    byServer.set(run.server, cell);
    cell.runs++;
    cell.best = Math.max(cell.best, headline(r));
    cell.minUsPerOp = Math.min(cell.minUsPerOp, r.server_cpu_us_per_op);
    if (r.other_cpu_pct < cell.quietOther) {
      cell.quietOther = r.other_cpu_pct;
      cell.quietP99 = r.lat_us.p99;
    }
  }
}
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log('| scenario | server | runs | best | x base | min srv-µs/op | cpu/op x base | p99 µs (quietest run, oth%) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [scenario, byServer] of cells) {
  const base = byServer.get(scenario.startsWith('tls-') ? 'node-tls' : 'node-net');
  for (const [server, c] of byServer) {
    const ratio = base === undefined ? '' : `${fmt(c.best / base.best, 2)}x`;
    const cpu = base === undefined ? '' : `${fmt(c.minUsPerOp / base.minUsPerOp, 2)}x`;
    console.log(`| ${scenario} | ${server} | ${c.runs} | ${fmt(c.best, c.best < 10000 ? 1 : 0)} | ${ratio} | ${fmt(c.minUsPerOp, 2)} | ${cpu} | ${fmt(c.quietP99)} (${fmt(c.quietOther)} %) |`);
  }
}
