import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateReadWithChecking,
  asyncIoStateWriteBuffer,
  asyncIoStateDiscard,
  closeAcceptingHandle,
  type AsyncIoState,
} from '@commio/core';
import { createSslServerContext } from '@commio/ssl';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection } from './helpers/fixtures.js';
import { keyPair, tempDir, writePair } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

/** Runs `openssl s_client` against the port, sends `input`, resolves with what it printed once `expect` appeared (or it exited). */
function sClient(t: import('ava').ExecutionContext, args: string[], input: string, expect: string): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const finish = (code: number | null): void => {
      if (done) return;
      done = true;
      child.kill();
      resolve({ out, code });
    };
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      if (out.includes(expect)) finish(null);
    });
    child.stderr.on('data', (d: Buffer) => {
      out += String(d);
    });
    child.on('exit', (code) => finish(code));
    child.stdin.on('error', () => {});
    child.stdin.write(input);
    t.teardown(() => child.kill());
  });
}

(haveOpenssl ? test : test.skip)('openssl s_client: handshake, verification and echo; TLS 1.1 refused', async (t) => {
  const dir = tempDir(t);
  const files = writePair(dir, keyPair());
  const c = withCollection(t);
  const errors: Error[] = [];
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, s) => {
      asyncIoStateReadWithChecking(s as AsyncIoState, ((st: AsyncIoState, view: Uint8Array, end: number) => {
        if (end === 0) return;
        const copy = Buffer.from(view.subarray(0, end));
        asyncIoStateDiscard(st, end);
        asyncIoStateWriteBuffer(st, copy, () => {});
      }));
    },
    { address: '127.0.0.1', sslCtx: createSslServerContext(files), sslErrorCallback: (e) => errors.push(e) },
  );
  t.teardown(() => closeAcceptingHandle(handle));
  const target = `127.0.0.1:${handle.localPort}`;
  const echoed = await sClient(t, ['-connect', target, '-servername', 'localhost', '-CAfile', files.certFile, '-verify_return_error', '-quiet'], 'hello from openssl\n', 'hello from openssl');
  t.true(echoed.out.includes('hello from openssl'), echoed.out);
  const old = await sClient(t, ['-connect', target, '-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'], '', 'never');
  t.regex(old.out, /alert protocol version|no protocols available|unsupported protocol|wrong version/i);
  t.not(old.code, 0);
});
