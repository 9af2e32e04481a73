/**
 * Fuzzed arguments: every public function of @commio/core is called with
 * random mixes of valid values and junk (random types, NaN, infinities,
 * negative and huge numbers, symbols, null-prototype objects, typed arrays
 * of the wrong kind, unknown option keys). Only ERR_COMMIO_INVALID_ARGUMENT
 * (or the documented misuse code of that function) may come out; nothing
 * crashes; a call that throws or rejects opens nothing and changes no
 * setting of the state it was given.
 *
 * A function exported without a fuzz description here fails the suite, so
 * new API is fuzzed too.
 */
import test from 'ava';
import net from 'node:net';
import dgram from 'node:dgram';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@commio/core';
import * as ssl from '@commio/ssl';
import type { AsyncIoState, AcceptingHandle, WaitStateCollection } from '@commio/core';
import { checkNoLeaksAfterAll, openHandles, settledOpenHandles } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

// ------------------------------------------------------------ fixtures

/** Placeholders in generated arguments, replaced by fresh live objects at call time. */
const enum Live {
  Collection = 'live:collection', // the shared, looping collection
  Made = 'live:made', // a fresh collection no loop drives
  Run = 'live:run', // a fresh created-and-run collection (may be stopped or closed)
  State = 'live:state', // a fresh connected TCP state
  UdpState = 'live:udp-state', // a fresh bound UDP state
  Socket = 'live:socket', // a fresh connected net.Socket
  Dgram = 'live:dgram', // a fresh unbound dgram socket
  Handle = 'live:handle', // the shared accepting handle
  FreshHandle = 'live:fresh-handle', // a fresh accepting handle (may be closed)
  Port = 'live:port', // the port of a live echo listener
}

interface Fixtures {
  collection: WaitStateCollection;
  handle: AcceptingHandle;
  listener: net.Server;
  port: number;
  /** Everything made for one call, closed after it. */
  made: { close: () => void }[];
}

async function connectedPair(f: Fixtures): Promise<net.Socket> {
  const accepted = new Promise<net.Socket>((resolve) => f.listener.once('connection', resolve));
  const client = net.connect({ port: f.port, host: '127.0.0.1' });
  client.on('error', () => {});
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const server = await accepted;
  server.on('error', () => {});
  f.made.push({ close: () => client.destroy() }, { close: () => server.destroy() });
  return server;
}

async function materialize(value: unknown, f: Fixtures): Promise<unknown> {
  switch (value) {
    case Live.Collection:
      return f.collection;
    case Live.Made:
      return core.makeWaitStateCollection();
    case Live.Run: {
      const c = core.createAndRunWaitStateCollection('fuzz-run');
      f.made.push({ close: () => core.waitStateCollectionStopLoop(c) });
      return c;
    }
    case Live.Socket:
      return connectedPair(f);
    case Live.State: {
      const socket = await connectedPair(f);
      const state = core.createAsyncIoState(f.collection, socket);
      f.made.push({ close: () => core.closeAsyncIoState(state) });
      return state;
    }
    case Live.UdpState: {
      const state = (await core.createAsyncIoStateAndUdpSocket(f.collection, { localAddress: '127.0.0.1' }))!;
      // The call under test may have closed it with keepAliveP: close the socket too.
      f.made.push({ close: () => core.closeAsyncIoState(state) }, { close: () => (state.object as dgram.Socket).close() });
      return state;
    }
    case Live.Dgram: {
      const socket = dgram.createSocket('udp4');
      f.made.push({ close: () => socket.close() });
      return socket;
    }
    case Live.Handle:
      return f.handle;
    case Live.FreshHandle: {
      const handle = await core.acceptTcpConnectionsCreatingAsyncIoStates(f.collection, 0, () => {}, { address: '127.0.0.1', initTimeout: 0 });
      f.made.push({ close: () => core.closeAcceptingHandle(handle) });
      return handle;
    }
    case Live.Port:
      return f.port;
    default:
      if (Array.isArray(value)) return Promise.all(value.map((v) => materialize(v, f)));
      if (isPlainRecord(value)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = await materialize(v, f);
        return out;
      }
      return value;
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

// ------------------------------------------------------------ arbitraries

const noop = (): void => {};

/** Values of every type, and the edge values validators get wrong. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    withNullPrototype: true,
    withBigInt: true,
    withDate: true,
    withTypedArray: true,
    withMap: true,
    withSet: true,
    withBoxedValues: true,
    withSparseArray: true,
  }),
  fc.double(),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.constantFrom<unknown>(
    NaN, Infinity, -Infinity, -1, -0, 0.5, 1.5, 1e308, 2 ** 31, 2 ** 53, -(2 ** 31), 65536, 70000, 2147484,
    '', ' ', '0', '-1', '1.5', 'x', 'NaN', 'yes', true, false, null, undefined,
    Symbol('fuzz'), noop, [], {}, [1, 2], new Uint16Array(4), new Float64Array(2), new DataView(new ArrayBuffer(4)),
    new ArrayBuffer(8), Object.create(null), new Error('x'), new Date(0), /re/, new Map(), 10n,
  ),
);

/** Junk without what would make a call touch the machine outside the test: descriptor numbers, `{ fd }` objects, strings (host and service names). */
const safeJunk = junk.filter(
  (v) =>
    !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31) &&
    !(typeof v === 'string' && v.length > 0 && !['x', 'NaN', 'yes', '-1', '1.5', ' '].includes(v)) &&
    !(typeof v === 'object' && v !== null && 'fd' in v),
);

/** Mostly a valid value, sometimes junk. */
function slot(valid: fc.Arbitrary<unknown>, bad: fc.Arbitrary<unknown> = junk): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: bad, weight: 1 });
}
function oneOf(...values: unknown[]): fc.Arbitrary<unknown> {
  return fc.constantFrom(...values);
}

