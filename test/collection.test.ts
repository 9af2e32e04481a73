import test, { type ExecutionContext } from 'ava';
import net from 'node:net';
import { spawn } from 'node:child_process';
import {
  makeWaitStateCollection,
  createAndRunWaitStateCollection,
  loopProcessingWaitStateCollection,
  waitForWaitStateCollection,
  callWaitStateCollection,
  waitStateCollectionStopLoop,
  waitStateCollectionAliveP,
  applyInWaitStateCollectionProcess,
  closeWaitStateCollection,
  createAsyncIoState,
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateDiscard,
  asyncIoStateWriteBuffer,
  asyncIoStateWaitForInput,
  closeAsyncIoState,
  type AsyncIoState,
  type WaitStateCollection,
  type Handler,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, rawServer, rawClient, readBytes } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

test('applyIn runs later, in order, never inside the call', async (t) => {
  const c = createAndRunWaitStateCollection('order');
  t.teardown(() => waitStateCollectionStopLoop(c));
  const seen: number[] = [];
  const done = deferred();
  applyInWaitStateCollectionProcess(c, (n: number) => seen.push(n), 1);
  applyInWaitStateCollectionProcess(c, (n: number) => {
    seen.push(n);
    applyInWaitStateCollectionProcess(c, () => {
      seen.push(3);
      done.resolve();
    });
    seen.push(2.5);
  }, 2);
  t.deepEqual(seen, []);
  await done.promise;
  t.deepEqual(seen, [1, 2, 2.5, 3]);
});

test('manual wait and call drive a made collection', async (t) => {
  const c = makeWaitStateCollection();
  const seen: string[] = [];
  applyInWaitStateCollectionProcess(c, () => seen.push('a'));
  await waitForWaitStateCollection(c);
  t.deepEqual(seen, []);
  callWaitStateCollection(c);
  t.deepEqual(seen, ['a']);
  t.true(waitStateCollectionAliveP(c));
});

test('a throw goes to the handler function and the loop goes on', async (t) => {
  const errors: unknown[] = [];
  const c = createAndRunWaitStateCollection('throwing', { handler: (object, error, backtrace) => errors.push([object, error, typeof backtrace]) });
  t.teardown(() => waitStateCollectionStopLoop(c));
  const done = deferred();
  const boom = new Error('boom');
  applyInWaitStateCollectionProcess(c, () => {
    throw boom;
  });
  applyInWaitStateCollectionProcess(c, () => done.resolve());
  await done.promise;
  t.deepEqual(errors, [[null, boom, 'string']]);
});

