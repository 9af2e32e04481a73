/**
 * The Prometheus example (examples/stats-prometheus.ts) run as a real child
 * process: a client is served, then /metrics is scraped over HTTP and must
 * show it in Prometheus' text format.
 */
import http from 'node:http';
import test from 'ava';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { rawClient } from './helpers/fixtures.js';
import { closed } from './helpers/tls-fixtures.js';
import { runExample } from './helpers/example-process.js';

checkNoLeaksAfterAll(test);

function scrape(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
      })
      .on('error', reject);
  });
}

test('the statistics are served in Prometheus text format and show the connections served', async (t) => {
  const example = runExample(t, 'stats-prometheus.ts', ['0', '0']);
  const port = Number((await example.waitForOutput(/listening on \S+:(\d+)/))[1]);
  const url = (await example.waitForOutput(/metrics on (\S+)/))[1] as string;

  const client = await rawClient(t, port);
  const echoed = new Promise<string>((resolve) => client.once('data', (d: Buffer) => resolve(String(d))));
  client.write('ping');
  t.is(await echoed, 'ping');
  const during = await scrape(url);
  t.is(during.status, 200);
  t.regex(during.type, /^text\/plain/);
  t.regex(during.body, /^# TYPE commio_connections_open gauge$/m);
  t.regex(during.body, /^commio_connections_open 1$/m);
  t.regex(during.body, /^commio_bytes_read_total 4$/m);

  client.end();
  await closed(client);
  let after = await scrape(url);
  // The server closes after flushing its FIN: scrape until the close was counted (bounded).
  for (let i = 0; i < 50 && !/^commio_connections_open 0$/m.test(after.body); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    after = await scrape(url);
  }
  t.regex(after.body, /^# TYPE commio_connections_accepted_total counter$/m);
  t.regex(after.body, /^commio_connections_accepted_total 1$/m);
  t.regex(after.body, /^commio_connections_open 0$/m);
  t.regex(after.body, /^commio_connections_open_peak 1$/m);
  t.regex(after.body, /^commio_connections_closed_total\{reason="eof",code=""\} 1$/m);
  t.regex(after.body, /^commio_bytes_written_total 4$/m);
  t.is((await scrape(url.replace('/metrics', '/other'))).status, 404);

  example.child.kill('SIGTERM');
  t.like(await example.exited, { code: 0 });
});
