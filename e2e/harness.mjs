// Helpers for the end-to-end tests in live.test.mjs: start and stop api
// processes, make a fresh database, talk GraphQL over HTTP, and collect
// what subscriptions deliver through the real npm clients (graphql-ws for
// `graphql-transport-ws`, subscriptions-transport-ws for the legacy
// `graphql-ws` protocol).
//
// Every wait here is bounded, and every process started here is stopped by
// its owner (and, as a last resort, killed when this Node process exits).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { createClient } from 'graphql-ws';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';

export { sleep };

// ---------------------------------------------------------------- settings

export const API_BIN = process.env.API_BIN;
if (!API_BIN) {
  throw new Error(
    'API_BIN is not set: point it at the api binary, e.g.\n' +
      '  cd e2e && API_BIN=/root/.cache/inthegame-target/debug/api npm test',
  );
}

/** The PostgreSQL server to make test databases on, or undefined for SQLite. */
export const PG_ADMIN_URL = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')
  ? process.env.DATABASE_URL
  : undefined;
/** Redis for the event bus, or undefined for the in-process bus. */
export const REDIS_URL = process.env.REDIS_URL || undefined;

/** Unique to this run, so that concurrent or repeated runs never meet. */
export const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
/** One Redis channel prefix for every process of this run. */
export const BUS_CHANNEL_PREFIX = `itg-e2e-${RUN_ID}`;

export const FEED_EMAIL = `feed-${RUN_ID}@example.com`;
export const FEED_PASSWORD = 'correct horse battery';

// --------------------------------------------------------------- processes

