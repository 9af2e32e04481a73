/** Pairs of commio states connected over loopback TCP: a plain commio server and a commio client. */
import type { ExecutionContext } from 'ava';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  closeAcceptingHandle,
  closeAsyncIoState,
  createAsyncIoStateAndConnectedTcpSocket,
  type AsyncIoState,
  type WaitStateCollection,
} from '@commio/core';
import { deferred, testTransport, withCollection } from './fixtures.js';

/** A plain accept on 127.0.0.1 (on `transport`: by default the one under test) whose states are handed to the returned queue. */
export async function plainServer(
  t: ExecutionContext,
  c: WaitStateCollection,
  transport: 'node' | 'native' = testTransport,
): Promise<{ port: number; next: () => Promise<AsyncIoState> }> {
  const waiting: ((s: AsyncIoState) => void)[] = [];
  const arrived: AsyncIoState[] = [];
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, s) => {
      const state = s as AsyncIoState;
      t.teardown(() => closeAsyncIoState(state));
      const waiter = waiting.shift();
      if (waiter) waiter(state);
      else arrived.push(state);
    },
    { address: '127.0.0.1', transport },
  );
  t.teardown(() => closeAcceptingHandle(handle));
  return {
    port: handle.localPort,
    next: () => {
      const ready = arrived.shift();
      return ready !== undefined ? Promise.resolve(ready) : new Promise<AsyncIoState>((resolve) => waiting.push(resolve));
    },
  };
}

/** A commio client state connected to a commio server state, both plain (on `transport`: by default the one under test), in a fresh collection. */
export async function statePairOverTcp(
  t: ExecutionContext,
  transport: 'node' | 'native' = testTransport,
): Promise<{ c: WaitStateCollection; client: AsyncIoState; srv: AsyncIoState }> {
  const c = withCollection(t);
  const server = await plainServer(t, c, transport);
  const connected = deferred<AsyncIoState>();
  const client = createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', server.port, (s, f) => (f === null ? connected.resolve(s) : connected.reject(f)), { transport });
  t.teardown(() => closeAsyncIoState(client));
  await connected.promise;
  return { c, client, srv: await server.next() };
}
