// A rolling restart, as an operator's deploy does it: three api replicas
// and two workers on a PostgreSQL and a Redis of the suite's own, behind a
// small load balancer of the test's own (balancer.mjs). Through it, 1,000
// graphql-ws subscribers follow a live match, a feed writes its events at
// a steady rate, anonymous readers read the match, and fans who follow
// either team get in-app and webhook alerts. Each api replica is stopped
// (SIGTERM), waited for and started again, one after the other, then each
// worker. The report (printed as JSON) counts failed writes, events lost
// or repeated for any subscriber, alerts lost or repeated for any fan, and
// the longest a subscriber waited between two events; every count must be
// zero.
//
// Subscribers use graphql-ws's own reconnects (as the scoreboard does) and
// keep `afterSeq` at the last event they saw: graphql-ws sends the same
// subscribe payload again after a reconnect, so a replica going away
// (close 1001) is followed by a resume on another one from that event.
// The feed sends an `externalId` with each event, so a write whose answer
// was lost is sent again safely: a repeat returns the original.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import {
  API_BIN,
  BUS_CHANNEL_PREFIX,
  Feed,
  createFeedUser,
  eventually,
  gql,
  startServer,
} from '../harness.mjs';
import { startBalancer } from './balancer.mjs';
import { codeOf, freePort, probe, sleep, startPostgres, startProcess, startRedis } from './services.mjs';

const WORKER_BIN = process.env.WORKER_BIN ?? path.join(path.dirname(API_BIN), 'worker');

const SUBSCRIBERS = Number(process.env.ROLLING_SUBSCRIBERS ?? 1_000);
const EVENTS_PER_SECOND = Number(process.env.ROLLING_EVENTS_PER_SECOND ?? 2);
const READS_PER_SECOND = 10;
/** Fans following the teams; every other one also takes webhooks. */
const FANS = 40;
const ALERT_KINDS = ['GOAL'];
/** How long the load runs before the first restart and after the last. */
const STEADY_MS = 4_000;
/** Time for a restarted process's peers to settle before the next restart. */
const SETTLE_MS = 5_000;

const EVENTS = `subscription Events($matchId: ID!, $afterSeq: Int) {
  matchEvents(matchId: $matchId, afterSeq: $afterSeq) { seq }
}`;
const RECORD = `mutation Record($matchId: ID!, $input: MatchEventInput!) {
  recordMatchEvent(matchId: $matchId, input: $input) { event { id seq kind } duplicate }
}`;
const READ = `query Read($id: ID!) { match(id: $id) { status lastEventSeq score { home away } } }`;
const INBOX = `query Inbox($after: String) {
  me { notifications(first: 100, after: $after) {
    nodes { id kind payload } pageInfo { hasNextPage endCursor } } }
}`;

