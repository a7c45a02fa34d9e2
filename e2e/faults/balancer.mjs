// A small load balancer of the fault suite's own, for the api replicas of
// one test: round-robin over the replicas whose `/ready` answers 200
// (polled every `pollMs`), for HTTP requests and for websocket upgrades.
// A replica that refuses a connection is skipped (nothing reached it, so
// the request goes to the next one); a connection that breaks after the
// request went out is answered 502, as an ordinary balancer would, and the
// client decides whether to try again. Each request opens a connection of
// its own to its replica, so a stopping replica never gets a request on
// an idle keep-alive connection it is closing.
import http from 'node:http';
import net from 'node:net';

import { sleep } from '../harness.mjs';

/**
 * Starts the balancer on a free port in front of `backends`
 * (`[{ name, port }]`, fixed ports: a restarted replica comes back on its
 * own). Resolves to `{ url, wsUrl, stats, close() }`.
 */
export async function startBalancer(backends, { pollMs = 200 } = {}) {
  const pool = backends.map((b) => ({ ...b, ready: false, requests: 0, upgrades: 0 }));
  const stats = {
    requests: 0,
    upgrades: 0,
    /** Connections a replica refused, each retried on the next one. */
    refusedAndSkipped: 0,
    /** Requests answered 502: the replica's connection broke mid-request. */
    badGateway: 0,
    /** Requests answered 503: no replica was ready. */
    noReplica: 0,
    backends: pool,
  };
  let next = 0;
  /** The ready replicas, starting with the next in turn. */
  const candidates = () => {
    const ready = pool.filter((b) => b.ready);
    if (ready.length === 0) return [];
    next = (next + 1) % ready.length;
    return [...ready.slice(next), ...ready.slice(0, next)];
  };

  // As load balancers' health checks do: an answer other than 200 (a
  // draining replica's 503) or a refused connection takes a replica out at
  // once; a check that times out counts only when the next one fails too,
  // so that one slow answer on a busy machine does not empty the pool.
  let polling = true;
  const poll = async (backend) => {
    let timeouts = 0;
    while (polling) {
      try {
        const res = await fetch(`http://127.0.0.1:${backend.port}/ready`, {
          signal: AbortSignal.timeout(1_000),
        });
        await res.arrayBuffer();
        backend.ready = res.status === 200;
        timeouts = 0;
      } catch (err) {
        timeouts = err.name === 'TimeoutError' ? timeouts + 1 : 2;
        if (timeouts >= 2) backend.ready = false;
      }
      await sleep(pollMs);
    }
  };
  const pollers = pool.map(poll);

  const server = http.createServer((req, res) => {
    stats.requests += 1;
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), candidates()));
  });

  function forward(req, res, body, [backend, ...rest]) {
    if (!backend) {
      stats.noReplica += 1;
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end('no replica is ready');
      return;
    }
    const headers = { ...req.headers, connection: 'close' };
    delete headers['keep-alive'];
    const upstream = http.request({
      host: '127.0.0.1',
      port: backend.port,
      method: req.method,
      path: req.url,
      headers,
      agent: false,
    });
    upstream.on('response', (answer) => {
      backend.requests += 1;
      const out = { ...answer.headers };
      delete out.connection;
      delete out['keep-alive'];
      res.writeHead(answer.statusCode, out);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      if (err.code === 'ECONNREFUSED') {
        backend.ready = false;
        stats.refusedAndSkipped += 1;
        forward(req, res, body, rest);
        return;
      }
      stats.badGateway += 1;
      if (res.headersSent) {
        res.destroy();
      } else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`the replica's connection broke: ${err.code ?? err.message}`);
      }
    });
    upstream.end(body);
  }

  const tunnels = new Set();
  server.on('upgrade', (req, socket, head) => {
    stats.upgrades += 1;
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    socket.on('error', () => {});
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    const request = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), head]);
    const tryNext = ([backend, ...rest]) => {
      if (!backend) {
        stats.noReplica += 1;
        socket.end('HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const upstream = net.connect(backend.port, '127.0.0.1');
      let connected = false;
      upstream.on('connect', () => {
        connected = true;
        backend.upgrades += 1;
        upstream.setNoDelay(true);
        socket.setNoDelay(true);
        upstream.write(request);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', (err) => {
        if (!connected && err.code === 'ECONNREFUSED') {
          backend.ready = false;
          stats.refusedAndSkipped += 1;
          tryNext(rest);
          return;
        }
        socket.destroy();
      });
      // A clean end is passed on by the pipe, after what was written.
      upstream.on('close', (hadError) => hadError && socket.destroy());
      socket.on('close', () => upstream.destroy());
    };
    tryNext(candidates());
  });

  // Longer than any client's idle keep-alive, so the balancer never closes
  // a connection a client is about to send on.
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    stats,
    /** Whether the balancer currently sends work to `name`. */
    isReady(name) {
      return pool.find((b) => b.name === name)?.ready ?? false;
    },
    async close() {
      polling = false;
      server.closeAllConnections();
      for (const socket of tunnels) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await Promise.all(pollers);
    },
  };
}
