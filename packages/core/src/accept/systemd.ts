/**
 * systemd socket activation: the listening sockets a service manager passed
 * to this process (`LISTEN_FDS` descriptors from 3 on, for the process named
 * by `LISTEN_PID`, named by `LISTEN_FDNAMES`), as `{ fd }` services that
 * acceptTcpConnectionsCreatingAsyncIoStates adopts. The environment is only
 * read, never changed.
 */
import { InvalidArgumentError } from '../errors.js';
import { invalid } from '../options/validate.js';

/** A descriptor passed by the service manager: give it as the `service` to adopt it. */
export interface InheritedSocket {
  /** The descriptor number (3, 4, ...). */
  readonly fd: number;
  /** Its name from `LISTEN_FDNAMES` (`FileDescriptorName=`), `'unknown'` when not named. */
  readonly name: string;
}

/** The first descriptor passed (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

/**
 * The sockets passed to this process by socket activation, in order; empty
 * when there are none or they were meant for another process (`LISTEN_PID`
 * is not this process's id).
 */
export function systemdListenFds(): InheritedSocket[] {
  const env = process.env;
  if (env['LISTEN_PID'] === undefined || Number(env['LISTEN_PID']) !== process.pid) return [];
  const count = Number(env['LISTEN_FDS']);
  if (!Number.isInteger(count) || count < 1) return [];
  const names = (env['LISTEN_FDNAMES'] ?? '').split(':');
  const sockets: InheritedSocket[] = [];
  for (let i = 0; i < count; i++) {
    const name = names[i];
    sockets.push({ fd: FIRST_FD + i, name: name === undefined || name === '' ? 'unknown' : name });
  }
  return sockets;
}

/**
 * One socket passed by socket activation: by position (0 = the first, fd 3)
 * or by name (`LISTEN_FDNAMES`). Throws `ERR_COMMIO_INVALID_ARGUMENT` naming
 * `which` when no such socket was passed to this process.
 */
export function systemdListenFd(which: number | string): InheritedSocket {
  if (typeof which !== 'number' && typeof which !== 'string') invalid('which', 'a position or a name', which);
  const sockets = systemdListenFds();
  const found = typeof which === 'number' ? sockets[which] : sockets.find((s) => s.name === which);
  if (found === undefined) {
    const passed = sockets.length === 0 ? 'none was passed to this process' : `passed: ${sockets.map((s) => `${s.name} (fd ${s.fd})`).join(', ')}`;
    throw new InvalidArgumentError('which', `names no socket passed by socket activation (${passed}), got ${JSON.stringify(which)}`);
  }
  return found;
}
