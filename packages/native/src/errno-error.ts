/** Turns the addon's `-errno` results into errors shaped like Node's own socket errors. */
import { getSystemErrorName } from 'node:util';

/** A Node-style system error (`code` like `ECONNRESET`, `errno` negative, `syscall`) for a positive errno. */
export function errnoError(errno: number, syscall: string): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(-Math.abs(errno));
  } catch {
    code = `E${Math.abs(errno)}`;
  }
  const error: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  error.code = code;
  error.errno = -Math.abs(errno);
  error.syscall = syscall;
  return error;
}
