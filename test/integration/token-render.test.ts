// The shared human rendering of tokens (src/cli/render-token.ts): durations, times with a
// countdown, claims, and tokens shortened unless --show-secrets.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import {
  claimText,
  formatDuration,
  isoTime,
  renderIntrospection,
  renderToken,
  timeWithCountdown,
} from '../../src/cli/render-token.ts';
import { Ui } from '../../src/cli/ui.ts';

function capture(opts: { showSecrets?: boolean } = {}) {
  const stdout = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8').on('data', (d) => {
    text += d;
  });
  const ui = new Ui({ color: false, ...opts }, { stdout, stderr: new PassThrough() });
  return { ui, text: () => text };
}

describe('token rendering', () => {
  test('durations and times', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(59), '59s');
    assert.equal(formatDuration(600), '10m');
    assert.equal(formatDuration(3723), '1h 2m');
    assert.equal(formatDuration(90_061), '1d 1h');
    assert.equal(isoTime(1_800_000_000), '2027-01-15T08:00:00Z');
    assert.equal(timeWithCountdown(1_800_000_600, { now: 1_800_000_000 }), '2027-01-15T08:10:00Z (in 10m)');
    assert.equal(
      timeWithCountdown(1_799_999_820, { now: 1_800_000_000, pastWord: 'expired' }),
      '2027-01-15T07:57:00Z (expired 3m ago)',
    );
    assert.equal(claimText('iat', 1_799_999_990, 1_800_000_000), '2027-01-15T07:59:50Z (10s ago)');
    assert.equal(claimText('cnf', { 'x5t#S256': 'abc' }), 'x5t#S256 abc');
    assert.equal(claimText('aud', ['a', 'b']), '["a","b"]');
  });

  test('a token response: type, scope, expiry with countdown, tokens as fingerprints, checks', () => {
    const token = {
      access_token: 'A'.repeat(40),
      token_type: 'Bearer',
      expires_in: 600,
      refresh_token: 'R'.repeat(30),
      scope: 'api:read',
      issued_token_type: 'urn:x',
    };
    const c = capture();
    renderToken(c.ui, {
      token,
      obtainedAt: Math.floor(Date.now() / 1000),
      from: 'https://idp/token (mtls alias)',
      clientId: 'kong',
      authMethod: 'tls_client_auth',
      checks: [{ name: 'binding', status: 'pass', detail: 'bound to our certificate' }],
    });
    const out = c.text();
    assert.match(out, /^✓ token for kong \(tls_client_auth\) from https:\/\/idp\/token \(mtls alias\)\n/);
    assert.match(out, /token type\s+Bearer/);
    assert.match(out, /scope\s+api:read/);
    assert.match(out, /expires\s+\S+Z \(in (9m \d+s|10m)\)/);
    const hash = (t: string) => createHash('sha256').update(t).digest('hex').slice(0, 8);
    assert.match(out, new RegExp(`access token\\s+sha256:${hash(token.access_token)}…\\(40 chars\\)`));
    assert.match(out, new RegExp(`refresh token\\s+sha256:${hash(token.refresh_token)}…\\(30 chars\\)`));
    assert.doesNotMatch(out, /AAAAAA|RRRRRR/);
    assert.match(out, /issued_token_type\s+urn:x/);
    assert.match(out, /checks\n\s+✓ binding: bound to our certificate/);
    assert.ok(!out.includes(token.access_token));

    const shown = capture({ showSecrets: true });
    renderToken(shown.ui, { token });
    assert.ok(shown.text().includes(token.access_token));
    assert.ok(shown.text().includes(token.refresh_token));
  });

  test('a failed binding marks the token line', () => {
    const c = capture();
    renderToken(c.ui, {
      token: { access_token: 'x'.repeat(20), token_type: 'Bearer' },
      checks: [{ name: 'binding', status: 'fail', detail: 'bound to another certificate' }],
    });
    assert.match(c.text(), /^✗ token/);
    assert.match(c.text(), /expires\s+unknown \(no expires_in\)/);
  });

  test('an introspection response: active or not, claims with dates', () => {
    const c = capture();
    renderIntrospection(
      c.ui,
      { active: true, exp: 1_800_000_600, client_id: 'kong' },
      { now: 1_800_000_000 },
    );
    assert.match(c.text(), /^active: the IdP says the token is valid\n/);
    assert.match(c.text(), /exp\s+2027-01-15T08:10:00Z \(in 10m\)/);
    const i = capture();
    renderIntrospection(i.ui, { active: false });
    assert.match(i.text(), /^inactive: the IdP says the token is not active/);
  });
});
