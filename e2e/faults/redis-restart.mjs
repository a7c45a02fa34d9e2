// Two api replicas on PostgreSQL and a Redis of the suite's own. Redis is
// killed (SIGKILL) under subscribers on both replicas while the feed keeps
// writing, then started again: every write is answered from its commit
// (none is answered as failed), and every subscriber on either replica
// ends up with every event once, in order. A worker process on that Redis
// reports its loops down on /health meanwhile and restarts them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import {
  API_BIN,
  Feed,
  MATCH_EVENTS,
  MatchScript,
  createFeedUser,
  eventually,
  startServer,
  transportWsClient,
} from '../harness.mjs';
import { RECORD, codeOf, freePort, post, probe, sleep, startPostgres, startProcess, startRedis } from './services.mjs';

/** The worker binary sits next to the api binary. */
const WORKER_BIN = process.env.WORKER_BIN ?? path.join(path.dirname(API_BIN), 'worker');


test('a Redis killed and restarted under two replicas loses no event and fails no committed write', async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.destroy());
  const redis = await startRedis();
  t.after(() => redis.kill());
  await createFeedUser(pg.url);
  const env = { REDIS_URL: redis.url, EMBEDDED_WORKER: 'false' };
  const a = await startServer({ databaseUrl: pg.url, name: 'api-A', env });
  t.after(() => a.stop());
  const b = await startServer({ databaseUrl: pg.url, name: 'api-B', env });
  t.after(() => b.stop());
  const feed = await Feed.login(a);
  const match = await feed.createMatch();

  const clients = [transportWsClient(a, 'on A'), transportWsClient(b, 'on B')];
  t.after(() => Promise.all(clients.map((c) => c.dispose())));
  const collectors = clients.map((c) => c.subscribe(MATCH_EVENTS, { matchId: match.matchId, afterSeq: 0 }));

  await match.start();
  for (let i = 0; i < 3; i += 1) await match.recordNth(i);
  for (const events of collectors) {
    await events.until((items) => items.length === match.seq, { what: 'the first events' });
  }

  await redis.kill();
  const answers = [];
  const outageEnds = Date.now() + 6_000;
  let i = 3;
  while (Date.now() < outageEnds) {
    const res = await post(a.url, RECORD, {
      matchId: match.matchId,
      input: { kind: 'YELLOW_CARD', minute: 30, teamId: match.home.id, player: `Player ${i}` },
    }, feed.token);
    answers.push({ status: res.status, code: codeOf(res.body), ms: res.ms, seq: res.body.data?.recordMatchEvent?.event?.seq });
    i += 1;
    await sleep(300);
  }
  const ready = await probe(`${new URL(a.url).origin}/ready`);
  // Reads and writes still work: Redis down degrades live fan-out across
  // replicas, and is reported, but does not take replicas out of service.
  assert.equal(ready.status, 200, 'Redis is down');
  assert.equal(ready.body.status, 'degraded');
  assert.equal(ready.body.checks.redis, 'unavailable');
  assert.ok(ready.ms < 1_000, `/ready took ${ready.ms} ms`);

  await redis.start();
  // With the bus down, each write was still answered, quickly, from its commit.
  for (const answer of answers) {
    assert.equal(answer.status, 200, JSON.stringify(answers));
    assert.ok(answer.ms < 2_000, `a write took ${answer.ms} ms`);
  }
  assert.deepEqual(
    answers.map((x) => x.seq),
    MatchScript.range(match.seq + 1, match.seq + answers.length),
  );
  match.seq += answers.length;

  // The bus is back: a few more events, through the other replica.
  await eventually(async () => (await probe(`${new URL(b.url).origin}/ready`)).status === 200, {
    timeout: 15_000,
    what: 'replica B to be ready again',
  });
  for (let j = 0; j < 3; j += 1) await match.recordNth(i + j, { feed: feed.via(b) });

  const expected = MatchScript.range(1, match.seq);
  for (const events of collectors) {
    await events.until((items) => items.length >= expected.length, {
      timeout: 20_000,
      what: `all ${expected.length} events`,
    });
    await sleep(300);
    assert.deepEqual(events.values('matchEvents', 'seq'), expected, events.label);
  }
});

test('a worker whose queue loses Redis says so on /health, restarts its loops and counts them', async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.destroy());
  const redis = await startRedis();
  t.after(() => redis.kill());
  await createFeedUser(pg.url); // migrates the database
  const port = await freePort();
  const cwd = await mkdtemp(path.join(tmpdir(), 'itg-faults-worker-'));
  t.after(() => rm(cwd, { recursive: true, force: true }));
  const worker = startProcess(WORKER_BIN, [], {
    name: 'worker',
    cwd,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      METRICS_PORT: String(port),
      JOB_POLL_MS: '200',
      RUST_LOG: 'warn,worker=info',
    },
  });
  t.after(() => worker.stop());
  const health = () => probe(`http://127.0.0.1:${port}/health`);
  const explain = () => worker.output.join('\n');
  await eventually(async () => (await health()).status === 200, { timeout: 30_000, what: 'the worker to be healthy' });

  await redis.kill();
  const down = await eventually(
    async () => {
      const res = await health();
      return res.status === 503 && res;
    },
    { timeout: 30_000, what: `/health to report a loop down\n${explain()}` },
  );
  assert.equal(down.body.status, 'down');
  assert.ok(Object.values(down.body.workers).includes('down'), JSON.stringify(down.body));

  await redis.start();
  await eventually(async () => (await health()).status === 200, {
    timeout: 45_000,
    what: `/health to recover\n${explain()}`,
  });
  const metrics = (await probe(`http://127.0.0.1:${port}/metrics`)).body;
  const restarts = [...metrics.matchAll(/^inthegame_worker_restarts_total\{worker="[^"]+"\} (\d+)/gm)]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0);
  assert.ok(restarts > 0, metrics);
});
