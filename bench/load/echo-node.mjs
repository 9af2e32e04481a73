// The Node.js reference echo servers: the plainest net (or tls) server that
// pipes each socket into itself, with Node's defaults.
//   node echo-node.mjs PORT [--tls CERT KEY] [--data] [--nodelay]
//   --data: on('data') -> write instead of pipe; --nodelay: setNoDelay(true)
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const args = process.argv.slice(2);
const port = Number(args[0]);
const tlsAt = args.indexOf('--tls');
const onSocket = (socket) => {
  socket.on('error', () => socket.destroy());
  if (args.includes('--nodelay')) socket.setNoDelay(true);
  if (args.includes('--data')) {
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('end', () => socket.end());
  } else {
    socket.pipe(socket);
  }
};
const server = tlsAt < 0
  ? net.createServer(onSocket)
  : tls.createServer({ cert: readFileSync(args[tlsAt + 1]), key: readFileSync(args[tlsAt + 2]) }, onSocket);
server.on('tlsClientError', () => {});
server.listen(port, '127.0.0.1');
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
