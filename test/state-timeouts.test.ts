/**
 * Read and write timeouts of states (read-buffer, read-with-checking,
 * wait-for-input, writes, queued writes), on in-memory state pairs with the
 * fake clock of @commio/testkit: exact, with no real waiting and no retries
 * for a busy machine. Serial: the clock is process-wide. (Connect, TLS
 * handshake and accept timeouts need sockets: connect.test.ts,
 * tls-accept.test.ts, testkit-fake-clock.test.ts.)
 */
import test, { type ExecutionContext } from 'ava';
import {
  asyncIoStateFinish,
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateWaitForInput,
  asyncIoStateWriteBuffer,
  type AsyncIoState,
  type IoStatus,
  type StateOptions,
} from '@commio/core';
import { installFakeClock, makeStatePair, type FakeClock } from '@commio/testkit';
import { checkNoLeaksAfterAll } from './helpers/leaks.ts';
import { deferred, withCollection } from './helpers/fixtures.ts';

checkNoLeaksAfterAll(test);

/** A fake clock for this test, and a connected pair: `state` under test, `peer` the other end. */
function setup(t: ExecutionContext, options: StateOptions & { capacity?: number } = {}): { clock: FakeClock; state: AsyncIoState; peer: AsyncIoState } {
  const clock = installFakeClock();
  t.teardown(() => clock.uninstall());
  const [state, peer] = makeStatePair(withCollection(t), options);
  return { clock, state, peer };
}

