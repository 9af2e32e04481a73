/** The UDP examples, run as child processes from their sources (tsx, the commio-source condition). */
import test, { type ExecutionContext } from 'ava';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { runExample, type Example } from './helpers/example-process.js';
import { refusingUdpPort, udpPeer } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

async function startServer(t: ExecutionContext): Promise<{ server: Example; port: number }> {
  const server = runExample(t, 'udp-echo-server.ts', ['0']);
  const match = await server.waitForOutput(/listening on \S+:(\d+)/);
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
  t.is((await server.exited).code, 0);
});

test('udp-client gets every message back from udp-echo-server', async (t) => {
  const { port } = await startServer(t);
  const client = runExample(t, 'udp-client.ts', [String(port), 'one', 'two words', 'three']);
  t.is((await client.exited).code, 0, client.stderr());
  t.is(client.stdout(), 'one\ntwo words\nthree\n');
});

test('udp-client reports ECONNREFUSED when nothing listens, and exits 1', async (t) => {
  const port = await refusingUdpPort(t);
  const client = runExample(t, 'udp-client.ts', [String(port), 'anyone', '--timeout', '5']);
  t.is((await client.exited).code, 1);
  t.regex(client.stderr(), /ECONNREFUSED/);
});

test('the examples refuse bad usage', async (t) => {
  const server = runExample(t, 'udp-echo-server.ts', []);
  t.is((await server.exited).code, 2);
  const client = runExample(t, 'udp-client.ts', ['9', '--timeout', 'x']);
  t.is((await client.exited).code, 2);
});