test(
  'three api replicas and two workers restarted one by one under load fail no write and lose or repeat no event or alert',
  { timeout: 280_000 },
  async (t) => {
    const began = Date.now();
    const cleanups = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    });

    const [pg, redis, hooks] = await Promise.all([startPostgres(), startRedis(), webhookReceiver()]);
    cleanups.push(() => pg.destroy(), () => redis.kill(), () => hooks.close());
    await createFeedUser(pg.url);

    // ------------------------------------------------------------ processes
    const apiEnv = (port) => ({
      REDIS_URL: redis.url,
      PORT: String(port),
      // The balancer polls /ready every 200 ms: it stops sending new work
      // well within this delay, before the listener closes.
      SHUTDOWN_DELAY_MS: '1000',
      ALLOW_PRIVATE_WEBHOOKS: 'true',
    });
    const replicas = [];
    for (const name of ['api-1', 'api-2', 'api-3']) replicas.push({ name, port: await freePort() });
    const outputs = []; // every process's last lines, for the report
    const startReplica = async (replica) => {
      replica.server = await startServer({ databaseUrl: pg.url, name: replica.name, env: apiEnv(replica.port) });
      outputs.push(replica.server.output);
    };
    await Promise.all(replicas.map(startReplica));
    cleanups.push(() => Promise.all(replicas.map((r) => r.server.stop())));

    const workers = [];
    for (const name of ['worker-1', 'worker-2']) workers.push({ name, port: await freePort() });
    const startWorker = async (worker) => {
      worker.cwd ??= await mkdtemp(path.join(tmpdir(), `itg-faults-${worker.name}-`));
      worker.process = startProcess(WORKER_BIN, [], {
        name: worker.name,
        cwd: worker.cwd,
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: pg.url,
          REDIS_URL: redis.url,
          BUS_CHANNEL_PREFIX,
          METRICS_PORT: String(worker.port),
          JOB_POLL_MS: '200',
          ALLOW_PRIVATE_WEBHOOKS: 'true',
          RUST_LOG: 'warn,worker=info',
        },
      });
      outputs.push(worker.process.output);
      await eventually(async () => (await probe(`http://127.0.0.1:${worker.port}/health`)).status === 200, {
        timeout: 30_000,
        what: `${worker.name} to be healthy\n${worker.process.output.join('\n')}`,
      });
    };
    await Promise.all(workers.map(startWorker));
    cleanups.push(() =>
      Promise.all(workers.map(async (w) => (await w.process.stop(), rm(w.cwd, { recursive: true, force: true })))),
    );

    const lb = await startBalancer(replicas.map(({ name, port }) => ({ name, port })));
    cleanups.push(() => lb.close());
    await eventually(() => replicas.every((r) => lb.isReady(r.name)), { timeout: 10_000, what: 'every replica ready' });
    const through = { url: lb.url, wsUrl: lb.wsUrl };

    // ------------------------------------------------------------- fixtures
    const feed = await Feed.login(through);
    const match = await feed.createMatch();
    const fans = await Promise.all(
      Array.from({ length: FANS }, (_, i) => registerFan(through, i, i % 2 === 0 ? match.home : match.away, hooks)),
    );
    await match.start();
    const sentAt = new Map(); // seq -> when the feed sent it (from seq 2)
    const alertedEvents = []; // ids of the recorded events that alert the fans

    // ---------------------------------------------------------- subscribers
    const subscribers = [];
    for (let i = 0; i < SUBSCRIBERS; i += 1) subscribers.push(subscribe(through, match.matchId, i));
    cleanups.push(() => Promise.all(subscribers.map((s) => s.dispose())));
    await eventually(() => subscribers.every((s) => s.counts.get(1) === 1), {
      timeout: 60_000,
      interval: 200,
      what: `every subscriber to see the kick-off (${subscribers.filter((s) => s.counts.has(1)).length} did)`,
    });

    // ------------------------------------------------------ load, restarts
    let feeding = true;
    const writes = { sent: 0, acknowledged: 0, failed: 0, retries: 0, answeredAsDuplicate: 0, failures: [], seqs: [] };
    const feeder = (async () => {
      const interval = 1_000 / EVENTS_PER_SECOND;
      const start = Date.now();
      for (let i = 0; feeding; i += 1) {
        await sleep(Math.max(0, start + i * interval - Date.now()));
        // Every other event a goal: each alerts every fan.
        const kinds = ['YELLOW_CARD', 'GOAL', 'SUBSTITUTION', 'GOAL'];
        const input = {
          kind: kinds[i % kinds.length],
          minute: Math.min(90, 1 + Math.floor(i / 4)),
          teamId: (Math.floor(i / 2) % 2 === 0 ? match.home : match.away).id,
          player: `Player ${i}`,
          externalId: `rolling-${i}`,
        };
        writes.sent += 1;
        const result = await write(lb.url, feed.token, match.matchId, input);
        writes.retries += result.attempts - 1;
        if (result.event) {
          writes.acknowledged += 1;
          if (result.duplicate) writes.answeredAsDuplicate += 1;
          writes.seqs.push(result.event.seq);
          sentAt.set(result.event.seq, result.sentAt);
          if (ALERT_KINDS.includes(result.event.kind)) alertedEvents.push(String(result.event.id));
        } else {
          writes.failed += 1;
          writes.failures.push(result.error);
        }
      }
    })();
    const reads = { ok: 0, failed: 0, failures: [] };
    const reader = (async () => {
      while (feeding) {
        const outcome = await read(lb.url, match.matchId);
        if (outcome === true) reads.ok += 1;
        else {
          reads.failed += 1;
          if (reads.failures.length < 10) reads.failures.push(outcome);
        }
        await sleep(1_000 / READS_PER_SECOND);
      }
    })();

    await sleep(STEADY_MS);
    const restarts = [];
    for (const replica of replicas) {
      const stopping = Date.now();
      const exit = await replica.server.stop();
      const stoppedAt = Date.now();
      await startReplica(replica);
      await eventually(() => lb.isReady(replica.name), { timeout: 15_000, what: `${replica.name} ready again` });
      restarts.push({ process: replica.name, exit, stopMs: stoppedAt - stopping, outMs: Date.now() - stopping });
      await sleep(SETTLE_MS);
    }
    for (const worker of workers) {
      const stopping = Date.now();
      const exit = await worker.process.stop();
      const stoppedAt = Date.now();
      await startWorker(worker);
      restarts.push({ process: worker.name, exit, stopMs: stoppedAt - stopping, outMs: Date.now() - stopping });
      await sleep(SETTLE_MS);
    }
    await sleep(STEADY_MS);
    feeding = false;
    await Promise.all([feeder, reader]);

    // ------------------------------------------------------------- results
    const lastSeq = 1 + writes.acknowledged;
    // Read through the balancer, possibly from a replica that has not yet
    // heard of the last write over the bus (its cached answer is good until
    // then, as documented for the response cache): wait for it to arrive,
    // then the assertions below check that nothing beyond it was stored.
    let stored;
    await eventually(
      async () => {
        ({ match: stored } = await gql(lb.url, READ, { id: match.matchId }));
        return stored.lastEventSeq >= lastSeq;
      },
      { timeout: 10_000, interval: 100, what: `the stored match to reach seq ${lastSeq}` },
    ).catch(() => {}); // the assertion below says what was stored
    await eventually(() => subscribers.every((s) => s.maxSeq >= lastSeq), {
      timeout: 30_000,
      interval: 200,
      what: `every subscriber to reach seq ${lastSeq}`,
    }).catch(() => {}); // the counts below say who did not
    const expectedAlerts = alertedEvents.length * FANS;
    const expectedHooks = alertedEvents.length * fans.filter((f) => f.webhook).length;
    const alertsInInboxes = async () => {
      let total = 0;
      for (const fan of fans) total += (await inbox(lb.url, fan.token)).filter((n) => n.kind === 'LIVE_EVENT').length;
      return total;
    };
    await eventually(async () => hooks.received >= expectedHooks && (await alertsInInboxes()) >= expectedAlerts, {
      timeout: 60_000,
      interval: 1_000,
      what: 'every alert',
    }).catch(() => {}); // the counts below say which did not come
    await sleep(2_000); // time for a repeat to show up, if there were one

    const events = eventsReport(subscribers, lastSeq, sentAt);
    const inApp = { expected: expectedAlerts, received: 0, lost: 0, repeated: 0 };
    const webhooks = { expected: expectedHooks, received: hooks.received, lost: 0, repeated: 0, redelivered: 0 };
    for (const fan of fans) {
      const seen = new Map();
      for (const n of await inbox(lb.url, fan.token)) {
        if (n.kind !== 'LIVE_EVENT') continue;
        inApp.received += 1;
        const id = String(n.payload.eventId);
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      const hooked = hooks.byFan.get(fan.index) ?? { events: new Map(), deliveries: new Map() };
      for (const id of alertedEvents) {
        const inAppCount = seen.get(id) ?? 0;
        if (inAppCount === 0) inApp.lost += 1;
        if (inAppCount > 1) inApp.repeated += inAppCount - 1;
        if (!fan.webhook) continue;
        const hookCount = hooked.events.get(id) ?? 0;
        if (hookCount === 0) webhooks.lost += 1;
        if (hookCount > 1) webhooks.repeated += hookCount - 1;
      }
      for (const count of hooked.deliveries.values()) webhooks.redelivered += count - 1;
    }

    const report = {
      apiReplicas: replicas.length,
      workers: workers.length,
      subscribers: SUBSCRIBERS,
      runSeconds: Math.round((Date.now() - began) / 1_000),
      restarts,
      writes: {
        sent: writes.sent,
        acknowledged: writes.acknowledged,
        failed: writes.failed,
        retries: writes.retries,
        answeredAsDuplicate: writes.answeredAsDuplicate,
        lastEventSeq: stored.lastEventSeq,
        failures: writes.failures.slice(0, 10),
      },
      reads,
      events,
      notifications: { alertedEvents: alertedEvents.length, fans: FANS, inApp, webhooks },
      balancer: {
        ...lb.stats,
        backends: lb.stats.backends.map(({ name, requests, upgrades }) => ({ name, requests, upgrades })),
      },
    };
    // tower-http logs each 503 as an error: a draining replica's `/ready`
    // and the upgrades that reached it before the balancer saw that. Those
    // are counted apart; anything else logged at WARN or ERROR is listed.
    const logged = outputs.flat().filter((line) => /\b(WARN|ERROR)\b|panicked/.test(line));
    const served503 = (line) => line.includes('classification=Status code: 503');
    const warnings = logged.filter((line) => !served503(line));
    report.logged = { served503: logged.filter(served503).length, otherWarningsAndErrors: warnings.length };
    console.log(`rolling-restart report: ${JSON.stringify(report)}`);
    if (warnings.length) console.log(`warnings and errors logged:\n${warnings.slice(0, 40).join('\n')}`);

    for (const restart of restarts) {
      assert.deepEqual(restart.exit, { code: 0, signal: null }, `${restart.process} did not stop by itself`);
    }
    assert.equal(writes.failed, 0, `failed writes: ${JSON.stringify(writes.failures.slice(0, 10))}`);
    // Each write applied once: the feed wrote one at a time, so its events
    // are numbered straight after the kick-off, and nothing else was stored.
    assert.deepEqual(writes.seqs, Array.from({ length: writes.acknowledged }, (_, i) => i + 2));
    assert.equal(stored.lastEventSeq, lastSeq);
    assert.equal(reads.failed, 0, `failed reads: ${JSON.stringify(reads.failures)}`);
    assert.equal(events.subscriberErrors, 0, JSON.stringify(events.errorSamples));
    assert.equal(events.lost, 0, `events lost: ${JSON.stringify(events.lossSamples)}`);
    assert.equal(events.repeated, 0, `events repeated: ${JSON.stringify(events.repeatSamples)}`);
    assert.equal(inApp.lost, 0, 'in-app alerts lost');
    assert.equal(inApp.repeated, 0, 'in-app alerts repeated');
    assert.equal(webhooks.lost, 0, 'webhook alerts lost');
    assert.equal(webhooks.repeated, 0, 'webhook alerts repeated');
    assert.equal(hooks.badSignatures, 0, 'webhooks with a bad signature');
    // The restarts really moved everyone: every replica was restarted, so
    // every subscriber was sent away at least once and resumed elsewhere.
    assert.equal(events.subscribersReconnected, SUBSCRIBERS);
  },
);

