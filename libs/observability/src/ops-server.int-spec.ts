import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { MetricsService } from './metrics.service';
import { OpsServer } from './ops-server';

/**
 * A prober as balancers run them: one kept-alive connection, a readiness request again as soon as
 * the last was answered, for as long as the connection is open.
 */
function prober(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  let answers = 0;
  let buffered = '';
  let closed = false;
  let held = false;
  let sent = 0;
  const request = 'GET /readyz HTTP/1.1\r\nHost: probe\r\n\r\n';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    // Each answer ends with its JSON body.
    while (buffered.includes('}')) {
      buffered = buffered.slice(buffered.indexOf('}') + 1);
      answers += 1;
      if (!held && !closed) send(request);
    }
  });
  function send(text: string) {
    if (text.endsWith('\r\n\r\n')) sent += 1;
    socket.write(text);
  }
  socket.on('close', () => (closed = true));
  socket.on('error', () => (closed = true));
  return {
    ready: new Promise<void>((resolve) => socket.once('connect', () => resolve())),
    start: () => send(request),
    /** The next request is sent in two halves: the connection is busy (not idle) in between. */
    holdHalfway: () => (held = true),
    sendFirstHalf: () => send('GET /readyz HTTP/1.1\r\n'),
    sendSecondHalf: () => {
      held = false;
      send('Host: probe\r\n\r\n');
    },
    answers: () => answers,
    unanswered: () => sent - answers,
    closed: () => closed,
  };
}

const until = async (predicate: () => boolean) => {
  while (!predicate()) await new Promise((r) => setImmediate(r));
};

describe('the ops server at shutdown', () => {
  it('stops even while a balancer probes it without pause on a kept-alive connection', async () => {
    const server = new OpsServer(new MetricsService('ops-test'), pino({ enabled: false }));
    const port = await server.start(0, '127.0.0.1');
    server.setReady(false);
    const probe = prober(port);
    await probe.ready;
    probe.start();
    await until(() => probe.answers() >= 3);

    // The connection is in the middle of a request when the server is told to stop: closing idle
    // connections does not reach it, and an answer that kept it alive would let the probes go on
    // for ever (the gateway's drain hung this way under the chaos run's balancer).
    probe.holdHalfway();
    await until(() => probe.unanswered() === 0);
    const before = probe.answers();
    probe.sendFirstHalf();
    await new Promise((r) => setImmediate(r));
    const stopped = server.stop();
    probe.sendSecondHalf();
    await stopped;
    await until(() => probe.closed());
    expect(probe.answers()).toBe(before + 1);
  });
});
