/**
 * The small flags and counters of a state, packed into one small-integer
 * field (`bits`) shared by its layers (shell, read-with-checking, read
 * side): an idle state is a few words smaller than with one field each.
 * Every value stays below 2^30, so the field is always a small integer.
 */

/** The state is closed. */
export const CLOSED = 2;
/** Overlapping writes queue (the `queueOutput` setting). */
export const QUEUE_OUTPUT = 4;
/** Closed by an abort, the collection's close or a drain's timeout (statistics). */
export const CLOSE_ABORTED = 8;
/** Read-with-checking shows `Int8Array` views. */
export const SIGNED = 16;
/** The peer's FIN was seen (or input shut down). */
export const ENDED = 32;
/** Input was shut down: no more bytes are read. */
export const INPUT_SHUT = 64;
/** The transport's reading is off. */
export const PAUSED = 128;
/** A read-with-checking delivery of the current generation is queued. */
export const DELIVERY_QUEUED = 256;
/** The callback of the current read-with-checking operation runs now. */
export const DELIVERY_RUNNING = 512;
/** A read-with-checking callback (or its abort callback) runs: discard and finish are allowed. */
export const IN_VIEW_CALLBACK = 1024;
/** The active read operation (READ_* of read-ops.ts) sits in these two bits. */
export const OP_SHIFT = 11;
/** Mask of the read operation bits. */
export const OP_MASK = 3 << OP_SHIFT;
/** The slot of the state's stream transport (transport-slots.ts) sits in these three bits. */
export const TRANSPORT_SHIFT = 13;
/** Mask of the transport slot bits. */
export const TRANSPORT_MASK = 7 << TRANSPORT_SHIFT;
/** One level of the state's callback depth (bits 16 to 29). */
export const DEPTH_UNIT = 1 << 16;
/** Mask of the callback depth bits. */
export const DEPTH_MASK = 0x3fff << 16;

/** The bits of a new state: reading off until a read operation wants bytes. */
export const NEW_STATE_BITS = PAUSED;
