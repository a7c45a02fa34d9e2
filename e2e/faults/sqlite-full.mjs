// The embedded default (SQLite, in-process bus, the worker inside the api)
// with its database on a small filesystem that fills up and is then freed:
// every acknowledged write is in the file afterwards, refused writes say
// UNAVAILABLE, /ready tells the truth meanwhile, and writes and the job
// workers recover by themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Feed, createFeedUser, eventually, run, startServer } from '../harness.mjs';
import { RECORD, codeOf, post, probe, smallDisk } from './services.mjs';


test('a full disk loses no acknowledged event, and writes and workers recover once it is freed', async (t) => {
  const disk = await smallDisk(24);
  t.after(() => disk.destroy());
  const outbox = await mkdtemp(path.join(tmpdir(), 'itg-faults-mail-'));
  t.after(() => rm(outbox, { recursive: true, force: true }));
  const databaseUrl = `sqlite://${disk.dir}/inthegame.db?mode=rwc`;
  await createFeedUser(databaseUrl);
  const server = await startServer({
    databaseUrl,
    env: { EMBEDDED_WORKER: 'true', JOB_POLL_MS: '200', MAIL_OUTBOX_DIR: outbox },
  });
  t.after(() => server.stop());
  const origin = new URL(server.url).origin;
  const feed = await Feed.login(server);
  const match = await feed.createMatch();
  await match.start();

  const acknowledged = []; // { seq, player }
  const refusals = [];
  let n = 0;
  const record = async () => {
    n += 1;
    const player = `Player ${n}`;
    const res = await post(server.url, RECORD, {
      matchId: match.matchId,
      input: { kind: 'YELLOW_CARD', minute: 10, teamId: match.home.id, player, detail: 'x'.repeat(400) },
    }, feed.token);
    const event = res.body.data?.recordMatchEvent?.event;
    if (event) {
      assert.equal(event.player, player);
      acknowledged.push(event);
    } else {
      refusals.push({ status: res.status, code: codeOf(res.body), retryAfter: res.retryAfter });
    }
    return Boolean(event);
  };

  for (let i = 0; i < 5; i += 1) assert.ok(await record(), 'writes work before the disk fills');
  assert.equal((await probe(`${origin}/ready`)).status, 200);

  await disk.fill();
  // Writes keep coming while the disk is full; each is refused, or (while
  // SQLite still finds room in its pages) stored.
  await eventually(async () => !(await record()), { timeout: 20_000, what: 'a write to be refused' });
  for (let i = 0; i < 15; i += 1) await record();
  const ready = await probe(`${origin}/ready`);
  assert.equal(ready.status, 503, `/ready while the disk is full: ${JSON.stringify(ready.body)}`);
  assert.ok(ready.ms < 1_000, `/ready took ${ready.ms} ms`);
  assert.ok(refusals.length > 0);
  for (const refusal of refusals) {
    assert.deepEqual(refusal, { status: 503, code: 'UNAVAILABLE', retryAfter: '5' });
  }

  await disk.free();
  await eventually(() => record(), { timeout: 15_000, interval: 200, what: 'writes to work again' });
  for (let i = 0; i < 10; i += 1) assert.ok(await record(), 'writes keep working once the disk is freed');
  // The job workers stopped on the full disk; they restart with a backoff
  // of at most 30 s, and /ready reports them until they run again.
  const readyAgain = await eventually(
    async () => {
      const res = await probe(`${origin}/ready`);
      return res.status === 200 && res;
    },
    { timeout: 45_000, interval: 500, what: '/ready to say ready again' },
  );
  assert.ok(Object.values(readyAgain.body.checks.workers).every((s) => s === 'ok'));
  const metrics = (await probe(`${origin}/metrics`)).body;
  t.diagnostic(metrics.split('\n').filter((l) => l.startsWith('inthegame_worker_restarts_total')).join('; '));

  // The embedded worker relays the events recorded after the disk was freed.
  await eventually(
    async () =>
      Number(
        (await run('sqlite3', [`${disk.dir}/inthegame.db`, 'SELECT count(*) FROM outbox WHERE relayed_at IS NULL'])).trim(),
      ) === 0,
    { timeout: 30_000, interval: 500, what: 'the worker to relay every outbox row' },
  );
  await server.stop();

  // A reader of the file sees every acknowledged event, under its seq.
  const stored = (
    await run('sqlite3', [
      '-separator', '|',
      `${disk.dir}/inthegame.db`,
      `SELECT seq, player FROM match_events WHERE match_id = ${match.matchId} ORDER BY seq`,
    ])
  )
    .trim()
    .split('\n')
    .map((line) => {
      const [seq, player] = line.split('|');
      return { seq: Number(seq), player };
    });
  const bySeq = new Map(stored.map((e) => [e.seq, e.player]));
  for (const event of acknowledged) {
    assert.equal(bySeq.get(event.seq), event.player, `acknowledged event ${event.seq} is stored`);
  }
  t.diagnostic(`${acknowledged.length} events acknowledged, ${refusals.length} refused, ${stored.length} stored`);
});