const anyValue = fc.anything();
const bool = oneOf(true, false);
const seconds = oneOf(null, 0, 0.05, 0.5, 10);
const callback = oneOf(noop);
const optionalCallback = oneOf(noop, null);
const buffer = fc.oneof(
  fc.integer({ min: 8, max: 64 }).map((n) => Buffer.alloc(n)),
  fc.integer({ min: 8, max: 64 }).map((n) => new Uint8Array(n)),
  fc.integer({ min: 0, max: 64 }).map((n) => new Int8Array(n)),
);
const index = fc.integer({ min: 0, max: 8 });
const byteLimit = oneOf(1, 1024, 2 ** 20);
const stateOptions = {
  readTimeout: seconds,
  writeTimeout: seconds,
  userInfo: anyValue,
  name: anyValue,
  queueOutput: bool,
  maxQueuedOutput: byteLimit,
  maxBufferedInput: byteLimit,
};
const unknownKey = fc.constantFrom('timout', 'initTimout', 'constructor', 'toString', 'hasOwnProperty', 'x');

/**
 * An options argument: absent, junk, or an object of some of `keys` (each
 * mostly valid), sometimes with an unknown key. `always` keys are forced in
 * whenever an object is made (to keep a call from waiting on the machine).
 */
function options(keys: Record<string, fc.Arbitrary<unknown>>, always: Record<string, unknown> = {}): fc.Arbitrary<unknown> {
  // Junk in one value of many is enough: most option objects should pass, so that what they open is checked too.
  const record = Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, fc.oneof({ arbitrary: v, weight: 15 }, { arbitrary: junk, weight: 1 })]));
  const object = fc
    .tuple(fc.record(record, { requiredKeys: [] }), fc.oneof({ arbitrary: fc.constant(null), weight: 7 }, { arbitrary: unknownKey, weight: 1 }))
    .map(([o, extra]) => {
      const out: Record<string, unknown> = { ...o, ...always };
      if (extra !== null) out[extra] = 1;
      return out;
    });
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: junk, weight: 1 }, { arbitrary: object, weight: 6 });
}

// ------------------------------------------------------------ what each function takes

type Code = core.CommioErrorCode;
const MISUSE: Code[] = ['ERR_COMMIO_INVALID_ARGUMENT'];

interface Spec {
  args: fc.Arbitrary<unknown[]>;
  /** Codes this function may throw or reject with besides ERR_COMMIO_INVALID_ARGUMENT. */
  also?: Code[];
}

const state = slot(oneOf(Live.State));
const udpState = slot(oneOf(Live.UdpState));
const anyState = slot(oneOf(Live.State, Live.UdpState));
const collection = slot(oneOf(Live.Collection));
const destroyable = slot(oneOf(Live.Run, Live.Made));
const handle = slot(oneOf(Live.Handle));
const direction = slot(oneOf('input', 'output', 'io'));
const readerSpec: Spec = { args: fc.tuple(anyState) };
const handleReaderSpec: Spec = { args: fc.tuple(handle) };
const sslCtx = fc.oneof({ arbitrary: oneOf(true, 'default', 'tls-v1-2', 'tls-v1-3', null), weight: 6 }, { arbitrary: oneOf('v2', 'v3', 'tls-v1'), weight: 1 });
const tlsOptions = {
  sslCtx,
  ctxConfigureCallback: optionalCallback,
  sslConfigureCallback: optionalCallback,
  handshakeTimeout: seconds,
  tlsextHostName: oneOf(true, null, 'example.test'),
};
const udpOptions = {
  ...stateOptions,
  errorp: bool,
  ipv6: oneOf('any', false),
  localAddress: oneOf('127.0.0.1', null),
  localPort: oneOf(0, null),
  maxQueuedMessages: oneOf(1, 16),
};
const stateOps: Code[] = ['ERR_COMMIO_UNSUPPORTED'];