test('a second loop on the same collection is refused; stop resolves the loop', async (t) => {
  const c = makeWaitStateCollection();
  const loop = loopProcessingWaitStateCollection(c);
  await t.throwsAsync(loopProcessingWaitStateCollection(c), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  waitStateCollectionStopLoop(c);
  await loop;
  t.true(c.alive);
});

test('stopping a created-and-run collection makes it dead', (t) => {
  const c = createAndRunWaitStateCollection('dies');
  waitStateCollectionStopLoop(c);
  t.false(waitStateCollectionAliveP(c));
  t.throws(() => applyInWaitStateCollectionProcess(c, () => {}), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
});

// ---------------------------------------------------------------- helpers

/** A state in `c` on a client socket, and the raw server-side socket as its peer. */
async function statePair(t: ExecutionContext, c: WaitStateCollection): Promise<{ state: AsyncIoState; peer: net.Socket; socket: net.Socket }> {
  const accepted = deferred<net.Socket>();
  const { port } = await rawServer(t, (socket) => accepted.resolve(socket));
  const socket = await rawClient(t, port);
  const state = createAsyncIoState(c, socket);
  return { state, peer: await accepted.promise, socket };
}

function running(t: ExecutionContext, name: string, options?: Parameters<typeof createAndRunWaitStateCollection>[1]): WaitStateCollection {
  const c = createAndRunWaitStateCollection(name, options);
  t.teardown(() => waitStateCollectionStopLoop(c));
  return c;
}

/** Resolves once `c` ran everything queued before this call. */
function drained(c: WaitStateCollection): Promise<void> {
  return new Promise((resolve) => applyInWaitStateCollectionProcess(c, () => setImmediate(resolve)));
}

/** Runs `body` while capturing what is written to stderr. */
async function captureStderr(body: () => Promise<void>): Promise<string> {
  const original = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = (chunk: string | Uint8Array): boolean => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  };
  try {
    await body();
  } finally {
    process.stderr.write = original;
  }
  return text;
}

/** Makes a collection with `handler`, throws `error` in an applyIn function, and waits until the loop went on. */
async function throwIn(t: ExecutionContext, name: string, options: { handler?: Handler; withBacktrace?: 'bug-form' | 'quick' | boolean }, error: unknown): Promise<void> {
  const c = running(t, name, options);
  const after = deferred();
  applyInWaitStateCollectionProcess(c, () => {
    throw error;
  });
  applyInWaitStateCollectionProcess(c, () => after.resolve());
  await after.promise;
}

// --------------------------------------------------------------- handlers

test.serial('handler true (the default) prints the error with its stack to stderr and goes on', async (t) => {
  const error = new Error('printed-marker-1');
  const text = await captureStderr(() => throwIn(t, 'printing', {}, error));
  t.regex(text, /collection printing/);
  t.regex(text, /printed-marker-1/);
  t.true(text.includes((error.stack ?? '').split('\n')[1]!.trim()), 'with the stack');
});

test.serial('handler true with withBacktrace false prints the message only', async (t) => {
  const text = await captureStderr(() => throwIn(t, 'terse', { handler: true, withBacktrace: false }, new TypeError('printed-marker-2')));
  t.regex(text, /TypeError: printed-marker-2/);
  t.notRegex(text, /\n\s+at /, 'no stack lines');
});

test.serial("handler 'abort' drops the error silently and goes on", async (t) => {
  const text = await captureStderr(() => throwIn(t, 'silent', { handler: 'abort' }, new Error('printed-marker-3')));
  t.false(text.includes('printed-marker-3'));
});

test('a handler function gets (object, error, backtrace); with withBacktrace false just (object, error)', async (t) => {
  const calls: unknown[][] = [];
  const error = new Error('to the handler');
  await throwIn(t, 'fn', { handler: (...args: unknown[]) => calls.push(args) }, error);
  await throwIn(t, 'fn-quick', { handler: (...args: unknown[]) => calls.push(args), withBacktrace: 'quick' }, error);
  await throwIn(t, 'fn-bug-form', { handler: (...args: unknown[]) => calls.push(args), withBacktrace: 'bug-form' }, error);
  await throwIn(t, 'fn-none', { handler: (...args: unknown[]) => calls.push(args), withBacktrace: false }, error);
  t.is(calls.length, 4);
  const [full, quick, bugForm, none] = calls as [unknown[], unknown[], unknown[], unknown[]];
  t.is(full.length, 3);
  t.is(full[0], null, 'applyIn work belongs to no state');
  t.is(full[1], error);
  t.is(full[2], error.stack);
  t.is(quick.length, 3);
  t.true((quick[2] as string).split('\n').length <= 6);
  t.true((error.stack ?? '').startsWith(quick[2] as string));
  t.is(bugForm[2], error.stack);
  t.deepEqual(none, [null, error]);
});

test('a handler function gets the state whose callback threw', async (t) => {
  const seen = deferred<unknown[]>();
  const c = running(t, 'state-throws', { handler: (object, error) => seen.resolve([object, error]) });
  const { state, peer } = await statePair(t, c);
  const boom = new Error('from a read callback');
  asyncIoStateReadBuffer(state, Buffer.alloc(1), () => {
    throw boom;
  });
  peer.write('x');
  t.deepEqual(await seen.promise, [state, boom]);
  // The state and the loop go on.
  const next = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(1), (_s, b) => next.resolve(b.toString()));
  peer.write('y');
  t.is(await next.promise, 'y');
});

test('a throwing handler function is printed, and the loop still goes on', async (t) => {
  const text = await captureStderr(() =>
    throwIn(t, 'bad-handler', {
      handler: () => {
        throw new Error('printed-marker-4');
      },
    }, new Error('first')),
  );
  t.regex(text, /printed-marker-4/);
});

