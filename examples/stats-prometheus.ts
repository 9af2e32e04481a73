/**
 * An echo server whose live statistics are served in Prometheus' text
 * format by `prom-client` (a dependency of the examples only: commio knows
 * nothing of Prometheus; it hands out plain snapshots).
 *
 *   node examples/dist/stats-prometheus.js PORT [METRICS_PORT]
 *
 * Echoes on 127.0.0.1:PORT and serves http://127.0.0.1:METRICS_PORT/metrics
 * (`0` = any free port; both are printed). Every scrape reads
 * `acceptingHandleStats(handle)` once: the metrics cost nothing between
 * scrapes. SIGINT/SIGTERM stop it.
 */
import http from 'node:http';
import type net from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  acceptingHandleStats,
  asyncIoStateDiscard,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
  type AcceptingHandle,
  type ConnectionStats,
} from '@commio/core';

const [service = '0', metricsService = '0'] = process.argv.slice(2);

const collection = createAndRunWaitStateCollection('echo-with-metrics');

function onBytes(state: AsyncIoState, view: Buffer, end: number): void {
  if (end > 0) {
    asyncIoStateWriteBuffer(state, view, () => {});
    asyncIoStateDiscard(state, end);
  }
  const status = state.readStatus;
  if (status === null) return;
  if (status !== 'eof' || asyncIoStateShutdown(state, 'output', { callback: (s) => closeAsyncIoState(s) }) !== true) closeAsyncIoState(state);
}

let handle: AcceptingHandle;
try {
  handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    collection,
    service,
    (_h, connection) => {
      if (connection instanceof AsyncIoState) asyncIoStateReadWithChecking(connection, onBytes);
    },
    { address: '127.0.0.1', queueOutput: true, initTimeout: 0, handleName: 'echo' },
  );
} catch (error) {
  console.error(`stats-prometheus: cannot listen: ${error instanceof Error ? error.message : String(error)}`);
  waitStateCollectionStopLoop(collection);
  process.exit(1);
}

// One snapshot per scrape: the first collect() of a scrape takes it, the others reuse it.
let snapshot: ConnectionStats | null = null;
function stats(): ConnectionStats {
  snapshot ??= acceptingHandleStats(handle);
  return snapshot;
}

const registry = new Registry();

/** A Prometheus counter whose value is read from the snapshot at scrape time. */
function counter(name: string, help: string, read: (s: ConnectionStats) => number): void {
  registry.registerMetric(
    new Counter({
      name,
      help,
      registers: [],
      collect() {
        this.reset();
        this.inc(read(stats()));
      },
    }),
  );
}

function gauge(name: string, help: string, read: (s: ConnectionStats) => number): void {
  registry.registerMetric(
    new Gauge({
      name,
      help,
      registers: [],
      collect() {
        this.set(read(stats()));
      },
    }),
  );
}

counter('commio_connections_accepted_total', 'Connections accepted.', (s) => s.accepted);
gauge('commio_connections_open', 'Connections open now.', (s) => s.open);
gauge('commio_connections_open_peak', 'Most connections open at once.', (s) => s.peakOpen);
counter('commio_bytes_read_total', 'Bytes received (plaintext under TLS).', (s) => s.bytesRead);
counter('commio_bytes_written_total', 'Bytes of completed writes (plaintext under TLS).', (s) => s.bytesWritten);
counter('commio_tls_handshakes_total', 'TLS handshakes completed.', (s) => s.tlsHandshakes);
counter('commio_tls_handshake_failures_total', 'TLS handshakes failed.', (s) => s.tlsHandshakeFailures);
counter('commio_proxy_headers_refused_total', 'Connections refused for their PROXY header.', (s) => s.proxyHeadersRefused);
counter('commio_accept_errors_total', 'Accept errors.', (s) => s.acceptErrors);

registry.registerMetric(
  new Counter({
    name: 'commio_connections_closed_total',
    help: 'Connections closed, by reason (and error code).',
    labelNames: ['reason', 'code'],
    registers: [],
    collect() {
      this.reset();
      const { error, ...rest } = stats().closed;
      for (const [reason, count] of Object.entries(rest)) this.inc({ reason, code: '' }, count);
      for (const [code, count] of Object.entries(error)) this.inc({ reason: 'error', code }, count);
    },
  }),
);
registry.registerMetric(
  new Counter({
    name: 'commio_accepts_paused_total',
    help: 'Times accepting was held, by cause.',
    labelNames: ['cause'],
    registers: [],
    collect() {
      this.reset();
      const paused = stats().acceptsPaused;
      this.inc({ cause: 'maxConnections' }, paused.maxConnections);
      this.inc({ cause: 'descriptors' }, paused.descriptors);
    },
  }),
);

const metrics = http.createServer((request, response) => {
  if (request.url !== '/metrics') {
    response.writeHead(404).end();
    return;
  }
  snapshot = null;
  registry.metrics().then(
    (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
    (error: unknown) => response.writeHead(500).end(String(error)),
  );
});
metrics.listen(Number(metricsService), '127.0.0.1', () => {
  console.log(`stats-prometheus: listening on 127.0.0.1:${handle.localPort}`);
  console.log(`stats-prometheus: metrics on http://127.0.0.1:${(metrics.address() as net.AddressInfo).port}/metrics`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    metrics.close();
    waitStateCollectionStopLoop(collection);
  });
}
