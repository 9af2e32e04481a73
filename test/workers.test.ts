/**
 * startWorkerProcesses with real processes and real sockets: a primary
 * (test/fixtures/worker-primary.ts) runs two workers
 * (test/fixtures/worker-main.ts) that listen on port 0 exactly as a lone
 * server would. Two pids answer on one port; a worker killed with SIGKILL
 * mid-traffic is restarted while the other keeps serving without losing a
 * connection; SIGTERM to the primary lets in-flight requests complete and
 * ends everything with status 0.
 */
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { acceptTcpConnectionsCreatingAsyncIoStates, closeAcceptingHandle, closeAsyncIoState, nativeTransportStatus, startWorkerProcesses, type AsyncIoState } from '@commio/core';
import { withCollection } from './helpers/fixtures.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { NODE_ARGS, spawnLineChild, type LineChild } from './helpers/child-lines.js';

checkNoLeaksAfterAll(test);

/** A line-protocol client: `ask` sends a line and resolves with the next line received. */
class LineClient {
  readonly socket: net.Socket;
  #buffer = '';
  #lines: string[] = [];
  #waiters: ((line: string | null) => void)[] = [];
  #ended = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      for (let i = this.#buffer.indexOf('\n'); i !== -1; i = this.#buffer.indexOf('\n')) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 1);
        const waiter = this.#waiters.shift();
        if (waiter === undefined) this.#lines.push(line);
        else waiter(line);
      }
    });
    const end = (): void => {
      this.#ended = true;
      for (const waiter of this.#waiters.splice(0)) waiter(null);
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', () => {});
  }

  /** The next line, or null at the end of the connection. */
  next(): Promise<string | null> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  ask(line: string): Promise<string | null> {
    this.socket.write(`${line}\n`);
    return this.next();
  }
}

function connect(t: ExecutionContext, port: number): Promise<LineClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(new LineClient(socket)));
    socket.once('error', reject);
    t.teardown(() => socket.destroy());
  });
}

interface Listening {
  pid: number;
  port: number;
}

async function nextListening(primary: LineChild): Promise<Listening> {
  const message = await primary.next((m) => m['event'] === 'listening');
  return { pid: message['pid'] as number, port: message['port'] as number };
}

/** Starts the primary with two workers; resolves once both listen (on one port). */
async function startGroup(t: ExecutionContext): Promise<{ primary: LineChild; port: number; pids: number[]; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const primary = spawnLineChild(t, process.execPath, [...NODE_ARGS, 'test/fixtures/worker-primary.ts'], { env: { WORKERS: '2', DEBUG: '' } });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => primary.process.once('exit', (code, signal) => resolve({ code, signal })));
  const [a, b] = await Promise.all([nextListening(primary), nextListening(primary)]);
  t.is(a.port, b.port, 'both workers listen on one port');
  t.teardown(async () => {
    // Anything left: the primary is SIGKILLed by spawnLineChild; its workers exit when its channel closes.
    await exited;
  });
  return { primary, port: a.port, pids: [a.pid, b.pid], exited };
}

/** Asks new connections for their pid until every pid of `want` answered (bounded). */
async function pidsAnswering(t: ExecutionContext, port: number, want: number[], attempts = 200): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < attempts && !want.every((pid) => seen.has(pid)); i++) {
    const client = await connect(t, port);
    seen.add(Number(await client.ask('pid')));
    client.socket.destroy();
  }
  return seen;
}

/** group.stop() through the primary: it must end with status 0. */
async function stopGroup(t: ExecutionContext, primary: LineChild, exited: Promise<{ code: number | null; signal: string | null }>): Promise<void> {
  primary.send('stop');
  await primary.next((m) => m['event'] === 'stopped');
  t.deepEqual(await exited, { code: 0, signal: null });
}

/** One open connection to each of the two workers, by pid (bounded attempts). */
async function oneConnectionPerWorker(t: ExecutionContext, port: number): Promise<Map<number, LineClient>> {
  const byPid = new Map<number, LineClient>();
  for (let i = 0; i < 200 && byPid.size < 2; i++) {
    const client = await connect(t, port);
    const pid = Number(await client.ask('pid'));
    if (byPid.has(pid)) client.socket.destroy();
    else byPid.set(pid, client);
  }
  return byPid;
}

test.serial('two workers serve one port: connections are answered by two different pids', async (t) => {
  const { primary, port, pids, exited } = await startGroup(t);
  const seen = await pidsAnswering(t, port, pids);
  t.deepEqual([...seen].sort(), [...pids].sort());
  await stopGroup(t, primary, exited);
});

