// The pages a browser gets, in headless Chromium (Debian's `chromium`,
// driven by playwright-core): GraphiQL runs the README's first query and
// first subscription, and the scoreboard at `/` shows a goal recorded
// through the feed without a reload. Every request to anywhere but the
// api itself is blocked and counted, so these pass only if the pages need
// no network beyond the server.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';

import { Feed, createDatabase, createFeedUser, eventually, gql, startServer } from './harness.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A graphql block of the README, found by the heading above it. */
async function readmeBlock(heading) {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.split(`\n## ${heading}\n`)[1];
  assert.ok(section, `the README has no "## ${heading}" section`);
  const block = section.match(/```graphql\n([\s\S]*?)```/);
  assert.ok(block, `"## ${heading}" has no graphql block`);
  return block[1];
}

/**
 * Chromium with a fresh profile, allowed to reach `origin` only. `blocked`
 * lists what else the pages asked for; `errors` their script errors.
 */
async function openBrowser(origin, viewport = { width: 1280, height: 900 }) {
  const profile = await mkdtemp(path.join(tmpdir(), 'itg-e2e-chromium-'));
  // Playwright passes the profile folder as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport,
    timeout: 60_000,
  });
  const blocked = [];
  const errors = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return {
    page,
    blocked,
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** GraphiQL's editors are CodeMirror 5 instances. */
const editor = (page, selector) => ({
  set: (text) =>
    page.evaluate(
      ([s, t]) => document.querySelector(`${s} .CodeMirror`).CodeMirror.setValue(t),
      [selector, text],
    ),
  get: () =>
    page.evaluate((s) => document.querySelector(`${s} .CodeMirror`)?.CodeMirror.getValue() ?? '', selector),
});

describe('GraphiQL, served by the api with no network', () => {
  let database;
  let server;
  let browser;

  before(async () => {
    database = await createDatabase();
    // The demo loads real seasons and replays a match at 100 ms a minute.
    server = await startServer({
      databaseUrl: database.url,
      name: 'graphiql',
      env: { DEMO: 'true', DEMO_MINUTE_MS: '100' },
      timeout: 120_000,
    });
    browser = await openBrowser(new URL(server.url).origin);
    await browser.page.goto(server.url);
    await browser.page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await database?.drop();
  });

  test("runs the README's first query and shows its result", async () => {
    const { page } = browser;
    await editor(page, '.graphiql-query-editor').set(await readmeBlock('A first query'));
    await page.click('.graphiql-execute-button');
    const response = editor(page, '.graphiql-response');
    const text = await eventually(async () => {
      const value = await response.get();
      return value.includes('"totalCount"') && value;
    }, { timeout: 30_000, what: 'the query result in GraphiQL' });
    const result = JSON.parse(text);
    assert.equal(result.errors, undefined, text);
    assert.ok(result.data.matches.totalCount > 0, text);
    assert.ok(result.data.matches.nodes[0].homeTeam.name, text);
    assert.deepEqual(browser.blocked, []);
    assert.deepEqual(browser.errors, []);
  });

  test("runs the README's first subscription over a websocket and shows updates", async () => {
    const { page } = browser;
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await editor(page, '.graphiql-query-editor').set(await readmeBlock('A first subscription'));
    await page.click('.graphiql-execute-button');
    const response = editor(page, '.graphiql-response');
    const first = await eventually(async () => {
      const value = await response.get();
      return value.includes('"liveScores"') && value;
    }, { timeout: 30_000, what: 'a liveScores payload in GraphiQL' });
    assert.equal(JSON.parse(first).errors, undefined, first);
    // The replay's clock ticks every 100 ms: the next payload differs.
    const next = await eventually(async () => {
      const value = await response.get();
      return value.includes('"liveScores"') && value !== first && value;
    }, { timeout: 30_000, what: 'a second liveScores payload' });
    assert.equal(JSON.parse(next).errors, undefined, next);
    assert.deepEqual(sockets, [server.wsUrl]);
    await page.click('.graphiql-execute-button'); // stops the subscription
    assert.deepEqual(browser.blocked, []);
    assert.deepEqual(browser.errors, []);
  });

  test('the scoreboard shows the Champions League league phase table and its knockout bracket', async () => {
    const { page } = browser;
    await page.goto(new URL('/', server.url).href);
    const option = page.locator('#season option', { hasText: 'UEFA Champions League 2024/25' });
    await option.waitFor({ state: 'attached', timeout: 30_000 });
    await page.selectOption('#season', { label: 'UEFA Champions League 2024/25' });
    const table = page.locator('.standings', { has: page.locator('caption', { hasText: 'League' }) });
    await eventually(async () => (await table.locator('tbody tr').count()) === 36, {
      timeout: 15_000,
      what: 'a league-phase table of 36 clubs',
    });
    const top = await table.locator('tbody tr').first().textContent();
    assert.match(top, /Liverpool FC/);
    assert.match(top, /21$/);
    await page.locator('.bracket .round h4', { hasText: 'Final' }).first().waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('.bracket .round').count(), 5);
    const inferred = page.locator('.tie', { hasText: 'winner from who played on' });
    assert.equal(await inferred.count(), 2);
    assert.match(await inferred.first().locator('.winner').textContent(), /Paris Saint-Germain FC|Real Madrid CF/);
    assert.deepEqual(browser.blocked, []);
    assert.deepEqual(browser.errors, []);

    // A server without a VAPID key (PostgreSQL with none set) sends no Web
    // Push, so no team offers "Notify me".
    const { webPushPublicKey } = await gql(server.url, '{ webPushPublicKey }');
    const notify = table.locator('tbody tr').first().locator('button.notify');
    if (!webPushPublicKey) {
      await page.waitForLoadState('networkidle'); // the page's own question about the key
      assert.equal(await page.locator('button.notify:visible').count(), 0);
      return;
    }
    // "Notify me" on a team asks a visitor who is not signed in to sign in first.
    await notify.click();
    const dialog = page.locator('#sign-in');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await page.locator('#sign-in-team').textContent(), 'Liverpool FC');
    await page.locator('#sign-in-cancel').click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    assert.deepEqual(browser.blocked, []);
    assert.deepEqual(browser.errors, []);
  });
});

