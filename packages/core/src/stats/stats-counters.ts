/**
 * The counters behind `acceptingHandleStats` and `waitStateCollectionStats`:
 * plain number fields, bumped where the event already happens (a state
 * opens or closes, a handshake ends, an accept is held). Nothing here runs
 * per message: bytes are counted on the state (two number fields) and
 * folded in when it closes.
 */
import type { CloseReason } from './close-reason.js';

/** Connections that closed, by why they closed. */
export interface ClosedCounts {
  /** The peer ended the connection (FIN, or closed during a TLS handshake). */
  eof: number;
  /** A read or write timed out (`readTimeout`, `writeTimeout`, `handshakeTimeout`). */
  timeout: number;
  /** The connection failed; by error code (`ECONNRESET`, `ERR_COMMIO_HANDSHAKE_FAILED`, ...). */
  error: Record<string, number>;
  /** A write would have taken the pending output past `maxQueuedOutput`. */
  outputOverflow: number;
  /** Unconsumed input went past `maxBufferedInput`. */
  bufferOverflow: number;
  /** Closed by `asyncIoStateAbortAndClose`, by closing the collection, or at a drain's timeout. */
  aborted: number;
  /** Closed by the program (`closeAsyncIoState`) with none of the above. */
  closed: number;
}

/**
 * A plain snapshot of the statistics of an accepting handle or a
 * collection (a new object per call; later events do not change it).
 */
export interface ConnectionStats {
  /** Connections accepted (states, or raw sockets with `createState: false`). */
  accepted: number;
  /** States made (accepted, connected, created, UDP). Handle: same as `accepted`. */
  opened: number;
  /** Open now. */
  open: number;
  /** Most open at once so far. */
  peakOpen: number;
  /** States closed, by reason (raw sockets are not counted here). */
  closed: ClosedCounts;
  /** Bytes the stream states received (plaintext under TLS), closed states and open ones as of now. */
  bytesRead: number;
  /** Bytes of completed writes of the stream states (plaintext under TLS), closed and open states. */
  bytesWritten: number;
  /** TLS handshakes that succeeded. */
  tlsHandshakes: number;
  /** TLS handshakes that failed or timed out. */
  tlsHandshakeFailures: number;
  /** Connections refused because of their PROXY protocol header. */
  proxyHeadersRefused: number;
  /** Accept errors reported by the listening sockets. */
  acceptErrors: number;
  /** Times accepting was held: at `maxConnections`, or for want of file descriptors. */
  acceptsPaused: {
    /** Times accepting paused because `maxConnections` connections were open. */
    maxConnections: number;
    /** Times accepting paused because the process ran out of file descriptors (once per episode). */
    descriptors: number;
  };
}

/** The running counters of one handle or collection. */
export class StatsCounters {
  accepted = 0;
  opened = 0;
  open = 0;
  peakOpen = 0;
  closedEof = 0;
  closedTimeout = 0;
  closedOutputOverflow = 0;
  closedBufferOverflow = 0;
  closedAborted = 0;
  closedByProgram = 0;
  /** Closes with an error, by code; made at the first one. */
  closedErrors: Map<string, number> | null = null;
  /** Bytes of states that closed (open states are added at snapshot time). */
  bytesRead = 0;
  bytesWritten = 0;
  tlsHandshakes = 0;
  tlsHandshakeFailures = 0;
  proxyHeadersRefused = 0;
  acceptErrors = 0;
  pausedByMaxConnections = 0;
  pausedByDescriptors = 0;

  /** A connection opened. */
  connectionOpened(): void {
    this.opened++;
    if (++this.open > this.peakOpen) this.peakOpen = this.open;
  }

  /** A state closed: count its reason and fold its bytes in. */
  stateClosed(reason: CloseReason, code: string | null, bytesRead: number, bytesWritten: number): void {
    this.open--;
    this.bytesRead += bytesRead;
    this.bytesWritten += bytesWritten;
    switch (reason) {
      case 'eof':
        this.closedEof++;
        return;
      case 'timeout':
        this.closedTimeout++;
        return;
      case 'outputOverflow':
        this.closedOutputOverflow++;
        return;
      case 'bufferOverflow':
        this.closedBufferOverflow++;
        return;
      case 'aborted':
        this.closedAborted++;
        return;
      case 'closed':
        this.closedByProgram++;
        return;
      case 'error': {
        const errors = (this.closedErrors ??= new Map<string, number>());
        const key = code ?? 'UNKNOWN';
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  }

  /** The plain snapshot, with `open` and the live states' bytes given by the caller. */
  snapshot(open: number, liveBytesRead: number, liveBytesWritten: number): ConnectionStats {
    return {
      accepted: this.accepted,
      opened: this.opened,
      open,
      peakOpen: this.peakOpen,
      closed: {
        eof: this.closedEof,
        timeout: this.closedTimeout,
        error: Object.fromEntries(this.closedErrors ?? []),
        outputOverflow: this.closedOutputOverflow,
        bufferOverflow: this.closedBufferOverflow,
        aborted: this.closedAborted,
        closed: this.closedByProgram,
      },
      bytesRead: this.bytesRead + liveBytesRead,
      bytesWritten: this.bytesWritten + liveBytesWritten,
      tlsHandshakes: this.tlsHandshakes,
      tlsHandshakeFailures: this.tlsHandshakeFailures,
      proxyHeadersRefused: this.proxyHeadersRefused,
      acceptErrors: this.acceptErrors,
      acceptsPaused: { maxConnections: this.pausedByMaxConnections, descriptors: this.pausedByDescriptors },
    };
  }
}

const ofCollection = new WeakMap<object, StatsCounters>();

/** The counters of a collection (made at its first state; one lookup per state, never per message). */
export function collectionCounters(collection: object): StatsCounters {
  let counters = ofCollection.get(collection);
  if (counters === undefined) {
    counters = new StatsCounters();
    ofCollection.set(collection, counters);
  }
  return counters;
}
