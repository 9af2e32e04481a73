/** Defaults shared by every function that creates states. Units are in the names. */

/** Bytes of writes not yet completed that a state accepts before refusing more (16 MiB). */
export const DEFAULT_MAX_QUEUED_OUTPUT = 16 * 1024 * 1024;

/** Bytes received and not yet consumed that a state holds before failing the read (16 MiB). */
export const DEFAULT_MAX_BUFFERED_INPUT = 16 * 1024 * 1024;

/** UDP: datagrams a state holds for its next receive before dropping the oldest. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 1024;

/** Most new bytes handed to one read-with-checking callback (64 KiB). */
export const DEFAULT_MAX_READ = 65536;

/**
 * Bytes a state reads ahead while no read operation is active before it stops
 * reading from the socket (so the kernel applies backpressure).
 */
export const READ_AHEAD_BYTES = 65536;
