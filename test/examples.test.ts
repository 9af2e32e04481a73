/**
 * Smoke tests of the examples, each run as a real child process from its
 * TypeScript source (see helpers/example-process.ts). Servers get port 0 and
 * print the port they got.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { rawClient, rawServer, refusingTcpPort } from './helpers/fixtures.js';
import { checkReadmeShows, runExample, type Example } from './helpers/example-process.js';

checkNoLeaksAfterAll(test);

/** Starts a server example on port 0 and resolves with it and the port it printed. */
async function startServer(t: ExecutionContext, file: string, args: string[] = []): Promise<{ server: Example; port: number }> {
  const server = runExample(t, file, ['0', ...args]);
  const match = await server.waitForOutput(/listening on \S+:(\d+)/);
  return { server, port: Number(match[1]) };
}

/** Reads a raw socket line by line. */
class Lines {
  readonly #lines: string[] = [];
  readonly #waiters: (() => void)[] = [];
  #partial = '';
  #ended = false;
  /** Lines received so far, in order (consumed by `next`). */
  count = 0;

  constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop() ?? '';
      this.#lines.push(...parts);
      this.count += parts.length;
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** The next line, or null at the end of the stream. */
  next(): Promise<string | null> {
    return new Promise((resolve) => {
      const check = (): void => {
        const line = this.#lines.shift();
        if (line !== undefined) resolve(line);
        else if (this.#ended) resolve(null);
        else this.#waiters.push(check);
      };
      check();
    });
  }

  /** Skips lines until one satisfies `predicate`; resolves with it (null at the end). */
  async until(predicate: (line: string) => boolean): Promise<string | null> {
    for (;;) {
      const line = await this.next();
      if (line === null || predicate(line)) return line;
    }
  }

  /** Resolves once `count` has reached `n`. */
  reached(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.count >= n || this.#ended) resolve();
        else this.#waiters.push(check);
      };
      check();
    });
  }

  /** Resolves at the end of the stream, dropping every line still unread. */
  async end(): Promise<void> {
    while ((await this.next()) !== null) {
      // drain
    }
  }
}

async function join(t: ExecutionContext, port: number): Promise<Lines> {
  return new Lines(await rawClient(t, port));
}

/** A TLS client that trusts anything (the examples make self-signed certificates), destroyed when the test ends. */
async function joinTls(t: ExecutionContext, port: number): Promise<Lines> {
  const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return new Lines(socket);
}

/** A fresh directory, removed when the test ends. */
function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'commio-examples-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('chat: joins, broadcast to the others only, commands, leaves', async (t) => {
  const { server, port } = await startServer(t, 'chat-server.ts');
  await server.waitForOutput(new RegExp(`join with: nc 127\\.0\\.0\\.1 ${port}\n`));

  const a = await join(t, port);
  t.regex((await a.next()) ?? '', /^\* welcome, you are guest-1\. Nobody else is here yet\./);
  const b = await join(t, port);
  t.regex((await b.next()) ?? '', /^\* welcome, you are guest-2\. Online: guest-1\./);
  t.is(await a.next(), '* guest-2 joined');

  a.socket.write('hello\r\n');
  t.is(await b.next(), 'guest-1: hello');
  b.socket.write('hi a\n');
  // The first line a gets after its own is b's: a never sees its own line.
  t.is(await a.next(), 'guest-2: hi a');

  a.socket.write('/nick alice\n/who\n');
  t.is(await b.next(), '* guest-1 is now alice');
  t.is(await a.next(), '* guest-1 is now alice');
  t.is(await a.next(), '* online: alice, guest-2');
  a.socket.write('/nick bad name!\n');
  t.regex((await a.next()) ?? '', /^\* a nick is/);

  // A line split across packets arrives whole; the last line before EOF counts without its newline.
  b.socket.write('par');
  await new Promise((resolve) => setImmediate(resolve));
  b.socket.write('ts\nlast words');
  t.is(await a.next(), 'guest-2: parts');
  b.socket.end();
  t.is(await a.next(), 'guest-2: last words');
  t.is(await a.next(), '* guest-2 left');
  await b.end();

  a.socket.write('/quit\n');
  t.is(await a.next(), '* bye');
  t.is(await a.next(), null);

  server.child.kill('SIGTERM');
  t.deepEqual(await server.exited, { code: 0, signal: null });
  t.regex(server.stdout(), /guest-2 left, 1 online/);
  t.regex(server.stdout(), /chat: stopped/);
  // The server's log names clients but never carries what they said.
  t.notRegex(server.stdout(), /hello|last words/);
});