describe('The scoreboard at /', () => {
  let database;
  let server;
  let feed;
  let browser;

  before(async () => {
    database = await createDatabase();
    await createFeedUser(database.url);
    server = await startServer({ databaseUrl: database.url, name: 'scoreboard' });
    feed = await Feed.login(server);
    // A phone's width: the page must fit without sideways scrolling.
    browser = await openBrowser(new URL(server.url).origin, { width: 375, height: 740 });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await database?.drop();
  });

  test('shows a goal recorded through the feed without a reload', async () => {
    const match = await feed.createMatch();
    await match.start();
    const { page } = browser;
    await page.goto(new URL('/', server.url).href);
    const card = page.locator(`.match[data-id="${match.matchId}"]`);
    await card.locator('.score', { hasText: '0 – 0' }).waitFor({ timeout: 15_000 });
    await page.getByText('Live: scores update as they happen.').waitFor({ timeout: 15_000 });
    // It opens on the season in play (here a test league's, its teams level).
    await page.locator('.standings tbody tr').first().waitFor({ timeout: 15_000 });
    await page.evaluate(() => {
      window.notReloaded = true;
    });

    await match.record('GOAL', 'home', { minute: 23, player: 'Saka' });
    await card.locator('.score', { hasText: '1 – 0' }).waitFor({ timeout: 15_000 });
    await card.locator('.events li[data-kind="GOAL"]', { hasText: 'Saka' }).waitFor({ timeout: 15_000 });
    assert.match(await page.locator('#announcer').textContent(), /Score: .* 1, .* 0/);
    assert.equal(await page.evaluate(() => window.notReloaded), true);

    // A team's scorers, from its line in the table.
    await page.locator('.standings button', { hasText: match.home.name }).click();
    await page.locator('#scorers-list li', { hasText: 'Saka' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#scorers-title').textContent(), `Scorers: ${match.home.name}`);

    // A match that kicks off after the page loaded appears too.
    const later = await feed.createMatch();
    await later.start();
    await page.locator(`.match[data-id="${later.matchId}"]`).waitFor({ timeout: 15_000 });

    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.equal(overflow, 0, 'the page scrolls sideways at a phone width');
    assert.deepEqual(browser.blocked, []);
    assert.deepEqual(browser.errors, []);
  });
});
