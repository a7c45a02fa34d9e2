// Runs the graphql-http server audit against a running InTheGame API.
// Usage: node audit.mjs http://127.0.0.1:8002/graphql
// Exits non-zero when any MUST fails; prints every SHOULD/MAY that did not pass.
import { auditServer } from 'graphql-http';

const url = process.argv[2] ?? 'http://127.0.0.1:8002/graphql';
const results = await auditServer({ url });

let mustFailures = 0;
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status === 'ok') continue;
  if (result.status === 'error') mustFailures += 1;
  const reason = result.reason ?? '';
  console.log(`${result.status.toUpperCase().padEnd(6)} ${result.name}${reason ? `\n       ${reason}` : ''}`);
}
console.log(
  `graphql-http audit: ${results.length} checks, ${counts.ok} ok, ${counts.warn} warn, ${counts.notice} notice, ${counts.error} MUST failures`,
);
process.exit(mustFailures === 0 ? 0 : 1);
