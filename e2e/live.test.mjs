// Live match updates, end to end, through real npm GraphQL clients: every
// subscriber gets every event once, in order, with no gap — on one api
// process, across two api processes sharing one Redis, and across Redis
// dropping the processes' subscriber connections.
//
//   cd e2e && API_BIN=/root/.cache/inthegame-target/debug/api npm test
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 \
//     API_BIN=/root/.cache/inthegame-target/debug/api npm test
//
// Without DATABASE_URL every test gets its own SQLite file and the
// in-process bus. With a postgres DATABASE_URL, one fresh database is made
// for this run (and dropped at the end); with REDIS_URL the Redis bus is
// used, on a channel prefix of this run's own. The two-process tests need
// both.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  BUS_CHANNEL_PREFIX,
  Feed,
  LIVE_SCORES,
  MATCH_EVENTS,
  MATCH_UPDATED,
  MatchScript,
  PG_ADMIN_URL,
  REDIS_URL,
  busSubscribers,
  createDatabase,
  createFeedUser,
  eventually,
  legacyWsClient,
  openSubscriptions,
  redisCli,
  sleep,
  startServer,
  transportWsClient,
} from './harness.mjs';

const { range } = MatchScript;

/** How long to keep listening after the last expected message, to catch extras. */
const SETTLE_MS = 500;

// With PostgreSQL, one fresh database for the whole file run.
let sharedDatabase;
before(async () => {
  if (!PG_ADMIN_URL) return;
  sharedDatabase = await createDatabase();
  await createFeedUser(sharedDatabase.url);
});
after(async () => {
  await sharedDatabase?.drop();
});

/**
 * Starts `replicas` api processes on one database (and, with REDIS_URL, one
 * bus prefix) and signs the feed in on the first. Everything it starts, and
 * everything passed to `defer`, is cleaned up after the test, newest first.
 */
async function deploy(t, { replicas = 1 } = {}) {
  const cleanups = [];
  t.after(async () => {
    const errors = [];
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw new AggregateError(errors, 'cleanup failed');
  });
  let database = sharedDatabase;
  if (!database) {
    database = await createDatabase();
    cleanups.push(() => database.drop());
    await createFeedUser(database.url);
  }
  const servers = [];
  for (let i = 0; i < replicas; i += 1) {
    const server = await startServer({
      databaseUrl: database.url,
      name: replicas === 1 ? 'api' : `api-${'AB'[i] ?? i}`,
    });
    cleanups.push(() => server.stop());
    servers.push(server);
  }
  const feed = await Feed.login(servers[0]);
  t.diagnostic(
    `${database.kind} database, ${REDIS_URL ? `Redis bus (prefix ${BUS_CHANNEL_PREFIX})` : 'in-process bus'}, ` +
      servers.map((s) => `${s.name} ${s.url}`).join(', '),
  );
  return {
    servers,
    server: servers[0],
    feed,
    /** Registers a client (or anything with dispose()) for cleanup; returns it. */
    defer(client) {
      cleanups.push(() => client.dispose());
      return client;
    },
  };
}

