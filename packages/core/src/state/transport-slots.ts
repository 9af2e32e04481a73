/**
 * The stream transports states are attached to, numbered, so that a state
 * keeps its transport as three bits of its bit field (state-bits.ts) rather
 * than a field of its own. Slot 0 is "none", slot 1 Node's transport; the
 * first other transports seen (the native one, a test's) take the next
 * slots for the life of the process; past them a state keeps its transport
 * in its rare fields (TRANSPORT_IN_RARE).
 */
import type { StreamTransport } from '../transports/stream-transport.js';
import { nodeStreamTransport } from '../transports/node-stream-transport.js';

/** The slot that says "the transport is in the state's rare fields". */
export const TRANSPORT_IN_RARE = 7;

const slots: (StreamTransport | null)[] = [null, nodeStreamTransport];

/** The slot of `transport` (0 for null), taking a free one if it has none; TRANSPORT_IN_RARE when none is free. */
export function transportSlot(transport: StreamTransport | null): number {
  const slot = slots.indexOf(transport);
  if (slot >= 0) return slot;
  if (slots.length === TRANSPORT_IN_RARE) return TRANSPORT_IN_RARE;
  slots.push(transport);
  return slots.length - 1;
}

/** The transport in `slot` (below TRANSPORT_IN_RARE). */
export function transportInSlot(slot: number): StreamTransport | null {
  return slots[slot] ?? null;
}
