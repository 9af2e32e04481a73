import net from 'node:net';
import test from 'ava';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { NODE_ARGS, spawnLineChild } from './helpers/child-lines.js';
import { effectiveTestTransport } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

/** The child's descriptor limit: a few more than Node.js itself needs. */
const LIMIT = 80;

test('out of descriptors: accepting stops (no spin, nobody dropped) and resumes when descriptors free up', async (t) => {
  const child = spawnLineChild(t, 'bash', ['-c', `ulimit -n ${LIMIT} && exec "${process.execPath}" ${NODE_ARGS.join(' ')} test/helpers/emfile-child.ts`], {
    env: { DEBUG: 'commio:accept', DEBUG_COLORS: '0' },
  });
  const ready = await child.next((m) => m['event'] === 'ready');
  const port = ready['port'] as number;
  // COMMIO_TEST_TRANSPORT=native: the child's listeners are native (when the addon is there).
  t.is(ready['transport'], effectiveTestTransport());

  // More clients than the child has descriptors: each sends its number and waits for the echo.
  const clients: net.Socket[] = [];
  const served = new Set<number>();
  const dropped = new Set<number>();
  let onServed: ((i: number) => void) | null = null;
  let onDropped: (() => void) | null = null;
  const firstDrop = new Promise<never>((_resolve, reject) => {
    onDropped = () => reject(new Error(`client dropped instead of waiting in the backlog (${served.size} served)`));
  });
  firstDrop.catch(() => {});
  t.teardown(() => {
    for (const c of clients) c.destroy();
  });
  for (let i = 0; i < LIMIT; i++) {
    const client = net.connect(port, '127.0.0.1');
    clients.push(client);
    client.on('error', () => {});
    client.on('data', () => {
      if (served.has(i)) return;
      served.add(i);
      onServed?.(i);
    });
    client.on('close', () => {
      dropped.add(i);
      onDropped?.();
    });
    client.write(`client ${i}\n`);
  }

  await Promise.race([child.stderrLine(/no descriptor left: not accepting/), firstDrop]);
  child.send('status');
  const status = await child.next((m) => m['event'] === 'status');
  t.false(status['accepting']);
  t.false(status['otherAccepting'], 'every listening socket of the process holds');
  const open = status['open'] as number;
  t.true(open > 0 && open < LIMIT, `${open} connections open`);
  t.true((status['pausedForDescriptors'] as number) >= 1, 'the pause is counted in the statistics');
  // libuv (since 1.45) never reports a failed accept; the native addon does, and it is counted.
  if (ready['transport'] === 'native') t.true((status['acceptErrors'] as number) >= 1, 'the native accept error is counted');

  child.send('cpu');
  const cpu = await child.next((m) => m['event'] === 'cpu');
  t.log(`child CPU while out of descriptors: ${cpu['ms'] as number} ms over 500 ms; ${open} connections open, ${LIMIT - open} waiting`);
  t.true((cpu['ms'] as number) < 250, 'no spinning while out of descriptors');
  t.is(dropped.size, 0, 'no client was dropped while waiting');
  onDropped = null;

  const waiting = clients.map((_, i) => i).filter((i) => !served.has(i));
  t.true(waiting.length > 0);
  const servedAfterFree = new Promise<number>((resolve) => {
    onServed = (i) => {
      if (waiting.includes(i)) resolve(i);
    };
  });
  child.send('free 5');
  await child.next((m) => m['event'] === 'freed');
  const first = await servedAfterFree;
  t.true(waiting.includes(first), `client ${first}, which waited in the backlog, is served`);
  await child.stderrLine(/accepting again/);

  // Let every client go once served: its state ends (EOF) and frees a descriptor, so every waiting client is served in turn.
  await new Promise<void>((resolve) => {
    const done = (): void => {
      if (served.size === LIMIT) resolve();
    };
    onServed = (i) => {
      clients[i]?.destroy();
      done();
    };
    for (const i of served) clients[i]?.destroy();
    done();
  });
  child.send('status');
  const after = await child.next((m) => m['event'] === 'status');
  t.true(after['accepting']);
  t.true(after['otherAccepting'], 'and every one accepts again');

  child.send('exit');
  await new Promise((resolve) => child.process.once('exit', resolve));
});
