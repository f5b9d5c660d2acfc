// redact.ts: the one place deciding how a secret is shown. A token becomes a fingerprint of its
// hash (checked against sha256sum's digest), any other secret `***(N chars)`; JSON (with or without
// a BOM), forms and free text are redacted, and no piece of a secret survives in what is shown.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  conceal,
  fingerprint,
  isRedacted,
  isSecretName,
  redactForm,
  redactJson,
  redactResponseText,
  redactText,
  redactValue,
  responseExcerpt,
} from '../../src/core/redact.ts';

const token = () => randomBytes(48).toString('base64url');
/** A JWT-shaped token: header, payload and signature, base64url. */
const jwt = () =>
  [
    Buffer.from('{"alg":"RS256","typ":"at+jwt"}').toString('base64url'),
    Buffer.from(JSON.stringify({ sub: 'kong', jti: randomBytes(8).toString('hex') })).toString('base64url'),
    randomBytes(64).toString('base64url'),
  ].join('.');

/** No 6-character piece of `secret` appears in `text` (pieces of a hex hash aside). */
function assertNoPiece(text: string, secret: string, what = 'secret') {
  for (let i = 0; i + 6 <= secret.length; i++) {
    const piece = secret.slice(i, i + 6);
    assert.ok(!text.includes(piece), `${what}: "${piece}" (at ${i}) appears in ${text}`);
  }
}

describe('redact: how a secret is shown', () => {
  it('a token is a fingerprint of its SHA-256 (as sha256sum prints it) and its length', () => {
    const t = token();
    const hex = createHash('sha256').update(t).digest('hex');
    assert.equal(fingerprint(t), `sha256:${hex.slice(0, 8)}…(${t.length} chars)`);
    assertNoPiece(fingerprint(t), t);
    assert.ok(isRedacted(fingerprint(t)));
    assert.notEqual(fingerprint(token()), fingerprint(t), 'two tokens tell apart');
  });

  it('any other secret, and a short "token", shows no character and no hash', () => {
    assert.equal(conceal('Winter2024!Kong'), '***(15 chars)');
    assert.equal(redactValue('client_secret', 'Winter2024!Kong'), '***(15 chars)');
    assert.equal(redactValue('clientSecret', 'Winter2024!Kong'), '***(15 chars)');
    assert.equal(redactValue('password', 'hunter2'), '***(7 chars)');
    assert.equal(redactValue('code_verifier', token()), '***(64 chars)');
    assert.equal(redactValue('code', 'abc123def456'), '***(12 chars)');
    assert.equal(fingerprint('short-token'), '***(11 chars)');
    assert.equal(redactValue('scope', 'openid'), 'openid');
    assert.ok(isRedacted('***(7 chars)'));
    assert.ok(!isRedacted('Winter2024!Kong'));
  });

  it('Authorization: Basic credentials concealed, a bearer token fingerprinted, the scheme kept', () => {
    const basic = Buffer.from('kong:Winter2024!Kong').toString('base64');
    assert.equal(redactValue('Authorization', `Basic ${basic}`), `Basic ***(${basic.length} chars)`);
    const t = token();
    assert.equal(redactValue('authorization', `Bearer ${t}`), `Bearer ${fingerprint(t)}`);
    assert.equal(redactValue('cookie', 'session=abc'), '***(11 chars)');
  });

  it('names: any case, _ or -; token_type, expires_in and scope are not secrets', () => {
    for (const n of ['access_token', 'ACCESS-TOKEN', 'accessToken', 'refresh_token', 'id_token', 'assertion'])
      assert.ok(isSecretName(n), n);
    for (const n of ['token_type', 'expires_in', 'scope', 'client_id', 'error'])
      assert.ok(!isSecretName(n), n);
  });

  it('JSON: secret members at any depth, and JWTs in any string', () => {
    const at = token();
    const id = jwt();
    const out = JSON.stringify(
      redactJson({
        access_token: at,
        token_type: 'Bearer',
        nested: [{ refresh_token: 'rt-0123456789abcdef' }],
        note: `here is one: ${id}`,
      }),
    );
    assertNoPiece(out, at, 'access token');
    assertNoPiece(out, id.split('.')[2], 'JWT signature');
    assert.match(out, /"token_type":"Bearer"/);
  });

  it('a form: secret parameters redacted, the rest decoded for reading', () => {
    const out = redactForm(
      'grant_type=client_credentials&client_secret=Winter2024%21Kong&scope=api%3Aread&code_verifier=abcdefghijklmnop',
    );
    assert.equal(
      out,
      'grant_type=client_credentials&client_secret=***(15 chars)&scope=api:read&code_verifier=***(16 chars)',
    );
  });

  it('a response: JSON behind a BOM, a form-encoded token response, truncated JSON, free text', () => {
    const at = token();
    const rt = token();
    const json = JSON.stringify({ access_token: at, refresh_token: rt, token_type: 'Bearer' });
    const cases = [
      `\ufeff${json}`,
      `access_token=${at}&refresh_token=${rt}&token_type=bearer`,
      json.slice(0, json.length - 3),
      `<html>token: access_token=${at} and "refresh_token": "${rt}"</html>`,
      `Authorization: Bearer ${at}\nX-Refresh: refresh_token:${rt}`,
    ];
    for (const text of cases) {
      for (const out of [redactResponseText(text), responseExcerpt(text, { limit: 4000 })]) {
        assertNoPiece(out, at, `access token in ${text.slice(0, 20)}`);
        assertNoPiece(out, rt, `refresh token in ${text.slice(0, 20)}`);
      }
    }
    assert.match(
      redactResponseText(`\ufeff${json}`),
      /"token_type":"Bearer"/,
      'the BOM JSON is read as JSON',
    );
  });

  it('free text: a secret name in any spelling of its words (_, -, camelCase, any case)', () => {
    for (const name of ['client_secret', 'client-secret', 'clientSecret', 'CLIENT_SECRET', 'ClientSecret']) {
      for (const text of [
        `${name}=Winter2024!Kong`,
        `"${name}": "Winter2024!Kong"`,
        `${name}: Winter2024!Kong`,
      ]) {
        const out = redactText(`rejected: ${text} (try again)`);
        assert.doesNotMatch(out, /Winter2024/, out);
        assert.match(out, /\*\*\*\(15 chars\)/, out);
      }
    }
    for (const name of ['access_token', 'accessToken', 'refresh-token', 'id_token', 'X-Api-Key']) {
      const at = token();
      assertNoPiece(redactText(`${name}=${at}`), at, name);
    }
  });

  it('values the request sent are redacted wherever the answer echoes them', () => {
    const out = redactText('you sent Winter2024!Kong, which is wrong', ['Winter2024!Kong']);
    assert.equal(out, 'you sent ***(15 chars), which is wrong');
  });

  it('prose is left alone', () => {
    for (const s of [
      'Basic authentication failed',
      'error code: 404',
      'the token: expired',
      'invalid_client: client authentication failed',
    ]) {
      assert.equal(redactText(s), s);
    }
  });

  it('an excerpt is cut after redaction, on one line', () => {
    const at = token();
    const text = `{"access_token":"${at}",\n"token_type":"Bearer"}`;
    const out = responseExcerpt(text, { limit: 30 });
    assert.ok(out.endsWith('…') && !out.includes('\n'));
    assertNoPiece(out, at);
  });
});
