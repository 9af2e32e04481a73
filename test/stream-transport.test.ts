/**
 * The transport seam: a state made with createStateOnTransport on a small
 * in-memory driver (no socket) keeps the API's behaviour: reads, writes in
 * order with their completions, FIN as 'eof', shutdown's result, flow
 * control, and keep-alive handing the handle back.
 */
import test from 'ava';
import net from 'node:net';
import {
  asyncIoStateReadBuffer,
  asyncIoStateWriteBuffer,
  asyncIoStateShutdown,
  asyncIoStateWaitForInput,
  closeAsyncIoState,
  type AsyncIoState,
} from '@commio/core';
import { createStateOnTransport, WRITE_DONE, WRITE_PENDING, type StreamSink, type StreamTransport, type WriteOutcome } from '@commio/core/internal';
import { deferred, withCollection } from './helpers/fixtures.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

/** One end of an in-memory connection. */
class End {
  sink: StreamSink | null = null;
  peer: End | null = null;
  reading = false;
  open = true;
  /** Bytes that arrived while not reading. */
  held: Buffer[] = [];
  finSent = false;
  readingSwitches = 0;
}

function later(fn: () => void): void {
  // The seam's rule: never call the sink inside a call from the state.
  setImmediate(fn);
}

function arrive(end: End, chunk: Buffer): void {
  if (end.reading && end.sink !== null) end.sink.received(chunk);
  else end.held.push(chunk);
}

const memory: StreamTransport<End> = {
  kind: 'memory',
  attach(end, sink) {
    end.sink = sink;
  },
  detach(end) {
    end.sink = null;
  },
  setReading(end, on) {
    end.reading = on;
    end.readingSwitches++;
    if (on) later(() => {
      while (end.reading && end.held.length > 0) arrive(end, end.held.shift() as Buffer);
    });
  },
  write(end, chunk, inPass): WriteOutcome {
    const copy = Buffer.from(chunk);
    later(() => {
      if (end.peer !== null) arrive(end.peer, copy);
      // A write held for the pass is reported; one "taken at once" is not.
      if (inPass) end.sink?.written(null);
    });
    return inPass ? WRITE_PENDING : WRITE_DONE;
  },
  flushAfterPass() {},
  pendingOutput: () => 0,
  isOpen: (end) => end.open,
  shutdownOutput(end, report) {
    end.finSent = true;
    later(() => {
      end.peer?.sink?.ended();
      if (report) end.sink?.outputShut(true);
    });
  },
  shutdownInput(end) {
    end.reading = false;
  },
  destroy(end) {
    end.open = false;
    end.sink = null;
  },
  release(end) {
    end.sink = null;
    return new net.Socket();
  },
  localAddress: () => ({ address: '127.0.0.1', port: 1, family: 'IPv4' }),
  peerAddress: () => ({ address: '127.0.0.1', port: 2, family: 'IPv4' }),
  setNoDelay() {},
  setKeepAlive() {},
};

function pair(t: Parameters<typeof withCollection>[0]): [AsyncIoState, AsyncIoState, End, End] {
  const c = withCollection(t);
  const a = new End();
  const b = new End();
  a.peer = b;
  b.peer = a;
  return [createStateOnTransport(c, memory, a), createStateOnTransport(c, memory, b), a, b];
}

test('bytes written on one state are read on the other; the write completes with its count', async (t) => {
  const [left, right] = pair(t);
  const wrote = deferred<number>();
  asyncIoStateWriteBuffer(left, Buffer.from('ping'), (_s, _b, count) => wrote.resolve(count));
  const read = deferred<string>();
  const target = Buffer.alloc(4);
  asyncIoStateReadBuffer(right, target, (_s, buffer, count) => read.resolve(Buffer.from(buffer).toString('latin1', 0, count)));
  t.is(await wrote.promise, 4);
  t.is(await read.promise, 'ping');
  t.deepEqual(right.address, { address: '127.0.0.1', port: 1, family: 'IPv4' });
});

test('writes made inside a callback complete in order; FIN reads as eof; shutdown reports true', async (t) => {
  const [left, right] = pair(t);
  const order: number[] = [];
  const shut = deferred<true | string>();
  asyncIoStateWriteBuffer(left, Buffer.from('a'), () => {
    order.push(1);
    // Inside a callback: "in the pass", completed by the transport's report.
    asyncIoStateWriteBuffer(left, Buffer.from('b'), () => order.push(2));
  });
  const got = deferred<string>();
  const target = Buffer.alloc(2);
  asyncIoStateReadBuffer(right, target, (s, buffer, count) => got.resolve(`${Buffer.from(buffer).toString('latin1', 0, count)} ${String(s.readStatus)}`));
  t.is(await got.promise, 'ab null');
  t.deepEqual(order, [1, 2]);
  asyncIoStateShutdown(left, 'output', { callback: (_s, result) => shut.resolve(result) });
  t.is(await shut.promise, true);
  const eof = deferred<string>();
  asyncIoStateReadBuffer(right, Buffer.alloc(1), (s, _b, count) => eof.resolve(`${count} ${String(s.readStatus)}`));
  t.is(await eof.promise, '0 eof');
});

test('reading is off until a read starts; keep-alive close releases the handle', (t) => {
  const [left, , a] = pair(t);
  t.false(a.reading);
  t.is(a.readingSwitches, 0);
  asyncIoStateWaitForInput(left, () => {});
  t.true(a.reading);
  closeAsyncIoState(left, { keepAliveP: true });
  t.is(a.sink, null);
  t.true(a.open);
});
