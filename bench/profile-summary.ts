/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`) of a benchmark server:
 * where the non-idle time goes by area (commio core, the bench program,
 * Node's JavaScript, native/GC), the functions with the most self time, and
 * the inclusive time of the functions that contain the most.
 *
 *   node bench/dist/profile-summary.js FILE.cpuprofile [--top N] [--ops N]
 *
 * With --ops (messages or connections served while profiled), times are also
 * given in microseconds per operation.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const USAGE = 'node profile-summary.js FILE.cpuprofile [--top N] [--ops N]';

function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'native (program)';
    return 'native';
  }
  if (url.includes('/packages/core/')) return 'commio core';
  if (url.includes('/bench/')) return 'bench program';
  if (url.startsWith('node:')) return 'node internals';
  return 'other JS';
}

function label(frame: CallFrame): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const file = frame.url.replace(/^.*\/(packages\/core|bench)\/dist\//, '$1/').replace(/^file:\/\//, '');
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

function main(argv: readonly string[]): void {
  const file = argv[0];
  if (file === undefined) {
    process.stderr.write(`usage: ${USAGE}\n`);
    process.exit(2);
  }
  let top = 25;
  let ops = 0;
  for (let i = 1; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (argv[i] === '--top') top = value;
    else if (argv[i] === '--ops') ops = value;
    else {
      process.stderr.write(`usage: ${USAGE}\n`);
      process.exit(2);
    }
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Sample weights: each sample's time is the delta to the next one.
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i] as number);
    if (node === undefined) continue;
    total += us;
    const a = area(node.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + us);
    if (a === 'idle') continue;
    busy += us;
    const key = label(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = (byId.get(id) as ProfileNode).callFrame;
      if (frame.functionName === '(root)') continue;
      const k = label(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const pct = (us: number): string => `${((100 * us) / Math.max(1, busy)).toFixed(1)} %`;
  const perOp = (us: number): string => (ops > 0 ? ` | ${(us / ops).toFixed(2)}` : '');
  const opHead = ops > 0 ? ' | µs/op' : '';
  const opRule = ops > 0 ? '|---' : '';
  console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy${ops > 0 ? `, ${ops} ops` : ''}\n`);
  console.log(`| area | share of busy${opHead} |\n|---|---${opRule}|`);
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) if (a !== 'idle') console.log(`| ${a} | ${pct(us)}${perOp(us)} |`);
  console.log(`\n| self time: function | share of busy${opHead} |\n|---|---${opRule}|`);
  for (const [k, us] of [...self].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`| ${k} | ${pct(us)}${perOp(us)} |`);
  console.log(`\n| inclusive time: function | share of busy${opHead} |\n|---|---${opRule}|`);
  for (const [k, us] of [...inclusive].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`| ${k} | ${pct(us)}${perOp(us)} |`);
}

main(process.argv.slice(2));