/** One graphql-ws subscriber through the balancer, resuming after its last event. */
function subscribe(server, matchId, index) {
  const payload = { query: EVENTS, variables: { matchId, afterSeq: 0 } };
  const subscriber = {
    index,
    counts: new Map(), // seq -> times delivered
    firstAt: new Map(), // seq -> when it first arrived
    maxSeq: 0,
    outOfOrder: 0,
    connects: 0,
    lastNewAt: undefined,
    longestGapMs: 0,
    errors: [],
  };
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    lazy: true,
    // As a real client does: reconnect on any close, with graphql-ws's
    // randomised backoff, which spreads a replica's subscribers out.
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionAckWaitTimeout: 10_000,
    on: { connected: () => (subscriber.connects += 1) },
  });
  const unsubscribe = client.subscribe(payload, {
    next: (result) => {
      if (result.errors?.length) {
        subscriber.errors.push(JSON.stringify(result.errors));
        return;
      }
      const { seq } = result.data.matchEvents;
      const now = Date.now();
      subscriber.counts.set(seq, (subscriber.counts.get(seq) ?? 0) + 1);
      if (!subscriber.firstAt.has(seq)) subscriber.firstAt.set(seq, now);
      if (seq < subscriber.maxSeq) subscriber.outOfOrder += 1;
      if (seq > subscriber.maxSeq) {
        // Gaps while the feed writes: from its first event on (the kick-off
        // came before every subscriber had connected).
        if (subscriber.maxSeq >= 2) {
          subscriber.longestGapMs = Math.max(subscriber.longestGapMs, now - subscriber.lastNewAt);
        }
        subscriber.lastNewAt = now;
        subscriber.maxSeq = seq;
        // What graphql-ws sends again after a reconnect.
        payload.variables.afterSeq = seq;
      }
    },
    error: (err) => subscriber.errors.push(err?.message ?? JSON.stringify(err)),
    complete: () => subscriber.errors.push('the subscription completed'),
  });
  subscriber.dispose = async () => {
    unsubscribe();
    await client.dispose();
  };
  return subscriber;
}

