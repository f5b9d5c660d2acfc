// The device authorization response (RFC 8628 §3.2) as the tool accepts it: required members,
// the default and capped interval and lifetime, and nothing a terminal would interpret.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_INTERVAL_S,
  MAX_INTERVAL_S,
  MAX_LIFETIME_S,
  parseDeviceAuthorization,
} from '../../src/core/device.ts';
import { MtlsOAuthError } from '../../src/core/errors.ts';

const good = {
  device_code: 'dc',
  user_code: 'WDJB-MJHT',
  verification_uri: 'https://idp.example/device',
  verification_uri_complete: 'https://idp.example/device?user_code=WDJB-MJHT',
  expires_in: 600,
};

const refused = (body: unknown, why: RegExp) =>
  assert.throws(
    () => parseDeviceAuthorization(body),
    (e) => e instanceof MtlsOAuthError && e.code === 'BAD_DEVICE_RESPONSE' && why.test(e.message),
  );

describe('parseDeviceAuthorization', () => {
  test('a complete answer; the interval defaults to 5 s', () => {
    assert.deepEqual(parseDeviceAuthorization(good), {
      deviceCode: 'dc',
      userCode: 'WDJB-MJHT',
      verificationUri: 'https://idp.example/device',
      verificationUriComplete: 'https://idp.example/device?user_code=WDJB-MJHT',
      expiresIn: 600,
      interval: DEFAULT_INTERVAL_S,
    });
  });

  test('an IdP cannot make the loop wait or last without bound', () => {
    const p = parseDeviceAuthorization({ ...good, interval: 1e9, expires_in: 1e12 });
    assert.equal(p.interval, MAX_INTERVAL_S);
    assert.equal(p.expiresIn, MAX_LIFETIME_S);
    assert.equal(parseDeviceAuthorization({ ...good, interval: 0.2 }).interval, 1);
  });

  test('required members, numbers and https URIs', () => {
    refused([], /is not a JSON object/);
    for (const k of ['device_code', 'user_code', 'verification_uri']) {
      refused({ ...good, [k]: undefined }, new RegExp(`has no ${k}`));
    }
    refused({ ...good, expires_in: undefined }, /has no expires_in/);
    refused({ ...good, expires_in: -1 }, /has a bad expires_in/);
    refused({ ...good, interval: 'soon' }, /has a bad interval/);
    refused({ ...good, verification_uri: 'http://idp.example/device' }, /not https/);
    refused({ ...good, verification_uri_complete: 'javascript:alert(1)' }, /not https/);
    refused({ ...good, verification_uri: 'not a url' }, /not a URL/);
  });

  test('a user code with control or bidi characters is refused; URIs come back normalized', () => {
    refused({ ...good, user_code: 'AB\u001b[2KCD' }, /characters a person cannot type/);
    refused({ ...good, user_code: 'AB\u202eCD' }, /characters a person cannot type/);
    refused({ ...good, user_code: ' ' }, /characters a person cannot type/);
    const p = parseDeviceAuthorization({ ...good, verification_uri: 'https://idp.example/de\u0007v ice' });
    assert.equal(p.verificationUri, 'https://idp.example/de%07v%20ice');
  });
});
