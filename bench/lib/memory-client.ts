/**
 * Client side of the memory / scale driver (forked by idle-memory.js, talks
 * over the IPC channel). Opens its share of connections, spread over several
 * 127.0.0.x source addresses (each has its own ephemeral port range), with a
 * bounded number of connects in flight; then, on request, sends one 64-byte
 * message on every connection and checks the echo; then closes everything.
 * Loopback only.
 */
import net from 'node:net';

/** Requests the driver sends to a client process. */
export type ClientRequest =
  | { cmd: 'open'; ports: number[]; count: number; firstSource: number; sources: number; inFlight: number }
  | { cmd: 'echo' }
  | { cmd: 'close' };

/** Replies of a client process. */
export type ClientReply =
  | { type: 'opened'; ok: number; failed: number; firstError: string | null; ms: number }
  | { type: 'echoed'; ok: number; bad: number; ms: number };

const MESSAGE_BYTES = 64;
const sockets: net.Socket[] = [];

function reply(message: ClientReply): void {
  process.send?.(message);
}

function open(request: Extract<ClientRequest, { cmd: 'open' }>): void {
  const started = performance.now();
  let next = 0;
  let active = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const launch = (): void => {
    while (active < request.inFlight && next < request.count) {
      const i = next++;
      active++;
      const socket = net.connect({
        host: '127.0.0.1',
        port: request.ports[i % request.ports.length] as number,
        localAddress: `127.0.0.${request.firstSource + (i % request.sources)}`,
        noDelay: true,
      });
      let settled = false;
      socket.once('connect', () => {
        settled = true;
        ok++;
        sockets.push(socket);
        done();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        failed++;
        firstError ??= error.code ?? error.message;
        socket.destroy();
        done();
      });
    }
  };
  const done = (): void => {
    active--;
    if (next < request.count) launch();
    else if (active === 0) reply({ type: 'opened', ok, failed, firstError, ms: performance.now() - started });
  };
  if (request.count === 0) reply({ type: 'opened', ok: 0, failed: 0, firstError: null, ms: 0 });
  else launch();
}

function echo(): void {
  const started = performance.now();
  let pending = sockets.length;
  let ok = 0;
  let bad = 0;
  if (pending === 0) {
    reply({ type: 'echoed', ok, bad, ms: 0 });
    return;
  }
  sockets.forEach((socket, i) => {
    const message = Buffer.alloc(MESSAGE_BYTES, i % 251);
    const chunks: Buffer[] = [];
    let have = 0;
    const finish = (good: boolean): void => {
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      if (good) ok++;
      else bad++;
      if (--pending === 0) reply({ type: 'echoed', ok, bad, ms: performance.now() - started });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= MESSAGE_BYTES) finish(have === MESSAGE_BYTES && Buffer.concat(chunks).equals(message));
    };
    const onClose = (): void => finish(false);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(message);
  });
}

/** Runs a memory client until the driver says close (or disconnects). */
export function runMemoryClient(): void {
  if (process.send === undefined) throw new Error('the memory client runs under idle-memory.js (IPC channel)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: ClientRequest) => {
    switch (request.cmd) {
      case 'open':
        open(request);
        return;
      case 'echo':
        echo();
        return;
      case 'close':
        for (const socket of sockets) socket.destroy();
        process.exit(0);
    }
  });
}
