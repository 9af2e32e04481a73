/**
 * The suite's leak check: after every test file, no socket, server, UDP
 * socket or timer made by the tests may still be open. Call
 * `checkNoLeaksAfterAll(test)` once at the top of each test file.
 */
import type { TestFn } from 'ava';
import { nativeLoop } from '@commio/native';
import { checkNativeNoLeaksAfterAll } from './native-fixtures.js';
import { testTransport } from './fixtures.js';

/** Handle kinds that a finished test must not leave behind. */
const LEAKABLE = new Set(['TCPSocketWrap', 'TCPServerWrap', 'TCPWRAP', 'UDPWrap', 'UDPWRAP', 'Timeout', 'PipeWrap', 'TLSWrap', 'TTYWrap_', 'ProcessWrap', 'FSEvent', 'StatWatcher']);

/**
 * The leakable handles open right now, by kind. On the native transport
 * (`COMMIO_TEST_TRANSPORT=native`) the addon's open listeners and
 * connections count too, as `NativeSocket`: they are no Node handles.
 */
export function openHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (!LEAKABLE.has(kind)) continue;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  const native = testTransport === 'native' ? (nativeLoop()?.stats().open ?? 0) : 0;
  if (native > 0) counts['NativeSocket'] = native;
  return counts;
}

/**
 * Waits (a few turns of the loop, at most `withinMs`) for closing handles to
 * finish closing, then returns what is still open.
 */
export async function settledOpenHandles(baseline: Record<string, number> = {}, withinMs = 3000): Promise<Record<string, number>> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const open = beyond(openHandles(), baseline);
    if (Object.keys(open).length === 0 || Date.now() > deadline) return open;
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
}

function beyond(now: Record<string, number>, baseline: Record<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [kind, count] of Object.entries(now)) {
    const more = count - (baseline[kind] ?? 0);
    if (more > 0) extra[kind] = more;
  }
  return extra;
}

/**
 * Registers hooks failing the file if, after all its tests, more handles are
 * open than before them (the test runner keeps a few of its own).
 */
export function checkNoLeaksAfterAll(test: TestFn): void {
  // Native sockets are no Node handles: under COMMIO_TEST_TRANSPORT=native they are counted too.
  if (process.env['COMMIO_TEST_TRANSPORT'] === 'native') checkNativeNoLeaksAfterAll(test);
  let baseline: Record<string, number> = {};
  test.before(() => {
    baseline = openHandles();
  });
  test.after.always('no socket, server or timer is left open', async (t) => {
    const open = await settledOpenHandles(baseline);
    t.deepEqual(open, {}, `handles left open: ${JSON.stringify(open)}`);
  });
}
