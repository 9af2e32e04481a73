/**
 * Fixtures for the tests of the native addon through its JavaScript binding:
 * a sink that records what a connection is told, a native listener closed
 * when the test ends, and the file-wide check that no native socket and no
 * descriptor outlives the tests.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import type { ExecutionContext, ImplementationFn, TestFn } from 'ava';
import { nativeTransportStatus } from '@commio/core';
import { nativeLoop, nativeUnavailableReason, type NativeLoop, type NativeListenerSink, type NativeSocketOptions, type NativeSocketSink } from '@commio/native';

/** True when the native tests must run (CI): an unavailable addon then fails them instead of skipping them. */
const nativeRequired = process.env['COMMIO_REQUIRE_NATIVE'] === '1';
let skipNoted = false;

/**
 * `test` for a test that needs the native addon: on a machine where it could
 * not be built (no C compiler) the test is skipped, with the reason printed
 * once, unless `COMMIO_REQUIRE_NATIVE=1`.
 */
export function nativeTest(test: TestFn): (title: string, run: ImplementationFn<[]>) => void {
  if (nativeLoop() !== null || nativeRequired) return (title, run) => test(title, run);
  if (!skipNoted) {
    skipNoted = true;
    console.warn(`native addon unavailable, its tests are skipped: ${nativeUnavailableReason ?? 'unknown'}`);
  }
  return (title, run) => test.skip(title, run);
}

/** The process's native loop; throws (failing the test) with the reason when the addon is unavailable. */
export function requireNativeLoop(): NativeLoop {
  const loop = nativeLoop();
  if (loop === null) throw new Error(`the native addon is unavailable: ${nativeUnavailableReason ?? 'unknown'}`);
  return loop;
}

/** Records everything a connection is told; `until` waits for a condition to hold after some event. */
export class RecordingSink implements NativeSocketSink {
  readonly chunks: Uint8Array[] = [];
  bytes = 0;
  ended = false;
  connected = false;
  written = 0;
  outputShut: NodeJS.ErrnoException | null | undefined = undefined;
  error: NodeJS.ErrnoException | null = null;
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  onData(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.bytes += bytes.length;
    this.settle();
  }
  onEnd(): void {
    this.ended = true;
    this.settle();
  }
  onError(error: NodeJS.ErrnoException): void {
    this.error = error;
    this.settle();
  }
  writeError: NodeJS.ErrnoException | null = null;
  onWritten(count: number, error: NodeJS.ErrnoException | null): void {
    this.written += count;
    this.writeError ??= error;
    this.settle();
  }
  onOutputShut(error: NodeJS.ErrnoException | null): void {
    this.outputShut = error;
    this.settle();
  }
  onConnect(): void {
    this.connected = true;
    this.settle();
  }

  /** Every byte received so far, in order. */
  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves once `test()` holds (checked now and after every event). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  private settle(): void {
    for (const waiter of [...this.waiters]) {
      if (!waiter.test()) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

/** A native listener on 127.0.0.1 port 0 whose connections get `makeSink`'s sinks; all closed when the test ends. */
export function nativeServer<S extends NativeSocketSink>(
  t: ExecutionContext,
  options: NativeSocketOptions,
  makeSink: (id: number) => S,
): { id: number; port: number; accepted: { id: number; sink: S }[]; acceptErrors: Error[]; nextAccept: () => Promise<{ id: number; sink: S }> } {
  const loop = requireNativeLoop();
  const accepted: { id: number; sink: S }[] = [];
  const acceptErrors: Error[] = [];
  const waiting: ((a: { id: number; sink: S }) => void)[] = [];
  let taken = 0;
  const listener: NativeListenerSink = {
    onAccept(id) {
      const sink = makeSink(id);
      loop.attach(id, sink);
      const entry = { id, sink };
      accepted.push(entry);
      const waiter = waiting.shift();
      if (waiter !== undefined) {
        taken++;
        waiter(entry);
      }
    },
    onAcceptError(error) {
      acceptErrors.push(error);
    },
  };
  const id = loop.listen('127.0.0.1', 0, options, listener);
  t.teardown(() => {
    if (loop.owner(id) === listener) loop.close(id);
    for (const connection of accepted) closeIfOwned(loop, connection.id, connection.sink);
  });
  const address = loop.address(id, false);
  if (address === null) throw new Error('listener without an address');
  return {
    id,
    port: address.port,
    accepted,
    acceptErrors,
    nextAccept: () => {
      const ready = accepted[taken];
      if (ready !== undefined) {
        taken++;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** `nativeServer` whose connections get a `RecordingSink`. */
export function recordingServer(t: ExecutionContext, options: NativeSocketOptions = {}): ReturnType<typeof nativeServer<RecordingSink>> {
  return nativeServer(t, options, () => new RecordingSink());
}

/** Closes (resets) a native socket unless the test closed it already. */
export function closeIfOwned(loop: NativeLoop, id: number, sink: NativeSocketSink): void {
  if (loop.owner(id) === sink) loop.close(id, true);
}

/** How many descriptors this process has open. */
export function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** What each open descriptor is (`socket:[...]`, a path, ...), by number: for messages about leaks. */
function describeDescriptors(): Map<string, string> {
  const described = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      described.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // Closed meanwhile (the directory's own descriptor is one).
    }
  }
  return described;
}

/** Fails the file if, after all its tests, a native socket is still open or more descriptors are open than before. */
export function checkNativeNoLeaksAfterAll(test: TestFn): void {
  if (nativeLoop() === null && !nativeRequired) return;
  let before = 0;
  let beforeSet = new Map<string, string>();
  test.before(() => {
    requireNativeLoop();
    // Core loads the addon's package with require, on first use: when that compiles it (a cold
    // cache), the compiler's service starts and keeps its descriptors. Load it before counting.
    nativeTransportStatus();
    before = openDescriptors();
    beforeSet = describeDescriptors();
  });
  test.after.always('no native socket and no descriptor is left open', async (t) => {
    const loop = requireNativeLoop();
    const deadline = Date.now() + 3000;
    while ((loop.stats().open > 0 || openDescriptors() > before) && Date.now() < deadline) {
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
    t.deepEqual(loop.stats(), { open: 0, refs: 0 });
    const added = [...describeDescriptors()].filter(([fd, what]) => beforeSet.get(fd) !== what).map(([fd, what]) => `${fd} ${what}`);
    t.true(openDescriptors() <= before, `descriptors: ${openDescriptors()} open, ${before} before the tests; new: ${added.join(', ')}`);
  });
}
