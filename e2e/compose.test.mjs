// docker-compose.yml, checked without a Docker engine: against the
// Compose specification's JSON schema (as shipped by dclint), and for what
// the stack promises: one image for api and worker, healthchecks, and a
// demo profile.
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

test('api, worker and demo run one image, built once', () => {
  const { api, worker, demo } = compose.services;
  assert.equal(api.build, '.');
  assert.ok(api.image, 'the api names the image it builds');
  for (const [name, service] of Object.entries({ worker, demo })) {
    assert.equal(service.image, api.image, name);
    assert.equal(service.build, undefined, `${name} builds the image again`);
  }
});

test('every service that others wait on, and every process of ours, has a healthcheck', () => {
  for (const name of ['postgres', 'redis', 'api', 'worker', 'demo']) {
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
