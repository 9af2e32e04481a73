/**
 * Descriptor exhaustion as an attack: a child server with a low `ulimit -n`
 * is flooded with several times more connections than it has descriptors,
 * three times over. Each time it stops accepting without spinning (CPU
 * measured) and without dropping anyone, and when the flood goes away it
 * accepts again (recovery time measured) and serves a new client.
 *
 * The child and its line protocol are the accept tests' own
 * (helpers/emfile-child.ts, helpers/child-lines.ts); the basic
 * exhaust-free-recover case is in accept-emfile.test.ts. The child listens on
 * the transport under test (COMMIO_TEST_TRANSPORT), and counts each pause.
 */
import net from 'node:net';
import test from 'ava';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { NODE_ARGS, spawnLineChild, type LineChild } from './helpers/child-lines.js';
import { readExactly } from './helpers/attack-peers.js';
import { effectiveTestTransport } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

/** The child's descriptor limit. */
const LIMIT = 100;
/** Attackers per wave: three times the limit (all fit in the listen backlog). */
const WAVE = 300;
const WAVES = 3;

/** What the child reports: whether it accepts, its open states, and how often accepting paused for want of descriptors (statistics). */
interface ChildStatus {
  accepting: boolean;
  open: number;
  pausedForDescriptors: number;
}

async function status(child: LineChild): Promise<ChildStatus> {
  child.send('status');
  const s = await child.next((m) => m['event'] === 'status');
  return { accepting: s['accepting'] as boolean, open: s['open'] as number, pausedForDescriptors: s['pausedForDescriptors'] as number };
}

/** Polls the child until `done` holds (a child cannot be waited on by event from here). */
async function until(child: LineChild, done: (s: ChildStatus) => boolean, withinMs = 20_000): Promise<ChildStatus> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const s = await status(child);
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`the child never reached the expected state (last: ${JSON.stringify(s)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function cpuMs(child: LineChild): Promise<number> {
  child.send('cpu');
  const m = await child.next((message) => message['event'] === 'cpu');
  return m['ms'] as number;
}

test.serial(`${WAVES} waves of ${WAVE} connections against ${LIMIT} descriptors: no spin, no drop, recovery each time`, async (t) => {
  const child = spawnLineChild(t, 'bash', ['-c', `ulimit -n ${LIMIT} && exec "${process.execPath}" ${NODE_ARGS.join(' ')} test/helpers/emfile-child.ts`]);
  const ready = await child.next((m) => m['event'] === 'ready');
  const port = ready['port'] as number;
  t.is(ready['transport'], effectiveTestTransport(), 'the child listens on the transport under test');
  const figures: string[] = [];

  for (let wave = 1; wave <= WAVES; wave++) {
    const clients: net.Socket[] = [];
    let served = 0;
    let dropped = 0;
    let closing = false;
    t.teardown(() => clients.forEach((c) => c.destroy()));
    for (let i = 0; i < WAVE; i++) {
      const client = net.connect(port, '127.0.0.1');
      clients.push(client);
      client.on('error', () => {});
      client.once('data', () => served++);
      client.once('close', () => {
        if (!closing) dropped++;
      });
      client.write(`wave ${wave} client ${i}\n`);
    }
    const exhausted = await until(child, (s) => !s.accepting);
    const cpu = [await cpuMs(child), await cpuMs(child)];
    const held = await status(child);
    t.false(held.accepting);
    t.true(held.pausedForDescriptors >= wave, `wave ${wave}: each exhaustion is counted (${held.pausedForDescriptors} pauses)`);
    t.true(cpu.every((ms) => ms < 250), `wave ${wave}: the child used ${cpu.join(' and ')} ms of CPU per 500 ms while out of descriptors`);
    t.is(dropped, 0, `wave ${wave}: nobody was dropped while waiting`);

    // The flood goes away: the child closes its ends and takes the backlog (now all closed) in.
    closing = true;
    const gone = performance.now();
    clients.forEach((c) => c.destroy());
    await until(child, (s) => s.accepting && s.open === 0);
    const recoveredMs = performance.now() - gone;
    figures.push(
      `wave ${wave}: ${exhausted.open} of ${WAVE} connections held when accepting stopped (${served} answered so far); CPU ${cpu.map((ms) => ms.toFixed(0)).join(', ')} ms per 500 ms while exhausted; accepting again ${recoveredMs.toFixed(0)} ms after the flood left`,
    );
  }

  // A well-behaved client is served after all that.
  const good = net.connect(port, '127.0.0.1');
  t.teardown(() => good.destroy());
  good.on('error', () => {});
  const echo = readExactly(good, 6);
  good.write('hello\n');
  t.is((await echo).toString(), 'hello\n');
  good.destroy();
  for (const line of figures) t.log(line);
  child.send('exit');
  await new Promise((resolve) => child.process.once('exit', resolve));
});
