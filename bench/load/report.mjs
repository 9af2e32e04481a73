// The table of a harness run: per scenario and server, the median over the
// error-free repetitions of the headline figure (msg/s for ping-pong, MB/s
// for streaming, conn/s for connect), p50/p99 latency (µs), server and
// loadgen CPU (100 = one core), other load on the machine, server CPU µs
// per operation, and the ratio to the baseline (node-net, or node-tls).
//   node report.mjs raw.jsonl
import { readFileSync } from 'node:fs';

const runs = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const headline = (r) => (r.mode === 'stream' ? ['MB/s', r.rx_MBps] : r.mode === 'connect' ? ['conn/s', r.conns_per_s] : ['msg/s', r.msgs_per_s]);
const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

const rows = new Map();
for (const run of runs) {
  const key = `${run.scenario}\u0000${run.server}`;
  if (!rows.has(key)) rows.set(key, { scenario: run.scenario, server: run.server, ok: [], failed: 0 });
  const row = rows.get(key);
  if (run.rc === 0 && run.result !== null && run.result.errors === 0) row.ok.push(run.result);
  else row.failed += 1;
}
const summary = [...rows.values()].map((row) => ({
  ...row,
  unit: row.ok[0] ? headline(row.ok[0])[0] : '',
  value: median(row.ok.map((r) => headline(r)[1])),
  p50: median(row.ok.map((r) => r.lat_us.p50)),
  p99: median(row.ok.map((r) => r.lat_us.p99)),
  srv: median(row.ok.map((r) => r.server_cpu_pct)),
  cli: median(row.ok.map((r) => r.client_cpu_pct)),
  oth: Math.max(...row.ok.map((r) => r.other_cpu_pct), 0),
  perOp: median(row.ok.map((r) => r.server_cpu_us_per_op)),
}));

const header = ['scenario', 'server', 'reps', 'headline', 'p50 us', 'p99 us', 'srv%', 'cli%', 'oth%', 'srv-us/op', 'x base', 'cpu/op x'];
const lines = [header];
for (const row of summary) {
  const base = summary.find((b) => b.scenario === row.scenario && b.server === (row.scenario.startsWith('tls-') ? 'node-tls' : 'node-net'));
  lines.push([
    row.scenario,
    row.server,
    `${row.ok.length}${row.failed ? ` (+${row.failed} failed)` : ''}`,
    `${fmt(row.value, row.unit === 'MB/s' ? 1 : 0)} ${row.unit}`,
    fmt(row.p50),
    fmt(row.p99),
    fmt(row.srv),
    fmt(row.cli),
    `${fmt(row.oth)}${row.oth > 10 ? '*' : ''}`,
    fmt(row.perOp, 2),
    base ? fmt(row.value / base.value, 2) : '-',
    base ? fmt(row.perOp / base.perOp, 2) : '-',
  ]);
}
const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
for (const line of lines) console.log(line.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
if (summary.some((row) => row.oth > 10)) console.log('* a run of this row had more than 10 % of a core of other load on the machine: figures are unreliable');
