/**
 * The read operations a read side tells apart, what it needs of its state,
 * and the hooks through which the UDP module holds the operation slot.
 */
import type { AnyCallback, StateShell } from './state-shell.js';

/** No read operation. */
export const READ_NONE = 0;
/** asyncIoStateReadBuffer. */
export const READ_BUFFER = 1;
/** asyncIoStateReadWithChecking. */
export const READ_CHECKING = 2;
/** asyncIoStateWaitForInput. */
export const READ_WAIT = 3;
/** asyncIoStateReceiveMessage (UDP). */
export const READ_RECEIVE = 4;

/** What the read side needs of its state besides the shell: a switch for its transport's reading. */
export interface ReadOwner extends StateShell {
  /** Turns the transport's reading on or off; false when there is no transport to switch. */
  setReading(on: boolean): boolean;
}

/** The UDP module's hooks for the READ_RECEIVE operation. */
export interface ExternalRead {
  /** The read timer fired (status 'timeout') or an error settled the read side. */
  settle(): void;
  /** The operation was aborted (already ended here): queue `abortCallback` (null: silent). */
  abort(abortCallback: AnyCallback | null): void;
}
