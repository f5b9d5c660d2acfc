import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import {
  codeChallengeS256,
  constantTimeEqual,
  generateCodeVerifier,
  generateNonce,
  generatePkce,
  generateState,
  isValidCodeVerifier,
  randomToken,
} from '../../src/core/pkce.ts';

const bytesOf = (b64url: string) => Buffer.from(b64url, 'base64url').length;

describe('PKCE', () => {
  it('makes a verifier of 256 random bits: 43 base64url characters, fresh every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const v = generateCodeVerifier();
      assert.match(v, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(bytesOf(v), 32);
      assert.ok(isValidCodeVerifier(v));
      seen.add(v);
    }
    assert.equal(seen.size, 50);
  });

  it('computes the S256 challenge of RFC 7636 Appendix B', () => {
    assert.equal(
      codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('pairs a verifier with its challenge, method S256', () => {
    const p = generatePkce();
    assert.equal(p.method, 'S256');
    assert.equal(p.challenge, codeChallengeS256(p.verifier));
    assert.notEqual(p.challenge, p.verifier);
  });

  it('refuses a verifier outside RFC 7636 §4.1 (too short, too long, bad characters)', () => {
    for (const bad of [
      'short',
      'a'.repeat(42),
      'a'.repeat(129),
      `${'a'.repeat(42)}+`,
      `${'a'.repeat(42)}/`,
    ]) {
      assert.throws(
        () => codeChallengeS256(bad),
        (e: unknown) => e instanceof MtlsOAuthError && e.code === 'PKCE_VERIFIER_INVALID',
      );
    }
    assert.ok(isValidCodeVerifier(`${'a'.repeat(40)}-._~`));
    assert.ok(isValidCodeVerifier('a'.repeat(128)));
  });
});

describe('state and nonce', () => {
  it('carry at least 128 random bits (here 256) and never repeat', () => {
    const states = new Set(Array.from({ length: 50 }, generateState));
    const nonces = new Set(Array.from({ length: 50 }, generateNonce));
    assert.equal(states.size, 50);
    assert.equal(nonces.size, 50);
    for (const s of [...states, ...nonces]) {
      assert.ok(bytesOf(s) >= 16);
      assert.match(s, /^[A-Za-z0-9_-]+$/);
    }
    assert.equal(bytesOf(generateState()), 32);
  });

  it('randomToken refuses fewer than 16 bytes', () => {
    assert.throws(() => randomToken(15), RangeError);
    assert.equal(bytesOf(randomToken(16)), 16);
  });
});

describe('constantTimeEqual', () => {
  it('is true only for equal strings', () => {
    const s = generateState();
    assert.equal(constantTimeEqual(s, s), true);
    assert.equal(constantTimeEqual(`${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`, s), false);
    assert.equal(constantTimeEqual('ünïcode', 'ünïcode'), true);
  });

  it('returns false without throwing for different lengths and for non-strings', () => {
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
    assert.equal(constantTimeEqual('', 'abcd'), false);
    assert.equal(constantTimeEqual(undefined, 'abcd'), false);
    assert.equal(constantTimeEqual(null, 'abcd'), false);
    assert.equal(constantTimeEqual(['abcd'], 'abcd'), false);
    // same number of characters, different number of UTF-8 bytes
    assert.equal(constantTimeEqual('é', 'e'), false);
  });
});
