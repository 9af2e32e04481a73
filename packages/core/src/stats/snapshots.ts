/**
 * `acceptingHandleStats` and `waitStateCollectionStats`: plain snapshots of
 * the counters. Bytes of states still open are read from them now (one pass
 * over the open states, at snapshot time only).
 */
import { AcceptingHandle } from '../accept/accepting-handle.js';
import { WaitStateCollection } from '../collection/wait-state-collection.js';
import { AsyncIoState } from '../state/async-io-state.js';
import { invalid } from '../options/validate.js';
import { collectionCounters, type ConnectionStats } from './stats-counters.js';

export type { ClosedCounts, ConnectionStats } from './stats-counters.js';
export type { CloseReason } from './close-reason.js';

/**
 * A snapshot of what `handle` accepted: connections accepted, open now and
 * at most, closed by reason, bytes, TLS handshakes, PROXY headers refused,
 * accept errors and accepts held. Works on a closed handle too (its
 * connections live on and are still counted). Throws
 * `ERR_COMMIO_INVALID_ARGUMENT` for anything but an accepting handle.
 */
export function acceptingHandleStats(handle: AcceptingHandle): ConnectionStats {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  let read = 0;
  let written = 0;
  for (const state of handle.connections.states()) {
    read += state.bytesRead;
    written += state.bytesWritten;
  }
  const counters = handle.connections.counters;
  return counters.snapshot(counters.open, read, written);
}

/**
 * A snapshot of the states of `collection` (every kind: accepted,
 * connected, created, UDP), plus the accept events of its handles. Works
 * on a closed collection too. Throws `ERR_COMMIO_INVALID_ARGUMENT` for
 * anything but a collection.
 */
export function waitStateCollectionStats(collection: WaitStateCollection): ConnectionStats {
  if (!(collection instanceof WaitStateCollection)) invalid('collection', 'a WaitStateCollection', collection);
  let read = 0;
  let written = 0;
  for (const member of collection.members()) {
    if (member instanceof AsyncIoState) {
      read += member.bytesRead;
      written += member.bytesWritten;
    }
  }
  const counters = collectionCounters(collection);
  return counters.snapshot(counters.open, read, written);
}