/** Waits, turn by turn of Node's loop, until `condition()` holds (work posted to collections runs in between). */
async function until(condition: () => boolean): Promise<void> {
  for (let turns = 0; !condition(); turns++) {
    if (turns > 10_000) throw new Error('condition not reached');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Result {
  count: number;
  status: IoStatus;
  text: string;
}

function readBuffer(state: AsyncIoState, buffer: Uint8Array, options: { timeout?: number | null } = {}): Promise<Result> {
  const done = deferred<Result>();
  const report = (s: AsyncIoState, b: Uint8Array, count: number): void => done.resolve({ count, status: s.readStatus, text: Buffer.from(b.subarray(0, count)).toString() });
  asyncIoStateReadBuffer(state, buffer, report, { ...options, errorCallback: () => done.reject(new Error('a timeout is not an error')) });
  return done.promise;
}

function write(state: AsyncIoState, bytes: Uint8Array, options: { timeout?: number | null } = {}): Promise<Result> {
  const done = deferred<Result>();
  const report = (s: AsyncIoState, _b: Uint8Array, count: number): void => done.resolve({ count, status: s.writeStatus, text: '' });
  asyncIoStateWriteBuffer(state, bytes, report, { ...options, errorCallback: () => done.reject(new Error('a timeout is not an error')) });
  return done.promise;
}

function send(state: AsyncIoState, text: string): void {
  asyncIoStateWriteBuffer(state, Buffer.from(text), () => {});
}

test.serial('read-buffer timeout: status timeout with the count so far, timeout kept; reset to null by the next read', async (t) => {
  const { clock, state, peer } = setup(t, { queueOutput: true });
  const buffer = Buffer.alloc(10);
  const reading = readBuffer(state, buffer, { timeout: 5 });
  send(peer, 'bc');
  await until(() => buffer[1] === 0x63);
  clock.advance(4.9);
  clock.advance(0.1);
  t.deepEqual(await reading, { count: 2, status: 'timeout', text: 'bc' });
  t.is(state.readTimeout, 5, 'the timeout option updates the state persistently');
  const next = readBuffer(state, Buffer.alloc(3), { timeout: null });
  t.is(state.readStatus, null, 'a new read resets timeout');
  t.is(state.readTimeout, null);
  clock.advance(3600);
  send(peer, 'xyz');
  t.deepEqual(await next, { count: 3, status: null, text: 'xyz' });
});

test.serial('the read timeout bounds the time without progress: it restarts when bytes arrive', async (t) => {
  const { clock, state, peer } = setup(t, { queueOutput: true });
  const buffer = Buffer.alloc(100);
  const reading = readBuffer(state, buffer, { timeout: 0.15 });
  let settled = false;
  void reading.then(() => (settled = true));
  for (let i = 0; i < 8; i++) {
    clock.advance(0.1);
    send(peer, 'x');
    await until(() => buffer[i] === 0x78);
  }
  t.false(settled, '0.8 s in all, never 0.15 s without a byte');
  clock.advance(0.149);
  t.false(settled);
  clock.advance(0.001);
  t.deepEqual(await reading, { count: 8, status: 'timeout', text: 'xxxxxxxx' });
});

test.serial('a timeout of 0 means no limit, as null does', async (t) => {
  const { clock, state, peer } = setup(t, { readTimeout: 0 });
  const reading = readBuffer(state, Buffer.alloc(2), { timeout: 0 });
  clock.advance(3600);
  t.is(clock.pendingTimers, 0);
  send(peer, 'ok');
  t.deepEqual(await reading, { count: 2, status: null, text: 'ok' });
  t.is(state.readTimeout, 0);
});

test.serial('the state readTimeout applies to reads that give no timeout', async (t) => {
  const { clock, state } = setup(t, { readTimeout: 0.05 });
  const reading = readBuffer(state, Buffer.alloc(1));
  clock.advance(0.05);
  t.deepEqual(await reading, { count: 0, status: 'timeout', text: '' });
});

test.serial('wait-for-input timeout sets timeout, keeps the timeout, and the next operation resets it', async (t) => {
  const { clock, state, peer } = setup(t);
  const done = deferred<IoStatus>();
  asyncIoStateWaitForInput(state, (s) => done.resolve(s.readStatus), { timeout: 0.05, userInfo: 'waiting' });
  clock.advance(0.05);
  t.is(await done.promise, 'timeout');
  t.is(state.readTimeout, 0.05);
  t.is(state.userInfo, 'waiting');
  const again = deferred<IoStatus>();
  asyncIoStateWaitForInput(state, (s) => again.resolve(s.readStatus), { timeout: null });
  t.is(state.readStatus, null);
  send(peer, 'x');
  t.is(await again.promise, null);
});

test.serial('read-with-checking timeout: a final call with status timeout (end 0), then a new read resets it', async (t) => {
  const { clock, state, peer } = setup(t);
  const first = deferred<[number, IoStatus]>();
  asyncIoStateReadWithChecking(state, (s, _view, end) => first.resolve([end, s.readStatus]), { timeout: 0.05, userInfo: 'checking' });
  t.is(state.userInfo, 'checking', 'userInfo given to the read updates the state');
  clock.advance(0.05);
  t.deepEqual(await first.promise, [0, 'timeout']);
  t.is(state.readTimeout, 0.05);
  const again = deferred<[string, IoStatus]>();
  asyncIoStateReadWithChecking(
    state,
    (s, view, end) => {
      again.resolve([Buffer.from(view.subarray(0, end)).toString(), s.readStatus]);
      asyncIoStateFinish(s);
    },
    { timeout: null },
  );
  t.is(state.readStatus, null);
  send(peer, 'x');
  t.deepEqual(await again.promise, ['x', null]);
});

test.serial('write timeout with a peer that never reads: writeStatus timeout and the count written so far', async (t) => {
  const capacity = 64 * 1024;
  const { clock, state } = setup(t, { capacity, maxQueuedOutput: 8 * 1024 * 1024 });
  const big = Buffer.alloc(1024 * 1024);
  const writing = write(state, big, { timeout: 0.2 });
  clock.advance(0.2);
  const r = await writing;
  t.is(r.status, 'timeout');
  t.is(r.count, capacity, 'what the peer\'s pipe took');
  t.is(state.writeTimeout, 0.2, 'the timeout option updates the state persistently');
  // The timed-out write is over for the program (its bytes still count against
  // maxQueuedOutput until sent): a new write may start, and resets the status.
  const next = write(state, Buffer.from('more'), { timeout: 0.05 });
  t.is(state.writeStatus, null);
  clock.advance(0.05);
  t.is((await next).status, 'timeout');
});

test.serial('queued writes behind a stuck one each time out in turn', async (t) => {
  const { clock, state } = setup(t, { queueOutput: true, writeTimeout: 0.1, maxQueuedOutput: 8 * 1024 * 1024, capacity: 1024 });
  const results = Promise.all([write(state, Buffer.alloc(1024 * 1024)), write(state, Buffer.from('a')), write(state, Buffer.from('b'))]);
  for (let i = 0; i < 3; i++) {
    await until(() => clock.pendingTimers > 0);
    clock.advance(0.1);
  }
  const all = await results;
  t.deepEqual(
    all.map((r) => r.status),
    ['timeout', 'timeout', 'timeout'],
  );
  // The count of a write is known only when it is the only one in flight (see the write side).
  t.deepEqual(
    all.slice(1).map((r) => r.count),
    [0, 0],
  );
});