const SPECS: Record<string, Spec> = {
  // collections
  makeWaitStateCollection: { args: fc.tuple() },
  nativeTransportStatus: { args: fc.tuple() },
  createAndRunWaitStateCollection: {
    args: fc.tuple(anyValue, options({ handler: oneOf(true, 'abort', null, noop), withBacktrace: oneOf(true, false, 'bug-form', 'quick') })),
  },
  loopProcessingWaitStateCollection: { args: fc.tuple(slot(oneOf(Live.Collection, Live.Made, Live.Run))), also: ['ERR_COMMIO_OPERATION_IN_PROGRESS'] },
  waitForWaitStateCollection: { args: fc.tuple(slot(oneOf(Live.Made, Live.Run))), also: ['ERR_COMMIO_OPERATION_IN_PROGRESS'] },
  callWaitStateCollection: { args: fc.tuple(slot(oneOf(Live.Collection, Live.Made))), also: ['ERR_COMMIO_OPERATION_IN_PROGRESS'] },
  waitStateCollectionStopLoop: { args: fc.tuple(destroyable) },
  waitStateCollectionAliveP: { args: fc.tuple(slot(oneOf(Live.Collection, Live.Made))) },
  applyInWaitStateCollectionProcess: { args: fc.tuple(slot(oneOf(Live.Collection, Live.Run)), slot(callback), anyValue, anyValue) },
  closeWaitStateCollection: { args: fc.tuple(destroyable) },
  // states
  createAsyncIoState: {
    args: fc.tuple(collection, slot(oneOf(Live.Socket, Live.Dgram), safeJunk), options({ ...stateOptions, udp: oneOf(false, true, 'connected'), ipv6: bool })),
    also: ['ERR_COMMIO_UNSUPPORTED'],
  },
  asyncIoStateCollection: readerSpec,
  asyncIoStateObject: readerSpec,
  asyncIoStateName: readerSpec,
  asyncIoStateUserInfo: readerSpec,
  asyncIoStateReadTimeout: readerSpec,
  asyncIoStateWriteTimeout: readerSpec,
  asyncIoStateMaxRead: readerSpec,
  asyncIoStateOldLength: readerSpec,
  asyncIoStateReadStatus: readerSpec,
  asyncIoStateWriteStatus: readerSpec,
  asyncIoStateAddress: readerSpec,
  asyncIoStatePeerAddress: readerSpec,
  asyncIoStateSslSide: readerSpec,
  asyncIoStateCtx: readerSpec,
  asyncIoStateSsl: readerSpec,
  // reading
  asyncIoStateReadBuffer: {
    args: fc.tuple(anyState, slot(buffer), slot(callback), options({ start: index, end: index, timeout: seconds, errorCallback: optionalCallback, userInfo: anyValue })),
    also: stateOps,
  },
  asyncIoStateReadWithChecking: {
    args: fc.tuple(
      anyState,
      slot(callback),
      options({ timeout: seconds, maxRead: oneOf(1, 100, 65536), errorCallback: optionalCallback, userInfo: anyValue, elementType: oneOf('base-char', 'unsigned-byte-8', 'signed-byte-8') }),
    ),
    also: stateOps,
  },
  asyncIoStateDiscard: { args: fc.tuple(anyState, slot(index)), also: ['ERR_COMMIO_NOT_IN_CALLBACK'] },
  asyncIoStateFinish: { args: fc.tuple(anyState, slot(oneOf(undefined, null, 0, 1))), also: ['ERR_COMMIO_NOT_IN_CALLBACK'] },
  asyncIoStateWaitForInput: { args: fc.tuple(anyState, slot(callback), options({ timeout: seconds, userInfo: anyValue })) },
  asyncIoStateGetBufferedData: { args: fc.tuple(anyState, slot(buffer), options({ start: index, end: index })) },
  asyncIoStateBufferedDataLength: readerSpec,
  // writing
  asyncIoStateWriteBuffer: {
    args: fc.tuple(anyState, slot(buffer), slot(callback), options({ start: index, end: index, timeout: seconds, errorCallback: optionalCallback, userInfo: anyValue })),
    also: stateOps,
  },
  // ending
  asyncIoStateAbort: { args: fc.tuple(anyState, slot(optionalCallback), slot(oneOf(undefined, 'input', 'output', 'io'))) },
  asyncIoStateAbortAndClose: { args: fc.tuple(anyState, options({ closeCallback: optionalCallback, keepAliveP: bool })) },
  closeAsyncIoState: { args: fc.tuple(anyState, options({ keepAliveP: bool })) },
  asyncIoStateShutdown: { args: fc.tuple(anyState, direction, options({ abort: bool, callback: optionalCallback })), also: stateOps },
  // streams
  asyncIoStateToDuplex: { args: fc.tuple(anyState), also: ['ERR_COMMIO_UNSUPPORTED'] },
  asyncIoStateToWebStreams: { args: fc.tuple(anyState), also: ['ERR_COMMIO_UNSUPPORTED'] },
  // accepting
  acceptTcpConnectionsCreatingAsyncIoStates: {
    args: fc.tuple(
      collection,
      slot(oneOf(0, null, '0'), safeJunk),
      slot(callback),
      options(
        {
          ...stateOptions,
          initFunction: optionalCallback,
          initTimeout: oneOf(0, null),
          backlog: oneOf(null, 1, 511),
          address: oneOf('127.0.0.1', '*', null, ['127.0.0.1']),
          nodelay: bool,
          maxConnections: oneOf(null, 1, 100),
          keepalive: bool,
          ipv6: oneOf('any', false, 'both'),
          reuseport: oneOf(false, false, false, true),
          createState: bool,
          handleName: anyValue,
          signal: oneOf(new AbortController().signal),
          ...tlsOptions,
          sslSide: oneOf('server', 'client', 'both'),
          sslErrorCallback: optionalCallback,
        },
        // Never wait a minute for a port: one try.
        { initTimeout: 0 },
      ),
    ),
    also: ['ERR_COMMIO_UNSUPPORTED', 'ERR_COMMIO_BIND_FAILED'],
  },
  closeAcceptingHandle: { args: fc.tuple(slot(oneOf(Live.FreshHandle)), slot(optionalCallback)) },
  acceptingHandleCollection: handleReaderSpec,
  acceptingHandleSocket: handleReaderSpec,
  acceptingHandleName: handleReaderSpec,
  acceptingHandleUserInfo: handleReaderSpec,
  acceptingHandleLocalPort: handleReaderSpec,
  // drain (a fresh handle or collection: draining the shared ones would end the other runs)
  drainAcceptingHandle: { args: fc.tuple(slot(oneOf(Live.FreshHandle)), options({ timeout: seconds })) },
  drainWaitStateCollection: { args: fc.tuple(slot(oneOf(Live.Run)), options({ timeout: seconds })) },
  // statistics: plain snapshots, read-only
  acceptingHandleStats: handleReaderSpec,
  waitStateCollectionStats: { args: fc.tuple(slot(oneOf(Live.Collection, Live.Made, Live.Run))) },
  // worker processes: `main` never exists, so no process is ever started; every other option is fuzzed
  startWorkerProcesses: {
    args: fc.tuple(
      options(
        { count: oneOf(1, 2, 0, 1.5), args: oneOf([], ['x'], [1]), env: oneOf({}, { A: 'b' }, { A: 1 }), restartDelay: seconds, drainTimeout: seconds },
        { main: 'no/such/worker-main.js' },
      ),
    ),
  },
  // connecting
  createAsyncIoStateAndConnectedTcpSocket: {
    args: fc.tuple(
      collection,
      slot(oneOf('127.0.0.1', 'localhost'), safeJunk),
      slot(oneOf(Live.Port), safeJunk),
      slot(callback),
      options({
        ...stateOptions,
        connectTimeout: seconds,
        localAddress: oneOf('127.0.0.1', null),
        localPort: oneOf(0, null),
        keepalive: bool,
        nodelay: bool,
        ipv6: oneOf('any', false),
        ...tlsOptions,
      }),
    ),
    also: ['ERR_COMMIO_UNSUPPORTED'],
  },
  // UDP
  createAsyncIoStateAndUdpSocket: { args: fc.tuple(collection, options(udpOptions)), also: ['ERR_COMMIO_BIND_FAILED'] },
  createAsyncIoStateAndConnectedUdpSocket: {
    args: fc.tuple(collection, slot(oneOf('127.0.0.1'), safeJunk), slot(oneOf(Live.Port), safeJunk), options(udpOptions)),
    also: ['ERR_COMMIO_BIND_FAILED'],
  },
  asyncIoStateReceiveMessage: {
    args: fc.tuple(udpState, slot(buffer), slot(callback), options({ start: index, end: index, timeout: seconds, errorCallback: optionalCallback, needsAddress: bool, userInfo: anyValue })),
    also: stateOps,
  },
  asyncIoStateSendMessage: {
    args: fc.tuple(udpState, slot(buffer), slot(callback), options({ start: index, end: index, timeout: seconds, errorCallback: optionalCallback, userInfo: anyValue })),
    also: stateOps,
  },
  asyncIoStateSendMessageToAddress: {
    args: fc.tuple(
      udpState,
      slot(oneOf('127.0.0.1'), safeJunk),
      slot(oneOf(Live.Port), safeJunk),
      slot(buffer),
      slot(callback),
      options({ start: index, end: index, timeout: seconds, errorCallback: optionalCallback, userInfo: anyValue }),
    ),
    also: stateOps,
  },
  // TLS on states
  asyncIoStateAttachSsl: {
    args: fc.tuple(state, slot(callback), options({ ...tlsOptions, sslSide: oneOf('server', 'client', 'both') })),
    also: stateOps,
  },
  asyncIoStateDetachSsl: { args: fc.tuple(state, slot(callback)), also: ['ERR_COMMIO_UNSUPPORTED', 'ERR_COMMIO_OPERATION_IN_PROGRESS'] },
  asyncIoStateHandshake: { args: fc.tuple(state, slot(callback), slot(seconds)), also: ['ERR_COMMIO_UNSUPPORTED', 'ERR_COMMIO_OPERATION_IN_PROGRESS'] },
  asyncIoStateSslSetAcceptState: { args: fc.tuple(state), also: ['ERR_COMMIO_UNSUPPORTED'] },
  asyncIoStateSslSetConnectState: { args: fc.tuple(state), also: ['ERR_COMMIO_UNSUPPORTED'] },
  asyncIoSslFailureIndicatorFromFailureArgs: { args: fc.tuple(junk) },
  isSslAbstractContext: { args: fc.tuple(junk) },
  // socket activation (nothing is passed to the test process)
  systemdListenFds: { args: fc.tuple() },
  systemdListenFd: { args: fc.tuple(slot(oneOf(0, 'http'))) },
};