/** Per-subscriber deliveries of seq 1..lastSeq, summed up. */
function eventsReport(subscribers, lastSeq, sentAt) {
  const report = {
    expectedPerSubscriber: lastSeq,
    lost: 0,
    repeated: 0,
    outOfOrder: 0,
    subscribersWithLoss: 0,
    subscribersWithRepeats: 0,
    subscriberErrors: 0,
    reconnects: 0,
    subscribersReconnected: 0,
    longestGapMs: 0,
    medianLongestGapMs: 0,
    longestDeliveryMs: 0,
    lossSamples: [],
    repeatSamples: [],
    errorSamples: [],
  };
  for (const s of subscribers) {
    let lost = 0;
    let repeated = 0;
    for (let seq = 1; seq <= lastSeq; seq += 1) {
      const count = s.counts.get(seq) ?? 0;
      if (count === 0) lost += 1;
      if (count > 1) repeated += count - 1;
      const arrived = s.firstAt.get(seq);
      if (arrived !== undefined && sentAt.has(seq)) {
        report.longestDeliveryMs = Math.max(report.longestDeliveryMs, arrived - sentAt.get(seq));
      }
    }
    report.lost += lost;
    report.repeated += repeated;
    report.outOfOrder += s.outOfOrder;
    report.subscribersWithLoss += lost > 0 ? 1 : 0;
    report.subscribersWithRepeats += repeated > 0 ? 1 : 0;
    report.subscriberErrors += s.errors.length;
    report.reconnects += Math.max(0, s.connects - 1);
    report.subscribersReconnected += s.connects > 1 ? 1 : 0;
    report.longestGapMs = Math.max(report.longestGapMs, s.longestGapMs);
    const missing = () => Array.from({ length: lastSeq }, (_, i) => i + 1).filter((q) => !s.counts.has(q));
    if (lost && report.lossSamples.length < 5) report.lossSamples.push({ subscriber: s.index, missing: missing().slice(0, 20) });
    if (repeated && report.repeatSamples.length < 5) {
      report.repeatSamples.push({ subscriber: s.index, seqs: [...s.counts].filter(([, c]) => c > 1).map(([q]) => q) });
    }
    if (s.errors.length && report.errorSamples.length < 5) report.errorSamples.push({ subscriber: s.index, errors: s.errors.slice(0, 3) });
  }
  const gaps = subscribers.map((s) => s.longestGapMs).sort((a, b) => a - b);
  report.medianLongestGapMs = gaps[Math.floor(gaps.length / 2)] ?? 0;
  return report;
}

