/**
 * The faulty-callback scenario, shared by the in-process tests and the child
 * process that runs it with `handler: null` (where a throw becomes an
 * uncaught exception): a server and clients on one collection whose
 * connection function, read, write, connect, abort, shutdown and
 * applyIn callbacks throw now and then. Every throw happens after the
 * callback did its work, so every exchange must still complete.
 */
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  applyInWaitStateCollectionProcess,
  asyncIoStateAbort,
  asyncIoStateDiscard,
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAcceptingHandle,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  createAsyncIoStateAndConnectedTcpSocket,
  waitStateCollectionStopLoop,
  type AsyncIoState,
  type Handler,
} from '@commio/core';
import { testTransport } from './fixtures.js';

/** What the scenario saw. */
export interface FaultyOutcome {
  /** Echo round trips completed by the commio clients. */
  roundTrips: number;
  /** Round trips expected. */
  expected: number;
  /** Throws made by the callbacks, by where they were thrown. */
  thrown: Record<string, number>;
  /** States left open when the scenario ended (must be 0 after cleanup). */
  openAfter: number;
}

const CLIENTS = 6;
const ROUNDS = 10;
const SIZE = 32;

/** A message of round `round` of client `client`; some carry a marker making a callback throw. */
function message(client: number, round: number): Buffer {
  const m = Buffer.alloc(SIZE, 0x61 + client);
  if (round % 3 === 1) m.write('R!', 0); // the server's read callback throws after echoing
  if (round % 4 === 2) m.write('W!', 2); // the server's write callback throws
  return m;
}

/** An error thrown on purpose, named after where. */
export class Planted extends Error {
  constructor(readonly where: string) {
    super(`planted in ${where}`);
  }
}

/**
 * Runs the scenario on a new collection with `handler`; resolves when every
 * client finished (or rejects after `timeoutMs`).
 */
export async function runFaultyScenario(handler: Handler, timeoutMs = 20_000): Promise<FaultyOutcome> {
  const collection = createAndRunWaitStateCollection('faulty', { handler, withBacktrace: 'quick' });
  const thrown: Record<string, number> = {};
  const plant = (where: string): never => {
    thrown[where] = (thrown[where] ?? 0) + 1;
    throw new Planted(where);
  };
  const states = new Set<AsyncIoState>();
  let accepted = 0;

  const onServerWritten = (_s: AsyncIoState, buffer: Uint8Array): void => {
    if (buffer[2] === 0x57 && buffer[3] === 0x21) plant('write callback');
  };
  const onServerChunk = (s: AsyncIoState, view: Buffer, end: number): void => {
    if (s.readStatus !== null) {
      // The peer is done: half-close (its callback throws), then close.
      asyncIoStateShutdown(s, 'output', {
        callback: (state) => {
          closeAsyncIoState(state);
          plant('shutdown callback');
        },
      });
      return;
    }
    let at = 0;
    while (end - at >= SIZE) {
      const m = Buffer.from(view.subarray(at, at + SIZE));
      asyncIoStateWriteBuffer(s, m, onServerWritten);
      at += SIZE;
    }
    asyncIoStateDiscard(s, at);
    if (at > 0 && view[at - SIZE] === 0x52 && view[at - SIZE + 1] === 0x21) plant('read callback');
  };

  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    collection,
    0,
    (_h, connection) => {
      const s = connection as AsyncIoState;
      states.add(s);
      asyncIoStateReadWithChecking(s, onServerChunk);
      if (++accepted % 2 === 0) plant('connection function');
    },
    { address: '127.0.0.1', initTimeout: 0, queueOutput: true, transport: testTransport },
  );

  applyInWaitStateCollectionProcess(collection, () => plant('applyIn function'));

  let completed = 0;
  const clientsDone = Array.from(
    { length: CLIENTS },
    (_, client) =>
      new Promise<void>((resolve, reject) => {
        let round = 0;
        const reply = Buffer.alloc(SIZE);
        const next = (s: AsyncIoState): void => {
          if (round === ROUNDS) {
            // An abort whose callback throws, then the end of this client.
            asyncIoStateAbort(s, (state: AsyncIoState) => {
              closeAsyncIoState(state);
              resolve();
              plant('abort callback');
            });
            return;
          }
          const m = message(client, round);
          asyncIoStateWriteBuffer(s, m, () => {});
          asyncIoStateReadBuffer(s, reply, (state, buffer, count) => {
            if (count !== SIZE || !Buffer.from(buffer).equals(m)) {
              reject(new Error(`client ${client} round ${round}: bad echo (${count} bytes, status ${String(state.readStatus)})`));
              return;
            }
            completed++;
            round++;
            next(state);
            if (round % 5 === 0) plant('client read callback');
          });
        };
        createAsyncIoStateAndConnectedTcpSocket(collection, '127.0.0.1', handle.localPort, (s, failure) => {
          if (failure !== null) {
            reject(failure);
            return;
          }
          states.add(s);
          next(s);
          plant('connect callback');
        }, { transport: testTransport });
      }),
  );

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the scenario did not finish in ${timeoutMs} ms (${completed} round trips)`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.all(clientsDone), timeout]);
  } finally {
    clearTimeout(timer);
    closeAcceptingHandle(handle);
  }
  // The servers' states close after the clients' FIN reaches them.
  const deadline = Date.now() + 5000;
  while ([...states].some((s) => !s.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const openAfter = [...states].filter((s) => !s.closed).length;
  waitStateCollectionStopLoop(collection);
  return { roundTrips: completed, expected: CLIENTS * ROUNDS, thrown, openAfter };
}