/** "1-57, 59-100" */
function ranges(numbers) {
  const parts = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j += 1;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** Asserts that `collector` delivered exactly `from`..`to` of `match`'s events, in order. */
function assertExactEvents(collector, match, from = 1, to = match.seq) {
  const seqs = collector.values('matchEvents', 'seq');
  const want = range(from, to);
  const missing = want.filter((s) => !seqs.includes(s));
  const twice = [...new Set(seqs.filter((s, i) => seqs.indexOf(s) !== i))];
  const outOfOrder = seqs.findIndex((s, i) => i > 0 && s <= seqs[i - 1]);
  assert.deepEqual(
    seqs,
    want,
    `${collector.label} delivered seq [${ranges(seqs)}], want [${ranges(want)}]` +
      (missing.length ? `; missing ${ranges(missing)}` : '') +
      (twice.length ? `; twice ${twice.join(', ')}` : '') +
      (outOfOrder > 0 ? `; out of order at position ${outOfOrder} (${seqs[outOfOrder - 1]} then ${seqs[outOfOrder]})` : ''),
  );
  assert.deepEqual(
    collector.items.map(({ matchEvents: e }) => ({ seq: e.seq, kind: e.kind, team: e.team?.name ?? null })),
    match.recorded.slice(from - 1, to),
    `${collector.label}: kinds and teams differ from what was recorded`,
  );
  assert.ok(
    collector.items.every(({ matchEvents: e }) => e.cancelled === false),
    `${collector.label}: an event came marked cancelled`,
  );
}

/** Waits until `collector` has delivered seq `seq` (the stream is ordered, so all before it too). */
function untilSeq(collector, seq, timeout = 15_000) {
  return collector.until((items) => items.some((i) => i.matchEvents.seq >= seq), {
    timeout,
    what: `seq ${seq}`,
  });
}

/** Waits until `collector`'s matchUpdated shows `lastEventSeq`. */
function untilUpdated(collector, lastEventSeq, timeout = 15_000) {
  return collector.until((items) => items.some((i) => i.matchUpdated.lastEventSeq >= lastEventSeq), {
    timeout,
    what: `matchUpdated with lastEventSeq ${lastEventSeq}`,
  });
}

/** matchUpdated never goes back, and its last message is the match as it ended up. */
function assertFinalUpdate(collector, match) {
  const seqs = collector.values('matchUpdated', 'lastEventSeq');
  assert.ok(
    seqs.every((s, i) => i === 0 || s >= seqs[i - 1]),
    `${collector.label}: lastEventSeq went back: [${seqs.join(', ')}]`,
  );
  assert.deepEqual(
    collector.last('matchUpdated'),
    { status: 'LIVE', lastEventSeq: match.seq, score: match.score },
    `${collector.label}: last matchUpdated differs from the match as recorded`,
  );
}

/** Subscribes matchEvents + matchUpdated, plays a few goals, checks both. */
async function goalsReachSubscriber(t, makeClient) {
  const { server, feed, defer } = await deploy(t);
  const match = await feed.createMatch();
  const client = defer(makeClient(server));
  const events = client.subscribe(MATCH_EVENTS, { matchId: match.matchId, afterSeq: 0 });
  const updates = client.subscribe(MATCH_UPDATED, { matchId: match.matchId });

  // The first matchUpdated is the match as it is: the subscription is live.
  await updates.until((items) => items.length >= 1, { what: 'the current match' });
  assert.equal(updates.items[0].matchUpdated.status, 'SCHEDULED');
  assert.equal(updates.items[0].matchUpdated.lastEventSeq, 0);

  await match.start();
  await match.record('GOAL', 'home', { minute: 12, player: 'Home Scorer' });
  await match.record('GOAL', 'away', { minute: 40, player: 'Away Scorer' });
  await match.record('GOAL', 'home', { minute: 77, player: 'Home Scorer' });
  assert.deepEqual(match.score, { home: 2, away: 1 });

  await untilSeq(events, match.seq);
  await untilUpdated(updates, match.seq);
  await sleep(SETTLE_MS);

  assertExactEvents(events, match);
  assert.deepEqual(events.values('matchEvents', 'minute').slice(1), [12, 40, 77], 'goal minutes');
  assertFinalUpdate(updates, match);
}

test('a goal recorded over HTTP reaches a graphql-transport-ws subscriber in order with the right score', { timeout: 90_000 }, async (t) => {
  await goalsReachSubscriber(t, (server) => transportWsClient(server));
});

test('the legacy graphql-ws protocol (subscriptions-transport-ws) receives the same events', { timeout: 90_000 }, async (t) => {
  await goalsReachSubscriber(t, (server) => legacyWsClient(server));
});

test('a reconnect with afterSeq yields exactly the missed events', { timeout: 90_000 }, async (t) => {
  const { server, feed, defer } = await deploy(t);
  const match = await feed.createMatch();

  const first = defer(transportWsClient(server, 'first connection'));
  const before = first.subscribe(MATCH_EVENTS, { matchId: match.matchId, afterSeq: 0 });
  await match.start();
  for (let i = 1; i <= 4; i += 1) await match.recordNth(i);
  await untilSeq(before, match.seq);
  await sleep(SETTLE_MS);
  assertExactEvents(before, match);
  const lastSeen = before.last('matchEvents').seq;

  await first.dispose();
  // Only once the server has let go of it are we really disconnected.
  await eventually(async () => (await openSubscriptions(server)) === 0, {
    what: 'inthegame_open_subscriptions to drop to 0 after the disconnect',
  });

  for (let i = 5; i <= 10; i += 1) await match.recordNth(i);
  const missedUpTo = match.seq;

  const second = defer(transportWsClient(server, 'second connection'));
  const resumed = second.subscribe(MATCH_EVENTS, { matchId: match.matchId, afterSeq: lastSeen }, 'afterSeq');
  await untilSeq(resumed, missedUpTo);
  await sleep(SETTLE_MS);
  assertExactEvents(resumed, match, lastSeen + 1, missedUpTo);

  for (let i = 11; i <= 14; i += 1) await match.recordNth(i);
  await untilSeq(resumed, match.seq);
  await sleep(SETTLE_MS);
  assertExactEvents(resumed, match, lastSeen + 1, match.seq);
});

test('open subscriptions return to zero in /metrics when clients go away', { timeout: 90_000 }, async (t) => {
  const { server, feed, defer } = await deploy(t);
  const match = await feed.createMatch();
  await match.start(); // so that every subscription below has something to send first
  assert.equal(await openSubscriptions(server), 0, 'open subscriptions before any client');

  const subscribeAll = (client) => [
    client.subscribe(MATCH_EVENTS, { matchId: match.matchId, afterSeq: 0 }),
    client.subscribe(MATCH_UPDATED, { matchId: match.matchId }),
    client.subscribe(LIVE_SCORES, { competitionId: match.competitionId }),
  ];
  const modern = defer(transportWsClient(server));
  const legacy = defer(legacyWsClient(server));
  const collectors = [...subscribeAll(modern), ...subscribeAll(legacy)];
  // A first message on each means the server runs each subscription.
  for (const collector of collectors) {
    await collector.until((items) => items.length >= 1, { what: 'a first message' });
  }
  assert.equal(await openSubscriptions(server), 6, 'open subscriptions with 6 subscribed');

  // graphql-transport-ws: `complete` for each, then a clean close.
  await modern.dispose();
  await eventually(async () => (await openSubscriptions(server)) === 3, {
    what: 'inthegame_open_subscriptions to drop to 3 after one client disposed',
  });

  // Legacy: the TCP connection just goes, with no stop or close frame.
  legacy.terminate();
  await eventually(async () => (await openSubscriptions(server)) === 0, {
    what: 'inthegame_open_subscriptions to drop to 0 after the other client vanished',
  });
});

// Two processes share state only through PostgreSQL and Redis.
const twoProcessesSkip = (!REDIS_URL || !PG_ADMIN_URL) && 'needs REDIS_URL and a postgres DATABASE_URL';

test('two api processes on one Redis: a subscriber on one sees every event recorded through the other, in order, with no gap', { skip: twoProcessesSkip, timeout: 180_000 }, async (t) => {
  const N = 100;
  const { servers: [a, b], feed, defer } = await deploy(t, { replicas: 2 });
  const match = await feed.createMatch(); // through A

  const modern = defer(transportWsClient(b, 'graphql-transport-ws on B'));
  const legacy = defer(legacyWsClient(b, 'legacy graphql-ws on B'));
  const events = [modern, legacy].map((c) => c.subscribe(MATCH_EVENTS, { matchId: match.matchId, afterSeq: 0 }));
  const updates = [modern, legacy].map((c) => c.subscribe(MATCH_UPDATED, { matchId: match.matchId }));
  for (const u of updates) await u.until((items) => items.length >= 1, { what: 'the current match' });

  await match.start(); // through A
  for (let i = 1; match.seq < N; i += 1) await match.recordNth(i);
  assert.equal(match.seq, N);
  t.diagnostic(`recorded ${N} events through ${a.name}; final score ${match.score.home}-${match.score.away}`);

  for (const e of events) await untilSeq(e, N, 30_000);
  for (const u of updates) await untilUpdated(u, N, 30_000);
  await sleep(SETTLE_MS);
  for (const e of events) assertExactEvents(e, match);
  for (const u of updates) assertFinalUpdate(u, match);
});

test('subscribers still end with the complete ordered sequence when Redis drops their connections', { skip: twoProcessesSkip, timeout: 180_000 }, async (t) => {
  const N = 100;
  // Event numbers (after kick-off) to drop the connections before. The last
  // one leaves the final event with nothing after it to reveal a gap: only
  // the refill after the reconnect can deliver it.
  const killBefore = new Set([20, 45, 70, 95, N - 1]);
  const { servers: [a, b], feed, defer } = await deploy(t, { replicas: 2 });
  const match = await feed.createMatch(); // through A

  const onA = defer(transportWsClient(a, 'graphql-transport-ws on A'));
  const onB = defer(transportWsClient(b, 'graphql-transport-ws on B'));
  const legacyOnB = defer(legacyWsClient(b, 'legacy graphql-ws on B'));
  const clients = [onA, onB, legacyOnB];
  const events = clients.map((c) => c.subscribe(MATCH_EVENTS, { matchId: match.matchId, afterSeq: 0 }));
  const updates = clients.map((c) => c.subscribe(MATCH_UPDATED, { matchId: match.matchId }));
  for (const u of updates) await u.until((items) => items.length >= 1, { what: 'the current match' });

  const bothSubscribed = () =>
    eventually(async () => (await busSubscribers()) === 2, {
      timeout: 15_000,
      what: `both api processes to be subscribed to ${BUS_CHANNEL_PREFIX}:live`,
    });
  await bothSubscribed();

  let kills = 0;
  await match.start(); // through A
  for (let i = 1; match.seq < N; i += 1) {
    if (killBefore.has(i)) {
      // Each kill must hit both processes' subscriber connections.
      await bothSubscribed();
      const killed = Number(await redisCli('CLIENT', 'KILL', 'TYPE', 'pubsub'));
      assert.ok(killed >= 2, `CLIENT KILL TYPE pubsub dropped ${killed} connection(s), want at least 2`);
      kills += 1;
    }
    await match.recordNth(i);
  }
  assert.equal(match.seq, N);
  assert.equal(kills, killBefore.size);
  t.diagnostic(`recorded ${N} events through ${a.name}, dropping the Redis subscriber connections ${kills} times`);

  // The processes reconnect by themselves.
  await bothSubscribed();
  for (const e of events) await untilSeq(e, N, 30_000);
  for (const u of updates) await untilUpdated(u, N, 30_000);
  await sleep(SETTLE_MS);
  for (const e of events) assertExactEvents(e, match);
  for (const u of updates) assertFinalUpdate(u, match);
  for (const server of [a, b]) {
    assert.ok(server.alive, `${server.name} is still running`);
    const reconnects = server.output.filter((line) => /bus subscriber reconnected/.test(line)).length;
    t.diagnostic(`${server.name} logged ${reconnects} bus reconnect(s)`);
  }
});