test('chat: a client that stops reading is dropped past its output bound; the others go on', async (t) => {
  const { server, port } = await startServer(t, 'chat-server.ts');
  const talker = await join(t, port);
  await talker.next();
  const reader = await join(t, port);
  await reader.next();
  const sleeper = await join(t, port);
  await sleeper.next();
  await talker.until((line) => line === '* guest-3 joined');
  await reader.until((line) => line === '* guest-3 joined');

  // The sleeper reads nothing from here on. The talker sends rounds of long
  // lines; each round waits until the reader has them all, so the reader is
  // never far behind, while the sleeper's kernel buffers and then its queue
  // on the server fill until the server drops it.
  sleeper.socket.pause();
  const line = 'x'.repeat(4000);
  const perRound = 64;
  const seen = { dropped: false };
  const droppedNotice = talker.until((l) => l === '* guest-3 left (too slow)').then((l) => {
    seen.dropped = l !== null;
  });
  let expected = reader.count;
  let bytes = 0;
  while (!seen.dropped && bytes < 256 * 1024 * 1024) {
    talker.socket.write(`${line}\n`.repeat(perRound));
    bytes += perRound * (line.length + 1);
    expected += perRound;
    await Promise.race([reader.reached(expected), droppedNotice]);
  }
  t.true(seen.dropped, `the sleeper was not dropped after ${bytes} bytes`);
  t.log(`the sleeper was dropped after ${(bytes / 1048576).toFixed(1)} MiB were sent to it`);
  // The reader got every line and the notice, and still gets new lines.
  t.is(await reader.until((l) => !l.startsWith('guest-1: x')), '* guest-3 left (too slow)');
  talker.socket.write('still here\n');
  // (Lines the server read before it dropped the sleeper may come first.)
  t.is(await reader.until((l) => !l.startsWith('guest-1: x')), 'guest-1: still here');
  // The sleeper's connection was closed by the server.
  sleeper.socket.resume();
  await sleeper.end();
  t.regex(server.stdout(), /guest-3 left \(too slow\)/);
});

test('chat: lines longer than the limit end the connection', async (t) => {
  const { port } = await startServer(t, 'chat-server.ts');
  const a = await join(t, port);
  await a.next();
  const b = await join(t, port);
  await b.next();
  await a.next();
  b.socket.write('y'.repeat(5000));
  t.regex((await b.next()) ?? '', /^\* lines are limited to 4096 bytes, bye$/);
  t.is(await b.next(), null);
  t.is(await a.next(), '* guest-2 left (line too long)');
});

test('chat: idle clients are dropped after --idle seconds', async (t) => {
  const { port } = await startServer(t, 'chat-server.ts', ['--idle', '0.2']);
  const a = await join(t, port);
  await a.next();
  t.is(await a.next(), '* no input for 0.2 s, bye');
  t.is(await a.next(), null);
});

test('chat: SIGTERM says goodbye to every client, flushes and exits 0', async (t) => {
  const { server, port } = await startServer(t, 'chat-server.ts');
  const a = await join(t, port);
  await a.next();
  const b = await join(t, port);
  await b.next();
  await a.next();
  server.child.kill('SIGTERM');
  t.is(await a.next(), '* the server is shutting down, bye');
  t.is(await b.next(), '* the server is shutting down, bye');
  t.is(await a.next(), null);
  t.is(await b.next(), null);
  t.deepEqual(await server.exited, { code: 0, signal: null });
  t.regex(server.stdout(), /chat: drained: 2 connections finished, 0 closed at the deadline/);
});

