// The api (embedded default: SQLite, the worker inside) killed with SIGKILL
// right after it acknowledged a goal: the alert for it is still written,
// once, by the api started again on the same database.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Feed, createDatabase, createFeedUser, eventually, gql, sleep, startServer } from '../harness.mjs';
import { post } from './services.mjs';

test('an api killed right after a write still sends its alert, once', async (t) => {
  const database = await createDatabase();
  t.after(() => database.drop());
  await createFeedUser(database.url);
  const env = { EMBEDDED_WORKER: 'true', JOB_POLL_MS: '200' };
  const first = await startServer({ databaseUrl: database.url, name: 'api-1', env });
  t.after(() => first.stop());
  const feed = await Feed.login(first);
  const match = await feed.createMatch();
  const { register } = await gql(
    first.url,
    `mutation R($input: RegisterInput!) { register(input: $input) { token } }`,
    { input: { email: 'fan@example.com', password: 'correct horse battery', displayName: 'Fan', timeZone: 'UTC' } },
  );
  const fan = register.token;
  await gql(first.url, `mutation F($t: ID!) { followTeam(teamId: $t) { team { id } } }`, { t: match.home.id }, { token: fan });
  await gql(
    first.url,
    `mutation P($input: NotificationPreferencesInput!) { updateNotificationPreferences(input: $input) { preferences { timeZone } } }`,
    { input: { liveAlerts: { enabled: true, kinds: ['GOAL'] }, channels: { inApp: true, email: false, webhook: false } } },
    { token: fan },
  );
  await match.start();

  // SIGKILL as soon as the goal is acknowledged: no graceful anything.
  const goal = await post(first.url, `mutation G($m: ID!, $input: MatchEventInput!) {
    recordMatchEvent(matchId: $m, input: $input) { event { id seq } } }`,
  { m: match.matchId, input: { kind: 'GOAL', minute: 23, teamId: match.home.id, player: 'Saka' } }, feed.token);
  await first.kill();
  assert.equal(goal.status, 200, JSON.stringify(goal.body));
  const eventId = goal.body.data.recordMatchEvent.event.id;

  const second = await startServer({ databaseUrl: database.url, name: 'api-2', env });
  t.after(() => second.stop());
  const inbox = async () =>
    (
      await gql(second.url, `{ me { notifications(first: 20) { nodes { kind payload } } } }`, {}, { token: fan })
    ).me.notifications.nodes.filter((n) => n.kind === 'LIVE_EVENT');
  await eventually(async () => (await inbox()).length > 0, { timeout: 30_000, what: 'the goal alert' });
  await sleep(2_000); // time for a second alert to show up, if there were one
  const alerts = await inbox();
  assert.equal(alerts.length, 1, JSON.stringify(alerts));
  assert.equal(String(alerts[0].payload.eventId), String(eventId));
});
