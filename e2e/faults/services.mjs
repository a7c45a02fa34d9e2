// Throwaway dependencies for the fault suite: a PostgreSQL cluster and
// Redis servers of its own, on free ports, that the tests may kill and
// restart (never the shared ones on 5432 and 6379), and a small tmpfs to
// fill up. Everything started here is stopped by its owner, and killed when
// this Node process exits.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { eventually, run, sleep } from '../harness.mjs';

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function track(child) {
  children.add(child);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => children.delete(child));
  return exited;
}

/** A Redis server on a port of its own; `kill()` is SIGKILL, `start()` brings it back. */
export async function startRedis() {
  const port = await freePort();
  let child;
  let exited;
  const redis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      exited = track(child);
      await eventually(
        async () => (await run('redis-cli', ['-p', String(port), 'ping'], { timeout: 2_000 })).includes('PONG'),
        { timeout: 10_000, what: `redis on ${port}` },
      );
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
  };
  await redis.start();
  return redis;
}

/**
 * A PostgreSQL cluster of its own (initdb refuses root, so it runs as the
 * `postgres` user), with a database `inthegame`. `stop()` is a fast
 * shutdown that drops every connection; `start()` brings it back.
 */
export async function startPostgres() {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'itg-faults-pg-'));
  await chmod(dir, 0o777);
  const data = path.join(dir, 'data');
  const asPostgres = (args, timeout = 60_000) => run('runuser', ['-u', 'postgres', '--', ...args], { timeout });
  const bin = async (name) => {
    const found = (await run('sh', ['-c', `command -v ${name} || ls /usr/lib/postgresql/*/bin/${name} | tail -n 1`])).trim();
    return found.split('\n')[0];
  };
  const [initdb, pgCtl] = [await bin('initdb'), await bin('pg_ctl')];
  await asPostgres([initdb, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], 120_000);
  const pg = {
    url: `postgres://postgres@127.0.0.1:${port}/inthegame?sslmode=disable`,
    port,
    async start() {
      await asPostgres([
        pgCtl, '-D', data, '-w', '-l', path.join(dir, 'log'),
        '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start',
      ]);
    },
    async stop() {
      await asPostgres([pgCtl, '-D', data, '-w', '-m', 'fast', 'stop']);
    },
    async destroy() {
      await asPostgres([pgCtl, '-D', data, '-w', '-m', 'immediate', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  await run('psql', [`postgres://postgres@127.0.0.1:${port}/postgres`, '-qc', 'CREATE DATABASE inthegame']);
  return pg;
}

/** A tmpfs of `megabytes` at a new folder (needs root). `fill()` takes every free byte. */
export async function smallDisk(megabytes) {
  const dir = await mkdtemp(path.join(tmpdir(), 'itg-faults-disk-'));
  await run('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir]);
  const filler = path.join(dir, 'filler');
  return {
    dir,
    /** Writes a file until the disk is full. */
    async fill() {
      await run('sh', ['-c', `dd if=/dev/zero of=${filler} bs=64k 2>/dev/null; true`]);
    },
    async free() {
      await rm(filler, { force: true });
    },
    async destroy() {
      await run('umount', ['-l', dir]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a release binary as a process of its own; `kill()` is SIGKILL,
 * `stop()` SIGTERM (SIGKILL after 10 s), each resolving to how it exited,
 * `{ code, signal }`. The last lines of its output are kept for failures.
 */
export function startProcess(bin, args, { env, cwd, name }) {
  const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = track(child);
  const output = [];
  for (const [stream, label] of [[child.stdout, 'out'], [child.stderr, 'err']]) {
    stream.on('data', (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        output.push(`[${name} ${label}] ${line}`);
        if (output.length > 300) output.shift();
      }
    });
  }
  return {
    output,
    async kill() {
      child.kill('SIGKILL');
      return exited;
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

/** GET `url`; resolves to `{ status, body, ms }` (body parsed when JSON). */
export async function probe(url, timeout = 5_000) {
  const started = Date.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text
  }
  return { status: res.status, body, ms: Date.now() - started, headers: res.headers };
}

/**
 * A GraphQL POST that never throws on GraphQL errors: resolves to
 * `{ status, body, ms, retryAfter }` so a test can look at failures too.
 */
export async function post(url, query, variables, token, timeout = 20_000) {
  const started = Date.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeout),
  });
  const body = await res.json();
  return { status: res.status, body, ms: Date.now() - started, retryAfter: res.headers.get('retry-after') };
}

/** Records one match event; the answer carries its `seq` and `player`. */
export const RECORD = `mutation Record($matchId: ID!, $input: MatchEventInput!) {
  recordMatchEvent(matchId: $matchId, input: $input) { event { seq player } }
}`;

/** The `extensions.code` of the first error, if any. */
export const codeOf = (body) => body.errors?.[0]?.extensions?.code;

export { sleep };
