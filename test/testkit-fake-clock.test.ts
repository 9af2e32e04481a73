/**
 * The fake clock of @commio/testkit: timers run in time order on advance(),
 * one clock at a time, real time back on uninstall(), and commio's own
 * timeouts (here a TLS handshake timeout over a real socket) follow it.
 * Serial: the clock is process-wide.
 */
import test from 'ava';
import { acceptTcpConnectionsCreatingAsyncIoStates, closeAcceptingHandle } from '@commio/core';
import { clearTimer, now, refreshTimer, setTimer } from '@commio/core/internal';
import { installFakeClock, type FakeClock } from '@commio/testkit';
import { checkNoLeaksAfterAll } from './helpers/leaks.ts';
import { withCollection, deferred } from './helpers/fixtures.ts';
import { keyPair, silentClient, closed, until } from './helpers/tls-fixtures.ts';

checkNoLeaksAfterAll(test);

function fakeClock(t: import('ava').ExecutionContext): FakeClock {
  const clock = installFakeClock();
  t.teardown(() => clock.uninstall());
  return clock;
}

test.serial('advance runs the due timers in time order, each seeing its due time; later ones wait', (t) => {
  const clock = fakeClock(t);
  const start = now();
  const ran: string[] = [];
  const note = (name: string): void => {
    ran.push(`${name}@${now() - start}`);
  };
  setTimer(note, 300, 'c');
  setTimer(note, 100, 'a');
  setTimer(note, 100, 'b');
  setTimer(note, 1500, 'late');
  t.is(clock.pendingTimers, 4);
  clock.advance(0.5);
  t.deepEqual(ran, ['a@100', 'b@100', 'c@300']);
  t.is(now() - start, 500);
  t.is(clock.elapsed, 0.5);
  clock.advance(1);
  t.deepEqual(ran.at(-1), 'late@1500');
  t.is(clock.pendingTimers, 0);
});

test.serial('timers armed or refreshed by timers within the window run too; cleared ones never do', (t) => {
  const clock = fakeClock(t);
  const start = now();
  const ran: number[] = [];
  const chain = (left: number): void => {
    ran.push(now() - start);
    if (left > 0) setTimer(chain, 200, left - 1);
  };
  setTimer(chain, 200, 3);
  const cleared = setTimer(() => t.fail('cleared'), 100, null);
  clearTimer(cleared);
  const refreshed = setTimer((at: number[]) => at.push(now() - start), 400, ran);
  clock.advance(0.3);
  refreshTimer(refreshed);
  clock.advance(0.5);
  t.deepEqual(ran, [200, 400, 600, 700, 800]);
  t.is(clock.pendingTimers, 0);
  clock.advance(0);
  t.is(clock.elapsed, 0.8);
});

test.serial('one fake clock at a time; uninstall gives real time back and drops pending fake timers', (t) => {
  const clock = installFakeClock();
  t.throws(() => installFakeClock(), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  setTimer(() => t.fail('dropped at uninstall'), 10, null);
  const frozen = now();
  clock.uninstall();
  clock.uninstall();
  t.is(clock.pendingTimers, 0);
  t.not(now(), frozen, 'real time again');
  const again = installFakeClock();
  again.uninstall();
  t.pass();
});

test.serial('a real timer armed before the install is cleared and refreshed on the real clock', async (t) => {
  const done = deferred<string>();
  // commio's timers are unref'd: hold the process up while waiting for one.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const real = setTimer(done.resolve, 20, 'real');
  const clock = fakeClock(t);
  refreshTimer(real);
  clock.advance(1);
  t.is(await done.promise, 'real', 'ran in real time, not on advance');
  const never = setTimer(() => t.fail('cleared'), 10, null);
  clock.uninstall();
  clearTimer(never);
});

test.serial('advance checks its argument and refuses to run inside itself', (t) => {
  const clock = fakeClock(t);
  for (const bad of [-1, Number.NaN, Infinity, '1', null]) {
    t.throws(() => clock.advance(bad as number), { code: 'ERR_COMMIO_INVALID_ARGUMENT' }, String(bad));
  }
  let inner: unknown = null;
  setTimer(() => {
    try {
      clock.advance(1);
    } catch (error) {
      inner = error;
    }
  }, 10, null);
  clock.advance(1);
  t.is((inner as { code?: string } | null)?.code, 'ERR_COMMIO_OPERATION_IN_PROGRESS');
});

test.serial('a TLS handshake timeout follows the fake clock: a silent peer is cut on advance, with no real wait', async (t) => {
  const clock = fakeClock(t);
  const c = withCollection(t);
  const { key, cert } = keyPair();
  const failure = deferred<Error>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, () => t.fail('no state for a silent peer'), {
    address: '127.0.0.1',
    sslCtx: true,
    handshakeTimeout: 60,
    ctxConfigureCallback: (o) => {
      o.key = key;
      o.cert = cert;
    },
    sslErrorCallback: (error) => failure.resolve(error),
  });
  t.teardown(() => closeAcceptingHandle(handle));
  const started = Date.now();
  const peer = await silentClient(t, handle.localPort);
  await until(() => clock.pendingTimers === 1);
  t.is(clock.pendingTimers, 1, 'the handshake timer is armed on the fake clock');
  clock.advance(59.9);
  t.is(clock.pendingTimers, 1, 'not yet due');
  clock.advance(0.1);
  t.is(((await failure.promise) as Error & { code: string }).code, 'ERR_COMMIO_HANDSHAKE_TIMEOUT');
  await closed(peer);
  t.true(Date.now() - started < 10_000, 'a minute of handshake timeout took no real minute');
});
