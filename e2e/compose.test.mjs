// docker-compose.yml, checked without a Docker engine: against the
// Compose specification's JSON schema (as shipped by dclint), and for what
// the stack promises: one image for api and worker, healthchecks, a demo
// profile, and what running it across machines needs (migrations once,
// replicas behind a load balancer, restart policies, a persistent Redis).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

import Ajv from 'ajv';
import { parse } from 'yaml';

// dclint's package exports leave its schema folder out; read the file.
const schema = JSON.parse(
  await readFile(new URL('./node_modules/dclint/schemas/compose.schema.json', import.meta.url), 'utf8'),
);
const compose = parse(await readFile(new URL('../docker-compose.yml', import.meta.url), 'utf8'), {
  merge: true,
});

test('the compose file follows the Compose specification', () => {
  // The schema names draft-07 by an https URL Ajv does not know; it is draft-07.
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
  const validate = ajv.compile(schema);
  assert.ok(validate(compose), ajv.errorsText(validate.errors, { separator: '\n' }));
});

test('migrate, api, worker and demo run one image, built once', () => {
  const { migrate, api, worker, demo } = compose.services;
  assert.equal(migrate.build, '.');
  assert.ok(migrate.image, 'the one that builds names the image');
  for (const [name, service] of Object.entries({ api, worker, demo })) {
    assert.equal(service.image, migrate.image, name);
    assert.equal(service.build, undefined, `${name} builds the image again`);
  }
});

test('every service that others wait on, and every process of ours, has a healthcheck', () => {
  for (const name of ['postgres', 'redis', 'api', 'worker', 'demo', 'lb']) {
    const test = compose.services[name].healthcheck?.test;
    assert.ok(Array.isArray(test) && test.length > 1, `${name} has no healthcheck`);
  }
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      if (condition === 'service_healthy') {
        assert.ok(compose.services[dependency].healthcheck, `${name} waits on ${dependency}'s health`);
      }
    }
  }
});

test('the demo runs only with its profile, as one more api process', () => {
  const { demo } = compose.services;
  assert.deepEqual(demo.profiles, ['demo']);
  assert.deepEqual(demo.command, ['api', '--demo']);
  for (const [name, service] of Object.entries(compose.services)) {
    if (name !== 'demo') assert.equal(service.profiles, undefined, name);
  }
});

test('api replicas scale behind the load balancer: no host port of their own', () => {
  const { api, lb } = compose.services;
  assert.equal(api.ports, undefined, 'a fixed host port stops `--scale api=3`');
  assert.deepEqual(api.expose, ['8002']);
  assert.deepEqual(lb.ports, ['8002:8002']);
  const config = compose.configs[lb.configs[0].source].content;
  assert.match(config, /proxy_pass \$\$api;/, 'nginx variables are escaped from compose');
  assert.match(config, /set \$\$api http:\/\/api:8002;/);
  assert.match(config, /resolver 127\.0\.0\.11/, 'replicas are looked up at run time');
  assert.match(config, /proxy_set_header Upgrade/, 'websockets pass through');
  assert.match(config, /X-Forwarded-For \$\$proxy_add_x_forwarded_for/);
  // The api trusts exactly the load balancer's fixed address.
  const address = lb.networks.default.ipv4_address;
  assert.equal(api.environment.TRUSTED_PROXIES, address);
  const { subnet, ip_range: range } = compose.networks.default.ipam.config[0];
  assert.ok(address.startsWith(subnet.split('.').slice(0, 3).join('.')), `${address} in ${subnet}`);
  assert.ok(Number(address.split('.')[3]) < Number(range.split('/')[0].split('.')[3]), 'outside the dynamic range');
});

test('migrations run once, before the api and the worker', () => {
  const { migrate, api, worker } = compose.services;
  assert.deepEqual(migrate.command, ['api', 'migrate']);
  assert.equal(migrate.build, '.');
  for (const [name, service] of Object.entries({ api, worker })) {
    assert.equal(service.depends_on.migrate.condition, 'service_completed_successfully', name);
    assert.equal(service.environment.SKIP_MIGRATIONS, 'true', name);
  }
});

test('processes restart, stop within the grace period, and queued jobs survive Redis', () => {
  for (const [name, service] of Object.entries(compose.services)) {
    if (name === 'migrate') {
      assert.equal(service.restart, 'no');
    } else {
      assert.equal(service.restart, 'unless-stopped', name);
    }
  }
  for (const name of ['api', 'worker']) {
    assert.equal(compose.services[name].stop_grace_period, '10s', name);
  }
  const { redis } = compose.services;
  assert.ok(redis.command.includes('--appendonly') && redis.command.includes('yes'));
  assert.ok(redis.volumes.some((v) => v.endsWith(':/data')), 'Redis keeps /data on a volume');
  assert.ok('redisdata' in compose.volumes);
});

test('our images check their own health, with no tools installed for it', async () => {
  for (const name of ['api', 'worker', 'demo']) {
    const [kind, binary, ...rest] = compose.services[name].healthcheck.test;
    assert.equal(kind, 'CMD', name);
    assert.deepEqual([binary, ...rest].slice(-1), ['healthcheck'], name);
  }
  const dockerfile = await readFile(new URL('../Dockerfile', import.meta.url), 'utf8');
  assert.doesNotMatch(dockerfile, /\bcurl\b/);
  assert.match(dockerfile, /HEALTHCHECK .*CMD \["api", "healthcheck"\]/);
  // The dependency layer: manifests first, the sources after.
  const copyAll = dockerfile.indexOf('COPY . .');
  assert.ok(dockerfile.indexOf('COPY Cargo.toml Cargo.lock') < copyAll);
  assert.ok(dockerfile.indexOf('cargo build --release --locked') < copyAll);
});
