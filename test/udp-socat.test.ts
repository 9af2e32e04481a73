/** UDP round trips with socat as the independent peer, both ways. */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { asyncIoStateReceiveMessage, asyncIoStateSendMessageToAddress, type AsyncIoState } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection } from './helpers/fixtures.js';
import { connectedUdpState, freeUdpPort, receive, send, udpState } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

const socatFound = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

/** Starts socat (killed, by its pid, when the test ends). */
function socat(t: ExecutionContext, args: string[]): ChildProcessByStdio<Writable, Readable, Readable> {
  const child = spawn('socat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
  });
  return child;
}

/** Resolves once `stream` has printed text matching `pattern`; resolves with all it printed. */
function printed(stream: Readable, pattern: RegExp): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (pattern.test(text)) {
        stream.removeListener('data', onData);
        resolve(text);
      }
    };
    stream.on('data', onData);
  });
}

/** An echo server on a state: receive with needsAddress, reply upper-cased, restart the receive after the reply went out. */
function serveUpperCase(state: AsyncIoState): void {
  const buffer = Buffer.alloc(2048);
  const receiveNext = (): void => {
    asyncIoStateReceiveMessage(
      state,
      buffer,
      (s, b, count, address, port) => {
        if (s.readStatus !== null || address === undefined || port === undefined) return;
        const reply = Buffer.from(b.subarray(0, count).toString().toUpperCase());
        asyncIoStateSendMessageToAddress(s, address, port, reply, receiveNext);
      },
      { needsAddress: true },
    );
  };
  receiveNext();
}

test('socat as the client: an unconnected state answers each datagram at the address it came from', async (t) => {
  if (!socatFound) {
    t.fail('socat is not installed (apt-get install socat): the UDP interoperability tests need it');
    return;
  }
  const c = withCollection(t);
  const state = await udpState(t, c);
  serveUpperCase(state);
  const child = socat(t, ['STDIO', `UDP4:127.0.0.1:${String(state.address?.port)}`]);
  const first = printed(child.stdout, /HELLO FROM SOCAT/);
  child.stdin.write('hello from socat\n');
  await first;
  const second = printed(child.stdout, /AND AGAIN/);
  child.stdin.write('and again\n');
  await second;
  t.pass();
});

test('socat as the server: a connected state sends and gets the answer', async (t) => {
  if (!socatFound) {
    t.fail('socat is not installed (apt-get install socat): the UDP interoperability tests need it');
    return;
  }
  const c = withCollection(t);
  const port = await freeUdpPort();
  const child = socat(t, ['-d', '-d', `UDP4-RECVFROM:${String(port)},bind=127.0.0.1,fork`, 'SYSTEM:tr a-z A-Z']);
  await printed(child.stderr, /receiving on/);
  const state = await connectedUdpState(t, c, '127.0.0.1', port);
  const answer = receive(state, 64, { needsAddress: true });
  t.is((await send(state, 'to socat')).status, null);
  const received = await answer;
  t.is(received.bytes.toString(), 'TO SOCAT');
  t.is(received.address, '127.0.0.1');
  t.is(received.port, port);
});

test('socat as the server: an unconnected state sends to it by address', async (t) => {
  if (!socatFound) {
    t.fail('socat is not installed (apt-get install socat): the UDP interoperability tests need it');
    return;
  }
  const c = withCollection(t);
  const port = await freeUdpPort();
  const child = socat(t, ['-d', '-d', `UDP4-RECVFROM:${String(port)},bind=127.0.0.1,fork`, 'SYSTEM:tr a-z A-Z']);
  await printed(child.stderr, /receiving on/);
  const state = await udpState(t, c);
  const answer = receive(state, 64, { needsAddress: true });
  asyncIoStateSendMessageToAddress(state, '127.0.0.1', port, Buffer.from('by address'), () => {});
  const received = await answer;
  t.is(received.bytes.toString(), 'BY ADDRESS');
  t.is(received.port, port);
});