(nativeTransportStatus().available ? test.serial : test.serial.skip)(
  'on the native transport each worker listens on its own socket (SO_REUSEPORT): two pids answer on one port; stop drains them with status 0',
  async (t) => {
    // A free port, held by a reuseport socket of this process until both workers listen on it too.
    const c = withCollection(t);
    const reserve = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, s) => closeAsyncIoState(s as AsyncIoState), {
      transport: 'native',
      reuseport: true,
      address: '127.0.0.1',
    });
    const port = reserve.localPort;
    const primary = spawnLineChild(t, process.execPath, [...NODE_ARGS, 'test/fixtures/worker-primary.ts'], {
      env: { WORKERS: '2', DEBUG: '', PORT: String(port), TRANSPORT: 'native' },
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => primary.process.once('exit', (code, signal) => resolve({ code, signal })));
    t.teardown(async () => {
      await exited;
    });
    const [a, b] = await Promise.all([nextListening(primary), nextListening(primary)]);
    closeAcceptingHandle(reserve);
    t.deepEqual([a.port, b.port], [port, port], 'both workers listen on the port asked for');
    const seen = await pidsAnswering(t, port, [a.pid, b.pid]);
    t.deepEqual([...seen].sort(), [a.pid, b.pid].sort());
    await stopGroup(t, primary, exited);
  },
);

test.serial('kill -9 of a worker mid-traffic: the other keeps serving, the dead one comes back, no connection to the survivor is lost', async (t) => {
  const { primary, port, pids, exited } = await startGroup(t);
  const byPid = await oneConnectionPerWorker(t, port);
  const [victim, survivor] = pids as [number, number];
  const survivorClient = byPid.get(survivor);
  if (survivorClient === undefined) return t.fail('no connection reached the survivor');
  // Traffic on the survivor's connection while the other worker is killed.
  const traffic = (async (): Promise<string[]> => {
    const answers: string[] = [];
    for (let i = 0; i < 50; i++) answers.push(String(await survivorClient.ask('pid')));
    return answers;
  })();
  const restarted = nextListening(primary);
  process.kill(victim, 'SIGKILL');
  const answers = await traffic;
  t.deepEqual(answers, new Array<string>(50).fill(String(survivor)), 'every request on the survivor was answered by it');
  t.is(await byPid.get(victim)?.next(), null, "the killed worker's connection ended");
  const replacement = await restarted;
  t.not(replacement.pid, victim);
  t.is(replacement.port, port);
  // The survivor's connection is still there, and new connections reach both the survivor and the replacement.
  t.is(await survivorClient.ask('pid'), String(survivor));
  const seen = await pidsAnswering(t, port, [survivor, replacement.pid]);
  t.true(seen.has(survivor) && seen.has(replacement.pid));
  t.false(seen.has(victim));
  await stopGroup(t, primary, exited);
});

test.serial('SIGTERM to the primary: in-flight requests complete, then everything exits with status 0', async (t) => {
  const { primary, port, pids, exited } = await startGroup(t);
  const clients = await oneConnectionPerWorker(t, port);
  t.is(clients.size, 2);
  // A request in flight on each worker (acknowledged, so the worker has it) when SIGTERM arrives.
  for (const client of clients.values()) t.is(await client.ask('slow 400'), 'started');
  primary.process.kill('SIGTERM');
  for (const [pid, client] of clients) {
    t.is(await client.next(), `done ${pid}`, 'the in-flight request completed');
    t.is(await client.next(), null, 'then the worker closed the connection');
  }
  t.deepEqual(await exited, { code: 0, signal: null });
  for (const pid of pids) t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} is gone`);
});

test.serial('a worker that keeps dying is restarted after restartDelay, doubling each time', async (t) => {
  const primary = spawnLineChild(t, process.execPath, [...NODE_ARGS, 'test/fixtures/dying-primary.ts'], { env: { RESTARTS: '3', DEBUG: '' } });
  const exited = new Promise<number | null>((resolve) => primary.process.once('exit', (code) => resolve(code)));
  const message = await primary.next((m) => m['event'] === 'delays');
  const delays = message['delays'] as number[];
  t.is(delays.length, 3);
  // Timers never fire early; under load they may fire late, so only the lower bounds are exact.
  [50, 100, 200].forEach((least, i) => t.true((delays[i] ?? 0) >= least - 1, `restart ${i + 1}: ${delays[i]} ms >= ${least} ms`));
  t.is(await exited, 0);
});

test('startWorkerProcesses: bad options throw ERR_COMMIO_INVALID_ARGUMENT before any process starts', (t) => {
  const main = 'test/fixtures/worker-main.ts';
  const bad: unknown[] = [
    undefined,
    { main },
    { count: 0, main },
    { count: 1.5, main },
    { count: 2 },
    { count: 2, main: 'no/such/file.js' },
    { count: 2, main, args: 'x' },
    { count: 2, main, args: [1] },
    { count: 2, main, env: { A: 1 } },
    { count: 2, main, restartDelay: -1 },
    { count: 2, main, drainTimeout: null },
    { count: 2, main, extra: true },
  ];
  for (const options of bad) t.throws(() => startWorkerProcesses(options as never), { code: 'ERR_COMMIO_INVALID_ARGUMENT' }, JSON.stringify(options));
});
