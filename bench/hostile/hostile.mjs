// A hostile-input suite: starts the api binary, throws a generated corpus of
// bad documents, bodies, headers and websocket frames at it, and reports
// crashes, the share of refusals that carry a code, the api's peak RSS and
// the slowest answer. Exits non-zero when a target is missed.
//
//   node hostile.mjs --bin ../../target/release/api [--quick] [--seed 7]

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const BIN = path.resolve(option('--bin', '../../target/release/api'));
const QUICK = flag('--quick');
const SCALE = QUICK ? 0.1 : 1;
const CONCURRENCY = Number(option('--concurrency', '8'));
const TARGETS = { crashes: 0, codedShare: 1, peakRssMiB: 256, slowestMs: 1000 };

// ---------------------------------------------------------------- corpus
let state = Number(option('--seed', '7')) >>> 0;
function random() {
  // mulberry32: a small seeded generator, so a run can be repeated.
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (list) => list[int(0, list.length - 1)];
const n = (count) => Math.max(2, Math.round(count * SCALE));

const VALID = [
  '{ teams(first: 5) { nodes { name } } }',
  '{ competitions { code seasons { id label } } }',
  '{ matches(first: 3) { totalCount nodes { id status score { home away } } } }',
  '{ __typename }',
];

function doubling(levels, { inline = false, alias = false } = {}) {
  let q = '{ ...F0 }';
  for (let i = 0; i < levels; i++) {
    const spread = inline ? `... on Query { ...F${i + 1} }` : `...F${i + 1}`;
    const second = alias ? `...F${i + 1}` : spread;
    q += ` fragment F${i} on Query { ${spread} ${second} }`;
  }
  return q + ` fragment F${levels} on Query { ${alias ? 'a: __typename b: __typename' : '__typename'} }`;
}

function widening(levels, width) {
  let q = '{ ...F0 }';
  for (let i = 0; i < levels; i++) {
    q += ` fragment F${i} on Query { ${Array(width).fill(`...F${i + 1}`).join(' ')} }`;
  }
  return q + ` fragment F${levels} on Query { __typename }`;
}

function nested(depth) {
  let q = 'name';
  for (let i = 0; i < depth; i++) q = `homeTeam { ${q} }`;
  return `{ match(id: "1") { ${q} } }`;
}

const graphqlCases = [];
const add = (cls, query, extra = {}) => graphqlCases.push({ cls, query, ...extra });

for (let i = 0; i < n(300); i++) {
  add('fragment fan-out', doubling(int(8, 40), { inline: random() < 0.3, alias: random() < 0.3 }));
  add('fragment fan-out', widening(int(3, 12), int(3, 16)));
}
for (let i = 0; i < n(150); i++) {
  add('deep nesting', nested(int(10, 3000)));
  add('deep nesting', `{ ${'{'.repeat(int(10, 5000))}`);
  const d = int(10, 3000);
  add('deep nesting', `{ teams(search: ${'['.repeat(d)}"x"${']'.repeat(d)}) { totalCount } }`);
  const o = int(10, 2000);
  add('deep nesting', `{ matches(filter: ${'{ teamId: '.repeat(o)}1${' }'.repeat(o)}) { totalCount } }`);
}
for (let i = 0; i < n(150); i++) {
  const k = int(40, 4000);
  add('alias bomb', `{ ${Array.from({ length: k }, (_, j) => `a${j}: __typename`).join(' ')} }`);
  add('alias bomb', `{ ${Array.from({ length: int(10, 60) }, (_, j) => `m${j}: matches(first: 100) { nodes { homeTeam { name } } }`).join(' ')} }`);
}
for (let i = 0; i < n(150); i++) {
  add('directive bomb', `{ __typename ${'@skip(if: false) '.repeat(int(40, 3000))} }`);
  add('directive bomb', `{ __typename ${'@include(if: true) @deprecated '.repeat(int(10, 500))} }`);
}
for (let i = 0; i < n(100); i++) {
  add('token bomb', `{ __typename ${'__typename '.repeat(int(1000, 6000))} }`);
  add('token bomb', `query(${Array.from({ length: int(100, 2000) }, (_, j) => `$v${j}: Int`).join(' ')}) { __typename }`);
}
for (let i = 0; i < n(100); i++) {
  add('huge strings and lists', '{ teams(search: $s) { totalCount } }'.replace('{', 'query($s: String) {'), {
    variables: { s: 'x'.repeat(int(1000, 200000)) },
  });
  add('huge strings and lists', 'query($f: MatchFilter) { matches(filter: $f) { totalCount } }', {
    variables: { f: { statuses: Array(int(100, 50000)).fill('LIVE') } },
  });
  add('huge strings and lists', `{ teams(search: "${'y'.repeat(int(1000, 80000))}") { totalCount } }`);
}
for (let i = 0; i < n(100); i++) {
  add('introspection abuse', `{ __schema { types { ${'fields { type { ofType { '.repeat(int(3, 30))}name${' } } }'.repeat(0)} } } }`);
  let t = 'name';
  for (let j = 0; j < int(5, 60); j++) t = `ofType { ${t} }`;
  add('introspection abuse', `{ __type(name: "Match") { fields { type { ${t} } } } }`);
  add('introspection abuse', `{ ${Array.from({ length: int(5, 60) }, (_, j) => `s${j}: __schema { types { name fields { name args { name } } } }`).join(' ')} }`);
}
for (let i = 0; i < n(100); i++) {
  add('input coercion', 'query($d: DateTime) { standings(seasonId: "1", asOf: $d) { position } }', { variables: { d: pick(['yesterday', 1, true, {}, [], '2026-13-45']) } });
  add('input coercion', 'query($f: MatchFilter) { matches(filter: $f) { totalCount } }', { variables: { f: pick([1, 'x', [1], { from: 3 }, { statuses: ['NOPE'] }]) } });
  add('input coercion', 'query($id: ID!) { match(id: $id) { id } }', { variables: pick([{}, { id: null }, { id: {} }]) });
  add('input coercion', `{ matches(first: ${pick([-1, 0, 101, 1e12, '"x"'])}) { totalCount } }`);
}
for (let i = 0; i < n(100); i++) add('valid control', pick(VALID));

// Whole HTTP requests, as bytes.
function httpRequest({ method = 'POST', target = '/graphql', headers = {}, body = null }) {
  const bodyBytes = body === null ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const all = { host: '127.0.0.1', connection: 'close', ...headers };
  if (body !== null && !('content-length' in all)) all['content-length'] = String(bodyBytes.length);
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(all)) if (v !== undefined) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), bodyBytes]);
}
const json = (body, accept = pick(['application/json', 'application/graphql-response+json'])) =>
  httpRequest({ headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });

