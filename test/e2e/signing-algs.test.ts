// Which JWS algorithm an RSA signing key uses (src/core/client-auth.ts algFor): PS256 where the
// receiver takes it and not RS256 — the FAPI 2.0 Security Profile allows only PS256, ES256 and
// EdDSA (§5.4.1) — and RS256 elsewhere. Through the built CLI against the real IdP configured for
// the profile and the default one: the private_key_jwt assertion the IdP received is read there.
import assert from 'node:assert/strict';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { newKeyPairSync } from '../../src/core/pki/keys.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';

for (const fapi2 of [true, false]) {
  describe(`an RSA private_key_jwt key at ${fapi2 ? 'an IdP configured for FAPI 2.0' : 'the default IdP'}`, () => {
    let fx: IdpFixture;
    let keyDir: string;
    let keyFile: string;
    const assertions: string[] = [];

    before(async () => {
      keyDir = mkdtempSync(join(tmpdir(), 'e2e-signing-algs-'));
      keyFile = join(keyDir, 'rsa.pem');
      const pair = newKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      fx = await idpFixture({
        aliases: true,
        fapi2,
        prefix: 'e2e-signing-algs-',
        middleware: [
          async (ctx: any, next: () => Promise<void>) => {
            const a = ctx.request?.body?.client_assertion ?? ctx.oidc?.params?.client_assertion;
            await next();
            const seen = ctx.oidc?.params?.client_assertion ?? a;
            if (typeof seen === 'string') assertions.push(seen);
          },
        ],
        clients: [
          {
            client_id: 'rsa-client',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [{ ...pair.publicKey.export({ format: 'jwk' }), use: 'sig' }] },
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            scope: 'api:read',
          },
        ],
      });
    });
    after(async () => {
      await fx?.close();
      rmSync(keyDir, { recursive: true, force: true });
    });

    test(`token: the assertion is signed ${fapi2 ? 'PS256 (the profile has no RS256)' : 'RS256'} and accepted`, async () => {
      assertions.length = 0;
      const r = await fx.run([
        'token',
        '--issuer',
        fx.idp.issuer,
        '--client-id',
        'rsa-client',
        '--auth',
        'private_key_jwt',
        '--signing-key',
        keyFile,
        '--ca',
        fx.files.ca,
        '--no-cache',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(assertions.length > 0, 'the IdP received an assertion');
      assert.equal(decodeProtectedHeader(assertions[0]).alg, fapi2 ? 'PS256' : 'RS256');
    });
  });
}