/**
 * Records one event through the balancer. A write whose answer did not
 * come back (the connection broke, the balancer had no replica, the
 * replica was unavailable) is sent again with the same `externalId` until
 * it is answered, for at most 30 s; any other refusal fails it at once.
 */
async function write(url, token, matchId, input) {
  const sentAt = Date.now();
  let attempts = 0;
  let error;
  while (Date.now() - sentAt < 30_000) {
    attempts += 1;
    let retry;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query: RECORD, variables: { matchId, input } }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      let body = {};
      try {
        body = JSON.parse(text);
      } catch {
        // the balancer's own plain-text 502 or 503
      }
      const recorded = body.data?.recordMatchEvent;
      if (res.status === 200 && recorded) {
        return { event: recorded.event, duplicate: recorded.duplicate, attempts, sentAt };
      }
      error = `HTTP ${res.status} ${codeOf(body) ?? ''} ${body.errors?.[0]?.message ?? text.slice(0, 200)}`;
      retry = res.status === 502 || res.status === 503 || codeOf(body) === 'UNAVAILABLE';
    } catch (err) {
      error = `${err.name}: ${err.message} ${err.cause?.code ?? ''}`;
      retry = true;
    }
    if (!retry) break;
    await sleep(250);
  }
  return { error: `${input.externalId}: ${error}`, attempts };
}

