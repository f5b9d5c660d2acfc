import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBinding, jwtClaims } from '../../src/core/binding.ts';

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('certificate binding (RFC 8705 §3)', () => {
  it('reads claims from JWTs and not from opaque tokens', () => {
    assert.deepEqual(jwtClaims(jwt({ a: 1 })), { a: 1 });
    assert.equal(jwtClaims('opaque-token-value'), undefined);
    assert.equal(jwtClaims('a.b.c'), undefined);
  });

  it('passes, fails, warns and skips', () => {
    const ours = 'abc';
    assert.equal(
      checkBinding({ claims: { cnf: { 'x5t#S256': 'abc' } }, expected: ours, source: 'JWT' }).status,
      'pass',
    );
    const other = checkBinding({ claims: { cnf: { 'x5t#S256': 'xyz' } }, expected: ours, source: 'JWT' });
    assert.equal(other.status, 'fail');
    assert.match(other.detail, /another certificate.*xyz.*abc/);
    assert.equal(checkBinding({ claims: {}, expected: ours, idpBinds: true, source: 'JWT' }).status, 'warn');
    assert.equal(checkBinding({ claims: {}, expected: ours, idpBinds: false, source: 'JWT' }).status, 'skip');
    assert.equal(
      checkBinding({ claims: undefined, expected: ours, idpBinds: true, source: 'JWT' }).status,
      'skip',
    );
  });
});
