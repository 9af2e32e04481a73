/** The UDP examples, run as child processes from their sources (tsx, the commio-source condition). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { freeUdpPort, udpPeer } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

const root = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  errors(): string;
  printed(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Runs `examples/<file>`; killed (by its pid) if still running when the test ends. */
function run(t: ExecutionContext, file: string, args: string[]): Run {
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=commio-source', `examples/${file}`, ...args], {
    cwd: root,
    env: { ...process.env, DEBUG: '' },
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = (): void => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    poke();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      poke();
      resolve(code);
    });
  });
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const printed = (pattern: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = pattern.exec(out);
        if (match !== null) resolve(match);
        else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`${file} exited before printing ${String(pattern)}: ${out} ${err}`));
        else waiters.push(check);
      };
      check();
    });
  return { child, output: () => out, errors: () => err, printed, exited };
}

async function startServer(t: ExecutionContext): Promise<{ server: Run; port: number }> {
  const server = run(t, 'udp-echo-server.ts', ['0']);
  const match = await server.printed(/listening on \S+:(\d+)/);
  return { server, port: Number(match[1]) };
}

test('udp-echo-server echoes datagrams to whoever sent them, and stops on SIGTERM', async (t) => {
  const { server, port } = await startServer(t);
  const peer = await udpPeer(t);
  for (const word of ['alpha', 'beta']) {
    await peer.send(word, port, '127.0.0.1');
    const echo = await peer.next();
    t.is(echo.message.toString(), word);
    t.is(echo.from.port, port);
  }
  server.child.kill('SIGTERM');
  t.is(await server.exited, 0);
});

test('udp-client gets every message back from udp-echo-server', async (t) => {
  const { port } = await startServer(t);
  const client = run(t, 'udp-client.ts', [String(port), 'one', 'two words', 'three']);
  t.is(await client.exited, 0, client.errors());
  t.is(client.output(), 'one\ntwo words\nthree\n');
});

test('udp-client reports ECONNREFUSED when nothing listens, and exits 1', async (t) => {
  const port = await freeUdpPort();
  const client = run(t, 'udp-client.ts', [String(port), 'anyone', '--timeout', '5']);
  t.is(await client.exited, 1);
  t.regex(client.errors(), /ECONNREFUSED/);
});

test('the examples refuse bad usage', async (t) => {
  const server = run(t, 'udp-echo-server.ts', []);
  t.is(await server.exited, 2);
  const client = run(t, 'udp-client.ts', ['9', '--timeout', 'x']);
  t.is(await client.exited, 2);
});
