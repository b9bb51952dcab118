// The open-loop generator's floor for P7: a raw keep-alive HTTP/1.1 server that answers
// every request at once with a fixed body, with no framework and no work. Whatever p99 the
// generator reads against it comes from the generator and the machine, not from a server,
// so an added p99 smaller than this one's spread cannot be told from noise. Run by run.js
// on the servers' core; prints `listening <port>` when ready.
import net from 'node:net';

const body = '{"hello":"world"}';
const answer = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n' +
    `content-length: ${body.length}\r\n\r\n${body}`,
);

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let pending = '';
  socket.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
      pending = pending.slice(end + 4);
      socket.write(answer);
    }
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