/** Children still running, killed for sure when this process exits. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGKILL');
    process.exit(130);
  });
}

/** Runs a command to completion; rejects on a non-zero exit or after `timeout` ms. */
export function run(command, args, { env = process.env, cwd, timeout = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit after ${timeout} ms\n${stderr}`));
    }, timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(`${command} ${args.join(' ')} exited ${code ?? signal}\n${stdout}${stderr}`),
        );
    });
  });
}

/** The environment of every api process (and CLI call) of this run. */
function apiEnv(databaseUrl, extra = {}) {
  const env = { ...process.env };
  delete env.REDIS_URL;
  return {
    ...env,
    DATABASE_URL: databaseUrl,
    ...(REDIS_URL ? { REDIS_URL } : {}),
    BUS_CHANNEL_PREFIX,
    // `api=info` so that the "GraphiQL: <url>" line is printed; the bus logs its reconnects.
    RUST_LOG: 'warn,api=info,service::live=info',
    LOG_FORMAT: 'text',
    NO_COLOR: '1',
    EMBEDDED_WORKER: 'false',
    // These tests are about delivery, not about rate limits: a run logs in
    // once per process and sends a few hundred requests in a minute.
    AUTH_ATTEMPTS_PER_IP_PER_MINUTE: '0',
    AUTH_ATTEMPTS_PER_EMAIL_PER_MINUTE: '0',
    REQUESTS_PER_TOKEN_PER_MINUTE: '0',
    REQUESTS_PER_IP_PER_MINUTE: '0',
    ...extra,
  };
}

// ---------------------------------------------------------------- database

/**
 * A fresh, empty database: on the PostgreSQL server of DATABASE_URL when it
 * is one, else a SQLite file in a new temporary folder. `drop()` removes it.
 */
export async function createDatabase() {
  if (PG_ADMIN_URL) {
    const name = `itg_e2e_${RUN_ID}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
    await run('psql', [PG_ADMIN_URL, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE "${name}"`]);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      kind: 'postgres',
      async drop() {
        await run('psql', [
          PG_ADMIN_URL,
          '-v',
          'ON_ERROR_STOP=1',
          '-qc',
          `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`,
        ]);
      },
    };
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'itg-e2e-db-'));
  return {
    url: `sqlite://${dir}/inthegame.db?mode=rwc`,
    kind: 'sqlite',
    async drop() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Creates the FEED account with the CLI (which migrates the database first). */
export async function createFeedUser(databaseUrl) {
  const cwd = await mkdtemp(path.join(tmpdir(), 'itg-e2e-cli-'));
  try {
    await run(
      API_BIN,
      ['create-user', '--email', FEED_EMAIL, '--role', 'feed', '--password', FEED_PASSWORD],
      { env: apiEnv(databaseUrl), cwd, timeout: 60_000 },
    );
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ server

const GRAPHIQL_LINE = /GraphiQL: (http:\/\/[^\s\x1b]+)/;

/**
 * Starts `api` on a free port, with its own temporary working folder, and
 * resolves once it listens. `stop()` sends SIGTERM (SIGKILL after 10 s).
 */
export async function startServer({ databaseUrl, name = 'api', env = {}, timeout = 60_000 }) {
  const cwd = await mkdtemp(path.join(tmpdir(), `itg-e2e-${name}-`));
  const child = spawn(API_BIN, [], {
    cwd,
    env: apiEnv(databaseUrl, { PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output = []; // the last lines of stdout and stderr, for failure messages
  const remember = (stream) => (chunk) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      output.push(`[${name} ${stream}] ${line}`);
      if (output.length > 200) output.shift();
    }
  };
  child.stdout.on('data', remember('out'));
  child.stderr.on('data', remember('err'));
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );

  let url;
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not print its GraphiQL URL within ${timeout} ms`)),
        timeout,
      );
      let buffered = '';
      const onData = (chunk) => {
        buffered += chunk.toString();
        const found = buffered.match(GRAPHIQL_LINE);
        if (found) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve(found[1]);
        }
      };
      child.stdout.on('data', onData);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before listening`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5_000)]);
    await rm(cwd, { recursive: true, force: true });
    err.message += `\n${output.join('\n')}`;
    throw err;
  }

  const base = new URL(url);
  let stopped;
  return {
    name,
    url, // http://127.0.0.1:<port>/graphql
    wsUrl: url.replace(/^http/, 'ws'),
    metricsUrl: `${base.origin}/metrics`,
    output,
    /** Whether the process is still running. */
    get alive() {
      return running.has(child);
    },
    /** SIGKILL: no graceful shutdown, as when a machine dies. */
    async kill() {
      if (running.has(child)) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    /** SIGTERM (SIGKILL after 10 s); resolves to how it exited, `{ code, signal }`. */
    stop() {
      stopped ??= (async () => {
        if (running.has(child)) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        await rm(cwd, { recursive: true, force: true });
        return exited;
      })();
      return stopped;
    },
  };
}

// -------------------------------------------------------------------- HTTP

export class GraphQLRequestError extends Error {
  constructor(operation, status, body) {
    super(`${operation}: HTTP ${status}: ${JSON.stringify(body.errors ?? body)}`);
    this.status = status;
    this.errors = body.errors;
  }
}

/** A GraphQL request over HTTP POST; returns `data` or throws on any error. */
export async function gql(url, query, variables = {}, { token, timeout = 15_000 } = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 500)}`);
  }
  const operation = query.trim().split('\n')[0].slice(0, 60);
  if (!res.ok || body.errors?.length) throw new GraphQLRequestError(operation, res.status, body);
  return body.data;
}

/** The value of `inthegame_open_subscriptions` in the server's /metrics. */
export async function openSubscriptions(server) {
  const res = await fetch(server.metricsUrl, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const found = text.match(/^inthegame_open_subscriptions(?:\{[^}]*\})? (\S+)/m);
  if (!res.ok || !found) {
    throw new Error(`/metrics (HTTP ${res.status}) has no inthegame_open_subscriptions line`);
  }
  return Number(found[1]);
}

/** Polls `check` until it returns a truthy value; throws `describe()` after `timeout` ms. */
export async function eventually(check, { timeout = 10_000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}; last saw: ${last}`);
    }
    await sleep(interval);
  }
}

// -------------------------------------------------------------------- feed