test('handler null re-throws the error as an uncaught exception; the loop goes on', async (t) => {
  const script = `
    import { createAndRunWaitStateCollection, applyInWaitStateCollectionProcess, waitStateCollectionStopLoop } from '@commio/core';
    const c = createAndRunWaitStateCollection('child', { handler: null });
    process.on('uncaughtException', (e) => console.log('uncaught:' + e.message));
    applyInWaitStateCollectionProcess(c, () => { throw new Error('boom-null'); });
    applyInWaitStateCollectionProcess(c, () => setTimeout(() => { console.log('loop alive'); waitStateCollectionStopLoop(c); }, 20));
  `;
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=commio-source', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.resume();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.is(code, 0);
  t.regex(out, /uncaught:boom-null/);
  t.regex(out, /loop alive/);
});

test('handler null without a listener crashes the process with the error', async (t) => {
  const script = `
    import { createAndRunWaitStateCollection, applyInWaitStateCollectionProcess } from '@commio/core';
    const c = createAndRunWaitStateCollection('child', { handler: null });
    applyInWaitStateCollectionProcess(c, () => { throw new Error('boom-crash'); });
    setTimeout(() => {}, 5000);
  `;
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=commio-source', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.not(code, 0);
  t.regex(err, /boom-crash/);
});

// ------------------------------------------------------ order and re-entrancy

test('applyIn is deferred even from inside the collection, and from another collection', async (t) => {
  const a = running(t, 'a');
  const b = running(t, 'b');
  const log: string[] = [];
  const done = deferred();
  applyInWaitStateCollectionProcess(a, () => {
    log.push('a1');
    applyInWaitStateCollectionProcess(a, () => log.push('a2'));
    applyInWaitStateCollectionProcess(b, () => {
      log.push('b1');
      done.resolve();
    });
    log.push('a1 end');
  });
  await done.promise;
  await drained(a);
  t.deepEqual(log.slice(0, 2), ['a1', 'a1 end']);
  t.true(log.includes('a2'));
});

test('callbacks run one at a time, never re-entrantly, across collections', async (t) => {
  const collections = [running(t, 'x'), running(t, 'y')];
  let depth = 0;
  let maxDepth = 0;
  const guard = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A): void => {
    depth++;
    maxDepth = Math.max(maxDepth, depth);
    try {
      fn(...args);
    } finally {
      depth--;
    }
  };
  const rounds = 20;
  const finished: Promise<void>[] = [];
  for (let i = 0; i < 6; i++) {
    const c = collections[i % 2]!;
    const { state, peer } = await statePair(t, c);
    peer.pipe(peer);
    const done = deferred();
    finished.push(done.promise);
    let round = 0;
    const onRead = guard((s: AsyncIoState) => {
      if (++round === rounds) {
        done.resolve();
        return;
      }
      asyncIoStateWriteBuffer(s, Buffer.from('ping'), guard(() => {}));
      asyncIoStateReadBuffer(s, Buffer.alloc(4), onRead);
      applyInWaitStateCollectionProcess(collections[(i + 1) % 2]!, guard(() => {}));
    });
    asyncIoStateWriteBuffer(state, Buffer.from('ping'), guard(() => {}));
    asyncIoStateReadBuffer(state, Buffer.alloc(4), onRead);
  }
  await Promise.all(finished);
  t.is(maxDepth, 1);
});

test('a busy collection does not starve another', async (t) => {
  const busy = running(t, 'busy');
  const calm = running(t, 'calm');
  let spinning = true;
  let spins = 0;
  const spin = (): void => {
    spins++;
    if (spinning) applyInWaitStateCollectionProcess(busy, spin);
  };
  for (let i = 0; i < 100; i++) applyInWaitStateCollectionProcess(busy, spin);
  const ran = deferred();
  applyInWaitStateCollectionProcess(calm, () => ran.resolve());
  await ran.promise;
  // And Node's own timers still fire.
  await new Promise((resolve) => setTimeout(resolve, 5));
  spinning = false;
  t.true(spins > 0);
});

// ------------------------------------------------------ stop, alive, close

