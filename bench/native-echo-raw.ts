/**
 * Benchmark echo server straight on the native addon's binding (no commio
 * state): the ceiling of the native transport before the state layer.
 *
 *   node bench/dist/native-echo-raw.js PORT [--no-nodelay]
 */
import { nativeLoop, nativeUnavailableReason, type NativeSocketSink } from '@commio/native';
import { exitOnSignals, parseServerArgs } from './lib/server-args.js';

const args = parseServerArgs(process.argv.slice(2), 'node native-echo-raw.js PORT [--no-nodelay]');
exitOnSignals();
const loop = nativeLoop();
if (loop === null) {
  process.stderr.write(`native-echo-raw: the native addon is unavailable: ${nativeUnavailableReason ?? ''}\n`);
  process.exit(1);
}

/** Echoes every chunk back; after the peer's FIN, ends the output once the echo is out, then closes. */
function echoSink(id: number, native: NonNullable<typeof loop>): NativeSocketSink {
  return {
    onData: (bytes) => native.write(id, bytes),
    onEnd: () => {
      if (native.shutdown(id)) native.close(id);
    },
    onOutputShut: () => native.close(id),
    onError: () => native.close(id, true),
    onWritten: () => {},
    onConnect: () => {},
  };
}

const listener = loop.listen('127.0.0.1', args.port, { noDelay: args.nodelay, backlog: 4096 }, {
  onAccept: (id) => loop.attach(id, echoSink(id, loop)),
  onAcceptError: (error) => {
    process.stderr.write(`native-echo-raw: accept: ${error.code ?? error.message}; accepting again in 100 ms\n`);
    setTimeout(() => loop.setReading(listener, true), 100);
  },
});
process.stderr.write(`native-echo-raw listening on 127.0.0.1:${loop.address(listener, false)?.port ?? '?'}\n`);
