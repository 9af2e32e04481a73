/**
 * Command line of the benchmark echo servers:
 *
 *   node bench/dist/<server>.js PORT [--tls CERT KEY] [--buffer BYTES] [--no-nodelay] [--transport node|native]
 *
 * `--no-nodelay` turns commio's default TCP_NODELAY off (to compare with
 * anchors that keep Nagle on). `--transport native` serves on the native
 * transport, and exits with status 2 if the addon is unavailable (a run must
 * never silently measure the Node transport). They listen on 127.0.0.1 only (the harness and the memory driver are
 * loopback-only) and exit 0 on SIGINT/SIGTERM, so `node --cpu-prof` writes its
 * profile when the harness stops them.
 */
import { readFileSync } from 'node:fs';

/** What a benchmark echo server was asked to do. */
export interface ServerArgs {
  /** TCP port on 127.0.0.1; 0 picks a free one (printed on stderr). */
  port: number;
  /** PEM certificate and key for a TLS server, or null for plain TCP. */
  tls: { cert: Buffer; key: Buffer } | null;
  /** Size in bytes of the per-connection buffer of servers that own one. */
  bufferBytes: number;
  /** TCP_NODELAY on accepted connections (commio's default). */
  nodelay: boolean;
  /** The `transport` accept option. */
  transport: 'node' | 'native';
}

function fail(usage: string, why: string): never {
  process.stderr.write(`${why}\nusage: ${usage}\n`);
  process.exit(2);
}

/** Parses `argv` (without node and script); exits with status 2 and the usage on a bad command line. */
export function parseServerArgs(argv: readonly string[], usage: string, defaultBufferBytes = 16384): ServerArgs {
  let port: number | null = null;
  let tls: ServerArgs['tls'] = null;
  let bufferBytes = defaultBufferBytes;
  let nodelay = true;
  let transport: ServerArgs['transport'] = 'node';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--tls') {
      const cert = argv[i + 1];
      const key = argv[i + 2];
      if (cert === undefined || key === undefined) fail(usage, '--tls needs CERT and KEY');
      tls = { cert: readFileSync(cert), key: readFileSync(key) };
      i += 2;
    } else if (arg === '--buffer') {
      bufferBytes = Number(argv[++i]);
      if (!Number.isInteger(bufferBytes) || bufferBytes < 1) fail(usage, '--buffer needs a positive whole number of bytes');
    } else if (arg === '--transport') {
      const choice = argv[++i];
      if (choice !== 'node' && choice !== 'native') fail(usage, '--transport needs node or native');
      transport = choice;
    } else if (arg === '--no-nodelay') {
      nodelay = false;
    } else if (/^\d+$/.test(arg) && port === null) {
      port = Number(arg);
      if (port > 65535) fail(usage, `bad port ${arg}`);
    } else {
      fail(usage, `unexpected argument ${JSON.stringify(arg)}`);
    }
  }
  if (port === null) fail(usage, 'missing PORT');
  return { port, tls, bufferBytes, nodelay, transport };
}

/** Exits with status 0 on SIGINT and SIGTERM (so profilers flush and the harness sees a clean stop). */
export function exitOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
}
