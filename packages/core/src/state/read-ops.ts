/** The read operations a read side tells apart, and what it needs of its state. */
import type { StateShell } from './state-shell.js';

/** No read operation. */
export const READ_NONE = 0;
/** asyncIoStateReadBuffer. */
export const READ_BUFFER = 1;
/** asyncIoStateReadWithChecking. */
export const READ_CHECKING = 2;
/** asyncIoStateWaitForInput. */
export const READ_WAIT = 3;

/** What the read side needs of its state besides the shell: a switch for its transport's reading. */
export interface ReadOwner extends StateShell {
  /** Turns the transport's reading on or off; false when there is no transport to switch. */
  setReading(on: boolean): boolean;
}
