/**
 * The statistics hooks of a state: called once when it is made, once when
 * it closes, and at the end of each TLS handshake. A state carries its own
 * byte counts; its (accepted) handle's counters are reached through its
 * close observer, and its collection's are looked up (once per open, close
 * or handshake, never per message: an idle state is two words smaller).
 */
import type { IoStatus } from '../state/status.js';
import { handshakeFailureChannel, stateCloseChannel, stateOpenChannel } from './channels.js';
import { closeReasonOf } from './close-reason.js';
import { collectionCounters, type StatsCounters } from './stats-counters.js';

/** What the hooks read and bump on a state (the AsyncIoState has these fields). */
export interface CountedState {
  readonly collection: object;
  readonly readStatus: IoStatus;
  readonly writeStatus: IoStatus;
  /** Bytes received so far (plaintext under TLS). */
  bytesRead: number;
  /** Bytes of completed writes so far. */
  bytesWritten: number;
  /** The collection's counters. */
  readonly collectionCounters: StatsCounters | null;
  /** The accepting handle's counters, for an accepted state. */
  readonly handleCounters: StatsCounters | null;
  /** Closed by an abort, a collection close or a drain's timeout. */
  closeAborted: boolean;
}

/** A state was made in its collection. */
export function stateOpened(state: CountedState): void {
  collectionCounters(state.collection).connectionOpened();
  if (stateOpenChannel.hasSubscribers) stateOpenChannel.publish({ state });
}

/** A state closed (`inputEnded`: its read side saw the end of input). */
export function stateClosed(state: CountedState, inputEnded: boolean): void {
  const { reason, code } = closeReasonOf(state.readStatus, state.writeStatus, inputEnded, state.closeAborted);
  state.collectionCounters?.stateClosed(reason, code, state.bytesRead, state.bytesWritten);
  state.handleCounters?.stateClosed(reason, code, state.bytesRead, state.bytesWritten);
  if (stateCloseChannel.hasSubscribers) {
    stateCloseChannel.publish({ state, reason, code, bytesRead: state.bytesRead, bytesWritten: state.bytesWritten });
  }
}

/** A TLS handshake of `state` ended: `failure` null when it succeeded. */
export function handshakeEnded(state: CountedState, failure: Error | null): void {
  const handle = state.handleCounters;
  const collection = state.collectionCounters;
  if (failure === null) {
    if (handle !== null) handle.tlsHandshakes++;
    if (collection !== null) collection.tlsHandshakes++;
    return;
  }
  if (handle !== null) handle.tlsHandshakeFailures++;
  if (collection !== null) collection.tlsHandshakeFailures++;
  if (handshakeFailureChannel.hasSubscribers) handshakeFailureChannel.publish({ state, error: failure });
}
