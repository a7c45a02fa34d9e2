// Apollo Client's automatic persisted queries against the api binary: the
// client sends a hash alone (by GET, as a CDN-friendly app does), is told
// PersistedQueryNotFound, registers the document with a POST, and from then
// on every client reads by hash alone. With PostgreSQL and Redis, a second
// api process knows the document without ever having seen it.
//
//   cd e2e && API_BIN=…/debug/api node --test persisted.test.mjs
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';

import { ApolloClient, HttpLink, InMemoryCache, gql as graphql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

import {
  BUS_CHANNEL_PREFIX,
  PG_ADMIN_URL,
  REDIS_URL,
  createDatabase,
  eventually,
  redisCli,
  startServer,
} from './harness.mjs';

/** Two api processes share documents through Redis, on PostgreSQL. */
const SHARED = Boolean(PG_ADMIN_URL && REDIS_URL);

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

const COMPETITIONS = graphql`
  query Competitions {
    competitions {
      code
    }
  }
`;

/** A fresh Apollo Client with APQ over GET, recording every request it sends. */
function apollo(server, sent) {
  const fetchAndRecord = (url, init) => {
    const parsed = new URL(url);
    sent.push({
      method: init.method,
      hasQuery: init.method === 'GET' ? parsed.searchParams.has('query') : JSON.parse(init.body).query !== undefined,
    });
    return fetch(url, init);
  };
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
      new HttpLink({ uri: server.url, fetch: fetchAndRecord }),
    ),
  });
}

/** A counter from the server's `/metrics`. */
async function counter(server, name) {
  const text = await (await fetch(server.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`inthegame_${name}_total `));
  assert.ok(line, `no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

let database;
const servers = [];

before(async () => {
  database = await createDatabase();
  servers.push(await startServer({ databaseUrl: database.url, name: 'apq-a' }));
  if (SHARED) {
    servers.push(await startServer({ databaseUrl: database.url, name: 'apq-b' }));
  }
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await database?.drop();
});

test("Apollo Client registers a document once, then every client reads it by hash over GET", async () => {
  const [server] = servers;
  const sent = [];
  const first = await apollo(server, sent).query({ query: COMPETITIONS });
  assert.deepEqual(first.data, { competitions: [] });
  // The hash alone by GET, PersistedQueryNotFound, then the document by POST.
  assert.deepEqual(sent, [
    { method: 'GET', hasQuery: false },
    { method: 'POST', hasQuery: true },
  ]);
  assert.equal(await counter(server, 'persisted_queries_not_found'), 1);
  assert.equal(await counter(server, 'persisted_queries_registered'), 1);

  const again = [];
  const second = await apollo(server, again).query({ query: COMPETITIONS });
  assert.deepEqual(second.data, { competitions: [] });
  assert.deepEqual(again, [{ method: 'GET', hasQuery: false }]);
  assert.equal(await counter(server, 'persisted_queries_not_found'), 1);
});

test('a document registered through one api process runs by hash on another (Redis)', { skip: !SHARED }, async () => {
  const [a, b] = servers;
  const query = graphql`
    query Teams {
      teams(first: 5) {
        totalCount
      }
    }
  `;
  await apollo(a, []).query({ query });
  // Written to Redis as the first process answers: wait until it is there.
  await eventually(
    async () => (await redisCli('KEYS', `${BUS_CHANNEL_PREFIX}:pq:doc:*`)).split('\n').length >= 2,
    { what: 'both documents in Redis' },
  );
  const sent = [];
  const result = await apollo(b, sent).query({ query });
  assert.deepEqual(result.data.teams.totalCount, 0);
  assert.deepEqual(sent, [{ method: 'GET', hasQuery: false }]);
  assert.equal(await counter(b, 'persisted_queries_registered'), 0);
});
