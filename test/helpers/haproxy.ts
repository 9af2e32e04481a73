/**
 * A real HAProxy in front of a test server: a generated config (TCP mode,
 * one frontend relaying to the server with `send-proxy` or `send-proxy-v2`),
 * run in the foreground and killed when the test ends.
 *
 * HAProxy cannot bind port 0, so free ports are picked by binding port 0
 * with Node and closing it; if HAProxy then finds one taken (another
 * process got it meanwhile), it exits at once and is started again on new
 * ports (at most 5 tries). Readiness: HAProxy binds every listener before
 * it serves, so the first successful connect to a second frontend that
 * refuses every connection (and so never reaches the server) proves the
 * relay listens too. Connects are retried on refusal only, bounded in time.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';

/** The `haproxy` binary's path, or null when it is not installed. */
export function haproxyPath(): string | null {
  for (const candidate of ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy']) if (fs.existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** A running HAProxy. */
export interface Haproxy {
  /** Where clients connect (127.0.0.1). */
  readonly port: number;
  readonly child: ChildProcess;
}

function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function config(port: number, probePort: number, backendPort: number, sendProxy: 'send-proxy' | 'send-proxy-v2'): string {
  return `global
  maxconn 1000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend relay
  bind 127.0.0.1:${port}
  default_backend app
frontend probe
  bind 127.0.0.1:${probePort}
  tcp-request connection reject
backend app
  server app 127.0.0.1:${backendPort} ${sendProxy}
`;
}

/** Resolves once a connect to `port` succeeds (refusals retried), rejects when `child` exits first or after `withinMs`. */
function listening(port: number, child: ChildProcess, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  return new Promise<void>((resolve, reject) => {
    const onExit = (): void => reject(new Error('haproxy exited before listening'));
    child.once('exit', onExit);
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        child.removeListener('exit', onExit);
        resolve();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.destroy();
        if (error.code === 'ECONNRESET') {
          // Accepted and reset at once by the rejecting frontend: it listens.
          child.removeListener('exit', onExit);
          resolve();
          return;
        }
        if (error.code !== 'ECONNREFUSED' || Date.now() > deadline) {
          child.removeListener('exit', onExit);
          reject(new Error(`haproxy did not listen on ${port} within ${withinMs} ms (${error.code ?? error.message})`));
          return;
        }
        // Not bound yet: HAProxy is still parsing its config; the next try costs a few microseconds.
        setTimeout(attempt, 5);
      });
    };
    attempt();
  });
}

/** Starts HAProxy relaying to `backendPort` on 127.0.0.1; stopped (SIGKILL) when the test ends. */
export async function startHaproxy(t: ExecutionContext, backendPort: number, sendProxy: 'send-proxy' | 'send-proxy-v2'): Promise<Haproxy> {
  const binary = haproxyPath();
  if (binary === null) throw new Error('haproxy is not installed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commio-haproxy-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const probePort = await freePort();
    const file = path.join(dir, `haproxy-${attempt}.cfg`);
    fs.writeFileSync(file, config(port, probePort, backendPort, sendProxy));
    const child = spawn(binary, ['-db', '-q', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    t.teardown(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    try {
      await listening(probePort, child, 10_000);
      return { port, child };
    } catch (error) {
      lastError = new Error(`${(error as Error).message}: ${stderr.trim()}`);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      // A port taken meanwhile: try again on new ones; anything else is a real failure.
      if (!/bind|address already in use/i.test(stderr)) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error('haproxy did not start');
}