let fixtureCounter = 0;

/**
 * A FEED account signed in on one server: makes fixtures and records match
 * events over HTTP, and keeps the expected score as it goes.
 */
export class Feed {
  static async login(server) {
    const data = await gql(
      server.url,
      `mutation Login($email: String!, $password: String!) {
        login(email: $email, password: $password) { token }
      }`,
      { email: FEED_EMAIL, password: FEED_PASSWORD },
    );
    return new Feed(server, data.login.token);
  }

  constructor(server, token) {
    this.server = server;
    this.token = token;
  }

  request(query, variables) {
    return gql(this.server.url, query, variables, { token: this.token });
  }

  /** Another server of the same deployment, with the same token. */
  via(server) {
    return new Feed(server, this.token);
  }

  /** A competition, season, two teams and a scheduled match between them. */
  async createMatch() {
    fixtureCounter += 1;
    const tag = `${RUN_ID.slice(-5)}${fixtureCounter}`.toUpperCase();
    const { createCompetition } = await this.request(
      `mutation C($input: CreateCompetitionInput!) { createCompetition(input: $input) { id } }`,
      { input: { code: `T${tag}`.slice(0, 10), name: `Test League ${tag}`, kind: 'LEAGUE' } },
    );
    const { createSeason } = await this.request(
      `mutation S($input: CreateSeasonInput!) { createSeason(input: $input) { id } }`,
      { input: { competitionId: createCompetition.id, label: '2025/26' } },
    );
    const team = async (name) =>
      (
        await this.request(
          `mutation T($input: TeamInput!) { createTeam(input: $input) { id name } }`,
          { input: { name } },
        )
      ).createTeam;
    const home = await team(`Alpha FC ${tag}`);
    const away = await team(`Bravo FC ${tag}`);
    const { scheduleMatch } = await this.request(
      `mutation M($input: ScheduleMatchInput!) { scheduleMatch(input: $input) { id status } }`,
      {
        input: {
          seasonId: createSeason.id,
          homeTeamId: home.id,
          awayTeamId: away.id,
          kickoffAt: '2026-12-01T15:00:00Z',
        },
      },
    );
    return new MatchScript(this, {
      matchId: scheduleMatch.id,
      competitionId: createCompetition.id,
      home,
      away,
    });
  }
}

const RECORDED = `event { seq kind } match { status lastEventSeq score { home away } }`;

/**
 * One match as the feed plays it: every call records one event (through
 * whichever server the feed in use points at) and checks the seq it got.
 */
export class MatchScript {
  constructor(feed, { matchId, competitionId, home, away }) {
    this.feed = feed;
    this.matchId = matchId;
    this.competitionId = competitionId;
    this.home = home;
    this.away = away;
    this.seq = 0; // last seq recorded
    this.score = { home: 0, away: 0 };
    this.recorded = []; // [{ seq, kind, team }] in the order recorded
  }

  #check(result, kind, team) {
    const expected = this.seq + 1;
    if (result.event.seq !== expected || result.event.kind !== kind) {
      throw new Error(
        `recorded ${kind} came back as ${JSON.stringify(result.event)}, expected seq ${expected}`,
      );
    }
    this.seq = expected;
    this.recorded.push({ seq: expected, kind, team: team?.name ?? null });
    return result;
  }

  async start(feed = this.feed) {
    const { startMatch } = await feed.request(
      `mutation Start($matchId: ID!) { startMatch(matchId: $matchId) { ${RECORDED} } }`,
      { matchId: this.matchId },
    );
    return this.#check(startMatch, 'KICK_OFF');
  }

  /** Records one event; `side` is 'home' or 'away'. */
  async record(kind, side, { minute, player, feed = this.feed } = {}) {
    const team = side ? this[side] : undefined;
    const { recordMatchEvent } = await feed.request(
      `mutation Record($matchId: ID!, $input: MatchEventInput!) {
        recordMatchEvent(matchId: $matchId, input: $input) { ${RECORDED} duplicate }
      }`,
      {
        matchId: this.matchId,
        input: {
          kind,
          minute: minute ?? Math.min(90, 1 + this.seq),
          ...(team ? { teamId: team.id } : {}),
          player: player ?? `Player ${this.seq + 1}`,
        },
      },
    );
    if (recordMatchEvent.duplicate) throw new Error(`${kind} was taken for a duplicate`);
    if (kind === 'GOAL') this.score[side] += 1;
    return this.#check(recordMatchEvent, kind, team);
  }

  /**
   * The i-th event of a long run, cycling through kinds that are allowed
   * while LIVE: a card, a substitution and a goal, alternating sides.
   */
  recordNth(i, options = {}) {
    const kinds = ['YELLOW_CARD', 'SUBSTITUTION', 'GOAL'];
    const side = i % 2 === 0 ? 'home' : 'away';
    return this.record(kinds[i % kinds.length], side, {
      minute: Math.min(90, 1 + Math.floor(i / 2)),
      ...options,
    });
  }

  /** [from, …, to] */
  static range(from, to) {
    return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  }
}

