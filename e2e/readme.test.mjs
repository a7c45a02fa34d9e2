// The README is true: each command in its `sh` blocks is run here or by
// CI (and a new one fails this test until it is), and its curl, fetch and
// graphql-ws examples run here against a server with the demo data.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  API_BIN,
  Feed,
  createDatabase,
  createFeedUser,
  eventually,
  gql,
  run,
  startServer,
} from './harness.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
const blocks = (language) =>
  [...readme.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

/** One command per line, continuation lines joined. */
const commands = blocks('sh')
  .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
  .map((line) => line.replace(/\s+#.*$/, '').trim())
  .filter(Boolean);

/** Where each kind of README command runs. */
const RUN_BY = [
  [/^cargo run -p api -- --demo$/, 'e2e/browser.test.mjs and this file (DEMO=true)'],
  [/^cargo test --workspace$/, '.ci/run, on both backends'],
  [/^cargo run -p api -- import /, 'this file'],
  [/^cargo run -p api -- create-user /, 'this file'],
  [/^curl /, 'this file'],
  [/^Q='query=/, 'this file (with the curl lines after it)'],
  [/^(DOC|EXT)=/, 'this file (the persisted query example, with the curl lines after it)'],
  [/^cargo run -p worker -- digest /, 'worker/tests/crash.rs (the digest command tests)'],
  [/^export (DATABASE_URL|REDIS_URL)=/, '.ci/run (the PostgreSQL + Redis run)'],
  // Not this exact line: the harness makes a database per run with psql.
  [/^createdb /, 'e2e/harness.mjs (CREATE DATABASE per run)'],
  [/^cargo run -p (api|worker)$/, '.ci/run and e2e/harness.mjs (the built binaries)'],
  [/^cargo build -p api && cd e2e && npm ci$/, '.ci/run'],
  [/^API_BIN=.* npm test$/, '.ci/run'],
  [/^cargo build --release -p api -p worker && cd e2e && npm ci$/, '.ci/run (the fault suite)'],
  [/^API_BIN=.* npm run faults$/, '.ci/run (the fault suite)'],
  [/^docker compose (--profile demo )?up --build( --scale api=3)?$/, 'e2e/compose.test.mjs (schema check, no engine)'],
];

test('every command in the README is run by this test or by CI', () => {
  assert.ok(commands.length > 5, 'no commands found');
  const unknown = commands.filter((command) => !RUN_BY.some(([pattern]) => pattern.test(command)));
  assert.deepEqual(unknown, [], 'README commands that nothing runs');
});

describe("the README's commands and examples", () => {
  let database;
  let server;
  let cwd;

  before(async () => {
    database = await createDatabase();
    cwd = await mkdtemp(path.join(tmpdir(), 'itg-e2e-readme-'));
    server = await startServer({
      databaseUrl: database.url,
      name: 'readme',
      // A fixed VAPID key: on PostgreSQL Web Push needs one set.
      env: { DEMO: 'true', DEMO_MINUTE_MS: '100', VAPID_PRIVATE_KEY: 'RS0WdYWWo1HajXg3NZR1olzCf31i-ZBGDkFyCs7j1jw' },
      timeout: 120_000,
    });
  });

  after(async () => {
    await server?.stop();
    await database?.drop();
    await rm(cwd, { recursive: true, force: true });
  });

  /** A README command with the api binary for `cargo run` and this server's address. */
  const local = (command) =>
    command
      .replace(/^cargo run -p api --/, API_BIN)
      .replaceAll('http://127.0.0.1:8002', new URL(server.url).origin)
      .replaceAll('ws://127.0.0.1:8002', new URL(server.wsUrl).origin);

  const sh = (command) =>
    run('bash', ['-c', command], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: database.url, RUST_LOG: 'warn', NO_COLOR: '1' },
      timeout: 120_000,
    });

  test('the import command loads the bundled season it names', async () => {
    const command = commands.find((c) => c.startsWith('cargo run -p api -- import '));
    const output = await sh(local(command));
    // The demo imported the same file already: nothing changes.
    assert.match(output, /-> PL 2023\/24/);
    assert.match(output, /^matches\s+0\s+0\s+380\s+0$/m);
  });

  test('the create-user command makes an admin', async () => {
    const command = commands.find((c) => c.startsWith('cargo run -p api -- create-user '));
    // No terminal here to ask for the password on.
    const output = await sh(`${local(command)} --password 'correct horse battery'`);
    assert.match(output, /you@example\.com/);
  });

  test('the register, follow and digest mutations work as written', async () => {
    const graphql = blocks('graphql');
    const register = graphql.find((b) => b.includes('register(input:'));
    const { register: account } = await gql(server.url, register);
    assert.equal(account.user.role, 'USER');
    const { team } = await gql(server.url, '{ team(slug: "arsenal-fc") { id } }');
    const follow = graphql.find((b) => b.includes('followTeam('));
    const data = await gql(server.url, follow.replace('teamId: "1"', `teamId: "${team.id}"`), {}, {
      token: account.token,
    });
    assert.equal(data.followTeam.team.name, 'Arsenal FC');
    assert.deepEqual(data.updateNotificationPreferences.preferences.dailyDigest, {
      enabled: true,
      time: '08:00',
    });
  });

  test('the competition and match follow examples work as written, and list the follows', async () => {
    const graphql = blocks('graphql');
    const register = graphql
      .find((b) => b.includes('register(input:'))
      .replace('ada@example.com', 'follows@example.com');
    const { register: account } = await gql(server.url, register);
    const { competition } = await gql(server.url, '{ competition(code: "PL") { id } }');
    const { matches } = await gql(server.url, '{ matches(first: 1) { nodes { id homeTeam { name } } } }');
    const [game] = matches.nodes;
    const follow = graphql
      .find((b) => b.includes('followCompetition('))
      .replace('competitionId: "1"', `competitionId: "${competition.id}"`)
      .replace('matchId: "1"', `matchId: "${game.id}"`);
    const data = await gql(server.url, follow, {}, { token: account.token });
    assert.equal(data.followCompetition.competition.code, 'PL');
    assert.deepEqual(data.followCompetition.alertKinds, ['FINAL_RESULT']);
    assert.equal(data.followMatch.match.homeTeam.name, game.homeTeam.name);
    assert.deepEqual(data.followMatch.alertKinds, ['GOAL', 'FULL_TIME']);
    const listed = graphql.find((b) => b.includes('competitionFollows {'));
    const { me } = await gql(server.url, listed, {}, { token: account.token });
    assert.deepEqual(me.follows, []);
    assert.deepEqual(me.competitionFollows, [
      { competition: { code: 'PL', name: 'English Premier League' }, alertKinds: ['FINAL_RESULT'] },
    ]);
    assert.equal(me.matchFollows[0].match.id, game.id);
  });

  test('the Web Push example subscribes a browser for the signed-in account', async () => {
    const graphql = blocks('graphql');
    const register = graphql
      .find((b) => b.includes('register(input:'))
      .replace('ada@example.com', 'push@example.com');
    const { register: account } = await gql(server.url, register);
    const { webPushPublicKey } = await gql(server.url, '{ webPushPublicKey }');
    assert.match(webPushPublicKey, /^[A-Za-z0-9_-]{87}$/);
    const subscribe = graphql.find((b) => b.includes('subscribeWebPush('));
    const data = await gql(server.url, subscribe, {}, { token: account.token });
    assert.equal(data.subscribeWebPush.endpoint, 'https://fcm.googleapis.com/fcm/send/readme-example');
    const { me } = await gql(server.url, '{ me { webPushSubscriptions { endpoint } } }', {}, {
      token: account.token,
    });
    assert.deepEqual(me.webPushSubscriptions, [{ endpoint: data.subscribeWebPush.endpoint }]);
  });

  test('the penalty and VAR example records its events, and the match reads them back', async () => {
    await createFeedUser(database.url);
    const feed = await Feed.login(server);
    const game = await feed.createMatch();
    await game.start();
    const graphql = blocks('graphql');
    const record = graphql.find((b) => b.includes('kind: PENALTY_AWARDED'));
    const recorded = await feed.request(record, { match: game.matchId, team: game.home.id });
    assert.deepEqual(
      [recorded.award.event, recorded.check.event, recorded.decision.event],
      [
        { seq: 2, kind: 'PENALTY_AWARDED' },
        { seq: 3, kind: 'VAR_CHECK' },
        { seq: 4, kind: 'VAR_DECISION' },
      ],
    );
    assert.equal(recorded.decision.match.lastEventSeq, 4);
    const again = await feed.request(record, { match: game.matchId, team: game.home.id });
    assert.equal(again.decision.match.lastEventSeq, 4, 'the externalIds make a repeat a no-op');
    const read = graphql.find((b) => b.includes('match(id: $match) { events'));
    const { match } = await gql(server.url, read, { match: game.matchId });
    assert.deepEqual(match.events, [
      { seq: 1, kind: 'KICK_OFF', minute: null, team: null, detail: null },
      { seq: 2, kind: 'PENALTY_AWARDED', minute: 20, team: { name: game.home.name }, detail: 'Saka brought down' },
      { seq: 3, kind: 'VAR_CHECK', minute: 21, team: null, detail: 'Possible offside in the build-up' },
      { seq: 4, kind: 'VAR_DECISION', minute: 22, team: null, detail: 'Penalty stands' },
    ]);
  });

  test('the stream delay example sets the delay, and one past 120 s is refused on its field', async () => {
    const graphql = blocks('graphql');
    const register = graphql
      .find((b) => b.includes('register(input:'))
      .replace('ada@example.com', 'delay@example.com');
    const { register: account } = await gql(server.url, register);
    const example = graphql.find((b) => b.includes('streamDelaySeconds: 45'));
    const data = await gql(server.url, example, {}, { token: account.token });
    assert.deepEqual(data.updateNotificationPreferences.preferences, { streamDelaySeconds: 45 });
    const refused = await gql(server.url, example.replace('45', '121'), {}, { token: account.token }).then(
      () => assert.fail('121 s was accepted'),
      (err) => err.errors,
    );
    assert.equal(refused[0].extensions.code, 'BAD_USER_INPUT');
    assert.deepEqual(refused[0].extensions.fields, {
      streamDelaySeconds: ['must be from 0 to 120 seconds, not 121'],
    });
    const { me } = await gql(server.url, '{ me { preferences { streamDelaySeconds } } }', {}, {
      token: account.token,
    });
    assert.equal(me.preferences.streamDelaySeconds, 45);
  });

  test('the stage, bracket and scorers examples answer with the Champions League as published', async () => {
    const graphql = blocks('graphql');
    const stages = graphql.find((b) => b.includes('stages { name kind rounds }'));
    const [season] = (await gql(server.url, stages)).competition.seasons;
    assert.deepEqual(
      season.stages.map((s) => [s.name, s.kind]),
      [['League', 'TABLE'], ['Playoffs', 'KNOCKOUT'], ['Finals', 'KNOCKOUT']],
    );
    assert.equal(season.standings.length, 36);
    assert.ok(season.standings.every((row) => row.played === 8));
    assert.deepEqual(season.standings[0], {
      position: 1,
      team: { name: 'Liverpool FC' },
      played: 8,
      points: 21,
    });
    // Level with Bayern up to wins; UEFA's next tie-breaker, away wins, puts Real Madrid 11th.
    assert.deepEqual(
      season.standings.slice(10, 12).map((row) => [row.position, row.team.name]),
      [[11, 'Real Madrid CF'], [12, 'FC Bayern München']],
    );
    const { competition } = await gql(server.url, '{ competition(code: "CL") { seasons { id } } }');
    const id = competition.seasons[0].id;
    const bracket = graphql.find((b) => b.includes('bracket(seasonId: $season)'));
    const rounds = (await gql(server.url, bracket, { season: id })).bracket;
    assert.deepEqual(
      rounds.map((r) => r.name),
      ['Playoffs', 'Round of 16', 'Quarterfinals', 'Semifinals', 'Final'],
    );
    const inferred = rounds[1].ties.filter((t) => t.winnerInferred).map((t) => t.winner.name);
    assert.deepEqual(inferred.sort(), ['Paris Saint-Germain FC', 'Real Madrid CF']);
    const scorers = graphql.find((b) => b.includes('scorers(seasonId'));
    const lines = (await gql(server.url, scorers, { season: id })).scorers;
    assert.ok(Array.isArray(lines));
  });

  test('the curl example answers', async () => {
    const curls = commands.filter((c) => c.startsWith('curl ') && c.includes('competitions'));
    assert.ok(curls.length > 0);
    for (const command of curls) {
      const body = JSON.parse(await sh(local(command)));
      assert.equal(body.errors, undefined, JSON.stringify(body));
      assert.ok(body.data.competitions.some((c) => c.code === 'PL'), JSON.stringify(body));
    }
  });

  test('the persisted query example is not found, then registered, then run by its hash', async () => {
    const [doc, ext] = ['DOC=', 'EXT='].map((start) => commands.find((c) => c.startsWith(start)));
    const curls = commands.filter((c) => c.startsWith('curl ') && c.includes('$EXT')).map(local);
    assert.equal(curls.length, 3);
    const answers = [];
    for (const curl of curls) answers.push(JSON.parse(await sh(`${doc}; ${ext}; ${curl}`)));
    assert.equal(answers[0].errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND', JSON.stringify(answers[0]));
    assert.equal(answers[0].errors[0].message, 'PersistedQueryNotFound');
    for (const body of answers.slice(1)) {
      assert.equal(body.errors, undefined, JSON.stringify(body));
      assert.ok(body.data.competitions.some((c) => c.code === 'PL'), JSON.stringify(body));
    }
  });

  /** The README's commands that mention `part`, the etag placeholder filled in. */
  const withEtag = (part, etag) =>
    commands.filter((c) => c.includes(part)).map((c) => local(c).replaceAll('"…the etag…"', etag));

  test('the calendar feed examples answer, and a matching ETag gets 304', async () => {
    const [feed, head, conditional] = withEtag('/calendar/season/1.ics', '');
    assert.match(await sh(feed), /^BEGIN:VCALENDAR/);
    const etag = (await sh(head)).trim().split(/:\s*/)[1];
    assert.match(etag, /^"[^"]+"$/);
    const [, , again] = withEtag('/calendar/season/1.ics', etag);
    assert.equal(conditional === undefined, false);
    assert.equal((await sh(again)).trim(), '304');
  });

  test('the freshness examples carry an ETag and Cache-Control, and a matching ETag gets 304', async () => {
    const assign = commands.find((c) => c.startsWith("Q='query="));
    const [headers] = withEtag('"$Q"', '');
    const out = await sh(`${assign}; ${headers}`);
    assert.match(out, /cache-control: public, max-age=5/i);
    const etag = out.match(/^etag:\s*(\S+)/im)[1];
    const [, conditional] = withEtag('"$Q"', etag);
    assert.equal((await sh(`${assign}; ${conditional}`)).trim(), '304');
  });

  test('the fetch example prints the competition', async () => {
    const example = blocks('js').find((b) => b.includes('await fetch('));
    const output = await runScript(local(example), { until: /Premier League/ });
    assert.match(output, /seasons/);
  });

  test('the graphql-ws example prints live scores', async () => {
    const example = blocks('js').find((b) => b.includes("from 'graphql-ws'"));
    await runScript(local(example), { until: /^\d+' .+ \d+-\d+ .+$/m });
  });
});

/**
 * Runs a JavaScript example as a module from e2e/ (where its packages
 * are), until its output matches `until`; an example that loops forever
 * is then stopped.
 */
async function runScript(source, { until, timeout = 30_000 }) {
  const file = path.join(new URL('.', import.meta.url).pathname, `.readme-example-${process.pid}.mjs`);
  await writeFile(file, source);
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await eventually(() => until.test(output) || (exited && Promise.reject(new Error(output))), {
      timeout,
      what: `output matching ${until}`,
    });
    return output;
  } finally {
    child.kill('SIGKILL');
    await rm(file, { force: true });
  }
}
