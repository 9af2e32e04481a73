/**
 * Benchmark echo server: read-buffer plus write-buffer through a buffer of
 * the program's own per connection (default 16 KiB).
 *
 *   node bench/dist/echo-read-buffer.js PORT [--buffer BYTES] [--tls CERT KEY] [--no-nodelay]
 */
import type { AsyncIoState } from '@commio/core';
import { echoWithReadBuffer } from './lib/read-buffer-echo.js';
import { listenEcho } from './lib/listen-echo.js';
import { exitOnSignals, parseServerArgs } from './lib/server-args.js';

const args = parseServerArgs(process.argv.slice(2), 'node echo-read-buffer.js PORT [--buffer BYTES] [--tls CERT KEY] [--no-nodelay]');
exitOnSignals();
const bufferBytes = args.bufferBytes;
const port = await listenEcho('echo-read-buffer', args, false, (state: AsyncIoState) => {
  echoWithReadBuffer(state, bufferBytes);
});
process.stderr.write(`echo-read-buffer listening on 127.0.0.1:${port}${args.tls === null ? '' : ' (TLS)'}\n`);