test('chat: a port given explicitly and taken makes it exit 1', async (t) => {
  const { port } = await rawServer(t);
  const chat = runExample(t, 'chat-server.ts', [String(port)]);
  t.deepEqual(await chat.exited, { code: 1, signal: null });
  t.regex(chat.stderr(), new RegExp(`cannot listen: port ${port} is in use`));
});

test('chat --tls: clients speak TLS; a failed handshake is only logged, the room goes on', async (t) => {
  const { server, port } = await startServer(t, 'chat-server.ts', ['--tls']);
  await server.waitForOutput(new RegExp(`join with: openssl s_client -quiet -connect 127\\.0\\.0\\.1:${port}\n`));
  const a = await joinTls(t, port);
  t.regex((await a.next()) ?? '', /^\* welcome, you are guest-1\./);
  // A plain client is not a TLS client: its handshake fails, nobody hears of it.
  const plain = await join(t, port);
  plain.socket.write('hello, is this TLS?\n');
  await plain.end();
  await server.waitForOutput(/a TLS handshake failed/);
  const b = await joinTls(t, port);
  t.regex((await b.next()) ?? '', /^\* welcome, you are guest-2\. Online: guest-1\./);
  t.is(await a.next(), '* guest-2 joined');
  a.socket.write('over TLS\n');
  t.is(await b.next(), 'guest-1: over TLS');
});

test('echo server: echoes every byte, and closes after the client FIN', async (t) => {
  const { server, port } = await startServer(t, 'echo-server.ts');
  const socket = await rawClient(t, port);
  const payload = randomBytes(3 * 1024 * 1024 + 17);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => socket.once('end', resolve));
  for (let at = 0; at < payload.length; at += 65536) socket.write(payload.subarray(at, at + 65536));
  socket.end();
  await ended;
  t.true(Buffer.concat(chunks).equals(payload));

  server.child.kill('SIGTERM');
  t.deepEqual(await server.exited, { code: 0, signal: null });
});

test('echo client: lines from the arguments and from stdin round-trip', async (t) => {
  const { port } = await startServer(t, 'echo-server.ts');
  const fromArgs = runExample(t, 'echo-client.ts', [String(port), 'hello', 'wide world']);
  t.deepEqual(await fromArgs.exited, { code: 0, signal: null });
  t.is(fromArgs.stdout(), 'hello\nwide world\n');

  const input = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join('');
  const fromStdin = runExample(t, 'echo-client.ts', [String(port)], input);
  t.deepEqual(await fromStdin.exited, { code: 0, signal: null });
  t.is(fromStdin.stdout(), input);
});

test('echo --tls: certificate files are generated when missing; the client verifies against them', async (t) => {
  const dir = tempDir(t);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const { port } = await startServer(t, 'echo-server.ts', ['--tls', cert, key]);
  const verified = runExample(t, 'echo-client.ts', [String(port), 'secret', 'lines', '--tls', '--ca', cert]);
  t.deepEqual(await verified.exited, { code: 0, signal: null });
  t.is(verified.stdout(), 'secret\nlines\n');
  // Without the CA the self-signed certificate is refused.
  const refused = runExample(t, 'echo-client.ts', [String(port), 'x', '--tls']);
  t.deepEqual(await refused.exited, { code: 1, signal: null });
  t.regex(refused.stderr(), /cannot connect .*self-signed certificate/);
});

test('echo client: a refused connection is reported with its code, status 1', async (t) => {
  const client = runExample(t, 'echo-client.ts', [String(await refusingTcpPort(t)), 'x']);
  t.deepEqual(await client.exited, { code: 1, signal: null });
  t.regex(client.stderr(), /cannot connect to 127\.0\.0\.1:\d+: .*\(ECONNREFUSED\)/);
});

test('quick start: runs, and is the same code as the README shows', async (t) => {
  const quick = runExample(t, 'quick-start.ts', []);
  t.deepEqual(await quick.exited, { code: 0, signal: null });
  t.is(quick.stdout(), 'HELLO\n');

  checkReadmeShows(t, 'Quick start', 'quick-start.ts');
});