// ----------------------------------------------------------- subscriptions

export const MATCH_EVENTS = `subscription Events($matchId: ID!, $afterSeq: Int) {
  matchEvents(matchId: $matchId, afterSeq: $afterSeq) { seq kind minute team { name } cancelled }
}`;
export const MATCH_UPDATED = `subscription Updated($matchId: ID!) {
  matchUpdated(matchId: $matchId) { status lastEventSeq score { home away } }
}`;
export const LIVE_SCORES = `subscription Live($competitionId: ID, $teamIds: [ID!]) {
  liveScores(competitionId: $competitionId, teamIds: $teamIds) { id status score { home away } }
}`;

/**
 * What one subscription delivered: `items` are the `data` payloads, in
 * arrival order. `until` waits (bounded) for a condition over them, and
 * fails early if the subscription errors or ends.
 */
export class Collector {
  constructor(label) {
    this.label = label;
    this.items = [];
    this.error = undefined;
    this.done = false;
    this.waiters = new Set();
  }

  push(data) {
    this.items.push(data);
    this.#wake();
  }

  fail(error) {
    if (this.done) return;
    this.error = error instanceof Error ? error : new Error(describe(error));
    this.done = true;
    this.#wake();
  }

  complete() {
    if (this.done) return;
    this.done = true;
    this.#wake();
  }

  #wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** A field of every item, e.g. `values('matchEvents', 'seq')`. */
  values(field, key) {
    return this.items.map((item) => (key ? item[field][key] : item[field]));
  }

  last(field) {
    const item = this.items.at(-1);
    return item && (field ? item[field] : item);
  }

  until(predicate, { timeout = 15_000, what = 'the expected items' } = {}) {
    return new Promise((resolve, reject) => {
      const finish = (fn, value) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        fn(value);
      };
      const check = () => {
        let ok = false;
        try {
          ok = predicate(this.items);
        } catch (err) {
          return finish(reject, err);
        }
        if (ok) return finish(resolve, this.items);
        if (this.done) {
          finish(
            reject,
            new Error(
              `${this.label} ${this.error ? `failed (${this.error.message})` : 'completed'} ` +
                `before ${what}; it had delivered ${this.summary()}`,
            ),
          );
        }
      };
      const timer = setTimeout(
        () =>
          finish(
            reject,
            new Error(
              `${this.label}: timed out after ${timeout} ms waiting for ${what}; ` +
                `it had delivered ${this.summary()}`,
            ),
          ),
        timeout,
      );
      this.waiters.add(check);
      check();
    });
  }

  summary() {
    const compact = this.items.map((item) => {
      const [field] = Object.keys(item);
      const value = item[field];
      if (value && 'seq' in value) return value.seq;
      if (value && 'lastEventSeq' in value)
        return `${value.status}@${value.lastEventSeq}(${value.score.home}-${value.score.away})`;
      return JSON.stringify(value);
    });
    return `${this.items.length} item(s): [${compact.join(', ')}]`;
  }
}

