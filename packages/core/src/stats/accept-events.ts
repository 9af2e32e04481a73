/**
 * The statistics hooks of an accepting handle: connections accepted,
 * PROXY headers refused, accept errors and accepts held. Each bumps the
 * handle's counters and its collection's (both kept on the handle's
 * open-connection set, so nothing is looked up).
 */
import { acceptErrorChannel } from './channels.js';
import type { StatsCounters } from './stats-counters.js';

/** Where a handle keeps its counters (its OpenConnections). */
export interface HandleCounters {
  /** The handle's counters. */
  readonly counters: StatsCounters;
  /** Its collection's counters. */
  readonly collectionCounters: StatsCounters;
}

/** What the hooks that publish need of a handle. */
export interface CountedHandle {
  readonly connections: HandleCounters;
}

/** An accepted connection became the handle's (a state, or a raw socket). */
export function connectionAccepted(connections: HandleCounters): void {
  connections.counters.accepted++;
  connections.counters.connectionOpened();
  connections.collectionCounters.accepted++;
}

/** An accepted connection was refused for its PROXY header. */
export function proxyHeaderRefused(handle: CountedHandle, error: Error): void {
  handle.connections.counters.proxyHeadersRefused++;
  handle.connections.collectionCounters.proxyHeadersRefused++;
  if (acceptErrorChannel.hasSubscribers) acceptErrorChannel.publish({ handle, error });
}

/** A listening socket of the handle reported an accept error. */
export function acceptFailed(handle: CountedHandle, error: Error): void {
  handle.connections.counters.acceptErrors++;
  handle.connections.collectionCounters.acceptErrors++;
  if (acceptErrorChannel.hasSubscribers) acceptErrorChannel.publish({ handle, error });
}

/** The handle stopped accepting: at `maxConnections`, or for want of descriptors. */
export function acceptsPaused(connections: HandleCounters, why: 'maxConnections' | 'descriptors'): void {
  const { counters, collectionCounters } = connections;
  if (why === 'maxConnections') {
    counters.pausedByMaxConnections++;
    collectionCounters.pausedByMaxConnections++;
  } else {
    counters.pausedByDescriptors++;
    collectionCounters.pausedByDescriptors++;
  }
}
