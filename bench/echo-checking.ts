/**
 * Benchmark echo server (the main one): read-with-checking plus queued
 * write-buffer, views written back without copying.
 *
 *   node bench/dist/echo-checking.js PORT [--tls CERT KEY] [--no-nodelay] [--transport node|native]
 */
import { echoWithChecking } from './lib/checking-echo.js';
import { listenEcho } from './lib/listen-echo.js';
import { exitOnSignals, parseServerArgs } from './lib/server-args.js';

const args = parseServerArgs(process.argv.slice(2), 'node echo-checking.js PORT [--tls CERT KEY] [--no-nodelay] [--transport node|native]');
exitOnSignals();
const port = await listenEcho('echo-checking', args, true, echoWithChecking);
process.stderr.write(`echo-checking listening on 127.0.0.1:${port}${args.tls === null ? '' : ' (TLS)'}${args.transport === 'native' ? ' (native transport)' : ''}\n`);