function describe(error) {
  if (Array.isArray(error)) return error.map(describe).join('; ');
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return `websocket closed ${error.code} ${error.reason}`;
  }
  if (error && typeof error === 'object' && 'message' in error) return error.message;
  return JSON.stringify(error);
}

/**
 * A `graphql-transport-ws` connection through graphql-ws's createClient.
 * No retries: a dropped socket fails the subscriptions instead of hiding.
 */
export function transportWsClient(server, label = 'graphql-transport-ws') {
  const sockets = new Set();
  class TrackedWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.add(this);
      this.on('close', () => sockets.delete(this));
    }
  }
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: TrackedWebSocket,
    retryAttempts: 0,
    shouldRetry: () => false,
    lazy: true,
    connectionAckWaitTimeout: 10_000,
  });
  const collectors = [];
  const unsubscribes = [];
  return {
    label,
    subscribe(query, variables, name = Object.keys(variables).join(',')) {
      const collector = new Collector(`${label} ${query.match(/\{\s*(\w+)/)[1]}(${name})`);
      collectors.push(collector);
      unsubscribes.push(
        client.subscribe(
          { query, variables },
          {
            next: (result) =>
              result.errors?.length
                ? collector.fail(new Error(describe(result.errors)))
                : collector.push(result.data),
            error: (err) => collector.fail(err),
            complete: () => collector.complete(),
          },
        ),
      );
      return collector;
    },
    /** Completes every subscription and closes the socket, politely. */
    async dispose() {
      for (const unsubscribe of unsubscribes) unsubscribe();
      await client.dispose();
    },
    /** Drops the TCP connection without any goodbye, like a lost phone. */
    terminate() {
      for (const socket of sockets) socket.terminate();
    },
  };
}

/**
 * A legacy `graphql-ws` connection through subscriptions-transport-ws's
 * SubscriptionClient (with the `ws` implementation). No reconnects.
 */
export function legacyWsClient(server, label = 'legacy graphql-ws') {
  const client = new SubscriptionClient(
    server.wsUrl,
    { reconnect: false, lazy: false, timeout: 30_000, minTimeout: 1_000 },
    WebSocket,
  );
  const collectors = [];
  const subscriptions = [];
  let closing = false;
  client.onDisconnected(() => {
    if (!closing) {
      for (const collector of collectors) collector.fail(new Error('the websocket disconnected'));
    }
  });
  client.onError((err) => {
    if (!closing) for (const collector of collectors) collector.fail(err);
  });
  return {
    label,
    subscribe(query, variables, name = Object.keys(variables).join(',')) {
      const collector = new Collector(`${label} ${query.match(/\{\s*(\w+)/)[1]}(${name})`);
      collectors.push(collector);
      subscriptions.push(
        client.request({ query, variables }).subscribe({
          next: (result) =>
            result.errors?.length
              ? collector.fail(new Error(describe(result.errors)))
              : collector.push(result.data),
          error: (err) => collector.fail(err),
          complete: () => collector.complete(),
        }),
      );
      return collector;
    },
    async dispose() {
      closing = true;
      for (const subscription of subscriptions) subscription.unsubscribe();
      client.close(true, true);
    },
    terminate() {
      closing = true;
      client.client?.terminate();
    },
  };
}

// ------------------------------------------------------------------- Redis

/** Runs redis-cli against REDIS_URL and returns its trimmed output. */
export async function redisCli(...args) {
  if (!REDIS_URL) throw new Error('REDIS_URL is not set');
  return (await run('redis-cli', ['-u', REDIS_URL, ...args], { timeout: 10_000 })).trim();
}

/** How many connections are subscribed to this run's bus channel. */
export async function busSubscribers() {
  const out = await redisCli('PUBSUB', 'NUMSUB', `${BUS_CHANNEL_PREFIX}:live`);
  return Number(out.split('\n')[1]);
}
