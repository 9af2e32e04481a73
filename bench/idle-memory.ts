/**
 * Memory and scale driver: how much a held connection costs a commio server
 * compared with a raw `net` server, and whether tens of thousands of
 * concurrent connections are held and served.
 *
 *   node bench/dist/idle-memory.js [--idle N] [--reps R] [--scale N] [--kinds a,b] [--scale-kinds a,b]
 *                                  [--heap N] [--per-process N] [--deadline S] [--out FILE]
 *
 * - idle: one server process (kinds: net, net-pipe, commio, commio-noread,
 *   commio-native, native-raw; see
 *   lib/memory-server.ts) holds N connections from a client process; RSS and
 *   heap are read after forced GC before and after, and again after one
 *   64-byte echo on every connection. Reps are interleaved across kinds.
 *   V8's young generation is reported on its own (MB held, and RSS per
 *   connection less its growth): it grows in steps while connections open
 *   and stays grown, and is the most of the spread between reps.
 * - scale: N connections held at once, each served one echo (checked by the
 *   client), spread over as many server and client processes as the
 *   descriptor limit needs (RLIMIT_NOFILE is per process).
 * - heap: a heap snapshot before and after N connections, diffed per
 *   connection by constructor (only with --heap N).
 *
 * Both sides on this machine, loopback only (sources 127.0.0.2 and up, so each
 * client has its own ephemeral port ranges), bounded by --deadline (default
 * 300 s). Prints Markdown tables; --out appends the raw figures as JSON lines.
 * Node flags for the server processes only (e.g. `--trace-gc`,
 * `--max-semi-space-size=1`) go in the SERVER_NODE_FLAGS environment variable.
 */
import { appendFileSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from './lib/child.js';
import { runMemoryServer, SERVER_KINDS, type MemoryReport, type ServerKind, type ServerReply, type ServerRequest } from './lib/memory-server.js';
import { runMemoryClient, type ClientReply, type ClientRequest } from './lib/memory-client.js';
import { diffPerUnit, summarizeSnapshot } from './lib/heap-summary.js';

type Server = Child<ServerRequest, ServerReply>;
type Client = Child<ClientRequest, ClientReply>;

const SCRIPT = fileURLToPath(import.meta.url);
const USAGE = 'node idle-memory.js [--idle N] [--reps R] [--scale N] [--kinds a,b] [--scale-kinds a,b] [--heap N] [--per-process N] [--deadline S] [--out FILE]';
const MB = 1024 * 1024;
const SOURCES_PER_CLIENT = 4;
const IN_FLIGHT = 256;

interface Settings {
  idle: number;
  reps: number;
  scale: number;
  kinds: ServerKind[];
  scaleKinds: ServerKind[];
  heap: number;
  perProcess: number;
  deadline: number;
  out: string | null;
}

/** The figures of one run. */
interface RunResult {
  phase: 'idle' | 'scale' | 'heap';
  kind: ServerKind;
  conns: number;
  processes: number;
  opened: number;
  openFailed: number;
  firstError: string | null;
  openSeconds: number;
  echoed: number;
  echoBad: number;
  echoSeconds: number;
  base: MemoryReport[];
  held: MemoryReport[];
  afterEcho: MemoryReport[];
}

function fail(why: string): never {
  process.stderr.write(`idle-memory: ${why}\nusage: ${USAGE}\n`);
  process.exit(2);
}

function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = Number(line?.split(/\s+/)[3]);
  return Number.isFinite(soft) ? soft : 1024;
}

function parseKinds(text: string, flag: string): ServerKind[] {
  const kinds = text.split(',').filter((k) => k.length > 0);
  for (const k of kinds) if (!(SERVER_KINDS as readonly string[]).includes(k)) fail(`${flag}: unknown kind ${k} (known: ${SERVER_KINDS.join(', ')})`);
  return kinds as ServerKind[];
}