test('stopping a created-and-run collection closes its states (sockets destroyed) and no callback runs after', async (t) => {
  const c = createAndRunWaitStateCollection('stopped');
  const { state, socket, peer } = await statePair(t, c);
  asyncIoStateReadBuffer(state, Buffer.alloc(4), () => t.fail('no callback after stop'));
  const late = () => t.fail('no work after stop');
  waitStateCollectionStopLoop(c);
  t.throws(() => applyInWaitStateCollectionProcess(c, late), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
  t.false(c.alive);
  t.true(state.closed);
  t.true(socket.destroyed);
  peer.write('late');
  await new Promise((resolve) => setTimeout(resolve, 20));
  waitStateCollectionStopLoop(c);
  t.throws(() => createAsyncIoState(c, new net.Socket()), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
  await t.throwsAsync(loopProcessingWaitStateCollection(c), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
});

test('stopping the loop from inside a callback: the work queued behind it does not run', async (t) => {
  const c = createAndRunWaitStateCollection('stop-inside');
  const log: string[] = [];
  const done = deferred();
  applyInWaitStateCollectionProcess(c, () => {
    log.push('first');
    waitStateCollectionStopLoop(c);
    setImmediate(() => done.resolve());
  });
  applyInWaitStateCollectionProcess(c, () => log.push('second'));
  await done.promise;
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.deepEqual(log, ['first']);
  t.false(waitStateCollectionAliveP(c));
});

test('a made collection can be looped, stopped and looped again; its states stay open', async (t) => {
  const c = makeWaitStateCollection();
  t.is(c.name, null);
  t.teardown(() => closeWaitStateCollection(c));
  const { state, peer } = await statePair(t, c);
  const first = loopProcessingWaitStateCollection(c);
  t.true(c.looping);
  const got = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(2), (_s, b) => got.resolve(b.toString()));
  peer.write('hi');
  t.is(await got.promise, 'hi');
  waitStateCollectionStopLoop(c);
  await first;
  t.false(state.closed);
  t.true(c.alive);
  // While stopped, events queue up...
  const again = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(2), (_s, b) => again.resolve(b.toString()));
  peer.write('yo');
  await waitForWaitStateCollection(c);
  // ...and a new loop runs them.
  const second = loopProcessingWaitStateCollection(c);
  t.is(await again.promise, 'yo');
  waitStateCollectionStopLoop(c);
  await second;
});

test('closeWaitStateCollection closes every state with no further callbacks and leaves the collection usable', async (t) => {
  const c = running(t, 'closing');
  const one = await statePair(t, c);
  const two = await statePair(t, c);
  asyncIoStateReadBuffer(one.state, Buffer.alloc(4), () => t.fail('no callback after close'));
  asyncIoStateWaitForInput(two.state, () => t.fail('no callback after close'));
  closeWaitStateCollection(c);
  t.true(one.state.closed && two.state.closed);
  t.true(one.socket.destroyed && two.socket.destroyed);
  t.true(c.alive);
  one.peer.write('late');
  // Still usable: work runs and new states work.
  await drained(c);
  const three = await statePair(t, c);
  const got = deferred<string>();
  asyncIoStateReadBuffer(three.state, Buffer.alloc(3), (_s, b) => got.resolve(b.toString()));
  three.peer.write('new');
  t.is(await got.promise, 'new');
});

test('closeWaitStateCollection is safe inside a state callback', async (t) => {
  const c = running(t, 'close-inside');
  const a = await statePair(t, c);
  const b = await statePair(t, c);
  asyncIoStateReadBuffer(b.state, Buffer.alloc(1), () => t.fail('closed'));
  const done = deferred();
  asyncIoStateReadWithChecking(a.state, (s, _v, end) => {
    closeWaitStateCollection(c);
    t.true(s.closed);
    // discard still works on the view of the callback that is running.
    asyncIoStateDiscard(s, end);
    done.resolve();
  });
  a.peer.write('go');
  await done.promise;
  t.true(b.state.closed);
  await drained(c);
});

test('many collections: a throw in one does not disturb another; stopping one leaves the other’s states alone', async (t) => {
  const errors: unknown[] = [];
  const noisy = createAndRunWaitStateCollection('noisy', { handler: (_o, e) => errors.push(e) });
  const quiet = running(t, 'quiet');
  const n = await statePair(t, noisy);
  const q = await statePair(t, quiet);
  asyncIoStateReadBuffer(n.state, Buffer.alloc(1), () => {
    throw new Error('noisy fails');
  });
  n.peer.write('x');
  await drained(noisy);
  t.is(errors.length, 1);
  waitStateCollectionStopLoop(noisy);
  t.true(n.state.closed);
  t.false(q.state.closed);
  const got = deferred<string>();
  asyncIoStateReadBuffer(q.state, Buffer.alloc(2), (_s, b) => got.resolve(b.toString()));
  q.peer.write('ok');
  t.is(await got.promise, 'ok');
  closeAsyncIoState(q.state);
});

// ------------------------------------------------------ manual wait and call

test('manual drive: events of a state are queued until callWaitStateCollection runs them', async (t) => {
  const c = makeWaitStateCollection();
  t.teardown(() => closeWaitStateCollection(c));
  const { state, peer } = await statePair(t, c);
  const log: string[] = [];
  asyncIoStateReadBuffer(state, Buffer.alloc(3), (_s, b) => {
    log.push(b.toString());
    applyInWaitStateCollectionProcess(c, () => log.push('posted from inside'));
  });
  peer.write('abc');
  await waitForWaitStateCollection(c);
  t.deepEqual(log, [], 'nothing runs until called');
  t.is(c.pendingCount, 1);
  callWaitStateCollection(c);
  t.deepEqual(log, ['abc'], 'work posted during the call waits for the next one');
  await waitForWaitStateCollection(c);
  callWaitStateCollection(c);
  t.deepEqual(log, ['abc', 'posted from inside']);
  // Nothing pending: a call does nothing.
  callWaitStateCollection(c);
  t.is(c.pendingCount, 0);
});

test('waitForWaitStateCollection resolves at once when work is pending; wait/call are refused while a loop runs or inside a callback', async (t) => {
  const c = makeWaitStateCollection();
  applyInWaitStateCollectionProcess(c, () => {
    t.throws(() => callWaitStateCollection(c), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  });
  await waitForWaitStateCollection(c);
  await waitForWaitStateCollection(c);
  callWaitStateCollection(c);
  const loop = loopProcessingWaitStateCollection(c);
  t.throws(() => callWaitStateCollection(c), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  await t.throwsAsync(waitForWaitStateCollection(c), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  waitStateCollectionStopLoop(c);
  await loop;
});

test('a created-and-run collection keeps its name; aliveP and alive agree', (t) => {
  const name = { id: 'named' };
  const c = running(t, 'x');
  t.is(c.name, 'x');
  const d = createAndRunWaitStateCollection(name);
  t.is(d.name, name);
  t.true(waitStateCollectionAliveP(d) && d.alive);
  waitStateCollectionStopLoop(d);
  t.false(waitStateCollectionAliveP(d) || d.alive);
  t.regex(String(d), /wait-state-collection/);
});

test('output written by a callback reaches the peer (flushed when the pass ends)', async (t) => {
  const c = running(t, 'flush');
  const { state, peer } = await statePair(t, c);
  const arrived = readBytes(peer, 3);
  applyInWaitStateCollectionProcess(c, () => asyncIoStateWriteBuffer(state, Buffer.from('out'), () => {}));
  t.is((await arrived).toString(), 'out');
});

test('an operation started from another collection’s callback calls back through its own collection', async (t) => {
  const errors: unknown[][] = [];
  const owner = running(t, 'owner', { handler: (object, error) => errors.push([object, error]) });
  const other = running(t, 'other', { handler: () => t.fail('not the starting collection’s handler') });
  const { state, peer } = await statePair(t, owner);
  const boom = new Error('thrown in the read callback');
  const thrown = deferred();
  applyInWaitStateCollectionProcess(other, () => {
    asyncIoStateReadBuffer(state, Buffer.alloc(1), () => {
      thrown.resolve();
      throw boom;
    });
  });
  peer.write('x');
  await thrown.promise;
  await drained(owner);
  t.deepEqual(errors, [[state, boom]]);
});
