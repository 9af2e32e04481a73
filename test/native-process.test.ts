/**
 * The native addon's process-wide behaviour, each case in a child process:
 * descriptor exhaustion is reported once and accepting pauses (no spin) until
 * resumed; and what keeps Node alive matches the Node transport (a listener
 * or a connection does unless unref'd; the loop alone does not).
 */
import net from 'node:net';
import test from 'ava';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { NODE_ARGS, spawnLineChild } from './helpers/child-lines.js';
import { nativeTest } from './helpers/native-fixtures.js';

checkNoLeaksAfterAll(test);
const nativeOnly = nativeTest(test);

/** The child's descriptor limit: a few more than Node.js itself needs. */
const LIMIT = 80;

function exited(child: { process: import('node:child_process').ChildProcess }): Promise<number | null> {
  if (child.process.exitCode !== null) return Promise.resolve(child.process.exitCode);
  return new Promise((resolve) => child.process.once('exit', (code) => resolve(code)));
}

nativeOnly('out of descriptors: reported once, accepting pauses without spinning, and resumes', async (t) => {
  const child = spawnLineChild(t, 'bash', ['-c', `ulimit -n ${LIMIT} && exec "${process.execPath}" ${NODE_ARGS.join(' ')} test/helpers/native-child.ts emfile`]);
  const ready = await child.next((m) => m['event'] === 'ready');
  const clients: net.Socket[] = [];
  t.teardown(() => {
    for (const c of clients) c.destroy();
  });
  const echoed = new Set<number>();
  let onEcho: (() => void) | null = null;
  for (let i = 0; i < LIMIT; i++) {
    const client = net.connect(ready['port'] as number, '127.0.0.1');
    client.on('error', () => {});
    client.on('data', () => {
      echoed.add(i);
      onEcho?.();
    });
    client.write(`client ${i}\n`);
    clients.push(client);
  }
  const refused = await child.next((m) => m['event'] === 'acceptError');
  t.is(refused['code'], 'EMFILE');
  child.send('cpu');
  const cpu = await child.next((m) => m['event'] === 'cpu');
  t.true((cpu['ms'] as number) < 250, `no spinning while out of descriptors (${cpu['ms'] as number} ms of CPU in 500 ms)`);
  child.send('status');
  const status = await child.next((m) => m['event'] === 'status');
  t.false(status['accepting']);
  const open = status['open'] as number;
  t.true(open > 0 && open < LIMIT);

  // Freeing descriptors and resuming serves clients that waited in the backlog.
  const before = echoed.size;
  const more = new Promise<void>((resolve) => {
    onEcho = () => {
      if (echoed.size > before) resolve();
    };
  });
  child.send('free 10');
  await child.next((m) => m['event'] === 'freed');
  await more;
  t.true(echoed.size > before);
  child.send('exit');
  t.is(await exited(child), 0);
});

nativeOnly('the native loop alone does not keep Node alive', async (t) => {
  const child = spawnLineChild(t, process.execPath, [...NODE_ARGS, 'test/helpers/native-child.ts', 'idle']);
  await child.next((m) => m['event'] === 'ready');
  t.is(await exited(child), 0);
});

nativeOnly('an unref\'d listener does not keep Node alive', async (t) => {
  const child = spawnLineChild(t, process.execPath, [...NODE_ARGS, 'test/helpers/native-child.ts', 'unref']);
  await child.next((m) => m['event'] === 'ready');
  t.is(await exited(child), 0);
});

nativeOnly('a listener and its connections keep Node alive until closed', async (t) => {
  const child = spawnLineChild(t, process.execPath, [...NODE_ARGS, 'test/helpers/native-child.ts', 'listener']);
  const ready = await child.next((m) => m['event'] === 'ready');
  const client = net.connect(ready['port'] as number, '127.0.0.1');
  client.on('error', () => {});
  t.teardown(() => client.destroy());
  await child.next((m) => m['event'] === 'accepted');
  child.send('status');
  const status = await child.next((m) => m['event'] === 'status');
  t.deepEqual(status['stats'], { open: 2, refs: 2 }, 'the listener and its connection, both keeping Node alive');
  child.send('close');
  const closed = await child.next((m) => m['event'] === 'closed');
  t.deepEqual(closed['stats'], { open: 0, refs: 0 });
  t.is(await exited(child), 0);
});
