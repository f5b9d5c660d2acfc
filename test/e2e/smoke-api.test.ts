// `mtls-oauth smoke --api URL` against the real test IdP and the protected API of
// src/idp/resource-server.ts: the api steps pass when the API enforces the binding, and the
// negative ones fail, by name, against an API that does not (the test-only lax mode); JUnit and
// --expect-fail cover them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ResourceServer } from '../../src/idp/resource-server.ts';
import { assertCleanFailure, jsonOf } from '../helpers/cli.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { startTestApi } from '../helpers/resource-api.ts';

const API_STEPS = ['api', 'api-without-cert', 'api-other-cert'];

describe('mtls-oauth smoke --api (built CLI, test IdP, resource server)', () => {
  let fx: IdpFixture;
  let api: ResourceServer;
  let lax: ResourceServer;

  before(async () => {
    fx = await idpFixture({ aliases: true, prefix: 'e2e-smoke-api-' });
    api = await startTestApi(fx.idp);
    lax = await startTestApi(fx.idp, { enforceBinding: false });
  });
  after(async () => {
    await api?.close();
    await lax?.close();
    await fx?.close();
  });

  test('an API that enforces the binding: the three api steps pass, after binding; JUnit names them', async () => {
    const junit = join(fx.home, 'smoke.xml');
    const r = await fx.run(['smoke', ...fx.args(), '--api', `${api.url}/orders`, '--json', '--junit', junit]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const env = jsonOf(r);
    const names = env.result.steps.map((s: { name: string }) => s.name);
    assert.deepEqual(names.slice(names.indexOf('binding'), names.indexOf('binding') + 4), [
      'binding',
      ...API_STEPS,
    ]);
    for (const s of API_STEPS)
      assert.equal(env.result.steps.find((x: { name: string }) => x.name === s).status, 'pass', s);
    const refusal = env.result.steps.find((x: { name: string }) => x.name === 'api-without-cert');
    assert.equal(refusal.data.status, 401);
    assert.equal(refusal.data.challenge.error, 'invalid_token');
    // what the API saw: our certificate, none, then a stranger's
    const seen = api.requests.slice(-3).map((q) => (q.certificate === undefined ? 'none' : q.status));
    assert.deepEqual(seen, [200, 'none', 401]);
    const xml = readFileSync(junit, 'utf8');
    for (const s of API_STEPS) assert.match(xml, new RegExp(`<testcase[^>]*name="${s}"`));
  });

  test('an API that does not enforce the binding: api-without-cert and api-other-cert fail, named', async () => {
    const r = await fx.run(['smoke', ...fx.args(), '--api', `${lax.url}/orders`]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /api-without-cert\s+✗ fail.*does not enforce the certificate binding/);
    assert.match(r.stdout, /api-other-cert\s+✗ fail.*does not enforce the certificate binding/);
    assert.match(r.stdout, /\bapi\s+✓ pass/);
    const j = jsonOf(await fx.run(['smoke', ...fx.args(), '--api', `${lax.url}/orders`, '--json']));
    const failedSteps = j.result.steps.filter((s: { status: string }) => s.status === 'fail');
    assert.deepEqual(
      failedSteps.map((s: { name: string }) => s.name),
      ['api-without-cert', 'api-other-cert'],
    );
    assert.equal(failedSteps[0].error.code, 'API_BINDING_NOT_ENFORCED');
  });

  test('--expect-fail covers the api steps', async () => {
    const r = await fx.run([
      'smoke',
      ...fx.args(),
      '--api',
      `${lax.url}/orders`,
      '--expect-fail',
      'api-without-cert=API_BINDING_NOT_ENFORCED',
      '--expect-fail',
      'api-other-cert',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout);
    const wrong = await fx.run([
      'smoke',
      ...fx.args(),
      '--api',
      `${api.url}/orders`,
      '--expect-fail',
      'api-without-cert',
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /api-without-cert\s+✗ fail\s.*expected to fail/);
  });

  test('without --api no api step runs; naming one without an API is a usage error', async () => {
    const j = jsonOf(await fx.run(['smoke', ...fx.args(), '--json', '--steps', 'token,binding']));
    assert.ok(!j.result.steps.some((s: { name: string }) => s.name.startsWith('api')));
    assertCleanFailure(
      await fx.run(['smoke', ...fx.args(), '--steps', 'api']),
      2,
      /the api step needs the API's URL/,
    );
  });
});