// ------------------------------------------------------------ the property

function settingsOf(s: AsyncIoState): unknown[] {
  return [s.readTimeout, s.writeTimeout, s.userInfo, s.maxRead, s.maxQueuedOutput, s.maxBufferedInput, s.closed, s.readStatus, s.writeStatus];
}

function describeArgs(args: unknown[]): string {
  return fc.stringify(args).slice(0, 300);
}

/** Settles `value` if it is a promise: resolved, rejected, or still pending after a moment. */
async function settle(value: unknown): Promise<{ kind: 'value' | 'error' | 'pending'; value: unknown }> {
  if (!(value instanceof Promise)) return { kind: 'value', value };
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), 200);
  });
  try {
    const outcome = await Promise.race([value.then((v: unknown) => ({ kind: 'value' as const, value: v })), pending]);
    return outcome === 'pending' ? { kind: 'pending', value } : outcome;
  } catch (error) {
    return { kind: 'error', value: error };
  } finally {
    clearTimeout(timer);
  }
}

/** Objects of the test itself, which a reader may return: never released. */
const keep = new Set<unknown>();

/** Closes whatever a successful call returned. */
function release(value: unknown): void {
  if (keep.has(value)) return;
  if (value instanceof core.AsyncIoState) {
    core.closeAsyncIoState(value);
    if (value.object instanceof net.Socket) value.object.destroy();
  } else if (value instanceof core.AcceptingHandle) core.closeAcceptingHandle(value);
  else if (value instanceof core.WaitStateCollection) core.waitStateCollectionStopLoop(value);
}

