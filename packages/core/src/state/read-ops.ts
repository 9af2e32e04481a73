/** The read operations a read side tells apart. */

/** No read operation. */
export const READ_NONE = 0;
/** asyncIoStateReadBuffer. */
export const READ_BUFFER = 1;
/** asyncIoStateReadWithChecking. */
export const READ_CHECKING = 2;
/** asyncIoStateWaitForInput. */
export const READ_WAIT = 3;
