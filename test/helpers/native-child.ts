/**
 * Child process for the native addon's process-wide behaviour. `argv[2]`:
 * - `emfile`: a native echo listener on 127.0.0.1 that keeps every connection
 *   (run it with a low `ulimit -n`). Prints JSON lines (`ready`, `accepted`,
 *   `acceptError`); on stdin `status`, `cpu` (CPU ms over 500 ms),
 *   `free N` (closes the N oldest and accepts again), `exit`.
 * - `idle`: starts the native loop and opens nothing: Node must exit by itself.
 * - `unref`: a listener that does not keep Node alive: Node must exit by itself.
 * - `listener`: a listener that keeps Node alive until stdin says `close`.
 */
import readline from 'node:readline';
import { nativeLoop, nativeUnavailableReason, type NativeSocketSink } from '@commio/native';

function say(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const loop = nativeLoop();
if (loop === null) throw new Error(`native addon unavailable: ${nativeUnavailableReason ?? ''}`);
const mode = process.argv[2];
const open: number[] = [];
const quietSink = (id: number): NativeSocketSink => ({
  onData: (bytes) => loop.write(id, bytes),
  onEnd: () => {
    open.splice(open.indexOf(id), 1);
    loop.close(id);
  },
  onError: () => {
    open.splice(open.indexOf(id), 1);
    loop.close(id);
  },
  onWritten: () => {},
  onConnect: () => {},
  onOutputShut: () => {},
});

if (mode === 'idle') {
  say({ event: 'ready' });
} else {
  let accepting = true;
  const listener = loop.listen('127.0.0.1', 0, { ref: mode !== 'unref' }, {
    onAccept(id) {
      open.push(id);
      loop.attach(id, quietSink(id));
      say({ event: 'accepted', open: open.length });
    },
    onAcceptError(error) {
      accepting = false;
      say({ event: 'acceptError', code: error.code, open: open.length });
    },
  });
  say({ event: 'ready', port: loop.address(listener, false)?.port });
  if (mode !== 'unref') {
    const lines = readline.createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      const [command, arg] = line.split(' ');
      if (command === 'status') say({ event: 'status', accepting, open: open.length, stats: loop.stats() });
      else if (command === 'cpu') {
        const start = process.cpuUsage();
        setTimeout(() => {
          const used = process.cpuUsage(start);
          say({ event: 'cpu', ms: (used.user + used.system) / 1000 });
        }, 500);
      } else if (command === 'free') {
        for (const id of open.splice(0, Number(arg))) loop.close(id);
        accepting = true;
        loop.setReading(listener, true);
        say({ event: 'freed', open: open.length });
      } else if (command === 'close' || command === 'exit') {
        for (const id of open.splice(0)) loop.close(id);
        loop.close(listener);
        lines.close();
        process.stdin.unref();
        say({ event: 'closed', stats: loop.stats() });
      }
    });
  }
}
