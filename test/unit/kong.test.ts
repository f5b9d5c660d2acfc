// The Kong configuration's parts: name-based UUIDs (RFC 9562 test vector), the refusal of
// non-mTLS methods, the decK YAML read back under YAML 1.1 rules (decK's), and the shell quoting of
// the Admin API script (sh as the referee).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { isMtlsOAuthError } from '../../src/core/errors.ts';
import { kongConfig, mtlsMethod, unverifiedFacts } from '../../src/core/kong/config.ts';
import { entityId, uuidV5 } from '../../src/core/kong/ids.ts';
import { deckObject, renderDeck, shellQuote } from '../../src/core/kong/render.ts';
import { makeTestPki } from '../helpers/pki.ts';

describe('kong ids', () => {
  it('uuidV5 matches the RFC 9562 §A.4 vector (DNS namespace, www.example.com)', () => {
    assert.equal(
      uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
  it('entity ids are stable per input and differ by kind and input', () => {
    assert.equal(entityId('certificate', 'ab'), entityId('certificate', 'ab'));
    assert.notEqual(entityId('certificate', 'ab'), entityId('ca_certificate', 'ab'));
    assert.notEqual(entityId('certificate', 'ab'), entityId('certificate', 'ac'));
  });
});

describe('kong config', () => {
  it('refuses a method that is not mTLS (usage error KONG_NOT_MTLS)', () => {
    assert.equal(mtlsMethod('self_signed_tls_client_auth'), 'self_signed_tls_client_auth');
    for (const m of ['client_secret_basic', 'private_key_jwt', 'none'] as const) {
      assert.throws(
        () => mtlsMethod(m),
        (e) => isMtlsOAuthError(e) && e.code === 'KONG_NOT_MTLS' && e.kind === 'usage',
      );
    }
  });

  it('unverified facts: "off" stays a string under YAML 1.1, every field has a reason, no key', async () => {
    const pki = await makeTestPki();
    const config = kongConfig(
      unverifiedFacts({
        issuer: 'https://idp.example.com/realms/x',
        clientId: 'kong',
        authMethod: 'tls_client_auth',
        chain: [pki.client.x509],
        x5tS256: 'abc',
        caCertificates: [pki.ca.x509],
        service: 'orders',
      }),
    );
    for (const [name, f] of Object.entries(config.plugin.config)) assert.ok(f.why.length > 10, name);
    const text = renderDeck(config);
    assert.doesNotMatch(text, /PRIVATE KEY/);
    const yaml11 = parse(text, { version: '1.1' });
    assert.deepEqual(yaml11, JSON.parse(JSON.stringify(deckObject(config))));
    assert.equal(yaml11.plugins[0].config.proof_of_possession_mtls, 'off');
    assert.equal(yaml11.plugins[0].service, 'orders');
    assert.equal(yaml11._format_version, '3.0');
    assert.match(text, /NOT verified \(--no-verify\)/);
    // The same certificate, the same ids, whatever else changes.
    assert.equal(
      config.certificate.id,
      entityId('certificate', pki.client.x509.fingerprint256.replace(/:/g, '').toLowerCase()),
    );
  });

  it('shellQuote: sh reads back exactly what was quoted', () => {
    for (const s of ["it's", 'a "b" $HOME `x` \\ \n-----BEGIN-----', '']) {
      const out = execFileSync('sh', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' });
      assert.equal(out, s);
    }
  });
});