const RUNS = Number(process.env['COMMIO_FUZZ_RUNS'] ?? 40);

const exported = Object.entries(core)
  .filter(([name, value]) => typeof value === 'function' && /^[a-z]/.test(name))
  .map(([name]) => name);

test('every exported function has a fuzz description', (t) => {
  const missing = exported.filter((name) => !(name in SPECS));
  t.deepEqual(missing, [], `exported functions nobody fuzzes: ${missing.join(', ')}`);
});

test.serial('fuzzed arguments: only documented codes come out, and a refused call opens and changes nothing', async (t) => {
  const collection = core.createAndRunWaitStateCollection('fuzz', { handler: 'abort' });
  t.teardown(() => core.waitStateCollectionStopLoop(collection));
  const listener = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.teardown(() => listener.close());
  const handle = await core.acceptTcpConnectionsCreatingAsyncIoStates(collection, 0, (_h, s) => release(s), { address: '127.0.0.1', initTimeout: 0 });
  const fixtures: Fixtures = { collection, handle, listener, port: (listener.address() as net.AddressInfo).port, made: [] };
  keep.add(collection).add(handle);
  const counts: Record<string, { refused: number; accepted: number }> = {};
  const reasons: Record<string, number> = {};
  const seed = Number(process.env['COMMIO_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
  t.log(`seed ${seed} (COMMIO_FUZZ_SEED to replay), ${RUNS} runs per function`);

  for (const name of exported.filter((n) => n in SPECS)) {
    const fn = (core as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    const spec = SPECS[name]!;
    const allowed = new Set<string>([...MISUSE, ...(spec.also ?? [])]);
    counts[name] = { refused: 0, accepted: 0 };
    const result = await fc.check(
      fc.asyncProperty(spec.args, async (generated) => {
        fixtures.made = [];
        try {
          const args = (await materialize(generated, fixtures)) as unknown[];
          const states = args.filter((a): a is AsyncIoState => a instanceof core.AsyncIoState);
          const before = states.map(settingsOf);
          const baseline = openHandles();
          const members = collection.memberCount;
          let outcome: { kind: 'value' | 'error' | 'pending'; value: unknown };
          try {
            outcome = await settle(fn(...args));
          } catch (error) {
            outcome = { kind: 'error', value: error };
          }
          if (outcome.kind === 'error') {
            const error = outcome.value;
            const code = error instanceof core.CommioError ? error.code : undefined;
            if (code === undefined || !allowed.has(code)) {
              throw new Error(`${name}(${describeArgs(generated)}) threw ${error instanceof Error ? `${error.name} ${code ?? ''}: ${error.message}` : String(error)}`);
            }
            counts[name]!.refused++;
            const why = error instanceof core.InvalidArgumentError ? error.argument : code;
            reasons[why] = (reasons[why] ?? 0) + 1;
            // Refused: nothing opened, nothing changed.
            if (collection.memberCount !== members) throw new Error(`${name}(${describeArgs(generated)}) was refused but added a member to the collection`);
            const extra = await settledOpenHandles(baseline, 500);
            if (Object.keys(extra).length > 0) throw new Error(`${name}(${describeArgs(generated)}) was refused but left open ${JSON.stringify(extra)}`);
            states.forEach((s, i) => {
              if (fc.stringify(settingsOf(s)) !== fc.stringify(before[i])) {
                throw new Error(`${name}(${describeArgs(generated)}) was refused but changed the state's settings`);
              }
            });
          } else {
            counts[name]!.accepted++;
            if (outcome.kind === 'value') release(outcome.value);
            else void (outcome.value as Promise<unknown>).then(release, () => {});
          }
        } finally {
          for (const m of fixtures.made.reverse()) {
            try {
              m.close();
            } catch {
              // Already closed by the call under test (a state closes the socket it wraps).
            }
          }
        }
      }),
      { numRuns: RUNS, seed, endOnFailure: true },
    );
    if (result.failed) {
      const error = result.errorInstance;
      t.fail(`${name}: ${error instanceof Error ? error.message : String(error)} (counterexample ${fc.stringify(result.counterexample).slice(0, 300)})`);
    }
  }
  core.closeAcceptingHandle(handle);
  // Whatever the accepted calls started is closed: nothing is left behind.
  core.closeWaitStateCollection(collection);
  t.log(`refused for: ${JSON.stringify(reasons)}`);
  t.log(`calls refused/accepted: ${Object.entries(counts).map(([n, c]) => `${n} ${c.refused}/${c.accepted}`).join(', ')}`);
  t.pass();
});

test.serial('any name or user value, even one that cannot be printed, never breaks errors or the handler', async (t) => {
  const baseline = openHandles();
  await fc.assert(
    fc.asyncProperty(fc.oneof(junk, fc.constant(Object.create(null) as unknown)), async (name) => {
      const printed: string[] = [];
      const seen: unknown[] = [];
      const collection = core.createAndRunWaitStateCollection(name, { handler: (_o, e) => seen.push(e) });
      const quiet = core.createAndRunWaitStateCollection(name);
      const write = process.stderr.write.bind(process.stderr);
      try {
        const listener = net.createServer();
        await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
        const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
        client.on('error', () => {});
        const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
        await new Promise<void>((resolve) => client.once('connect', () => resolve()));
        const server = await accepted;
        listener.close();
        const s = core.createAsyncIoState(collection, server, { name, userInfo: name });
        core.asyncIoStateReadBuffer(s, Buffer.alloc(4), noop);
        // Misuse while a read is active: the documented code, whatever the name.
        t.throws(() => core.asyncIoStateReadBuffer(s, Buffer.alloc(4), noop), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
        core.closeAsyncIoState(s);
        t.throws(() => core.asyncIoStateWriteBuffer(s, Buffer.alloc(4), noop), { code: 'ERR_COMMIO_STATE_CLOSED' });
        client.destroy();
        // An accepting handle with that handle name and listener name: set up, then closed.
        const handle = await core.acceptTcpConnectionsCreatingAsyncIoStates(collection, 0, noop, { address: '127.0.0.1', initTimeout: 0, name, handleName: name });
        core.closeAcceptingHandle(handle);
        // A throwing callback in a collection with that name: handled (or printed), the loop goes on.
        process.stderr.write = ((chunk: string | Uint8Array) => printed.push(String(chunk)) > 0);
        await new Promise<void>((resolve) => {
          core.applyInWaitStateCollectionProcess(collection, () => {
            throw new Error('planted');
          });
          core.applyInWaitStateCollectionProcess(quiet, () => {
            throw new Error('planted');
          });
          // Anything may be thrown, even a value that cannot be printed.
          core.applyInWaitStateCollectionProcess(quiet, () => {
            throw name;  
          });
          core.applyInWaitStateCollectionProcess(quiet, resolve);
        });
      } finally {
        process.stderr.write = write;
        core.waitStateCollectionStopLoop(collection);
        core.waitStateCollectionStopLoop(quiet);
      }
      t.is(seen.length, 1);
      t.is(printed.filter((p) => p.includes('planted')).length, 1);
      t.is(printed.filter((p) => p.startsWith('commio: error in collection')).length, 2, 'both throws were reported');
    }),
    { numRuns: 30 },
  );
  t.deepEqual(await settledOpenHandles(baseline), {});
});

test.serial('fuzzed @commio/ssl options: only documented codes, and a refused call writes no file and watches nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'commio-fuzz-ssl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pair = ssl.generateSelfSignedCertificate();
  writeFileSync(join(dir, 'fixture-key.pem'), pair.key, { mode: 0o600 });
  writeFileSync(join(dir, 'fixture-cert.pem'), pair.cert);
  const fixtureFiles = new Set(readdirSync(dir));
  const path = (name: string): string => join(dir, name);
  const file = slot(oneOf(path('fixture-key.pem'), path('fixture-cert.pem'), path('new-key.pem'), path('new-cert.pem'), path('missing/ca.pem')), safeJunk);
  const common = {
    keyFile: file,
    certFile: file,
    key: oneOf(pair.key, pair.cert, 'not a key', Buffer.from(pair.key)),
    cert: oneOf(pair.cert, pair.key, 'not a certificate', Buffer.from(pair.cert)),
    passphrase: oneOf('secret', ''),
    caFile: file,
    ca: oneOf(pair.cert, [pair.cert], 'not a certificate'),
    ciphers: oneOf(core.MODERN_CIPHERS, 'DEFAULT', 'RC4-MD5', 'no-such-cipher'),
    minVersion: oneOf('TLSv1.2', 'TLSv1.3', 'TLSv1', 'SSLv3'),
    maxVersion: oneOf('TLSv1.2', 'TLSv1.3', 'TLSv1.1'),
    alpnProtocols: oneOf(['h2', 'http/1.1'], [], ['x'.repeat(300)], ['']),
    watch: bool,
    onReload: optionalCallback,
    name: oneOf('fuzz', ''),
  };
  const selfSigned = fc.oneof(
    { arbitrary: oneOf(true, false, { commonName: 'fuzz.test' }, { keyType: 'ec', days: 1, altNames: ['127.0.0.1', 'fuzz.test'] }), weight: 8 },
    { arbitrary: oneOf({ keyType: 'rsa' }), weight: 1 },
    { arbitrary: options({ keyType: oneOf('ec', 'rsa', 'dsa'), rsaBits: oneOf(2048, 1024, 2049), commonName: oneOf('x', ''), altNames: oneOf([], ['a.test'], [1]), days: oneOf(1, 0, 36501) }), weight: 2 },
  );
  const specs: Record<string, fc.Arbitrary<unknown[]>> = {
    createSslServerContext: fc.tuple(
      fc.oneof(
        options({ ...common, clientCertificate: oneOf('none', 'request', 'require', 'maybe'), sni: oneOf({}, { 'fuzz.test': { selfSigned: true } }, { '*.fuzz.test': 5 }), selfSigned }),
        // A well-formed key source plus random other options, so that contexts do get built (and closed).
        fc
          .tuple(
            oneOf({ key: pair.key, cert: pair.cert }, { keyFile: path('fixture-key.pem'), certFile: path('fixture-cert.pem') }, { selfSigned: true }, { keyFile: path('new-key.pem'), certFile: path('new-cert.pem'), selfSigned: true }),
            options({ ciphers: oneOf(core.MODERN_CIPHERS, 'DEFAULT'), minVersion: oneOf('TLSv1.2', 'TLSv1.3'), alpnProtocols: oneOf(['h2', 'http/1.1'], []), watch: bool, onReload: optionalCallback, clientCertificate: oneOf('none', 'request'), ca: oneOf(pair.cert) }),
          )
          .map(([base, extra]) => (isPlainRecord(extra) ? { ...(base as object), ...extra } : extra)),
      ),
    ),
    createSslClientContext: fc.tuple(options({ ...common, verify: bool, servername: oneOf('fuzz.test', ''), checkServerIdentity: optionalCallback })),
    generateSelfSignedCertificate: fc.tuple(fc.oneof(fc.constant(undefined), selfSigned.filter((v) => typeof v !== 'boolean'))),
  };
  const exportedSsl = Object.entries(ssl)
    .filter(([name, value]) => typeof value === 'function' && /^[a-z]/.test(name))
    .map(([name]) => name);
  t.deepEqual(exportedSsl.filter((name) => !(name in specs)), [], 'every function of @commio/ssl is fuzzed');
  const seed = Number(process.env['COMMIO_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
  t.log(`seed ${seed}`);
  const tried: Record<string, { refused: number; accepted: number }> = {};
  for (const name of exportedSsl) {
    const fn = (ssl as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    const count = (tried[name] = { refused: 0, accepted: 0 });
    const result = await fc.check(
      fc.asyncProperty(specs[name]!, async (args) => {
        const baseline = openHandles();
        let value: unknown;
        try {
          value = fn(...args);
        } catch (error) {
          const code = error instanceof core.CommioError ? error.code : undefined;
          if (code !== 'ERR_COMMIO_INVALID_ARGUMENT' && code !== 'ERR_COMMIO_UNSUPPORTED') {
            throw new Error(`${name}(${describeArgs(args)}) threw ${error instanceof Error ? `${error.name} ${code ?? ''}: ${error.message}` : String(error)}`);
          }
          const written = readdirSync(dir).filter((f) => !fixtureFiles.has(f));
          if (written.length > 0) throw new Error(`${name}(${describeArgs(args)}) was refused but wrote ${written.join(', ')}`);
          const extra = await settledOpenHandles(baseline, 500);
          if (Object.keys(extra).length > 0) throw new Error(`${name}(${describeArgs(args)}) was refused but left open ${JSON.stringify(extra)}`);
          count.refused++;
          return;
        }
        count.accepted++;
        if (value instanceof ssl.SslContextBase) value.close();
        for (const f of readdirSync(dir)) if (!fixtureFiles.has(f)) rmSync(join(dir, f), { recursive: true, force: true });
        const extra = await settledOpenHandles(baseline, 500);
        if (Object.keys(extra).length > 0) throw new Error(`${name}(${describeArgs(args)}): closing the context left open ${JSON.stringify(extra)}`);
      }),
      { numRuns: RUNS, seed, endOnFailure: true },
    );
    if (result.failed) {
      const error = result.errorInstance;
      t.fail(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  t.log(`calls refused/accepted: ${Object.entries(tried).map(([n, c]) => `${n} ${c.refused}/${c.accepted}`).join(', ')}`);
  t.pass();
});

test('a refused createSslServerContext writes no self-signed files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'commio-ssl-refused-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const refused: Record<string, unknown>[] = [{ ciphers: 'no-such-cipher' }, { minVersion: 'TLSv1' }, { watch: 'yes' }, { onReload: 5 }, { alpnProtocols: ['x'.repeat(256)] }];
  for (const extra of refused) {
    const code = 'minVersion' in extra ? 'ERR_COMMIO_UNSUPPORTED' : 'ERR_COMMIO_INVALID_ARGUMENT';
    t.throws(() => ssl.createSslServerContext({ keyFile, certFile, selfSigned: true, ...extra }), { code }, JSON.stringify(extra));
    t.deepEqual(readdirSync(dir), [], `nothing written for a call refused for ${Object.keys(extra).join(', ')}`);
  }
});
