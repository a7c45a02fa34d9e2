// GraphiQL's page picks the websocket for subscriptions itself (GraphiQL's
// fetcher sends anonymous ones over HTTP); these are the documents it must
// tell apart. The browser tests run the function in GraphiQL too.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

const source = await readFile(new URL('../api/assets/graphiql.js', import.meta.url), 'utf8');
const body = source.slice(source.indexOf('  function operationType'), source.indexOf('  const defaultQuery'));
const operationType = new Function(`${body}; return operationType;`)();

test('the operation a GraphiQL document runs is told from its top level only', () => {
  const cases = [
    ['subscription { liveScores { id } }', undefined, 'subscription'],
    ['{ a }', undefined, 'query'],
    ['# subscription\n{ a }', undefined, 'query'],
    ['subscription($id: ID!) { matchEvents(matchId: $id) { seq } }', undefined, 'subscription'],
    ['query Q { a } subscription S { b }', 'S', 'subscription'],
    ['query Q { a } subscription S { b }', 'Q', 'query'],
    ['query Q { a } subscription S { b }', undefined, undefined],
    ['subscription S($query: F = {a: "}"}) { b(x: "{") { c } }', undefined, 'subscription'],
    ['fragment F on Match { id } subscription { liveScores { ...F } }', undefined, 'subscription'],
    ['mutation { x(a: """subscription {""") }', undefined, 'mutation'],
  ];
  for (const [query, name, expected] of cases) {
    assert.equal(operationType(query, name), expected, `${query} (${name})`);
  }
});
