/**
 * Benchmark: the read-buffer echo server run as N worker processes on one
 * port (startWorkerProcesses), to measure how serving scales with workers.
 *
 *   node bench/dist/echo-workers.js WORKERS PORT
 *
 * Each worker runs echo-read-buffer.js unchanged (it listens on PORT as it
 * would alone); SIGTERM or SIGINT stops the group.
 */
import { fileURLToPath } from 'node:url';
import { startWorkerProcesses } from '@commio/core';

const [countText, portText] = process.argv.slice(2);
const count = Number(countText);
if (!Number.isInteger(count) || count < 1 || portText === undefined) {
  process.stderr.write('usage: node echo-workers.js WORKERS PORT\n');
  process.exit(2);
}
const group = startWorkerProcesses({
  count,
  main: fileURLToPath(new URL('./echo-read-buffer.js', import.meta.url)),
  args: [portText],
  drainTimeout: 1,
});
process.stderr.write(`echo-workers: ${count} workers (${group.workers.join(', ')}) on 127.0.0.1:${portText}\n`);
