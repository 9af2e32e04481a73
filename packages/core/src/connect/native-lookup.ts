/**
 * A native connect to a host name: the name is looked up first (as the Node
 * path does, `dns.lookup` with the same family), so for that while the
 * state has no native id. It sits on `LOOKUP_TRANSPORT`, which keeps what
 * the program asks of the connection (writes, reading, shutdowns, socket
 * options) and hands it all to the native connection once one of the
 * looked-up addresses accepted it.
 */
import dns from 'node:dns';
import net from 'node:net';
import type { NativeSocketSink } from '@commio/native';
import { WRITE_PENDING, type StreamSink, type StreamTransport, type WriteOutcome } from '../transports/stream-transport.js';
import type { NativeDriver } from '../transports/native-driver.js';

/** @internal What the program asked of a connection still being looked up and connected. */
export class PendingNativeConnection {
  sink: StreamSink | null = null;
  readonly writes: Uint8Array[] = [];
  pendingBytes = 0;
  reading = false;
  /** null: not asked; else whether the state wants the report. */
  shutOutput: boolean | null = null;
  inputShut = false;
  noDelay: boolean | null = null;
  keepAlive: [boolean, number] | null = null;
  /** Closed (or released) before it connected: the attempt stops and closes what it opened. */
  cancelled = false;
  /** Closes the connect attempt under way, if any. */
  abandon: (() => void) | null = null;
  /** Told once when the state is closed before it connected (the connect's timer stops). */
  onCancel: (() => void) | null = null;

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.sink = null;
    const abandon = this.abandon;
    this.abandon = null;
    abandon?.();
    this.onCancel?.();
  }
}

/** @internal The transport of a state whose native connect still looks its host up or connects. */
export const LOOKUP_TRANSPORT: StreamTransport<PendingNativeConnection> = {
  kind: 'native',
  attach(p, sink) {
    p.sink = sink;
  },
  detach(p) {
    p.sink = null;
  },
  setReading(p, on) {
    p.reading = on;
  },
  write(p, chunk): WriteOutcome {
    p.writes.push(chunk);
    p.pendingBytes += chunk.length;
    return WRITE_PENDING;
  },
  flushAfterPass() {},
  pendingOutput: (p) => p.pendingBytes,
  isOpen: (p) => !p.cancelled,
  shutdownOutput(p, report) {
    p.shutOutput = report;
  },
  shutdownInput(p) {
    p.inputShut = true;
  },
  destroy(p) {
    p.cancel();
  },
  release(p) {
    // Nothing is connected yet: the program gets a socket that never was.
    p.cancel();
    return new net.Socket();
  },
  localAddress: () => null,
  peerAddress: () => null,
  setNoDelay(p, on) {
    p.noDelay = on;
  },
  setKeepAlive(p, on, initialDelay) {
    p.keepAlive = [on, initialDelay];
  },
};

/** What a native connect by name needs of the caller. */
export interface LookupConnectPlan {
  readonly host: string;
  readonly port: number;
  /** 0: either family (as the Node path's default), 4 or 6. */
  readonly family: 0 | 4 | 6;
  readonly options: { noDelay: boolean; keepAlive: boolean; localAddress?: string; localPort?: number };
}

/**
 * Looks `plan.host` up and connects to its addresses in order until one
 * accepts; `connected(id)` then runs (the caller attaches the state), or
 * `failed(error)` with the lookup's error or the last address's. Stops,
 * closing what it opened, once `pending.cancelled`.
 */
export function lookupAndConnect(
  driver: NativeDriver,
  pending: PendingNativeConnection,
  plan: LookupConnectPlan,
  connected: (id: number) => void,
  failed: (error: Error) => void,
): void {
  dns.lookup(plan.host, { family: plan.family, all: true }, (error, addresses) => {
    if (pending.cancelled) return;
    if (error !== null) {
      failed(error);
      return;
    }
    tryAddress(driver, pending, plan, addresses, 0, connected, failed);
  });
}

function tryAddress(
  driver: NativeDriver,
  pending: PendingNativeConnection,
  plan: LookupConnectPlan,
  addresses: readonly dns.LookupAddress[],
  index: number,
  connected: (id: number) => void,
  failed: (error: Error) => void,
): void {
  const entry = addresses[index];
  if (entry === undefined) {
    failed(Object.assign(new Error(`getaddrinfo ENOTFOUND ${plan.host}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: plan.host }));
    return;
  }
  let id: number;
  try {
    id = driver.loop.connect(entry.address, plan.port, plan.options, attemptSink(() => settle(null), (e) => settle(e)));
  } catch (error) {
    failed(error as Error);
    return;
  }
  pending.abandon = () => driver.loop.close(id);
  const settle = (error: Error | null): void => {
    pending.abandon = null;
    if (pending.cancelled) return;
    if (error === null) {
      connected(id);
      return;
    }
    driver.loop.close(id);
    if (index + 1 < addresses.length) tryAddress(driver, pending, plan, addresses, index + 1, connected, failed);
    else failed(error);
  };
}

/** The sink of one connect attempt: only its outcome matters (nothing else happens before the state takes over). */
function attemptSink(onConnect: () => void, onError: (error: Error) => void): NativeSocketSink {
  return { onData() {}, onEnd() {}, onError, onWritten() {}, onConnect, onOutputShut() {} };
}

/** Hands what the program asked of `pending` to the native connection `id` the state is now attached to. */
export function replayPending(driver: NativeDriver, id: number, pending: PendingNativeConnection, sink: StreamSink): void {
  const transport = driver.transport;
  if (pending.noDelay !== null) transport.setNoDelay(id, pending.noDelay);
  if (pending.keepAlive !== null) transport.setKeepAlive(id, pending.keepAlive[0], pending.keepAlive[1]);
  for (const chunk of pending.writes) {
    // The state was told these writes are pending: one done at once is reported here.
    if (transport.write(id, chunk, false) !== WRITE_PENDING) sink.written(null);
  }
  if (pending.inputShut) transport.shutdownInput(id);
  else if (pending.reading) transport.setReading(id, true);
  if (pending.shutOutput !== null) transport.shutdownOutput(id, pending.shutOutput);
}