/** One anonymous read through the balancer: `true`, or what went wrong. */
async function read(url, matchId) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: READ, variables: { id: matchId } }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (res.status === 200 && JSON.parse(text).data?.match?.lastEventSeq >= 1) return true;
    return `HTTP ${res.status} ${text.slice(0, 200)}`;
  } catch (err) {
    return `${err.name}: ${err.message} ${err.cause?.code ?? ''}`;
  }
}

/** A fan who follows `team` with live alerts in the inbox; even ones by webhook too. */
async function registerFan(server, index, team, hooks) {
  const { register } = await gql(
    server.url,
    `mutation R($input: RegisterInput!) { register(input: $input) { token } }`,
    {
      input: {
        email: `fan-${index}-${Date.now().toString(36)}@example.com`,
        password: 'correct horse battery',
        displayName: `Fan ${index}`,
        timeZone: 'UTC',
      },
    },
  );
  const token = register.token;
  await gql(server.url, `mutation F($t: ID!) { followTeam(teamId: $t) { team { id } } }`, { t: team.id }, { token });
  const webhook = index % 2 === 0;
  const { updateNotificationPreferences } = await gql(
    server.url,
    `mutation P($input: NotificationPreferencesInput!) {
      updateNotificationPreferences(input: $input) { webhookSecret }
    }`,
    {
      input: {
        liveAlerts: { enabled: true, kinds: ALERT_KINDS },
        channels: { inApp: true, email: false, webhook },
        ...(webhook ? { webhookUrl: `${hooks.url}/fan/${index}` } : {}),
      },
    },
    { token },
  );
  if (webhook) hooks.secrets.set(index, updateNotificationPreferences.webhookSecret);
  return { index, token, webhook };
}

/** Every LIVE_EVENT and other notification in a fan's inbox, all pages. */
async function inbox(url, token) {
  const nodes = [];
  let after = null;
  for (;;) {
    const { me } = await gql(url, INBOX, { after }, { token });
    nodes.push(...me.notifications.nodes);
    if (!me.notifications.pageInfo.hasNextPage) return nodes;
    after = me.notifications.pageInfo.endCursor;
  }
}

/**
 * A webhook receiver: checks each delivery's signature with its fan's
 * secret and counts deliveries per fan by event and by delivery id.
 */
async function webhookReceiver() {
  const receiver = { received: 0, badSignatures: 0, secrets: new Map(), byFan: new Map() };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const fan = Number(req.url.split('/').at(-1));
      const secret = receiver.secrets.get(fan);
      const timestamp = req.headers['x-inthegame-timestamp'];
      const expected = secret
        ? `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex')}`
        : undefined;
      if (!expected || expected !== req.headers['x-inthegame-signature']) {
        receiver.badSignatures += 1;
        res.writeHead(401).end();
        return;
      }
      const { notification } = JSON.parse(raw.toString());
      if (notification.kind === 'LIVE_EVENT') {
        receiver.received += 1;
        const counts = receiver.byFan.get(fan) ?? { events: new Map(), deliveries: new Map() };
        receiver.byFan.set(fan, counts);
        const id = String(notification.payload.eventId);
        counts.events.set(id, (counts.events.get(id) ?? 0) + 1);
        const delivery = req.headers['x-inthegame-delivery'];
        counts.deliveries.set(delivery, (counts.deliveries.get(delivery) ?? 0) + 1);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${server.address().port}`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
  return receiver;
}
