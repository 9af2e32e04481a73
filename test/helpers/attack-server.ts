/**
 * The server the attack tests aim at: a commio echo server written the way a
 * careful user would write one (read-with-checking, queued writes, reading
 * paused while too much output is pending, half-close honoured), recording
 * how each of its states ended.
 */
import type net from 'node:net';
import type { ExecutionContext } from 'ava';
import {
  asyncIoStateReadWithChecking,
  asyncIoStateWriteBuffer,
  asyncIoStateDiscard,
  asyncIoStateFinish,
  asyncIoStateShutdown,
  closeAsyncIoState,
  closeAcceptingHandle,
  type AcceptOptions,
  type AcceptingHandle,
  type AsyncIoState,
  type IoStatus,
  type WaitStateCollection,
} from '@commio/core';
import { acceptOnTestTransport } from './fixtures.js';

/** How one state of the server ended. */
export interface Ending {
  /** Read status when the server closed the state. */
  readStatus: IoStatus;
  /** Write status when the server closed the state. */
  writeStatus: IoStatus;
  /** Milliseconds from hand-over to close. */
  lifetimeMs: number;
}

/** Per-state bookkeeping, kept in `state.userInfo`. */
interface Book {
  opened: number;
  /** Reading was finished because too much output is pending. */
  held: boolean;
  /** The read side reached a final status; output is being flushed. */
  ending: boolean;
}

/** A running echo server and what it has seen. */
export interface EchoServer {
  handle: AcceptingHandle;
  port: number;
  /** States handed over and not yet closed. */
  open: Set<AsyncIoState>;
  /** Every state the server closed, in order. */
  endings: Ending[];
  /** States handed over so far. */
  accepted: () => number;
  /** Resolves once `n` states have ended. */
  whenEnded: (n: number) => Promise<void>;
  /** Resolves once `n` states have been handed over. */
  whenAccepted: (n: number) => Promise<void>;
}

/** Output above which the echo stops reading until the peer catches up. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/** Options of the echo server (accept options, plus what the echo does). */
export interface EchoOptions extends AcceptOptions {
  /** Send this many bytes first, to each peer, before echoing (a "banner"). */
  greeting?: Uint8Array;
  /** Called with each new state before the echo starts on it. */
  onAccept?: (state: AsyncIoState) => void;
  /** Keep every ending in `endings` (false: only count them, for long runs). @default true */
  keepEndings?: boolean;
}

function book(state: AsyncIoState): Book {
  return state.userInfo as Book;
}

/**
 * Starts an echo server on 127.0.0.1, port 0, closed when the test ends
 * (with every state it still has). Plain TCP runs on the transport under
 * test (`COMMIO_TEST_TRANSPORT`); TLS (`sslCtx`) always on the Node one.
 */
export async function startEchoServer(t: Pick<ExecutionContext, 'teardown'>, collection: WaitStateCollection, options: EchoOptions = {}): Promise<EchoServer> {
  const { greeting, onAccept, keepEndings = true, ...acceptOptions } = options;
  const open = new Set<AsyncIoState>();
  const endings: Ending[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const acceptWaiters: { n: number; resolve: () => void }[] = [];
  let accepted = 0;
  let ended = 0;

  const finishState = (s: AsyncIoState): void => {
    if (s.closed) return;
    if (keepEndings) endings.push({ readStatus: s.readStatus, writeStatus: s.writeStatus, lifetimeMs: performance.now() - book(s).opened });
    ended++;
    open.delete(s);
    closeAsyncIoState(s);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (ended >= w.n) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  const onWritten = (s: AsyncIoState): void => {
    if (s.writeStatus instanceof Error) {
      finishState(s);
      return;
    }
    const b = book(s);
    if (b.held && !b.ending && s.queuedOutputLength <= LOW_WATER) {
      b.held = false;
      read(s);
    }
  };

  const onChunk = (s: AsyncIoState, view: Buffer, end: number): void => {
    const b = book(s);
    const status = s.readStatus;
    if (end > 0 && !(status instanceof Error) && !(s.writeStatus instanceof Error)) {
      // commio never writes into a view it handed out: it can be written out as is.
      asyncIoStateWriteBuffer(s, view, onWritten, { end });
      asyncIoStateDiscard(s, end);
    }
    if (status === 'eof' && !(s.writeStatus instanceof Error)) {
      // Half-close: echo what is left, then FIN, then close.
      b.ending = true;
      asyncIoStateShutdown(s, 'output', { callback: finishState });
      return;
    }
    if (status !== null || s.writeStatus instanceof Error) {
      finishState(s);
      return;
    }
    if (s.queuedOutputLength > HIGH_WATER) {
      b.held = true;
      asyncIoStateFinish(s);
    }
  };

  const read = (s: AsyncIoState): void => {
    asyncIoStateReadWithChecking(s, onChunk);
  };

  const handle = await acceptOnTestTransport(
    collection,
    0,
    (_handle, connection) => {
      const s = connection as AsyncIoState;
      accepted++;
      s.userInfo = { opened: performance.now(), held: false, ending: false } satisfies Book;
      open.add(s);
      onAccept?.(s);
      for (let i = acceptWaiters.length - 1; i >= 0; i--) {
        const w = acceptWaiters[i]!;
        if (accepted >= w.n) {
          acceptWaiters.splice(i, 1);
          w.resolve();
        }
      }
      if (greeting !== undefined) asyncIoStateWriteBuffer(s, greeting, onWritten);
      read(s);
    },
    // The native transport is plain TCP only.
    { address: '127.0.0.1', queueOutput: true, initTimeout: 0, ...(acceptOptions.sslCtx === undefined ? {} : { transport: 'node' as const }), ...acceptOptions },
  );
  t.teardown(() => {
    closeAcceptingHandle(handle);
    for (const s of open) closeAsyncIoState(s);
  });
  return {
    handle,
    port: handle.localPort,
    open,
    endings,
    accepted: () => accepted,
    whenEnded: (n) =>
      ended >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push({ n, resolve });
          }),
    whenAccepted: (n) =>
      accepted >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            acceptWaiters.push({ n, resolve });
          }),
  };
}

/** The `code` of a status that is an error, else the status itself. */
export function statusName(status: IoStatus): string {
  if (status instanceof Error) return (status as NodeJS.ErrnoException).code ?? status.name;
  return status === null ? 'null' : status;
}

/** Counts the endings by `read/write` status names, e.g. `{ 'timeout/null': 500 }`. */
export function tally(endings: readonly Ending[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of endings) {
    const key = `${statusName(e.readStatus)}/${statusName(e.writeStatus)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Resolves when the server has hung up on a raw socket: FIN ('end') or close. */
export function hungUp(socket: net.Socket): Promise<void> {
  if (socket.closed || socket.readableEnded) return Promise.resolve();
  return new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
    // Reading is what lets 'end' be seen.
    socket.resume();
  });
}
