// parseConnectTo / connectTarget: curl's --connect-to HOST:PORT:HOST2:PORT2.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMtlsOAuthError } from '../../src/core/errors.ts';
import { connectTarget, parseConnectTo } from '../../src/core/transport/connect-to.ts';

describe('--connect-to', () => {
  it('parses one or several mappings; empty parts match any or keep the request own', () => {
    const m = parseConnectTo('IDP.example.com:443:10.0.0.7:8443, :8080::9090,[::1]:443:[fe80::1]:');
    assert.deepEqual(m, [
      { host: 'idp.example.com', port: 443, toHost: '10.0.0.7', toPort: 8443 },
      { host: '', port: 8080, toHost: '', toPort: 9090 },
      { host: '::1', port: 443, toHost: 'fe80::1', toPort: undefined },
    ]);
    assert.deepEqual(connectTarget(m, 'idp.example.com', 443), {
      host: '10.0.0.7',
      port: 8443,
      mapped: true,
    });
    assert.deepEqual(connectTarget(m, 'idp.example.com', 444), {
      host: 'idp.example.com',
      port: 444,
      mapped: false,
    });
    assert.deepEqual(connectTarget(m, 'other', 8080), { host: 'other', port: 9090, mapped: true });
    assert.deepEqual(connectTarget(m, '[::1]', 443), { host: 'fe80::1', port: 443, mapped: true });
    assert.deepEqual(connectTarget(undefined, 'a', 1), { host: 'a', port: 1, mapped: false });
    // The first match wins.
    assert.equal(connectTarget(parseConnectTo('a:1:b:2,a:1:c:3'), 'a', 1).host, 'b');
  });

  it('refuses what is not HOST:PORT:HOST2:PORT2 with BAD_CONNECT_TO', () => {
    for (const bad of [
      '',
      'a',
      'a:1',
      'a:1:b',
      'a:1:b:2:3',
      'a:x:b:2',
      'a:0:b:2',
      'a:1:b:65536',
      'a:1:b:2,',
      'a b:1:c:2',
      '::1:443:b:2',
      'http://a:1:b:2',
    ]) {
      assert.throws(
        () => parseConnectTo(bad),
        (e: unknown) => isMtlsOAuthError(e) && e.code === 'BAD_CONNECT_TO' && e.kind === 'usage',
        bad,
      );
    }
  });
});
