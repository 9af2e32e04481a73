// The README's quick start (the test suite checks that both stay the same):
// a server that answers five bytes upper-cased, and a client that asks it.
// Run: node examples/dist/quick-start.js
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateReadBuffer,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  createAsyncIoStateAndConnectedTcpSocket,
  waitStateCollectionStopLoop,
} from '@commio/core';

// One logical event loop; every callback below runs through it, one at a time.
const collection = createAndRunWaitStateCollection('quick-start');

// Server: each connection becomes a state; read 5 bytes, answer, close.
const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
  collection,
  0, // any free port: the promise resolves once it is bound
  (_handle, state) => {
    if (!(state instanceof AsyncIoState)) return;
    asyncIoStateReadBuffer(state, Buffer.alloc(5), (s, buffer, count) => {
      if (s.readStatus !== null) {
        closeAsyncIoState(s); // 'eof', 'timeout' (5 s, below) or an Error
        return;
      }
      const answer = Buffer.from(buffer.toString('latin1', 0, count).toUpperCase());
      asyncIoStateWriteBuffer(s, answer, (s2) => closeAsyncIoState(s2));
    });
  },
  { address: '127.0.0.1', readTimeout: 5 }, // durations are seconds
);

// Client: connect, send, read the answer, stop everything.
createAsyncIoStateAndConnectedTcpSocket(collection, '127.0.0.1', handle.localPort, (state, failure) => {
  if (failure !== null) {
    console.error(`cannot connect: ${failure.message}`);
    waitStateCollectionStopLoop(collection);
    return;
  }
  asyncIoStateWriteBuffer(state, Buffer.from('hello'), () => {});
  asyncIoStateReadBuffer(state, Buffer.alloc(5), (s, buffer, count) => {
    console.log(buffer.toString('latin1', 0, count)); // HELLO
    closeAsyncIoState(s);
    waitStateCollectionStopLoop(collection); // also closes the server's handle
  });
});
