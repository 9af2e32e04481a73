/** Helpers for the accept tests: an echo connection function, log capture, port probes, open-server counts. */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { createRequire } from 'node:module';
import { format } from 'node:util';
import {
  AsyncIoState,
  asyncIoStateReadWithChecking,
  asyncIoStateDiscard,
  asyncIoStateFinish,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  type AcceptingHandle,
} from '@commio/core';

/** Echoes every byte back until EOF, then closes the state. Accept with `queueOutput: true`. */
export function echo(_handle: AcceptingHandle, connection: AsyncIoState | net.Socket): void {
  if (!(connection instanceof AsyncIoState)) return;
  asyncIoStateReadWithChecking(connection, (state, buffer, end) => {
    if (end > 0) {
      const copy = Buffer.from(buffer.subarray(0, end));
      asyncIoStateDiscard(state, end);
      asyncIoStateWriteBuffer(state, copy, () => {});
    }
    if (state.readStatus !== null) {
      asyncIoStateFinish(state);
      closeAsyncIoState(state);
    }
  });
}

/** Sends `text` on a raw client and resolves with the echoed bytes once `text.length` came back. */
export function roundTrip(socket: net.Socket, text: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString('latin1');
      if (got.length >= text.length) {
        cleanup();
        resolve(got);
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`connection ended after ${JSON.stringify(got)}`));
    };
    const cleanup = (): void => {
      socket.removeListener('data', onData);
      socket.removeListener('close', onEnd);
    };
    socket.on('data', onData);
    socket.once('close', onEnd);
    socket.write(text);
  });
}

/** Connects a raw client (errors ignored); resolves once connected. The caller destroys it. */
export function connectClient(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves true when `port` on `host` can be bound now (and frees it again at once). */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The kernel's view of the listening socket(s) on `port` (from `ss`):
 * `waiting` connections established and not yet accepted, and the
 * `backlog`. `null` when `ss` is not available here.
 */
export function listenQueue(port: number): { waiting: number; backlog: number }[] | null {
  let text: string;
  try {
    text = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  return text
    .split('\n')
    .filter((line) => line.startsWith('LISTEN'))
    .map((line) => {
      const [, recvQ, sendQ] = line.trim().split(/\s+/);
      return { waiting: Number(recvQ), backlog: Number(sendQ) };
    });
}

/** Listening servers open in this process now. */
export function listeningServers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;
}

/** The `debug` module @commio/core logs through (the same instance). */
function debugModule(): { enable(namespaces: string): void; disable(): string; log: (...args: unknown[]) => void } {
  const require = createRequire(import.meta.resolve('@commio/core'));
  return require('debug') as { enable(namespaces: string): void; disable(): string; log: (...args: unknown[]) => void };
}

/** Captured `commio:accept` log lines; `waitFor` resolves when a line matches. Run such tests serially. */
export interface LogCapture {
  readonly lines: string[];
  waitFor(pattern: RegExp): Promise<string>;
  stop(): void;
}

/** Starts capturing the lines logged to `namespaces` (e.g. `commio:accept`). */
export function captureLog(namespaces: string): LogCapture {
  const debug = debugModule();
  const previousLog = debug.log;
  const previous = debug.disable();
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  debug.log = (...args: unknown[]): void => {
    const line = format(...args);
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  debug.enable(namespaces);
  return {
    lines,
    waitFor(pattern) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve) => waiters.push({ pattern, resolve }));
    },
    stop() {
      debug.log = previousLog;
      debug.disable();
      if (previous !== '') debug.enable(previous);
    },
  };
}