function parseArgs(argv: readonly string[]): Settings {
  const s: Settings = {
    idle: 10000,
    reps: 3,
    scale: 50000,
    kinds: ['net', 'commio'],
    scaleKinds: ['net', 'commio'],
    heap: 0,
    perProcess: Math.max(100, Math.min(15000, openFileLimit() - 500)),
    deadline: 300,
    out: null,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (value === undefined) fail(`${flag} needs a value`);
    const n = Number(value);
    const whole = (): number => (Number.isInteger(n) && n >= 0 ? n : fail(`${flag} needs a whole number`));
    switch (flag) {
      case '--idle': s.idle = whole(); break;
      case '--reps': s.reps = whole(); break;
      case '--scale': s.scale = whole(); break;
      case '--heap': s.heap = whole(); break;
      case '--per-process': s.perProcess = Math.max(1, whole()); break;
      case '--deadline': s.deadline = whole(); break;
      case '--kinds': s.kinds = parseKinds(value, flag); break;
      case '--scale-kinds': s.scaleKinds = parseKinds(value, flag); break;
      case '--out': s.out = value; break;
      default: fail(`unknown argument ${flag}`);
    }
  }
  return s;
}

const live = new Set<Server | Client>();
let nextSource = 2;

/** Extra Node flags for the server processes (SERVER_NODE_FLAGS, space-separated). */
const SERVER_FLAGS = (process.env['SERVER_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag.length > 0);

function startServer(kind: ServerKind, index: number): Server {
  const server: Server = new Child(SCRIPT, ['server', kind], ['--expose-gc', ...SERVER_FLAGS], `${kind} server ${index}`);
  live.add(server);
  return server;
}

function startClient(index: number): Client {
  const client: Client = new Child(SCRIPT, ['client'], [], `client ${index}`);
  live.add(client);
  return client;
}

/** Waits for children already told to go (killing those that linger). */
async function stopAll(children: (Server | Client)[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop()));
  for (const child of children) live.delete(child);
}

async function waitAccepted(servers: Server[], want: number, seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const counts = await Promise.all(servers.map((s) => s.ask({ cmd: 'count' }, 'count', 10)));
    const total = counts.reduce((sum, c) => sum + c.accepted, 0);
    if (total >= want) return;
    if (Date.now() > until) throw new Error(`servers accepted ${total} of ${want} connections within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function measureAll(servers: Server[]): Promise<MemoryReport[]> {
  return Promise.all(servers.map((s) => s.ask({ cmd: 'measure' }, 'memory', 60)));
}

/** One run: `conns` connections held by `kind` servers, then one echo each. */
async function run(phase: RunResult['phase'], kind: ServerKind, conns: number, perProcess: number, snapshotDir: string | null): Promise<RunResult> {
  const processes = Math.max(1, Math.ceil(conns / perProcess));
  const servers = Array.from({ length: processes }, (_, i) => startServer(kind, i));
  const clients: Client[] = [];
  try {
    const ports = (await Promise.all(servers.map((s) => s.ask(null, 'ready', 30)))).map((r) => r.port);
    const base = await measureAll(servers);
    const first = servers[0] as Server;
    if (snapshotDir !== null) await first.ask({ cmd: 'snapshot', path: join(snapshotDir, 'before.heapsnapshot') }, 'snapshot', 120);
    for (let i = 0; i < processes; i++) clients.push(startClient(i));
    const opened = await Promise.all(
      clients.map((client, i) => {
        const count = Math.floor(conns / processes) + (i < conns % processes ? 1 : 0);
        if (nextSource + SOURCES_PER_CLIENT > 254) nextSource = 2;
        const firstSource = nextSource;
        nextSource += SOURCES_PER_CLIENT;
        // Client i talks to server i only, so each server holds exactly its share.
        return client.ask({ cmd: 'open', ports: [ports[i] as number], count, firstSource, sources: SOURCES_PER_CLIENT, inFlight: IN_FLIGHT }, 'opened', 120);
      }),
    );
    const ok = opened.reduce((sum, o) => sum + o.ok, 0);
    await waitAccepted(servers, ok, 30);
    const held = await measureAll(servers);
    if (snapshotDir !== null) await first.ask({ cmd: 'snapshot', path: join(snapshotDir, 'after.heapsnapshot') }, 'snapshot', 120);
    // commio-noread starts no read: it never echoes.
    const echoed = kind === 'commio-noread' ? [] : await Promise.all(clients.map((c) => c.ask({ cmd: 'echo' }, 'echoed', 60)));
    const afterEcho = echoed.length === 0 ? held : await measureAll(servers);
    return {
      phase,
      kind,
      conns,
      processes,
      opened: ok,
      openFailed: opened.reduce((sum, o) => sum + o.failed, 0),
      firstError: opened.find((o) => o.firstError !== null)?.firstError ?? null,
      openSeconds: Math.max(...opened.map((o) => o.ms)) / 1000,
      echoed: echoed.length === 0 ? ok : echoed.reduce((sum, e) => sum + e.ok, 0),
      echoBad: echoed.reduce((sum, e) => sum + e.bad, 0),
      echoSeconds: Math.max(0, ...echoed.map((e) => e.ms)) / 1000,
      base,
      held,
      afterEcho,
    };
  } finally {
    for (const client of clients) client.tell({ cmd: 'close' });
    await stopAll(clients);
    for (const server of servers) server.tell({ cmd: 'exit' });
    await stopAll(servers);
  }
}

type MemoryKey = 'rss' | 'heapUsed' | 'heapTotal' | 'external' | 'youngGen';
/** RSS per connection less what V8's young generation grew by (see MemoryReport.youngGen). */
const rssLessYoung = (r: RunResult): number => perConn(r, r.held, 'rss') - perConn(r, r.held, 'youngGen');
const sum = (reports: MemoryReport[], key: MemoryKey): number => reports.reduce((total, r) => total + r[key], 0);
const perConn = (r: RunResult, after: MemoryReport[], key: MemoryKey): number => (sum(after, key) - sum(r.base, key)) / Math.max(1, r.opened);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function printIdle(results: RunResult[], settings: Settings): void {
  console.log(`\n### ${fmt(settings.idle)} idle connections, one server process (median of ${settings.reps} interleaved reps)\n`);
  console.log(
    '| server | RSS/conn (B) | x net | JS heap used/conn (B) | JS heap committed/conn (B) | young generation held (MB) | RSS/conn less its growth (B) | x net | RSS/conn after 1 echo (B) | RSS held (MB) | open (s) | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const netRuns = results.filter((r) => r.kind === 'net');
  const netRss = median(netRuns.map((r) => perConn(r, r.held, 'rss')));
  const netLessYoung = median(netRuns.map(rssLessYoung));
  const ratioTo = (value: number, base: number): string => (Number.isFinite(base) && base > 0 ? fmt(value / base, 2) : '');
  for (const kind of settings.kinds) {
    const runs = results.filter((r) => r.kind === kind);
    if (runs.length === 0) continue;
    const rss = median(runs.map((r) => perConn(r, r.held, 'rss')));
    const heap = median(runs.map((r) => perConn(r, r.held, 'heapUsed')));
    const committed = median(runs.map((r) => perConn(r, r.held, 'heapTotal')));
    const echo = median(runs.map((r) => perConn(r, r.afterEcho, 'rss')));
    const young = median(runs.map((r) => sum(r.held, 'youngGen') / MB));
    const lessYoung = median(runs.map(rssLessYoung));
    const held = median(runs.map((r) => sum(r.held, 'rss') / MB));
    const open = median(runs.map((r) => r.openSeconds));
    const errors = runs.reduce((n, r) => n + r.openFailed + r.echoBad + (r.opened - r.echoed), 0);
    console.log(
      `| ${kind} | ${fmt(rss)} | ${ratioTo(rss, netRss)} | ${fmt(heap)} | ${fmt(committed)} | ${fmt(young, 1)} | ${fmt(lessYoung)} | ${ratioTo(lessYoung, netLessYoung)} | ${fmt(echo)} | ${fmt(held, 1)} | ${fmt(open, 2)} | ${errors} |`,
    );
  }
}

function printScale(results: RunResult[]): void {
  if (results.length === 0) return;
  console.log(`\n### scale: concurrent connections held, each served one 64-byte echo\n`);
  console.log('| server | held | processes | echoed ok | bad | open (s) | echo (s) | RSS total (MB) | RSS per process (MB) | RSS/conn (B) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const perProcess = r.afterEcho.map((m) => fmt(m.rss / MB, 0)).join(' / ');
    console.log(
      `| ${r.kind} | ${fmt(r.opened)} of ${fmt(r.conns)}${r.firstError === null ? '' : ` (${r.firstError})`} | ${r.processes} | ${fmt(r.echoed)} | ${r.echoBad} | ${fmt(r.openSeconds, 2)} | ${fmt(r.echoSeconds, 2)} | ${fmt(sum(r.afterEcho, 'rss') / MB, 1)} | ${perProcess} | ${fmt(perConn(r, r.afterEcho, 'rss'))} |`,
    );
  }
}

function printHeap(kind: ServerKind, conns: number, dir: string): void {
  const rows = diffPerUnit(summarizeSnapshot(join(dir, 'before.heapsnapshot')), summarizeSnapshot(join(dir, 'after.heapsnapshot')), conns);
  const total = rows.reduce((n, r) => n + r.bytesPerConn, 0);
  console.log(`\n### heap per connection, ${kind} (${fmt(conns)} connections; snapshot diff, self sizes; total ${fmt(total)} B)\n`);
  console.log('| node type:name | count/conn | bytes/conn |');
  console.log('|---|---|---|');
  for (const r of rows.slice(0, 30)) console.log(`| ${r.key.replace(/\|/g, '\\|')} | ${fmt(r.countPerConn, 2)} | ${fmt(r.bytesPerConn)} |`);
}

async function main(settings: Settings): Promise<void> {
  const deadline = setTimeout(() => {
    process.stderr.write(`idle-memory: deadline of ${settings.deadline} s reached; stopping\n`);
    for (const child of live) child.kill();
    process.exit(3);
  }, settings.deadline * 1000);
  const fdLimit = openFileLimit();
  console.log(`## memory and scale (${new Date().toISOString()}, node ${process.version}, open-file limit ${fdLimit} per process, ≤ ${fmt(settings.perProcess)} connections per process)`);
  const results: RunResult[] = [];
  const record = (r: RunResult): void => {
    results.push(r);
    if (settings.out !== null) appendFileSync(settings.out, JSON.stringify(r) + '\n');
    const errs = r.openFailed + r.echoBad + (r.opened - r.echoed);
    process.stderr.write(`  ${r.phase} ${r.kind} ${r.opened}/${r.conns}: RSS/conn ${fmt(perConn(r, r.held, 'rss'))} B (young generation ${fmt(sum(r.held, 'youngGen') / MB, 1)} MB), heap/conn ${fmt(perConn(r, r.held, 'heapUsed'))} B, errors ${errs}\n`);
  };
  if (settings.idle > 0) {
    if (settings.idle > settings.perProcess) fail(`--idle ${settings.idle} exceeds the connections one process can hold here (${settings.perProcess})`);
    for (let rep = 0; rep < settings.reps; rep++) for (const kind of settings.kinds) record(await run('idle', kind, settings.idle, settings.perProcess, null));
    printIdle(results, settings);
  }
  if (settings.scale > 0) {
    const scale: RunResult[] = [];
    for (const kind of settings.scaleKinds) {
      const r = await run('scale', kind, settings.scale, settings.perProcess, null);
      record(r);
      scale.push(r);
    }
    printScale(scale);
  }
  if (settings.heap > 0) {
    for (const kind of settings.kinds) {
      const dir = mkdtempSync(join(tmpdir(), 'commio-heap-'));
      try {
        record(await run('heap', kind, settings.heap, settings.perProcess, dir));
        printHeap(kind, settings.heap, dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  clearTimeout(deadline);
  const bad = results.some((r) => r.openFailed > 0 || r.echoBad > 0 || r.echoed !== r.opened);
  if (bad) process.exitCode = 1;
}

const [role, arg] = process.argv.slice(2);
if (role === 'server') {
  if (!(SERVER_KINDS as readonly string[]).includes(arg ?? '')) fail(`unknown server kind ${arg}`);
  await runMemoryServer(arg as ServerKind);
} else if (role === 'client') {
  runMemoryClient();
} else {
  await main(parseArgs(process.argv.slice(2)));
}