const httpCases = graphqlCases.map((c) => ({
  cls: c.cls,
  bytes: json({ query: c.query, variables: c.variables }),
}));
const addHttp = (cls, bytes, parser = false) => httpCases.push({ cls, bytes, parser });

for (let i = 0; i < n(150); i++) {
  const good = JSON.stringify({ query: pick(VALID) });
  addHttp('malformed JSON', httpRequest({ headers: { 'content-type': 'application/json' }, body: good.slice(0, int(0, good.length - 1)) }));
  addHttp('malformed JSON', httpRequest({ headers: { 'content-type': 'application/json' }, body: pick(['{', '[', 'null', '1', '"q"', '{"query": 1}', '{"query": "{ __typename }", "variables": 7}', '{"query":"\\uZZZZ"}', '{}', '{"query": "{ __typename }", "operationName": 5}']) }));
  addHttp('malformed JSON', httpRequest({ headers: { 'content-type': 'application/json' }, body: '['.repeat(int(100, 60000)) }));
}
for (let i = 0; i < n(100); i++) {
  const body = JSON.stringify({ query: '{ __typename }' });
  addHttp('wrong media types', httpRequest({ headers: { 'content-type': pick(['text/plain', 'application/graphql', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/jsonx', undefined]) }, body }));
  addHttp('wrong media types', httpRequest({ headers: { 'content-type': 'application/json', accept: pick(['image/png', 'text/html;q=0', 'application/xml']) }, body }));
  addHttp('wrong media types', httpRequest({ method: pick(['PUT', 'DELETE', 'PATCH']), headers: { 'content-type': 'application/json' }, body }));
  addHttp('wrong media types', httpRequest({ method: 'GET', target: pick(['/nope', '/graphql/x', '/metrics/../graphql', '/%ff']), headers: { accept: 'application/json' } }));
}
for (let i = 0; i < n(100); i++) {
  const bytes = Buffer.from(JSON.stringify({ query: '{ teams(search: "AAAA") { totalCount } }' }));
  const at = bytes.indexOf('AAAA');
  for (let j = 0; j < 4; j++) bytes[at + j] = pick([0xff, 0xfe, 0xc0, 0x80, 0xed]);
  addHttp('invalid UTF-8', httpRequest({ headers: { 'content-type': 'application/json' }, body: bytes }));
  addHttp('invalid UTF-8', httpRequest({ method: 'GET', target: `/graphql?query=%7B%20${pick(['%FF', '%C0%80', '%ED%A0%80'])}%20%7D`, headers: { accept: 'application/json' } }));
}
for (let i = 0; i < n(100); i++) {
  const batch = Array.from({ length: int(2, 2000) }, () => ({ query: pick(VALID) }));
  addHttp('batched arrays', httpRequest({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) }));
}
for (let i = 0; i < n(100); i++) {
  addHttp('GET abuse', httpRequest({ method: 'GET', target: `/graphql?query=${encodeURIComponent('mutation { logout }')}`, headers: { accept: 'application/json' } }));
  addHttp('GET abuse', httpRequest({ method: 'GET', target: `/graphql?query=${encodeURIComponent(doubling(int(10, 30)))}`, headers: { accept: 'application/json' } }));
  addHttp('GET abuse', httpRequest({ method: 'GET', target: `/graphql?query=${encodeURIComponent('{ __typename }')}&variables=${pick(['%7B', 'x', '[]', '%7B%22a%22%3A'])}`, headers: { accept: 'application/json' } }));
}
for (let i = 0; i < n(50); i++) {
  addHttp('huge bodies', httpRequest({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }', pad: 'z'.repeat(int(70000, 3000000)) }) }));
  addHttp('huge bodies', httpRequest({ headers: { 'content-type': 'application/json', 'content-length': '99999999999' }, body: '{"query":' }));
  addHttp('bad auth headers', httpRequest({ headers: { 'content-type': 'application/json', authorization: pick(['Bearer', 'Basic abc', 'Bearer itg_nope', 'Bearer ' + 'x'.repeat(5000)]) }, body: JSON.stringify({ query: '{ __typename }' }) }));
}
// Malformed HTTP itself: hyper's parser answers with a bare status.
for (let i = 0; i < n(30); i++) {
  addHttp('malformed HTTP', Buffer.from(`GET /graphql HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n`), true);
  addHttp('malformed HTTP', Buffer.from(`GET /${'a'.repeat(int(70000, 200000))} HTTP/1.1\r\nhost: x\r\n\r\n`), true);
  addHttp('malformed HTTP', Buffer.from(`GET /graphql HTTP/1.1\r\nhost: x\r\nx-big: ${'b'.repeat(int(500000, 1000000))}\r\n\r\n`), true);
  addHttp('malformed HTTP', Buffer.from(`\x00\x01\x02 garbage\r\n\r\n`), true);
}

// Websocket sessions: frames sent in order on one socket.
const wsCases = [];
const init = { type: 'connection_init', payload: {} };
const sub = (id, query, type = 'subscribe') => ({ type, id, payload: { query } });
const LIVE = 'subscription { liveScores { id } }';
for (let i = 0; i < n(40); i++) {
  for (const protocol of ['graphql-transport-ws', 'graphql-ws']) {
    const start = protocol === 'graphql-ws' ? 'start' : 'subscribe';
    const stop = protocol === 'graphql-ws' ? 'stop' : 'complete';
    const add = (cls, frames) => wsCases.push({ cls, protocol, frames });
    add('ws out of order', [sub('1', LIVE, start)]);
    add('ws out of order', [init, init]);
    add('ws out of order', [init, { type: stop, id: 'nope' }, { type: 'pong' }, { type: 'whatever' }]);
    add('ws out of order', [init, sub('1', LIVE, start), sub('1', LIVE, start)]);
    add('ws out of order', [{ raw: 'not json' }]);
    add('ws out of order', [init, { raw: Buffer.from([0xff, 0xfe, 0x00]), binary: true }]);
    add('ws document bombs', [init, sub('b', doubling(int(10, 30)).replace('{ ...F0 }', 'subscription { ...F0 }').replaceAll('on Query', 'on Subscription').replace('__typename }', 'liveScores { id } }'), start)]);
    add('ws document bombs', [init, sub('q', doubling(int(10, 30)), start)]);
    add('ws document bombs', [init, sub('t', `{ ${'__typename '.repeat(3000)} }`, start)]);
    add('ws huge frames', [init, sub('h', `{ __typename }${' '.repeat(int(70000, 1000000))}`, start)]);
    add('ws operation flood', [init, ...Array.from({ length: 150 }, (_, j) => sub(`s${j}`, LIVE, start))]);
    add('ws message flood', [init, ...Array.from({ length: 400 }, () => (protocol === 'graphql-ws' ? { type: 'ka' } : { type: 'ping' }))]);
    add('ws valid control', [init, sub('v', pick(VALID), start)]);
  }
}

// ---------------------------------------------------------------- running
function startApi() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-'));
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', RUST_LOG: 'warn,api=info',
    // One client address sends the whole corpus: the per-address request
    // limit would refuse most of it before the other limits are reached.
    REQUESTS_PER_IP_PER_MINUTE: '0' };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child = spawn(BIN, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log += chunk;
      const m = log.match(/GraphiQL: http:\/\/([0-9.]+):(\d+)\//);
      if (m) resolve({ child, port: Number(m[2]), dir, log: () => log });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the api exited (${code}) before serving:\n${log}`)));
  });
}

function peakRssMiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmHWM:\s+(\d+) kB/)[1]) / 1024;
}

function sendHttp(port, bytes) {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ ms: performance.now() - started, raw: Buffer.concat(chunks), error });
    };
    socket.setTimeout(10000, () => finish('timeout'));
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (e) => (chunks.length ? finish() : finish(e.code || String(e))));
    socket.write(bytes, () => {});
  });
}

function parseResponse(raw) {
  const sep = raw.indexOf('\r\n\r\n');
  if (sep < 0) return null;
  const head = raw.subarray(0, sep).toString('latin1');
  const status = Number(head.split(' ')[1]);
  let body = raw.subarray(sep + 4);
  if (/transfer-encoding:\s*chunked/i.test(head)) {
    const parts = [];
    let at = 0;
    while (at < body.length) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString(), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, head, body: body.toString('utf8') };
}

const allCoded = (errors) => Array.isArray(errors) && errors.length > 0 && errors.every((e) => typeof e?.extensions?.code === 'string');

function classifyHttp(c, result) {
  if (result.error && result.raw.length === 0) return { outcome: 'no answer', detail: result.error };
  const response = parseResponse(result.raw);
  if (!response) return { outcome: 'no answer', detail: 'no HTTP response' };
  if (response.status < 400 && /text\/html/.test(response.head)) return { outcome: 'ok' };
  let body;
  try {
    body = JSON.parse(response.body);
  } catch {
    if (c.parser && response.status >= 400) return { outcome: 'parser' };
    return { outcome: 'uncoded', detail: `${response.status} ${response.body.slice(0, 80)}` };
  }
  const responses = Array.isArray(body) ? body : [body];
  const withErrors = responses.filter((r) => r?.errors);
  if (withErrors.length === 0 && response.status < 400) return { outcome: 'ok' };
  if (withErrors.length && withErrors.every((r) => allCoded(r.errors))) return { outcome: 'coded', code: withErrors[0].errors[0].extensions.code };
  return { outcome: 'uncoded', detail: `${response.status} ${response.body.slice(0, 120)}` };
}

function runWs(port, c) {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, c.protocol, {
      maxPayload: 8 << 20,
      handshakeTimeout: 5_000,
    });
    let last = performance.now();
    let slowest = 0;
    const refusals = [];
    let done = false;
    let idle;
    // Every session settles: a server that stops answering mid-session is
    // reported as a session without an answer, not a runner that hangs.
    const deadline = setTimeout(() => finish({ error: 'no close within 15 s' }), 15_000);
    const finish = (extra) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(deadline);
      socket.terminate();
      resolve({ refusals, slowest, ...extra });
    };
    // An upgrade refused with an HTTP answer (the socket limit's 503, say)
    // is a refusal like any other: its body must carry a code.
    socket.on('unexpected-response', (_request, response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('error', () => finish({ error: `upgrade refused with ${response.statusCode} and no body` }));
      response.on('end', () => {
        slowest = Math.max(slowest, performance.now() - last);
        let coded = false;
        try {
          coded = allCoded(JSON.parse(Buffer.concat(chunks).toString()).errors);
        } catch {}
        refusals.push({ coded, detail: `upgrade refused with ${response.statusCode}` });
        finish();
      });
    });
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(), 1500);
    };
    socket.on('open', () => {
      last = performance.now();
      for (const frame of c.frames) {
        if (frame.raw !== undefined) socket.send(frame.raw, { binary: !!frame.binary });
        else socket.send(JSON.stringify(frame));
      }
      last = performance.now();
      arm();
    });
    socket.on('message', (data) => {
      slowest = Math.max(slowest, performance.now() - last);
      let m;
      try {
        m = JSON.parse(data.toString());
      } catch {
        refusals.push({ coded: false, detail: 'non-JSON message' });
        return;
      }
      if (m.type === 'error') refusals.push({ coded: allCoded(Array.isArray(m.payload) ? m.payload : [m.payload]), detail: JSON.stringify(m).slice(0, 160) });
      else if (m.type === 'connection_error') refusals.push({ coded: allCoded([m.payload]), detail: JSON.stringify(m).slice(0, 160) });
      else if ((m.type === 'next' || m.type === 'data') && m.payload?.errors) refusals.push({ coded: allCoded(m.payload.errors), detail: JSON.stringify(m).slice(0, 160) });
      arm();
    });
    socket.on('close', (code, reason) => {
      slowest = Math.max(slowest, performance.now() - last);
      if (code !== 1000 && code !== 1005) {
        // A close code is the protocol's own code for the refusal; 1006
        // means the socket was dropped without one.
        refusals.push({ coded: code !== 1006, detail: `close ${code} ${reason}` });
      }
      finish();
    });
    socket.on('error', (e) => finish({ error: String(e.message || e) }));
  });
}

async function pool(items, worker) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const i = next++;
        await worker(items[i], i);
      }
    }),
  );
}

console.error(`corpus: ${httpCases.length} HTTP requests, ${wsCases.length} websocket sessions`);
const api = await startApi();
console.error(`api on port ${api.port}`);
const stats = new Map();
const bump = (cls, key) => {
  const s = stats.get(cls) ?? { cases: 0, ok: 0, coded: 0, uncoded: 0, parser: 0, 'no answer': 0 };
  s[key] = (s[key] ?? 0) + 1;
  stats.set(cls, s);
};
const problems = [];
let slowest = { ms: 0, cls: '' };
const t0 = performance.now();

await pool(httpCases, async (c) => {
  const result = await sendHttp(api.port, c.bytes);
  const verdict = classifyHttp(c, result);
  bump(c.cls, 'cases');
  bump(c.cls, verdict.outcome);
  if (verdict.outcome !== 'no answer' && result.ms > slowest.ms) slowest = { ms: result.ms, cls: c.cls };
  if (verdict.outcome === 'uncoded' || verdict.outcome === 'no answer') problems.push(`${c.cls}: ${verdict.outcome}: ${verdict.detail}`);
});
console.error(`HTTP done`);
await pool(wsCases, async (c) => {
  const result = await runWs(api.port, c);
  bump(c.cls, 'cases');
  if (result.error && result.refusals.length === 0) {
    bump(c.cls, 'no answer');
    problems.push(`${c.cls} (${c.protocol}): ${result.error}`);
    return;
  }
  if (result.slowest > slowest.ms) slowest = { ms: result.slowest, cls: `${c.cls} (${c.protocol})` };
  if (result.refusals.length === 0) bump(c.cls, 'ok');
  else if (result.refusals.every((r) => r.coded)) bump(c.cls, 'coded');
  else {
    bump(c.cls, 'uncoded');
    problems.push(`${c.cls} (${c.protocol}): ${result.refusals.find((r) => !r.coded).detail}`);
  }
});

const elapsed = (performance.now() - t0) / 1000;
const alive = api.child.exitCode === null && api.child.signalCode === null;
const rss = alive ? peakRssMiB(api.child.pid) : NaN;
api.child.kill('SIGTERM');
// A process that already ended (by a signal too) fires no more 'exit'.
const ended = () => api.child.exitCode !== null || api.child.signalCode !== null;
const exitCode = await new Promise((r) => (ended() ? r(api.child.exitCode ?? api.child.signalCode) : api.child.on('exit', (code, signal) => r(code ?? signal))));

let total = { cases: 0, ok: 0, coded: 0, uncoded: 0, parser: 0, 'no answer': 0 };
console.log('class'.padEnd(26), 'cases'.padStart(6), 'ok'.padStart(6), 'coded'.padStart(6), 'uncoded'.padStart(8), 'parser'.padStart(7), 'no-answer'.padStart(10));
for (const [cls, s] of [...stats].sort()) {
  for (const k of Object.keys(total)) total[k] += s[k] ?? 0;
  console.log(cls.padEnd(26), ...[s.cases, s.ok, s.coded].map((v) => String(v ?? 0).padStart(6)), String(s.uncoded ?? 0).padStart(8), String(s.parser ?? 0).padStart(7), String(s['no answer'] ?? 0).padStart(10));
}
const crashes = (alive ? 0 : 1) + total['no answer'] + (exitCode === 0 ? 0 : 1);
const codedShare = total.coded / Math.max(1, total.coded + total.uncoded);
console.log(`\n${total.cases} cases (${httpCases.length} HTTP requests, ${wsCases.length} websocket sessions) in ${elapsed.toFixed(1)} s`);
console.log(`crashes: ${crashes} (server alive to the end: ${alive}, exit code after SIGTERM: ${exitCode}, unanswered: ${total['no answer']})`);
console.log(`refusals with a code: ${(codedShare * 100).toFixed(2)}% (${total.coded} of ${total.coded + total.uncoded}; ${total.parser} more refused by the HTTP parser with a bare status)`);
console.log(`peak RSS of the api: ${rss.toFixed(1)} MiB`);
console.log(`slowest answer: ${slowest.ms.toFixed(1)} ms (${slowest.cls})`);
for (const p of problems.slice(0, 20)) console.log(`  problem: ${p}`);
fs.rmSync(api.dir, { recursive: true, force: true });

const failed = [];
if (crashes > TARGETS.crashes) failed.push('crashes');
if (codedShare < TARGETS.codedShare) failed.push('refusals without a code');
if (!(rss < TARGETS.peakRssMiB)) failed.push('peak RSS');
if (slowest.ms >= TARGETS.slowestMs) failed.push('slowest answer');
if (failed.length) {
  console.log(`\nFAILED: ${failed.join(', ')}`);
  if (!alive) console.log(api.log().slice(-4000));
  process.exit(1);
}
console.log('\nall targets met');
